//! Tracking a use case's run: a report in, a [`qts_tracking::Run`] out (params, metrics, tags,
//! artifacts), stored in the local run store and sent to the configured server. The CLI and
//! Python track through the same [`Tracker`], so a run looks the same whoever made it.

use std::path::PathBuf;

use qts_config::Loaded;
use qts_tracking::{Run, Tracked};

use crate::error::ResearchError;

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Who asked for a run: what `qts.command_line`, `qts.argv` and `qts.cwd` record.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The command line as a person reads it (`qts backtest --data …`, `python: qts.run(…)`).
    pub command_line: String,
    /// The arguments a `qts` process re-runs (`qts reproduce`); none for a call from Python,
    /// whose bars may be a frame no command can read.
    pub argv: Option<Vec<String>>,
    /// The working directory the arguments are relative to.
    pub cwd: Option<PathBuf>,
}

impl Invocation {
    /// This process's command line (a `qts` command).
    pub fn of_process() -> Invocation {
        let args: Vec<String> = std::env::args().skip(1).collect();
        Invocation {
            command_line: format!("qts {}", args.join(" ")),
            argv: Some(args),
            cwd: std::env::current_dir().ok(),
        }
    }

    /// A call from Python, as `call` shows it (`qts.backtest(bars, "sma-cross", …)`).
    pub fn python(call: &str) -> Invocation {
        Invocation {
            command_line: format!("python: {call}"),
            argv: None,
            cwd: std::env::current_dir().ok(),
        }
    }
}

/// `value` as dotted `key = value` pairs (lists and scalars as their JSON text).
pub fn flatten(value: &serde_json::Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &key, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The tags that say which data a run read: the files and the SHA-256 of their bytes (what
/// `qts reproduce` checks before re-running).
pub fn data_tags(hash: &str, files: &[String]) -> Vec<(String, String)> {
    vec![
        ("qts.data_hash".to_string(), hash.to_string()),
        ("qts.data_files".to_string(), files.join(",")),
    ]
}

/// Tracks the runs of one invocation under one configuration.
#[derive(Debug, Clone)]
pub struct Tracker<'a> {
    loaded: &'a Loaded,
    invocation: Invocation,
    start_ms: i64,
    on: bool,
}

impl<'a> Tracker<'a> {
    /// A tracker for `invocation` under `loaded`, its runs starting now.
    pub fn start(loaded: &'a Loaded, invocation: Invocation) -> Tracker<'a> {
        Tracker {
            loaded,
            invocation,
            start_ms: now_ms(),
            on: true,
        }
    }

    /// The tracker, tracking only when `on` (a notebook's `track=` argument) and the
    /// configuration allows it.
    pub fn only_if(self, on: bool) -> Tracker<'a> {
        Tracker { on, ..self }
    }

    /// Whether runs are tracked (`mlflow.enabled`, and not turned off for this caller): when
    /// not, the track methods build nothing, since formatting a run's files is a third of a
    /// backtest process.
    pub fn enabled(&self) -> bool {
        self.on && self.loaded.config.mlflow.enabled
    }

    /// When the runs started, in milliseconds since the epoch.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// A run of `command` named `name`: the effective configuration flattened as params
    /// (secrets as `***`), the provenance tags and the configuration as `config.yaml`.
    pub fn new_run(&self, command: &str, name: String) -> Run {
        let loaded = self.loaded;
        let cfg = &loaded.config;
        let mut params = Vec::new();
        if let Ok(v) = serde_json::to_value(cfg) {
            flatten(&v, "", &mut params);
        }
        let mut tags = vec![
            (
                "qts.version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            ("qts.command".to_string(), command.to_string()),
            (
                "qts.command_line".to_string(),
                loaded.redactor.scrub(&self.invocation.command_line),
            ),
            ("qts.config_fingerprint".to_string(), cfg.fingerprint()),
            ("mlflow.runName".to_string(), name.clone()),
            ("mlflow.source.name".to_string(), "qts".to_string()),
        ];
        if let Some(commit) = qts_core::provenance::git_commit() {
            tags.push(("mlflow.source.git.commit".to_string(), commit));
        }
        // What `qts reproduce` re-runs: the arguments one by one (secrets scrubbed) and where.
        if let Some(args) = &self.invocation.argv {
            let argv: Vec<String> = args.iter().map(|a| loaded.redactor.scrub(a)).collect();
            tags.push((
                "qts.argv".to_string(),
                serde_json::to_string(&argv).unwrap_or_default(),
            ));
        }
        if let Some(cwd) = &self.invocation.cwd {
            tags.push(("qts.cwd".to_string(), cwd.display().to_string()));
        }
        // The effective configuration, secrets as ***: the run's own record of its settings.
        let inline = qts_core::config::to_yaml(cfg)
            .map(|y| vec![("config.yaml".to_string(), y.into_bytes())])
            .unwrap_or_default();
        Run {
            experiment: cfg.mlflow.experiment_name.clone(),
            name,
            start_time: self.start_ms,
            end_time: now_ms(),
            status: "FINISHED".into(),
            params,
            metrics: Vec::new(),
            tags,
            artifacts: Vec::new(),
            inline,
            children: Vec::new(),
        }
    }

    /// A nested run (a trial, a window) of `parent`, named `name`, with `params` and `tags`.
    pub fn child(
        &self,
        parent: &Run,
        name: String,
        params: Vec<(String, String)>,
        tags: Vec<(String, String)>,
    ) -> Run {
        Run {
            experiment: parent.experiment.clone(),
            name,
            start_time: self.start_ms,
            end_time: now_ms(),
            status: "FINISHED".into(),
            params,
            tags,
            ..Run::default()
        }
    }

    /// Stores and sends `run` when tracking is on; a server that fails leaves a warning, not
    /// an error (the run is kept for `qts experiments sync`).
    ///
    /// # Errors
    /// [`ResearchError::Tracking`] when the local store cannot be written.
    pub fn finish(&self, mut run: Run) -> Result<Option<Tracked>, ResearchError> {
        let cfg = &self.loaded.config.mlflow;
        if !self.enabled() {
            return Ok(None);
        }
        run.end_time = now_ms();
        let tracked = qts_tracking::track(cfg, &run)?;
        match (&tracked.server_run_id, &tracked.unsent) {
            (Some(id), _) => tracing::info!(
                run = %tracked.run_id,
                server_run = %id,
                server = %cfg.tracking_uri,
                requests = tracked.requests,
                nested = run.children.len(),
                "tracked"
            ),
            (None, Some(why)) => tracing::warn!(
                run = %tracked.run_id,
                "tracked locally in {}; not sent to {}: {why}",
                cfg.local_store,
                cfg.tracking_uri
            ),
            (None, None) => {
                tracing::info!(run = %tracked.run_id, store = %cfg.local_store, "tracked locally")
            }
        }
        Ok(Some(tracked))
    }

    /// A backtest's run: its metrics, the description as params, the stamp as tags, its files
    /// (`files`: the result folder's, made only when the run is tracked) and its page.
    ///
    /// # Errors
    /// As [`Tracker::finish`].
    pub fn backtest(
        &self,
        report: &qts_backtest::BacktestReport,
        files: &dyn Fn() -> Vec<(&'static str, String)>,
        page: Option<&str>,
    ) -> Result<Option<Tracked>, ResearchError> {
        if !self.enabled() {
            return Ok(None);
        }
        let name = format!("backtest {} {}", report.strategy, report.symbols.join(","));
        let mut run = self.new_run("backtest", name);
        for (k, v) in report.metrics.iter() {
            run.metric(k.key(), v.as_f64());
        }
        run.params.extend([
            ("run.strategy".to_string(), report.strategy.clone()),
            ("run.symbols".to_string(), report.symbols.join(",")),
            (
                "run.start".to_string(),
                report.start.clone().unwrap_or_default(),
            ),
            (
                "run.end".to_string(),
                report.end.clone().unwrap_or_default(),
            ),
            ("run.in_sample".to_string(), report.in_sample.to_string()),
        ]);
        run.tags
            .extend(data_tags(&report.stamp.data_hash, &report.stamp.files));
        run.inline.extend(
            files()
                .into_iter()
                .map(|(name, text)| (name.into(), text.into_bytes())),
        );
        if let Some(page) = page {
            run.inline
                .push(("report.html".into(), page.as_bytes().to_vec()));
        }
        self.finish(run)
    }

    /// A parameter search's run: the search and its verdict, with one nested run per trial
    /// (its parameters and headline metrics).
    ///
    /// # Errors
    /// As [`Tracker::finish`].
    pub fn optimize(
        &self,
        report: &crate::optimize::OptimizeReport,
        strategy: &str,
        grid: &[String],
        stamp: &qts_backtest::report::Stamp,
    ) -> Result<Option<Tracked>, ResearchError> {
        if !self.enabled() {
            return Ok(None);
        }
        let name = format!("optimize {} ({} trials)", report.best.label, report.trials);
        let mut run = self.new_run("optimize", name);
        run.tags.extend(data_tags(&stamp.data_hash, &stamp.files));
        run.params.push(("run.grid".into(), grid.join(" ")));
        // What a later backtest of the winner is matched on ([`crate::provenance`]).
        let best: std::collections::BTreeMap<String, String> = report
            .best
            .params
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.text()))
            .collect();
        run.params
            .push(("run.strategy".into(), strategy.to_string()));
        for (k, v) in &best {
            run.params.push((format!("run.best.{k}"), v.clone()));
        }
        run.params
            .push(("run.maximize".into(), report.maximize.to_string()));
        run.params
            .push(("run.method".into(), report.method.to_string()));
        run.metric("trials", report.trials as f64);
        run.metric("skipped", report.skipped as f64);
        if let Some(v) = report.deflated_sharpe_ratio {
            run.metric("deflated_sharpe_ratio", v);
        }
        if let Some(v) = report.probability_of_backtest_overfitting {
            run.metric("probability_of_backtest_overfitting", v);
        }
        let value = |m: &qts_stats::metrics::Metrics, k: &str| m.get(k).map(|v| v.as_f64());
        if let Some(best) = value(&report.best.metrics, report.maximize.key()) {
            run.metric(&format!("best_{}", report.maximize), best);
        }
        run.inline
            .extend([("trials.csv".into(), report.trials_csv().into_bytes())]);
        let mut keys = vec![report.maximize.key()];
        for k in [
            "sharpe_ratio",
            "total_return",
            "cagr",
            "max_drawdown",
            "num_trades",
        ] {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        for (i, trial) in report.all.iter().enumerate() {
            let mut child = self.child(
                &run,
                trial.label.clone(),
                trial
                    .params
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), v.text()))
                    .collect(),
                vec![("qts.trial".into(), (i + 1).to_string())],
            );
            for k in &keys {
                if let Some(x) = value(&trial.metrics, k) {
                    child.metric(k, x);
                }
            }
            run.children.push(child);
        }
        let name = run.name.clone();
        let tracked = self.finish(run)?;
        if let Some(t) = &tracked {
            qts_tracking::RunStore::new(&self.loaded.config.mlflow.local_store).index_search(
                &qts_tracking::SearchEntry {
                    run_id: t.run_id.clone(),
                    name,
                    strategy: strategy.to_string(),
                    data_hash: stamp.data_hash.clone(),
                    best,
                },
            )?;
        }
        Ok(tracked)
    }

    /// A walk-forward's run: the stitched out-of-sample metrics, with one nested run per
    /// window (its spans, what it chose, the metric in and out of sample).
    ///
    /// # Errors
    /// As [`Tracker::finish`].
    pub fn walk_forward(
        &self,
        report: &crate::walk_forward::WalkForwardReport,
        what: &str,
        stamp: &qts_backtest::report::Stamp,
    ) -> Result<Option<Tracked>, ResearchError> {
        if !self.enabled() {
            return Ok(None);
        }
        let name = format!("walk-forward {what} ({} windows)", report.windows.len());
        let mut run = self.new_run("walk-forward", name);
        run.tags.extend(data_tags(&stamp.data_hash, &stamp.files));
        run.params
            .push(("run.maximize".into(), report.maximize.to_string()));
        run.params.push(("run.what".into(), what.to_string()));
        for (k, v) in report.out_of_sample.iter() {
            run.metric(&format!("oos_{k}"), v.as_f64());
        }
        if let Some(e) = report.walk_forward_efficiency {
            run.metric("walk_forward_efficiency", e);
        }
        run.inline.extend([
            ("windows.csv".into(), report.windows_csv().into_bytes()),
            (
                "oos_equity.csv".into(),
                report.oos_equity_csv().into_bytes(),
            ),
        ]);
        for w in &report.windows {
            let mut child = self.child(
                &run,
                format!("window {} {} .. {}", w.window, w.test_start, w.test_end),
                vec![
                    ("window".into(), w.window.to_string()),
                    ("train_start".into(), w.train_start.clone()),
                    ("train_end".into(), w.train_end.clone()),
                    ("test_start".into(), w.test_start.clone()),
                    ("test_end".into(), w.test_end.clone()),
                    ("params".into(), w.params.clone()),
                ],
                vec![("qts.window".into(), w.window.to_string())],
            );
            if let Some(x) = w.in_sample {
                child.metric(&format!("in_sample_{}", report.maximize), x);
            }
            if let Some(x) = w.out_of_sample {
                child.metric(&format!("out_of_sample_{}", report.maximize), x);
            }
            run.children.push(child);
        }
        self.finish(run)
    }

    /// A Monte Carlo's run: its settings as params, every interval's ends and the
    /// probabilities as metrics, the JSON (fan and histograms included) as an artifact.
    ///
    /// # Errors
    /// As [`Tracker::finish`].
    pub fn monte_carlo(
        &self,
        report: &qts_stats::monte_carlo::Report,
        data: Vec<(String, String)>,
    ) -> Result<Option<Tracked>, ResearchError> {
        if !self.enabled() {
            return Ok(None);
        }
        let name = format!("monte-carlo {} ({} paths)", report.method, report.paths);
        let mut run = self.new_run("monte-carlo", name);
        run.tags.extend(data);
        run.params.extend([
            ("run.method".to_string(), report.method.to_string()),
            ("run.paths".to_string(), report.paths.to_string()),
            ("run.horizon".to_string(), report.horizon.to_string()),
            ("run.seed".to_string(), report.seed.to_string()),
            ("run.level".to_string(), report.level.to_string()),
            ("run.source".to_string(), report.source.clone()),
        ]);
        for (key, i) in report.intervals() {
            for (end, v) in [
                ("mean", i.mean),
                ("lower", i.lower),
                ("median", i.median),
                ("upper", i.upper),
            ] {
                run.metric(&format!("{key}.{end}"), v);
            }
        }
        run.metric("prob_loss", report.prob_loss);
        run.metric("prob_drawdown_beyond", report.prob_drawdown_beyond);
        run.inline.extend([(
            "monte_carlo.json".into(),
            (serde_json::to_string_pretty(report).unwrap_or_default() + "\n").into_bytes(),
        )]);
        self.finish(run)
    }

    /// A paper step's run: the day, equity, cash, the day's return and P&L, the orders
    /// decided, the alerts raised; the step's JSON as an artifact.
    ///
    /// # Errors
    /// As [`Tracker::finish`].
    pub fn paper_step(
        &self,
        account: &str,
        report: &qts_paper::StepReport,
    ) -> Result<Option<Tracked>, ResearchError> {
        if !self.enabled() {
            return Ok(None);
        }
        let name = format!("paper step {}", report.day);
        let mut run = self.new_run("paper step", name);
        run.params.extend([
            ("run.account".to_string(), account.to_string()),
            ("run.day".to_string(), report.day.clone()),
        ]);
        run.metric("equity", report.equity);
        run.metric("cash", report.cash);
        run.metric("day_return", report.day_return);
        run.metric("pnl", report.pnl);
        run.metric("fills", report.fills.len() as f64);
        run.metric("orders", report.decision.orders.len() as f64);
        run.metric("alerts", report.alerts.len() as f64);
        if !report.alerts.is_empty() {
            let kinds: Vec<&str> = report.alerts.iter().map(|a| a.kind.as_str()).collect();
            run.tags.push(("qts.alerts".into(), kinds.join(",")));
        }
        let json = serde_json::to_string_pretty(report).unwrap_or_default() + "\n";
        run.inline.extend([("step.json".into(), json.into_bytes())]);
        self.finish(run)
    }
}

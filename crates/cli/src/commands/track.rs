//! Tracking a command's run: a report in, a [`qts_tracking::Run`] out (params, metrics, tags,
//! artifacts), stored locally and sent to the configured server. Shared by every tracked
//! command and by `qts-torch`.

use qts_config::Loaded;
use qts_tracking::Run;

use crate::failure::Failure;

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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

/// A run of `command` named `name`, started at `start`: the effective configuration
/// flattened as params (secrets as `***`), and the provenance tags.
pub fn new_run(loaded: &Loaded, command: &str, name: String, start: i64) -> Run {
    let cfg = &loaded.config;
    let mut params = Vec::new();
    if let Ok(v) = serde_json::to_value(cfg) {
        flatten(&v, "", &mut params);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut tags = vec![
        (
            "qts.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        ("qts.command".to_string(), command.to_string()),
        (
            "qts.command_line".to_string(),
            loaded.redactor.scrub(&format!("qts {}", args.join(" "))),
        ),
        ("qts.config_fingerprint".to_string(), cfg.fingerprint()),
        ("mlflow.runName".to_string(), name.clone()),
        ("mlflow.source.name".to_string(), "qts".to_string()),
    ];
    if let Some(commit) = qts_core::provenance::git_commit() {
        tags.push(("mlflow.source.git.commit".to_string(), commit));
    }
    // What `qts reproduce` re-runs: the arguments one by one (secrets scrubbed) and where.
    let argv: Vec<String> = args.iter().map(|a| loaded.redactor.scrub(a)).collect();
    tags.push((
        "qts.argv".to_string(),
        serde_json::to_string(&argv).unwrap_or_default(),
    ));
    if let Ok(cwd) = std::env::current_dir() {
        tags.push(("qts.cwd".to_string(), cwd.display().to_string()));
    }
    // The effective configuration, secrets as ***: the run's own record of its settings.
    let inline = qts_core::config::to_yaml(cfg)
        .map(|y| vec![("config.yaml".to_string(), y.into_bytes())])
        .unwrap_or_default();
    Run {
        experiment: cfg.mlflow.experiment_name.clone(),
        name,
        start_time: start,
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

/// Whether runs go untracked (`mlflow.enabled: false`): then the track functions build
/// nothing, since formatting a run's files is a third of a backtest process.
fn untracked(loaded: &Loaded) -> bool {
    !loaded.config.mlflow.enabled
}

/// Stores and sends `run` when tracking is on; a server that fails leaves a warning, not an
/// error (the run is kept for `qts experiments sync`).
pub fn finish(loaded: &Loaded, mut run: Run) -> Result<Option<qts_tracking::Tracked>, Failure> {
    let cfg = &loaded.config.mlflow;
    if !cfg.enabled {
        return Ok(None);
    }
    run.end_time = now_ms();
    let tracked = qts_tracking::track(cfg, &run).map_err(|e| Failure::Runtime(e.into()))?;
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
/// (`files`: `--out`'s, made only when the run is tracked).
pub fn backtest(
    loaded: &Loaded,
    report: &qts_backtest::BacktestReport,
    files: &dyn Fn() -> [(&'static str, String); 3],
    page: Option<&str>,
    start: i64,
) -> Result<(), Failure> {
    if untracked(loaded) {
        return Ok(());
    }
    let name = format!("backtest {} {}", report.strategy, report.symbols.join(","));
    let mut run = new_run(loaded, "backtest", name, start);
    for (k, v) in report.metrics.iter() {
        let x = match v {
            qts_stats::metrics::Value::Number(x) => *x,
            qts_stats::metrics::Value::Count(c) => *c as f64,
        };
        run.metric(k, x);
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
        .push(("qts.data_hash".into(), report.stamp.data_hash.clone()));
    run.tags
        .push(("qts.data_files".into(), report.stamp.files.join(",")));
    run.inline
        .extend(files().map(|(name, text)| (name.into(), text.into_bytes())));
    if let Some(page) = page {
        run.inline
            .push(("report.html".into(), page.as_bytes().to_vec()));
    }
    finish(loaded, run).map(|_| ())
}

/// The tags that say which data a run read: the files and the SHA-256 of their bytes (what
/// `qts reproduce` checks before re-running).
pub fn data_tags(hash: &str, files: &[String]) -> Vec<(String, String)> {
    vec![
        ("qts.data_hash".to_string(), hash.to_string()),
        ("qts.data_files".to_string(), files.join(",")),
    ]
}

/// A parameter search's run: the search and its verdict, with one nested run per trial (its
/// parameters and headline metrics).
pub fn optimize(
    loaded: &Loaded,
    report: &qts_backtest::optimize::OptimizeReport,
    grid: &[String],
    stamp: &qts_backtest::report::Stamp,
    start: i64,
) -> Result<(), Failure> {
    if untracked(loaded) {
        return Ok(());
    }
    let name = format!("optimize {} ({} trials)", report.best.label, report.trials);
    let mut run = new_run(loaded, "optimize", name, start);
    run.tags.extend(data_tags(&stamp.data_hash, &stamp.files));
    run.params.push(("run.grid".into(), grid.join(" ")));
    run.params
        .push(("run.maximize".into(), report.maximize.clone()));
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
    let value = |m: &qts_stats::metrics::Metrics, k: &str| match m.get(k) {
        Some(qts_stats::metrics::Value::Number(x)) => Some(*x),
        Some(qts_stats::metrics::Value::Count(c)) => Some(*c as f64),
        None => None,
    };
    if let Some(best) = value(&report.best.metrics, &report.maximize) {
        run.metric(&format!("best_{}", report.maximize), best);
    }
    run.inline
        .extend([("trials.csv".into(), report.trials_csv().into_bytes())]);
    let mut keys = vec![report.maximize.as_str()];
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
        let mut child = qts_tracking::Run {
            experiment: run.experiment.clone(),
            name: trial.label.clone(),
            start_time: start,
            end_time: now_ms(),
            status: "FINISHED".into(),
            params: trial
                .params
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.text()))
                .collect(),
            tags: vec![("qts.trial".into(), (i + 1).to_string())],
            ..qts_tracking::Run::default()
        };
        for k in &keys {
            if let Some(x) = value(&trial.metrics, k) {
                child.metric(k, x);
            }
        }
        run.children.push(child);
    }
    finish(loaded, run).map(|_| ())
}

/// A walk-forward's run: the stitched out-of-sample metrics, with one nested run per window
/// (its spans, what it chose, the metric in and out of sample).
pub fn walk_forward(
    loaded: &Loaded,
    report: &qts_backtest::walk_forward::WalkForwardReport,
    what: &str,
    stamp: &qts_backtest::report::Stamp,
    start: i64,
) -> Result<(), Failure> {
    if untracked(loaded) {
        return Ok(());
    }
    let name = format!("walk-forward {what} ({} windows)", report.windows.len());
    let mut run = new_run(loaded, "walk-forward", name, start);
    run.tags.extend(data_tags(&stamp.data_hash, &stamp.files));
    run.params
        .push(("run.maximize".into(), report.maximize.clone()));
    run.params.push(("run.what".into(), what.to_string()));
    for (k, v) in report.out_of_sample.iter() {
        let x = match v {
            qts_stats::metrics::Value::Number(x) => *x,
            qts_stats::metrics::Value::Count(c) => *c as f64,
        };
        run.metric(&format!("oos_{k}"), x);
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
        let mut child = qts_tracking::Run {
            experiment: run.experiment.clone(),
            name: format!("window {} {} .. {}", w.window, w.test_start, w.test_end),
            start_time: start,
            end_time: now_ms(),
            status: "FINISHED".into(),
            params: vec![
                ("window".into(), w.window.to_string()),
                ("train_start".into(), w.train_start.clone()),
                ("train_end".into(), w.train_end.clone()),
                ("test_start".into(), w.test_start.clone()),
                ("test_end".into(), w.test_end.clone()),
                ("params".into(), w.params.clone()),
            ],
            tags: vec![("qts.window".into(), w.window.to_string())],
            ..qts_tracking::Run::default()
        };
        if let Some(x) = w.in_sample {
            child.metric(&format!("in_sample_{}", report.maximize), x);
        }
        if let Some(x) = w.out_of_sample {
            child.metric(&format!("out_of_sample_{}", report.maximize), x);
        }
        run.children.push(child);
    }
    finish(loaded, run).map(|_| ())
}

/// A Monte Carlo's run: its settings as params, every interval's ends and the probabilities as
/// metrics, the JSON (fan and histograms included) as an artifact.
pub fn monte_carlo(
    loaded: &Loaded,
    report: &qts_stats::monte_carlo::Report,
    json: &serde_json::Value,
    data: Vec<(String, String)>,
    start: i64,
) -> Result<(), Failure> {
    if untracked(loaded) {
        return Ok(());
    }
    let name = format!("monte-carlo {} ({} paths)", report.method, report.paths);
    let mut run = new_run(loaded, "monte-carlo", name, start);
    run.tags.extend(data);
    run.params.extend([
        ("run.method".to_string(), report.method.to_string()),
        ("run.paths".to_string(), report.paths.to_string()),
        ("run.horizon".to_string(), report.horizon.to_string()),
        ("run.seed".to_string(), report.seed.to_string()),
        ("run.level".to_string(), report.level.to_string()),
        (
            "run.source".to_string(),
            json["source"].as_str().unwrap_or("").to_string(),
        ),
    ]);
    for (key, i) in [
        ("final_equity", &report.final_equity),
        ("cagr", &report.cagr),
        ("mean_return", &report.mean_return),
        ("sharpe_ratio", &report.sharpe_ratio),
        ("max_drawdown", &report.max_drawdown),
        ("annual_volatility", &report.annual_volatility),
    ] {
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
        (serde_json::to_string_pretty(json).unwrap_or_default() + "\n").into_bytes(),
    )]);
    finish(loaded, run).map(|_| ())
}

/// A paper step's run: the day, equity, cash, the day's return and P&L, the orders decided,
/// the alerts raised; the step's JSON as an artifact.
pub fn paper_step(
    loaded: &Loaded,
    account: &str,
    report: &qts_paper::StepReport,
    start: i64,
) -> Result<(), Failure> {
    if untracked(loaded) {
        return Ok(());
    }
    let name = format!("paper step {}", report.day);
    let mut run = new_run(loaded, "paper step", name, start);
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
    finish(loaded, run).map(|_| ())
}

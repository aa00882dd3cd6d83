//! `qts optimize --model-config FILE`: a model's hyper-parameter search
//! ([`qts_models::search::search`]): every trial trained, registered and scored on its
//! validation split; the chosen model's test metrics printed as the honest estimate.

use std::io::Write;

use anyhow::anyhow;
use comfy_table::Table;
use qts_config::SearchMethod;
use qts_core::logging::RunContext;
use qts_models::fit::TrainRequest;
use qts_models::search::{Objective, SearchReport, Trial, parse_param, search};

use qts_cli::cli::{GlobalArgs, MethodArg, OptimizeArgs, SectionFiles};
use qts_cli::commands::backtest::write_result;
use qts_cli::commands::optimize::progress_bar;
use qts_cli::commands::setup::{load_config, start_logging};
use qts_cli::failure::Failure;

/// Runs `qts optimize --model-config`.
pub fn run(global: &GlobalArgs, args: &OptimizeArgs) -> Result<(), Failure> {
    let bad = |m: &str| Err(Failure::Input(anyhow!("{m}")));
    let run = &args.run;
    if !args.search.grid.is_empty() {
        return bad(
            "--grid searches a strategy's parameters; a model's are searched with --search KEY=… or its YAML's search space",
        );
    }
    if run.signals.is_some() || !run.params.is_empty() {
        return bad(
            "--signals and --param belong to a strategy search; --model-config searches the model's hyper-parameters",
        );
    }
    if run.from.is_some() || run.to.is_some() {
        return bad(
            "--from/--to do not apply to a model search: it trains on the whole file with the model's own train/validation/test split (cut the file to hold data out)",
        );
    }
    if args.save_returns {
        return bad(
            "--save-returns writes per-bar strategy returns; a model search has none (walk the chosen model forward with `qts walk-forward --model-config`)",
        );
    }
    let files = SectionFiles {
        model: args.search.model_config.clone(),
        backtest: run.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(global, &files)?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;
    let objective = Objective::new(args.search.maximize.as_deref(), args.minimize.as_deref())
        .map_err(crate::failure)?;
    // The space: --search replaces the YAML's; --method/--trials override its own.
    let mut space = cfg.model.search.clone();
    if !args.search_space.is_empty() {
        space.space.clear();
        for spec in &args.search_space {
            let (key, param) = parse_param(spec).map_err(crate::failure)?;
            space.space.insert(key, param);
        }
    }
    if let Some(m) = args.method {
        space.method = match m {
            MethodArg::Grid => SearchMethod::Grid,
            MethodArg::Random => SearchMethod::Random,
        };
    }
    if let Some(n) = args.trials {
        space.trials = n;
    }
    // The space goes through the same checks as the YAML's (keys that exist, ranges).
    let mut checked = cfg.model.clone();
    checked.search = space.clone();
    let mut checks = qts_core::config::Checks::default();
    qts_core::config::Validate::validate(&checked, "model", &mut checks);
    // The YAML's own space was checked when it loaded: a problem here comes from the flags.
    if let Some((key, why)) = checks.into_problems().first() {
        return Err(Failure::Input(anyhow!(
            "{key}: {why} (with --search/--method/--trials)"
        )));
    }
    let seed = args.seed.unwrap_or(cfg.reproducibility.seed);
    if run.data.len() != 1 {
        return bad(
            "a model search trains on one --data file (pool symbols with `qts train --data A,B`)",
        );
    }
    let given = run.data[0].display().to_string();
    let (data, data_hash) = crate::train::load_data(cfg, &given, false)?;
    let data_tags = qts_cli::commands::track::data_tags(
        &data_hash,
        &data.iter().map(|d| d.source.clone()).collect::<Vec<_>>(),
    );
    let span = RunContext::new("optimize")
        .model_type(format!("{:?}", cfg.model.architecture).to_lowercase())
        .symbol(data[0].symbol.clone())
        .span();
    let _run = span.enter();
    let base = TrainRequest {
        config: cfg,
        name: cfg.model.name.clone(),
        data,
        data_name: given.clone(),
        data_hash,
        adjust: false,
        seeds: 1,
        resume: false,
        git_commit: qts_core::provenance::git_commit(),
        from: None,
    };
    let size = qts_models::search::points(&space, seed)
        .map_err(crate::failure)?
        .len();
    let bar = progress_bar(
        "model search [{bar:30}] {pos}/{len} trials {elapsed}",
        global.quiet > 0 || args.json,
    );
    bar.set_length(size as u64);
    let start_ms = qts_cli::commands::track::now_ms();
    let report = search(&base, &space, seed, objective, &mut |t: &Trial, done| {
        bar.suspend(|| {
            tracing::info!(trial = t.trial, model = %t.model, params = %qts_models::search::label(&t.params), "trial trained");
        });
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = report.map_err(crate::failure)?;
    if let Some(dir) = &args.out {
        write_result(dir, &[("trials.csv", report.trials_csv().as_bytes())])?;
    }
    track(&loaded, &report, start_ms, data_tags)?;
    let text = if args.json {
        serde_json::to_string_pretty(&report).map_err(|e| Failure::Runtime(e.into()))? + "\n"
    } else {
        summary(&report, &given)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

fn summary(report: &SearchReport, data: &str) -> String {
    let o = &report.objective;
    let keys: Vec<&String> = report.best.params.keys().collect();
    let shown = ["val_loss", "val_mae", "val_directional_accuracy", "val_ic"];
    let mut t = Table::new();
    let mut header = vec!["trial".to_string()];
    header.extend(keys.iter().map(|k| (*k).clone()));
    header.push("model".into());
    header.extend(shown.iter().map(|s| (*s).to_string()));
    t.set_header(header);
    let num = |v: Option<&f64>| v.map_or("-".into(), |x| format!("{x:.6}"));
    for tr in &report.all {
        let mut row = vec![if tr.trial == report.best.trial {
            format!("{} *", tr.trial)
        } else {
            tr.trial.to_string()
        }];
        row.extend(keys.iter().map(|k| {
            tr.params
                .get(*k)
                .map(|v| match v {
                    serde_json::Value::Number(n) => n
                        .as_f64()
                        .filter(|_| !n.is_i64())
                        .map_or(n.to_string(), |x| format!("{x:.6}")),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        }));
        row.push(tr.model.clone());
        row.extend(shown.iter().map(|m| num(tr.metrics.get(*m))));
        t.add_row(row);
    }
    let b = &report.best;
    let m = |k: &str| num(b.metrics.get(k));
    format!(
        "model search of {} trials ({}) on {data}, scored on the validation split: {} {}\n{t}\n\
         best: trial {} {} ({}): {} {}\n\
         its test split, never used to choose: mae {} (zero forecast {}), directional accuracy {} (share of up days {}), IC {} (t {})\n\
         note: the best of {} trials is chosen on one validation split, so its validation figure is optimistic; the test figures are the estimate to trust\n",
        report.trials,
        report.method,
        o.metric,
        if o.maximize {
            "(higher is better)"
        } else {
            "(lower is better)"
        },
        b.trial,
        b.model,
        qts_models::search::label(&b.params),
        o.metric,
        m(&o.metric),
        m("test_mae"),
        m("test_mae_zero"),
        m("test_directional_accuracy"),
        m("test_up_share"),
        m("test_ic"),
        m("test_ic_t"),
        report.trials,
    )
}

/// The search's run with a nested run per trial (its settings, validation metrics and model).
fn track(
    loaded: &qts_config::Loaded,
    report: &SearchReport,
    start: i64,
    data_tags: Vec<(String, String)>,
) -> Result<(), Failure> {
    use qts_cli::commands::track::{finish, new_run, now_ms};
    let name = format!("optimize {} ({} trials)", report.best.model, report.trials);
    let mut run = new_run(loaded, "optimize", name, start);
    run.params
        .push(("run.objective".into(), report.objective.metric.clone()));
    run.params
        .push(("run.maximize".into(), report.objective.maximize.to_string()));
    run.params
        .push(("run.method".into(), report.method.clone()));
    run.metric("trials", report.trials as f64);
    for (k, v) in &report.best.metrics {
        run.metric(&format!("best_{k}"), *v);
    }
    run.tags
        .push(("qts.model".into(), report.best.model.clone()));
    run.tags.extend(data_tags);
    run.inline
        .extend([("trials.csv".into(), report.trials_csv().into_bytes())]);
    for t in &report.all {
        let mut child = qts_tracking::Run {
            experiment: run.experiment.clone(),
            name: qts_models::search::label(&t.params),
            start_time: start,
            end_time: now_ms(),
            status: "FINISHED".into(),
            params: t
                .params
                .iter()
                .map(|(k, v)| {
                    (
                        format!("model.{k}"),
                        v.as_str().map_or(v.to_string(), str::to_string),
                    )
                })
                .collect(),
            tags: vec![
                ("qts.trial".into(), t.trial.to_string()),
                ("qts.model".into(), t.model.clone()),
            ],
            ..qts_tracking::Run::default()
        };
        for (k, v) in t.metrics.iter().filter(|(k, _)| k.starts_with("val_")) {
            child.metric(k, *v);
        }
        run.children.push(child);
    }
    finish(loaded, run).map(|_| ())
}

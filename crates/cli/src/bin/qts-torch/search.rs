//! `qts optimize --model-config FILE`: flags → [`qts_research_torch::search::search_model`]
//! (every trial trained, registered and scored on its validation split; tracked) → a table of
//! the trials, the chosen model's test metrics as the honest estimate.

use comfy_table::Table;
use qts_cli::cli::{GlobalArgs, OptimizeArgs, SectionFiles};
use qts_cli::failure::{Failure, input};
use qts_cli::output::{Bar, json, print, write_result};
use qts_cli::setup::{load_config, start_logging, tracker};
use qts_models::search::SearchReport;
use qts_research_torch::search::{SearchAsk, search_model};
use qts_research_torch::train::TrainData;

/// Runs `qts optimize --model-config`.
pub fn run(global: &GlobalArgs, args: &OptimizeArgs) -> Result<(), Failure> {
    let run = &args.run;
    if !args.search.grid.is_empty() {
        return Err(input(
            "--grid searches a strategy's parameters; a model's are searched with --search KEY=… or its YAML's search space",
        ));
    }
    if run.signals.is_some() || !run.params.is_empty() {
        return Err(input(
            "--signals and --param belong to a strategy search; --model-config searches the model's hyper-parameters",
        ));
    }
    if run.from.is_some() || run.to.is_some() {
        return Err(input(
            "--from/--to do not apply to a model search: it trains on the whole file with the model's own train/validation/test split (cut the file to hold data out)",
        ));
    }
    if args.save_returns {
        return Err(input(
            "--save-returns writes per-bar strategy returns; a model search has none (walk the chosen model forward with `qts walk-forward --model-config`)",
        ));
    }
    if run.data.len() != 1 {
        return Err(input(
            "a model search trains on one --data file (pool symbols with `qts train --data A,B`)",
        ));
    }
    let files = SectionFiles {
        model: args.search.model_config.clone(),
        backtest: run.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(global, &files)?;
    let _guard = start_logging(global, &loaded)?;
    let given = run.data[0].display().to_string();
    let ask = SearchAsk {
        data: TrainData::Named(given.clone()),
        maximize: args.search.maximize.clone(),
        minimize: args.minimize.clone(),
        space: args.search_space.clone(),
        method: args.method,
        trials: args.trials,
        seed: args.seed,
    };
    let tracker = tracker(&loaded);
    let bar = Bar::new(
        "model search [{bar:30}] {pos}/{len} trials {elapsed} elapsed, about {eta} left",
        global.quiet > 0 || args.json,
    );
    let report = search_model(&loaded, ask, &bar, &tracker);
    drop(bar);
    let report = report.map_err(crate::failure)?;
    if let Some(dir) = &args.out {
        write_result(dir, &[("trials.csv", report.trials_csv())])?;
    }
    if args.json {
        return print(&json(&report)?);
    }
    print(&summary(&report, &given))
}

/// The search as a person reads it: each trial's settings and validation figures, the best,
/// and its test figures as the estimate to trust.
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

//! `qts walk-forward`: flags → [`qts_backtest::walk_forward::walk_forward`] → table, JSON
//! and files.

use std::io::Write;

use anyhow::anyhow;
use comfy_table::Table;
use qts_backtest::optimize::{Method, OptimizeRequest};
use qts_backtest::strategy::Registry;
use qts_backtest::walk_forward::{Schedule, WalkForwardReport, walk_forward};
use qts_core::logging::RunContext;

use super::backtest::{prepare, write_result};
use super::optimize::{parse_axes, progress_bar, search_request};
use crate::cli::{GlobalArgs, WalkForwardArgs};
use crate::failure::Failure;

/// The windows' lengths of the flags, `backtest.walk_forward` where a flag is not given.
pub fn schedule(args: &WalkForwardArgs, cfg: &qts_config::QtsConfig) -> Schedule {
    Schedule::from_config(
        &cfg.backtest.walk_forward,
        args.train,
        args.test,
        args.step,
        args.anchored,
    )
}

/// Runs `qts walk-forward`.
pub fn run(global: &GlobalArgs, args: &WalkForwardArgs) -> Result<(), Failure> {
    if args.run.from.is_some() || args.run.to.is_some() {
        return Err(Failure::Input(anyhow!(
            "--from/--to do not apply to walk-forward: its windows are --train/--test bars"
        )));
    }
    let p = prepare(global, &args.run, "walk-forward")?;
    let _guard = &p.guard;
    let span = RunContext::new("walk-forward")
        .symbol(p.market.bars()[0].symbol.clone())
        .span();
    let _run = span.enter();
    let axes = parse_axes(&args.search.grid)?;
    let registry = Registry::builtin();
    let search = OptimizeRequest {
        overfitting: false,
        ..search_request(&p, &registry, &axes, &args.run, &args.search, Method::Grid)?
    };
    let schedule = schedule(args, &p.loaded.config);
    let bar = progress_bar(
        "walk-forward [{bar:30}] {pos}/{len} windows {elapsed}",
        global.quiet > 0 || args.json,
    );
    let start_ms = super::track::now_ms();
    let report = walk_forward(&search, &schedule, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = report?;
    super::track::walk_forward(&p.loaded, &report, &args.run.strategy, &p.stamp, start_ms)?;
    let grid = args.search.grid.join(" ");
    finish(args, &report, &format!("{} over {grid}", args.run.strategy))
}

/// What a walk-forward's files and page say of it: its JSON with `what` was walked forward and
/// on which `data`.
pub fn described(
    report: &WalkForwardReport,
    what: &str,
    data: &str,
) -> Result<serde_json::Value, Failure> {
    let mut json = serde_json::to_value(report).map_err(|e| Failure::Runtime(e.into()))?;
    json["what"] = serde_json::Value::String(what.to_string());
    json["data"] = serde_json::Value::String(data.to_string());
    Ok(json)
}

/// The walk-forward page of `report` described by `json` ([`described`]).
pub fn page(report: &WalkForwardReport, json: &serde_json::Value) -> String {
    let rows: Vec<qts_report::html::EquityRow> = report
        .oos_equity
        .iter()
        .filter_map(|(d, e, b)| Some((d.parse().ok()?, *e, *b)))
        .collect();
    qts_report::html::walk_forward_page(json, &rows)
}

/// Writes `--out` and `--report`, and prints a walk-forward's table or JSON (strategy and
/// model alike); `what` names what was walked forward, for the page.
pub fn finish(
    args: &WalkForwardArgs,
    report: &WalkForwardReport,
    what: &str,
) -> Result<(), Failure> {
    let data: Vec<String> = args
        .run
        .data
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let json = described(report, what, &data.join(", "))?;
    let pretty =
        serde_json::to_string_pretty(&json).map_err(|e| Failure::Runtime(e.into()))? + "\n";
    if let Some(dir) = &args.out {
        let (windows, equity) = (report.windows_csv(), report.oos_equity_csv());
        write_result(
            dir,
            &[
                ("windows.csv", windows.as_bytes()),
                ("oos_equity.csv", equity.as_bytes()),
                ("walk_forward.json", pretty.as_bytes()),
            ],
        )?;
    }
    if let Some(path) = &args.report {
        super::report::write_page(path, &page(report, &json))?;
    }
    let text = if args.json {
        pretty
    } else {
        let num = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.4}"));
        let mut t = Table::new();
        t.set_header(vec![
            "window".to_string(),
            "train".into(),
            "test (out of sample)".into(),
            "parameters".into(),
            format!("{} in sample", report.maximize),
            "out of sample".into(),
        ]);
        for w in &report.windows {
            t.add_row(vec![
                w.window.to_string(),
                format!("{} .. {}", w.train_start, w.train_end),
                format!("{} .. {}", w.test_start, w.test_end),
                w.params.clone(),
                num(w.in_sample),
                num(w.out_of_sample),
            ]);
        }
        let m = |k: &str| report.out_of_sample.get(k).map(|v| v.as_f64());
        format!(
            "{t}\nstitched out of sample: total return {}, Sharpe {}, max drawdown {}, {} trades; \
             walk-forward efficiency {}\n",
            num(m("total_return")),
            num(m("sharpe_ratio")),
            num(m("max_drawdown")),
            m("num_trades").unwrap_or(0.0),
            num(report.walk_forward_efficiency)
        )
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

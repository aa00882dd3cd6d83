//! `qts optimize`: flags → [`qts_backtest::optimize::optimize`] → summary, JSON and files.

use std::io::Write;

use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use qts_backtest::optimize::{Axis, Method, OptimizeRequest, optimize};
use qts_backtest::strategy::Registry;
use qts_core::logging::RunContext;

use super::backtest::{Prepared, prepare, write_result};
use crate::cli::{GlobalArgs, MethodArg, OptimizeArgs, RunArgs, SearchArgs};
use crate::failure::Failure;

/// The `--grid` axes.
pub fn parse_axes(grid: &[String]) -> Result<Vec<Axis>, Failure> {
    Ok(grid
        .iter()
        .map(|g| Axis::parse(g))
        .collect::<Result<Vec<_>, _>>()?)
}

/// The search of a prepared command (`optimize`, `walk-forward`).
pub fn search_request<'a>(
    p: &'a Prepared,
    registry: &'a Registry,
    axes: &'a [Axis],
    run: &'a RunArgs,
    search: &'a SearchArgs,
    method: Method,
) -> Result<OptimizeRequest<'a>, Failure> {
    let cfg = &p.loaded.config;
    let Some(maximize) = search.maximize.as_deref() else {
        return Err(Failure::Input(anyhow::anyhow!(
            "--maximize METRIC is required: a key of the backtest JSON (final_equity, sharpe_ratio, …)"
        )));
    };
    Ok(OptimizeRequest {
        market: &p.market,
        registry,
        strategy: &run.strategy,
        axes,
        fixed: &p.params,
        signals: p.signals.as_ref(),
        regime: &cfg.backtest.regime_filter,
        settings: &p.settings,
        maximize,
        method,
        pbo_splits: 16,
        overfitting: true,
        stamp: p.stamp.clone(),
        cancel: None,
    })
}

/// A progress bar, hidden with `-q` or `--json`.
pub fn progress_bar(template: &str, hidden: bool) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if hidden {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// Runs `qts optimize`.
pub fn run(global: &GlobalArgs, args: &OptimizeArgs) -> Result<(), Failure> {
    let p = prepare(global, &args.run, "optimize")?;
    let _guard = &p.guard;
    let cfg = &p.loaded.config;
    let span = RunContext::new("optimize")
        .symbol(p.market.bars()[0].symbol.clone())
        .span();
    let _run = span.enter();
    let axes = parse_axes(&args.search.grid)?;
    let method = match args.method.unwrap_or(MethodArg::Grid) {
        MethodArg::Grid => Method::Grid,
        MethodArg::Random => Method::random(args.trials, args.seed, cfg.reproducibility.seed),
    };
    let registry = Registry::builtin();
    let request = OptimizeRequest {
        pbo_splits: args.pbo_splits,
        ..search_request(&p, &registry, &axes, &args.run, &args.search, method)?
    };
    let bar = progress_bar(
        "optimize [{bar:30}] {pos}/{len} trials {elapsed}",
        global.quiet > 0 || args.json,
    );
    bar.set_length(method.points(&axes) as u64);
    let start_ms = super::track::now_ms();
    let report = optimize(&request, &|| bar.inc(1));
    bar.finish_and_clear();
    let report = report?;
    tracing::info!(
        trials = report.trials,
        skipped = report.skipped,
        "optimized"
    );
    super::track::optimize(&p.loaded, &report, &args.search.grid, &p.stamp, start_ms)?;
    let trials = report.trials_csv();
    if args.out.is_some() || args.report.is_some() {
        // What the page draws: the JSON with where the data came from and the λ histogram.
        let mut page_json =
            serde_json::to_value(&report).map_err(|e| Failure::Runtime(e.into()))?;
        page_json["data"] = serde_json::Value::String(
            args.run
                .data
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        if !report.logits.is_empty() {
            page_json["lambda"] = serde_json::to_value(qts_stats::monte_carlo::Histogram::of(
                report.logits.iter().copied(),
            ))
            .map_err(|e| Failure::Runtime(e.into()))?;
        }
        let summary = serde_json::to_string_pretty(&page_json)
            .map_err(|e| Failure::Runtime(e.into()))?
            + "\n";
        if let Some(dir) = &args.out {
            let returns = args.save_returns.then(|| report.trial_returns_csv());
            let mut files = vec![
                ("trials.csv", trials.as_bytes()),
                ("optimize.json", summary.as_bytes()),
            ];
            if let Some(r) = &returns {
                files.push(("trial_returns.csv", r.as_bytes()));
            }
            write_result(dir, &files)?;
        }
        if let Some(path) = &args.report {
            super::report::write_page(path, &qts_report::html::optimize_page(&page_json, &trials))?;
        }
    }
    let text = if args.json {
        serde_json::to_string_pretty(&report).map_err(|e| Failure::Runtime(e.into()))? + "\n"
    } else {
        let show = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.4}"));
        let params: Vec<String> = report
            .best
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", v.text()))
            .collect();
        let best = report
            .best
            .metrics
            .get(report.maximize.as_str())
            .map_or(f64::NAN, |v| v.as_f64());
        let mut t = Table::new();
        for (k, v) in [
            ("strategy", args.run.strategy.clone()),
            (
                "trials",
                format!(
                    "{} ({} search, {} grid points refused by the strategy)",
                    report.trials, report.method, report.skipped
                ),
            ),
            ("best parameters", params.join(", ")),
            (report.maximize.as_str(), format!("{best:.6}")),
            ("deflated Sharpe ratio", show(report.deflated_sharpe_ratio)),
            (
                "probability of backtest overfitting",
                show(report.probability_of_backtest_overfitting),
            ),
        ] {
            t.add_row(vec![k.to_string(), v]);
        }
        let mut text = format!("{t}\n");
        for n in &report.notes {
            text.push_str(&format!("note: {n}\n"));
        }
        if let Some(dir) = &args.out {
            text.push_str(&format!("wrote trials.csv to {}\n", dir.display()));
        }
        text
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

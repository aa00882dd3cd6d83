//! `qts optimize`: flags → [`qts_research::Session::search`] → summary, JSON and files.

use qts_core::logging::RunContext;
use qts_research::optimize::{Axis, Method, check_metric};
use qts_research::session::SearchSpec;

use crate::cli::{GlobalArgs, OptimizeArgs, SearchArgs};
use crate::failure::{Failure, input};
use crate::output::{Bar, json, print, write_page, write_result};
use crate::setup::{data_text, session, tracker};
use qts_config::SearchMethod;
use qts_report::folder::OptimizeSummary;

/// The search of `--grid` and `--maximize` with `method` and `pbo_splits`.
pub fn spec(search: &SearchArgs, method: Method, pbo_splits: usize) -> Result<SearchSpec, Failure> {
    if search.grid.is_empty() {
        return Err(input(
            "no --grid: give at least one NAME=START:STOP:STEP or NAME=a,b,c",
        ));
    }
    let Some(maximize) = search.maximize.as_deref() else {
        return Err(input(
            "--maximize METRIC is required: a key of the backtest JSON (final_equity, sharpe_ratio, …)",
        ));
    };
    let axes = search
        .grid
        .iter()
        .map(|g| Axis::parse(g))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SearchSpec {
        axes,
        maximize: check_metric(maximize)?,
        method,
        pbo_splits,
    })
}

/// Runs `qts optimize`.
pub fn run(global: &GlobalArgs, args: &OptimizeArgs) -> Result<(), Failure> {
    let (s, _guard) = session(global, &args.run, None)?;
    let span = RunContext::new("optimize")
        .symbol(s.market.bars()[0].symbol.clone())
        .span();
    let _run = span.enter();
    let method = match args.method.unwrap_or(SearchMethod::Grid) {
        SearchMethod::Grid => Method::Grid,
        SearchMethod::Random => {
            Method::random(args.trials, args.seed, s.config().reproducibility.seed)
        }
    };
    let spec = spec(&args.search, method, args.pbo_splits)?;
    let tracker = tracker(s.loaded());
    let bar = Bar::new(
        "optimize [{bar:30}] {pos}/{len} trials {elapsed} elapsed, about {eta} left",
        global.quiet > 0 || args.json,
    );
    bar.inner().set_length(method.points(&spec.axes) as u64);
    let report = s.search(&spec, &bar);
    drop(bar);
    let report = report?;
    tracing::info!(
        trials = report.trials,
        skipped = report.skipped,
        "optimized"
    );
    tracker.optimize(&report, &s.strategy, &args.search.grid, &s.stamp)?;
    if args.out.is_some() || args.report.is_some() {
        let summary = OptimizeSummary::of(&report, &data_text(&args.run));
        if let Some(dir) = &args.out {
            write_result(
                dir,
                &qts_report::folder::optimize_files(&report, &summary, args.save_returns),
            )?;
        }
        if let Some(path) = &args.report {
            let trials = qts_report::folder::trial_records(&report);
            write_page(path, &qts_report::html::optimize_page(&summary, &trials))?;
        }
    }
    if args.json {
        return print(&json(&report)?);
    }
    let mut text = qts_report::render::optimize(&report, &args.run.strategy);
    if let Some(dir) = &args.out {
        text.push_str(&format!("wrote trials.csv to {}\n", dir.display()));
    }
    print(&text)
}

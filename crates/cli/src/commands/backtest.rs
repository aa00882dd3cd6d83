//! `qts backtest`: flags → [`qts_research::Session::backtest`] → table, JSON and files.

use qts_core::logging::RunContext;
use qts_data::io::read_returns;
use qts_research::session::BacktestOptions;

use crate::cli::{BacktestArgs, GlobalArgs};
use crate::failure::Failure;
use crate::output::{json, print, write_page, write_result};
use crate::setup::{session, tracker};

/// Runs `qts backtest`.
pub fn run(global: &GlobalArgs, args: &BacktestArgs) -> Result<(), Failure> {
    let (s, _guard) = session(global, &args.run, None)?;
    let symbols: Vec<&str> = s.market.bars().iter().map(|b| b.symbol.as_str()).collect();
    let span = RunContext::new("backtest").symbol(symbols.join(",")).span();
    let _run = span.enter();
    let benchmark = args.benchmark.as_deref().map(read_returns).transpose()?;
    let bench_name = args.benchmark.as_ref().map(|p| p.display().to_string());
    let tracker = tracker(s.loaded());
    let started = std::time::Instant::now();
    let report = s.backtest(&BacktestOptions {
        close_at_end: args.close_at_end,
        benchmark: benchmark.as_ref().zip(bench_name.as_deref()),
    })?;
    tracing::info!(
        trades = report.result.trades.len(),
        micros = started.elapsed().as_micros() as u64,
        "backtest finished"
    );
    let stats = serde_json::to_value(&report).map_err(|e| Failure::Runtime(e.into()))?;
    // The result's files, formatted once for --out and the tracked run, and only if one asks.
    let files = std::cell::LazyCell::new(|| qts_report::folder::backtest_files(&report, &stats));
    if let Some(dir) = &args.out {
        write_result(dir, &files)?;
    }
    let page = args
        .report
        .as_ref()
        .map(|_| qts_report::html::backtest_page(&qts_report::html::RunData::of_report(&report)));
    tracker.backtest(&report, &|| files.clone(), page.as_deref())?;
    if args.json {
        print(&json(&stats)?)?;
    } else {
        print(&qts_report::render::summary(
            &report,
            &s.config().backtest.metrics.report,
        ))?;
        if let Some(dir) = &args.out {
            print(&format!(
                "wrote stats.json, trades.csv and equity.csv to {}\n",
                dir.display()
            ))?;
        }
    }
    if let (Some(path), Some(page)) = (&args.report, &page) {
        write_page(path, page)?;
    }
    Ok(())
}

//! `qts monte-carlo`: flags → [`qts_stats::monte_carlo::simulate`] → table or JSON.

use std::path::Path;

use qts_core::logging::RunContext;
use qts_data::io::read_returns;
use qts_research::track::data_tags;
use qts_stats::monte_carlo::{Method, Request, simulate};

use crate::cli::{GlobalArgs, MonteCarloArgs, SectionFiles};
use crate::failure::{Failure, input};
use crate::output::{json, print, write_page, write_result};
use crate::setup::{load_config, start_logging, tracker};

/// Runs `qts monte-carlo`.
pub fn run(global: &GlobalArgs, args: &MonteCarloArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let span = RunContext::new("monte-carlo").span();
    let _run = span.enter();
    let cfg = &loaded.config;
    let periods = f64::from(cfg.backtest.metrics.periods_per_year);
    if let Some(dir) = &args.run {
        crate::output::reads_result(dir);
    }
    if let Some(f) = &args.returns {
        crate::output::reads(f);
    }
    let equity_file = match (&args.returns, &args.run) {
        (Some(f), _) => f.clone(),
        (None, Some(dir)) => {
            qts_core::fs::check_result_dir(dir).map_err(|e| input(format!("--run {e}")))?;
            // A backtest's equity, or a walk-forward's stitched out-of-sample equity.
            match ["equity.csv", "oos_equity.csv"]
                .iter()
                .map(|f| dir.join(f))
                .find(|f| f.is_file())
            {
                Some(f) => f,
                None => {
                    return Err(input(format!(
                        "--run {} has neither equity.csv (`qts backtest --out`) nor oos_equity.csv (`qts walk-forward --out`)",
                        dir.display()
                    )));
                }
            }
        }
        (None, None) => return Err(input("give --returns FILE or --run DIR")),
    };
    let returns = read_returns(&equity_file)?.returns;
    let mc = &cfg.backtest.monte_carlo;
    let method = args
        .method
        .unwrap_or(mc.method)
        .with_block_size(args.block_size.unwrap_or(mc.block_size));
    let trades = method == Method::Trades;
    let (sample, periods_per_year) = if trades {
        let Some(dir) = &args.run else {
            return Err(input(
                "--method trades needs --run DIR (the trades.csv of `qts backtest --out`)",
            ));
        };
        qts_report::folder::trade_sample(dir, returns.len(), periods)?
    } else {
        (returns, periods)
    };
    let tracker = tracker(&loaded);
    let source = if trades {
        format!(
            "the trades of {}",
            args.run.as_deref().unwrap_or(Path::new("?")).display()
        )
    } else {
        equity_file.display().to_string()
    };
    let report = simulate(&Request {
        sample: &sample,
        periods_per_year,
        method,
        paths: args.paths.unwrap_or(mc.simulations),
        seed: args.seed.unwrap_or(cfg.reproducibility.seed),
        horizon: args.horizon,
        level: args.level.unwrap_or(mc.confidence),
        drawdown: args.drawdown,
        initial: cfg.backtest.initial_capital,
        budget: cfg.budget,
    })?
    .of(source);
    // The files read, hashed, so `qts reproduce` can tell whether they changed.
    let mut read = vec![equity_file.clone()];
    if trades && let Some(dir) = &args.run {
        read.push(dir.join("trades.csv"));
    }
    let mut bytes = Vec::new();
    for f in &read {
        bytes.extend(std::fs::read(f).map_err(|e| input(format!("{}: {e}", f.display())))?);
    }
    let shown: Vec<String> = read.iter().map(|f| f.display().to_string()).collect();
    tracker.monte_carlo(&report, data_tags(&qts_core::hex::sha256(&bytes), &shown))?;
    if let Some(dir) = &args.out {
        write_result(dir, &qts_report::folder::monte_carlo_files(&report))?;
    }
    if let Some(path) = &args.report {
        write_page(path, &qts_report::html::monte_carlo_page(&report))?;
    }
    if args.json {
        print(&json(&report)?)
    } else {
        print(&qts_report::render::monte_carlo(&report))
    }
}

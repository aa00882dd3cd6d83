//! `qts backtest`: flags → [`qts_backtest::backtest`] → table, JSON and files.

use std::path::Path;

use anyhow::anyhow;
use qts_backtest::report::{Benchmark, Settings, Stamp, Window};
use qts_backtest::strategy::registry::Inputs;
use qts_backtest::strategy::{Registry, SignalSeries};
use qts_backtest::{BacktestReport, Execution, Market, backtest};
use qts_core::logging::RunContext;
use qts_data::io::{read_all_hashed, read_csv_table, read_returns};
use qts_data::validate::{Policy, require};

use super::metrics::print;
use super::setup::{load_config, start_logging};
use crate::cli::{BacktestArgs, ExecutionArg, GlobalArgs, SectionFiles};
use crate::failure::Failure;

/// Runs `qts backtest`.
pub fn run(global: &GlobalArgs, args: &BacktestArgs) -> Result<(), Failure> {
    // --cash and --commission are overrides like any --set: validated with the rest.
    let mut global_with = global.clone();
    if let Some(cash) = args.cash {
        global_with
            .overrides
            .push(format!("backtest.initial_capital={cash}"));
    }
    if let Some(c) = args.commission {
        global_with
            .overrides
            .push("backtest.costs.commission_model=percent".into());
        global_with
            .overrides
            .push(format!("backtest.costs.commission_rate={c}"));
    }
    let files = SectionFiles {
        backtest: args.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(&global_with, &files)?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;

    let (series, data_hash) = read_all_hashed(&args.data)?;
    let checked = series
        .into_iter()
        .zip(&args.data)
        .map(|(bars, path)| require(bars, &path.display().to_string(), Policy::of(cfg)))
        .collect::<Result<Vec<_>, _>>()?;
    let market = Market::new(checked)?;
    let symbol = market
        .bars()
        .iter()
        .map(|b| b.symbol.clone())
        .collect::<Vec<_>>()
        .join(",");
    let span = RunContext::new("backtest").symbol(symbol).span();
    let _run = span.enter();

    let mut inputs = Inputs {
        symbols: market.bars().len(),
        signals: match &args.signals {
            Some(path) if args.strategy == "signal" => Some(SignalSeries::from_table(
                &read_csv_table(path)?,
                &market.bars()[0].time,
                &path.display().to_string(),
            )?),
            _ => None,
        },
    };
    let mut strategy = Registry::builtin().build(
        &args.strategy,
        &parse_params(&args.params)?,
        &mut inputs,
        &cfg.backtest.regime_filter,
    )?;
    let execution = match args.execution {
        ExecutionArg::Default => Execution::Default,
        ExecutionArg::BacktestingPy => Execution::BacktestingPy,
    };
    let settings = Settings {
        window: Window {
            from: args.from,
            to: args.to,
        },
        ..Settings::from_config(cfg, execution)
    };
    let bench_series = args.benchmark.as_deref().map(read_returns).transpose()?;
    let bench_name = args.benchmark.as_ref().map(|p| p.display().to_string());
    let benchmark = bench_series
        .as_ref()
        .zip(bench_name.as_deref())
        .map(|(series, source)| Benchmark { series, source });
    let stamp = Stamp::new(
        data_hash,
        cfg.fingerprint(),
        args.data.iter().map(|p| p.display().to_string()).collect(),
    );
    let started = std::time::Instant::now();
    let report = backtest(&market, strategy.as_mut(), &settings, benchmark, stamp)?;
    tracing::info!(
        trades = report.result.trades.len(),
        micros = started.elapsed().as_micros() as u64,
        "backtest finished"
    );

    let json = serde_json::to_value(&report).map_err(|e| Failure::Runtime(e.into()))?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &report, &json)?;
    }
    print(
        &report.selected(&cfg.backtest.metrics.report),
        args.json.then_some(json),
    )?;
    if let Some(dir) = &args.out
        && !args.json
    {
        println!(
            "wrote stats.json, trades.csv and equity.csv to {}",
            dir.display()
        );
    }
    Ok(())
}

/// `--param KEY=VALUE` pairs.
pub fn parse_params(params: &[String]) -> Result<Vec<(String, String)>, Failure> {
    params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    Failure::Input(anyhow!("--param {p}: expected KEY=VALUE, e.g. fast=10"))
                })
        })
        .collect()
}

fn write_outputs(dir: &Path, r: &BacktestReport, stats: &serde_json::Value) -> Result<(), Failure> {
    let write = |name: &str, text: &str| -> Result<(), Failure> {
        let path = dir.join(name);
        qts_core::fs::write_atomic(&path, text.as_bytes())
            .map_err(|e| Failure::Runtime(anyhow!("{}: cannot write: {e}", path.display())))
    };
    let stats = serde_json::to_string_pretty(stats).map_err(|e| Failure::Runtime(e.into()))? + "\n";
    write("stats.json", &stats)?;
    write("trades.csv", &r.trades_csv())?;
    write("equity.csv", &r.equity_csv())
}

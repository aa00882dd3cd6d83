//! Times backtests for `bench/backtest.py`, which runs backtesting.py and vectorbt on the same
//! data in the same run and prints the ratios.
//!
//! `bench_backtest single BARS.csv REPEATS`: SmaCross(10, 20) with backtesting.py's execution
//! rules (cash 10,000, commission 0.002) and the full metrics, best time of REPEATS, through
//! the library's use case (`qts_backtest::backtest` on bars validated once), and again with
//! the bars checked on every run; then the engine and the metrics alone.
//! `bench_backtest grid BARS.csv`: 10,000 SMA pairs (fast 2..=101 × slow fast+1..=fast+100), on
//! all cores.
//! `bench_backtest request BARS.csv REPEATS`: what one `qts.backtest(...)` call from Python
//! does in Rust, best of REPEATS — the bars validated, the request run
//! ([`qts_backtest::request::run`]) and its JSON written — under the same configuration
//! (backtesting.py's rules, cash 10,000, commission 0.002); `bench/python.py` divides the
//! Python call's time by it. Each prints one JSON object.

use std::path::Path;
use std::time::Instant;

use qts_backtest::engine::{EngineConfig, run};
use qts_backtest::grid::sma_grid;
use qts_backtest::report::{Settings, Stamp};
use qts_backtest::strategy::SmaCross;
use qts_backtest::summary::summarize;
use qts_backtest::{Market, backtest};
use qts_config::QtsConfig;
use qts_data::io::read_bars;
use qts_data::validate::{Policy, require};
use qts_stats::metrics::{MetricsConfig, return_metrics, simple_returns};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let bars = read_bars(Path::new(
        args.get(2)
            .ok_or("usage: bench_backtest single|grid BARS.csv [REPEATS]")?,
    ))?;
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    cfg.initial_capital = 10_000.0;
    cfg.costs.commission_rate = 0.002;
    let cfg = cfg.backtesting_py();
    let metrics = MetricsConfig::default();
    match args[1].as_str() {
        "single" => {
            let repeats: usize = args.get(3).map_or(Ok(100), |r| r.parse())?;
            // The library's use case: bars checked once (as a research tool checks them once
            // for thousands of backtests), then backtest + every metric per repeat.
            let qts_cfg = QtsConfig::default();
            let market = Market::new(vec![require(bars.clone(), "bars", Policy::of(&qts_cfg))?])?;
            let settings = Settings {
                engine: cfg.clone(),
                metrics,
                window: Default::default(),
            };
            let mut best = f64::INFINITY;
            let mut final_equity = 0.0;
            let mut n_metrics = 0;
            for _ in 0..repeats {
                let t = Instant::now();
                let report = backtest(
                    &market,
                    &mut SmaCross::new(10, 20)?,
                    &settings,
                    None,
                    Stamp::new(String::new(), String::new(), Vec::new()),
                )?;
                best = best.min(t.elapsed().as_secs_f64());
                final_equity = *report.result.equity.last().unwrap_or(&0.0);
                n_metrics = report.metrics.len();
            }
            // The same with the bars checked on every run (`engine::run`).
            let mut checked_each = f64::INFINITY;
            for _ in 0..repeats {
                let t = Instant::now();
                let r = run(
                    std::slice::from_ref(&bars),
                    &mut SmaCross::new(10, 20)?,
                    &cfg,
                )?;
                let m = summarize(&r, &bars.close, None, &metrics);
                checked_each = checked_each.min(t.elapsed().as_secs_f64());
                assert_eq!(m.len(), n_metrics);
            }
            // Where the time goes: the engine alone, and the metrics alone (best of each).
            let (mut engine, mut stats) = (f64::INFINITY, f64::INFINITY);
            let mut returns_only = f64::INFINITY;
            for _ in 0..repeats {
                let t = Instant::now();
                let r = run(
                    std::slice::from_ref(&bars),
                    &mut SmaCross::new(10, 20)?,
                    &cfg,
                )?;
                engine = engine.min(t.elapsed().as_secs_f64());
                let t = Instant::now();
                let m = summarize(&r, &bars.close, None, &metrics);
                stats = stats.min(t.elapsed().as_secs_f64());
                assert_eq!(m.len(), n_metrics);
                let rets = simple_returns(&r.equity);
                let t = Instant::now();
                let m = return_metrics(&rets, None, &metrics);
                returns_only = returns_only.min(t.elapsed().as_secs_f64());
                assert!(m.len() > 20);
            }
            println!(
                "{{\"secs\": {best:e}, \"secs_checking_bars\": {checked_each:e}, \"final_equity\": {final_equity}, \"metrics\": {n_metrics}, \"engine_secs\": {engine:e}, \"metrics_secs\": {stats:e}, \"return_metrics_secs\": {returns_only:e}}}"
            );
        }
        "grid" => {
            let pairs: Vec<(usize, usize)> = (2..=101)
                .flat_map(|f| (f + 1..=f + 100).map(move |s| (f, s)))
                .collect();
            let t = Instant::now();
            let rows = sma_grid(&bars, &pairs, &cfg, &metrics)?;
            let secs = t.elapsed().as_secs_f64();
            let best = rows
                .iter()
                .map(|r| r.total_return)
                .fold(f64::NEG_INFINITY, f64::max);
            let threads = rayon::current_num_threads();
            println!(
                "{{\"secs\": {secs:e}, \"pairs\": {}, \"best_total_return\": {best}, \"threads\": {threads}}}",
                rows.len()
            );
        }
        "request" => {
            let repeats: usize = args.get(3).map_or(Ok(100), |r| r.parse())?;
            let loaded = qts_config::ConfigLoader::new()
                .override_value("backtest.initial_capital=10000")
                .override_value("backtest.costs.commission_model=percent")
                .override_value("backtest.costs.commission_rate=0.002")
                .load(&qts_core::config::Environment::process())?;
            let qts_cfg = &loaded.config;
            let params = [
                ("fast".to_string(), "10".to_string()),
                ("slow".to_string(), "20".to_string()),
            ];
            let (mut best, mut final_equity) = (f64::INFINITY, 0.0);
            for _ in 0..repeats {
                let t = Instant::now();
                let checked = require(bars.clone(), "bars", Policy::of(qts_cfg))?;
                let market = Market::new(vec![checked])?;
                let settings =
                    Settings::from_config(qts_cfg, qts_backtest::engine::Execution::BacktestingPy);
                let report = qts_backtest::request::run(qts_backtest::request::Request {
                    market: &market,
                    strategy: "sma-cross",
                    params: &params,
                    signals: None,
                    regime: &qts_cfg.backtest.regime_filter,
                    settings: &settings,
                    benchmark: None,
                    stamp: Stamp::new(String::new(), qts_cfg.fingerprint(), Vec::new()),
                    in_sample: false,
                    notes: Vec::new(),
                })?;
                let json = serde_json::to_string(&serde_json::to_value(&report)?)?;
                best = best.min(t.elapsed().as_secs_f64());
                final_equity = *report.result.equity.last().unwrap_or(&0.0);
                assert!(json.len() > 100);
            }
            println!("{{\"secs\": {best:e}, \"final_equity\": {final_equity}}}");
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}

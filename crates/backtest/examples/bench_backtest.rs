//! Times backtests for `bench/backtest.py`, which runs backtesting.py and vectorbt on the same
//! data in the same run and prints the ratios.
//!
//! `bench_backtest single BARS.csv REPEATS`: SmaCross(10, 20) with backtesting.py's execution
//! rules (cash 10,000, commission 0.002) and the full metrics, best time of REPEATS.
//! `bench_backtest grid BARS.csv`: 10,000 SMA pairs (fast 2..=101 × slow fast+1..=fast+100), on
//! all cores. Both print one JSON object.

use std::path::Path;
use std::time::Instant;

use qts_backtest::engine::{EngineConfig, run};
use qts_backtest::grid::sma_grid;
use qts_backtest::metrics::MetricsConfig;
use qts_backtest::strategy::SmaCross;
use qts_backtest::summary::summarize;
use qts_core::config::QtsConfig;
use qts_data::io::read_bars;

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
            let mut best = f64::INFINITY;
            let mut final_equity = 0.0;
            let mut n_metrics = 0;
            for _ in 0..repeats {
                let t = Instant::now();
                let r = run(
                    std::slice::from_ref(&bars),
                    &mut SmaCross::new(10, 20)?,
                    &cfg,
                )?;
                let m = summarize(&r, &bars.close, None, &metrics);
                best = best.min(t.elapsed().as_secs_f64());
                final_equity = *r.equity.last().unwrap_or(&0.0);
                n_metrics = m.len();
            }
            println!(
                "{{\"secs\": {best:e}, \"final_equity\": {final_equity}, \"metrics\": {n_metrics}}}"
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
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}

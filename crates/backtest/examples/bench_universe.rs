//! The engine on a universe, for `bench/universe.sh`: a wide file of closes (empty cells: no
//! bar) and a wide file of forecasts in, a weekly top-`K` equal-weight `rank` portfolio with
//! every metric, the buy-and-hold baseline and the universe statistics (rank IC included)
//! out; the best time of `REPS` runs and the peak memory, as JSON.
//!
//! `bench_universe CLOSES.csv FORECASTS.csv TOP REPS`

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use qts_backtest::engine::EngineConfig;
use qts_backtest::report::{Market, Settings, Stamp, backtest};
use qts_backtest::strategy::rank::{IntervalRule, Weighting};
use qts_backtest::strategy::{Rank, RankRules, SignalSeries};
use qts_config::{CommissionModel, FillPrice, Frequency, QtsConfig, SlippageModel};
use qts_data::settings::{Layout, ReadLimits};
use qts_data::validate::{Policy, require};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (closes, forecasts) = (&args[1], &args[2]);
    let top: usize = args[3].parse().unwrap();
    let reps: usize = args[4].parse().unwrap();
    let limits = ReadLimits {
        max_columns: 100_000,
        ..ReadLimits::default()
    };
    let read_start = Instant::now();
    let (series, _) =
        qts_data::io::read_all_hashed_as(&[closes], &limits, &Layout::default()).unwrap();
    let (predicted, _) =
        qts_data::io::read_all_hashed_as(&[forecasts], &limits, &Layout::default()).unwrap();
    let read_secs = read_start.elapsed().as_secs_f64();
    let cfg = QtsConfig::default();
    let checked = series
        .into_iter()
        .map(|b| {
            let name = b.symbol.clone();
            require(b, &name, Policy::of(&cfg)).unwrap()
        })
        .collect();
    let market = Market::new(checked).unwrap();
    let bars = market.bars();
    let (n, w) = (bars[0].len(), bars.len());
    let mut prediction = vec![f64::NAN; n * w];
    for (s, p) in predicted.iter().enumerate() {
        for (time, value) in p.time.iter().zip(&p.close) {
            let t = bars[0].time.binary_search(time).unwrap();
            prediction[t * w + s] = *value;
        }
    }
    let signals = SignalSeries {
        symbols: bars.iter().map(|b| b.symbol.clone()).collect(),
        prediction,
        ..SignalSeries::default()
    };
    let mut engine = EngineConfig::from_config(&cfg);
    engine.fill_price = FillPrice::Close;
    engine.costs.commission_model = CommissionModel::Percent;
    engine.costs.commission_rate = 0.0005;
    engine.costs.slippage_model = SlippageModel::None;
    engine.costs.max_volume_fraction = 1.0;
    engine.stops.stop_loss.enabled = false;
    engine.stops.circuit_breaker.enabled = false;
    engine.rebalance = Frequency::Weekly;
    engine.fractional_shares = true;
    engine.limits.max_position_fraction = 0.95;
    engine.limits.max_gross_exposure = 0.95;
    engine.strategy_weights = true;
    let settings = Settings {
        engine,
        ..Settings::from_config(&cfg, qts_backtest::Execution::Default)
    };
    let rules = RankRules {
        top,
        bottom: 0,
        weighting: Weighting::Equal,
        drop: f64::INFINITY,
        min_forecast: f64::NEG_INFINITY,
        interval: IntervalRule::Ignore,
        lookback: 20,
    };
    let mut best = f64::INFINITY;
    let mut best_ic = f64::INFINITY;
    let mut last = None;
    for _ in 0..reps {
        let start = Instant::now();
        let mut rank = Rank::new(signals.clone(), rules).unwrap();
        let mut report = backtest(
            &market,
            &mut rank,
            &settings,
            None,
            Stamp::new(String::new(), String::new(), Vec::new()),
        )
        .unwrap();
        let from = report.result.first_bar;
        let until = from + report.result.equity.len();
        let ic_start = Instant::now();
        if let Some(u) = report.universe.as_mut() {
            u.add_forecasts(bars, &signals, from, until);
        }
        best_ic = best_ic.min(ic_start.elapsed().as_secs_f64());
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(report);
    }
    let report = last.unwrap();
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let u = report.universe.as_ref().unwrap();
    println!(
        "{}",
        serde_json::json!({
            "secs": best,
            "rank_ic_secs": best_ic,
            "read_secs": read_secs,
            "bars": n,
            "symbols": w,
            "fills": report.result.fills.len(),
            "equity": report.result.equity,
            "final_equity": report.result.equity.last(),
            "metrics": report.metrics.len(),
            "rank_ic_dates": u.rank_ic.map_or(0, |r| r.dates),
            "peak_rss_mib": peak_kib as f64 / 1024.0,
        })
    );
}

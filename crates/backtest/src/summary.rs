//! A backtest's statistics: the return metrics of its equity curve, the trade metrics, and the
//! account figures (final equity, exposure, turnover, costs, buy-and-hold).

use crate::engine::BacktestResult;
use crate::metrics::{self, Metric, Metrics, MetricsConfig, TradeOutcome, Value};

/// Every metric of a result. `closes` are the first symbol's closes (for buy-and-hold, from
/// the last warm-up bar's close to the end);
/// `bench` the benchmark's returns aligned to the equity's returns.
pub fn summarize(
    r: &BacktestResult,
    closes: &[f64],
    bench: Option<&[f64]>,
    cfg: &MetricsConfig,
) -> Metrics {
    // The closes of the result's span (a backtest window starts at `first_bar`).
    let closes = &closes[r.first_bar.min(closes.len())..];
    let closes = &closes[..r.equity.len().min(closes.len())];
    let returns = metrics::simple_returns(&r.equity);
    let mut m = metrics::return_metrics(&returns, bench, cfg);
    let outcomes: Vec<TradeOutcome> = r
        .trades
        .iter()
        .map(|t| TradeOutcome {
            pnl: t.pnl,
            ret: t.ret,
            duration_days: t.duration_days,
        })
        .collect();
    m.extend(metrics::trade_metrics(&outcomes));
    let first = r.equity.first().copied().unwrap_or(f64::NAN);
    let last = r.equity.last().copied().unwrap_or(f64::NAN);
    let n = |v: f64| Value::Number(v);
    m.insert(Metric::FinalEquity, n(last));
    m.insert(Metric::TotalReturn, n(last / first - 1.0));
    m.insert(Metric::ExposureTime, n(r.exposure_time));
    let traded: f64 = r.fills.iter().map(|f| (f.size * f.price).abs()).sum();
    let mean_equity = metrics::stats::mean(&r.equity);
    let years = r.equity.len() as f64 / cfg.periods_per_year;
    m.insert(Metric::Turnover, n(traded / mean_equity / years));
    let costs: f64 = r.fills.iter().map(|f| f.commission + f.slippage).sum();
    m.insert(Metric::TotalCosts, n(costs));
    m.insert(
        Metric::TotalCommission,
        n(r.fills.iter().map(|f| f.commission).sum()),
    );
    // From the last warm-up bar's close, as backtesting.py: the return of holding over the
    // span the strategy could trade.
    let start = r
        .first_decision_bar
        .saturating_sub(1)
        .min(closes.len().saturating_sub(1));
    let bh = match (closes.get(start), closes.last()) {
        (Some(a), Some(b)) => b / a - 1.0,
        _ => f64::NAN,
    };
    m.insert(Metric::BuyAndHoldReturn, n(bh));
    m.insert(Metric::NumBars, Value::Count(r.equity.len() as u64));
    m
}

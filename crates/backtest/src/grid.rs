//! Parameter grids: many backtests of one strategy family over the same bars, in parallel.

use qts_data::BarSeries;
use rayon::prelude::*;
use serde::Serialize;

use crate::engine::{EngineConfig, run_checked};
use crate::error::BacktestError;
use crate::metrics::{MetricsConfig, returns, simple_returns};
use crate::strategy::SmaCross;

/// One grid point's headline numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRow {
    /// Fast period.
    pub fast: usize,
    /// Slow period.
    pub slow: usize,
    /// Final equity.
    pub final_equity: f64,
    /// Total return.
    pub total_return: f64,
    /// Sharpe ratio.
    pub sharpe_ratio: f64,
    /// Max drawdown.
    pub max_drawdown: f64,
    /// Closed trades.
    pub num_trades: usize,
}

/// Backtests an SMA crossover for every `(fast, slow)` pair, on all cores (rayon's pool).
///
/// # Errors
/// [`BacktestError`] for a pair with `fast ≥ slow` or unusable bars.
pub fn sma_grid(
    bars: &BarSeries,
    pairs: &[(usize, usize)],
    cfg: &EngineConfig,
    metrics: &MetricsConfig,
) -> Result<Vec<GridRow>, BacktestError> {
    let bars = std::slice::from_ref(bars);
    crate::engine::check_bars(bars)?;
    pairs
        .par_iter()
        .map(|&(fast, slow)| {
            let r = run_checked(bars, &mut SmaCross::new(fast, slow)?, cfg)?;
            let rets = simple_returns(&r.equity);
            let last = *r.equity.last().unwrap_or(&f64::NAN);
            Ok(GridRow {
                fast,
                slow,
                final_equity: last,
                total_return: last / cfg.initial_capital - 1.0,
                sharpe_ratio: returns::sharpe_ratio(
                    &rets,
                    metrics.risk_free_per_period(),
                    metrics.periods_per_year,
                ),
                max_drawdown: returns::max_drawdown(&rets),
                num_trades: r.trades.len(),
            })
        })
        .collect()
}

//! Metrics of a trade list, defined as backtesting.py defines them where it has them.

use super::stats::{mean, std};

/// A closed trade's outcome as the trade metrics need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeOutcome {
    /// Profit or loss in cash, after commissions.
    pub pnl: f64,
    /// Return as a fraction of the entry value, after commissions.
    pub ret: f64,
    /// Holding time in calendar days.
    pub duration_days: f64,
}

/// Share of trades with a positive P&L.
pub fn win_rate(t: &[TradeOutcome]) -> f64 {
    if t.is_empty() {
        return f64::NAN;
    }
    t.iter().filter(|x| x.pnl > 0.0).count() as f64 / t.len() as f64
}

/// The geometric mean trade return: `(∏(1 + r))^(1/n) − 1` (backtesting.py's "Avg. Trade";
/// like it, 0 when a trade lost everything, where the geometric mean is undefined).
pub fn avg_trade(t: &[TradeOutcome]) -> f64 {
    if t.is_empty() {
        return f64::NAN;
    }
    if t.iter().any(|x| x.ret <= -1.0) {
        return 0.0;
    }
    let log_mean = t.iter().map(|x| x.ret.ln_1p()).sum::<f64>() / t.len() as f64;
    log_mean.exp() - 1.0
}

fn returns_where(t: &[TradeOutcome], keep: impl Fn(f64) -> bool) -> Vec<f64> {
    t.iter().map(|x| x.ret).filter(|r| keep(*r)).collect()
}

/// Mean return of winning trades.
pub fn avg_win(t: &[TradeOutcome]) -> f64 {
    mean(&returns_where(t, |r| r > 0.0))
}

/// Mean return of losing trades (negative).
pub fn avg_loss(t: &[TradeOutcome]) -> f64 {
    mean(&returns_where(t, |r| r < 0.0))
}

/// Average win over |average loss|.
pub fn payoff_ratio(t: &[TradeOutcome]) -> f64 {
    avg_win(t) / avg_loss(t).abs()
}

/// Sum of winning trade returns over |sum of losing trade returns|.
pub fn profit_factor(t: &[TradeOutcome]) -> f64 {
    let gains: f64 = returns_where(t, |r| r > 0.0).iter().sum();
    let losses: f64 = returns_where(t, |r| r < 0.0).iter().sum::<f64>().abs();
    if losses == 0.0 {
        f64::NAN
    } else {
        gains / losses
    }
}

/// The arithmetic mean trade return.
pub fn expectancy(t: &[TradeOutcome]) -> f64 {
    mean(&t.iter().map(|x| x.ret).collect::<Vec<_>>())
}

/// Van Tharp's system quality number: √n × mean P&L / std P&L (n − 1).
pub fn sqn(t: &[TradeOutcome]) -> f64 {
    let pnl: Vec<f64> = t.iter().map(|x| x.pnl).collect();
    let sd = std(&pnl, 1);
    if sd.is_nan() || sd <= 0.0 {
        return f64::NAN;
    }
    (t.len() as f64).sqrt() * mean(&pnl) / sd
}

/// Kelly fraction from the trade P&Ls: `W − (1 − W) / (mean win / mean |loss|)`.
pub fn kelly_criterion(t: &[TradeOutcome]) -> f64 {
    let w = win_rate(t);
    let wins: Vec<f64> = t.iter().map(|x| x.pnl).filter(|p| *p > 0.0).collect();
    let losses: Vec<f64> = t.iter().map(|x| -x.pnl).filter(|p| *p > 0.0).collect();
    w - (1.0 - w) / (mean(&wins) / mean(&losses))
}

/// Longest streaks of winning and losing trades.
pub fn max_consecutive(t: &[TradeOutcome]) -> (usize, usize) {
    let (mut wins, mut losses, mut w, mut l) = (0, 0, 0, 0);
    for x in t {
        if x.pnl > 0.0 {
            w += 1;
            l = 0;
        } else if x.pnl < 0.0 {
            l += 1;
            w = 0;
        } else {
            w = 0;
            l = 0;
        }
        wins = wins.max(w);
        losses = losses.max(l);
    }
    (wins, losses)
}

/// Mean holding time in calendar days.
pub fn avg_trade_duration(t: &[TradeOutcome]) -> f64 {
    mean(&t.iter().map(|x| x.duration_days).collect::<Vec<_>>())
}

//! Performance metrics: 30+ numbers from an equity curve, a trade list and optionally a
//! benchmark. Each metric is a small pure function ([`returns`], [`trades`]); [`compute`]
//! gathers them under their public JSON keys (empyrical's names where empyrical has the
//! metric). Ratios and returns are fractions, not percent.

pub mod returns;
pub use qts_core::stats;
pub mod trades;

use std::collections::BTreeMap;

use serde::Serialize;

pub use trades::TradeOutcome;

/// Inputs that are not the return series itself.
#[derive(Debug, Clone, Copy)]
pub struct MetricsConfig {
    /// Periods a year (252 for daily bars).
    pub periods_per_year: f64,
    /// Annual risk-free rate; converted to `(1 + R)^(1/periods) − 1` per period.
    pub risk_free_annual: f64,
    /// Confidence of VaR and CVaR (0.95: the 5% tail).
    pub var_confidence: f64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            periods_per_year: 252.0,
            risk_free_annual: 0.0,
            var_confidence: 0.95,
        }
    }
}

impl MetricsConfig {
    /// The settings of `backtest.metrics`.
    pub fn from_config(m: &qts_core::config::MetricsConfig) -> MetricsConfig {
        MetricsConfig {
            periods_per_year: f64::from(m.periods_per_year),
            risk_free_annual: m.risk_free_rate,
            var_confidence: m.var_confidence,
        }
    }

    /// The risk-free return per period.
    pub fn risk_free_per_period(&self) -> f64 {
        (1.0 + self.risk_free_annual).powf(1.0 / self.periods_per_year) - 1.0
    }
}

/// A metric's value: a number, or a count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A real number; NaN and infinities serialise as `null`.
    Number(#[serde(serialize_with = "finite_or_null")] f64),
    /// A count.
    Count(u64),
}

fn finite_or_null<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

impl Value {
    /// The value as f64.
    pub fn as_f64(&self) -> f64 {
        match self {
            Value::Number(v) => *v,
            Value::Count(c) => *c as f64,
        }
    }
}

/// Metrics by name, in a stable order.
pub type Metrics = BTreeMap<&'static str, Value>;

/// The return-based metrics of `r` (and against `bench` when given, aligned period by period).
pub fn return_metrics(r: &[f64], bench: Option<&[f64]>, cfg: &MetricsConfig) -> Metrics {
    use returns::*;
    let p = cfg.periods_per_year;
    let rf = cfg.risk_free_per_period();
    let cutoff = 1.0 - cfg.var_confidence;
    let n = |v: f64| Value::Number(v);
    // Sorted returns and drawdowns serve several metrics each: computed once.
    let mut sorted = r.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let dd = drawdowns(r);
    let mdd = max_drawdown_of(&dd);
    let mut m = Metrics::new();
    m.insert("total_return", n(total_return(r)));
    m.insert("annual_return", n(annual_return(r, p)));
    m.insert("cagr", n(annual_return(r, p)));
    m.insert("annual_volatility", n(annual_volatility(r, p)));
    m.insert("sharpe_ratio", n(sharpe_ratio(r, rf, p)));
    m.insert("sortino_ratio", n(sortino_ratio(r, rf, p)));
    m.insert("downside_risk", n(downside_risk(r, rf, p)));
    m.insert("calmar_ratio", n(calmar_from(r, mdd, p)));
    m.insert("omega_ratio", n(omega_ratio(r, rf)));
    m.insert("max_drawdown", n(max_drawdown(r)));
    m.insert(
        "max_drawdown_duration",
        Value::Count(max_drawdown_duration(r) as u64),
    );
    m.insert("average_drawdown", n(average_drawdown(r)));
    m.insert("ulcer_index", n(ulcer_index(r)));
    m.insert("value_at_risk", n(value_at_risk(r, cutoff)));
    m.insert(
        "conditional_value_at_risk",
        n(conditional_value_at_risk(r, cutoff)),
    );
    m.insert("skew", n(stats::skew(r)));
    m.insert("kurtosis", n(stats::kurtosis(r)));
    m.insert("tail_ratio", n(tail_ratio_sorted(&sorted)));
    m.insert("stability_of_timeseries", n(stability_of_timeseries(r)));
    m.insert("best_day", n(sorted.last().copied().unwrap_or(f64::NAN)));
    m.insert("worst_day", n(sorted.first().copied().unwrap_or(f64::NAN)));
    if let Some(b) = bench {
        m.insert("alpha", n(alpha(r, b, rf, p)));
        m.insert("beta", n(beta(r, b, rf)));
        m.insert("information_ratio", n(information_ratio(r, b)));
    }
    m
}

/// The trade-based metrics.
pub fn trade_metrics(t: &[TradeOutcome]) -> Metrics {
    use trades::*;
    let n = |v: f64| Value::Number(v);
    let mut m = Metrics::new();
    let rets: Vec<f64> = t.iter().map(|x| x.ret).collect();
    m.insert("num_trades", Value::Count(t.len() as u64));
    m.insert("win_rate", n(win_rate(t)));
    m.insert(
        "best_trade",
        n(rets.iter().copied().fold(f64::NAN, f64::max)),
    );
    m.insert(
        "worst_trade",
        n(rets.iter().copied().fold(f64::NAN, f64::min)),
    );
    m.insert("avg_trade", n(avg_trade(t)));
    m.insert("avg_win", n(avg_win(t)));
    m.insert("avg_loss", n(avg_loss(t)));
    m.insert("payoff_ratio", n(payoff_ratio(t)));
    m.insert("profit_factor", n(profit_factor(t)));
    m.insert("expectancy", n(expectancy(t)));
    m.insert("sqn", n(sqn(t)));
    m.insert("kelly_criterion", n(kelly_criterion(t)));
    let (w, l) = max_consecutive(t);
    m.insert("max_consecutive_wins", Value::Count(w as u64));
    m.insert("max_consecutive_losses", Value::Count(l as u64));
    m.insert("avg_trade_duration", n(avg_trade_duration(t)));
    m
}

pub use qts_data::io::simple_returns;

/// The benchmark's returns on each of `time`'s dates (as simple returns between those dates);
/// `source` names the benchmark in the error.
///
/// # Errors
/// [`crate::BacktestError::Input`] naming the first date the benchmark lacks.
pub fn align_benchmark(
    time: &[chrono::NaiveDateTime],
    bench: &qts_data::io::ReturnSeries,
    source: &str,
) -> Result<Vec<f64>, crate::BacktestError> {
    time.iter()
        .map(|t| {
            bench
                .time
                .binary_search(t)
                .map(|i| bench.returns[i])
                .map_err(|_| crate::BacktestError::Input {
                    path: source.to_string(),
                    reason: format!("no benchmark return for {}", t.date()),
                })
        })
        .collect()
}

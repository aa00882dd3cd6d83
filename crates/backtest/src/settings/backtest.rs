//! `backtest_config.yaml`: capital, execution, costs, sizing, stops, the regime filter, metrics,
//! walk-forward and Monte Carlo settings. Loaded under the `backtest` key.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, Validate, join};

/// `backtest`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktestConfig {
    /// Starting cash in the account currency.
    #[default(100_000.0)]
    pub initial_capital: f64,
    /// Whether cash dividends are paid to positions (raw and split-adjusted prices; on
    /// total-return prices they are in the price) and counted in buy-and-hold.
    #[default(true)]
    pub dividends: bool,
    /// Order execution.
    pub execution: ExecutionConfig,
    /// Commission and slippage.
    pub costs: CostsConfig,
    /// Position sizing.
    pub position_sizing: SizingConfig,
    /// Stops, take-profit and the drawdown circuit breaker.
    pub risk: StopsConfig,
    /// Trade only when the price is above its moving average.
    pub regime_filter: RegimeFilterConfig,
    /// Performance metrics.
    pub metrics: MetricsConfig,
    /// Walk-forward analysis.
    pub walk_forward: WalkForwardConfig,
    /// Monte Carlo confidence intervals.
    pub monte_carlo: MonteCarloConfig,
}

/// The price a market order fills at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillPrice {
    /// The next bar's open: the signal's bar is complete before the order exists.
    NextOpen,
    /// The signal bar's close (optimistic: assumes trading at the print that made the signal).
    Close,
}

/// `backtest.execution`. The rebalancing schedule, shorting and fractional shares are account
/// settings under `trading` in `base_config.yaml`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionConfig {
    /// Fill price of market orders.
    #[default(FillPrice::NextOpen)]
    pub fill_price: FillPrice,
    /// Borrowing allowed beyond cash, as a multiple of equity (0: cash never goes negative).
    #[default(0.0)]
    pub margin: f64,
}

/// How commission is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommissionModel {
    /// `rate` × traded value.
    Percent,
    /// `per_share` × shares, at least `minimum`.
    PerShare,
    /// `fixed` per order.
    Fixed,
}

/// How slippage moves the fill price against the trader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlippageModel {
    /// None.
    None,
    /// `bps` basis points.
    FixedBps,
    /// `volatility_fraction` × the bar's recent daily volatility.
    VolatilityScaled,
}

/// `backtest.costs`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostsConfig {
    /// Commission model.
    #[default(CommissionModel::Percent)]
    pub commission_model: CommissionModel,
    /// Fraction of traded value (`percent`).
    #[default(0.0005)]
    pub commission_rate: f64,
    /// Dollars per share (`per_share`).
    #[default(0.005)]
    pub commission_per_share: f64,
    /// Least commission per order (`per_share`).
    #[default(1.0)]
    pub commission_minimum: f64,
    /// Dollars per order (`fixed`).
    #[default(0.0)]
    pub commission_fixed: f64,
    /// Slippage model.
    #[default(SlippageModel::FixedBps)]
    pub slippage_model: SlippageModel,
    /// Basis points (`fixed_bps`).
    #[default(5.0)]
    pub slippage_bps: f64,
    /// Multiple of daily volatility (`volatility_scaled`).
    #[default(0.1)]
    pub slippage_volatility_fraction: f64,
    /// Largest share of a bar's volume one order may take; the rest is not filled.
    #[default(0.025)]
    pub max_volume_fraction: f64,
}

/// Position sizing methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizingMethod {
    /// A fixed fraction of equity per position.
    FixedFractional,
    /// Scale each position to a target annualised volatility.
    VolatilityScaled,
    /// Fractional Kelly from the estimated edge, capped.
    Kelly,
    /// Inverse-volatility weights across symbols.
    RiskParity,
}

/// `backtest.position_sizing`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SizingConfig {
    /// The method.
    #[default(SizingMethod::VolatilityScaled)]
    pub method: SizingMethod,
    /// Fraction of equity (`fixed_fractional`).
    #[default(0.10)]
    pub fixed_fraction: f64,
    /// Target annualised volatility (`volatility_scaled`, `risk_parity`).
    #[default(0.15)]
    pub target_volatility: f64,
    /// Bars in the volatility estimate.
    #[default(20)]
    pub volatility_lookback: usize,
    /// Fraction of the full Kelly bet (`kelly`); ½ is the usual compromise.
    #[default(0.5)]
    pub kelly_fraction: f64,
    /// Largest Kelly position as a fraction of equity.
    #[default(0.25)]
    pub kelly_cap: f64,
    /// Shrink a position as the signal's forecast interval widens.
    #[default(true)]
    pub shrink_by_interval: bool,
}

/// A stop or target given as a fraction of the entry price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PercentRule {
    /// Whether the rule is active.
    pub enabled: bool,
    /// Distance from the entry (or, for a trailing stop, the best price) as a fraction.
    pub pct: f64,
}

impl PercentRule {
    fn new(enabled: bool, pct: f64) -> Self {
        PercentRule { enabled, pct }
    }
}

impl Default for PercentRule {
    fn default() -> Self {
        PercentRule::new(false, 0.05)
    }
}

/// `backtest.risk.atr_stop`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AtrStop {
    /// Whether the stop is active.
    #[default(false)]
    pub enabled: bool,
    /// ATR period (Wilder).
    #[default(14)]
    pub period: usize,
    /// Stop distance in ATRs below the entry.
    #[default(3.0)]
    pub multiple: f64,
}

/// `backtest.risk.circuit_breaker`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Whether the breaker is armed.
    #[default(true)]
    pub enabled: bool,
    /// Drawdown from the equity peak that flattens every position.
    #[default(0.20)]
    pub max_drawdown: f64,
    /// Trading days to stand aside after it trips.
    #[default(20)]
    pub cooldown_days: u32,
}

/// `backtest.risk`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopsConfig {
    /// Fixed stop-loss below the entry.
    #[default(PercentRule::new(true, 0.08))]
    pub stop_loss: PercentRule,
    /// Take-profit above the entry.
    #[default(PercentRule::new(false, 0.20))]
    pub take_profit: PercentRule,
    /// Trailing stop below the best price since entry.
    #[default(PercentRule::new(false, 0.10))]
    pub trailing_stop: PercentRule,
    /// Stop a multiple of ATR below the entry.
    pub atr_stop: AtrStop,
    /// Drawdown circuit breaker.
    pub circuit_breaker: CircuitBreaker,
}

/// Moving-average kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaKind {
    /// Simple.
    Sma,
    /// Exponential.
    Ema,
}

/// `backtest.regime_filter`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegimeFilterConfig {
    /// Whether the filter wraps the strategy.
    #[default(false)]
    pub enabled: bool,
    /// Moving-average kind.
    #[default(MaKind::Sma)]
    pub ma: MaKind,
    /// Moving-average period.
    #[default(200)]
    pub period: usize,
}

/// Names of the metrics qts computes; also the JSON keys of results (empyrical's names where
/// empyrical has the metric): the names of [`qts_stats::metrics::Metric`], its one table.
pub const KNOWN_METRICS: &[&str] = <qts_stats::metrics::Metric as strum::VariantNames>::VARIANTS;

/// `backtest.metrics`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Metrics to report; an empty list means all.
    pub report: Vec<String>,
    /// Annual risk-free rate for Sharpe, Sortino and alpha.
    #[default(0.0)]
    pub risk_free_rate: f64,
    /// Periods a year used to annualise (252 trading days).
    #[default(252)]
    pub periods_per_year: u32,
    /// Confidence level of VaR and CVaR.
    #[default(0.95)]
    pub var_confidence: f64,
    /// Benchmark symbol or file for alpha, beta and the information ratio (empty: none).
    pub benchmark: String,
}

/// `backtest.walk_forward`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalkForwardConfig {
    /// Bars in each training window (`--train` of `qts walk-forward` and `qts run`).
    #[default(756)]
    pub train_days: usize,
    /// Bars in each test window (`--test`).
    #[default(252)]
    pub test_days: usize,
    /// Bars between test windows' starts (`--step`; usually `test_days`).
    #[default(252)]
    pub step_days: usize,
    /// Anchored (expanding) training windows instead of rolling ones (`--anchored`).
    #[default(false)]
    pub anchored: bool,
}

/// How Monte Carlo paths are drawn (`--method` of `qts monte-carlo`): the statistics
/// crate's, whose names this section reads.
pub use qts_stats::monte_carlo::ResampleMethod;

/// `backtest.monte_carlo`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonteCarloConfig {
    /// Paths of `qts monte-carlo` (`--paths`; `qts run` draws its own `--paths`).
    #[default(10_000)]
    pub simulations: usize,
    /// Two-sided coverage of the reported intervals (`--level`; `qts run` too).
    #[default(0.95)]
    pub confidence: f64,
    /// How `qts monte-carlo` draws paths (`--method`; `qts run` always draws blocks).
    #[default(ResampleMethod::Iid)]
    pub method: ResampleMethod,
    /// Mean block length in bars of the block bootstrap (`--block-size`; `qts run` too).
    #[default(20)]
    pub block_size: usize,
}

impl Validate for BacktestConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        c.positive(at, "initial_capital", self.initial_capital);
        c.within(at, "execution.margin", self.execution.margin, 0.0, 10.0);

        let k = join(at, "costs");
        let costs = &self.costs;
        c.within(&k, "commission_rate", costs.commission_rate, 0.0, 0.1);
        c.non_negative(&k, "commission_per_share", costs.commission_per_share);
        c.non_negative(&k, "commission_minimum", costs.commission_minimum);
        c.non_negative(&k, "commission_fixed", costs.commission_fixed);
        c.within(&k, "slippage_bps", costs.slippage_bps, 0.0, 1000.0);
        c.non_negative(
            &k,
            "slippage_volatility_fraction",
            costs.slippage_volatility_fraction,
        );
        c.positive_fraction(&k, "max_volume_fraction", costs.max_volume_fraction);

        let k = join(at, "position_sizing");
        let s = &self.position_sizing;
        c.positive_fraction(&k, "fixed_fraction", s.fixed_fraction);
        c.within(&k, "target_volatility", s.target_volatility, 0.0, 5.0);
        c.positive(&k, "target_volatility", s.target_volatility);
        if s.volatility_lookback < 2 {
            c.fail(&k, "volatility_lookback", "must be at least 2");
        }
        c.positive_fraction(&k, "kelly_fraction", s.kelly_fraction);
        c.positive_fraction(&k, "kelly_cap", s.kelly_cap);

        let k = join(at, "risk");
        let r = &self.risk;
        for (name, rule) in [
            ("stop_loss", &r.stop_loss),
            ("trailing_stop", &r.trailing_stop),
        ] {
            if !(rule.pct > 0.0 && rule.pct < 1.0) {
                let msg = format!("must be greater than 0 and less than 1, got {}", rule.pct);
                c.fail(&k, &format!("{name}.pct"), msg);
            }
        }
        c.positive(&k, "take_profit.pct", r.take_profit.pct);
        c.positive(&k, "atr_stop.period", r.atr_stop.period);
        c.positive(&k, "atr_stop.multiple", r.atr_stop.multiple);
        let cb = &r.circuit_breaker;
        c.positive_fraction(&k, "circuit_breaker.max_drawdown", cb.max_drawdown);

        if self.regime_filter.period < 2 {
            c.fail(at, "regime_filter.period", "must be at least 2");
        }

        let k = join(at, "metrics");
        let m = &self.metrics;
        for (i, name) in m.report.iter().enumerate() {
            if !KNOWN_METRICS.contains(&name.as_str()) {
                c.fail(
                    &k,
                    &format!("report[{i}]"),
                    format!("unknown metric `{name}`"),
                );
            }
        }
        c.within(&k, "risk_free_rate", m.risk_free_rate, -0.1, 1.0);
        c.positive(&k, "periods_per_year", m.periods_per_year);
        if !(m.var_confidence > 0.5 && m.var_confidence < 1.0) {
            c.fail(
                &k,
                "var_confidence",
                "must be between 0.5 and 1 (exclusive)",
            );
        }

        let k = join(at, "walk_forward");
        let w = &self.walk_forward;
        c.positive(&k, "train_days", w.train_days);
        c.positive(&k, "test_days", w.test_days);
        c.positive(&k, "step_days", w.step_days);

        let k = join(at, "monte_carlo");
        let mc = &self.monte_carlo;
        c.positive(&k, "simulations", mc.simulations);
        if !(mc.confidence > 0.0 && mc.confidence < 1.0) {
            c.fail(&k, "confidence", "must be between 0 and 1 (exclusive)");
        }
        c.positive(&k, "block_size", mc.block_size);
    }
}

//! The backtest crate's settings: `backtest_config.yaml` (under `backtest`), and `trading` and
//! `risk` of `base_config.yaml`.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, Validate};

mod backtest;

pub use backtest::*;

/// The sections of the configuration a backtest reads. The whole configuration
/// (`qts_config::QtsConfig`) is one.
pub trait BacktestSettings {
    /// `backtest_config.yaml`.
    fn backtest(&self) -> &BacktestConfig;
    /// `trading`.
    fn trading(&self) -> &TradingConfig;
    /// `risk`.
    fn risk(&self) -> &RiskLimits;
    /// The price basis the bars are read on (`data.adjustment`).
    fn price_basis(&self) -> qts_data::actions::Basis {
        qts_data::actions::Basis::default()
    }
}

/// How often positions are rebalanced.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Frequency {
    /// Every bar.
    Daily,
    /// Once a week, on `rebalance_weekday` (or the next trading day).
    Weekly,
    /// On the first trading day of each month.
    Monthly,
    /// Only when the strategy's target changes (at the next open): a position is never
    /// resized in between (buy-and-hold's rule).
    Signal,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
}

/// `trading`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TradingConfig {
    /// The symbols traded.
    #[default(vec!["AAPL".into(), "MSFT".into()])]
    pub symbols: Vec<String>,
    /// Rebalancing schedule.
    #[default(Frequency::Weekly)]
    pub rebalance: Frequency,
    /// Day of a weekly rebalance.
    #[default(Weekday::Monday)]
    pub rebalance_weekday: Weekday,
    /// Whether short positions are allowed.
    #[default(false)]
    pub allow_short: bool,
    /// Whether fractional shares can be traded.
    #[default(false)]
    pub fractional_shares: bool,
}

impl Validate for TradingConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        for (i, s) in self.symbols.iter().enumerate() {
            let ok = !s.is_empty()
                && s.len() <= 12
                && s.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ".-^=".contains(ch));
            if !ok {
                c.fail(
                    at,
                    &format!("symbols[{i}]"),
                    format!("`{s}` is not a ticker symbol"),
                );
            }
        }
    }
}

/// `risk`: account-wide hard limits that every strategy and backtest obeys.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskLimits {
    /// Largest position as a fraction of equity.
    #[default(0.25)]
    pub max_position_fraction: f64,
    /// Largest sum of |position values| as a multiple of equity (1 = no leverage).
    #[default(1.0)]
    pub max_gross_exposure: f64,
    /// Drawdown from the equity peak at which trading stops.
    #[default(0.25)]
    pub max_drawdown: f64,
}

impl Validate for RiskLimits {
    fn validate(&self, at: &str, c: &mut Checks) {
        c.positive_fraction(at, "max_position_fraction", self.max_position_fraction);
        c.within(at, "max_gross_exposure", self.max_gross_exposure, 0.0, 10.0);
        c.positive(at, "max_gross_exposure", self.max_gross_exposure);
        c.positive_fraction(at, "max_drawdown", self.max_drawdown);
        if self.max_position_fraction > self.max_gross_exposure {
            c.fail(
                at,
                "max_position_fraction",
                format!(
                    "must not exceed {at}.max_gross_exposure ({}), got {}",
                    self.max_gross_exposure, self.max_position_fraction
                ),
            );
        }
    }
}

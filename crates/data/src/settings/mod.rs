//! The data crate's settings: `data_sources.yaml` (providers, limits, quality checks,
//! features, cache; under `data`), `validation` of `base_config.yaml`, and a model file's
//! `data` section (windows, target, splits), which the datasets read.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, Validate};

mod sources;

pub use sources::*;

/// The sections of the configuration this crate reads. The whole configuration
/// (`qts_config::QtsConfig`) is one; a caller with only these sections can be another.
pub trait DataSettings {
    /// `data_sources.yaml`.
    fn data(&self) -> &DataSourcesConfig;
    /// `validation`.
    fn validation(&self) -> &ValidationConfig;
}

/// `validation`: thresholds of the data quality checks.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    /// Largest tolerated share of missing trading days before a finding is an error.
    #[default(0.05)]
    pub missing_data_threshold: f64,
    /// A daily return further than this many standard deviations from the mean is an outlier.
    #[default(4.0)]
    pub outlier_zscore: f64,
    /// A return outside `[Q1 - k·IQR, Q3 + k·IQR]` is an outlier; this is `k`.
    #[default(3.0)]
    pub outlier_iqr_multiplier: f64,
    /// Age of the last bar, in trading days, beyond which data is stale.
    #[default(3)]
    pub max_staleness_days: u32,
    /// Overnight moves within this relative distance of a split ratio are flagged.
    #[default(0.05)]
    pub split_tolerance: f64,
}

impl Validate for ValidationConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        c.fraction(at, "missing_data_threshold", self.missing_data_threshold);
        c.positive(at, "outlier_zscore", self.outlier_zscore);
        c.positive(at, "outlier_iqr_multiplier", self.outlier_iqr_multiplier);
        c.within(at, "split_tolerance", self.split_tolerance, 0.0, 0.5);
    }
}

/// What the network predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Next bar's simple return (regression).
    NextReturn,
    /// Sign of the next bar's return (classification).
    Direction,
    /// Return over `horizon` bars (regression).
    HorizonReturn,
}

/// Feature normalisation, fitted on the training split only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// None.
    None,
    /// (x − mean) / std.
    Zscore,
    /// To [0, 1] by the training minimum and maximum.
    MinMax,
    /// (x − median) / IQR.
    Robust,
}

/// `model.data`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelDataConfig {
    /// Bars in each input window.
    #[default(60)]
    pub lookback: usize,
    /// Prediction target.
    #[default(Target::NextReturn)]
    pub target: Target,
    /// Bars ahead for `horizon_return`.
    #[default(1)]
    pub horizon: usize,
    /// Normalisation.
    #[default(Normalization::Zscore)]
    pub normalization: Normalization,
    /// Share of bars for training (the oldest).
    #[default(0.7)]
    pub train_fraction: f64,
    /// Share of bars for validation (the next).
    #[default(0.15)]
    pub validation_fraction: f64,
    /// Bars dropped between splits; at least `lookback` so no window spans two splits.
    #[default(60)]
    pub purge_gap: usize,
}

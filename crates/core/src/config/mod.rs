//! Configuration: typed sections, YAML files with `${VAR}` interpolation, `--set` overrides and
//! validation that reports every problem at once.
//!
//! The merged tree has one key per section of `base_config.yaml` (`logging`, `compute`, …) and
//! one key per other file: `data` (`data_sources.yaml`), `backtest` (`backtest_config.yaml`)
//! and `model` (a file of `model_configs/`). Layers apply in order: built-in defaults, then the
//! files, then `--set section.key=value` overrides.
//!
//! ```
//! use qts_core::config::{ConfigLoader, Environment};
//!
//! let env = Environment::from_vars([("QTS_SEED", "7")]);
//! let loaded = ConfigLoader::new()
//!     .override_value("reproducibility.seed=${QTS_SEED}")
//!     .override_value("backtest.initial_capital=250000")
//!     .load(&env)
//!     .unwrap();
//! assert_eq!(loaded.config.reproducibility.seed, 7);
//! assert_eq!(loaded.config.backtest.initial_capital, 250_000.0);
//! ```

mod backtest;
mod base;
mod checks;
mod data_sources;
mod interpolate;
mod load;
mod model;
mod path;
mod problem;
mod redact;
mod yaml;

use serde::{Deserialize, Serialize};

pub use backtest::*;
pub use base::*;
pub use checks::{Checks, Validate};
pub use data_sources::*;
pub use interpolate::{DotenvError, EnvSource, Environment, is_secret_name};
pub use load::{ConfigLoader, ConfigRequest, Loaded, Section};
pub use model::*;
pub use problem::{ConfigError, Origins, Problem, Source};
pub use redact::{REDACTED, Redactor, Secret};

/// The whole effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct QtsConfig {
    /// Log levels and sinks.
    pub logging: LoggingConfig,
    /// Devices and threads.
    pub compute: ComputeConfig,
    /// Seeds.
    pub reproducibility: ReproducibilityConfig,
    /// Data-quality thresholds.
    pub validation: ValidationConfig,
    /// Universe and schedule.
    pub trading: TradingConfig,
    /// Account-wide risk limits.
    pub risk: RiskLimits,
    /// Experiment tracking.
    pub mlflow: MlflowConfig,
    /// Alerts.
    pub monitoring: MonitoringConfig,
    /// The paper-trading account.
    pub paper: PaperConfig,
    /// The local model registry.
    pub registry: RegistryConfig,
    /// `data_sources.yaml`.
    pub data: DataSourcesConfig,
    /// `backtest_config.yaml`.
    pub backtest: BacktestConfig,
    /// A model configuration.
    pub model: ModelConfig,
}

impl Validate for QtsConfig {
    fn validate(&self, _at: &str, c: &mut Checks) {
        self.logging.validate("logging", c);
        self.compute.validate("compute", c);
        self.validation.validate("validation", c);
        self.trading.validate("trading", c);
        self.risk.validate("risk", c);
        self.mlflow.validate("mlflow", c);
        self.monitoring.validate("monitoring", c);
        self.paper.validate("paper", c);
        self.registry.validate("registry", c);
        self.data.validate("data", c);
        self.backtest.validate("backtest", c);
        self.model.validate("model", c);
        // Relations across files.
        let cb = &self.backtest.risk.circuit_breaker;
        if cb.enabled && cb.max_drawdown > self.risk.max_drawdown {
            c.fail(
                "backtest.risk.circuit_breaker",
                "max_drawdown",
                format!(
                    "must not exceed the account limit risk.max_drawdown ({}), got {}",
                    self.risk.max_drawdown, cb.max_drawdown
                ),
            );
        }
    }
}

impl QtsConfig {
    /// Every credential in the configuration, so that their values can be scrubbed from text.
    pub fn secrets(&self) -> Vec<&Secret> {
        let p = &self.data.providers;
        vec![
            &self.mlflow.password,
            &self.mlflow.token,
            &self.monitoring.webhook_url,
            &p.fmp.api_key,
            &p.yahoo.api_key,
            &p.alpha_vantage.api_key,
        ]
    }

    /// A SHA-256 of the configuration's canonical JSON (secrets redacted, so a rotated API key
    /// does not change it): stamped on every result so a number can be traced to its config.
    pub fn fingerprint(&self) -> String {
        crate::hex::sha256(&serde_json::to_vec(self).unwrap_or_default())
    }
}

/// A value could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("cannot write YAML: {0}")]
pub struct YamlWriteError(String);

/// YAML text of any serialisable value (secrets print as `***`).
///
/// # Errors
/// [`YamlWriteError`] when the value has no YAML form.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, YamlWriteError> {
    serde_saphyr::to_string(value).map_err(|e| YamlWriteError(e.to_string()))
}

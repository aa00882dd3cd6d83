//! qts's whole configuration. Each section's type belongs to the crate that reads it — the
//! data crate's `data` and `validation`, the backtest crate's `backtest`, `trading` and
//! `risk`, the models crate's `model`, `compute` and `registry`, tracking's `mlflow`, the
//! paper account's `monitoring` and `paper`, core's `logging` and `reproducibility` — and
//! [`QtsConfig`] assembles them under one root for the generic loader of
//! [`qts_core::config`]. Rules across crates (the backtest's circuit breaker within the
//! account's drawdown limit) are checked here, where both sections are seen.
//!
//! Front ends (the CLI, the Python packages) and tests name everything through this crate:
//! every section type and the loader are re-exported; [`ConfigLoader`] loads a [`QtsConfig`],
//! and so does [`ConfigRequest`]`::load` wherever the result is a [`Loaded`].
//!
//! ```
//! use qts_config::{ConfigLoader, Environment};
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

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use qts_backtest::settings::*;
// Core's loader types and its own sections; the local `ConfigLoader` and `Loaded` (for this
// root) take the place of core's generic ones.
pub use qts_core::config::*;
pub use qts_data::settings::*;
pub use qts_models_settings::*;
pub use qts_paper::settings::*;
pub use qts_tracking::settings::*;

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
    /// What one call may plan to take: memory and steps of work.
    pub budget: qts_core::budget::Budget,
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
        self.budget.validate("budget", c);
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

impl Root for QtsConfig {
    fn secrets(&self) -> Vec<&Secret> {
        QtsConfig::secrets(self)
    }

    fn normalize(&mut self) {
        self.mlflow.take_uri_credentials();
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
        qts_core::hex::sha256(&serde_json::to_vec(self).unwrap_or_default())
    }
}

impl DataSettings for QtsConfig {
    fn data(&self) -> &DataSourcesConfig {
        &self.data
    }
    fn validation(&self) -> &ValidationConfig {
        &self.validation
    }
}

impl BacktestSettings for QtsConfig {
    fn backtest(&self) -> &BacktestConfig {
        &self.backtest
    }
    fn trading(&self) -> &TradingConfig {
        &self.trading
    }
    fn risk(&self) -> &RiskLimits {
        &self.risk
    }
    fn price_basis(&self) -> qts_data::actions::Basis {
        self.data.adjustment
    }
}

impl ModelSettings for QtsConfig {
    fn model(&self) -> &ModelConfig {
        &self.model
    }
    fn compute(&self) -> &ComputeConfig {
        &self.compute
    }
    fn reproducibility(&self) -> &ReproducibilityConfig {
        &self.reproducibility
    }
    fn registry(&self) -> &RegistryConfig {
        &self.registry
    }
    fn fingerprint(&self) -> String {
        QtsConfig::fingerprint(self)
    }
    fn to_yaml(&self) -> Result<String, YamlWriteError> {
        to_yaml(self)
    }
    fn with_model(&self, model: ModelConfig) -> Box<dyn ModelSettings> {
        Box::new(QtsConfig {
            model,
            ..self.clone()
        })
    }
}

/// A loaded [`QtsConfig`], with what is needed to explain it.
pub type Loaded = qts_core::config::Loaded<QtsConfig>;

/// Builds the effective [`QtsConfig`] from files and overrides ([`qts_core::config::ConfigLoader`]
/// for this root).
#[derive(Debug, Clone, Default)]
pub struct ConfigLoader(qts_core::config::ConfigLoader);

impl ConfigLoader {
    /// A loader with no files: built-in defaults only.
    pub fn new() -> Self {
        ConfigLoader::default()
    }

    /// Reads each section's usual file from `dir` where it exists.
    pub fn from_dir(dir: &Path) -> Self {
        ConfigLoader(qts_core::config::ConfigLoader::from_dir(dir))
    }

    /// Uses `file` for `section` (replacing the directory's file); the file must exist.
    pub fn file(self, section: Section, file: impl Into<PathBuf>) -> Self {
        ConfigLoader(self.0.file(section, file))
    }

    /// Adds a `section.key=value` override; the value is YAML (`[5, 10]`, `true`, `"text"`).
    pub fn override_value(self, assignment: impl Into<String>) -> Self {
        ConfigLoader(self.0.override_value(assignment))
    }

    /// Loads, merges, decodes and validates.
    ///
    /// # Errors
    /// As [`qts_core::config::ConfigLoader::load`]: every problem, each with its file, line and
    /// key path.
    pub fn load(&self, env: &dyn EnvSource) -> Result<Loaded, ConfigError> {
        self.0.load(env)
    }
}

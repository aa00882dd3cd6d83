//! The configuration loader: YAML files with `${VAR}` interpolation, `--set` overrides and
//! validation that reports every problem at once, decoded into any [`Root`] type.
//!
//! The merged tree has one key per section of `base_config.yaml` (`logging`, `compute`, …) and
//! one key per other file: `data` (`data_sources.yaml`), `backtest` (`backtest_config.yaml`)
//! and `model` (a file of `model_configs/`). Layers apply in order: built-in defaults, then the
//! files, then `--set section.key=value` overrides. The sections' types belong to the crates
//! that read them (`qts_data::settings`, `qts_backtest::settings`, …); `qts_config::QtsConfig`
//! assembles them. Core keeps only the loader and the sections no domain crate owns
//! (`logging`, `reproducibility`).
//!
//! ```
//! use qts_core::config::{
//!     Checks, ConfigLoader, Environment, LoggingConfig, ReproducibilityConfig, Root, Secret,
//!     Validate,
//! };
//!
//! #[derive(Default, serde::Serialize, serde::Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! struct Mine {
//!     logging: LoggingConfig,
//!     reproducibility: ReproducibilityConfig,
//! }
//! impl Validate for Mine {
//!     fn validate(&self, _at: &str, c: &mut Checks) {
//!         self.logging.validate("logging", c);
//!     }
//! }
//! impl Root for Mine {
//!     fn secrets(&self) -> Vec<&Secret> {
//!         Vec::new()
//!     }
//! }
//!
//! let env = Environment::from_vars([("QTS_SEED", "7")]);
//! let loaded = ConfigLoader::new()
//!     .override_value("reproducibility.seed=${QTS_SEED}")
//!     .load::<Mine>(&env)
//!     .unwrap();
//! assert_eq!(loaded.config.reproducibility.seed, 7);
//! ```

mod base;
mod checks;
mod interpolate;
mod load;
mod path;
mod problem;
mod redact;
mod yaml;

use serde::Serialize;

pub use base::*;
pub use checks::{Checks, Validate};
pub use interpolate::{DotenvError, EnvSource, Environment, is_secret_name};
pub use load::{ConfigLoader, ConfigRequest, Loaded, Section};
pub use path::join;
pub use problem::{ConfigError, Origins, Problem, Source};
pub use redact::{REDACTED, Redactor, Secret};

/// A configuration's root: what the loader decodes the merged tree into (`qts_config::QtsConfig`
/// for the qts commands). Its `Default` is the built-in layer under the files.
pub trait Root: Serialize + serde::de::DeserializeOwned + Default + Validate {
    /// Every credential in the configuration, so that their values can be scrubbed from text.
    fn secrets(&self) -> Vec<&Secret>;

    /// Moves what the files or overrides gave in one place to where it belongs, before the
    /// checks run (e.g. credentials written into a URL into their secret fields).
    fn normalize(&mut self) {}
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

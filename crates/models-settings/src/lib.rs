//! The qts models crate's settings (`qts_models::settings`): a model file of `model_configs/`
//! (under `model`), and `compute` and `registry` of `base_config.yaml`. Plain data, in a crate
//! of their own so that the configuration names them without linking libtorch.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, ReproducibilityConfig, Validate, YamlWriteError};
use qts_data::settings::DataSettings;

mod model;

pub use model::*;
pub use qts_data::settings::{ModelDataConfig, Normalization, Target};

/// The sections of the configuration training and inference read, and what a training run
/// writes of the whole (its fingerprint and YAML). The whole configuration
/// (`qts_config::QtsConfig`) is one.
pub trait ModelSettings: DataSettings + std::fmt::Debug + Sync {
    /// The model file.
    fn model(&self) -> &ModelConfig;
    /// `compute`.
    fn compute(&self) -> &ComputeConfig;
    /// `reproducibility`.
    fn reproducibility(&self) -> &ReproducibilityConfig;
    /// `registry`.
    fn registry(&self) -> &RegistryConfig;
    /// The whole configuration's fingerprint (stamped on the run).
    fn fingerprint(&self) -> String;
    /// The whole configuration as YAML, secrets shown as `***` (the run's `run_config.yaml`).
    ///
    /// # Errors
    /// [`YamlWriteError`] when it has no YAML form.
    fn to_yaml(&self) -> Result<String, YamlWriteError>;
    /// The same configuration with another model section: a search's trial.
    fn with_model(&self, model: ModelConfig) -> Box<dyn ModelSettings>;
}

/// Where numeric work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The CPU.
    Cpu,
    /// An NVIDIA GPU; an error when none is present.
    Cuda,
    /// CUDA when available, else the CPU.
    Auto,
}

/// `compute`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeConfig {
    /// Device for model training and inference.
    #[default(Device::Auto)]
    pub device: Device,
    /// Worker threads for CPU work; 0 means one per core.
    #[default(0)]
    pub threads: usize,
    /// CUDA device ordinals to use (empty: all visible).
    pub gpus: Vec<usize>,
}

impl Validate for ComputeConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        if self.threads > 1024 {
            c.fail(
                at,
                "threads",
                format!("must be at most 1024, got {}", self.threads),
            );
        }
        let mut seen = self.gpus.clone();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            c.fail(at, "gpus", "lists a GPU more than once");
        }
    }
}

/// `registry`: where trained and imported models are kept.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Directory of the local model registry (`<dir>/<NAME>/<VERSION>/`).
    #[default("artifacts/models")]
    pub directory: String,
}

impl Validate for RegistryConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        if self.directory.trim().is_empty() {
            c.fail(at, "directory", "must not be empty");
        }
    }
}

//! `compute.device` and `compute.threads` turned into libtorch's device and thread pool.

use crate::settings::{ComputeConfig, Device as Wanted};
use tch::{Cuda, Device};

use crate::error::ModelError;

/// The device `cfg` asks for: `cpu`, `cuda` (an error without a GPU) or `auto`; with
/// `compute.gpus`, the first listed. Sets libtorch's CPU threads when `threads > 0`. On a GPU,
/// `deterministic` (`reproducibility.deterministic`) keeps cuDNN from benchmarking kernels:
/// the benchmark's winner can differ between runs, and with it the last bits of the weights.
///
/// # Errors
/// [`ModelError::Input`] when CUDA is asked for and none is usable.
pub fn select(cfg: &ComputeConfig, deterministic: bool) -> Result<Device, ModelError> {
    if cfg.threads > 0 {
        tch::set_num_threads(cfg.threads as i32);
    }
    let ordinal = cfg.gpus.first().copied().unwrap_or(0);
    match cfg.device {
        Wanted::Cpu => Ok(Device::Cpu),
        Wanted::Auto if !Cuda::is_available() => Ok(Device::Cpu),
        Wanted::Cuda | Wanted::Auto => {
            let count = Cuda::device_count().max(0) as usize;
            if count == 0 {
                return Err(ModelError::Input(
                    "compute.device is cuda but libtorch sees no CUDA device (check the driver and CUDA_VISIBLE_DEVICES, or set compute.device: cpu)".into(),
                ));
            }
            if ordinal >= count {
                return Err(ModelError::Input(format!(
                    "compute.gpus names GPU {ordinal} but only {count} are visible"
                )));
            }
            // Deterministic kernel choice: the same seed gives the same run.
            Cuda::cudnn_set_benchmark(!deterministic);
            Ok(Device::Cuda(ordinal))
        }
    }
}

/// A short name for logs and model cards (`cpu`, `cuda:0`).
pub fn name(d: Device) -> String {
    match d {
        Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".into(),
    }
}

static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds libtorch's process-wide random generator for a seeded run: initialisation, dropout
/// masks and MC-dropout samples are drawn from it, so two runs in one process (tests, a
/// notebook, parallel trials) must take turns to stay reproducible.
pub fn generator_lock() -> std::sync::MutexGuard<'static, ()> {
    GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// Here rather than in error.rs: only torch code converts libtorch's errors.
impl From<tch::TchError> for ModelError {
    fn from(e: tch::TchError) -> Self {
        ModelError::Torch(e.into())
    }
}

//! qts models. This crate will be the only one that links libtorch (behind the `torch`
//! feature, with the networks, the trainer and inference); what lives here now needs no
//! libtorch: the versioned model registry and the checks of PyTorch state dicts saved as
//! safetensors.

pub mod checkpoint;
pub mod error;
pub mod import;
pub mod registry;
pub mod schedule;

pub use error::ModelError;
pub use registry::{ModelCard, ModelRef, Registry};

//! qts models: the only crate that links libtorch (feature `torch`, on by default). Other
//! crates hand it plain slices ([`batches::Series`], [`train::TrainSet`]) and get plain data
//! back (safetensors bytes, [`infer::Predictions`]).
//!
//! Without the feature it still holds what needs no libtorch: the versioned registry, the
//! checks of PyTorch state dicts, the learning-rate schedules and the checkpoint store.

pub mod checkpoint;
pub mod compare;
pub mod error;
pub mod eval;
pub mod import;
pub mod pickle;
pub mod pipeline;
pub mod registry;
pub mod schedule;
pub mod search;
pub mod settings;

#[cfg(feature = "torch")]
pub mod batches;
#[cfg(feature = "torch")]
pub mod device;
#[cfg(feature = "torch")]
pub mod fit;
#[cfg(feature = "torch")]
pub mod forecast;
#[cfg(feature = "torch")]
pub mod infer;
#[cfg(feature = "torch")]
pub mod net;
#[cfg(feature = "torch")]
pub mod optim;
#[cfg(feature = "torch")]
pub mod train;
#[cfg(feature = "torch")]
pub mod weights;

pub use error::ModelError;
pub use registry::{ModelCard, ModelRef, Registry};

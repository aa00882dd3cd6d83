//! qts research that trains models: a model walked forward (retrained on every window), a
//! model's hyper-parameter search, a registered model's decision, and the main job
//! ([`run::run`]) that joins them with the strategy research of `qts-research`. The only
//! research crate that links libtorch; `qts-torch` and the `qts_torch` Python extension call
//! it, so their numbers are the same to the bit.

pub mod data;
pub mod decide;
pub mod error;
pub mod folds;
pub mod registry;
pub mod run;
pub mod search;
pub mod train;

pub use error::JobError;

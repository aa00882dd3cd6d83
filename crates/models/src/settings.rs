//! The models crate's settings: a model file of `model_configs/` (under `model`), and
//! `compute` and `registry` of `base_config.yaml`. They are plain data and live in the
//! `qts-models-settings` crate, so that the whole configuration (`qts-config`, which the `qts`
//! executable loads) names them without linking libtorch: a crate that depends on this one
//! with the `torch` feature pulls libtorch into every executable that uses any part of it.

pub use qts_models_settings::*;

//! Errors of the models crate.

use std::path::PathBuf;

/// The error beneath a model error (an OS, JSON, safetensors or libtorch error, or a message),
/// kept as the error's `source` so callers can walk the chain.
pub use qts_data::error::Cause;

/// What went wrong with a model, its weights or the registry.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error (or what was wrong with the file's contents).
        source: Cause,
    },
    /// The weights file is not valid safetensors.
    #[error("{path}: not a safetensors file ({source})")]
    Format {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: Cause,
    },
    /// Weights do not fit the configured network.
    #[error("{path}: {problems}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// Every missing, unexpected or mis-shaped tensor, and configuration mismatches.
        problems: String,
    },
    /// No such model, version or alias.
    #[error("{0}")]
    NotFound(String),
    /// A model reference or name is malformed.
    #[error("{0}")]
    BadReference(String),
    /// The input cannot be used: too few rows for the lookback, NaNs, a mismatched
    /// architecture or width.
    #[error("{0}")]
    Input(String),
    /// The data of a model could not be prepared (its features, its dataset).
    #[error("{what}: {source}")]
    Prepare {
        /// The data, as the user named it.
        what: String,
        /// Why.
        #[source]
        source: qts_data::DataError,
    },
    /// A searched value does not fit the model's settings.
    #[error("{what}: {source}")]
    Setting {
        /// The trial's point (`key=value;…`).
        what: String,
        /// The settings' decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A file of a model version could not be encoded.
    #[error("cannot write {what}: {source}")]
    Encode {
        /// The file.
        what: &'static str,
        /// The encoder's error.
        source: Cause,
    },
    /// The data behind a model's inputs cannot be used.
    #[error(transparent)]
    Data(#[from] qts_data::DataError),
    /// libtorch failed (out of memory, a CUDA error, …).
    #[error("libtorch: {0}")]
    Torch(#[source] Cause),
    /// The caller stopped the run (Ctrl-C in a notebook).
    #[error(
        "training interrupted; the last finished epoch's checkpoint is kept (resume=True continues)"
    )]
    Cancelled,
}

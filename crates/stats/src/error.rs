//! Errors of the statistics crate: they name the parameter or the input, never a command-line
//! flag, so each front end can spell them its own way.

/// Why a statistic cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A parameter out of its range: `paths must be at least 1, got 0`.
    #[error("{name} {reason}")]
    Parameter {
        /// The parameter, as the library names it (`paths`, `block_size`, `pbo_splits`).
        name: &'static str,
        /// What is wrong, with the value given.
        reason: String,
    },
    /// A series or file that cannot be used.
    #[error("{path}: {reason}")]
    Input {
        /// What it is (a file as the user named it, or the call: `compare`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Too little to compute on (fewer than two trials, no finite Sharpe ratio, a
    /// distribution that cannot be fitted).
    #[error("{0}")]
    Insufficient(String),
}

impl StatsError {
    /// A [`StatsError::Parameter`].
    pub fn parameter(name: &'static str, reason: impl Into<String>) -> StatsError {
        StatsError::Parameter {
            name,
            reason: reason.into(),
        }
    }
}

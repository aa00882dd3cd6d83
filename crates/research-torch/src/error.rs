//! Errors of the research that trains models: a research error or a model error, each kept
//! whole.

use qts_research::ResearchError;

/// Why a job that trains models cannot run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The research around the model (data, backtests, statistics, tracking) failed.
    #[error(transparent)]
    Research(#[from] ResearchError),
    /// The model (its training, registry or inference) failed.
    #[error(transparent)]
    Model(#[from] qts_models::ModelError),
    /// A file the user named (weights to import) that cannot be read: their input.
    #[error(transparent)]
    Named(qts_models::ModelError),
}

impl JobError {
    /// Whether the input is at fault (a command exits 2), rather than the run (exit 1):
    /// libtorch and I/O failures are the run's.
    pub fn is_input(&self) -> bool {
        use qts_models::ModelError as M;
        match self {
            JobError::Research(e) => e.is_input(),
            JobError::Model(M::Io { .. } | M::Torch(_) | M::Encode { .. }) => false,
            JobError::Model(M::Data(e)) => !matches!(e, qts_data::DataError::Write { .. }),
            JobError::Model(_) | JobError::Named(_) => true,
        }
    }

    /// An input error with `message`.
    pub fn input(message: impl Into<String>) -> JobError {
        JobError::Research(ResearchError::Input(message.into()))
    }

    /// A runtime error with `message`.
    pub fn runtime(message: impl Into<String>) -> JobError {
        JobError::Research(ResearchError::Runtime(message.into()))
    }
}

macro_rules! through_research {
    ($($t:ty),*) => {$(
        impl From<$t> for JobError {
            fn from(e: $t) -> Self {
                JobError::Research(e.into())
            }
        }
    )*};
}

through_research!(
    qts_data::DataError,
    qts_backtest::BacktestError,
    qts_stats::StatsError,
    qts_tracking::TrackingError,
    qts_core::config::ConfigError
);

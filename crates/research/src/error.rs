//! Errors of the research use cases. They name the parameter (`trials must be at least 1,
//! got 0`), never a command-line flag; a front end maps parameters to its own spelling. Causes
//! from the crates below are kept whole (`#[error(transparent)]` or `#[source]`).

/// Why a research use case cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ResearchError {
    /// A parameter out of its range or of the wrong form: `grid fast=5:20:0: the step is 0`.
    #[error("{name} {reason}")]
    Parameter {
        /// The parameter, as the library names it (`grid`, `maximize`, `train`, `trials`).
        name: &'static str,
        /// What is wrong, with the value given.
        reason: String,
    },
    /// Input that cannot be used: no data, a file named twice, a choice that does not apply.
    #[error("{0}")]
    Input(String),
    /// The configuration does not load.
    #[error(transparent)]
    Config(#[from] qts_core::config::ConfigError),
    /// The data cannot be read, fetched or used.
    #[error(transparent)]
    Data(#[from] qts_data::DataError),
    /// A provider cannot be set up (no API key).
    #[error(transparent)]
    Fetch(#[from] qts_data::provider::FetchError),
    /// The backtest cannot run as asked.
    #[error(transparent)]
    Backtest(#[from] qts_backtest::BacktestError),
    /// A statistic cannot be computed.
    #[error(transparent)]
    Stats(#[from] qts_stats::StatsError),
    /// The run store or the tracking server failed.
    #[error(transparent)]
    Tracking(#[from] qts_tracking::TrackingError),
    /// The paper account refused the step or failed.
    #[error(transparent)]
    Paper(#[from] qts_paper::PaperError),
    /// A file could not be written.
    #[error("{path}: cannot write")]
    Write {
        /// The file or folder.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Something failed while running that is not the input's fault.
    #[error("{0}")]
    Runtime(String),
    /// The caller stopped the run (Ctrl-C).
    #[error("interrupted")]
    Cancelled,
}

impl ResearchError {
    /// A [`ResearchError::Parameter`].
    pub fn parameter(name: &'static str, reason: impl Into<String>) -> ResearchError {
        ResearchError::Parameter {
            name,
            reason: reason.into(),
        }
    }

    /// Whether the input is at fault (a command exits 2), rather than the run (exit 1).
    pub fn is_input(&self) -> bool {
        match self {
            ResearchError::Parameter { .. }
            | ResearchError::Input(_)
            | ResearchError::Config(_)
            | ResearchError::Stats(_) => true,
            ResearchError::Data(e) => !matches!(e, qts_data::DataError::Write { .. }),
            ResearchError::Fetch(e) => {
                matches!(e, qts_data::provider::FetchError::MissingKey { .. })
            }
            ResearchError::Backtest(_) => true,
            ResearchError::Tracking(e) => e.is_input(),
            ResearchError::Paper(e) => e.is_input(),
            ResearchError::Write { .. } | ResearchError::Runtime(_) | ResearchError::Cancelled => {
                false
            }
        }
    }

    /// The parameter and what is wrong with it, when the error is about one (directly or
    /// from the statistics): a front end shows the parameter in its own spelling.
    pub fn as_parameter(&self) -> Option<(&'static str, &str)> {
        use qts_stats::StatsError as S;
        match self {
            ResearchError::Parameter { name, reason }
            | ResearchError::Stats(S::Parameter { name, reason })
            | ResearchError::Backtest(qts_backtest::BacktestError::Stats(S::Parameter {
                name,
                reason,
            })) => Some((name, reason)),
            _ => None,
        }
    }
}

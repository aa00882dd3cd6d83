//! How a command fails: a message on stderr and an exit status that scripts can branch on.

use std::process::ExitCode;

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// Bad input: invalid configuration, unknown key, bad value (exit status 2).
    Input(anyhow::Error),
    /// Something went wrong while running (exit status 1).
    Runtime(anyhow::Error),
    /// The command ran and its verdict is "no" (a validation with errors): the output says
    /// why; exit status 1 with no further message.
    Verdict,
    /// Whoever read stdout went away (`qts … | head`): exit status 0, no message, as `ripgrep`
    /// and `git` do.
    ClosedPipe,
}

impl Failure {
    /// Prints the error and its causes, and gives the exit status.
    pub fn report(self) -> ExitCode {
        let (error, code) = match self {
            Failure::Input(e) => (e, 2),
            Failure::Runtime(e) => (e, 1),
            Failure::Verdict => return ExitCode::from(1),
            Failure::ClosedPipe => return ExitCode::SUCCESS,
        };
        // Errors keep their causes (`source`), and most messages already end with the
        // cause's text: a cause is printed only when it adds something.
        let mut shown = error.to_string();
        eprintln!("error: {shown}");
        for cause in error.chain().skip(1) {
            let text = cause.to_string();
            if !shown.contains(&text) {
                eprintln!("  caused by: {text}");
                shown.push_str(&text);
            }
        }
        ExitCode::from(code)
    }
}

impl From<qts_core::config::ConfigError> for Failure {
    fn from(e: qts_core::config::ConfigError) -> Self {
        Failure::Input(e.into())
    }
}

impl From<qts_core::logging::LoggingError> for Failure {
    fn from(e: qts_core::logging::LoggingError) -> Self {
        Failure::Input(e.into())
    }
}

impl From<qts_data::DataError> for Failure {
    fn from(e: qts_data::DataError) -> Self {
        match e {
            qts_data::DataError::Write { .. } => Failure::Runtime(e.into()),
            _ => Failure::Input(e.into()),
        }
    }
}

impl From<qts_backtest::BacktestError> for Failure {
    fn from(e: qts_backtest::BacktestError) -> Self {
        Failure::from(qts_research::ResearchError::from(e))
    }
}

/// The command-line flag of a library parameter: `block_size` is `--block-size`.
pub fn flag(parameter: &str) -> String {
    format!("--{}", parameter.replace('_', "-"))
}

impl From<qts_stats::StatsError> for Failure {
    fn from(e: qts_stats::StatsError) -> Self {
        Failure::from(qts_research::ResearchError::from(e))
    }
}

impl From<qts_research::ResearchError> for Failure {
    fn from(e: qts_research::ResearchError) -> Self {
        // The library names its parameter; the user typed a flag.
        if let Some((name, reason)) = e.as_parameter() {
            return Failure::Input(anyhow::anyhow!("{} {reason}", flag(name)));
        }
        if e.is_input() {
            Failure::Input(e.into())
        } else {
            Failure::Runtime(e.into())
        }
    }
}

impl From<qts_paper::PaperError> for Failure {
    fn from(e: qts_paper::PaperError) -> Self {
        Failure::from(qts_research::ResearchError::from(e))
    }
}

impl From<qts_tracking::TrackingError> for Failure {
    fn from(e: qts_tracking::TrackingError) -> Self {
        Failure::from(qts_research::ResearchError::from(e))
    }
}

impl From<qts_report::folder::FolderError> for Failure {
    fn from(e: qts_report::folder::FolderError) -> Self {
        Failure::Input(e.into())
    }
}

/// A failure of the run (exit 1) with `message`.
pub fn runtime(message: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow::anyhow!("{message}"))
}

/// A failure of the input (exit 2) with `message`.
pub fn input(message: impl std::fmt::Display) -> Failure {
    Failure::Input(anyhow::anyhow!("{message}"))
}

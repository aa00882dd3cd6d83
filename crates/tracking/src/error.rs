//! Tracking failures.

/// A tracking failure, naming the file or the server call.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    /// The local store could not be written or read.
    #[error("{path}: {reason}")]
    Store {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
        /// The cause.
        #[source]
        source: Option<std::io::Error>,
    },
    /// A run id the store does not hold.
    #[error("no run `{0}` in the local run store")]
    UnknownRun(String),
    /// MLflow is not installed.
    #[error(
        "MLflow is not installed: run `source scripts/mlflow-env.sh` (it installs mlflow==3.17.2 in ~/.cache/qts), or set QTS_MLFLOW to an mlflow executable"
    )]
    NoMlflow,
    /// The MLflow server could not be started or waited for.
    #[error("{0}")]
    Ui(String),
    /// No stored run has the metric asked for.
    #[error("no stored run has the metric `{0}`")]
    NoMetric(String),
    /// A command that needs a server, without one.
    #[error(
        "no tracking server: set mlflow.tracking_uri (or MLFLOW_TRACKING_URI) to http://host:port"
    )]
    NoServer,
    /// The server answered with an error.
    #[error("MLflow server {uri}: {call} answered HTTP {status}: {detail}")]
    Server {
        /// The server.
        uri: String,
        /// The REST call.
        call: String,
        /// HTTP status.
        status: u16,
        /// The body's first line.
        detail: String,
    },
    /// The server could not be reached.
    #[error("MLflow server {uri}: {call}: {reason}")]
    Unreachable {
        /// The server.
        uri: String,
        /// The REST call.
        call: String,
        /// What failed (without credentials).
        reason: String,
    },
}

impl TrackingError {
    /// Whether the input is at fault (an unknown run or metric, no server to send to), rather
    /// than the store or the server.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            TrackingError::UnknownRun(_)
                | TrackingError::NoMetric(_)
                | TrackingError::NoServer
                | TrackingError::NoMlflow
        )
    }
}

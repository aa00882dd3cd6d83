//! `qts experiments ui`: a real `mlflow server` over SQLite on loopback, started, waited for,
//! and fed the local run store.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use crate::error::TrackingError;
use crate::rest::Client;
use crate::settings::MlflowConfig;

/// The MLflow executable: `$QTS_MLFLOW`, the pinned venv of `scripts/mlflow-env.sh`, or
/// `mlflow` on the PATH.
///
/// # Errors
/// [`TrackingError::NoMlflow`] when none is found.
pub fn mlflow_executable() -> Result<PathBuf, TrackingError> {
    if let Some(p) = std::env::var_os("QTS_MLFLOW") {
        return Ok(p.into());
    }
    let pinned = PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
        .join(".cache/qts/mlflow-3.17.2/bin/mlflow");
    if pinned.is_file() {
        return Ok(pinned);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("mlflow"))
            .find(|p| p.is_file())
    });
    on_path.ok_or(TrackingError::NoMlflow)
}

/// A running MLflow server.
pub struct Ui {
    child: Child,
    /// Where it answers.
    pub uri: String,
    /// Its database.
    pub database: PathBuf,
    /// The configuration pointed at it.
    pub config: MlflowConfig,
}

impl Ui {
    /// Starts `mlflow server` on 127.0.0.1:`port` with its database and artifacts in `dir`,
    /// and waits until it answers `/health` (180 s at most).
    ///
    /// # Errors
    /// [`TrackingError::Ui`]: the folder cannot be made, MLflow is missing, the server exits
    /// before it is ready (a taken port) or does not answer in time.
    pub fn start(cfg: &MlflowConfig, dir: &Path, port: u16) -> Result<Ui, TrackingError> {
        let failed = |what: String| TrackingError::Ui(what);
        std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        let exe = mlflow_executable()?;
        let database = dir.join("mlflow.db");
        let mut child = std::process::Command::new(&exe)
            .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--workers", "1"])
            .arg("--backend-store-uri")
            .arg(format!("sqlite:///{}", database.display()))
            .arg("--artifacts-destination")
            .arg(dir.join("artifacts"))
            .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| failed(format!("{}: {e}", exe.display())))?;
        let uri = format!("http://127.0.0.1:{port}");
        let mut config = cfg.clone();
        config.tracking_uri = uri.clone();
        let client = Client::new(&config);
        // Ready when it answers /health; a server that exits (a taken port) is reported at once.
        let started = Instant::now();
        loop {
            if client.ready() {
                break;
            }
            if let Some(status) = child.try_wait().map_err(|e| failed(e.to_string()))? {
                return Err(failed(format!(
                    "mlflow server exited before it was ready ({status}); is port {port} taken? (--port N)"
                )));
            }
            if started.elapsed() > Duration::from_secs(180) {
                let _ = child.kill();
                return Err(failed(format!(
                    "mlflow server did not answer on {uri} within 180 s"
                )));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(Ui {
            child,
            uri,
            database,
            config,
        })
    }

    /// Waits for the server to stop (Ctrl-C).
    ///
    /// # Errors
    /// [`TrackingError::Ui`] when it cannot be waited for.
    pub fn wait(mut self) -> Result<ExitStatus, TrackingError> {
        self.child
            .wait()
            .map_err(|e| TrackingError::Ui(e.to_string()))
    }
}

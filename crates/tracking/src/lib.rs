//! qts experiment tracking. Every tracked run is first written to a local run store in the
//! project (one folder per run: `run.json` and its artifacts, written atomically), then sent to
//! an MLflow server through its REST API when one is configured — at once, or later with
//! [`sync`] — so the same code path serves "local by default" and "nothing lost": a server
//! that is down or fails mid-run leaves the run in the store, marked unsent.
//!
//! Why not MLflow's own local formats: its `./mlruns` file store is deprecated (3.x refuses it
//! without `MLFLOW_ALLOW_FILE_STORE`), and writing its SQLite schema directly would tie qts to
//! MLflow's internal migrations. A real `mlflow server` over SQLite, fed through REST, is what
//! the user browses.
//!
//! The front ends build a [`Run`] from a use case's report (libraries never depend on this
//! crate) and call [`track`].

pub mod compare;
pub mod error;
pub mod registry;
pub mod rest;
pub mod settings;
pub mod store;
pub mod ui;

pub use error::TrackingError;
pub use rest::Client;
pub use store::{Run, RunStore, SearchEntry, StoredRun};

use crate::settings::MlflowConfig;

/// What became of a tracked run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Tracked {
    /// The local run id (the store's folder name).
    pub run_id: String,
    /// The server's run id, when it was sent.
    pub server_run_id: Option<String>,
    /// Why it was not sent, when a server was configured and failed.
    pub unsent: Option<String>,
    /// Requests sent to the server.
    pub requests: usize,
}

/// Stores `run` locally and, when `cfg.tracking_uri` names a server, sends it there. A server
/// failure is not an error: the run stays in the store, unsent, and [`Tracked::unsent`] says
/// why (`qts experiments sync` sends it later).
///
/// # Errors
/// [`TrackingError`] only when the local store cannot be written.
pub fn track(cfg: &MlflowConfig, run: &Run) -> Result<Tracked, TrackingError> {
    let store = RunStore::new(&cfg.local_store);
    let run_id = store.save(run)?;
    if cfg.tracking_uri.is_empty() {
        return Ok(Tracked {
            run_id,
            server_run_id: None,
            unsent: None,
            requests: 0,
        });
    }
    let client = Client::new(cfg);
    match send_one(&store, &client, &run_id) {
        Ok(server) => Ok(Tracked {
            run_id,
            server_run_id: Some(server),
            unsent: None,
            requests: client.requests(),
        }),
        Err(e) => {
            tracing::warn!(
                run = %run_id,
                "the run was kept in {} but not sent to the tracking server: {e}; `qts experiments sync` sends it later",
                cfg.local_store
            );
            Ok(Tracked {
                run_id,
                server_run_id: None,
                unsent: Some(e.to_string()),
                requests: client.requests(),
            })
        }
    }
}

/// Sends one stored run to the server and records that it was sent.
fn send_one(store: &RunStore, client: &Client, run_id: &str) -> Result<String, TrackingError> {
    let stored = store.load(run_id)?;
    // A try is recorded before it starts: the next one cleans up what a crash left.
    let retry = store.attempted(run_id, client.uri());
    store.mark_attempt(run_id, client.uri())?;
    let server = client.send_with_receipt(&stored, retry)?;
    store.mark_sent(run_id, client.uri(), &server)?;
    Ok(server)
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SyncReport {
    /// Runs sent now: (local id, server id).
    pub sent: Vec<(String, String)>,
    /// Runs already on this server.
    pub already: usize,
    /// Runs that failed again: (local id, why).
    pub failed: Vec<(String, String)>,
    /// Runs of the store that cannot be read, skipped: (local id, why).
    pub broken: Vec<(String, String)>,
}

/// Sends every stored run not yet on the configured server.
///
/// # Errors
/// [`TrackingError::NoServer`] without a tracking URI; the store's read errors.
pub fn sync(cfg: &MlflowConfig) -> Result<SyncReport, TrackingError> {
    if cfg.tracking_uri.is_empty() {
        return Err(TrackingError::NoServer);
    }
    let store = RunStore::new(&cfg.local_store);
    let client = Client::new(cfg);
    let mut report = SyncReport {
        sent: Vec::new(),
        already: 0,
        failed: Vec::new(),
        broken: Vec::new(),
    };
    let (runs, broken) = store.scan();
    report.broken = broken
        .into_iter()
        .map(|(run, e)| (run, e.to_string()))
        .collect();
    for run in runs {
        if run.sent.iter().any(|s| s.uri == client.uri()) {
            report.already += 1;
            continue;
        }
        match send_one(&store, &client, &run.run_id) {
            Ok(server) => report.sent.push((run.run_id.clone(), server)),
            Err(e) => report.failed.push((run.run_id.clone(), e.to_string())),
        }
    }
    Ok(report)
}

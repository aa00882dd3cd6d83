//! The local run store: `<local_store>/<run id>/run.json` (the run, written last and
//! atomically: a folder without it is an interrupted write and is ignored), `artifacts/` (copies
//! of the run's files) and `sent.json` (the servers it reached, with their run ids).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::TrackingError;

/// One metric value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Name.
    pub key: String,
    /// Value (finite: MLflow's JSON cannot carry NaN).
    pub value: f64,
    /// Step (an epoch, a trial); 0 for a single value.
    pub step: i64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
}

/// A run as a front end describes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Run {
    /// Experiment name.
    pub experiment: String,
    /// Run name.
    pub name: String,
    /// Start, milliseconds since the epoch.
    pub start_time: i64,
    /// End, milliseconds since the epoch.
    pub end_time: i64,
    /// `FINISHED` or `FAILED`.
    pub status: String,
    /// Parameters (the flattened effective configuration and the command's own).
    pub params: Vec<(String, String)>,
    /// Metrics.
    pub metrics: Vec<Metric>,
    /// Tags (`qts.version`, `qts.command`, `mlflow.source.git.commit`, …).
    pub tags: Vec<(String, String)>,
    /// Files to keep with the run (copied into the store, then uploaded).
    pub artifacts: Vec<PathBuf>,
    /// Artifacts given as bytes (name, content): written into the store like copies.
    #[serde(skip)]
    pub inline: Vec<(String, Vec<u8>)>,
    /// Nested runs (a search's trials): sent after this one, each tagged with its server id
    /// as `mlflow.parentRunId`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Run>,
}

impl Run {
    /// Adds a metric at step 0 now (non-finite values are skipped).
    pub fn metric(&mut self, key: &str, value: f64) {
        self.metric_at(key, value, 0);
    }

    /// Adds a metric at `step`.
    pub fn metric_at(&mut self, key: &str, value: f64, step: i64) {
        if value.is_finite() {
            self.metrics.push(Metric {
                key: key.to_string(),
                value,
                step,
                timestamp: chrono::Utc::now().timestamp_millis(),
            });
        }
    }
}

/// A server a run reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// The tracking URI.
    pub uri: String,
    /// The server's run id.
    pub server_run_id: String,
}

/// A run read back from the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    /// The folder name.
    pub run_id: String,
    /// The run (artifacts as paths inside the store).
    pub run: Run,
    /// Servers it reached.
    pub sent: Vec<Sent>,
    /// Its folder in the store.
    #[serde(skip)]
    pub folder: PathBuf,
}

/// The store in a folder.
#[derive(Debug, Clone)]
pub struct RunStore {
    dir: PathBuf,
}

/// The servers a send of the run was started to (`attempts.json`): a try that never
/// confirmed may have left a run there.
const ATTEMPTS: &str = "attempts.json";

/// The store's search index: one JSON line per tracked search ([`SearchEntry`]).
pub const SEARCHES: &str = "searches.jsonl";

/// The most bytes of the search index read.
const MAX_INDEX_BYTES: u64 = 16 << 20;

/// A tracked search in the store's index: which strategy it searched, on which data, and what
/// it chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchEntry {
    /// The search's run id in the store.
    pub run_id: String,
    /// Its run name.
    pub name: String,
    /// The strategy searched.
    pub strategy: String,
    /// SHA-256 of the data it read.
    pub data_hash: String,
    /// The winner's parameters, as text.
    pub best: std::collections::BTreeMap<String, String>,
}

/// The largest `run.json` a store reads (a run with a search's thousand trials is a few MB).
pub const MAX_RUN_FILE_BYTES: u64 = 256 << 20;

/// The largest artifact sent to a server (a model's weights, a search's trial returns).
pub const MAX_ARTIFACT_BYTES: u64 = 4 << 30;

/// Whether `path` is `artifacts/…` with only plain names after it: no `..`, no root, no
/// prefix.
fn inside_artifacts(path: &Path) -> bool {
    let mut parts = path.components();
    parts.next() == Some(std::path::Component::Normal("artifacts".as_ref()))
        && parts.clone().next().is_some()
        && parts.all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The bytes of the artifact `a` of `stored`: a regular file (not a link) inside the run
/// folder, of at most [`MAX_ARTIFACT_BYTES`].
///
/// # Errors
/// [`TrackingError::Store`] naming the file and why it is refused.
pub fn artifact_bytes(stored: &StoredRun, a: &Path) -> Result<Vec<u8>, TrackingError> {
    let local = stored.folder.join(a);
    let refuse = |reason: String| TrackingError::Store {
        path: local.display().to_string(),
        reason,
        source: None,
    };
    if !inside_artifacts(a) {
        return Err(refuse("not a path inside the run's artifacts/".into()));
    }
    match std::fs::symlink_metadata(&local) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(refuse("not a regular file inside the run's folder".into())),
        Err(e) => return Err(store_err(&local, "cannot read the artifact", e)),
    }
    match qts_core::fs::read_capped(&local, MAX_ARTIFACT_BYTES) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(size)) => Err(refuse(format!(
            "{size} bytes, over the {MAX_ARTIFACT_BYTES} an artifact may have"
        ))),
        Err(e) => Err(store_err(&local, "cannot read the artifact", e)),
    }
}

fn store_err(path: &Path, reason: &str, source: std::io::Error) -> TrackingError {
    TrackingError::Store {
        path: path.display().to_string(),
        reason: reason.to_string(),
        source: Some(source),
    }
}

impl RunStore {
    /// The store in `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> RunStore {
        RunStore { dir: dir.into() }
    }

    /// Saves `run` (copying its artifacts) and returns its id.
    ///
    /// # Errors
    /// [`TrackingError::Store`] when a file cannot be copied or written.
    pub fn save(&self, run: &Run) -> Result<String, TrackingError> {
        let body = serde_json::to_vec(run).unwrap_or_default();
        let digest = qts_core::hex::sha256(&body);
        let run_id = format!("{}-{}", run.start_time, &digest[..8]);
        let dir = self.dir.join(&run_id);
        let mut stored = run.clone();
        stored.artifacts.clear();
        stored.inline.clear();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for a in &run.artifacts {
            let name = a
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes =
                std::fs::read(a).map_err(|e| store_err(a, "cannot read the artifact", e))?;
            files.push((name, bytes));
        }
        files.extend(run.inline.iter().cloned());
        for (name, bytes) in files {
            let to = dir.join("artifacts").join(&name);
            qts_core::fs::write_atomic(&to, &bytes)
                .map_err(|e| store_err(&to, "cannot write", e))?;
            stored.artifacts.push(PathBuf::from("artifacts").join(name));
        }
        let text = serde_json::to_string_pretty(&stored).unwrap_or_default() + "\n";
        let path = dir.join("run.json");
        qts_core::fs::write_atomic(&path, text.as_bytes())
            .map_err(|e| store_err(&path, "cannot write", e))?;
        Ok(run_id)
    }

    /// The run `run_id`.
    ///
    /// # Errors
    /// [`TrackingError::UnknownRun`], or [`TrackingError::Store`] for an unreadable file.
    pub fn load(&self, run_id: &str) -> Result<StoredRun, TrackingError> {
        let dir = self.dir.join(run_id);
        let path = dir.join("run.json");
        let refuse = |path: &Path, reason: String| TrackingError::Store {
            path: path.display().to_string(),
            reason,
            source: None,
        };
        // A run folder is a file anyone can edit or send: `run.json` must be a regular file
        // of bounded size, and every artifact it names a file inside the run's `artifacts/`.
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(TrackingError::UnknownRun(run_id.to_string()));
            }
            Err(e) => return Err(store_err(&path, "cannot read", e)),
            Ok(m) if !m.is_file() => {
                return Err(refuse(&path, "not a regular file".into()));
            }
            Ok(_) => {}
        }
        let bytes = match qts_core::fs::read_capped(&path, MAX_RUN_FILE_BYTES) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(size)) => {
                return Err(refuse(
                    &path,
                    format!("{size} bytes, over the {MAX_RUN_FILE_BYTES} a run file may have"),
                ));
            }
            Err(e) => return Err(store_err(&path, "cannot read", e)),
        };
        let run: Run = serde_json::from_slice(&bytes)
            .map_err(|e| refuse(&path, format!("not a qts run ({e})")))?;
        for a in &run.artifacts {
            if !inside_artifacts(a) {
                return Err(refuse(
                    &path,
                    format!(
                        "names the artifact {}, which is not a path inside the run's artifacts/",
                        a.display()
                    ),
                ));
            }
        }
        let sent = std::fs::read_to_string(dir.join("sent.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Ok(StoredRun {
            run_id: run_id.to_string(),
            run,
            sent,
            folder: dir,
        })
    }

    /// The folder of a run's artifacts.
    pub fn dir_of(&self, run_id: &str) -> PathBuf {
        self.dir.join(run_id)
    }

    /// Every complete run, oldest first; a run that cannot be read is skipped with a warning
    /// naming it and why, so one broken run never hides the others ([`RunStore::scan`] returns
    /// them).
    ///
    /// # Errors
    /// None today: the `Result` is kept for callers that may meet a store-wide failure.
    pub fn list(&self) -> Result<Vec<StoredRun>, TrackingError> {
        let (runs, broken) = self.scan();
        for (run, error) in &broken {
            tracing::warn!(run, %error, "skipped a run that cannot be read");
        }
        Ok(runs)
    }

    /// Every complete run, oldest first, and each run that cannot be read with why.
    pub fn scan(&self) -> (Vec<StoredRun>, Vec<(String, TrackingError)>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (Vec::new(), Vec::new());
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("run.json").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort_by_key(|id| {
            let start: i64 = id
                .split('-')
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            (start, id.clone())
        });
        let mut runs = Vec::new();
        let mut broken = Vec::new();
        for id in ids {
            match self.load(&id) {
                Ok(run) => runs.push(run),
                Err(e) => broken.push((id, e)),
            }
        }
        (runs, broken)
    }

    /// Records a tracked search's winner in the store's search index ([`SEARCHES`]), so a
    /// backtest can tell whether its parameters are a search's choice without reading every
    /// run (a run file of a search with its trials can be tens of MB).
    ///
    /// # Errors
    /// [`TrackingError::Store`] when the index cannot be written.
    pub fn index_search(&self, entry: &SearchEntry) -> Result<(), TrackingError> {
        let path = self.dir.join(SEARCHES);
        let mut kept: Vec<SearchEntry> = self.searches();
        kept.retain(|e| e.run_id != entry.run_id);
        kept.push(entry.clone());
        let mut text = String::new();
        for e in &kept {
            text.push_str(&serde_json::to_string(e).unwrap_or_default());
            text.push('\n');
        }
        qts_core::fs::write_atomic(&path, text.as_bytes())
            .map_err(|e| store_err(&path, "cannot write", e))
    }

    /// The search index: each tracked search whose run is still in the store. The index is a
    /// file anyone can edit: it is read capped, and a line that does not parse is skipped.
    pub fn searches(&self) -> Vec<SearchEntry> {
        let path = self.dir.join(SEARCHES);
        let Ok(Ok(bytes)) = qts_core::fs::read_capped(&path, MAX_INDEX_BYTES) else {
            return Vec::new();
        };
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| serde_json::from_str::<SearchEntry>(l).ok())
            .filter(|e| {
                qts_core::fs::plain_name(&e.run_id)
                    && self.dir.join(&e.run_id).join("run.json").is_file()
            })
            .collect()
    }

    /// Whether a send of `run_id` to `uri` was started before and never confirmed.
    pub fn attempted(&self, run_id: &str, uri: &str) -> bool {
        std::fs::read_to_string(self.dir.join(run_id).join(ATTEMPTS))
            .ok()
            .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
            .is_some_and(|uris| uris.iter().any(|u| u == uri))
    }

    /// Records that a send of `run_id` to `uri` starts.
    ///
    /// # Errors
    /// [`TrackingError::Store`] when the marker cannot be written.
    pub fn mark_attempt(&self, run_id: &str, uri: &str) -> Result<(), TrackingError> {
        if self.attempted(run_id, uri) {
            return Ok(());
        }
        let path = self.dir.join(run_id).join(ATTEMPTS);
        let mut uris: Vec<String> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        uris.push(uri.to_string());
        let text = serde_json::to_string(&uris).unwrap_or_default() + "\n";
        qts_core::fs::write_atomic(&path, text.as_bytes())
            .map_err(|e| store_err(&path, "cannot write", e))
    }

    /// Records that `run_id` reached `uri` as `server_run_id`.
    ///
    /// # Errors
    /// [`TrackingError::Store`] when the marker cannot be written.
    pub fn mark_sent(
        &self,
        run_id: &str,
        uri: &str,
        server_run_id: &str,
    ) -> Result<(), TrackingError> {
        let mut sent = self.load(run_id)?.sent;
        sent.retain(|s| s.uri != uri);
        sent.push(Sent {
            uri: uri.to_string(),
            server_run_id: server_run_id.to_string(),
        });
        let path = self.dir.join(run_id).join("sent.json");
        let text = serde_json::to_string_pretty(&sent).unwrap_or_default() + "\n";
        qts_core::fs::write_atomic(&path, text.as_bytes())
            .map_err(|e| store_err(&path, "cannot write", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run_id: &str, fast: &str) -> SearchEntry {
        SearchEntry {
            run_id: run_id.into(),
            name: format!("optimize fast={fast}"),
            strategy: "sma-cross".into(),
            data_hash: "abc".into(),
            best: [("fast".to_string(), fast.to_string())].into(),
        }
    }

    #[test]
    fn the_search_index_keeps_the_searches_whose_runs_are_there() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        for id in ["1-a", "2-b"] {
            std::fs::create_dir_all(dir.path().join(id)).unwrap();
            std::fs::write(dir.path().join(id).join("run.json"), "{}").unwrap();
        }
        store.index_search(&entry("1-a", "5")).unwrap();
        store.index_search(&entry("2-b", "10")).unwrap();
        // The same run indexed again replaces its line.
        store.index_search(&entry("1-a", "7")).unwrap();
        assert_eq!(
            store.searches(),
            vec![entry("2-b", "10"), entry("1-a", "7")]
        );
        // An edited index: a broken line, a run that is gone, a path out of the store.
        let mut text = std::fs::read_to_string(dir.path().join(SEARCHES)).unwrap();
        text.push_str("not json\n");
        for id in ["3-gone", "../1-a"] {
            text.push_str(&serde_json::to_string(&entry(id, "1")).unwrap());
            text.push('\n');
        }
        std::fs::write(dir.path().join(SEARCHES), text).unwrap();
        assert_eq!(store.searches().len(), 2);
    }
}

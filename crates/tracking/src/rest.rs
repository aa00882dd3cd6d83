//! A small blocking client of MLflow's REST API (`/api/2.0/mlflow/…`): the calls a run needs,
//! batched as the server allows (`runs/log-batch` takes at most 1000 metrics and 100 params and
//! tags together per call). Written here because the registry's MLflow clients are thin or
//! async-only; it uses the HTTP stack the data providers already use.

use std::time::Duration;

use crate::settings::MlflowConfig;
use serde_json::{Value, json};

use crate::error::TrackingError;
use crate::store::StoredRun;

/// MLflow's limits per `runs/log-batch` call.
const BATCH_METRICS: usize = 1000;
const BATCH_PARAMS_AND_TAGS: usize = 100;
/// MLflow's longest parameter value.
const PARAM_VALUE_MAX: usize = 6000;

/// A client of one tracking server.
pub struct Client {
    uri: String,
    agent: ureq::Agent,
    auth: Option<String>,
    requests: std::cell::Cell<usize>,
}

impl Client {
    /// A client of `cfg.tracking_uri`, with its credentials.
    pub fn new(cfg: &MlflowConfig) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let auth = if cfg.token.is_set() {
            Some(format!("Bearer {}", cfg.token.expose()))
        } else if !cfg.username.is_empty() {
            Some(format!(
                "Basic {}",
                base64(&format!("{}:{}", cfg.username, cfg.password.expose()))
            ))
        } else {
            None
        };
        Client {
            uri: cfg.tracking_uri.trim_end_matches('/').to_string(),
            agent,
            auth,
            requests: std::cell::Cell::new(0),
        }
    }

    /// The server's URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Requests sent so far.
    pub fn requests(&self) -> usize {
        self.requests.get()
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, TrackingError> {
        self.requests.set(self.requests.get() + 1);
        let url = format!("{}{path}", self.uri);
        let unreachable = |e: ureq::Error| TrackingError::Unreachable {
            uri: self.uri.clone(),
            call: path.to_string(),
            reason: match e {
                ureq::Error::Timeout(_) => "timed out".into(),
                ureq::Error::HostNotFound => "no such host".into(),
                ureq::Error::ConnectionFailed => "connection failed".into(),
                ureq::Error::Io(io) => format!("{:?}", io.kind()),
                _ => "request failed".into(),
            },
        };
        let response = match (method, body) {
            ("GET", _) => {
                let mut r = self.agent.get(&url);
                if let Some(a) = &self.auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            (_, body) => {
                let mut r = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json");
                if let Some(a) = &self.auth {
                    r = r.header("Authorization", a);
                }
                r.send(body.map(Value::to_string).unwrap_or_default().as_bytes())
            }
        };
        let mut response = response.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(TrackingError::Server {
                uri: self.uri.clone(),
                call: path.to_string(),
                status,
                detail: text
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect(),
            });
        }
        // Every answer of MLflow's REST API is a JSON object (`{}` at least): anything else
        // (a proxy's HTML page, an empty body) is not a receipt.
        match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.is_object() => Ok(v),
            _ => Err(self.not_mlflow(path, status, &text)),
        }
    }

    /// A 2xx answer that is not MLflow's.
    fn not_mlflow(&self, call: &str, status: u16, text: &str) -> TrackingError {
        TrackingError::Server {
            uri: self.uri.clone(),
            call: call.to_string(),
            status,
            detail: format!(
                "the answer is not MLflow's JSON: {}",
                text.chars().take(80).collect::<String>()
            ),
        }
    }

    /// Whether the server answers its health check.
    pub fn ready(&self) -> bool {
        self.bytes("/health").is_ok()
    }

    /// The raw body of a GET (an artifact's bytes).
    pub(crate) fn bytes(&self, path: &str) -> Result<Vec<u8>, TrackingError> {
        self.requests.set(self.requests.get() + 1);
        let url = format!("{}{path}", self.uri);
        let mut r = self.agent.get(&url);
        if let Some(a) = &self.auth {
            r = r.header("Authorization", a);
        }
        let mut response = r.call().map_err(|_| TrackingError::Unreachable {
            uri: self.uri.clone(),
            call: path.to_string(),
            reason: "the download failed".into(),
        })?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(TrackingError::Server {
                uri: self.uri.clone(),
                call: path.to_string(),
                status,
                detail: String::new(),
            });
        }
        response
            .body_mut()
            .with_config()
            .limit(4 << 30)
            .read_to_vec()
            .map_err(|_| TrackingError::Unreachable {
                uri: self.uri.clone(),
                call: path.to_string(),
                reason: "the download was cut".into(),
            })
    }

    pub(crate) fn post(&self, call: &str, body: Value) -> Result<Value, TrackingError> {
        self.call("POST", &format!("/api/2.0/mlflow/{call}"), Some(&body))
    }

    /// The id of experiment `name`, created when missing.
    ///
    /// # Errors
    /// [`TrackingError`] from the server.
    pub fn experiment_id(&self, name: &str) -> Result<String, TrackingError> {
        let path = format!(
            "/api/2.0/mlflow/experiments/get-by-name?experiment_name={}",
            encode(name)
        );
        let id = match self.call("GET", &path, None) {
            Ok(v) => v["experiment"]["experiment_id"].clone(),
            Err(TrackingError::Server { status: 404, .. }) => {
                self.post("experiments/create", json!({ "name": name }))?["experiment_id"].clone()
            }
            Err(e) => return Err(e),
        };
        match id.as_str() {
            Some(id) if !id.is_empty() => Ok(id.to_string()),
            _ => Err(self.not_mlflow(&path, 200, "no experiment_id")),
        }
    }

    /// Sends `stored` and reads it back: after an earlier try (`retry`), any run it left on
    /// the server (tagged with the same local id) is deleted first; a run that fails half-way
    /// is deleted; the run counts as sent only once the server returns it with its status.
    ///
    /// # Errors
    /// [`TrackingError`] from the server; nothing of this try is left on it.
    pub fn send_with_receipt(
        &self,
        stored: &StoredRun,
        retry: bool,
    ) -> Result<String, TrackingError> {
        let experiment = self.experiment_id(&stored.run.experiment)?;
        if retry {
            for stale in self.runs_of(&experiment, &stored.run_id)? {
                self.post("runs/delete", json!({ "run_id": stale }))?;
            }
        }
        let run_id = self.send_to(stored, &experiment)?;
        let back = self.call(
            "GET",
            &format!("/api/2.0/mlflow/runs/get?run_id={}", encode(&run_id)),
            None,
        );
        let kept = back.as_ref().is_ok_and(|v| {
            let info = &v["run"]["info"];
            info["run_id"] == run_id.as_str() && info["status"] == stored.run.status.as_str()
        });
        if kept {
            return Ok(run_id);
        }
        let _ = self.post("runs/delete", json!({ "run_id": run_id }));
        Err(back.err().unwrap_or_else(|| {
            self.not_mlflow("runs/get", 200, "the run read back is not the run sent")
        }))
    }

    /// The active runs of `experiment` tagged with the local run `local`.
    fn runs_of(&self, experiment: &str, local: &str) -> Result<Vec<String>, TrackingError> {
        let found = self.post(
            "runs/search",
            json!({
                "experiment_ids": [experiment],
                "filter": format!("tags.`qts.local_run_id` = '{}'", local.replace('\'', "")),
                "run_view_type": "ACTIVE_ONLY",
                "max_results": 100,
            }),
        )?;
        Ok(found["runs"]
            .as_array()
            .map(|runs| {
                runs.iter()
                    .filter_map(|r| r["info"]["run_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Sends a stored run: the run, its params, metrics and tags in batches, its artifacts,
    /// its end. Returns the server's run id.
    ///
    /// # Errors
    /// [`TrackingError`] from the server (a run created before the failure is deleted).
    pub fn send(&self, stored: &StoredRun) -> Result<String, TrackingError> {
        let experiment = self.experiment_id(&stored.run.experiment)?;
        self.send_to(stored, &experiment)
    }

    /// [`Client::send`] into the experiment of id `experiment`.
    fn send_to(&self, stored: &StoredRun, experiment: &str) -> Result<String, TrackingError> {
        let run = &stored.run;
        let mut tags: Vec<(String, String)> = run.tags.clone();
        tags.push(("qts.local_run_id".into(), stored.run_id.clone()));
        let (run_id, artifact_uri) = self.open_run(run, experiment, &tags)?;
        let rest = || -> Result<(), TrackingError> {
            self.upload_artifacts(stored, &artifact_uri)?;
            // Nested runs: three requests each (create, one batch, end) whatever their size.
            for child in &run.children {
                let mut tags = child.tags.clone();
                tags.push(("mlflow.parentRunId".into(), run_id.clone()));
                let (child_id, _) = self.open_run(child, experiment, &tags)?;
                self.close_run(child, &child_id)?;
            }
            self.close_run(run, &run_id)
        };
        if let Err(e) = rest() {
            // Half-sent: not left RUNNING beside the run a later sync creates.
            let _ = self.post("runs/delete", json!({ "run_id": run_id }));
            return Err(e);
        }
        Ok(run_id)
    }

    /// Creates a run and logs its params, metrics and tags in batches; returns its id and
    /// artifact root.
    fn open_run(
        &self,
        run: &crate::store::Run,
        experiment: &str,
        tags: &[(String, String)],
    ) -> Result<(String, String), TrackingError> {
        let created = self.post(
            "runs/create",
            json!({
                "experiment_id": experiment,
                "run_name": run.name,
                "start_time": run.start_time,
                "tags": [],
            }),
        )?;
        let info = &created["run"]["info"];
        let run_id = info["run_id"].as_str().unwrap_or_default().to_string();
        if run_id.is_empty() {
            return Err(self.not_mlflow("runs/create", 200, "no run.info.run_id"));
        }
        let artifact_uri = info["artifact_uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let params: Vec<Value> = run
            .params
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": clip(v) }))
            .collect();
        let tags: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": clip(v) }))
            .collect();
        let metrics: Vec<Value> = run
            .metrics
            .iter()
            .map(|m| json!({ "key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step }))
            .collect();
        // Params and tags share one budget per call, metrics another.
        let mut keyed: Vec<(bool, Value)> = params.into_iter().map(|p| (true, p)).collect();
        keyed.extend(tags.into_iter().map(|t| (false, t)));
        let mut metrics = metrics.into_iter().peekable();
        let mut keyed = keyed.into_iter().peekable();
        while metrics.peek().is_some() || keyed.peek().is_some() {
            let m: Vec<Value> = metrics.by_ref().take(BATCH_METRICS).collect();
            let (mut p, mut t) = (Vec::new(), Vec::new());
            for (is_param, v) in keyed.by_ref().take(BATCH_PARAMS_AND_TAGS) {
                if is_param { p.push(v) } else { t.push(v) }
            }
            self.post(
                "runs/log-batch",
                json!({ "run_id": run_id, "metrics": m, "params": p, "tags": t }),
            )?;
        }
        Ok((run_id, artifact_uri))
    }

    fn close_run(&self, run: &crate::store::Run, run_id: &str) -> Result<(), TrackingError> {
        self.post(
            "runs/update",
            json!({ "run_id": run_id, "status": run.status, "end_time": run.end_time }),
        )
        .map(|_| ())
    }

    /// Uploads the run's artifacts through the server's artifact proxy
    /// (`mlflow-artifacts:/…` roots); other roots are left to the server's own storage.
    fn upload_artifacts(
        &self,
        stored: &StoredRun,
        artifact_uri: &str,
    ) -> Result<(), TrackingError> {
        if stored.run.artifacts.is_empty() {
            return Ok(());
        }
        let Some(root) = artifact_uri.strip_prefix("mlflow-artifacts:") else {
            tracing::warn!(
                artifact_uri,
                "the server does not proxy artifacts (start it with --serve-artifacts): artifacts stay in the local store"
            );
            return Ok(());
        };
        let root = root.trim_start_matches('/');
        for a in &stored.run.artifacts {
            // Its path under the run's artifacts (`model/weights.safetensors`), each segment
            // encoded.
            let name = a
                .strip_prefix("artifacts")
                .unwrap_or(a)
                .iter()
                .map(|s| encode(&s.to_string_lossy()))
                .collect::<Vec<_>>()
                .join("/");
            let bytes = crate::store::artifact_bytes(stored, a)?;
            let path = format!("/api/2.0/mlflow-artifacts/artifacts/{root}/{name}");
            self.requests.set(self.requests.get() + 1);
            let url = format!("{}{path}", self.uri);
            let mut r = self.agent.put(&url);
            if let Some(auth) = &self.auth {
                r = r.header("Authorization", auth);
            }
            let response = r.send(&bytes[..]).map_err(|_| TrackingError::Unreachable {
                uri: self.uri.clone(),
                call: path.clone(),
                reason: "the upload failed".into(),
            })?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(TrackingError::Server {
                    uri: self.uri.clone(),
                    call: path,
                    status,
                    detail: String::new(),
                });
            }
        }
        Ok(())
    }
}

fn clip(v: &str) -> String {
    if v.len() <= PARAM_VALUE_MAX {
        return v.to_string();
    }
    let mut end = PARAM_VALUE_MAX;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    v[..end].to_string()
}

/// RFC 3986's unreserved characters stay; everything else is percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encoding of a query value or path segment.
pub(crate) fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

fn base64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_encoding_as_the_rfcs() {
        assert_eq!(base64("user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64("a"), "YQ==");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(encode("qts exp/1"), "qts%20exp%2F1");
        assert_eq!(clip(&"é".repeat(4000)).len(), 6000);
    }
}

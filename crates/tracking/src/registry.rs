//! MLflow's model registry over REST: a registered model per qts model name, a model version
//! per promoted qts version (its files in the training run's `model/` artifacts, the qts
//! version as the `qts.version` tag), aliases set there as `qts models promote` sets them
//! locally; and the way back: a version's files downloaded through the artifact proxy, so
//! `NAME@ALIAS` loads on a machine that only has the server.

use serde_json::{Value, json};

use crate::error::TrackingError;
use crate::rest::{Client, encode};

/// A model version as the server describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    /// MLflow's version number (its own sequence).
    pub version: String,
    /// Where its files are (`mlflow-artifacts:/<experiment>/<run>/artifacts/model`).
    pub source: String,
    /// The run that logged them.
    pub run_id: String,
    /// The qts version it is (`qts.version` tag), when qts registered it.
    pub qts_version: Option<u32>,
}

fn version_of(v: &Value) -> ModelVersion {
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let qts_version = v["tags"].as_array().and_then(|tags| {
        tags.iter()
            .find(|t| t["key"] == "qts.version")
            .and_then(|t| t["value"].as_str()?.parse().ok())
    });
    ModelVersion {
        version: text("version"),
        source: text("source"),
        run_id: text("run_id"),
        qts_version,
    }
}

impl Client {
    /// The artifact root of a server run (`mlflow-artifacts:/…`).
    ///
    /// # Errors
    /// [`TrackingError`] from the server.
    pub fn artifact_uri(&self, run_id: &str) -> Result<String, TrackingError> {
        let v = self.call(
            "GET",
            &format!("/api/2.0/mlflow/runs/get?run_id={}", encode(run_id)),
            None,
        )?;
        Ok(v["run"]["info"]["artifact_uri"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Registers qts version `qts_version` of `name` (files at `source`, logged by `run_id`)
    /// as a model version, creating the registered model when it is new; a version already
    /// registered for the same qts version is reused.
    ///
    /// # Errors
    /// [`TrackingError`] from the server.
    pub fn register_version(
        &self,
        name: &str,
        qts_version: u32,
        source: &str,
        run_id: &str,
    ) -> Result<ModelVersion, TrackingError> {
        match self.post("registered-models/create", json!({ "name": name })) {
            Ok(_) => {}
            // RESOURCE_ALREADY_EXISTS: the model is there from an earlier promotion.
            Err(TrackingError::Server { status: 400, .. }) => {}
            Err(e) => return Err(e),
        }
        let found = self.call(
            "GET",
            &format!(
                "/api/2.0/mlflow/model-versions/search?filter={}",
                encode(&format!("name='{name}'"))
            ),
            None,
        )?;
        if let Some(v) = found["model_versions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(version_of)
            .find(|v| v.qts_version == Some(qts_version))
        {
            return Ok(v);
        }
        let created = self.post(
            "model-versions/create",
            json!({
                "name": name,
                "source": source,
                "run_id": run_id,
                "tags": [{"key": "qts.version", "value": qts_version.to_string()}],
            }),
        )?;
        Ok(version_of(&created["model_version"]))
    }

    /// Points `alias` of `name` at MLflow version `version`.
    ///
    /// # Errors
    /// [`TrackingError`] from the server.
    pub fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<(), TrackingError> {
        self.post(
            "registered-models/alias",
            json!({ "name": name, "alias": alias, "version": version }),
        )
        .map(|_| ())
    }

    /// The version `alias` of `name` points at; `None` when the server has no such alias.
    ///
    /// # Errors
    /// [`TrackingError`] from the server other than "not found".
    pub fn alias(&self, name: &str, alias: &str) -> Result<Option<ModelVersion>, TrackingError> {
        let path = format!(
            "/api/2.0/mlflow/registered-models/alias?name={}&alias={}",
            encode(name),
            encode(alias)
        );
        match self.call("GET", &path, None) {
            Ok(v) => Ok(Some(version_of(&v["model_version"]))),
            Err(TrackingError::Server {
                status: 404 | 400, ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bytes of `file` under a version's `source` (through the artifact proxy).
    ///
    /// # Errors
    /// [`TrackingError::Server`] for a source the proxy does not serve, or a missing file.
    pub fn download(&self, source: &str, file: &str) -> Result<Vec<u8>, TrackingError> {
        let Some(root) = source.strip_prefix("mlflow-artifacts:") else {
            return Err(TrackingError::Server {
                uri: self.uri().to_string(),
                call: source.to_string(),
                status: 0,
                detail: "not an mlflow-artifacts: source (start the server with --serve-artifacts)"
                    .into(),
            });
        };
        let root = root.trim_start_matches('/');
        self.bytes(&format!(
            "/api/2.0/mlflow-artifacts/artifacts/{root}/{}",
            encode(file)
        ))
    }
}

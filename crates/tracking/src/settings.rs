//! The tracking crate's settings: `mlflow` of `base_config.yaml`.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, Secret, Validate};

/// `mlflow`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlflowConfig {
    /// Whether runs are tracked.
    #[default(true)]
    pub enabled: bool,
    /// `http(s)://host:port` of a server that every run is sent to as it ends; empty keeps
    /// runs in the local store only (`qts experiments sync` sends them later).
    pub tracking_uri: String,
    /// The local run store: every tracked run is written here first (one folder per run), so
    /// nothing is lost when the server is down.
    #[default("artifacts/runs")]
    pub local_store: String,
    /// Experiment that runs are logged under.
    #[default("qts")]
    pub experiment_name: String,
    /// Basic-auth user of the tracking server.
    pub username: String,
    /// Basic-auth password of the tracking server.
    pub password: Secret,
    /// Bearer token of the tracking server.
    pub token: Secret,
}

impl MlflowConfig {
    /// Moves a user and password written into `tracking_uri` (`http://user:pw@host`) into
    /// `username` and `password` (the password a secret, so it is scrubbed from every text and
    /// never logged or sent as a param), leaving the URI without them. Fields already set win.
    pub fn take_uri_credentials(&mut self) {
        let (uri, userinfo) = qts_core::url::without_userinfo(&self.tracking_uri);
        let Some((user, password)) = userinfo else {
            return;
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        if self.username.is_empty() {
            self.username = decode(&user);
        }
        if !self.password.is_set() && !password.is_empty() {
            self.password = Secret::new(decode(&password));
        }
        self.tracking_uri = uri;
    }
}

impl Validate for MlflowConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        let uri = &self.tracking_uri;
        if uri.starts_with("file:") {
            c.fail(
                at,
                "tracking_uri",
                format!(
                    "`{uri}` is MLflow's deprecated file store: leave tracking_uri empty (runs stay in \
                     mlflow.local_store; `qts experiments ui` browses them) or give an http(s):// server"
                ),
            );
        } else if !uri.is_empty() && !["http://", "https://"].iter().any(|p| uri.starts_with(p)) {
            c.fail(
                at,
                "tracking_uri",
                format!("must be empty or start with http:// or https://, got `{uri}`"),
            );
        }
        if self.local_store.trim().is_empty() {
            c.fail(at, "local_store", "must not be empty");
        }
        if self.experiment_name.trim().is_empty() {
            c.fail(at, "experiment_name", "must not be empty");
        }
    }
}

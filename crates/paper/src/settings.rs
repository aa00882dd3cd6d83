//! The paper account's settings: `monitoring` and `paper` of `base_config.yaml`.

use serde::{Deserialize, Serialize};

use qts_core::config::{Checks, Secret, Validate};

/// `monitoring`: alerts on a live or paper-trading run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitoringConfig {
    /// Whether alerts are evaluated.
    pub enabled: bool,
    /// Alert when drawdown from the peak exceeds this fraction.
    pub drawdown_alert: f64,
    /// Alert when one day's loss exceeds this fraction of equity.
    pub daily_loss_alert: f64,
    /// Alert when the newest bar is older than this many trading days.
    pub stale_data_alert_days: u32,
    /// Decisions a model is judged on: alert when the directional accuracy or the interval
    /// coverage of the last this many out-of-sample forecasts falls below the model's own
    /// figure on its validation rows (0 turns the check off).
    pub model_window: usize,
    /// Webhook (Slack-compatible) that receives alerts; empty to only log them.
    pub webhook_url: Secret,
    /// Seconds a webhook delivery may take, retries included: a step never waits longer.
    pub webhook_timeout_seconds: f64,
    /// Attempts per alert (retried on 5xx, 429 and connection failures).
    pub webhook_attempts: u32,
    /// JSON-lines file every alert is appended to.
    pub alert_log: String,
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        MonitoringConfig {
            enabled: false,
            drawdown_alert: 0.10,
            daily_loss_alert: 0.03,
            stale_data_alert_days: 2,
            model_window: 20,
            webhook_url: Secret::default(),
            webhook_timeout_seconds: 5.0,
            webhook_attempts: 3,
            alert_log: "artifacts/alerts.jsonl".into(),
        }
    }
}

impl Validate for MonitoringConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        c.positive_fraction(at, "drawdown_alert", self.drawdown_alert);
        c.positive_fraction(at, "daily_loss_alert", self.daily_loss_alert);
        if self.webhook_url.is_set() && !webhook_scheme_ok(self.webhook_url.expose()) {
            c.fail(
                at,
                "webhook_url",
                "must be an https:// URL (http:// only to a loopback host)",
            );
        }
        if !(self.webhook_timeout_seconds.is_finite() && self.webhook_timeout_seconds > 0.0) {
            c.fail(
                at,
                "webhook_timeout_seconds",
                format!("must be positive, got {}", self.webhook_timeout_seconds),
            );
        }
        if self.webhook_attempts == 0 {
            c.fail(at, "webhook_attempts", "must be at least 1");
        }
        if self.alert_log.trim().is_empty() {
            c.fail(at, "alert_log", "must not be empty");
        }
    }
}

/// An alert may leave the machine only encrypted; plain http stays on a loopback host (a local
/// relay, a test receiver).
fn webhook_scheme_ok(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    if !url.starts_with("http://") {
        return false;
    }
    let host = qts_core::url::host_name(url);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `paper`: the paper-trading account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaperConfig {
    /// The account's SQLite file.
    pub database: String,
    /// Seconds a step waits for another step holding the account before it refuses.
    pub lock_timeout_seconds: f64,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            database: "artifacts/paper.sqlite".into(),
            lock_timeout_seconds: 10.0,
        }
    }
}

impl Validate for PaperConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        if self.database.trim().is_empty() {
            c.fail(at, "database", "must not be empty");
        }
        if !(self.lock_timeout_seconds.is_finite() && self.lock_timeout_seconds >= 0.0) {
            c.fail(
                at,
                "lock_timeout_seconds",
                format!("must be 0 or more, got {}", self.lock_timeout_seconds),
            );
        }
    }
}

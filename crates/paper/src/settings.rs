//! The paper account's settings: `monitoring` and `paper` of `base_config.yaml`.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, Secret, Validate};

/// `monitoring`: alerts on a live or paper-trading run.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitoringConfig {
    /// Whether alerts are evaluated.
    #[default(false)]
    pub enabled: bool,
    /// Alert when drawdown from the peak exceeds this fraction.
    #[default(0.10)]
    pub drawdown_alert: f64,
    /// Alert when one day's loss exceeds this fraction of equity.
    #[default(0.03)]
    pub daily_loss_alert: f64,
    /// Alert when the newest bar is older than this many trading days.
    #[default(2)]
    pub stale_data_alert_days: u32,
    /// Decisions a model is judged on: alert when the directional accuracy or the interval
    /// coverage of the last this many out-of-sample forecasts falls below the model's own
    /// figure on its validation rows (0 turns the check off).
    #[default(20)]
    pub model_window: usize,
    /// Webhook (Slack-compatible) that receives alerts; empty to only log them.
    pub webhook_url: Secret,
    /// Seconds a webhook delivery may take, retries included: a step never waits longer.
    #[default(5.0)]
    pub webhook_timeout_seconds: f64,
    /// Attempts per alert (retried on 5xx, 429 and connection failures).
    #[default(3)]
    pub webhook_attempts: u32,
    /// JSON-lines file every alert is appended to.
    #[default("artifacts/alerts.jsonl")]
    pub alert_log: String,
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
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaperConfig {
    /// The account's SQLite file.
    #[default("artifacts/paper.sqlite")]
    pub database: String,
    /// Seconds a step waits for another step holding the account before it refuses.
    #[default(10.0)]
    pub lock_timeout_seconds: f64,
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

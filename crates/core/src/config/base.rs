//! `base_config.yaml`: logging, compute, reproducibility, data validation rules, trading
//! parameters, risk limits, MLflow and monitoring.

use serde::{Deserialize, Serialize};

use super::checks::{Checks, Validate};
use super::redact::Secret;

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything, including per-bar detail.
    Trace,
    /// Diagnostic detail.
    Debug,
    /// Progress of a run.
    Info,
    /// Something looks wrong but the run goes on.
    Warn,
    /// The run failed.
    Error,
    /// Nothing.
    Off,
}

/// How console lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsoleFormat {
    /// Multi-line, readable.
    Pretty,
    /// One line per event.
    Compact,
    /// JSON lines (for a log collector reading stderr).
    Json,
}

/// When console output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    /// When stderr is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// How often the log file starts anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rotation {
    /// A file per minute (for tests of rotation).
    Minutely,
    /// A file per hour.
    Hourly,
    /// A file per day.
    Daily,
    /// One file forever.
    Never,
}

/// `logging`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// The level when neither `RUST_LOG` nor `-v`/`-q` says otherwise.
    pub level: LogLevel,
    /// Human output on stderr.
    pub console: ConsoleLog,
    /// JSON lines to a rotating file.
    pub file: FileLog,
}

/// `logging.console`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleLog {
    /// Whether to log to stderr at all.
    pub enabled: bool,
    /// Line format.
    pub format: ConsoleFormat,
    /// Colour.
    pub color: ColorChoice,
}

/// `logging.file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileLog {
    /// Whether to write the JSON log file.
    pub enabled: bool,
    /// Directory of the log files (created when missing).
    pub directory: String,
    /// File name prefix; files are `<prefix>.<date>.jsonl`.
    pub prefix: String,
    /// Rotation period.
    pub rotation: Rotation,
    /// How many rotated files to keep (0 keeps all).
    pub max_files: usize,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: LogLevel::Info,
            console: ConsoleLog {
                enabled: true,
                format: ConsoleFormat::Compact,
                color: ColorChoice::Auto,
            },
            file: FileLog {
                enabled: false,
                directory: "logs".into(),
                prefix: "qts".into(),
                rotation: Rotation::Daily,
                max_files: 14,
            },
        }
    }
}

impl Default for ConsoleLog {
    fn default() -> Self {
        LoggingConfig::default().console
    }
}

impl Default for FileLog {
    fn default() -> Self {
        LoggingConfig::default().file
    }
}

impl Validate for LoggingConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        if self.file.enabled && self.file.directory.trim().is_empty() {
            c.fail(
                at,
                "file.directory",
                "must name a directory when file logging is enabled",
            );
        }
        if self.file.prefix.trim().is_empty() || self.file.prefix.contains('/') {
            c.fail(
                at,
                "file.prefix",
                "must be a non-empty file name without `/`",
            );
        }
    }
}

/// Where numeric work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The CPU.
    Cpu,
    /// An NVIDIA GPU; an error when none is present.
    Cuda,
    /// CUDA when available, else the CPU.
    Auto,
}

/// `compute`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeConfig {
    /// Device for model training and inference.
    pub device: Device,
    /// Worker threads for CPU work; 0 means one per core.
    pub threads: usize,
    /// CUDA device ordinals to use (empty: all visible).
    pub gpus: Vec<usize>,
}

impl Default for ComputeConfig {
    fn default() -> Self {
        ComputeConfig {
            device: Device::Auto,
            threads: 0,
            gpus: Vec::new(),
        }
    }
}

impl Validate for ComputeConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        if self.threads > 1024 {
            c.fail(
                at,
                "threads",
                format!("must be at most 1024, got {}", self.threads),
            );
        }
        let mut seen = self.gpus.clone();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            c.fail(at, "gpus", "lists a GPU more than once");
        }
    }
}

/// `reproducibility`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReproducibilityConfig {
    /// Seed of every random number generator.
    pub seed: u64,
    /// Deterministic GPU kernels: cuDNN picks the same algorithm every run instead of
    /// benchmarking for the fastest (`false`: faster, not bit-identical). The CPU is always
    /// deterministic.
    pub deterministic: bool,
}

impl Default for ReproducibilityConfig {
    fn default() -> Self {
        ReproducibilityConfig {
            seed: 42,
            deterministic: true,
        }
    }
}

/// `validation`: thresholds of the data quality checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    /// Largest tolerated share of missing trading days before a finding is an error.
    pub missing_data_threshold: f64,
    /// A daily return further than this many standard deviations from the mean is an outlier.
    pub outlier_zscore: f64,
    /// A return outside `[Q1 - k·IQR, Q3 + k·IQR]` is an outlier; this is `k`.
    pub outlier_iqr_multiplier: f64,
    /// Age of the last bar, in trading days, beyond which data is stale.
    pub max_staleness_days: u32,
    /// Overnight moves within this relative distance of a split ratio are flagged.
    pub split_tolerance: f64,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        ValidationConfig {
            missing_data_threshold: 0.05,
            outlier_zscore: 4.0,
            outlier_iqr_multiplier: 3.0,
            max_staleness_days: 3,
            split_tolerance: 0.05,
        }
    }
}

impl Validate for ValidationConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        c.fraction(at, "missing_data_threshold", self.missing_data_threshold);
        c.positive(at, "outlier_zscore", self.outlier_zscore);
        c.positive(at, "outlier_iqr_multiplier", self.outlier_iqr_multiplier);
        c.within(at, "split_tolerance", self.split_tolerance, 0.0, 0.5);
    }
}

/// How often positions are rebalanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every bar.
    Daily,
    /// Once a week, on `rebalance_weekday` (or the next trading day).
    Weekly,
    /// On the first trading day of each month.
    Monthly,
    /// Only when the strategy's target changes (at the next open): a position is never
    /// resized in between (buy-and-hold's rule).
    Signal,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
}

/// `trading`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TradingConfig {
    /// The symbols traded.
    pub symbols: Vec<String>,
    /// Rebalancing schedule.
    pub rebalance: Frequency,
    /// Day of a weekly rebalance.
    pub rebalance_weekday: Weekday,
    /// Whether short positions are allowed.
    pub allow_short: bool,
    /// Whether fractional shares can be traded.
    pub fractional_shares: bool,
}

impl Default for TradingConfig {
    fn default() -> Self {
        TradingConfig {
            symbols: vec!["AAPL".into(), "MSFT".into()],
            rebalance: Frequency::Weekly,
            rebalance_weekday: Weekday::Monday,
            allow_short: false,
            fractional_shares: false,
        }
    }
}

impl Validate for TradingConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        for (i, s) in self.symbols.iter().enumerate() {
            let ok = !s.is_empty()
                && s.len() <= 12
                && s.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ".-^=".contains(ch));
            if !ok {
                c.fail(
                    at,
                    &format!("symbols[{i}]"),
                    format!("`{s}` is not a ticker symbol"),
                );
            }
        }
    }
}

/// `risk`: account-wide hard limits that every strategy and backtest obeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskLimits {
    /// Largest position as a fraction of equity.
    pub max_position_fraction: f64,
    /// Largest sum of |position values| as a multiple of equity (1 = no leverage).
    pub max_gross_exposure: f64,
    /// Drawdown from the equity peak at which trading stops.
    pub max_drawdown: f64,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_position_fraction: 0.25,
            max_gross_exposure: 1.0,
            max_drawdown: 0.25,
        }
    }
}

impl Validate for RiskLimits {
    fn validate(&self, at: &str, c: &mut Checks) {
        c.positive_fraction(at, "max_position_fraction", self.max_position_fraction);
        c.within(at, "max_gross_exposure", self.max_gross_exposure, 0.0, 10.0);
        c.positive(at, "max_gross_exposure", self.max_gross_exposure);
        c.positive_fraction(at, "max_drawdown", self.max_drawdown);
        if self.max_position_fraction > self.max_gross_exposure {
            c.fail(
                at,
                "max_position_fraction",
                format!(
                    "must not exceed {at}.max_gross_exposure ({}), got {}",
                    self.max_gross_exposure, self.max_position_fraction
                ),
            );
        }
    }
}

/// `mlflow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlflowConfig {
    /// Whether runs are tracked.
    pub enabled: bool,
    /// `http(s)://host:port` of a server that every run is sent to as it ends; empty keeps
    /// runs in the local store only (`qts experiments sync` sends them later).
    pub tracking_uri: String,
    /// The local run store: every tracked run is written here first (one folder per run), so
    /// nothing is lost when the server is down.
    pub local_store: String,
    /// Experiment that runs are logged under.
    pub experiment_name: String,
    /// Basic-auth user of the tracking server.
    pub username: String,
    /// Basic-auth password of the tracking server.
    pub password: Secret,
    /// Bearer token of the tracking server.
    pub token: Secret,
}

impl Default for MlflowConfig {
    fn default() -> Self {
        MlflowConfig {
            enabled: true,
            tracking_uri: String::new(),
            local_store: "artifacts/runs".into(),
            experiment_name: "qts".into(),
            username: String::new(),
            password: Secret::default(),
            token: Secret::default(),
        }
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
    let host = crate::url::host_name(url);
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

/// `registry`: where trained and imported models are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Directory of the local model registry (`<dir>/<NAME>/<VERSION>/`).
    pub directory: String,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            directory: "artifacts/models".into(),
        }
    }
}

impl Validate for RegistryConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        if self.directory.trim().is_empty() {
            c.fail(at, "directory", "must not be empty");
        }
    }
}

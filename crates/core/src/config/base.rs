//! `base_config.yaml`'s sections that belong to no domain crate: logging and reproducibility.
//! The others are their crates' (`compute` and `registry` of qts-models, `validation` of
//! qts-data, `trading` and `risk` of qts-backtest, `mlflow` of qts-tracking, `monitoring` and
//! `paper` of qts-paper).

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use super::checks::{Checks, Validate};

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
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// The level when neither `RUST_LOG` nor `-v`/`-q` says otherwise.
    #[default(LogLevel::Info)]
    pub level: LogLevel,
    /// Human output on stderr.
    pub console: ConsoleLog,
    /// JSON lines to a rotating file.
    pub file: FileLog,
}

/// `logging.console`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleLog {
    /// Whether to log to stderr at all.
    #[default(true)]
    pub enabled: bool,
    /// Line format.
    #[default(ConsoleFormat::Compact)]
    pub format: ConsoleFormat,
    /// Colour.
    #[default(ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `logging.file`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileLog {
    /// Whether to write the JSON log file.
    #[default(false)]
    pub enabled: bool,
    /// Directory of the log files (created when missing).
    #[default("logs")]
    pub directory: String,
    /// File name prefix; files are `<prefix>.<date>.jsonl`.
    #[default("qts")]
    pub prefix: String,
    /// Rotation period.
    #[default(Rotation::Daily)]
    pub rotation: Rotation,
    /// How many rotated files to keep (0 keeps all).
    #[default(14)]
    pub max_files: usize,
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

/// `reproducibility`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReproducibilityConfig {
    /// Seed of every random number generator.
    #[default(42)]
    pub seed: u64,
    /// Deterministic GPU kernels: cuDNN picks the same algorithm every run instead of
    /// benchmarking for the fastest (`false`: faster, not bit-identical). The CPU is always
    /// deterministic.
    #[default(true)]
    pub deterministic: bool,
}

//! Logging with `tracing`: human lines on stderr, JSON lines to a rotating file, and a run span
//! whose fields (run id, experiment, model type, symbol) appear on every line inside the run.
//!
//! Levels: the configured `logging.level`, replaced by `RUST_LOG` when set, shifted by
//! `-v`/`-q` on the console only (a quiet console does not silence the production file).
//!
//! ```no_run
//! use qts_core::config::LoggingConfig;
//! use qts_core::logging::{self, LogOptions, RunContext};
//!
//! let redactor = qts_core::config::Redactor::default();
//! let _guard = logging::init(&LoggingConfig::default(), &LogOptions::default(), &redactor).unwrap();
//! let span = RunContext::new("backtest").symbol("AAPL").span();
//! let _entered = span.enter();
//! tracing::info!(trades = 12, "backtest finished"); // carries run_id, command and symbol
//! ```

use std::io::IsTerminal;
use std::sync::Arc;

use tracing::Span;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation as AppenderRotation};
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::config::{ColorChoice, ConsoleFormat, LogLevel, LoggingConfig, Redactor, Rotation};

/// Command-line adjustments to the configured logging.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `-v` count minus `-q` count: each step moves the console one level.
    pub verbosity: i8,
    /// The value of `RUST_LOG`, if set; it replaces the configured level.
    pub rust_log: Option<String>,
}

impl LogOptions {
    /// Options from the flags' counts and the process's `RUST_LOG`.
    pub fn from_env(verbose: u8, quiet: u8) -> Self {
        LogOptions {
            verbosity: (i16::from(verbose) - i16::from(quiet)).clamp(-8, 8) as i8,
            rust_log: std::env::var("RUST_LOG")
                .ok()
                .filter(|v| !v.trim().is_empty()),
        }
    }
}

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// `RUST_LOG` is not a valid filter.
    #[error("RUST_LOG is not a valid filter (`{value}`): {reason}")]
    Filter {
        /// The variable's value.
        value: String,
        /// The parser's message.
        reason: String,
        /// The parser's error.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// The log directory cannot be created or written.
    #[error("cannot write log files in {directory} (logging.file.directory): {reason}")]
    File {
        /// The directory.
        directory: String,
        /// The OS error's message.
        reason: String,
        /// The OS error (or the appender's).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A global subscriber is already installed in this process.
    #[error("logging was already initialised in this process")]
    AlreadyInitialised,
}

/// Keeps the file writer's background thread alive; drop it last so buffered lines are written.
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

/// The level after `steps` of `-v` (positive) or `-q` (negative) from `base`.
pub fn shift(base: LogLevel, steps: i8) -> LogLevel {
    const ORDER: [LogLevel; 6] = [
        LogLevel::Off,
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
    ];
    let at = ORDER.iter().position(|l| *l == base).unwrap_or(3) as i16;
    ORDER[(at + i16::from(steps)).clamp(0, 5) as usize]
}

/// The crates whose events the configured level (and `-v`/`-q`) applies to; everything else
/// logs warnings and errors only, so `-vv` shows qts's detail and not an HTTP library's
/// (whose debug lines would also print request URLs). `RUST_LOG` can still ask for anything.
const OWN_CRATES: [&str; 4] = ["qts", "qts_cli", "qts_core", "qts_data"];

fn directive(level: LogLevel) -> String {
    let own: Vec<String> = OWN_CRATES
        .iter()
        .map(|c| format!("{c}={}", level_name(level)))
        .collect();
    let others = if level < LogLevel::Warn {
        "warn"
    } else {
        level_name(level)
    };
    format!("{others},{}", own.join(","))
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
        LogLevel::Off => "off",
    }
}

/// The filter directive of the file sink and, before `-v`/`-q`, of the console.
///
/// # Errors
/// [`LoggingError::Filter`] when `RUST_LOG` does not parse.
pub fn base_filter(
    configured: LogLevel,
    rust_log: Option<&str>,
) -> Result<EnvFilter, LoggingError> {
    match rust_log {
        Some(value) => EnvFilter::try_new(value).map_err(|e| LoggingError::Filter {
            value: value.to_string(),
            reason: e.to_string(),
            source: e,
        }),
        None => Ok(EnvFilter::new(directive(configured))),
    }
}

/// The console's filter: `-v`/`-q` shift the configured level and win over `RUST_LOG`.
///
/// # Errors
/// [`LoggingError::Filter`] when `RUST_LOG` is used and does not parse.
pub fn console_filter(cfg: &LoggingConfig, opts: &LogOptions) -> Result<EnvFilter, LoggingError> {
    if opts.verbosity != 0 {
        return Ok(EnvFilter::new(directive(shift(cfg.level, opts.verbosity))));
    }
    base_filter(cfg.level, opts.rust_log.as_deref())
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber. Every line written, to the console or the file, has the
/// secrets `redactor` knows replaced by `***`: a last line of defence for text we do not
/// produce ourselves (a library's debug output of a request URL, say).
///
/// # Errors
/// [`LoggingError`] for a bad `RUST_LOG`, an unwritable log directory, or a second call.
pub fn init(
    cfg: &LoggingConfig,
    opts: &LogOptions,
    redactor: &Redactor,
) -> Result<LogGuard, LoggingError> {
    let redactor = Arc::new(redactor.clone());
    let mut layers: Vec<BoxedLayer> = Vec::new();
    if cfg.console.enabled {
        layers.push(console_layer(cfg, opts, &redactor)?);
    }
    let mut guard = None;
    if cfg.file.enabled {
        let (layer, g) = file_layer(cfg, opts, &redactor)?;
        layers.push(layer);
        guard = Some(g);
    }
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|_| LoggingError::AlreadyInitialised)?;
    Ok(LogGuard { _file: guard })
}

fn console_layer(
    cfg: &LoggingConfig,
    opts: &LogOptions,
    redactor: &Arc<Redactor>,
) -> Result<BoxedLayer, LoggingError> {
    let filter = console_filter(cfg, opts)?;
    let ansi = match cfg.console.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let base = tracing_subscriber::fmt::layer()
        .with_writer(Scrubbing {
            inner: std::io::stderr,
            redactor: redactor.clone(),
        })
        .with_ansi(ansi)
        .with_target(false);
    Ok(match cfg.console.format {
        ConsoleFormat::Pretty => base.pretty().with_filter(filter).boxed(),
        ConsoleFormat::Compact => base.compact().with_filter(filter).boxed(),
        ConsoleFormat::Json => base
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
    })
}

fn file_layer(
    cfg: &LoggingConfig,
    opts: &LogOptions,
    redactor: &Arc<Redactor>,
) -> Result<(BoxedLayer, WorkerGuard), LoggingError> {
    let file = &cfg.file;
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| LoggingError::File {
        directory: file.directory.clone(),
        reason: e.to_string(),
        source: e,
    };
    std::fs::create_dir_all(&file.directory).map_err(|e| fail(e.into()))?;
    let rotation = match file.rotation {
        Rotation::Minutely => AppenderRotation::MINUTELY,
        Rotation::Hourly => AppenderRotation::HOURLY,
        Rotation::Daily => AppenderRotation::DAILY,
        Rotation::Never => AppenderRotation::NEVER,
    };
    let mut builder = RollingFileAppender::builder()
        .rotation(rotation)
        .filename_prefix(&file.prefix)
        .filename_suffix("jsonl");
    if file.max_files > 0 {
        builder = builder.max_log_files(file.max_files);
    }
    let appender = builder.build(&file.directory).map_err(|e| fail(e.into()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = base_filter(cfg.level, opts.rust_log.as_deref())?;
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(Scrubbing {
            inner: writer,
            redactor: redactor.clone(),
        })
        .with_ansi(false)
        .with_current_span(true)
        .with_span_list(true)
        .flatten_event(true)
        .with_filter(filter)
        .boxed();
    Ok((layer, guard))
}

/// Wraps a writer factory so that each formatted line has known secrets replaced.
#[derive(Clone)]
struct Scrubbing<M> {
    inner: M,
    redactor: Arc<Redactor>,
}

struct ScrubWriter<W> {
    inner: W,
    redactor: Arc<Redactor>,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Scrubbing<M> {
    type Writer = ScrubWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubWriter {
            inner: self.inner.make_writer(),
            redactor: self.redactor.clone(),
        }
    }
}

impl<W: std::io::Write> std::io::Write for ScrubWriter<W> {
    // The fmt layer formats a whole event, then writes it in one call.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner
            .write_all(self.redactor.scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What a run is: its fields go on the run span and so on every line logged inside it.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// The command (`backtest`, `train`, …).
    pub command: String,
    /// Unique id of this run (generated when not given).
    pub run_id: String,
    /// MLflow experiment.
    pub experiment: Option<String>,
    /// Model architecture or name.
    pub model_type: Option<String>,
    /// Symbol (or comma-separated symbols).
    pub symbol: Option<String>,
}

impl RunContext {
    /// A context for `command` with a fresh run id.
    pub fn new(command: &str) -> Self {
        RunContext {
            command: command.to_string(),
            run_id: new_run_id(),
            ..RunContext::default()
        }
    }

    /// Sets the experiment.
    pub fn experiment(mut self, name: impl Into<String>) -> Self {
        self.experiment = Some(name.into());
        self
    }

    /// Sets the model type.
    pub fn model_type(mut self, name: impl Into<String>) -> Self {
        self.model_type = Some(name.into());
        self
    }

    /// Sets the symbol.
    pub fn symbol(mut self, symbol: impl Into<String>) -> Self {
        self.symbol = Some(symbol.into());
        self
    }

    /// The `run` span; enter it for the duration of the run.
    pub fn span(&self) -> Span {
        let span = tracing::info_span!(
            "run",
            run_id = %self.run_id,
            command = %self.command,
            experiment = tracing::field::Empty,
            model_type = tracing::field::Empty,
            symbol = tracing::field::Empty,
        );
        if let Some(v) = &self.experiment {
            span.record("experiment", v.as_str());
        }
        if let Some(v) = &self.model_type {
            span.record("model_type", v.as_str());
        }
        if let Some(v) = &self.symbol {
            span.record("symbol", v.as_str());
        }
        span
    }
}

/// A run id: UTC time to the millisecond plus the process id, sortable and unique on a
/// machine (no RNG, so it does not disturb seeded streams).
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}-{:x}", now.as_millis(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_shifts_and_saturates() {
        assert_eq!(shift(LogLevel::Info, 1), LogLevel::Debug);
        assert_eq!(shift(LogLevel::Info, 2), LogLevel::Trace);
        assert_eq!(shift(LogLevel::Info, 5), LogLevel::Trace);
        assert_eq!(shift(LogLevel::Info, -1), LogLevel::Warn);
        assert_eq!(shift(LogLevel::Info, -3), LogLevel::Off);
        assert_eq!(shift(LogLevel::Warn, -9), LogLevel::Off);
    }

    #[test]
    fn flags_beat_rust_log_which_beats_the_config() {
        let cfg = LoggingConfig::default();
        let rust_log = Some("qts=trace".to_string());
        let flagged = LogOptions {
            verbosity: -1,
            rust_log: rust_log.clone(),
        };
        let warn = console_filter(&cfg, &flagged).unwrap().to_string();
        assert!(warn.contains("qts_data=warn"), "{warn}");
        let env_only = LogOptions {
            verbosity: 0,
            rust_log,
        };
        assert_eq!(
            console_filter(&cfg, &env_only).unwrap().to_string(),
            "qts=trace"
        );
        let nothing = LogOptions::default();
        let info = console_filter(&cfg, &nothing).unwrap().to_string();
        assert!(
            info.contains("qts_core=info") && info.contains("qts=info"),
            "{info}"
        );
    }

    #[test]
    fn a_bad_rust_log_is_an_error_naming_it() {
        let err = base_filter(LogLevel::Info, Some("qts=loud")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("RUST_LOG is not a valid filter"),
            "{err}"
        );
        // The parser's error is kept as the cause, and the message already says it.
        let cause = std::error::Error::source(&err)
            .expect("the parser's error")
            .to_string();
        assert!(err.to_string().ends_with(&cause), "{err} / {cause}");
    }
}

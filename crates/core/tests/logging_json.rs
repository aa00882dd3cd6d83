//! The JSON log file: every line parses and lines inside a run carry the run's span fields.
//! (Its own test binary: a process can install only one global subscriber. Events name the
//! `qts_core` target: the configured level applies to qts crates, other targets log warnings.)

use qts_core::config::{ConsoleLog, FileLog, LogLevel, LoggingConfig, Rotation};
use qts_core::logging::{self, LogOptions, RunContext};

#[test]
fn json_lines_parse_and_carry_the_run_span_fields() {
    let dir = tempfile::tempdir().unwrap();
    let defaults = LoggingConfig::default();
    let cfg = LoggingConfig {
        level: LogLevel::Debug,
        console: ConsoleLog {
            enabled: false,
            ..defaults.console
        },
        file: FileLog {
            enabled: true,
            directory: dir.path().join("logs").display().to_string(),
            rotation: Rotation::Never,
            ..defaults.file
        },
    };
    // -q silences the console only; the file keeps the configured level.
    let opts = LogOptions {
        verbosity: -2,
        rust_log: None,
    };
    let mut redactor = qts_core::config::Redactor::default();
    redactor.add("sk-log-secret");
    let guard = logging::init(&cfg, &opts, &redactor).unwrap();
    tracing::info!(target: "qts_core", "outside any run");
    {
        let ctx = RunContext::new("backtest")
            .experiment("exp-7")
            .model_type("lstm")
            .symbol("AAPL");
        let span = ctx.span();
        let _in = span.enter();
        tracing::debug!(target: "qts_core", bars = 2148, "loaded bars");
        tracing::warn!(target: "qts_core", "missing 3 trading days");
        tracing::info!(target: "qts_core", url = "https://x/?apikey=sk-log-secret", "a library printed a URL");
    }
    tracing::trace!(target: "qts_core", "below the configured level: not written");
    drop(guard); // flushes the background writer

    let path = dir.path().join("logs/qts.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(!text.contains("sk-log-secret"), "{text}");
    assert_eq!(lines[3]["url"], "https://x/?apikey=***");
    assert_eq!(lines[0]["message"], "outside any run");
    assert!(lines[0].get("span").is_none());
    for line in &lines[1..] {
        let span = &line["span"];
        assert_eq!(span["name"], "run", "{line}");
        assert_eq!(span["command"], "backtest");
        assert_eq!(span["experiment"], "exp-7");
        assert_eq!(span["model_type"], "lstm");
        assert_eq!(span["symbol"], "AAPL");
        assert!(span["run_id"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(line["timestamp"].is_string());
    }
    assert_eq!(lines[1]["level"], "DEBUG");
    assert_eq!(lines[1]["bars"], 2148);
    assert_eq!(lines[2]["level"], "WARN");
    assert_eq!(
        logging::init(&cfg, &opts, &redactor)
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some("logging was already initialised in this process")
    );
}

//! Scenario tests of configuration loading: the shipped files, layering, interpolation,
//! every kind of bad input, and redaction.

#![allow(clippy::unwrap_used)] // test helpers panic on setup failure by design

use std::path::{Path, PathBuf};

use qts_config::{ConfigLoader, QtsConfig};
use qts_core::config::{ConfigError, Environment, LogLevel, Section, Source};

fn repo_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

fn no_env() -> Environment {
    Environment::from_vars(Vec::<(String, String)>::new())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn problems(err: ConfigError) -> Vec<(String, String, String)> {
    err.problems()
        .iter()
        .map(|p| (p.source.to_string(), p.key.clone(), p.message.clone()))
        .collect()
}

#[test]
fn shipped_files_are_valid_and_document_the_built_in_defaults() {
    let loaded = ConfigLoader::from_dir(&repo_config_dir())
        .load(&no_env())
        .unwrap();
    assert_eq!(
        loaded.files.len(),
        4,
        "all four shipped files are read: {:?}",
        loaded.files
    );
    // The files are the documentation of the defaults: they must not drift apart.
    assert_eq!(loaded.config, QtsConfig::default());
}

#[test]
fn layers_apply_defaults_then_file_then_overrides() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base_config.yaml",
        "logging:\n  level: warn\nreproducibility:\n  seed: 1\n",
    );
    let loaded = ConfigLoader::from_dir(dir.path())
        .override_value("reproducibility.seed=99")
        .override_value("data.features.sma=[3, 7]")
        .load(&no_env())
        .unwrap();
    let c = &loaded.config;
    assert_eq!(c.logging.level, LogLevel::Warn, "file beats default");
    assert_eq!(c.reproducibility.seed, 99, "--set beats file");
    assert_eq!(c.data.features.sma, vec![3, 7], "--set takes YAML values");
    assert!(
        c.reproducibility.deterministic,
        "untouched keys keep their default"
    );
    assert!(matches!(
        loaded.origins.lookup("logging.level"),
        Source::File { line: Some(2), .. }
    ));
    assert!(matches!(
        loaded.origins.lookup("reproducibility.seed"),
        Source::Override(_)
    ));
    assert_eq!(loaded.origins.lookup("compute.threads"), Source::Default);
}

#[test]
fn an_explicit_section_file_replaces_the_directory_one() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "backtest_config.yaml",
        "initial_capital: 5000\n",
    );
    let other = write(dir.path(), "mine.yaml", "initial_capital: 7000\n");
    let loaded = ConfigLoader::from_dir(dir.path())
        .file(Section::Backtest, &other)
        .load(&no_env())
        .unwrap();
    assert_eq!(loaded.config.backtest.initial_capital, 7000.0);
}

#[test]
fn an_explicit_file_that_does_not_exist_is_an_error() {
    let err = ConfigLoader::new()
        .file(Section::Model, "/nonexistent/model.yaml")
        .load(&no_env())
        .unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/model.yaml"));
    // The OS error is kept as the cause; the message ends with its text.
    let cause = std::error::Error::source(&err)
        .expect("the OS error")
        .to_string();
    assert!(err.to_string().ends_with(&cause), "{err} / {cause}");
}

#[test]
fn interpolation_reads_variables_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base_config.yaml",
        "compute:\n  threads: ${QTS_THREADS:-3}\nmlflow:\n  experiment_name: \"${EXP}\"\n",
    );
    let env = Environment::from_vars([("EXP", "2024")]);
    let c = ConfigLoader::from_dir(dir.path())
        .load(&env)
        .unwrap()
        .config;
    assert_eq!(c.compute.threads, 3);
    assert_eq!(
        c.mlflow.experiment_name, "2024",
        "a quoted placeholder stays a string"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(
        dir.path(),
        "base_config.yaml",
        "logging:\n  level: loud\n  colour: red\ncompute:\n  threads: many\nrisk:\n  max_drawdown: 1.5\nmlflow:\n  tracking_uri: ${MLFLOW_URI}\n",
    );
    write(
        dir.path(),
        "data_sources.yaml",
        "features:\n  macd: {fast: 26, slow: 12, signal: 9}\n",
    );
    let err = ConfigLoader::from_dir(dir.path())
        .load(&no_env())
        .unwrap_err();
    let found = problems(err);
    let base = base.display().to_string();
    let expect = [
        (
            format!("{base}:2"),
            "logging.level",
            "unknown variant `loud`",
        ),
        (
            format!("{base}:3"),
            "logging.colour",
            "unknown key `colour`",
        ),
        (
            format!("{base}:5"),
            "compute.threads",
            "invalid type: string \"many\"",
        ),
        (
            format!("{base}:7"),
            "risk.max_drawdown",
            "greater than 0 and at most 1",
        ),
        (
            format!("{base}:9"),
            "mlflow.tracking_uri",
            "`MLFLOW_URI` is not set",
        ),
        (
            "data_sources.yaml:2".into(),
            "data.features.macd.fast",
            "must be less than",
        ),
    ];
    for (source, key, message) in expect {
        assert!(
            found
                .iter()
                .any(|(s, k, m)| s.ends_with(&source) && k == key && m.contains(message)),
            "missing {source} {key} {message:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), 6, "{found:#?}");
}

#[test]
fn yaml_syntax_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "backtest_config.yaml",
        "initial_capital: 1\ncosts: [1, 2\n",
    );
    let found = problems(
        ConfigLoader::from_dir(dir.path())
            .load(&no_env())
            .unwrap_err(),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let (source, key, message) = &found[0];
    assert!(source.contains("backtest_config.yaml:"), "{source}");
    assert_eq!(key, "backtest");
    assert!(message.starts_with("invalid YAML"), "{message}");
}

#[test]
fn a_file_that_is_not_a_mapping_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base_config.yaml", "- just\n- a list\n");
    let found = problems(
        ConfigLoader::from_dir(dir.path())
            .load(&no_env())
            .unwrap_err(),
    );
    assert!(found[0].2.contains("must be a mapping"), "{found:?}");
}

#[test]
fn bad_overrides_name_the_argument() {
    let err = ConfigLoader::new()
        .override_value("backtest.initial_capital=-5")
        .override_value("backtest.no_such_key=1")
        .override_value("logging.level")
        .override_value("reproducibility.seed.deeper=1")
        .load(&no_env())
        .unwrap_err();
    let found = problems(err);
    let has = |arg: &str, msg: &str| {
        found
            .iter()
            .any(|(s, _, m)| s == &format!("--set {arg}") && m.contains(msg))
    };
    assert!(
        has("backtest.initial_capital=-5", "greater than 0"),
        "{found:#?}"
    );
    assert!(
        has("backtest.no_such_key=1", "unknown key `no_such_key`"),
        "{found:#?}"
    );
    assert!(has("logging.level", "expected KEY=VALUE"), "{found:#?}");
    assert!(
        has("reproducibility.seed.deeper=1", "has no `deeper`"),
        "{found:#?}"
    );
}

#[test]
fn relations_between_keys_and_files_are_checked() {
    let err = ConfigLoader::new()
        .override_value("model.data.purge_gap=10")
        .override_value("backtest.risk.circuit_breaker.max_drawdown=0.5")
        .override_value("model.search.space={lstm.hiden_size: {type: choice, values: [1]}}")
        .load(&no_env())
        .unwrap_err();
    let keys: Vec<String> = problems(err).into_iter().map(|(_, k, _)| k).collect();
    assert!(
        keys.contains(&"model.data.purge_gap".to_string()),
        "{keys:?}"
    );
    assert!(keys.contains(&"backtest.risk.circuit_breaker.max_drawdown".to_string()));
    assert!(keys.contains(&"model.search.space.lstm.hiden_size".to_string()));
}

#[test]
fn secrets_from_the_environment_never_leak() {
    let dir = tempfile::tempdir().unwrap();
    let key = "sk-TEST-4242-secret";
    write(
        dir.path(),
        "data_sources.yaml",
        "providers:\n  fmp:\n    api_key: ${FMP_API_KEY}\n    timeout_secs: ${FMP_API_KEY}\n",
    );
    let env = Environment::from_vars([("FMP_API_KEY", key)]);
    // A secret pushed into a numeric field: serde's message would quote it.
    let err = ConfigLoader::from_dir(dir.path())
        .override_value(format!("mlflow.experiment_name=${{FMP_API_KEY}}x{key}"))
        .override_value("mlflow.tracking_uri=${FMP_API_KEY}")
        .load(&env)
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("timeout_secs"), "{text}");
    assert!(text.contains("tracking_uri"), "{text}");
    assert!(!text.contains(key), "secret leaked into: {text}");

    let loaded = ConfigLoader::from_dir(&repo_config_dir())
        .load(&env)
        .unwrap();
    assert_eq!(loaded.config.data.providers.fmp.api_key.expose(), key);
    let json = serde_json::to_string(&loaded.config).unwrap();
    assert!(!json.contains(key));
    assert!(!format!("{:?}", loaded.config).contains(key));
    assert_eq!(
        loaded.redactor.scrub(&format!("url?apikey={key}")),
        "url?apikey=***"
    );
}

#[test]
fn the_fingerprint_follows_the_settings_but_not_the_secrets() {
    let a = ConfigLoader::new()
        .override_value("data.providers.fmp.api_key=old-key")
        .load(&no_env())
        .unwrap()
        .config;
    let b = ConfigLoader::new()
        .override_value("data.providers.fmp.api_key=rotated-key")
        .load(&no_env())
        .unwrap()
        .config;
    let c = ConfigLoader::new()
        .override_value("data.providers.fmp.api_key=old-key")
        .override_value("reproducibility.seed=7")
        .load(&no_env())
        .unwrap()
        .config;
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.fingerprint(), c.fingerprint());
    assert_eq!(a.fingerprint().len(), 64);
}

#[test]
fn a_webhook_is_https_or_http_to_a_loopback_host() {
    for ok in [
        "https://hooks.example.com/T0/B0/secret",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9/x",
    ] {
        let loaded = ConfigLoader::new()
            .override_value(format!("monitoring.webhook_url={ok}"))
            .load(&no_env());
        assert!(loaded.is_ok(), "{ok}: {:?}", loaded.err());
    }
    for bad in [
        "http://hooks.example.com/secret",
        "http://127.0.0.1.evil.com/x",
        "ftp://127.0.0.1/x",
    ] {
        let err = ConfigLoader::new()
            .override_value(format!("monitoring.webhook_url={bad}"))
            .load(&no_env())
            .unwrap_err();
        let found = problems(err);
        assert!(
            found
                .iter()
                .any(|(_, k, m)| k == "monitoring.webhook_url" && m.contains("https://")),
            "{bad}: {found:#?}"
        );
        // The URL is a secret: the message never repeats it.
        assert!(
            !found
                .iter()
                .any(|(s, _, m)| m.contains("secret") || s.contains("secret")),
            "{found:#?}"
        );
    }
    let err = ConfigLoader::new()
        .override_value("paper.lock_timeout_seconds=-1")
        .override_value("monitoring.webhook_attempts=0")
        .load(&no_env())
        .unwrap_err();
    let keys: Vec<String> = problems(err).into_iter().map(|(_, k, _)| k).collect();
    assert!(
        keys.contains(&"paper.lock_timeout_seconds".to_string()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"monitoring.webhook_attempts".to_string()),
        "{keys:?}"
    );
}

#[test]
fn a_short_run_names_the_warm_up_to_lower() {
    let err = ConfigLoader::from_dir(&repo_config_dir())
        .override_value("model.training.epochs=2")
        .load(&no_env())
        .unwrap_err();
    let found = problems(err);
    assert!(
        found
            .iter()
            .any(|(_, k, m)| k == "model.training.warmup_epochs"
                && m.contains("--set model.training.warmup_epochs=1")),
        "{found:#?}"
    );
}

//! `qts config show|validate` as a user runs them: exit statuses, messages, layering,
//! `.env`, redaction in output, errors and log files.

#![allow(clippy::unwrap_used)] // test helpers panic on setup failure by design

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const SECRET: &str = "sk-CLI-TEST-998877";

fn repo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// `qts` run in an empty temporary directory, with a clean environment for our variables.
fn qts(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qts"));
    cmd.current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("FMP_API_KEY")
        .env_remove("QTS_CONFIG_DIR")
        .env("NO_COLOR", "1");
    cmd
}

fn json_of(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(output)))
}

fn no_panic() -> impl Predicate<str> {
    predicate::str::contains("panicked")
        .or(predicate::str::contains("RUST_BACKTRACE"))
        .not()
}

#[test]
fn version_and_help_read_well() {
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(format!(
            "qts {}",
            env!("CARGO_PKG_VERSION")
        )));
    qts(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("config").and(predicate::str::contains("Exit status")));
    qts(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Usage"));
}

#[test]
fn show_prints_the_shipped_configuration_as_yaml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo_config();
    let out = qts(dir.path())
        .arg("-C")
        .arg(&config)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(yaml.starts_with("logging:\n  level: info\n"), "{yaml}");
    assert!(yaml.contains("initial_capital: 100000"), "{yaml}");

    let out = qts(dir.path())
        .arg("-C")
        .arg(&config)
        .args(["config", "show", "--json"])
        .output()
        .unwrap();
    let v = json_of(&out.stdout);
    assert_eq!(v["model"]["lstm"]["hidden_size"], 128);
    assert_eq!(v["model"]["data"]["lookback"], 60);
    assert_eq!(v["validation"]["missing_data_threshold"], 0.05);
    assert_eq!(v["data"]["default_provider"], "fmp");
}

#[test]
fn precedence_is_default_then_file_then_set() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base_config.yaml"),
        "reproducibility:\n  seed: 5\ncompute:\n  threads: 2\n",
    )
    .unwrap();
    let out = qts(dir.path())
        .args([
            "-C",
            ".",
            "--set",
            "compute.threads=8",
            "config",
            "show",
            "--json",
        ])
        .output()
        .unwrap();
    let v = json_of(&out.stdout);
    assert_eq!(v["reproducibility"]["seed"], 5, "file over default");
    assert_eq!(v["compute"]["threads"], 8, "--set over file");
    assert_eq!(v["reproducibility"]["deterministic"], true, "default");

    qts(dir.path())
        .args([
            "-C",
            ".",
            "-s",
            "compute.threads=8",
            "config",
            "show",
            "--sources",
        ])
        .args(["--section", "compute"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "compute.threads = 8  # --set compute.threads=8",
        ))
        .stdout(predicate::str::contains(
            "compute.device = \"auto\"  # built-in default",
        ));
    qts(dir.path())
        .args(["-C", ".", "config", "show", "--sources"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "reproducibility.seed = 5  # ./base_config.yaml:2",
        ));
}

#[test]
fn dotenv_fills_placeholders_and_the_process_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base_config.yaml"),
        "mlflow:\n  experiment_name: ${QTS_TEST_EXP}\n  tracking_uri: ${QTS_TEST_URI}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "QTS_TEST_EXP=from-dotenv\nQTS_TEST_URI=http://127.0.0.1:5000\n",
    )
    .unwrap();
    let out = qts(dir.path())
        .env("QTS_TEST_URI", "http://127.0.0.1:5999")
        .args(["-C", ".", "config", "show", "--json", "--section", "mlflow"])
        .output()
        .unwrap();
    let v = json_of(&out.stdout);
    assert_eq!(v["experiment_name"], "from-dotenv");
    assert_eq!(v["tracking_uri"], "http://127.0.0.1:5999");

    qts(dir.path())
        .args(["-C", ".", "--env-file", "missing.env", "config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.env"));
}

#[test]
fn bad_configuration_exits_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("backtest_config.yaml"),
        "initial_capital: -100\ncosts:\n  commission_rate: lots\n  comission_fixed: 1\nmonte_carlo:\n  simulations: ${QTS_UNSET_VAR}\n",
    )
    .unwrap();
    qts(dir.path())
        .args(["-C", ".", "config", "validate"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("invalid configuration (4 problems)"))
        .stderr(predicate::str::contains(
            "./backtest_config.yaml:1: backtest.initial_capital: must be greater than 0, got -100",
        ))
        .stderr(predicate::str::contains(
            "./backtest_config.yaml:3: backtest.costs.commission_rate: invalid type: string \"lots\", expected f64",
        ))
        .stderr(predicate::str::contains(
            "./backtest_config.yaml:4: backtest.costs.comission_fixed: unknown key `comission_fixed`",
        ))
        .stderr(predicate::str::contains(
            "./backtest_config.yaml:6: backtest.monte_carlo.simulations: environment variable `QTS_UNSET_VAR` is not set",
        ))
        .stderr(no_panic());
}

#[test]
fn bad_overrides_and_sections_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // A folder with the shipped base file: the other sections at their defaults.
    std::fs::copy(
        repo_config().join("base_config.yaml"),
        dir.path().join("base_config.yaml"),
    )
    .unwrap();
    qts(dir.path())
        .args([
            "-C",
            ".",
            "--set",
            "model.lstm.hidden_size=0",
            "config",
            "validate",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--set model.lstm.hidden_size=0: model.lstm.hidden_size: must be greater than 0, got 0",
        ));
    qts(dir.path())
        .args(["-C", ".", "config", "show", "--section", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no setting `nope`"));
    qts(dir.path())
        .args(["-C", ".", "--set", "oops", "config", "show"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected KEY=VALUE").and(no_panic()));
    qts(dir.path())
        .env("RUST_LOG", "qts=loud")
        .args(["-C", ".", "config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RUST_LOG is not a valid filter"));
    // A configuration directory that does not exist, or holds none of the files, is refused
    // naming it (never a silent fall-back to the built-in defaults).
    let empty = tempfile::tempdir().unwrap();
    qts(empty.path())
        .args(["-C", "/no/such/dir", "config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "configuration directory /no/such/dir: no such directory",
        ));
    qts(empty.path())
        .args(["-C", ".", "config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "configuration directory . holds none of base_config.yaml",
        ));
}

#[test]
fn an_api_key_never_appears_in_output_errors_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let config = repo_config();
    let log_args = [
        "--set".to_string(),
        "logging.file.enabled=true".to_string(),
        "--set".to_string(),
        format!("logging.file.directory={}", logs.display()),
        "--set".to_string(),
        "logging.file.rotation=never".to_string(),
        "--set".to_string(),
        "logging.level=trace".to_string(),
    ];
    for args in [
        vec!["config", "show"],
        vec!["config", "show", "--json"],
        vec!["config", "show", "--sources"],
        vec!["config", "validate"],
    ] {
        qts(dir.path())
            .env("FMP_API_KEY", SECRET)
            .arg("-C")
            .arg(&config)
            .args(&log_args)
            .arg("-vv")
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains(SECRET).not())
            .stderr(predicate::str::contains(SECRET).not());
    }
    // A secret given on the command line, for a secret key: the `--set` it came from is shown
    // without it, in every place that echoes the argument.
    for key in ["data.providers.fmp.api_key", "monitoring.webhook_url"] {
        qts(dir.path())
            .arg("-C")
            .arg(&config)
            .args(["--set", &format!("{key}=https://{SECRET}")])
            .args(["config", "show", "--sources"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("--set {key}=***")))
            .stdout(predicate::str::contains(SECRET).not());
    }
    // A secret pushed into a numeric field and into an override's text.
    qts(dir.path())
        .env("FMP_API_KEY", SECRET)
        .arg("-C")
        .arg(&config)
        .args(["--set", "data.providers.fmp.timeout_secs=${FMP_API_KEY}"])
        .args(["--set", &format!("data.providers.yahoo.base_url={SECRET}")])
        .args([
            "--set",
            "data.providers.fmp.calls_per_minute=${FMP_API_KEY}",
        ])
        .args(["config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("timeout_secs"))
        .stderr(predicate::str::contains(SECRET).not());

    let log = std::fs::read_to_string(logs.join("qts.jsonl")).unwrap();
    assert!(log.lines().count() >= 4, "{log}");
    assert!(!log.contains(SECRET), "{log}");
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["timestamp"].is_string(), "{line}");
    }
    assert!(
        log.lines().any(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["span"]["command"] == "config validate" && v["message"] == "configuration is valid"
        }),
        "{log}"
    );
}

#[test]
fn quiet_and_verbose_change_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo_config();
    qts(dir.path())
        .arg("-C")
        .arg(&config)
        .args(["-v", "config", "validate"])
        .assert()
        .success()
        .stderr(predicate::str::contains("configuration loaded"));
    qts(dir.path())
        .arg("-C")
        .arg(&config)
        .args(["-q", "config", "validate"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[test]
fn an_alias_bomb_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    std::fs::write(dir.path().join("base_config.yaml"), bomb).unwrap();
    qts(dir.path())
        .args(["-C", ".", "config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("base_config.yaml"))
        .stderr(predicate::str::contains("more than 100000 values"))
        .stderr(no_panic());
}

#[test]
fn set_works_before_and_after_the_subcommand_alike() {
    let dir = tempfile::tempdir().unwrap();
    let show = |args: &[&str]| {
        let out = qts(dir.path())
            .arg("-C")
            .arg(repo_config())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let before = show(&[
        "--set",
        "backtest.initial_capital=1234",
        "config",
        "show",
        "--section",
        "backtest",
    ]);
    let after = show(&[
        "config",
        "show",
        "--section",
        "backtest",
        "--set",
        "backtest.initial_capital=1234",
    ]);
    assert_eq!(before, after);
    assert!(before.contains("initial_capital: 1234"), "{before}");
}

#[test]
fn base_data_sources_and_backtest_flags_each_replace_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let base = write("my_base.yaml", "trading:\n  rebalance: monthly\n");
    let sources = write("my_sources.yaml", "default_provider: yahoo\n");
    let backtest = write("my_backtest.yaml", "initial_capital: 5000\n");
    let shown = |args: &[&str]| {
        let out = qts(dir.path())
            .arg("-C")
            .arg(repo_config())
            .args(["config", "show", "--json"])
            .args(args)
            .assert()
            .success();
        json_of(&out.get_output().stdout)
    };
    let shipped = shown(&[]);
    assert_eq!(shipped["trading"]["rebalance"], "weekly");
    assert_eq!(shipped["data"]["default_provider"], "fmp");
    assert_eq!(shipped["backtest"]["initial_capital"], 100000.0);
    for (flag, file) in [
        ("--base", &base),
        ("--data-sources", &sources),
        ("--backtest", &backtest),
    ] {
        let v = shown(&[flag, file.to_str().unwrap()]);
        // The named file replaces its own file only: the other sections stay the shipped ones.
        let changed = [
            (v["trading"]["rebalance"] != "weekly", "--base"),
            (v["data"]["default_provider"] != "fmp", "--data-sources"),
            (v["backtest"]["initial_capital"] != 100000.0, "--backtest"),
        ];
        for (differs, by) in changed {
            assert_eq!(differs, by == flag, "{flag}: {v}");
        }
        match flag {
            "--base" => assert_eq!(v["trading"]["rebalance"], "monthly"),
            "--data-sources" => assert_eq!(v["data"]["default_provider"], "yahoo"),
            _ => assert_eq!(v["backtest"]["initial_capital"], 5000.0),
        }
        // validate reads the same files, and a file named this way must exist.
        qts(dir.path())
            .arg("-C")
            .arg(repo_config())
            .args(["config", "validate", flag])
            .arg(file)
            .assert()
            .success();
        let missing = dir.path().join(format!("missing{flag}.yaml"));
        qts(dir.path())
            .arg("-C")
            .arg(repo_config())
            .args(["config", "validate", flag])
            .arg(&missing)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(missing.display().to_string()))
            .stderr(no_panic());
    }
}

#[test]
fn every_secret_key_is_redacted_wherever_it_is_set() {
    let dir = tempfile::tempdir().unwrap();
    // Each secret of the configuration, set on the command line: never printed back, in the
    // settings or in the provenance of `--sources`.
    for key in [
        "data.providers.alpha_vantage.api_key",
        "mlflow.password",
        "mlflow.token",
    ] {
        for args in [
            vec!["config", "show"],
            vec!["config", "show", "--json"],
            vec!["config", "show", "--sources"],
        ] {
            qts(dir.path())
                .arg("-C")
                .arg(repo_config())
                .args(["--set", &format!("{key}={SECRET}")])
                .args(&args)
                .assert()
                .success()
                .stdout(predicate::str::contains("***"))
                .stdout(predicate::str::contains(SECRET).not())
                .stderr(predicate::str::contains(SECRET).not());
        }
    }
    // The user name of basic authentication is not a secret: shown as given, beside its
    // redacted password.
    let out = qts(dir.path())
        .arg("-C")
        .arg(repo_config())
        .args(["--set", "mlflow.username=alice"])
        .args(["--set", &format!("mlflow.password={SECRET}")])
        .args(["config", "show", "--json"])
        .assert()
        .success();
    let v = json_of(&out.get_output().stdout);
    assert_eq!(v["mlflow"]["username"], "alice");
    assert_eq!(v["mlflow"]["password"], "***");
}

#[test]
fn set_values_are_yaml_and_compute_gpus_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let show = |set: &str| {
        let out = qts(dir.path())
            .arg("-C")
            .arg(repo_config())
            .args(["--set", set, "config", "show", "--json"])
            .assert()
            .success();
        json_of(&out.get_output().stdout)
    };
    // As docs/configuration.md says: a quoted value stays a string, a bracketed one a list.
    assert_eq!(show("model.name=\"007\"")["model"]["name"], "007");
    assert_eq!(
        show("data.features.sma=[5,10]")["data"]["features"]["sma"],
        serde_json::json!([5, 10])
    );
    assert_eq!(
        show("compute.gpus=[1,0]")["compute"]["gpus"],
        serde_json::json!([1, 0])
    );
    qts(dir.path())
        .arg("-C")
        .arg(repo_config())
        .args(["--set", "compute.gpus=[0,0]", "config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("compute.gpus"))
        .stderr(predicate::str::contains("lists a GPU more than once"));
}

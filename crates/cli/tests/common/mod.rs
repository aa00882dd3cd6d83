//! Helpers shared by the CLI tests: the repository root and a `qts` command with a clean
//! environment reading the shipped configuration.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A bundled sample file.
pub fn sample(name: &str) -> PathBuf {
    repo().join("examples/data").join(name)
}

/// `qts -C <repo>/config` run in `cwd`, without RUST_LOG, QTS_CONFIG_DIR or colour.
pub fn qts(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qts"));
    cmd.current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("QTS_CONFIG_DIR")
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(repo().join("config"));
    cmd
}

/// Model settings small enough that a debug build trains in about a second.
pub const SMALL: [&str; 10] = [
    "--set",
    "model.training.epochs=3",
    "--set",
    "model.training.warmup_epochs=1",
    "--set",
    "model.lstm.hidden_size=16",
    "--set",
    "model.data.lookback=20",
    "--set",
    "model.data.purge_gap=20",
];

/// The JSON a successful command printed (its stderr shown when it failed).
pub fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A tag of a run as MLflow's REST API returns it.
pub fn run_tag(run: &serde_json::Value, key: &str) -> Option<String> {
    run["data"]["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key)
        .and_then(|t| t["value"].as_str().map(str::to_string))
}

/// A metric of a run as MLflow's REST API returns it.
pub fn run_metric(run: &serde_json::Value, key: &str) -> Option<f64> {
    run["data"]["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["key"] == key)
        .and_then(|m| m["value"].as_f64())
}

/// A param of a run as MLflow's REST API returns it.
pub fn run_param(run: &serde_json::Value, key: &str) -> Option<String> {
    run["data"]["params"]
        .as_array()?
        .iter()
        .find(|m| m["key"] == key)
        .and_then(|m| m["value"].as_str().map(str::to_string))
}

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

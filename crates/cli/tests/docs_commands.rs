//! Every command the README and `docs/` show in a fenced `sh` block runs as written, on the
//! bundled sample data, and exits 0: the docs cannot rot. Each file's blocks run in order in one
//! sandbox folder (so `run/` written by one line is there for the next), with `qts` of this
//! build first on the PATH, under `bash -euo pipefail`.
//!
//! The sandbox holds what a user's checkout holds: `examples/` and `crates/` (linked), and a
//! copy of `config/` with three documented changes, so that the suite stays inside its time:
//! - the model files train small networks for a few epochs (see [`SMALL_MODEL`]); the commands
//!   and flags are the documented ones;
//! - `data.providers.fmp.base_url` points at a loopback FMP (paid API: the one stand-in the
//!   guide allows) that serves the bundled S&P 500 history for every symbol, re-dated onto the
//!   NYSE sessions that end yesterday, so a decision "for today" has fresh data;
//! - MLflow's port 5000 in a block becomes a free port, so parallel runs do not collide; the
//!   `mlflow server` the docs start is the real one `scripts/test.sh` installs.
//!
//! A few commands are not run here, each for the reason in [`NOT_RUN_HERE`] (they are this
//! suite's own commands, or install what the suite installs); an entry that no longer matches a
//! documented command fails the test, so the list cannot outlive the docs.

#![allow(clippy::unwrap_used)]

#[path = "../../data/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::NaiveDate;
use support::{MockServer, Response};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Documented commands this test does not run, and why (matched by the start of a line).
const NOT_RUN_HERE: &[(&str, &str)] = &[
    (
        "scripts/main.sh",
        "a release build, then `qts run` on the defaults (~8 min on 2 cores): this test runs \
         the README's `qts run`, and each session's note records a clean-clone main.sh",
    ),
    (
        "scripts/test.sh",
        "the command that runs this test (.ci/run calls it)",
    ),
    (
        "pip install ./crates/python-torch",
        "scripts/test.sh builds this wheel with maturin and installs it before pytest",
    ),
    (
        "pip install \"./crates/python[pandas,polars]\"",
        "scripts/test.sh builds this wheel with maturin and installs it before pytest",
    ),
    (
        "pip install ./crates/python",
        "scripts/test.sh builds this wheel with maturin and installs it before pytest",
    ),
    (
        "python -m sphinx",
        "crates/python/tests/test_docs.py builds these docs (warnings as errors) under pytest",
    ),
];

/// The model settings of the sandbox's copy of `config/model_configs/*.yaml`: a line
/// `  KEY: VALUE  # comment` of a shipped file gets the value on the right.
const SMALL_MODEL: &[(&str, &str)] = &[
    ("hidden_size", "8"),
    ("d_model", "8"),
    ("lookback", "20"),
    ("purge_gap", "20"),
    ("epochs", "2"),
    ("warmup_epochs", "1"),
];

/// The Markdown files that hold `sh` blocks; a new one must be added here.
const DOCUMENTS: &[&str] = &[
    "README.md",
    "docs/guides/setup.md",
    "docs/guides/backtesting.md",
    "docs/guides/training.md",
    "docs/guides/portfolio.md",
    "docs/migration.md",
    "docs/production.md",
    "docs/python.md",
    "docs/tracking.md",
];

/// A fenced `sh` block: its first line's number in the file and its text.
struct Block {
    line: usize,
    text: String,
}

fn sh_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut open {
            None if line.trim_end() == "```sh" => {
                open = Some(Block {
                    line: i + 2,
                    text: String::new(),
                })
            }
            Some(_) if line.trim_end() == "```" => blocks.push(open.take().unwrap()),
            Some(b) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            None => {}
        }
    }
    assert!(open.is_none(), "an `sh` block is not closed");
    blocks
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            markdown_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
}

/// The bundled S&P 500 bars as FMP's end-of-day JSON rows (newest first), re-dated so that
/// the last is the NYSE session before today.
fn fmp_rows() -> Vec<(NaiveDate, String)> {
    let text = std::fs::read_to_string(repo().join("examples/data/sp500_daily.csv")).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let today = chrono::Local::now().date_naive();
    let last = today.pred_opt().unwrap();
    let sessions = qts_data::calendar::trading_days(
        last - chrono::Duration::days(rows.len() as i64 * 2),
        last,
    );
    let sessions = &sessions[sessions.len() - rows.len()..];
    rows.iter()
        .zip(sessions)
        .rev()
        .map(|(r, d)| {
            (
                *d,
                format!(
                    r#"{{"date":"{d}","open":{},"high":{},"low":{},"close":{},"volume":{}}}"#,
                    r[1], r[2], r[3], r[4], r[5]
                ),
            )
        })
        .collect()
}

fn loopback_fmp() -> MockServer {
    let rows = fmp_rows();
    MockServer::fmp(move |r, _| {
        let bound = |k: &str| r.query.get(k).and_then(|v| v.parse::<NaiveDate>().ok());
        let (from, to) = (bound("from"), bound("to"));
        let symbol = r.query.get("symbol").cloned().unwrap_or_default();
        let body: Vec<String> = rows
            .iter()
            .filter(|(d, _)| from.is_none_or(|f| *d >= f) && to.is_none_or(|t| *d <= t))
            .map(|(_, row)| row.replacen('{', &format!(r#"{{"symbol":"{symbol}","#), 1))
            .collect();
        Response::json(200, format!("[{}]", body.join(",")))
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

fn replace_once(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{}: expected `{}` once (the docs test's sandbox edits it)",
        file.display(),
        from.trim()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// The sandbox a document's blocks run in.
fn sandbox(dir: &Path, fmp: &MockServer) {
    for linked in ["examples", "crates"] {
        std::os::unix::fs::symlink(repo().join(linked), dir.join(linked)).unwrap();
    }
    let config = dir.join("config");
    copy_dir(&repo().join("config"), &config);
    replace_once(
        &config.join("data_sources.yaml"),
        "base_url: https://financialmodelingprep.com",
        &format!("base_url: {}", fmp.url()),
    );
    let mut applied = vec![false; SMALL_MODEL.len()];
    for e in std::fs::read_dir(config.join("model_configs")).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let mut edited = String::new();
        for line in text.lines() {
            let found = SMALL_MODEL.iter().position(|(key, _)| {
                line.strip_prefix("  ")
                    .and_then(|l| l.strip_prefix(key))
                    .is_some_and(|rest| rest.starts_with(':'))
            });
            match found {
                Some(i) => {
                    let comment = line.find('#').map_or("", |at| &line[at..]);
                    edited.push_str(&format!(
                        "  {}: {} {comment}",
                        SMALL_MODEL[i].0, SMALL_MODEL[i].1
                    ));
                    applied[i] = true;
                }
                None => edited.push_str(line),
            }
            edited.push('\n');
        }
        std::fs::write(&p, edited).unwrap();
    }
    for ((key, _), done) in SMALL_MODEL.iter().zip(applied) {
        assert!(
            done,
            "no shipped model file sets `{key}` any more (SMALL_MODEL)"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs every `sh` block of one document; fails naming the file, the line and the output.
fn run_document(rel: &str) {
    let path = repo().join(rel);
    let markdown = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{rel}: {e} (listed in DOCUMENTS)"));
    let blocks = sh_blocks(&markdown);
    assert!(
        !blocks.is_empty(),
        "{rel}: no `sh` block (remove it from DOCUMENTS)"
    );
    let mlflow = std::env::var("HOME")
        .map(|h| PathBuf::from(h).join(".cache/qts/mlflow-3.17.2/bin/mlflow"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fmp = loopback_fmp();
    sandbox(dir.path(), &fmp);
    let bin = Path::new(env!("CARGO_BIN_EXE_qts")).parent().unwrap();
    let path_var = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    for (n, block) in blocks.iter().enumerate() {
        if block.text.contains("mlflow server") {
            assert!(
                mlflow.is_file(),
                "{rel}:{}: the block starts {} (scripts/mlflow-env.sh installs it; run scripts/test.sh)",
                block.line,
                mlflow.display()
            );
        }
        let port = free_port().to_string();
        let mut script = String::from("set -euo pipefail\nPS4='+ line $LINENO: '\nset -x\n");
        for line in block.text.lines() {
            let skipped = NOT_RUN_HERE
                .iter()
                .find(|(start, _)| line.trim_start().starts_with(start));
            match skipped {
                // A comment, so nothing in the reason is expanded.
                Some((_, why)) => {
                    script.push_str(&format!("# not run here: {}\n", why.replace('\n', " ")))
                }
                None => {
                    script.push_str(
                        &line
                            .replace("127.0.0.1:5000", &format!("127.0.0.1:{port}"))
                            .replace("--port 5000", &format!("--port {port}")),
                    );
                    script.push('\n');
                }
            }
        }
        let log = dir.path().join(format!("block-{n}.log"));
        let out = std::fs::File::create(&log).unwrap();
        // Its own process group, so that a server a block starts in the background is
        // stopped with it; output to a file, as such a server keeps a pipe open.
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(dir.path())
            .env("PATH", &path_var)
            .env("FMP_API_KEY", "docs-test-fmp-key")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("QTS_CONFIG_DIR")
            .env_remove("MLFLOW_TRACKING_URI")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap();
        // No clock here: a block that hangs is CI's time limit to catch, not this test's.
        let status = child.wait().ok();
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
        if status.is_some_and(|s| s.success()) {
            continue;
        }
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        let failed_at = output
            .lines()
            .rev()
            .find_map(|l| {
                l.strip_prefix("+ line ")?
                    .split(':')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .map(|l| block.line + l - 4)
            .unwrap_or(block.line);
        let tail: Vec<&str> = output.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let kept = dir.keep();
        panic!(
            "{rel}:{failed_at}: a documented command {} ({:?}); the sandbox is kept in {}; \
             the block's output ends:\n{}",
            if status.is_none() {
                "ran for more than 10 minutes"
            } else {
                "failed"
            },
            status,
            kept.display(),
            tail.join("\n")
        );
    }
}

#[test]
fn every_markdown_file_with_sh_blocks_is_run_and_every_exclusion_still_applies() {
    let mut found = vec![repo().join("README.md")];
    markdown_files(&repo().join("docs"), &mut found);
    let mut with_blocks = BTreeSet::new();
    let mut lines = Vec::new();
    for p in &found {
        let blocks = sh_blocks(&std::fs::read_to_string(p).unwrap());
        if !blocks.is_empty() {
            let rel = p
                .strip_prefix(repo())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            with_blocks.insert(rel.replace("/./", "/"));
        }
        lines.extend(blocks.into_iter().flat_map(|b| {
            b.text
                .lines()
                .map(|l| l.trim_start().to_string())
                .collect::<Vec<_>>()
        }));
    }
    let listed: BTreeSet<String> = DOCUMENTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        with_blocks, listed,
        "DOCUMENTS must list exactly the files with `sh` blocks"
    );
    for (start, _) in NOT_RUN_HERE {
        assert!(
            lines.iter().any(|l| l.starts_with(start)),
            "NOT_RUN_HERE names `{start}`, which no documented command starts with any more"
        );
    }
}

#[test]
fn readme_commands_run() {
    run_document("README.md");
}

#[test]
fn setup_guide_commands_run() {
    run_document("docs/guides/setup.md");
}

#[test]
fn backtesting_guide_commands_run() {
    run_document("docs/guides/backtesting.md");
}

#[test]
fn training_guide_commands_run() {
    run_document("docs/guides/training.md");
}

#[test]
fn portfolio_guide_commands_run() {
    run_document("docs/guides/portfolio.md");
}

#[test]
fn migration_guide_commands_run() {
    run_document("docs/migration.md");
}

#[test]
fn production_commands_run() {
    run_document("docs/production.md");
}

#[test]
fn python_commands_run() {
    run_document("docs/python.md");
}

#[test]
fn tracking_commands_run() {
    run_document("docs/tracking.md");
}

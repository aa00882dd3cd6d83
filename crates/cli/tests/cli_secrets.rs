//! Planted keys through every command of `qts` (the test walks the command tree and fails on
//! a command it does not run): API keys in the environment (FMP, Alpha Vantage), a key and a
//! webhook URL given with `--set`, the console at trace level, a JSON log file at trace level,
//! and every file any command writes (results, reports, the cache, the registry, the run
//! store, the paper account). None of them may hold a planted value.

#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../data/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory;
use common::{SMALL, repo, sample};
use support::MockServer;

const FMP: &str = "PLANTED-fmp-7d3e91";
const ALPHA: &str = "PLANTED-av-51c0aa";
const YAHOO: &str = "PLANTED-set-e2f4b8";
const HOOK: &str = "PLANTED-hook-90bd17";

/// Every leaf command, as its words (`data cache list`).
fn leaves(cmd: &clap::Command, prefix: &[String], out: &mut BTreeSet<String>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut path = prefix.to_vec();
        path.push(sub.get_name().to_string());
        if sub.get_subcommands().all(|s| s.get_name() == "help") {
            out.insert(path.join(" "));
        } else {
            leaves(sub, &path, out);
        }
    }
}

struct Bench<'a> {
    dir: &'a Path,
    server: &'a MockServer,
    ran: BTreeSet<String>,
}

impl Bench<'_> {
    /// Runs `args`, checks its stdout and stderr, and returns the output.
    fn run(&mut self, words: usize, args: &[&str]) -> std::process::Output {
        let logs = self.dir.join("logs");
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_qts"))
            .current_dir(self.dir)
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("FMP_API_KEY", FMP)
            .env("ALPHA_VANTAGE_API_KEY", ALPHA)
            .env("QTS_MLFLOW", "/bin/false")
            .arg("-C")
            .arg(repo().join("config"))
            .args([
                "--set",
                &format!("data.providers.fmp.base_url={}", self.server.url()),
            ])
            .args(["--set", &format!("data.providers.yahoo.api_key={YAHOO}")])
            .args([
                "--set",
                &format!("monitoring.webhook_url=http://127.0.0.1:9/{HOOK}"),
            ])
            .args(["--set", "logging.file.enabled=true"])
            .args([
                "--set",
                &format!("logging.file.directory={}", logs.display()),
            ])
            .args(["--set", "logging.file.rotation=never"])
            .args(["--set", "logging.level=trace"])
            .arg("-vv")
            .args(args)
            .output()
            .unwrap();
        // The command's words: what is left once the global `--set K=V` pairs and flags go.
        let mut words_seen = Vec::new();
        let mut rest = args.iter();
        while let Some(a) = rest.next() {
            if *a == "--set" {
                rest.next();
            } else if !a.starts_with('-') && words_seen.len() < words {
                words_seen.push(*a);
            }
        }
        let name = words_seen.join(" ");
        assert!(out.status.code().is_some(), "{name}: killed by a signal");
        for (channel, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            for secret in [FMP, ALPHA, YAHOO, HOOK] {
                assert!(!text.contains(secret), "{name}: {secret} on {channel}");
            }
        }
        self.ran.insert(name);
        out
    }

    /// [`Bench::run`], and it must succeed.
    fn ok(&mut self, words: usize, args: &[&str]) -> std::process::Output {
        let out = self.run(words, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn no_planted_secret_reaches_any_output_of_any_command() {
    let server = MockServer::fmp_two_bars();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = sample("goog_daily.csv").display().to_string();
    let models = repo().join("crates/models/tests/golden/networks");
    let (pt, pt_yaml) = (
        models.join("user_lstm.pt").display().to_string(),
        models.join("user_lstm.yaml").display().to_string(),
    );
    let small: Vec<&str> = SMALL.to_vec();
    let mut b = Bench {
        dir: d,
        server: &server,
        ran: BTreeSet::new(),
    };

    b.ok(2, &["config", "show"]);
    b.ok(2, &["config", "show", "--sources"]);
    b.ok(2, &["config", "show", "--json"]);
    b.ok(2, &["config", "validate"]);
    b.ok(
        2,
        &[
            "data",
            "fetch",
            "--symbols",
            "AAPL",
            "--from",
            "2024-01-02",
            "--to",
            "2024-01-03",
        ],
    );
    // A failing fetch (Alpha Vantage against a closed port) names the provider, not the key.
    b.run(
        2,
        &[
            "--set",
            "data.providers.alpha_vantage.base_url=http://127.0.0.1:9",
            "data",
            "fetch",
            "--provider",
            "alpha-vantage",
            "--symbols",
            "IBM",
        ],
    );
    b.ok(3, &["data", "cache", "list"]);
    b.ok(2, &["data", "validate", &goog]);
    b.ok(1, &["features", &goog, "--out", "f.parquet"]);
    b.ok(
        1,
        &[
            "backtest", "--data", &goog, "--out", "bt", "--report", "bt.html",
        ],
    );
    b.ok(
        1,
        &[
            "backtest",
            "--data",
            &goog,
            "--strategy",
            "buy-and-hold",
            "--out",
            "bh",
        ],
    );
    b.ok(1, &["metrics", "--returns", "bt/equity.csv"]);
    b.ok(
        1,
        &[
            "optimize",
            "--data",
            &goog,
            "--grid",
            "fast=5:15:5",
            "--grid",
            "slow=20:40:10",
            "--maximize",
            "final_equity",
            "--out",
            "opt",
            "--save-returns",
        ],
    );
    b.ok(
        1,
        &[
            "walk-forward",
            "--data",
            &goog,
            "--train",
            "750",
            "--test",
            "500",
            "--grid",
            "fast=5:15:5",
            "--grid",
            "slow=20:40:10",
            "--maximize",
            "final_equity",
            "--out",
            "wf",
        ],
    );
    b.ok(
        1,
        &[
            "monte-carlo",
            "--run",
            "bt",
            "--paths",
            "100",
            "--out",
            "mc",
        ],
    );
    b.ok(
        1,
        &["overfitting", "--trial-returns", "opt/trial_returns.csv"],
    );
    b.ok(1, &["report", "bt", "--out", "r.html"]);
    b.ok(1, &["compare", "bt", "bh", "--out", "c.html"]);
    let mut train = small.clone();
    train.extend(["train", "--name", "m", "--data", &goog]);
    b.ok(1, &train);
    b.ok(
        2,
        &[
            "models",
            "import",
            "--name",
            "mine",
            "--pytorch",
            &pt,
            "--config",
            &pt_yaml,
        ],
    );
    b.ok(2, &["models", "list"]);
    b.ok(2, &["models", "show", "m"]);
    b.ok(2, &["models", "compare", "m@1", "mine@1"]);
    b.ok(2, &["models", "promote", "m@1"]);
    b.ok(
        1,
        &["predict", "--model", "m", "--data", &goog, "--out", "p.csv"],
    );
    b.ok(1, &["decide", "--data", &goog, "--as-of", "2013-03-01"]);
    b.ok(2, &["paper", "init", "--cash", "100000", "--data", &goog]);
    b.ok(2, &["paper", "step", "--offline", "--as-of", "2013-02-28"]);
    b.ok(2, &["paper", "status"]);
    b.ok(2, &["paper", "history", "--out", "h.csv"]);
    let mut run = small.clone();
    run.extend([
        "run", "--data", &goog, "--train", "1500", "--test", "300", "--paths", "100", "--out",
        "main",
    ]);
    b.ok(1, &run);
    let list = b.ok(2, &["experiments", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let ids: Vec<String> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["run"]["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t[0] == "qts.command" && t[1] == "backtest")
        })
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 2, "{runs}");
    b.ok(2, &["experiments", "show", &ids[0]]);
    b.ok(2, &["experiments", "compare", &ids[0], &ids[1]]);
    b.ok(2, &["experiments", "best", "--metric", "sharpe_ratio"]);
    b.run(
        2,
        &[
            "--set",
            "mlflow.tracking_uri=http://127.0.0.1:9",
            "experiments",
            "sync",
        ],
    );
    b.run(2, &["experiments", "ui", "--dir", "ui"]);
    b.ok(1, &["reproduce", &ids[0]]);
    b.ok(3, &["data", "cache", "clear", "--symbol", "AAPL"]);

    // Every command of the tree was run.
    let mut all = BTreeSet::new();
    leaves(&qts_cli::cli::Cli::command(), &[], &mut all);
    let missing: Vec<&String> = all.difference(&b.ran).collect();
    assert!(
        missing.is_empty(),
        "commands this test does not run: {missing:?}"
    );

    // Nothing written anywhere holds a planted value.
    let mut written = Vec::new();
    files(d, &mut written);
    assert!(
        written.iter().any(|p| p.starts_with(d.join("logs"))),
        "a log file was written"
    );
    assert!(written.len() > 40, "{}", written.len());
    for path in written {
        let bytes = std::fs::read(&path).unwrap();
        for secret in [FMP, ALPHA, YAHOO, HOOK] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in {}",
                path.display()
            );
        }
    }
}

//! `qts data fetch` and `qts data cache` against a loopback FMP, as a user runs them.

#![allow(clippy::unwrap_used)]

#[path = "../../data/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use support::{MockServer, Response};

const KEY: &str = "fmp-cli-secret-777";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn qts(cwd: &Path, server: &MockServer) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qts"));
    cmd.current_dir(cwd)
        .env_remove("RUST_LOG")
        .env("FMP_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(repo().join("config"))
        .args([
            "--set",
            &format!("data.providers.fmp.base_url={}", server.url()),
        ])
        .args([
            "--set",
            &format!("data.cache.directory={}", cwd.join("cache").display()),
        ])
        .args([
            "--set",
            "data.providers.fmp.backoff_initial_ms=1",
            "--set",
            "data.providers.fmp.backoff_max_ms=2",
        ]);
    cmd
}

fn fmp_bars(symbol: &str) -> String {
    format!(
        r#"[{{"symbol":"{symbol}","date":"2024-01-03","open":10,"high":11,"low":9,"close":10.5,"volume":100}},
           {{"symbol":"{symbol}","date":"2024-01-02","open":10,"high":11,"low":9,"close":10.2,"volume":100}}]"#
    )
}

#[test]
fn fetch_caches_and_a_repeat_makes_no_request() {
    let server = MockServer::start(|r, _| {
        if r.query["symbol"] == "BAD" {
            Response::json(200, "{not json")
        } else {
            Response::json(200, fmp_bars(&r.query["symbol"]))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "data",
        "fetch",
        "--symbols",
        "AAPL,MSFT",
        "--from",
        "2024-01-02",
        "--to",
        "2024-01-03",
        "--json",
    ];
    let out = qts(dir.path(), &server).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["symbols"][0]["bars"], 2);
    assert_eq!(v["symbols"][1]["requests"], 1);
    assert_eq!(server.hits(), 2);

    let out = qts(dir.path(), &server).args(args).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["symbols"][0]["requests"], 0);
    assert_eq!(server.hits(), 2, "served from the cache");

    // A fetched symbol can be validated by name.
    qts(dir.path(), &server)
        .args(["data", "validate", "MSFT", "--as-of", "2024-01-03"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 bars, 2024-01-02 .. 2024-01-03: 0 errors",
        ));
    qts(dir.path(), &server)
        .args(["data", "cache", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("AAPL")
                .and(predicate::str::contains("2024-01-02 .. 2024-01-03")),
        );
    qts(dir.path(), &server)
        .args([
            "data",
            "fetch",
            "--symbols",
            "BAD,AAPL",
            "--from",
            "2024-01-02",
            "--to",
            "2024-01-03",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "fmp sent a response qts cannot read for `BAD`",
        ))
        .stderr(predicate::str::contains("1 of 2 symbols failed"));
    qts(dir.path(), &server)
        .args(["data", "cache", "clear", "--symbol", "AAPL"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 1 cached file"));
    let out = qts(dir.path(), &server)
        .args(["data", "cache", "list", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn a_rejected_key_fails_clearly_without_showing_it() {
    let server = MockServer::start(|r, _| {
        Response::json(
            403,
            format!(
                r#"{{"Error Message":"Invalid API KEY: {}"}}"#,
                r.query["apikey"]
            ),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path(), &server)
        .args([
            "-vv",
            "data",
            "fetch",
            "--symbols",
            "AAPL",
            "--from",
            "2024-01-02",
            "--to",
            "2024-01-03",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("fmp rejected the API key"))
        .stdout(predicate::str::contains(KEY).not())
        .stderr(predicate::str::contains(KEY).not());
    assert_eq!(server.hits(), 1, "no retry on an auth failure");
    assert!(!dir.path().join("cache/fmp/AAPL.parquet").exists());
}

#[test]
fn a_missing_key_exits_2() {
    let server = MockServer::start(|_, _| Response::json(200, "[]"));
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path(), &server)
        .env_remove("FMP_API_KEY")
        .args(["data", "fetch", "--symbols", "AAPL", "--from", "2024-01-02"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "fmp needs an API key: set FMP_API_KEY",
        ));
    assert_eq!(server.hits(), 0);
}

#[test]
fn symbols_are_checked_and_an_empty_answer_is_not_cached() {
    let server = MockServer::start(|r, _| {
        if r.query["symbol"] == "GONE" {
            Response::json(200, "[]")
        } else {
            Response::json(200, fmp_bars(&r.query["symbol"]))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let fetch = |symbols: &str| {
        qts(dir.path(), &server)
            .args(["data", "fetch", "--symbols", symbols])
            .args(["--from", "2024-01-02", "--to", "2024-01-03"])
            .output()
            .unwrap()
    };
    for (bad, shown) in [
        ("../../x", "symbol `../../x`"),
        ("GOOD/X", "symbol `GOOD/X`"),
        (",,", "symbol ``"),
        ("AAPL,,MSFT", "symbol ``"),
    ] {
        let out = fetch(bad);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(shown), "{bad}: {err}");
    }
    assert_eq!(server.hits(), 0, "nothing requested for a refused list");
    assert!(!dir.path().join("cache").exists(), "nothing written");
    // Symbols that differ only where a file name could not show it get files of their own.
    assert!(fetch("GOOD_X,GOOD.X").status.success());
    let files: Vec<_> = std::fs::read_dir(dir.path().join("cache/fmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    // An unknown symbol's empty answer fails the symbol and leaves no cache file.
    let out = fetch("GONE");
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("cache/fmp/GONE.parquet").exists());
}

/// The sample GOOG history as FMP's end-of-day answer for `symbol` (newest first), every
/// other day's prices times `scale`.
fn fmp_history(symbol: &str, scale: f64) -> String {
    let text = std::fs::read_to_string(repo().join("examples/data/goog_daily.csv")).unwrap();
    let mut rows: Vec<String> = text
        .lines()
        .skip(1)
        .enumerate()
        .map(|(i, l)| {
            let c: Vec<&str> = l.split(',').collect();
            let f = if i % 2 == 0 { scale } else { 1.0 };
            let p = |k: usize| c[k].parse::<f64>().unwrap() * f;
            format!(
                r#"{{"symbol":"{symbol}","date":"{}","open":{},"high":{},"low":{},"close":{},"volume":{}}}"#,
                c[0],
                p(1),
                p(2),
                p(3),
                p(4),
                c[5]
            )
        })
        .collect();
    rows.reverse();
    format!("[{}]", rows.join(","))
}

#[test]
fn qts_run_on_a_symbol_fetches_it_fresh_and_runs_on_the_cached_bars() {
    // FMP serves the sample GOOG history (newest first, as FMP answers).
    let body = fmp_history("GOOG", 1.0);
    let server = MockServer::start(move |r, _| {
        assert_eq!(r.query["symbol"], "GOOG");
        Response::json(200, body.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path(), &server)
        .args([
            "--set",
            "model.training.epochs=2",
            "--set",
            "model.training.warmup_epochs=1",
        ])
        .args([
            "--set",
            "model.lstm.hidden_size=8",
            "--set",
            "model.data.lookback=20",
        ])
        .args(["--set", "model.data.purge_gap=20"])
        .args([
            "-q",
            "run",
            "--symbols",
            "GOOG",
            "--history-from",
            "2004-01-01",
        ])
        .args([
            "--train", "500", "--test", "250", "--paths", "200", "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(server.hits(), 1, "one request: the whole history");
    assert_eq!(s["out_of_sample"]["windows"], 6);
    let data = s["data"].as_str().unwrap();
    assert!(data.contains("cache"), "{data}");
    assert_eq!(s["decision"]["as_of"], "2013-03-01");
    // The key never reaches the output.
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(KEY));
}

#[test]
fn qts_run_on_several_symbols_fetches_each_and_ranks_them() {
    // FMP serves the sample GOOG history for GOOG, and a copy with every other day's prices
    // scaled for GOOX.
    let (goog, goox) = (fmp_history("GOOG", 1.0), fmp_history("GOOX", 1.01));
    let server = MockServer::start(move |r, _| match r.query["symbol"].as_str() {
        "GOOG" => Response::json(200, goog.clone()),
        "GOOX" => Response::json(200, goox.clone()),
        other => panic!("asked for {other}"),
    });
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path(), &server)
        .args(["--set", "model.training.epochs=2"])
        .args(["--set", "model.training.warmup_epochs=1"])
        .args(["--set", "model.lstm.hidden_size=8"])
        .args(["--set", "model.data.lookback=20"])
        .args(["--set", "model.data.purge_gap=20"])
        .args(["-q", "run", "--symbols", "GOOG,GOOX", "--param", "top=1"])
        .args(["--history-from", "2004-01-01"])
        .args([
            "--train", "500", "--test", "500", "--paths", "100", "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(server.hits(), 2, "one request a symbol");
    assert_eq!(
        s["universe"]["symbols"],
        serde_json::json!(["GOOG", "GOOX"])
    );
    assert!(
        s["universe"]["strategy"]
            .as_str()
            .unwrap()
            .starts_with("rank(top 1")
    );
    for f in ["GOOG", "GOOX"] {
        assert!(dir.path().join(format!("cache/fmp/{f}.parquet")).exists());
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(KEY));
}

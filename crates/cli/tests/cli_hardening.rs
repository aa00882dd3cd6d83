//! Hostile inputs and killed runs through the binaries, as a user meets them: inputs over a
//! `data.limits` cap are exit 2 naming the cap's key (files and provider answers alike), and a
//! command killed between any two of its writes (`QTS_FAULT_POINT=<point>#<n>` aborts the
//! process there, as `kill -9` would) leaves outputs, the cache and the registry as they were
//! or as they would have been, never a mix.

#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../data/tests/support/mod.rs"]
mod support;

use std::path::Path;

use common::{SMALL, qts, sample};
use support::{MockServer, Response};

fn goog() -> String {
    sample("goog_daily.csv").display().to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `qts` in `d` against the loopback FMP `server`, caching under `d/cache`.
fn against(d: &Path, server: &MockServer) -> assert_cmd::Command {
    let mut cmd = qts(d);
    cmd.env("FMP_API_KEY", "fmp-hardening-key-31")
        .args([
            "--set",
            &format!("data.providers.fmp.base_url={}", server.url()),
        ])
        .args([
            "--set",
            &format!("data.cache.directory={}", d.join("cache").display()),
        ]);
    cmd
}

#[test]
fn inputs_over_a_data_limit_are_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    // The sample (2,148 rows, 6 columns, lines of 31 to 45 bytes, 97,837 bytes) under caps
    // below it.
    for (set, shown) in [
        (
            "data.limits.max_rows=1000",
            "goog_daily.csv: 2148 rows exceeds the limit of 1000 set by data.limits.max_rows",
        ),
        (
            "data.limits.max_columns=5",
            "goog_daily.csv: 6 columns exceeds the limit of 5 set by data.limits.max_columns",
        ),
        (
            "data.limits.max_line_bytes=40",
            "goog_daily.csv:2: a line of 43 bytes exceeds the limit of 40 set by data.limits.max_line_bytes",
        ),
        (
            "data.limits.max_bytes=50000",
            "goog_daily.csv: 97837 bytes exceeds the limit of 50000 set by data.limits.max_bytes",
        ),
    ] {
        for command in [
            vec!["backtest", "--data", goog.as_str()],
            vec!["data", "validate", goog.as_str()],
            vec!["features", goog.as_str(), "--out", "f.parquet"],
        ] {
            let out = qts(d).args(["--set", set]).args(&command).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{set} {command:?}: {}",
                stderr(&out)
            );
            let err = stderr(&out);
            assert!(err.contains(shown), "{set} {command:?}: {err}");
            assert!(err.contains("goog_daily.csv"), "{err}");
        }
    }
    // A header of a million columns, refused before it is split into cells.
    let wide = d.join("wide.csv");
    let mut header = "date,open,high,low,close,volume".to_string();
    header.push_str(&",x".repeat(1_000_000));
    std::fs::write(&wide, format!("{header}\n2024-01-02,1,1,1,1,1\n")).unwrap();
    let out = qts(d)
        .args(["data", "validate"])
        .arg(&wide)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("wide.csv:1: a line of 2000031 bytes exceeds the limit of 1048576 set by data.limits.max_line_bytes"), "{}", stderr(&out));
    // A gzipped signals file that inflates past the cap: stopped at the cap.
    let bomb = d.join("bomb.csv.gz");
    {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&bomb).unwrap(),
            flate2::Compression::best(),
        );
        gz.write_all(b"date,prediction\n").unwrap();
        for _ in 0..200 {
            gz.write_all(&[b'0'; 10_000]).unwrap();
        }
        gz.finish().unwrap();
    }
    let out = qts(d)
        .args([
            "--set",
            "data.limits.max_bytes=1000000",
            "backtest",
            "--data",
            &goog,
        ])
        .args(["--strategy", "signal", "--signals"])
        .arg(&bomb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bytes once decompressed (or more) exceeds the limit of 1000000 set by data.limits.max_bytes"), "{}", stderr(&out));
    // A cap must be positive.
    qts(d)
        .args(["--set", "data.limits.max_rows=0", "config", "validate"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("data.limits.max_rows"));
}

#[test]
fn a_provider_answer_over_a_cap_is_exit_2_and_caches_nothing() {
    let row = r#"{"symbol":"AAPL","date":"2024-01-03","open":10,"high":11,"low":9,"close":10.5,"volume":100}"#;
    let body = format!("[{}]", vec![row; 40_000].join(","));
    let server = MockServer::fmp(move |_, _| Response::json(200, body.clone()));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fetch = |caps: &[&str]| {
        let mut cmd = against(d, &server);
        for cap in caps {
            cmd.args(["--set", cap]);
        }
        cmd.args([
            "data",
            "fetch",
            "--symbols",
            "AAPL",
            "--from",
            "2024-01-02",
            "--to",
            "2024-01-03",
        ])
        .output()
        .unwrap()
    };
    // About 3.7 MB: over a 1 MB body cap, and 40,000 bars over a cap of 10,000.
    for (cap, shown) in [
        (
            "data.limits.max_bytes=1000000",
            "fmp answer to GET /stable/historical-price-eod/non-split-adjusted: a body of more bytes exceeds the limit of 1000000 set by data.limits.max_bytes",
        ),
        (
            "data.limits.max_rows=10000",
            "fmp answer for `AAPL`: 40000 bars exceeds the limit of 10000 set by data.limits.max_rows",
        ),
    ] {
        let out = fetch(&[cap]);
        assert_eq!(out.status.code(), Some(2), "{cap}: {}", stderr(&out));
        assert!(stderr(&out).contains(shown), "{}", stderr(&out));
        assert!(!stderr(&out).contains("fmp-hardening-key-31"));
        assert!(!d.join("cache/fmp/AAPL.parquet").exists(), "nothing cached");
    }
    // Under the defaults the same answer is read (one bar: the rows repeat one day).
    let out = fetch(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(d.join("cache/fmp/AAPL.parquet").exists());
}

/// Runs `args` with the process aborted at the `n`-th time it reaches `point`; `None` when the
/// command finished before reaching it `n` times (its output, for the caller to check).
fn killed_at(
    cmd: &mut assert_cmd::Command,
    point: &str,
    n: usize,
) -> Result<(), std::process::Output> {
    let out = cmd
        .env("QTS_FAULT_POINT", format!("{point}#{n}"))
        .output()
        .unwrap();
    if out.status.code().is_none() {
        Ok(())
    } else {
        Err(out)
    }
}

#[test]
fn a_backtest_killed_between_any_two_writes_leaves_the_old_result_or_an_incomplete_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    let old = ["backtest", "--data", goog.as_str(), "--out", "run"];
    let new = [
        "backtest",
        "--data",
        goog.as_str(),
        "--strategy",
        "buy-and-hold",
        "--out",
        "run",
    ];
    qts(d).args(old).assert().success();
    let strategy = || -> Option<String> {
        let out = qts(d)
            .args(["monte-carlo", "--run", "run", "--paths", "20", "--json"])
            .output()
            .unwrap();
        if !out.status.success() {
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{err}");
            assert!(
                err.contains("no manifest.json"),
                "refused as incomplete, not mixed: {err}"
            );
            return None;
        }
        let stats: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("run/stats.json")).unwrap())
                .unwrap();
        Some(stats["strategy"].to_string())
    };
    let old_strategy = strategy().unwrap();
    let mut kills = 0;
    for n in 1.. {
        match killed_at(qts(d).args(new), "write_atomic", n) {
            Ok(()) => kills += 1,
            Err(out) => {
                assert!(out.status.success(), "{}", stderr(&out));
                break;
            }
        }
        // Old, new or refused as incomplete: never a folder read as a result that mixes them.
        if let Some(s) = strategy() {
            assert!(s == old_strategy || s.contains("buy-and-hold"), "{s}");
        }
        // The run store it tracks into stays readable.
        qts(d).args(["experiments", "list"]).assert().success();
    }
    // The result's three files and manifest, and the tracked run's files.
    assert!(kills >= 4, "{kills}");
    assert!(strategy().unwrap().contains("buy-and-hold"));
}

#[test]
fn a_fetch_killed_at_any_cache_write_keeps_every_symbol_fetched_in_full() {
    let server = MockServer::fmp_two_bars();
    let symbols = ["AAA", "BBB", "CCC"];
    for n in 1..=3 {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let fetch = || {
            let mut cmd = against(d, &server);
            cmd.args(["data", "fetch", "--symbols", "AAA,BBB,CCC"])
                .args(["--from", "2024-01-02", "--to", "2024-01-03", "--json"]);
            cmd
        };
        assert!(
            killed_at(&mut fetch(), "write_atomic", n).is_ok(),
            "killed at write {n}"
        );
        // The symbols written before the kill are cached and readable; the rest are absent.
        let list = qts(d)
            .args([
                "--set",
                &format!("data.cache.directory={}", d.join("cache").display()),
            ])
            .args(["data", "cache", "list", "--json"])
            .output()
            .unwrap();
        let entries: serde_json::Value = common::json(&list);
        let cached: Vec<&str> = entries
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert!(!e["covered"].is_null(), "readable: {e}");
                e["symbol"].as_str().unwrap()
            })
            .collect();
        assert_eq!(cached, symbols[..n - 1], "killed at write {n}");
        // Fetching again asks only for what is missing.
        let v = common::json(&fetch().output().unwrap());
        let requests: Vec<u64> = v["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["requests"].as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = (0..3).map(|i| u64::from(i >= n - 1)).collect();
        assert_eq!(requests, expected, "killed at write {n}");
    }
}

fn versions(d: &Path) -> Vec<u64> {
    let out = qts(d).args(["models", "list", "--json"]).output().unwrap();
    let v = common::json(&out);
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            m["versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_training_killed_at_any_write_registers_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = || {
        let mut cmd = qts(d);
        cmd.args(SMALL)
            .args(["-q", "train", "--name", "k", "--data"])
            .arg(sample("goog_daily.csv"));
        cmd
    };
    // Killed as the version's files are staged but not yet renamed into place, and at the
    // first writes of the run (checkpoints): no version appears, the registry still lists.
    assert!(killed_at(&mut train(), "registry-staged", 1).is_ok());
    for n in 1..=3 {
        assert!(
            killed_at(&mut train(), "write_atomic", n).is_ok(),
            "write {n}"
        );
    }
    assert_eq!(versions(d), Vec::<u64>::new());
    train().assert().success();
    assert_eq!(versions(d), [1]);
    // The registered version is whole: it predicts.
    qts(d)
        .args(["-q", "predict", "--model", "k", "--data"])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
}

#[test]
fn finite_prices_whose_arithmetic_overflows_are_findings_not_empty_features() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(sample("goog_daily.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = vec![lines.next().unwrap().to_string()];
    for line in lines.take(300) {
        let cells: Vec<&str> = line.split(',').collect();
        let scaled: Vec<String> = cells[1..5]
            .iter()
            .map(|x| format!("{:e}", x.parse::<f64>().unwrap() * 1e305))
            .collect();
        out.push(format!("{},{},{}", cells[0], scaled.join(","), cells[5]));
    }
    std::fs::write(d.join("huge.csv"), out.join("\n") + "\n").unwrap();
    let v = qts(d)
        .args(["data", "validate", "huge.csv", "--as-of", "2005-10-20"])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(1), "an error finding");
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("300 prices or volumes above 1e100"),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    for command in [
        vec!["features", "huge.csv", "--out", "f.csv"],
        vec!["backtest", "--data", "huge.csv"],
    ] {
        let out = qts(d).args(&command).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("above 1e100"), "{}", stderr(&out));
    }
    assert!(!d.join("f.csv").exists());
}

/// `qts ARGS` in `d` whose reader has gone before it writes (`qts … | true`).
fn into_a_closed_pipe(d: &Path, args: &[&str]) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qts"))
        .current_dir(d)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(common::repo().join("config"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_with_its_files_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    for args in [
        vec!["metrics", "--returns", &goog],
        vec!["config", "show", "--json"],
        vec!["backtest", "--data", &goog, "--json"],
        vec!["backtest", "--data", &goog, "--out", "run"],
    ] {
        let out = into_a_closed_pipe(d, &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("error") && !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // What the command writes besides stdout is written in full.
    assert!(d.join("run/stats.json").is_file() && d.join("run/equity.csv").is_file());
}

#[test]
fn an_output_naming_an_input_is_exit_2_and_the_input_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    let run = |args: &[&str]| qts(d).args(args).output().unwrap();
    // A backtest's folder, then its page written over its own stats.json.
    assert!(
        run(&["-q", "backtest", "--data", &goog, "--out", "run"])
            .status
            .success()
    );
    let stats = std::fs::read(d.join("run/stats.json")).unwrap();
    let out = run(&["report", "run", "--out", "run/./stats.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("run/./stats.json would overwrite run/stats.json, an input of this command"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(d.join("run/stats.json")).unwrap(), stats);
    // The account's history written over the account, by another name.
    let account = ["--set", "paper.database=acct.sqlite"];
    let init = run(&[
        &account[..],
        &["-q", "paper", "init", "--cash", "1000", "--data", &goog],
    ]
    .concat());
    assert!(init.status.success(), "{}", stderr(&init));
    std::os::unix::fs::symlink(d.join("acct.sqlite"), d.join("link.sqlite")).unwrap();
    let before = std::fs::read(d.join("acct.sqlite")).unwrap();
    let out = run(&[&account[..], &["paper", "history", "--out", "link.sqlite"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("would overwrite acct.sqlite"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(d.join("acct.sqlite")).unwrap(), before);
    // A page over the data it is drawn from, and a result into the run store.
    let copy = d.join("goog.csv");
    std::fs::copy(&goog, &copy).unwrap();
    let out = run(&["backtest", "--data", "goog.csv", "--report", "./goog.csv"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&goog).unwrap());
    let out = run(&[
        "--set",
        "mlflow.local_store=store",
        "backtest",
        "--data",
        &goog,
        "--out",
        "store/mine",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("would overwrite store"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_set_before_the_command_name_survives_one_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .args(["--set", "backtest.initial_capital=1234", "config", "show"])
        .args(["--section", "backtest", "--json"])
        .args(["--set", "backtest.costs.commission_rate=0.003"])
        .output()
        .unwrap();
    let v = common::json(&out);
    assert_eq!(v["initial_capital"], 1234.0);
    assert_eq!(v["costs"]["commission_rate"], 0.003);
}

#[test]
fn sigint_while_a_second_symbol_arrives_keeps_the_first_in_the_cache_and_out() {
    // AAA answers at once; BBB takes a minute.
    let server = MockServer::fmp(|r, _| {
        let s = r.query.get("symbol").cloned().unwrap_or_default();
        let body = format!(
            r#"[{{"symbol":"{s}","date":"2024-01-03","open":10,"high":11,"low":9,"close":10.5,"volume":100}},
               {{"symbol":"{s}","date":"2024-01-02","open":10,"high":11,"low":9,"close":10.2,"volume":100}}]"#
        );
        let delay = if s == "BBB" { 60 } else { 0 };
        Response::json(200, body).delayed(std::time::Duration::from_secs(delay))
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_qts"))
        .current_dir(d)
        .env_remove("RUST_LOG")
        .env("FMP_API_KEY", "fmp-hardening-key-31")
        .arg("-C")
        .arg(common::repo().join("config"))
        .args([
            "--set",
            &format!("data.providers.fmp.base_url={}", server.url()),
        ])
        .args([
            "--set",
            &format!("data.cache.directory={}", d.join("cache").display()),
        ])
        .args(["data", "fetch", "--symbols", "AAA,BBB", "--out", "bars"])
        .args(["--from", "2024-01-02", "--to", "2024-01-03"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !server
        .requests()
        .iter()
        .any(|r| r.query.get("symbol").is_some_and(|s| s == "BBB"))
    {
        assert!(started.elapsed().as_secs() < 30, "BBB never asked for");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let aaa = std::fs::read_to_string(d.join("bars/AAA.csv")).unwrap();
    assert_eq!(aaa.lines().count(), 3, "{aaa}");
    assert!(!d.join("bars/BBB.csv").exists());
    let list = qts(d)
        .args([
            "--set",
            &format!("data.cache.directory={}", d.join("cache").display()),
        ])
        .args(["data", "cache", "list", "--json"])
        .output()
        .unwrap();
    let cached: Vec<String> = common::json(&list)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["symbol"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cached, ["AAA"]);
}

#[test]
fn data_fetch_out_naming_a_file_is_exit_2_naming_it_before_any_request() {
    let server = MockServer::fmp_two_bars();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("notes.txt"), "mine").unwrap();
    let out = against(d, &server)
        .args(["data", "fetch", "--symbols", "AAA", "--out", "notes.txt"])
        .args(["--from", "2024-01-02", "--to", "2024-01-03"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--out notes.txt is a file: --out names a folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.hits(), 0);
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_result_folder_killed_at_any_write_is_the_old_result_or_the_new_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    qts(d)
        .args(["-q", "backtest", "--data", &goog, "--out", "run"])
        .assert()
        .success();
    // A page drawn from the folder: not part of the result, kept across a replacement.
    qts(d).args(["-q", "report", "run"]).assert().success();
    let strategy = || -> String {
        let out = qts(d)
            .args(["monte-carlo", "--run", "run", "--paths", "20", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "never incomplete: {}", stderr(&out));
        let stats: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("run/stats.json")).unwrap())
                .unwrap();
        stats["strategy"].to_string()
    };
    let old = strategy();
    let new = [
        "-q",
        "backtest",
        "--data",
        &goog,
        "--strategy",
        "buy-and-hold",
        "--out",
        "run",
    ];
    for n in 1.. {
        match killed_at(qts(d).args(new), "write_atomic", n) {
            Ok(()) => {
                let s = strategy();
                assert!(
                    s == old || s.contains("buy-and-hold"),
                    "killed at write {n}: {s}"
                );
            }
            Err(out) => {
                assert!(out.status.success(), "{}", stderr(&out));
                break;
            }
        }
    }
    assert!(strategy().contains("buy-and-hold"));
    assert!(
        d.join("run/report.html").is_file(),
        "the page is carried over"
    );
}

#[test]
fn sizes_over_the_budget_are_exit_2_naming_the_flag_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    let grid = ["--grid", "fast=5,10", "--grid", "slow=20,30"];
    for (args, shown) in [
        (
            vec!["monte-carlo", "--returns", &goog, "--paths", "100000000000"],
            "--paths 100000000000 is too large: 100000000000 paths of 2147 periods needs about",
        ),
        (
            vec![
                "monte-carlo",
                "--returns",
                &goog,
                "--horizon",
                "1000000000000000",
            ],
            "--horizon 1000000000000000 is too large: a path of 1000000000000000 periods",
        ),
        (
            vec![
                "optimize",
                "--data",
                &goog,
                "--maximize",
                "sharpe_ratio",
                "--grid",
                "fast=1:1001:1",
                "--grid",
                "slow=1:1001:1",
                "--grid",
                "x=1:1001:1",
            ],
            "--grid is too large for this machine: 1000000000 backtests of 2148 bars",
        ),
        (
            vec![
                "optimize",
                "--data",
                &goog,
                "--maximize",
                "sharpe_ratio",
                "--grid",
                "fast=1:100000000:1",
            ],
            "gives 99999999 values; an axis takes at most 1000000",
        ),
        (
            [
                &[
                    "optimize",
                    "--data",
                    &goog,
                    "--maximize",
                    "sharpe_ratio",
                    "--pbo-splits",
                    "1000",
                ][..],
                &grid[..],
            ]
            .concat(),
            "--pbo-splits 1000 is too large: 2.7e299 CSCV combinations of 4 trials",
        ),
    ] {
        let out = qts(d).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(shown), "{args:?}: {}", stderr(&out));
        if !shown.contains("an axis") {
            let err = stderr(&out);
            assert!(err.contains("set by budget.max_"), "{err}");
        }
    }
    // A random search of 5 points over 10^8 draws them without building the grid.
    let out = qts(d)
        .args([
            "-q",
            "optimize",
            "--data",
            &goog,
            "--maximize",
            "sharpe_ratio",
            "--json",
        ])
        .args(["--grid", "fast=1:10001:1", "--grid", "slow=1:10001:1"])
        .args(["--method", "random", "--trials", "5"])
        .output()
        .unwrap();
    assert_eq!(
        common::json(&out)["trials"].as_u64().unwrap()
            + common::json(&out)["skipped"].as_u64().unwrap(),
        5
    );
    // A step past the end of memory: one window, no panic.
    let out = qts(d)
        .args([
            "-q",
            "walk-forward",
            "--data",
            &goog,
            "--maximize",
            "sharpe_ratio",
            "--json",
        ])
        .args(grid)
        .args([
            "--train",
            "500",
            "--test",
            "100",
            "--step",
            "18446744073709551615",
        ])
        .output()
        .unwrap();
    assert_eq!(common::json(&out)["windows"].as_array().unwrap().len(), 1);
}

/// Every string of `v` in turn replaced by `mark` prepended to it: (the file's new text, where).
fn each_string_marked(v: &serde_json::Value, mark: &str) -> Vec<(serde_json::Value, String)> {
    fn paths(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(_) => out.push(at),
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    paths(x, format!("{at}/{i}"), out);
                }
            }
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    paths(
                        x,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(v, String::new(), &mut all);
    all.into_iter()
        .map(|p| {
            let mut edited = v.clone();
            let s = edited.pointer_mut(&p).unwrap();
            *s = serde_json::Value::String(format!("{mark}{}", s.as_str().unwrap()));
            (edited, p)
        })
        .collect()
}

/// Rewrites the result folder `dir` with `name` replaced by `text` and a manifest that matches
/// (as whoever edits a folder can).
fn forge(dir: &Path, name: &str, text: &str) {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let files: Vec<(String, Vec<u8>)> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let n = f["name"].as_str().unwrap().to_string();
            let bytes = if n == name {
                text.as_bytes().to_vec()
            } else {
                std::fs::read(dir.join(&n)).unwrap()
            };
            (n, bytes)
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    qts_core::fs::write_result_dir(dir, &refs).unwrap();
}

#[test]
fn no_text_of_an_edited_result_folder_reaches_its_page_unescaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    let grid = ["--grid", "fast=5,10", "--grid", "slow=20,30"];
    let search = ["--maximize", "sharpe_ratio"];
    let make: [(&str, &str, Vec<&str>); 4] = [
        ("bt", "stats.json", vec!["backtest", "--data", &goog]),
        (
            "opt",
            "optimize.json",
            [&["optimize", "--data", &goog][..], &grid, &search].concat(),
        ),
        (
            "wf",
            "walk_forward.json",
            [
                &[
                    "walk-forward",
                    "--data",
                    &goog,
                    "--train",
                    "500",
                    "--test",
                    "250",
                ][..],
                &grid,
                &search,
            ]
            .concat(),
        ),
        (
            "mc",
            "monte_carlo.json",
            vec!["monte-carlo", "--returns", &goog, "--paths", "50"],
        ),
    ];
    let mark = "<x-evil>";
    let mut drawn = 0;
    for (out, file, args) in make {
        let status = qts(d)
            .args(["-q"])
            .args(&args)
            .args(["--out", out])
            .output()
            .unwrap();
        assert!(status.status.success(), "{args:?}: {}", stderr(&status));
        let folder = d.join(out);
        let original = std::fs::read_to_string(folder.join(file)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&original).unwrap();
        for (edited, at) in each_string_marked(&json, mark) {
            forge(
                &folder,
                file,
                &serde_json::to_string_pretty(&edited).unwrap(),
            );
            let r = qts(d)
                .args(["report", out, "--out", "page.html"])
                .output()
                .unwrap();
            if r.status.success() {
                drawn += 1;
                let page = std::fs::read_to_string(d.join("page.html")).unwrap();
                assert!(
                    !page.contains(mark),
                    "{file}{at} reaches the page unescaped"
                );
            } else {
                assert_eq!(r.status.code(), Some(2), "{file}{at}: {}", stderr(&r));
            }
        }
        forge(&folder, file, &original);
    }
    // The CSV files' text columns: a trade's side, a window's parameters.
    for (out, file, column) in [("bt", "trades.csv", 2), ("wf", "windows.csv", 5)] {
        let folder = d.join(out);
        let text = std::fs::read_to_string(folder.join(file)).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
        cells[column] = format!("{mark}{}", cells[column]);
        lines[1] = cells.join(",");
        forge(&folder, file, &(lines.join("\n") + "\n"));
        let r = qts(d)
            .args(["report", out, "--out", "page.html"])
            .output()
            .unwrap();
        if r.status.success() {
            drawn += 1;
            let page = std::fs::read_to_string(d.join("page.html")).unwrap();
            assert!(
                !page.contains(mark),
                "{file} column {column} reaches the page unescaped"
            );
        }
    }
    assert!(drawn > 20, "{drawn} pages drawn from edited folders");
}

#[test]
fn a_broken_or_hostile_run_is_skipped_and_the_others_still_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = goog();
    for strategy in ["sma-cross", "buy-and-hold", "sma-cross"] {
        qts(d)
            .args(["-q", "backtest", "--data", &goog, "--strategy", strategy])
            .assert()
            .success();
    }
    let list = || {
        let out = qts(d)
            .args(["experiments", "list", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        (common::json(&out), stderr(&out))
    };
    let (runs, _) = list();
    let ids: Vec<String> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    let store = d.join("artifacts/runs");
    // One run.json corrupt, one naming an artifact outside its folder.
    std::fs::write(store.join(&ids[0]).join("run.json"), "{ not json").unwrap();
    let path = store.join(&ids[1]).join("run.json");
    let mut run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    run["artifacts"] = serde_json::json!(["artifacts/../../../../etc/passwd"]);
    std::fs::write(&path, run.to_string()).unwrap();
    let (runs, err) = list();
    let left: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(left, [ids[2].as_str()]);
    assert!(err.contains("skipped a run that cannot be read"), "{err}");
    assert!(
        err.contains("not a path inside the run's artifacts/"),
        "{err}"
    );
}

#[test]
fn reproduce_re_runs_only_the_command_its_run_records_and_takes_no_placeholder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(goog(), d.join("goog.csv")).unwrap();
    qts(d)
        .args(["-q", "backtest", "--data", "goog.csv", "--out=run"])
        .assert()
        .success();
    let list = common::json(
        &qts(d)
            .args(["experiments", "list", "--json"])
            .output()
            .unwrap(),
    );
    let id = list[0]["run_id"].as_str().unwrap().to_string();
    let folder = d.join("artifacts/runs").join(&id);
    let ok = qts(d).args(["reproduce", &id]).output().unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    let text = String::from_utf8_lossy(&ok.stdout).into_owned();
    assert!(
        text.contains("re-ran: qts backtest --data goog.csv --out="),
        "{text}"
    );
    // `--out=run` went to the scratch folder: the user's result is the one written first.
    assert_eq!(
        std::fs::read_dir(d.join("artifacts/runs")).unwrap().count(),
        1
    );
    let run_json = std::fs::read_to_string(folder.join("run.json")).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&run_json).unwrap();
        f(&mut v);
        std::fs::write(folder.join("run.json"), v.to_string()).unwrap();
        qts(d).args(["reproduce", &id]).output().unwrap()
    };
    let set_tag = |v: &mut serde_json::Value, key: &str, value: &str| {
        for t in v["tags"].as_array_mut().unwrap() {
            if t[0] == key {
                t[1] = serde_json::json!(value);
            }
        }
    };
    // Another command behind a backtest's name.
    let out = edit(&|v| {
        set_tag(
            v,
            "qts.argv",
            r#"["data","fetch","--symbols","AAPL","--from","2020-01-01"]"#,
        )
    });
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("runs `data`, not the backtest the run records"),
        "{}",
        stderr(&out)
    );
    // A kind that is never re-run.
    let out = edit(&|v| set_tag(v, "qts.command", "data fetch"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a run of `data fetch` is not re-run"),
        "{}",
        stderr(&out)
    );
    // A placeholder that would pull a secret from the environment into the logged settings.
    std::fs::write(folder.join("run.json"), &run_json).unwrap();
    let config = folder.join("artifacts/config.yaml");
    let yaml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        yaml.replacen("experiment_name:", "experiment_name: ${FMP_API_KEY} #", 1),
    )
    .unwrap();
    let out = qts(d)
        .env("FMP_API_KEY", "k-31")
        .args(["reproduce", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("placeholder"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("k-31"));
}

#[test]
fn credentials_in_the_tracking_uri_are_taken_out_at_source_and_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A server that is not there: the run stays in the local store, which is what is read.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("http://alice:s3cr3t%2D31@127.0.0.1:{port}/mlflow");
    let set = format!("mlflow.tracking_uri={uri}");
    let show = qts(d)
        .args([
            "--set",
            &set,
            "config",
            "show",
            "--section",
            "mlflow",
            "--json",
        ])
        .output()
        .unwrap();
    let v = common::json(&show);
    assert_eq!(v["tracking_uri"], format!("http://127.0.0.1:{port}/mlflow"));
    assert_eq!(v["username"], "alice");
    assert_eq!(v["password"], "***");
    let out = qts(d)
        .args(["--set", &set, "backtest", "--data", &goog()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut seen = stderr(&out);
    for entry in walk(&d.join("artifacts/runs")) {
        seen.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    assert!(seen.contains("alice"), "the user is kept");
    for secret in ["s3cr3t", "s3cr3t-31", "s3cr3t%2D31"] {
        assert!(!seen.contains(secret), "{secret} written: {seen}");
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_webhook_inside_a_set_mapping_with_yaml_escapes_is_redacted_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // `\u0068` is `h`: the text typed is not the value parsed.
    let set = r#"monitoring={webhook_url: "https://hooks.example.com/T0/\u0068ook-s3cr3t-31"}"#;
    let out = qts(d)
        .args(["--set", set, "backtest", "--data", &goog()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut seen = stderr(&out);
    for entry in walk(&d.join("artifacts/runs")) {
        seen.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    assert!(
        seen.contains("monitoring=***"),
        "the argument is kept, its value scrubbed"
    );
    for secret in ["ook-s3cr3t-31", "s3cr3t", "hooks.example.com/T0"] {
        assert!(!seen.contains(secret), "{secret} written: {seen}");
    }
}

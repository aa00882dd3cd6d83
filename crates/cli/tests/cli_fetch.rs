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
    let server = MockServer::fmp(|r, _| {
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
    assert_eq!(server.price_hits(), 2);

    let out = qts(dir.path(), &server).args(args).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["symbols"][0]["requests"], 0);
    assert_eq!(server.price_hits(), 2, "served from the cache");

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
    let server = MockServer::fmp(|r, _| {
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

/// Apple from 2016 to 2022 as FMP serves it (`tests/golden/aapl_fmp`, written by
/// `scripts/golden/aapl_fmp_fixture.py`): its prices as traded, its 4:1 split of 2020-08-31 and
/// its 28 dividends as declared, each endpoint answering the range asked, newest first.
fn fmp_apple(r: &support::Request) -> Response {
    let dir = repo().join("crates/cli/tests/golden/aapl_fmp");
    let (from, to) = (r.query["from"].as_str(), r.query["to"].as_str());
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let inside = |d: &str| from <= d && d <= to;
    let mut rows: Vec<String> = match r.path.as_str() {
        "/stable/historical-price-eod/non-split-adjusted" => read("prices.csv")
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|c| inside(c[0]))
            .map(|c| {
                format!(
                    r#"{{"symbol":"AAPL","date":"{}","adjOpen":{},"adjHigh":{},"adjLow":{},"adjClose":{},"volume":{}}}"#,
                    c[0], c[1], c[2], c[3], c[4], c[5]
                )
            })
            .collect(),
        path @ ("/stable/splits" | "/stable/dividends") => read("actions.csv")
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|c| inside(c[0]) && path.ends_with(&format!("{}s", c[2])))
            .map(|c| match c[2] {
                "split" => format!(
                    r#"{{"symbol":"AAPL","date":"{}","numerator":{},"denominator":1}}"#,
                    c[0], c[3]
                ),
                _ => {
                    let cash: f64 = c[3].parse().unwrap();
                    let adjusted = if c[0] < "2020-08-31" { cash / 4.0 } else { cash };
                    format!(
                        r#"{{"symbol":"AAPL","date":"{}","dividend":{cash},"adjDividend":{adjusted},"frequency":"Quarterly"}}"#,
                        c[0]
                    )
                }
            })
            .collect(),
        other => panic!("unexpected path {other}"),
    };
    rows.reverse();
    Response::json(200, format!("[{}]", rows.join(",")))
}

/// The issue's "done when": `qts run --symbols AAPL` across Apple's 4:1 split shows no −75 %
/// day, pays the dividends and states its basis, and its buy-and-hold is the total return.
#[test]
fn qts_run_on_apple_trades_across_its_split_pays_its_dividends_and_holds_the_total_return() {
    let server = MockServer::start(|r, _| {
        assert_eq!(r.query["symbol"], "AAPL");
        fmp_apple(r)
    });
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path(), &server)
        .args(["--set", "model.training.epochs=2"])
        .args(["--set", "model.training.warmup_epochs=1"])
        .args(["--set", "model.lstm.hidden_size=8"])
        .args(["--set", "model.data.lookback=20"])
        .args(["--set", "model.data.purge_gap=20"])
        .args([
            "-q",
            "run",
            "--symbols",
            "AAPL",
            "--history-from",
            "2016-01-01",
        ])
        // Long whatever the forecast, so that the model's shares cross every ex-date.
        .args(["--param", "long_above=-1"])
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
    // The whole history once: its prices, its splits, its dividends; then the cached bars.
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/stable/historical-price-eod/non-split-adjusted",
            "/stable/splits",
            "/stable/dividends"
        ]
    );
    assert!(
        s["data"].as_str().unwrap().contains("cache"),
        "{}",
        s["data"]
    );
    // The basis, stated.
    assert_eq!(s["settings"]["price_basis"], "split");
    assert_eq!(s["settings"]["dividends"], true);
    let (start, end) = (
        s["out_of_sample"]["start"].as_str().unwrap(),
        s["out_of_sample"]["end"].as_str().unwrap(),
    );
    assert!(
        start < "2020-08-28" && end > "2020-08-31",
        "{start} .. {end}"
    );
    assert_eq!(s["decision"]["as_of"], "2022-12-28");

    // Each close of the stitched out-of-sample equity against the adjusted close the
    // fixture was built from (Yahoo's, split- and dividend-adjusted).
    let adjusted: std::collections::BTreeMap<String, f64> = {
        let text =
            std::fs::read_to_string(repo().join("examples/data/stocks20_daily_adjclose.csv"))
                .unwrap();
        text.lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].to_string(), c[1].parse().unwrap())
            })
            .collect()
    };
    let raw: std::collections::BTreeMap<String, f64> =
        std::fs::read_to_string(repo().join("crates/cli/tests/golden/aapl_fmp/prices.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].to_string(), c[4].parse().unwrap())
            })
            .collect();
    let dividends: std::collections::BTreeMap<String, f64> =
        std::fs::read_to_string(repo().join("crates/cli/tests/golden/aapl_fmp/actions.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.contains(",dividend,"))
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].to_string(), c[3].parse().unwrap())
            })
            .collect();
    // The split basis: before 2020-08-31, prices and dividends over 4.
    let on_split = |day: &str, x: f64| if day < "2020-08-31" { x / 4.0 } else { x };
    let file = PathBuf::from(s["reports"]["oos_equity"].as_str().unwrap());
    let file = if file.is_absolute() {
        file
    } else {
        dir.path().join(file)
    };
    let rows: Vec<(String, f64, f64, f64)> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let f = |k: usize| c[k].parse::<f64>().unwrap();
            (c[0].to_string(), f(1), f(2), f(3))
        })
        .collect();
    let windows = s["out_of_sample"]["windows"].as_u64().unwrap() as usize;
    let (mut starts, mut matched, mut expected_dividends) = (0, 0, 0.0);
    for pair in rows.windows(2) {
        let ((d0, e0, h0, x0), (d1, e1, h1, _)) = (&pair[0], &pair[1]);
        assert!(
            e1 / e0 > 0.5,
            "the model's equity fell by half from {d0} to {d1}"
        );
        let held = h1 / h0;
        let total = adjusted[d1] / adjusted[d0];
        if (held - 1.0).abs() < 1e-12 && (total - 1.0).abs() > 1e-9 {
            // A test window's first close: each window starts from the last one's end.
            starts += 1;
            continue;
        }
        assert!(
            (held - total).abs() < 2e-5,
            "buy-and-hold from {d0} to {d1}: {held} against the total return's {total}"
        );
        matched += 1;
        if let Some(cash) = dividends.get(d1) {
            // Shares held at the close before the ex-date: the position's value over the
            // close, on the split basis; each is paid the dividend on that basis.
            let shares = x0 * e0 / on_split(d0, raw[d0]);
            expected_dividends += shares * on_split(d1, *cash);
        }
    }
    assert_eq!(
        starts,
        windows - 1,
        "every other pair of closes is the total return"
    );
    assert!(matched > 900, "{matched}");
    // No −75 % day: the split's session is Apple's +3.4 %, as the adjusted close says.
    let split_day = rows.iter().position(|r| r.0 == "2020-08-31").unwrap();
    let held = rows[split_day].2 / rows[split_day - 1].2;
    assert!((held - 1.034).abs() < 0.001, "{held}");
    // The dividends the model's shares were paid, in its equity (`model.dividend_income`).
    let income = s["model"]["dividend_income"].as_f64().unwrap();
    assert!(
        expected_dividends > 0.0,
        "the model held Apple over its ex-dates"
    );
    assert!(
        (income - expected_dividends).abs() < 1e-6 * expected_dividends.max(1.0),
        "model dividends {income} against {expected_dividends} from its exposure"
    );
    assert!(
        s["sma_cross"]["dividend_income"].as_f64().unwrap() > 0.0,
        "the SMA crossover held Apple over an ex-date"
    );
    assert!(
        s["buy_and_hold"].get("dividend_income").is_none(),
        "reinvested: in its return"
    );
    // The key never reaches the output.
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(KEY));
}

#[test]
fn qts_run_on_several_symbols_fetches_each_and_ranks_them() {
    // FMP serves the sample GOOG history for GOOG, and a copy with every other day's prices
    // scaled for GOOX.
    let (goog, goox) = (fmp_history("GOOG", 1.0), fmp_history("GOOX", 1.01));
    let server = MockServer::fmp(move |r, _| match r.query["symbol"].as_str() {
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
    assert_eq!(server.price_hits(), 2, "one request for prices a symbol");
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

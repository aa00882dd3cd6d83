//! `qts decide` and `qts paper` as a user runs them: the decision equals the backtest, a
//! month of paper steps equals the backtest of that month, a kill at any point of a step
//! leaves the account as it was, concurrent steps apply once, alerts reach a loopback webhook
//! (retried on 5xx, its secret never printed), and bad input is exit 2 naming the thing.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{qts, sample};

const GOOG: &str = "goog_daily.csv";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The trading days of `from..=to` in the sample file.
fn days(from: &str, to: &str) -> Vec<String> {
    let text = std::fs::read_to_string(sample(GOOG)).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .filter(|d| d.as_str() >= from && d.as_str() <= to)
        .collect()
}

fn init(dir: &Path, extra: &[&str]) {
    let out = qts(dir)
        .args(["-q", "paper", "init", "--cash", "100000", "--data"])
        .arg(sample(GOOG))
        .args(["--param", "fast=10", "--param", "slow=20"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn step(dir: &Path, day: &str) -> std::process::Output {
    qts(dir)
        .args(["-q", "paper", "step", "--offline", "--json", "--as-of", day])
        .output()
        .unwrap()
}

fn history(dir: &Path) -> String {
    let out = qts(dir)
        .args(["paper", "history", "--out", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// The day, equity and cash of each row of an `equity.csv` or a paper `history`.
fn day_equity_cash(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect()
}

fn status(dir: &Path) -> serde_json::Value {
    json(
        &qts(dir)
            .args(["paper", "status", "--json"])
            .output()
            .unwrap(),
    )
}

#[test]
fn decide_gives_the_backtests_equity_and_orders_day_by_day() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .args(["-q", "backtest", "--data"])
        .arg(sample(GOOG))
        .args(["--param", "fast=10", "--param", "slow=20", "--out", "bt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let equity = std::fs::read_to_string(dir.path().join("bt/equity.csv")).unwrap();
    let trades = std::fs::read_to_string(dir.path().join("bt/trades.csv")).unwrap();
    let mut orders = 0;
    for day in days("2013-01-14", "2013-02-28") {
        let out = qts(dir.path())
            .args([
                "-q", "decide", "--json", "--param", "fast=10", "--param", "slow=20",
            ])
            .arg("--data")
            .arg(sample(GOOG))
            .args(["--as-of", &day])
            .output()
            .unwrap();
        let d = json(&out);
        assert_eq!(d["as_of"], day.as_str());
        // The equity of that close, to the last digit the backtest wrote (compared as text:
        // both are shortest round-trip forms, and serde_json's default parser may be an ulp
        // off).
        let row = equity
            .lines()
            .find(|l| l.starts_with(&format!("{day},")))
            .unwrap();
        let written = row.split(',').nth(1).unwrap();
        let text = stdout(&out);
        let printed = text
            .split("\n  \"equity\": ")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .unwrap();
        assert_eq!(printed, written, "equity at {day}");
        orders += d["orders"].as_array().unwrap().len();
        for o in d["orders"].as_array().unwrap() {
            assert_eq!(o["decided"], day.as_str());
            assert_eq!(o["order_type"], "market");
            assert!(o["shares"].as_f64().unwrap() > 0.0);
        }
    }
    // Weekly rebalances of a volatility-scaled position place orders in six weeks.
    assert!(orders >= 3, "{orders} orders");
    assert!(trades.lines().count() > 1);
}

#[test]
fn a_month_of_paper_steps_equals_the_backtest_of_that_month() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &[]);
    let month = days("2013-01-02", "2013-01-31");
    assert_eq!(month.len(), 21);
    for day in &month {
        let s = json(&step(dir.path(), day));
        assert_eq!(s["day"], day.as_str());
    }
    let out = qts(dir.path())
        .args(["-q", "backtest", "--data"])
        .arg(sample(GOOG))
        .args([
            "--param", "fast=10", "--param", "slow=20", "--cash", "100000",
        ])
        .args(["--from", "2013-01-02", "--to", "2013-01-31", "--out", "bt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let backtest: Vec<(String, f64, f64)> =
        std::fs::read_to_string(dir.path().join("bt/equity.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].into(), c[1].parse().unwrap(), c[2].parse().unwrap())
            })
            .collect();
    let paper: Vec<(String, f64, f64)> = history(dir.path())
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].into(), c[1].parse().unwrap(), c[2].parse().unwrap())
        })
        .collect();
    assert_eq!(paper, backtest);
    let s = status(dir.path());
    assert_eq!(s["steps"], 21);
    assert_eq!(s["last_day"], "2013-01-31");
    assert_eq!(s["equity"].as_f64().unwrap(), backtest.last().unwrap().1);
    assert!(s["positions"][0]["shares"].as_f64().unwrap() > 0.0);
    // The month traded: at least one fill was recorded.
    assert!(
        history(dir.path())
            .lines()
            .skip(1)
            .any(|l| !l.ends_with(",0,0"))
    );
}

#[test]
fn a_kill_at_any_point_of_a_step_leaves_the_account_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &[]);
    for day in days("2013-01-02", "2013-01-04") {
        assert!(step(dir.path(), &day).status.success());
    }
    let before = (history(dir.path()), status(dir.path()));
    // 2013-01-07 is a rebalance day with a fill: every write of the step happens.
    for point in [
        "paper-step-locked",
        "paper-step-before-writes",
        "paper-step-after-fills",
        "paper-step-after-orders",
        "paper-step-before-commit",
    ] {
        let out = qts(dir.path())
            .env("QTS_FAULT_POINT", point)
            .args(["-q", "paper", "step", "--offline", "--as-of", "2013-01-08"])
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{point}: the process should have died"
        );
        assert_eq!(out.status.code(), None, "{point}: killed by a signal");
        assert_eq!(
            (history(dir.path()), status(dir.path())),
            before,
            "{point}: the account changed"
        );
    }
    // After the commit the step is kept whole.
    let out = qts(dir.path())
        .env("QTS_FAULT_POINT", "paper-step-after-commit")
        .args(["-q", "paper", "step", "--offline", "--as-of", "2013-01-07"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None);
    let after = history(dir.path());
    assert_eq!(after.lines().count(), before.0.lines().count() + 1);
    assert!(after.lines().last().unwrap().starts_with("2013-01-07,"));
    // And the account goes on from there.
    assert!(step(dir.path(), "2013-01-08").status.success());
    assert_eq!(status(dir.path())["steps"], 5);
}

#[test]
fn concurrent_steps_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &[]);
    // The first step holds the account for a second; a second step that waits no more than
    // 0.1 s refuses, one that waits longer finds the day stepped.
    let first = std::process::Command::new(env!("CARGO_BIN_EXE_qts"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("QTS_CONFIG_DIR")
        .arg("-C")
        .arg(common::repo().join("config"))
        .env("QTS_FAULT_POINT", "paper-step-locked:sleep=1500")
        .args(["-q", "paper", "step", "--offline", "--as-of", "2013-01-02"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let impatient = qts(dir.path())
        .args(["--set", "paper.lock_timeout_seconds=0.1"])
        .args(["-q", "paper", "step", "--offline", "--as-of", "2013-01-02"])
        .output()
        .unwrap();
    let patient = qts(dir.path())
        .args(["--set", "paper.lock_timeout_seconds=30"])
        .args(["-q", "paper", "step", "--offline", "--as-of", "2013-01-02"])
        .output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(impatient.status.code(), Some(2));
    assert!(
        stderr(&impatient).contains("another step holds the account"),
        "{}",
        stderr(&impatient)
    );
    assert_eq!(patient.status.code(), Some(2));
    assert!(
        stderr(&patient).contains("2013-01-02 was already stepped"),
        "{}",
        stderr(&patient)
    );
    assert_eq!(status(dir.path())["steps"], 1);
}

/// A loopback receiver that answers `codes` in turn (then 200) and keeps every body.
fn receiver(codes: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    std::thread::spawn(move || {
        let mut codes = codes.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let code = codes.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {code} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
        }
    });
    (
        format!("http://127.0.0.1:{port}/hooks/SECRET-TOKEN-123"),
        bodies,
    )
}

#[test]
fn alerts_reach_the_webhook_once_retried_on_5xx_and_the_url_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &[]);
    let (url, bodies) = receiver(vec![503]);
    let monitored = |day: &str| {
        qts(dir.path())
            .env("QTS_ALERT_WEBHOOK_URL", &url)
            .args(["--set", "monitoring.enabled=true"])
            // Any loss at all is an alert: the first rebalance's costs are one.
            .args(["--set", "monitoring.daily_loss_alert=0.0001"])
            .args(["--set", "monitoring.drawdown_alert=0.5"])
            .args(["-v", "paper", "step", "--offline", "--json", "--as-of", day])
            .output()
            .unwrap()
    };
    let mut alerted = None;
    for day in days("2013-01-02", "2013-01-10") {
        let out = monitored(&day);
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(
            !o.contains("SECRET-TOKEN") && !e.contains("SECRET-TOKEN"),
            "{o}{e}"
        );
        let s = json(&out);
        if !s["alerts"].as_array().unwrap().is_empty() && alerted.is_none() {
            alerted = Some((day.clone(), s));
        }
    }
    let (day, s) = alerted.expect("a loss alert in the first days of trading");
    assert_eq!(s["alerts"][0]["kind"], "daily_loss");
    assert_eq!(s["deliveries"][0]["delivered"], true);
    assert_eq!(s["deliveries"][0]["attempts"], 2, "503, then 200");
    let got = bodies.lock().unwrap().clone();
    // Each alert's body arrives once per attempt: the 503'd one and the delivered one.
    let about: Vec<&String> = got.iter().filter(|b| b.contains(&day)).collect();
    assert_eq!(about.len(), 2, "{got:?}");
    let delivered: serde_json::Value = serde_json::from_str(about[1]).unwrap();
    assert_eq!(delivered["alert"]["kind"], "daily_loss");
    assert!(delivered["text"].as_str().unwrap().contains("one-day loss"));
    // Every alert is a JSON line in the alert log, without the secret.
    let log = std::fs::read_to_string(dir.path().join("artifacts/alerts.jsonl")).unwrap();
    assert!(!log.contains("SECRET-TOKEN"));
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "daily_loss");
    let db = std::fs::read(dir.path().join("artifacts/paper.sqlite")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("SECRET-TOKEN"));
}

#[test]
fn a_dead_webhook_does_not_undo_the_step() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &[]);
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut tried = 0;
    for day in days("2013-01-02", "2013-01-08") {
        let out = qts(dir.path())
            .env(
                "QTS_ALERT_WEBHOOK_URL",
                format!("http://127.0.0.1:{port}/x/SECRET-TOKEN-9"),
            )
            .args(["--set", "monitoring.enabled=true"])
            .args(["--set", "monitoring.daily_loss_alert=0.0001"])
            .args(["--set", "monitoring.webhook_timeout_seconds=1"])
            .args([
                "-q",
                "paper",
                "step",
                "--offline",
                "--json",
                "--as-of",
                &day,
            ])
            .output()
            .unwrap();
        let s = json(&out);
        for d in s["deliveries"].as_array().unwrap() {
            assert_eq!(d["delivered"], false);
            assert_eq!(d["error"], "connection refused");
            assert_eq!(
                d["attempts"], 3,
                "retried up to monitoring.webhook_attempts"
            );
            tried += 1;
        }
    }
    assert!(tried >= 1, "no alert was raised");
    assert_eq!(status(dir.path())["steps"], 5);
}

#[test]
fn stale_data_is_refused_alerted_and_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &[]);
    assert!(step(dir.path(), "2013-02-28").status.success());
    let out = qts(dir.path())
        .args(["--set", "monitoring.enabled=true"])
        .args(["--set", "monitoring.alert_log=logs/my_alerts.jsonl"])
        .args(["-q", "paper", "step", "--offline", "--as-of", "2013-03-12"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("stale data: the newest bar is 2013-03-01"),
        "{}",
        stderr(&out)
    );
    // The alert went where monitoring.alert_log says, not to the default file.
    assert!(!dir.path().join("artifacts/alerts.jsonl").exists());
    let log = std::fs::read_to_string(dir.path().join("logs/my_alerts.jsonl")).unwrap();
    let alert: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(alert["kind"], "stale_data");
    assert_eq!(alert["day"], "2013-03-12");
    assert_eq!(status(dir.path())["steps"], 1);
    // 2013-03-01 is 7 trading days before 2013-03-12: stale at a limit of 7 (as many days
    // behind as the limit), not at 8.
    let with_limit = |days: &str| {
        qts(dir.path())
            .args(["--set", "monitoring.enabled=true"])
            .args(["--set", &format!("monitoring.stale_data_alert_days={days}")])
            .args(["-q", "paper", "step", "--offline", "--as-of", "2013-03-12"])
            .output()
            .unwrap()
    };
    assert_eq!(with_limit("7").status.code(), Some(2));
    assert_eq!(status(dir.path())["steps"], 1);
    let out = with_limit("8");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status(dir.path())["steps"], 2);
}

#[test]
fn bad_input_is_exit_2_naming_the_thing_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| qts(d).args(args).output().unwrap();
    let refused = |out: std::process::Output, needle: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(needle),
            "wanted {needle:?} in {}",
            stderr(&out)
        );
    };
    refused(run(&["paper", "status"]), "no paper account here");
    refused(
        run(&["paper", "step", "--as-of", "2013-01-02"]),
        "qts paper init",
    );
    let goog = sample(GOOG).display().to_string();
    refused(
        run(&["paper", "init", "--cash", "-5", "--data", &goog]),
        "--cash must be a positive amount, got -5",
    );
    refused(
        run(&[
            "paper",
            "init",
            "--cash",
            "1000",
            "--strategy",
            "nope",
            "--data",
            &goog,
        ]),
        "unknown strategy `nope`",
    );
    refused(
        run(&[
            "paper",
            "init",
            "--cash",
            "1000",
            "--symbols",
            "NOSUCH",
            "--offline",
        ]),
        "NOSUCH",
    );
    init(d, &[]);
    refused(
        run(&["paper", "init", "--cash", "1000", "--data", &goog]),
        "already open here",
    );
    // A file that is not SQLite.
    std::fs::write(d.join("junk.sqlite"), "date,close\n2013-01-02,1\n").unwrap();
    refused(
        run(&["--set", "paper.database=junk.sqlite", "paper", "status"]),
        "junk.sqlite: not a qts paper account",
    );
    // A database from a newer qts.
    let newer = d.join("newer.sqlite");
    std::fs::copy(d.join("artifacts/paper.sqlite"), &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    refused(
        run(&["--set", "paper.database=newer.sqlite", "paper", "status"]),
        "schema version 99 is newer",
    );
    // Settings changed since the account opened.
    assert!(step(d, "2013-01-02").status.success());
    refused(
        run(&[
            "--set",
            "trading.rebalance=daily",
            "paper",
            "step",
            "--offline",
            "--as-of",
            "2013-01-03",
        ]),
        "settings differ from those the account was opened with",
    );
    // A revised price file is detected, not absorbed.
    let revised = d.join("revised.csv");
    let text = std::fs::read_to_string(sample(GOOG)).unwrap();
    let edited: String = text
        .lines()
        .map(|l| {
            if l.starts_with("2013-01-08,") {
                let mut c: Vec<String> = l.split(',').map(String::from).collect();
                let close: f64 = c[4].parse().unwrap();
                c[4] = format!("{}", close + 1.0);
                c[2] = format!("{}", c[2].parse::<f64>().unwrap().max(close + 1.0));
                c.join(",")
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    std::fs::write(&revised, edited).unwrap();
    // Held from the rebalance of 2013-01-07 on, so 2013-01-08's close is in the equity.
    for day in days("2013-01-03", "2013-01-08") {
        assert!(step(d, &day).status.success());
    }
    refused(
        run(&[
            "paper",
            "step",
            "--offline",
            "--as-of",
            "2013-01-09",
            "--data",
            revised.to_str().unwrap(),
        ]),
        "the data no longer gives the account's recorded history",
    );
    assert_eq!(status(d)["steps"], 5);
}

#[test]
fn a_model_that_stops_working_live_raises_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    // Right about every next return on its validation rows, wrong about every one live.
    let text = std::fs::read_to_string(sample(GOOG)).unwrap();
    let rows: Vec<(String, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[4].parse().unwrap())
        })
        .collect();
    let mut csv = String::from("date,prediction,lower,upper,split\n");
    for w in rows.windows(2) {
        let (day, r) = (&w[0].0, w[1].1 / w[0].1 - 1.0);
        if day.as_str() < "2012-06-01" {
            continue;
        }
        let (p, split) = if day.as_str() < "2013-01-02" {
            (r, "validation")
        } else {
            (-r, "test")
        };
        csv.push_str(&format!("{day},{p},{},{},{split}\n", p - 0.001, p + 0.001));
    }
    std::fs::write(dir.path().join("preds.csv"), csv).unwrap();
    let out = qts(dir.path())
        .args([
            "-q",
            "paper",
            "init",
            "--cash",
            "100000",
            "--strategy",
            "signal",
        ])
        .args(["--signals", "preds.csv", "--data"])
        .arg(sample(GOOG))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut kinds = Vec::new();
    for day in days("2013-01-02", "2013-01-14") {
        let out = qts(dir.path())
            .args([
                "--set",
                "monitoring.enabled=true",
                "--set",
                "monitoring.model_window=5",
            ])
            .args([
                "-q",
                "paper",
                "step",
                "--offline",
                "--json",
                "--as-of",
                &day,
            ])
            .output()
            .unwrap();
        let s = json(&out);
        for a in s["alerts"].as_array().unwrap() {
            kinds.push((day.clone(), a["kind"].as_str().unwrap().to_string()));
        }
        if !s["model"].is_null() {
            assert_eq!(s["model"]["validation_accuracy"], 1.0);
            assert_eq!(s["model"]["live_accuracy"], 0.0);
            assert_eq!(s["model"]["decisions"], 5);
        }
    }
    // Five judged forecasts need six closes after the first step: from 2013-01-09 on.
    assert!(
        kinds
            .iter()
            .any(|(d, k)| k == "model_accuracy" && d.as_str() >= "2013-01-09"),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(_, k)| k == "model_coverage"),
        "{kinds:?}"
    );
    assert!(
        !kinds
            .iter()
            .any(|(d, k)| k.starts_with("model") && d.as_str() < "2013-01-09"),
        "{kinds:?}"
    );
}

#[test]
fn decide_for_given_holdings_orders_what_takes_that_account_to_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = sample("goog_daily.csv");
    let decide = |extra: &[&str]| {
        qts(d)
            .args([
                "-q",
                "decide",
                "--json",
                "--offline",
                "--as-of",
                "2013-02-22",
            ])
            .args(["--strategy", "sma-cross", "--data"])
            .arg(&goog)
            .args(extra)
            .output()
            .unwrap()
    };
    std::fs::write(d.join("h.csv"), "symbol,shares\ngoog_daily,10\nCASH,5000\n").unwrap();
    let out = decide(&["--holdings", "h.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account"], "holdings");
    let p = &v["positions"][0];
    assert_eq!(p["shares"], 10.0);
    let target = p["target_shares"].as_f64().unwrap();
    let o = &v["orders"][0];
    assert_eq!(o["shares"].as_f64().unwrap(), (target - 10.0).abs());
    assert_eq!(v["sizing"][0]["shares"].as_f64().unwrap(), target);
    let replayed: serde_json::Value = serde_json::from_slice(&decide(&[]).stdout).unwrap();
    assert_eq!(replayed["account"], "replayed");
    // A bad file is exit 2 naming its line, before anything is printed.
    std::fs::write(d.join("bad.csv"), "symbol,shares\nAAPL,3\nCASH,1\n").unwrap();
    let out = decide(&["--holdings", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.csv:2: `AAPL` is not a symbol this decision trades"),
        "{}",
        stderr(&out)
    );
}

/// A paper account on a universe whose bars end for one symbol mid-month (a delisting): each
/// step reads the bars up to its close only, and the month still equals the backtest of that
/// month — the delisting closes the position at the first close without its bar, at its last
/// close, in both (a replay cannot learn after the fact that a bar was the last).
#[test]
fn a_paper_month_through_a_delisting_equals_the_backtest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(sample("stocks20_daily_adjclose.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let picks = [col("AAPL"), col("MSFT"), col("KO")];
    let rows: Vec<Vec<&str>> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[0] >= "2012-06-01" && c[0] <= "2013-01-31")
        .collect();
    // KO's last bar: 2013-01-15.
    let mut wide = String::from("date,AAPL,MSFT,KO\n");
    for c in &rows {
        let ko = if c[0] > "2013-01-15" { "" } else { c[picks[2]] };
        wide.push_str(&format!("{},{},{},{ko}\n", c[0], c[picks[0]], c[picks[1]]));
    }
    std::fs::write(d.join("three.csv"), wide).unwrap();
    // Forecasts: 5-bar momentum of each symbol, KO lifted so it is held when its bars end.
    let mut preds = String::from("date,symbol,prediction\n");
    for (k, name) in ["AAPL", "MSFT", "KO"].iter().enumerate() {
        let close: Vec<(String, f64)> = rows
            .iter()
            .filter(|c| !(k == 2 && c[0] > "2013-01-15"))
            .map(|c| (c[0].to_string(), c[picks[k]].parse().unwrap()))
            .collect();
        for i in 5..close.len() {
            let lift = if k == 2 { 0.5 } else { 0.0 };
            let m = close[i].1 / close[i - 5].1 - 1.0 + lift;
            preds.push_str(&format!("{},{name},{m:.6}\n", close[i].0));
        }
    }
    std::fs::write(d.join("preds.csv"), preds).unwrap();
    let strategy = [
        "--strategy",
        "rank",
        "--param",
        "top=2",
        "--signals",
        "preds.csv",
    ];
    let out = qts(d)
        .args([
            "-q",
            "paper",
            "init",
            "--cash",
            "100000",
            "--data",
            "three.csv",
        ])
        .args(strategy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let month: Vec<String> = rows
        .iter()
        .map(|c| c[0].to_string())
        .filter(|day| day.as_str() >= "2013-01-02")
        .collect();
    let mut notes = Vec::new();
    let mut delisted = Vec::new();
    for day in &month {
        let s = json(&step(d, day));
        delisted.extend(
            s["fills"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["reason"] == "delisted")
                .map(|f| (f["day"].to_string(), f["symbol"].to_string())),
        );
        notes.extend(
            s["decision"]["notes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| n.as_str().unwrap().to_string()),
        );
    }
    assert!(
        notes
            .iter()
            .any(|n| n.contains("KO has no bar after 2013-01-15")),
        "{notes:?}"
    );
    let out = qts(d)
        .args(["-q", "backtest", "--data", "three.csv"])
        .args(strategy)
        .args([
            "--cash",
            "100000",
            "--from",
            "2013-01-02",
            "--to",
            "2013-01-31",
        ])
        .args(["--out", "bt", "--json"])
        .output()
        .unwrap();
    let bt = json(&out);
    // The paper account closed KO at the first close without its bar, as the backtest did.
    assert_eq!(
        delisted,
        vec![("\"2013-01-16\"".to_string(), "\"KO\"".to_string())],
        "{bt}"
    );
    let trades = std::fs::read_to_string(d.join("bt/trades.csv")).unwrap();
    assert!(
        trades
            .lines()
            .any(|l| l.split(',').nth(1) == Some("2013-01-16")),
        "{trades}"
    );
    let equity = day_equity_cash(&std::fs::read_to_string(d.join("bt/equity.csv")).unwrap());
    let paper = day_equity_cash(&history(d));
    assert_eq!(paper, equity);
}

#[test]
fn a_paper_account_crossing_a_split_keeps_its_value_and_equals_the_raw_backtest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // GOOG as if it had split 2:1 on 2013-01-15 and paid 1.00 a share on 2013-01-08.
    let text = std::fs::read_to_string(sample(GOOG)).unwrap();
    let mut file = String::from("date,open,high,low,close,volume\n");
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[0] < "2012-06-01" || c[0] > "2013-01-31" {
            continue;
        }
        let k = if c[0] >= "2013-01-15" { 0.5 } else { 1.0 };
        let p = |i: usize| c[i].parse::<f64>().unwrap() * k;
        let v = c[5].parse::<f64>().unwrap() / k;
        file.push_str(&format!(
            "{},{},{},{},{},{v}\n",
            c[0],
            p(1),
            p(2),
            p(3),
            p(4)
        ));
    }
    std::fs::write(d.join("X.csv"), file).unwrap();
    std::fs::write(
        d.join("events.csv"),
        "date,symbol,kind,value\n2013-01-08,X,dividend,1.0\n2013-01-15,X,split,2\n",
    )
    .unwrap();
    let events = ["--events", "events.csv"];
    let out = qts(d)
        .args(["-q", "paper", "init", "--cash", "100000", "--data", "X.csv"])
        .args(["--strategy", "buy-and-hold"])
        .args(events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut held = Vec::new();
    for day in days("2013-01-02", "2013-01-31") {
        let out = qts(d)
            .args([
                "-q",
                "paper",
                "step",
                "--offline",
                "--json",
                "--as-of",
                &day,
            ])
            .args(events)
            .output()
            .unwrap();
        json(&out);
        held.push((
            day,
            status(d)["positions"][0]["shares"].as_f64().unwrap_or(0.0),
        ));
    }
    let before = held.iter().find(|(d, _)| d == "2013-01-14").unwrap().1;
    let after = held.iter().find(|(d, _)| d == "2013-01-15").unwrap().1;
    assert!(before > 0.0 && after == 2.0 * before, "{held:?}");
    let out = qts(d)
        .args(["-q", "backtest", "--data", "X.csv", "--adjustment", "raw"])
        .args(events)
        .args(["--strategy", "buy-and-hold", "--cash", "100000"])
        .args([
            "--from",
            "2013-01-02",
            "--to",
            "2013-01-31",
            "--out",
            "bt",
            "--json",
        ])
        .output()
        .unwrap();
    let bt = json(&out);
    assert_eq!(bt["settings"]["price_basis"], "raw");
    let equity = day_equity_cash(&std::fs::read_to_string(d.join("bt/equity.csv")).unwrap());
    let paper = day_equity_cash(&history(d));
    assert_eq!(paper, equity);
    // The account's value crossed the split with the market's move only (the 1.00 dividend
    // in its cash on the 8th): no −50% day.
    let values: Vec<f64> = paper
        .iter()
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[1] / w[0] > 0.9), "{values:?}");
}

/// `paper init --holdings`: an account that mirrors a real one holds its shares from the first
/// step's close, is measured from that value, and its first orders are the ones
/// `qts decide --holdings` gives for the same account at the same close.
#[test]
fn a_paper_account_opened_with_holdings_starts_from_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("h.csv"),
        "symbol,shares\ngoog_daily,100\nCASH,20000\n",
    )
    .unwrap();
    let out = qts(d)
        .args(["-q", "paper", "init", "--holdings", "h.csv", "--data"])
        .arg(sample(GOOG))
        .args(["--param", "fast=10", "--param", "slow=20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("with 20000.00 cash and 100 goog_daily"),
        "{}",
        stdout(&out)
    );
    let s = status(d);
    assert_eq!(
        s["opening_holdings"],
        serde_json::json!([["goog_daily", 100.0]])
    );
    assert_eq!(s["initial_cash"], 20000.0);
    // The first step values the shares at its close: that is where P&L starts.
    let first = json(&step(d, "2013-01-04"));
    let close: f64 = std::fs::read_to_string(sample(GOOG))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("2013-01-04"))
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(first["equity"].as_f64().unwrap(), 20000.0 + 100.0 * close);
    assert_eq!(first["cash"], 20000.0);
    assert_eq!(
        (first["day_return"].as_f64(), first["pnl"].as_f64()),
        (Some(0.0), Some(0.0))
    );
    let held = &first["decision"]["positions"][0];
    assert_eq!(held["shares"], 100.0);
    // Its orders take the account to the strategy's target, as `qts decide --holdings` orders
    // for the same account at the same close.
    let decided = json(
        &qts(d)
            .args([
                "-q",
                "decide",
                "--json",
                "--offline",
                "--as-of",
                "2013-01-04",
            ])
            .args([
                "--strategy",
                "sma-cross",
                "--param",
                "fast=10",
                "--param",
                "slow=20",
            ])
            .arg("--data")
            .arg(sample(GOOG))
            .args(["--holdings", "h.csv"])
            .output()
            .unwrap(),
    );
    let orders = |v: &serde_json::Value| -> Vec<(String, f64)> {
        v["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["side"].as_str().unwrap().to_string(),
                    o["shares"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert!(!orders(&decided).is_empty(), "the target is not 100 shares");
    assert_eq!(orders(&first["decision"]), orders(&decided));
    // The next close fills them; P&L is measured from the opening value.
    let next = json(&step(d, "2013-01-07"));
    assert_eq!(
        next["fills"].as_array().unwrap().len(),
        orders(&decided).len()
    );
    let s = status(d);
    assert_eq!(
        s["opening_value"].as_f64().unwrap(),
        20000.0 + 100.0 * close
    );
    assert!(
        (s["pnl"].as_f64().unwrap()
            - (next["equity"].as_f64().unwrap() - (20000.0 + 100.0 * close)))
            .abs()
            < 1e-9
    );
    // The history's first day returns nothing: the account starts there.
    let rows = history(d);
    let first_return: f64 = rows
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(first_return, 0.0, "{rows}");

    // Bad holdings: exit 2 naming the file and line; nothing opened.
    for (text, shown) in [
        (
            "symbol,shares\nAAPL,3\nCASH,1\n",
            "h2.csv:2: `AAPL` is not a symbol",
        ),
        (
            "symbol,shares\ngoog_daily,2.5\nCASH,1\n",
            "2.5 shares of `goog_daily`",
        ),
        ("symbol,shares\ngoog_daily,2\n", "no `CASH,amount` line"),
        (
            "symbol,shares\ngoog_daily,2\nCASH,-5\n",
            "must not be negative",
        ),
        ("symbol,shares\ngoog_daily,-2\nCASH,5\n", "does not short"),
    ] {
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("h2.csv"), text).unwrap();
        let out = qts(other.path())
            .args(["-q", "paper", "init", "--holdings", "h2.csv", "--data"])
            .arg(sample(GOOG))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}: {}", stderr(&out));
        assert!(stderr(&out).contains(shown), "{text}: {}", stderr(&out));
        assert!(!other.path().join("artifacts/paper.sqlite").exists());
    }
    // Cash and holdings together: the holdings' CASH line is the cash.
    let out = qts(d)
        .args([
            "paper",
            "init",
            "--cash",
            "5",
            "--holdings",
            "h.csv",
            "--data",
        ])
        .arg(sample(GOOG))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

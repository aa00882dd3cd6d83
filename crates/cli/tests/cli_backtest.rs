//! `qts backtest` and `qts metrics` as a user runs them.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{json, repo};
use predicates::prelude::*;

fn qts(cwd: &Path) -> assert_cmd::Command {
    let mut cmd = common::qts(cwd);
    cmd.arg("-q");
    cmd
}

fn goog() -> String {
    repo()
        .join("examples/data/goog_daily.csv")
        .display()
        .to_string()
}

#[test]
fn the_quick_start_reproduces_backtesting_py_with_a_stamp() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .args([
            "backtest",
            "--data",
            &goog(),
            "--strategy",
            "sma-cross",
            "--param",
            "fast=10",
            "--param",
            "slow=20",
        ])
        .args([
            "--cash",
            "10000",
            "--commission",
            "0.002",
            "--execution",
            "backtesting-py",
            "--json",
            "--out",
            "run",
        ])
        .output()
        .unwrap();
    let v = json(&out);
    assert!((v["final_equity"].as_f64().unwrap() - 56263.51934000004).abs() < 1e-6 * 56263.5);
    assert_eq!(v["num_trades"], 93);
    assert!(v["sharpe_ratio"].is_number() && v["max_drawdown"].as_f64().unwrap() < 0.0);
    assert_eq!(v["stamp"]["qts_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["stamp"]["data_hash"].as_str().unwrap().len(), 64);
    assert_eq!(v["stamp"]["config_hash"].as_str().unwrap().len(), 64);
    assert_eq!(v["validation"]["errors"], 0);
    assert_eq!(v["execution"], "backtesting-py");

    let run = dir.path().join("run");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["final_equity"], v["final_equity"]);
    let trades = std::fs::read_to_string(run.join("trades.csv")).unwrap();
    let mut lines = trades.lines();
    assert_eq!(
        lines.next().unwrap(),
        "entry_time,exit_time,side,size,entry_price,exit_price,pnl,return,commission,duration_days,dividends,split"
    );
    assert_eq!(lines.count(), 93);
    let equity = std::fs::read_to_string(run.join("equity.csv")).unwrap();
    assert!(
        equity.starts_with(
            "date,equity,cash,drawdown,buy_and_hold,price,dividends\n2004-08-19,10000,10000,0,10000,100.34,0\n"
        ),
        "{}",
        &equity[..80]
    );
    assert_eq!(equity.lines().count(), 2149);
    // The holding's equity beside it: the closes' growth from the same cash.
    let last: Vec<f64> = equity
        .lines()
        .last()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    let bars = std::fs::read_to_string(goog()).unwrap();
    let close = |line: &str| line.split(',').nth(4).unwrap().parse::<f64>().unwrap();
    let growth = close(bars.lines().last().unwrap()) / close(bars.lines().nth(1).unwrap());
    assert!(
        (last[3] / 10_000.0 - growth).abs() < 1e-9 * growth,
        "{last:?}"
    );

    // `qts metrics` on the equity curve gives the same return metrics.
    let m = json(
        &qts(dir.path())
            .args(["metrics", "--returns", "run/equity.csv", "--json"])
            .output()
            .unwrap(),
    );
    for key in [
        "sharpe_ratio",
        "sortino_ratio",
        "max_drawdown",
        "annual_return",
        "tail_ratio",
    ] {
        assert_eq!(m[key], v[key], "{key}");
    }
}

#[test]
fn the_default_execution_runs_with_the_shipped_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(
        &qts(dir.path())
            .args(["backtest", "--data", &goog(), "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(v["execution"], "default");
    assert!(v["num_trades"].as_u64().unwrap() > 0);
    assert!(v["total_costs"].as_f64().unwrap() > 0.0);
    // The terminal summary: a header naming what was run, the groups, buy-and-hold beside
    // the strategy, percentages as percentages, and the result in words.
    let out = qts(dir.path())
        .args([
            "backtest",
            "--data",
            &goog(),
            "--param",
            "fast=10",
            "--param",
            "slow=20",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("sma-cross(10, 20) on goog_daily · 2004-08-19 .. 2013-03-01"),
        "{text}"
    );
    for needle in [
        "costs: commission 0.05% of value, slippage 5 bps",
        "rules: volatility-scaled to 15% a year, position cap 25%, stop-loss 8%, breaker at 20% drawdown",
        "weekly rebalance (monday)",
        "strategy     buy & hold",
        "\nReturns\n",
        "\nRisk-adjusted\n",
        "\nTrades\n",
        "\nCosts\n",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
    let total = v["total_return"].as_f64().unwrap();
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("total return"))
        .unwrap();
    assert!(row.contains(&format!("{:+.2}%", 100.0 * total)), "{row}");
    let last = text.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("Trailed buy-and-hold by ") && last.contains("; Sharpe "),
        "{last}"
    );
    // metrics.report keeps the user's order.
    let out = qts(dir.path())
        .args([
            "--set",
            "backtest.metrics.report=[win_rate,sharpe_ratio,total_return]",
        ])
        .args(["backtest", "--data", &goog()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
    assert!(at("  win rate") < at("  Sharpe") && at("  Sharpe") < at("  total return"));
    assert!(!text.contains("  CAGR"), "{text}");
}

#[test]
fn metrics_against_a_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let spx = repo().join("examples/data/sp500_daily.csv");
    let v = json(
        &qts(dir.path())
            .args(["metrics", "--returns", &goog(), "--benchmark"])
            .arg(&spx)
            .args(["--risk-free", "0.02", "--json"])
            .output()
            .unwrap(),
    );
    // empyrical's values for the same series (crates/stats/tests/golden/empyrical_metrics.json).
    assert!((v["sharpe_ratio"].as_f64().unwrap() - 0.8239602124699603).abs() < 1e-9);
    assert!((v["beta"].as_f64().unwrap() - 0.9093969835211747).abs() < 1e-9);
    assert_eq!(v["periods"], 2147);
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--strategy", "moon"], "unknown strategy `moon`"),
        (
            vec!["--param", "fast=30", "--param", "slow=20"],
            "must be less than slow (20), got 30",
        ),
        (
            vec!["--param", "window=5"],
            "parameter `window`: unknown parameter (known: fast, slow)",
        ),
        (vec!["--param", "fast=ten"], "`ten` is not a whole number"),
        (
            vec!["--commission", "-0.01"],
            "backtest.costs.commission_rate: must be between 0 and 0.1, got -0.01",
        ),
        (
            vec!["--cash", "0"],
            "backtest.initial_capital: must be greater than 0",
        ),
        (vec!["--strategy", "signal"], "needs --signals FILE"),
    ];
    for (extra, message) in cases {
        qts(dir.path())
            .args(["backtest", "--data", &goog()])
            .args(&extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("panicked").not());
    }
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "date,open,high,low,close,volume\n2024-01-02,1,2,1,1.5,10\n2024-01-01,1,2,1,1.5,10\n",
    )
    .unwrap();
    qts(dir.path())
        .args(["backtest", "--data"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("data validation failed"));
    let nan = dir.path().join("nan.csv");
    std::fs::write(
        &nan,
        "date,open,high,low,close,volume\n2024-01-02,1,2,1,NaN,10\n2024-01-03,1,2,1,1.5,10\n",
    )
    .unwrap();
    qts(dir.path())
        .args(["backtest", "--data"])
        .arg(&nan)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("data validation failed"));
    qts(dir.path())
        .args(["metrics", "--returns"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ascending"));
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    qts(dir.path())
        .args(["backtest", "--data"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no bars"));
}

#[test]
fn a_signal_file_drives_the_signal_strategy() {
    let dir = tempfile::tempdir().unwrap();
    // Predict tomorrow's return perfectly on a slice of GOOG (a look-ahead on purpose: the
    // engine must still only trade at the next open).
    let bars = qts_data::io::read_bars(Path::new(&goog())).unwrap();
    let mut text = String::from("date,prediction,lower,upper\n");
    for i in 0..bars.len() - 1 {
        let r = bars.close[i + 1] / bars.close[i] - 1.0;
        text.push_str(&format!(
            "{},{r},{},{}\n",
            bars.time[i].date(),
            r - 0.01,
            r + 0.01
        ));
    }
    std::fs::write(dir.path().join("signals.csv"), text).unwrap();
    let v = json(
        &qts(dir.path())
            .args([
                "backtest",
                "--data",
                &goog(),
                "--strategy",
                "signal",
                "--signals",
                "signals.csv",
                "--json",
                "--out",
                "run",
            ])
            .args(["--set", "trading.rebalance=daily"])
            .output()
            .unwrap(),
    );
    let trades = std::fs::read_to_string(dir.path().join("run/trades.csv")).unwrap();
    let rows: Vec<Vec<&str>> = trades
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len() as u64, v["num_trades"].as_u64().unwrap());
    assert!(rows.len() > 10, "{} trades", rows.len());
    // Every trade opens at the bar after a close whose prediction said long (> 0): the
    // decision at a close, the fill at the next open, never the prediction's own bar (with
    // `fill_price: close` this fails at the first trade: checked once).
    let day = |text: &str| {
        bars.time
            .iter()
            .position(|t| t.date().to_string() == text)
            .unwrap()
    };
    let prediction = |i: usize| bars.close[i + 1] / bars.close[i] - 1.0;
    for row in &rows {
        let entry = day(row[0]);
        assert!(entry >= 1, "{row:?}");
        assert_eq!(row[2], "long", "shorts are off by default: {row:?}");
        assert!(
            prediction(entry - 1) > 0.0,
            "{}: entered without a long signal at the close before ({})",
            row[0],
            prediction(entry - 1)
        );
    }
    // A perfect forecast of the next return, traded at the next open, makes money.
    assert!(v["total_return"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_window_trades_and_reports_only_its_span() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        json(
            &qts(dir.path())
                .args(["backtest", "--data", &goog(), "--json", "--out", "win"])
                .args(["--execution", "backtesting-py"])
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let v = run(&["--from", "2008-01-01", "--to", "2010-12-31"]);
    assert_eq!(v["start"], "2008-01-02");
    assert_eq!(v["end"], "2010-12-31");
    // 2008-01-02 .. 2010-12-31: 253 + 252 + 252 NYSE sessions.
    assert_eq!(v["num_bars"], 757);
    let equity = std::fs::read_to_string(dir.path().join("win/equity.csv")).unwrap();
    let rows: Vec<&str> = equity.lines().skip(1).collect();
    assert_eq!(rows.len(), 757);
    assert!(
        rows[0].starts_with("2008-01-02,100000,100000,0"),
        "{}",
        rows[0]
    );
    assert!(rows[756].starts_with("2010-12-31,"));
    let trades = std::fs::read_to_string(dir.path().join("win/trades.csv")).unwrap();
    for t in trades.lines().skip(1) {
        let entry = &t[..10];
        assert!(
            ("2008-01-03".."2011-01-01").contains(&entry),
            "trade entered {entry}"
        );
    }
    // The same flags reversed are refused, naming them.
    let out = qts(dir.path())
        .args(["backtest", "--data", &goog()])
        .args(["--from", "2011-01-01", "--to", "2010-01-01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--from 2011-01-01 is after --to 2010-01-01")
    );
}

#[test]
fn overfitting_reads_a_gzipped_trial_matrix_and_refuses_a_nan() {
    let dir = tempfile::tempdir().unwrap();
    let golden = repo().join("crates/stats/tests/golden");
    let out = qts(dir.path())
        .args(["overfitting", "--json", "--trial-returns"])
        .arg(golden.join("trials_goog_sma.csv.gz"))
        .output()
        .unwrap();
    let v = json(&out);
    let text = std::fs::read_to_string(golden.join("overfitting.json")).unwrap();
    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
    let want = &want["matrices"]["trials_goog_sma.csv.gz"];
    for k in [
        "probability_of_backtest_overfitting",
        "trials",
        "rows_used",
        "best_trial",
        "combinations",
    ] {
        assert_eq!(v[k], want[k], "{k}");
    }
    let dsr = v["deflated_sharpe_ratio"].as_f64().unwrap();
    assert!((dsr - want["deflated_sharpe_ratio"].as_f64().unwrap()).abs() < 1e-9);
    assert_eq!(v["logits"].as_array().unwrap().len(), 12_870);

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "date,a,b\n2020-01-02,0.01,0.02\n2020-01-03,,0.01\n").unwrap();
    qts(dir.path())
        .args(["overfitting", "--trial-returns"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.csv: row 3 (2020-01-03): trial `a` has no finite return",
        ));
}

#[test]
fn optimize_finds_backtesting_pys_best_and_writes_every_trial() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .args(["optimize", "--data", &goog(), "--strategy", "sma-cross"])
        .args(["--grid", "fast=5:30:5", "--grid", "slow=10,20,40"])
        .args([
            "--maximize",
            "final_equity",
            "--execution",
            "backtesting-py",
        ])
        .args(["--cash", "10000", "--commission", "0.002", "--json"])
        .args(["--out", "opt", "--save-returns"])
        .output()
        .unwrap();
    let v = json(&out);
    // 5 fast x 3 slow, less the 6 with fast >= slow.
    assert_eq!(v["trials"], 9);
    assert_eq!(v["skipped"], 6);
    assert_eq!(v["best"]["params"]["fast"], 10);
    assert_eq!(v["best"]["params"]["slow"], 20);
    // The quick-start's final equity (backtesting.py: 56,263.51934).
    let eq = v["best"]["metrics"]["final_equity"].as_f64().unwrap();
    assert!((eq - 56_263.519_34).abs() < 1e-4, "{eq}");
    assert!(v["deflated_sharpe_ratio"].as_f64().is_some());
    assert!(v["probability_of_backtest_overfitting"].as_f64().is_some());
    let trials = std::fs::read_to_string(dir.path().join("opt/trials.csv")).unwrap();
    let mut lines = trials.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..2], ["fast", "slow"]);
    let col = header.iter().position(|h| *h == "final_equity").unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 9);
    let best = rows.iter().find(|r| r[0] == "10" && r[1] == "20").unwrap();
    assert_eq!(best[col].parse::<f64>().unwrap(), eq);
    let returns = std::fs::read_to_string(dir.path().join("opt/trial_returns.csv")).unwrap();
    let head: Vec<&str> = returns.lines().next().unwrap().split(',').collect();
    assert_eq!(head.len(), 10);
    assert_eq!(head[0], "date");
    assert!(head.contains(&"fast=10;slow=20"));
    // 2,148 bars: 2,147 returns.
    assert_eq!(returns.lines().count(), 1 + 2147);
}

#[test]
fn optimize_refuses_what_cannot_be_searched_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (args, message) in [
        (vec!["--maximize", "final_equity"], "no --grid"),
        (
            vec![
                "--grid",
                "fast=50,60",
                "--grid",
                "slow=10,20",
                "--maximize",
                "final_equity",
            ],
            "every one of the 4 grid points breaks a constraint of `sma-cross`",
        ),
        (
            vec!["--grid", "fast=5,10", "--maximize", "sharpness"],
            "--maximize sharpness: not a metric of a backtest",
        ),
        (
            vec!["--grid", "fast=5:30:0", "--maximize", "final_equity"],
            "--grid fast=5:30:0: the step is 0",
        ),
        (
            vec!["--grid", "window=5,10", "--maximize", "final_equity"],
            "parameter `window`: unknown parameter (known: fast, slow)",
        ),
    ] {
        qts(dir.path())
            .args(["optimize", "--data", &goog()])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn a_walk_forward_window_equals_the_backtest_of_its_test_window() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(
        &qts(dir.path())
            .args(["walk-forward", "--data", &goog()])
            .args(["--grid", "fast=5:30:5", "--grid", "slow=20:100:20"])
            .args([
                "--maximize",
                "sharpe_ratio",
                "--train",
                "500",
                "--test",
                "250",
            ])
            .args(["--json", "--out", "wf"])
            .output()
            .unwrap(),
    );
    let windows = v["windows"].as_array().unwrap();
    // 2,148 bars: test windows start at 500, 750, …, 1,750 (the last one ends at bar 1,999).
    assert_eq!(windows.len(), 6);
    let equity = std::fs::read_to_string(dir.path().join("wf/oos_equity.csv")).unwrap();
    assert!(equity.starts_with("date,equity,buy_and_hold,exposure\n"));
    let rows: Vec<(String, f64)> = equity
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[1].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 6 * 250);
    let at = |d: &str| rows.iter().find(|(x, _)| x == d).unwrap().1;
    // The baseline: holding GOOG through the same test windows, from the same cash.
    let closes: std::collections::HashMap<String, f64> = std::fs::read_to_string(goog())
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[4].parse().unwrap())
        })
        .collect();
    let held = windows.iter().fold(100_000.0, |acc, w| {
        acc * closes[w["test_end"].as_str().unwrap()] / closes[w["test_start"].as_str().unwrap()]
    });
    let last_held: f64 = equity
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (last_held - held).abs() <= 1e-9 * held,
        "{last_held} vs {held}"
    );
    assert!(
        (v["buy_and_hold"]["total_return"].as_f64().unwrap() - (held / 100_000.0 - 1.0)).abs()
            < 1e-9
    );
    // The search over the out-of-sample span: its DSR, PBO and λ distribution.
    let o = &v["overfitting"];
    assert_eq!(o["span"][0], windows[0]["test_start"]);
    assert!(o["probability_of_backtest_overfitting"].as_f64().is_some());
    let lambda: u64 = o["lambda"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(lambda, 12_870, "C(16, 8) combinations");
    let csv = std::fs::read_to_string(dir.path().join("wf/windows.csv")).unwrap();
    assert!(csv.starts_with(
        "window,train_start,train_end,test_start,test_end,params,in_sample,out_of_sample\n"
    ));
    for k in 1..windows.len() {
        let w = &windows[k];
        let start_cash = at(windows[k - 1]["test_end"].as_str().unwrap());
        let mut cmd = qts(dir.path());
        cmd.args(["backtest", "--data", &goog(), "--json", "--close-at-end"])
            .args(["--from", w["test_start"].as_str().unwrap()])
            .args(["--to", w["test_end"].as_str().unwrap()])
            .args(["--cash", &start_cash.to_string()]);
        for p in w["params"].as_str().unwrap().split(';') {
            cmd.args(["--param", p]);
        }
        let b = json(&cmd.output().unwrap());
        let want = at(w["test_end"].as_str().unwrap());
        // The same number (serde_json's float reading can be one unit in the last place off
        // the exact value the CSV keeps).
        let got = b["final_equity"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "window {}: {got} vs {want}",
            k + 1
        );
        assert_eq!(b["sharpe_ratio"], w["out_of_sample"], "window {}", k + 1);
        assert_eq!(b["open_positions"], serde_json::json!([]));
    }
    let wfe = v["walk_forward_efficiency"].as_f64().unwrap();
    assert!(wfe.is_finite());
    let last = rows.last().unwrap().1;
    assert!((v["out_of_sample"]["final_equity"].as_f64().unwrap() - last).abs() <= 1e-12 * last);
}

#[test]
fn monte_carlo_of_a_run_is_seeded_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path())
        .args(["backtest", "--data", &goog(), "--out", "run"])
        .assert()
        .success();
    let mc = |method: &str, seed: &str| {
        json(
            &qts(dir.path())
                .args(["monte-carlo", "--run", "run", "--method", method])
                .args(["--paths", "500", "--seed", seed, "--json"])
                .output()
                .unwrap(),
        )
    };
    let a = mc("block", "7");
    assert_eq!(a, mc("block", "7"));
    assert_ne!(a["final_equity"], mc("block", "8")["final_equity"]);
    assert_eq!(a["method"], "block");
    assert_eq!(a["paths"], 500);
    assert_eq!(a["horizon"], 2147);
    for k in [
        "final_equity",
        "cagr",
        "mean_return",
        "sharpe_ratio",
        "max_drawdown",
        "annual_volatility",
    ] {
        let i = &a[k];
        let (lo, med, hi) = (
            i["lower"].as_f64().unwrap(),
            i["median"].as_f64().unwrap(),
            i["upper"].as_f64().unwrap(),
        );
        assert!(lo <= med && med <= hi, "{k}: {i}");
    }
    // The run's final equity lies inside the bootstrap's 95% interval of final equity.
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/stats.json")).unwrap())
            .unwrap();
    let fe = stats["final_equity"].as_f64().unwrap();
    for m in ["iid", "trades"] {
        let r = mc(m, "1");
        let i = &r["final_equity"];
        assert!(
            i["lower"].as_f64().unwrap() < fe && fe < i["upper"].as_f64().unwrap(),
            "{m}: {fe} outside {i}"
        );
    }
    std::fs::write(
        dir.path().join("r.csv"),
        "date,return\n2020-01-02,0.01\n2020-01-03,\n",
    )
    .unwrap();
    for (args, message) in [
        (
            vec!["--returns", "r.csv"],
            "r.csv: the return ending 2020-01-03 is missing or not finite",
        ),
        (
            vec!["--run", "run", "--paths", "0"],
            "--paths must be at least 1",
        ),
        (
            vec!["--returns", "run/equity.csv", "--method", "trades"],
            "--method trades needs --run DIR",
        ),
    ] {
        qts(dir.path())
            .arg("monte-carlo")
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

/// A predictions file over the sample's days in `from..=to`: the next day's return (a perfect
/// forecast), with a split column when `split` says which label each day gets.
fn predictions(
    dir: &Path,
    name: &str,
    from: &str,
    to: &str,
    split: Option<&dyn Fn(&str) -> &'static str>,
) -> String {
    let text = std::fs::read_to_string(goog()).unwrap();
    let rows: Vec<(String, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[4].parse().unwrap())
        })
        .collect();
    let mut out = String::from(if split.is_some() {
        "date,prediction,split\n"
    } else {
        "date,prediction\n"
    });
    for w in rows.windows(2) {
        let day = w[0].0.as_str();
        if day < from || day > to {
            continue;
        }
        let r = w[1].1 / w[0].1 - 1.0;
        match split {
            Some(f) => out.push_str(&format!("{day},{r},{}\n", f(day))),
            None => out.push_str(&format!("{day},{r}\n")),
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path.display().to_string()
}

#[test]
fn in_sample_predictions_are_refused_unless_asked_for_and_then_marked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let signal = |file: &str, extra: &[&str]| {
        qts(d)
            .args([
                "backtest",
                "--json",
                "--strategy",
                "signal",
                "--data",
                &goog(),
            ])
            .args(["--signals", file])
            .args(extra)
            .output()
            .unwrap()
    };
    let all_train = predictions(
        d,
        "train.csv",
        "2005-01-01",
        "2013-03-01",
        Some(&|_| "train"),
    );
    let out = signal(&all_train, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("every prediction is of the model's training or validation rows"),
        "{err}"
    );
    let marked = json(&signal(&all_train, &["--allow-in-sample"]));
    assert_eq!(marked["in_sample"], true);
    assert!(
        marked["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("IN-SAMPLE"),
        "{marked}"
    );
    assert!(marked["num_trades"].as_u64().unwrap() > 10);
    // The table says it too, before the numbers.
    let table = qts(d)
        .args([
            "backtest",
            "--strategy",
            "signal",
            "--data",
            &goog(),
            "--signals",
            &all_train,
        ])
        .arg("--allow-in-sample")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.lines().next().unwrap().ends_with("· IN-SAMPLE"),
        "{text}"
    );
    assert!(text.contains("\nnote: IN-SAMPLE"), "{text}");
    assert!(text.trim_end().ends_with("— IN-SAMPLE."), "{text}");

    // Train and validation before 2012, test after: only the test rows trade, and the result
    // starts where they do.
    let mixed = predictions(
        d,
        "mixed.csv",
        "2005-01-01",
        "2013-03-01",
        Some(&|day| {
            if day < "2010-01-01" {
                "train"
            } else if day < "2012-01-03" {
                "validation"
            } else {
                "test"
            }
        }),
    );
    let r = json(&signal(&mixed, &[]));
    assert_eq!(r["in_sample"], false);
    assert_eq!(r["start"], "2012-01-03");
    assert_eq!(r["end"], "2013-03-01");
    let notes = r["notes"].to_string();
    assert!(notes.contains("dropped"), "{notes}");
    // The same as trading the test rows alone over the same window.
    let test_only = predictions(d, "test.csv", "2012-01-03", "2013-03-01", None);
    let alone = json(&signal(&test_only, &["--from", "2012-01-03"]));
    assert_eq!(alone["final_equity"], r["final_equity"]);
    assert_eq!(alone["num_trades"], r["num_trades"]);
}

#[test]
fn predictions_of_part_of_the_data_trade_their_span() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let part = predictions(d, "part.csv", "2012-03-01", "2013-02-01", None);
    let r = json(
        &qts(d)
            .args([
                "backtest",
                "--json",
                "--strategy",
                "signal",
                "--data",
                &goog(),
            ])
            .args(["--signals", &part])
            .output()
            .unwrap(),
    );
    // From the first prediction to the bar its last decision fills on.
    assert_eq!(r["start"], "2012-03-01");
    assert_eq!(r["end"], "2013-02-04");
    assert!(
        r["notes"]
            .to_string()
            .contains("traded the span of the predictions: 2012-03-01 .. 2013-02-04")
    );
    // Perfect foresight over the span: the exposure is not diluted by years of cash.
    assert!(r["exposure_time"].as_f64().unwrap() > 0.3, "{r}");
    // --from/--to still choose.
    let chosen = json(
        &qts(d)
            .args([
                "backtest",
                "--json",
                "--strategy",
                "signal",
                "--data",
                &goog(),
            ])
            .args(["--signals", &part, "--from", "2011-01-03"])
            .output()
            .unwrap(),
    );
    assert_eq!(chosen["start"], "2011-01-03");
    // Nonsense is refused naming the day.
    std::fs::write(
        d.join("nan.csv"),
        "date,prediction\n2012-03-01,0.1\n2012-03-02,inf\n",
    )
    .unwrap();
    std::fs::write(d.join("far.csv"), "date,prediction\n2020-03-02,0.1\n").unwrap();
    for (file, needle) in [
        ("nan.csv", "the prediction of 2012-03-02 is `inf`"),
        ("far.csv", "no date in common with the bars"),
    ] {
        qts(d)
            .args(["backtest", "--strategy", "signal", "--data", &goog()])
            .args(["--signals", file])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
}

#[test]
fn buy_and_hold_is_the_holding_minus_its_costs_unless_overlays_are_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let bh = |extra: &[&str]| {
        json(
            &qts(dir.path())
                .args([
                    "backtest",
                    "--json",
                    "--strategy",
                    "buy-and-hold",
                    "--data",
                    &goog(),
                ])
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let r = bh(&[]);
    // By hand, from the shipped costs: decided at the first close with the whole equity, filled
    // at the next open with 5 bps of slippage and a 0.05% commission, whole shares, held.
    let text = std::fs::read_to_string(goog()).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|x| x.parse().unwrap()).collect())
        .collect();
    let (close0, open1, last) = (rows[0][3], rows[1][0], rows[rows.len() - 1][3]);
    let cash = 100_000.0_f64;
    let price = open1 * (1.0 + 5.0 / 10_000.0);
    let unit = price + price * 0.0005;
    let shares = (cash / close0).floor().min((cash / unit).floor());
    let commission = shares * price * 0.0005;
    let expected = cash - shares * price - commission + shares * last;
    let got = r["final_equity"].as_f64().unwrap();
    assert!(
        (got - expected).abs() <= 1e-9 * expected,
        "{got} vs {expected}"
    );
    assert_eq!(r["settings"]["overlays"], false);
    assert_eq!(r["settings"]["rebalance"], "signal");
    // The stamp names the configuration files read, each with its digest.
    let files = r["stamp"]["config_files"].as_array().unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    let base = repo().join("config/base_config.yaml");
    let digest = qts_core::hex::sha256(&std::fs::read(&base).unwrap());
    assert!(
        files.iter().any(
            |f| f["path"].as_str().unwrap().ends_with("base_config.yaml")
                && f["sha256"] == digest.as_str()
        ),
        "{files:?}"
    );
    assert!(r["exposure_time"].as_f64().unwrap() > 0.99);
    assert!(
        r["notes"][0]
            .as_str()
            .unwrap()
            .contains("holds the whole account")
    );
    // In a window, the standing target is bought at the window's first decision.
    let w = bh(&["--from", "2010-01-04"]);
    assert!(w["exposure_time"].as_f64().unwrap() > 0.99, "{w}");
    // With the overlays it is the shipped risk-managed strategy again, and says so.
    let o = bh(&["--overlays"]);
    assert_eq!(o["settings"]["overlays"], true);
    assert_eq!(o["settings"]["sizing"]["method"], "volatility_scaled");
    assert_eq!(o["settings"]["stops"]["stop_loss"]["enabled"], true);
    assert!(o["final_equity"].as_f64().unwrap() < got);
    // Every strategy's result lists its rules.
    let s = json(
        &qts(dir.path())
            .args(["backtest", "--json", "--data", &goog()])
            .output()
            .unwrap(),
    );
    assert_eq!(s["settings"]["rebalance"], "weekly");
    assert_eq!(s["settings"]["limits"]["max_position_fraction"], 0.25);
    assert_eq!(s["settings"]["stops"]["circuit_breaker"]["enabled"], true);
}

#[test]
fn a_result_folder_is_written_as_a_unit_and_a_mix_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    qts(d)
        .args(["backtest", "--data", &goog(), "--out", "run"])
        .assert()
        .success();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run/manifest.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["stats.json", "trades.csv", "equity.csv"]);
    let mc = |run: &str| {
        qts(d)
            .args(["monte-carlo", "--run", run, "--paths", "200", "--json"])
            .output()
            .unwrap()
    };
    assert!(mc("run").status.success());
    // Another run's equity.csv in the folder: refused, not simulated.
    qts(d)
        .args([
            "backtest",
            "--data",
            &goog(),
            "--strategy",
            "buy-and-hold",
            "--out",
            "other",
        ])
        .assert()
        .success();
    std::fs::copy(d.join("other/equity.csv"), d.join("run/equity.csv")).unwrap();
    let out = mc("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mixes two runs"));
    // A folder whose write was cut before its manifest: incomplete.
    std::fs::remove_file(d.join("other/manifest.json")).unwrap();
    let out = mc("other");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no manifest.json"));
}

#[test]
fn the_same_data_file_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = format!(
        "{}/../data/goog_daily.csv",
        repo().join("examples/data").display()
    );
    qts(dir.path())
        .args(["backtest", "--data", &goog(), "--data", &other])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is the same file as --data"));
}

#[test]
fn trades_are_round_trips_from_open_to_flat() {
    let dir = tempfile::tempdir().unwrap();
    let r = json(
        &qts(dir.path())
            .args(["backtest", "--json", "--data", &goog(), "--out", "run"])
            .args(["--param", "fast=10", "--param", "slow=20"])
            .output()
            .unwrap(),
    );
    let csv = std::fs::read_to_string(dir.path().join("run/trades.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len() as u64, r["num_trades"].as_u64().unwrap());
    // One symbol: a round trip starts after the previous one ended (weekly resizes of the
    // volatility-scaled position are inside a trip, not trades of their own).
    for w in rows.windows(2) {
        assert!(w[1][0] >= w[0][1], "{:?} overlaps {:?}", w[1], w[0]);
    }
    let wins = rows
        .iter()
        .filter(|r| r[6].parse::<f64>().unwrap() > 0.0)
        .count();
    let rate = r["win_rate"].as_f64().unwrap();
    assert!((rate - wins as f64 / rows.len() as f64).abs() < 1e-12);
    // The shipped rules resize weekly: far fewer round trips than the 196 FIFO lots.
    assert!(rows.len() < 80, "{}", rows.len());
}

#[test]
fn a_tracked_run_is_reproduced_from_what_it_logged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(goog(), d.join("goog.csv")).unwrap();
    let out = qts(d)
        .args(["-q", "backtest", "--data", "goog.csv", "--param", "fast=12"])
        .args(["--cash", "50000", "--out", "run"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list = json(
        &qts(d)
            .args(["experiments", "list", "--json"])
            .output()
            .unwrap(),
    );
    let id = list[0]["run_id"].as_str().unwrap().to_string();
    let r = json(&qts(d).args(["reproduce", &id, "--json"]).output().unwrap());
    assert_eq!(r["same"], true);
    assert_eq!(r["data_unchanged"], true);
    assert_eq!(r["command"], "backtest");
    let n = r["metrics"].as_array().unwrap().len();
    assert!(n > 30, "{n} metrics checked");
    // The re-run wrote nothing of the user's: its folders were the scratch directory's.
    assert_eq!(
        std::fs::read_dir(d.join("artifacts/runs")).unwrap().count(),
        1
    );
    // A logged number that the code no longer produces: exit 1, the metric named.
    let path = d.join(format!("artifacts/runs/{id}/run.json"));
    let mut stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let metrics = stored["metrics"].as_array_mut().unwrap();
    let i = metrics
        .iter()
        .position(|m| m["key"] == "sharpe_ratio")
        .unwrap();
    let logged = metrics[i]["value"].as_f64().unwrap();
    metrics[i]["value"] = serde_json::json!(logged + 1e-12);
    std::fs::write(&path, serde_json::to_string(&stored).unwrap()).unwrap();
    let out = qts(d).args(["reproduce", &id]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("{} of {n} metrics", n - 1)),
        "{text}"
    );
    assert!(text.contains("sharpe_ratio"), "{text}");
    // Other data than the run read: refused before anything runs.
    let csv = std::fs::read_to_string(d.join("goog.csv")).unwrap();
    std::fs::write(d.join("goog.csv"), csv.replacen("100.34", "100.35", 1)).unwrap();
    let out = qts(d).args(["reproduce", &id]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the bytes the run read"));
    let out = qts(d).args(["reproduce", "no-such-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_regime_filter_set_in_the_configuration_keeps_longs_above_the_average() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        json(
            &qts(dir.path())
                .args([
                    "backtest",
                    "--data",
                    &goog(),
                    "--json",
                    "--param",
                    "fast=5",
                    "--param",
                    "slow=20",
                ])
                .args(["--set", "trading.rebalance=daily"])
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let plain = run(&["--out", "plain"]);
    let filtered = run(&[
        "--set",
        "backtest.regime_filter.enabled=true",
        "--set",
        "backtest.regime_filter.period=100",
        "--out",
        "filtered",
    ]);
    let bars = qts_data::io::read_bars(Path::new(&goog())).unwrap();
    let sma = |i: usize| bars.close[i + 1 - 100..=i].iter().sum::<f64>() / 100.0;
    let entries = |name: &str| -> Vec<usize> {
        std::fs::read_to_string(dir.path().join(name).join("trades.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let day = l.split(',').next().unwrap();
                bars.time
                    .iter()
                    .position(|t| t.date().to_string() == day)
                    .unwrap()
            })
            .collect()
    };
    let (all, kept) = (entries("plain"), entries("filtered"));
    assert!(
        !kept.is_empty() && kept.len() < all.len(),
        "{} of {}",
        kept.len(),
        all.len()
    );
    // Each filtered entry was decided at a close above its 100-bar average (enough bars
    // for it), and the plain run has entries the filter refused.
    for &i in &kept {
        assert!(
            i > 100 && bars.close[i - 1] > sma(i - 1),
            "entry at bar {i}"
        );
    }
    assert!(
        all.iter()
            .any(|&i| i > 100 && bars.close[i - 1] <= sma(i - 1))
    );
    assert_ne!(plain["final_equity"], filtered["final_equity"]);
}

#[test]
fn metrics_periods_annualise_by_the_bars_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let btc = repo().join("examples/data/btcusd_monthly.csv");
    let run = |periods: &str| {
        json(
            &qts(dir.path())
                .args(["metrics", "--returns"])
                .arg(&btc)
                .args(["--periods", periods, "--json"])
                .output()
                .unwrap(),
        )
    };
    let (monthly, daily) = (run("12"), run("252"));
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    // The same 155 monthly returns: what does not annualise is unchanged, what does scales by
    // √(12/252) (volatility, Sharpe) or compounds over n/12 years (annual return).
    assert_eq!(monthly["periods"], 155);
    assert_eq!(f(&monthly, "total_return"), f(&daily, "total_return"));
    assert_eq!(f(&monthly, "max_drawdown"), f(&daily, "max_drawdown"));
    let k = (12.0f64 / 252.0).sqrt();
    for key in ["annual_volatility", "sharpe_ratio"] {
        let (m, d) = (f(&monthly, key), f(&daily, key));
        assert!((m / d - k).abs() < 1e-12, "{key}: {m} vs {d}");
    }
    let want = (1.0 + f(&monthly, "total_return")).powf(12.0 / 155.0) - 1.0;
    assert!((f(&monthly, "annual_return") / want - 1.0).abs() < 1e-12);
    qts(dir.path())
        .args(["metrics", "--returns"])
        .arg(&btc)
        .args(["--periods", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--periods"));
}

#[test]
fn data_quality_fail_on_sets_the_severity_that_refuses_the_data() {
    let dir = tempfile::tempdir().unwrap();
    // The bundled GOOG has warnings (outliers) and no error: traded by default (fail_on:
    // error), refused when warnings are made to fail, with the check named.
    let v = json(
        &qts(dir.path())
            .args(["backtest", "--data", &goog(), "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(v["validation"]["errors"], 0);
    assert!(v["validation"]["warnings"].as_u64().unwrap() > 0, "{v}");
    qts(dir.path())
        .args(["--set", "data.quality.fail_on=warning"])
        .args(["backtest", "--data", &goog()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("data validation failed"))
        .stderr(predicate::str::contains(
            "13 daily returns beyond 4 standard deviations",
        ));
}

#[test]
fn monte_carlo_horizon_and_drawdown_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let mc = |extra: &[&str]| {
        json(
            &qts(dir.path())
                .args(["monte-carlo", "--returns", &goog()])
                .args(["--method", "iid", "--paths", "300", "--seed", "7", "--json"])
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    // Without --horizon a path is as long as the input (2,147 returns).
    assert_eq!(mc(&[])["horizon"], 2147);
    let short = mc(&["--horizon", "100"]);
    assert_eq!(short["horizon"], 100);
    assert_eq!(short["fan"]["steps"].as_array().unwrap().len(), 101);
    // --drawdown changes only the share of paths whose drawdown reaches it: the same seed
    // gives the same paths, so every interval is unchanged and the share falls as the
    // threshold deepens (every 100-day path of GOOG dips a little; none loses 99.9%).
    let shares: Vec<f64> = ["0.0001", "0.1", "0.3", "0.999"]
        .iter()
        .map(|d| {
            let v = mc(&["--horizon", "100", "--drawdown", d]);
            assert_eq!(
                v["drawdown_threshold"].as_f64().unwrap(),
                d.parse::<f64>().unwrap()
            );
            assert_eq!(v["max_drawdown"], short["max_drawdown"], "--drawdown {d}");
            assert_eq!(v["final_equity"], short["final_equity"], "--drawdown {d}");
            v["prob_drawdown_beyond"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(shares[0], 1.0);
    assert_eq!(shares[3], 0.0);
    assert!(
        shares[0] >= shares[1] && shares[1] >= shares[2] && shares[2] > 0.0,
        "{shares:?}"
    );
    // The drawdown interval brackets the threshold's share: a share p of paths reaches 10%,
    // so the 10% drawdown lies between the interval's ends when 2.5% < p < 97.5%.
    let (lo, hi) = (
        short["max_drawdown"]["lower"].as_f64().unwrap(),
        short["max_drawdown"]["upper"].as_f64().unwrap(),
    );
    if shares[1] > 0.025 && shares[1] < 0.975 {
        assert!(
            lo <= -0.1 && -0.1 <= hi,
            "{lo} .. {hi}, share {}",
            shares[1]
        );
    }
}

#[test]
fn an_anchored_walk_forward_trains_from_the_first_bar() {
    let dir = tempfile::tempdir().unwrap();
    let walk = |extra: &[&str]| {
        json(
            &qts(dir.path())
                .args(["walk-forward", "--data", &goog()])
                .args(["--grid", "fast=5:20:5", "--grid", "slow=30:60:30"])
                .args([
                    "--maximize",
                    "sharpe_ratio",
                    "--train",
                    "500",
                    "--test",
                    "400",
                ])
                .arg("--json")
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let (rolling, anchored) = (walk(&[]), walk(&["--anchored"]));
    let (r, a) = (
        rolling["windows"].as_array().unwrap(),
        anchored["windows"].as_array().unwrap(),
    );
    // 2,148 bars: test windows at bars 500, 900, 1,300, 1,700 either way.
    assert_eq!(r.len(), 4);
    assert_eq!(a.len(), 4);
    for (i, (r, a)) in r.iter().zip(a).enumerate() {
        assert_eq!(a["train_start"], "2004-08-19", "anchored window {i}");
        assert_eq!(a["test_start"], r["test_start"]);
        assert_eq!(a["train_end"], r["train_end"]);
        if i == 0 {
            // The first window is the same window: the same choice and result.
            assert_eq!(a, r);
        } else {
            assert_ne!(a["train_start"], r["train_start"], "rolling window {i}");
        }
    }
}

#[test]
fn a_run_is_tagged_with_its_git_commit_and_mlflow_enabled_false_tracks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(d)
            .args(["-c", "user.name=qts", "-c", "user.email=qts@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "start"]);
    let head = git(&["rev-parse", "HEAD"]);
    qts(d)
        .args(["-q", "backtest", "--data", &goog()])
        .assert()
        .success();
    let runs: Vec<_> = std::fs::read_dir(d.join("artifacts/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("run.json")).unwrap()).unwrap();
    let tag = run["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0] == "mlflow.source.git.commit")
        .map(|t| t[1].as_str().unwrap().to_string());
    assert_eq!(tag.as_deref(), Some(head.as_str()));
    // mlflow.enabled=false: the same command tracks nothing.
    let other = tempfile::tempdir().unwrap();
    qts(other.path())
        .args([
            "-q",
            "--set",
            "mlflow.enabled=false",
            "backtest",
            "--data",
            &goog(),
        ])
        .assert()
        .success();
    assert!(!other.path().join("artifacts/runs").exists());
}

#[test]
fn walk_forward_and_monte_carlo_take_their_defaults_from_the_backtest_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let walk = |sets: &[&str], flags: &[&str]| {
        let mut cmd = qts(d);
        for s in sets {
            cmd.args(["--set", s]);
        }
        json(
            &cmd.args(["walk-forward", "--data", &goog()])
                .args(["--grid", "fast=5:15:5", "--grid", "slow=20:40:20"])
                .args(["--maximize", "sharpe_ratio", "--json"])
                .args(flags)
                .output()
                .unwrap(),
        )
    };
    let by_config = walk(
        &[
            "backtest.walk_forward.train_days=600",
            "backtest.walk_forward.test_days=200",
            "backtest.walk_forward.step_days=300",
            "backtest.walk_forward.anchored=true",
        ],
        &[],
    );
    let by_flags = walk(
        &[],
        &[
            "--train",
            "600",
            "--test",
            "200",
            "--step",
            "300",
            "--anchored",
        ],
    );
    assert_eq!(by_config["windows"], by_flags["windows"]);
    assert_eq!(by_config["out_of_sample"], by_flags["out_of_sample"]);
    let windows = by_config["windows"].as_array().unwrap();
    // Anchored: every train window starts at the first bar; test windows 300 bars apart.
    assert_eq!(windows.len(), 5, "{windows:?}");
    assert!(windows.iter().all(|w| w["train_start"] == "2004-08-19"));
    // The shipped defaults: 756 train bars, 252-bar test windows back to back.
    let shipped = walk(&[], &[]);
    let w = shipped["windows"].as_array().unwrap();
    assert_eq!(w.len(), (2148 - 756) / 252);
    assert_ne!(w[0]["train_start"], w[1]["train_start"], "rolling");
    // A flag wins over the file; --test alone still sets the step.
    let test_only = walk(&["backtest.walk_forward.test_days=100"], &["--test", "150"]);
    let t = test_only["windows"].as_array().unwrap();
    assert_eq!(t.len(), (2148 - 756) / 150);

    qts(d)
        .args(["backtest", "--data", &goog(), "--out", "run"])
        .assert()
        .success();
    let mc = |sets: &[&str], flags: &[&str]| {
        let mut cmd = qts(d);
        for s in sets {
            cmd.args(["--set", s]);
        }
        json(
            &cmd.args(["monte-carlo", "--run", "run", "--json"])
                .args(flags)
                .output()
                .unwrap(),
        )
    };
    let by_config = mc(
        &[
            "backtest.monte_carlo.simulations=300",
            "backtest.monte_carlo.method=block",
            "backtest.monte_carlo.block_size=5",
            "backtest.monte_carlo.confidence=0.8",
        ],
        &[],
    );
    let by_flags = mc(
        &[],
        &[
            "--paths",
            "300",
            "--method",
            "block",
            "--block-size",
            "5",
            "--level",
            "0.8",
        ],
    );
    assert_eq!(by_config, by_flags);
    assert_eq!(by_config["paths"], 300);
    assert_eq!(by_config["method"], "block");
    assert_ne!(by_config, mc(&[], &["--paths", "300", "--method", "block"]));
    // A flag wins over the file; the shipped method is i.i.d.
    let flagged = mc(
        &["backtest.monte_carlo.simulations=10000"],
        &["--paths", "400"],
    );
    assert_eq!(flagged["paths"], 400);
    assert_eq!(flagged["method"], "iid");
    // The old name of the block bootstrap is still read.
    let old = mc(
        &["backtest.monte_carlo.method=block_bootstrap"],
        &["--paths", "300", "--block-size", "5", "--level", "0.8"],
    );
    assert_eq!(old, by_flags);
}

#[test]
fn a_statistic_s_bad_parameter_is_named_by_its_flag() {
    // The library names its parameter (`pbo_splits must be …`); the command, the flag typed.
    let dir = tempfile::tempdir().unwrap();
    let golden = repo().join("crates/stats/tests/golden");
    let out = qts(dir.path())
        .args(["overfitting", "--trial-returns"])
        .arg(golden.join("trials_goog_sma.csv.gz"))
        .args(["--pbo-splits", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--pbo-splits must be an even number of at least 2, got 5"),
        "{err}"
    );
    let out = qts(dir.path())
        .args(["monte-carlo", "--returns", &goog(), "--block-size", "0"])
        .args(["--method", "block"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--block-size must be at least 1, got 0"),
        "{err}"
    );
}

#[test]
fn a_backtest_of_a_tracked_searchs_winner_on_the_same_data_is_in_sample() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = std::path::PathBuf::from(goog());
    let search = json(
        &qts(d)
            .args(["-q", "optimize", "--data"])
            .arg(&goog)
            .args(["--grid", "fast=5,10", "--grid", "slow=30,50"])
            .args(["--maximize", "sharpe_ratio", "--json"])
            .output()
            .unwrap(),
    );
    let best = &search["best"]["params"];
    let (fast, slow) = (best["fast"].to_string(), best["slow"].to_string());
    let backtest = |fast: &str, slow: &str, data: &std::path::Path| {
        json(
            &qts(d)
                .args(["-q", "backtest", "--strategy", "sma-cross", "--data"])
                .arg(data)
                .args(["--param", &format!("fast={fast}")])
                .args(["--param", &format!("slow={slow}"), "--json"])
                .output()
                .unwrap(),
        )
    };
    let winner = backtest(&fast, &slow, &goog);
    assert_eq!(winner["in_sample"], true, "{winner}");
    let note = winner["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with(&format!(
            "IN-SAMPLE: fast={fast}, slow={slow} is the winner of the search run "
        )) && note.contains("optimize fast="),
        "{note}"
    );
    // Other parameters, or the same ones on other data, are not the search's choice.
    let other = if fast == "5" { "10" } else { "5" };
    assert_eq!(backtest(other, &slow, &goog)["in_sample"], false);
    std::fs::copy(&goog, d.join("other.csv")).unwrap();
    let mut text = std::fs::read_to_string(d.join("other.csv")).unwrap();
    text.push('\n');
    std::fs::write(d.join("other.csv"), text).unwrap();
    assert_eq!(
        backtest(&fast, &slow, &d.join("other.csv"))["in_sample"],
        false
    );
}

/// GOOG's first 400 bars as if it had split 2:1 on bar 200 (prices after halved, volumes
/// doubled) and paid two dividends, with the events file that says so.
fn split_goog(dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(goog()).unwrap();
    let mut out = String::from("date,open,high,low,close,volume\n");
    for (i, line) in text.lines().skip(1).take(400).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let scale = if i >= 200 { 0.5 } else { 1.0 };
        let p = |k: usize| cells[k].parse::<f64>().unwrap() * scale;
        let v = cells[5].parse::<f64>().unwrap() / scale;
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            cells[0],
            p(1),
            p(2),
            p(3),
            p(4),
            v
        ));
    }
    let dates: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let events = format!(
        "date,symbol,kind,value\n{},X,dividend,1.5\n{},X,split,2\n{},X,dividend,0.9\n",
        dates[100], dates[200], dates[300]
    );
    std::fs::write(dir.join("X.csv"), out).unwrap();
    std::fs::write(dir.join("events.csv"), events).unwrap();
    (
        dir.join("X.csv").display().to_string(),
        dir.join("events.csv").display().to_string(),
    )
}

#[test]
fn every_price_basis_gives_the_same_buy_and_hold_and_raw_prices_split_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let (data, events) = split_goog(dir.path());
    let mut totals = Vec::new();
    for basis in ["raw", "split", "total_return"] {
        let mut cmd = qts(dir.path());
        cmd.args(["backtest", "--data", &data]);
        if basis == "split" {
            // The keys the flags set.
            cmd.args(["--set", &format!("data.events={events}")])
                .args(["--set", "data.adjustment=split"]);
        } else {
            cmd.args(["--events", &events, "--adjustment", basis]);
        }
        let out = cmd
            .args(["--strategy", "buy-and-hold", "--json", "--out", basis])
            .output()
            .unwrap();
        let v = json(&out);
        assert_eq!(v["settings"]["price_basis"], basis);
        assert_eq!(v["settings"]["dividends"], true);
        totals.push(v["buy_and_hold"]["total_return"].as_f64().unwrap());
        let equity =
            qts_data::io::read_csv_table(&dir.path().join(basis).join("equity.csv")).unwrap();
        let eq = equity.column("equity").unwrap();
        // No −50% day: the split moves shares, not value.
        assert!(eq.windows(2).all(|w| w[1] / w[0] > 0.85), "{basis}");
        let paid: f64 = equity.column("dividends").unwrap().iter().sum();
        if basis == "total_return" {
            assert_eq!(paid, 0.0);
        } else {
            assert!(paid > 0.0, "{basis}: dividends paid {paid}");
        }
    }
    assert!((totals[0] - totals[1]).abs() < 1e-9, "{totals:?}");
    assert!((totals[0] - totals[2]).abs() < 1e-9, "{totals:?}");
    // Validation on the prices as traded names the split rather than suspecting one.
    let out = qts(dir.path())
        .args(["data", "validate", &data, "--events", &events, "--json"])
        .args(["--as-of", "2006-03-20"])
        .output()
        .unwrap();
    let v = json(&out);
    let splits: Vec<&serde_json::Value> = v["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "splits")
        .collect();
    assert_eq!(splits.len(), 1, "{splits:?}");
    assert_eq!(splits[0]["severity"], "info");
    // Bad input names the flag or the row.
    qts(dir.path())
        .args(["backtest", "--data", &data, "--adjustment", "adjusted"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--adjustment").and(predicate::str::contains("total_return")),
        );
    std::fs::write(
        dir.path().join("bad.csv"),
        "date,symbol,kind,value\n2005-01-03,X,split,-2\n",
    )
    .unwrap();
    qts(dir.path())
        .args(["backtest", "--data", &data, "--events", "bad.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.csv:2").and(predicate::str::contains("split ratio")));
}

//! A universe from the command line: the 20 stocks of the bundled wide file, a few chosen with
//! `--symbols` or `--universe FILE`, ranked by forecasts in the long format; symbols with their
//! own histories; the errors a user meets on the way.

#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{json, qts, sample};

/// 20-bar momentum of every symbol of the wide file as a long-format predictions file.
fn predictions(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(sample("stocks20_daily_adjclose.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut out = String::from("date,symbol,prediction\n");
    for (j, symbol) in header.iter().enumerate().skip(1) {
        let close: Vec<f64> = rows.iter().map(|r| r[j].parse().unwrap()).collect();
        for i in 20..rows.len() {
            let _ = writeln!(
                out,
                "{},{symbol},{:.6}",
                rows[i][0],
                close[i] / close[i - 20] - 1.0
            );
        }
    }
    let path = dir.join("momentum.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn backtest(dir: &Path, args: &[&str]) -> std::process::Output {
    qts(dir)
        .arg("backtest")
        .arg("--data")
        .arg(sample("stocks20_daily_adjclose.csv"))
        .args(args)
        .args(["--from", "2015-01-01", "--json"])
        .output()
        .unwrap()
}

#[test]
fn five_stocks_of_the_wide_file_ranked_weekly_by_symbols_or_universe_file() {
    let dir = tempfile::tempdir().unwrap();
    let signals = predictions(dir.path());
    let signals = signals.to_str().unwrap();
    let by_symbols = json(&backtest(
        dir.path(),
        &[
            "--symbols",
            "AAPL,MSFT,KO,XOM,JNJ",
            "--strategy",
            "rank",
            "--param",
            "top=2",
            "--signals",
            signals,
        ],
    ));
    assert_eq!(by_symbols["strategy"], "rank(top 2, equal)");
    assert_eq!(
        by_symbols["symbols"],
        serde_json::json!(["AAPL", "MSFT", "KO", "XOM", "JNJ"])
    );
    assert_eq!(by_symbols["settings"]["strategy_weights"], true);
    let u = &by_symbols["universe"];
    assert_eq!(u["symbols"], 5);
    assert!(u["mean_holdings"].as_f64().unwrap() > 1.5);
    assert!(u["rank_ic"]["dates"].as_u64().unwrap() > 1000);
    let total: f64 = u["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    assert!(
        (total - by_symbols["total_return"].as_f64().unwrap()).abs() < 1e-9,
        "contributions add up to the total return"
    );
    // Weights over time: five names (fewer than are named), sampled at most 250 times, each
    // sample long and at most the whole equity; two names held at most.
    let weights = u["weights"].as_array().unwrap();
    assert!(weights.len() <= 5 && !weights.is_empty(), "{u}");
    let step = u["weight_step"].as_u64().unwrap() as usize;
    let samples = weights[0]["weights"].as_array().unwrap().len();
    assert!(samples <= 250 && samples * step >= u["holdings"].as_array().unwrap().len());
    for i in 0..samples {
        let at: Vec<f64> = weights
            .iter()
            .map(|w| w["weights"][i].as_f64().unwrap())
            .collect();
        assert!(at.iter().all(|w| *w >= 0.0), "{at:?}");
        assert!(at.iter().sum::<f64>() <= 1.0 + 1e-9, "{at:?}");
        assert!(at.iter().filter(|w| **w > 0.0).count() <= 2, "{at:?}");
    }
    let notes = by_symbols["notes"].to_string();
    assert!(
        notes.contains("15 symbol(s) not in the data were ignored"),
        "{notes}"
    );
    // The same universe from a file: one symbol a line, comments and blank lines skipped.
    let list = dir.path().join("five.txt");
    std::fs::write(&list, "# my five\nAAPL\nMSFT  # software\n\nKO\nXOM\nJNJ\n").unwrap();
    let by_file = json(&backtest(
        dir.path(),
        &[
            "--universe",
            list.to_str().unwrap(),
            "--strategy",
            "rank",
            "--param",
            "top=2",
            "--signals",
            signals,
        ],
    ));
    assert_eq!(by_file["total_return"], by_symbols["total_return"]);
    assert_eq!(by_file["num_trades"], by_symbols["num_trades"]);
    // The baseline: the same five at equal weights under the same rules.
    let equal = json(&backtest(
        dir.path(),
        &[
            "--symbols",
            "AAPL,MSFT,KO,XOM,JNJ",
            "--strategy",
            "equal-weight",
        ],
    ));
    assert_eq!(equal["universe"]["symbols"], 5);
    assert!(equal["universe"]["rank_ic"].is_null());
}

#[test]
fn a_universe_of_files_with_their_own_histories_says_who_listed_and_who_left() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .arg("backtest")
        .arg("--data")
        .arg(sample("sp500_daily.csv"))
        .arg("--data")
        .arg(sample("goog_daily.csv"))
        .args(["--strategy", "equal-weight", "--json", "--out", "res"])
        .args(["--report", "res/page.html"])
        .output()
        .unwrap();
    let r = json(&out);
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("listed later: goog_daily from 2004-08-19"),
        "{notes}"
    );
    assert!(
        notes.contains("goog_daily after 2013-03-01") && notes.contains("delisted"),
        "{notes}"
    );
    assert!(notes.contains("survivorship bias"), "{notes}");
    assert_eq!(r["universe"]["min_tradable"], 1);
    assert_eq!(r["universe"]["max_tradable"], 2);
    assert_eq!(r["start"], "1999-01-04");
    assert_eq!(r["end"], "2018-12-31");
    // The page shows the universe, and stats.json keeps it for the pages that read it back.
    let page = std::fs::read_to_string(dir.path().join("res/page.html")).unwrap();
    assert!(page.contains("<h2>Universe</h2>"), "no universe section");
    assert!(
        page.contains("<td>sp500_daily</td>"),
        "no contribution rows"
    );
    assert!(!page.contains("<script"), "pages are script-free");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("res/stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["universe"]["symbols"], 2);
    // Held and tradable at every close, drawn on the page.
    let bars = stats["num_bars"].as_u64().unwrap() as usize;
    assert_eq!(
        stats["universe"]["tradable"].as_array().unwrap().len(),
        bars
    );
    assert_eq!(stats["universe"]["tradable"][0], 1);
    assert_eq!(
        stats["universe"]["holdings"].as_array().unwrap().len(),
        bars
    );
    assert!(page.contains("Names held and names tradable at each close"));
    assert!(page.contains("Weights of the most held names"));
    let compare = qts(dir.path())
        .args(["compare", "res", "res", "--out", "c.html", "--json"])
        .output()
        .unwrap();
    assert!(
        compare.status.success(),
        "compare reads a universe's stats.json back: {}",
        String::from_utf8_lossy(&compare.stderr)
    );
}

#[test]
fn universe_mistakes_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let signals = predictions(dir.path());
    let signals = signals.to_str().unwrap();
    let refused = |args: &[&str], want: &str| {
        let out = backtest(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    };
    refused(
        &["--symbols", "AAPL,NOPE", "--strategy", "equal-weight"],
        "symbol `NOPE` is in none of the data files; they hold AAPL, AMD",
    );
    refused(
        &["--symbols", "AAPL,aapl", "--strategy", "equal-weight"],
        "symbol `aapl` is named twice",
    );
    refused(
        &["--symbols", "AAPL,MSFT", "--strategy", "rank"],
        "--strategy rank needs --signals FILE",
    );
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n\n").unwrap();
    refused(
        &[
            "--universe",
            empty.to_str().unwrap(),
            "--strategy",
            "equal-weight",
        ],
        "lists no symbol or file",
    );
    // One symbol's predictions for several symbols.
    let one = dir.path().join("one.csv");
    std::fs::write(&one, "date,prediction\n2015-01-02,0.1\n").unwrap();
    refused(
        &[
            "--symbols",
            "AAPL,MSFT",
            "--strategy",
            "rank",
            "--signals",
            one.to_str().unwrap(),
        ],
        "2 symbols trade on predictions of one",
    );
    // A date and symbol given twice.
    let twice = dir.path().join("twice.csv");
    std::fs::write(
        &twice,
        "date,symbol,prediction\n2015-01-02,AAPL,0.1\n2015-01-02,MSFT,0.2\n2015-01-02,AAPL,0.3\n",
    )
    .unwrap();
    refused(
        &[
            "--symbols",
            "AAPL,MSFT",
            "--strategy",
            "rank",
            "--signals",
            twice.to_str().unwrap(),
        ],
        "row 4: AAPL on 2015-01-02 is given twice",
    );
    let _ = signals;
    refused(
        &[
            "--symbols",
            "AAPL,MSFT",
            "--strategy",
            "rank",
            "--param",
            "weighting=size",
            "--signals",
            signals,
        ],
        "`size` is not one of equal, forecast, inverse_vol",
    );
}

/// `qts data validate` of a wide file: each symbol validated on the bars it has (a late listing
/// is not a gap), a line and the findings of each, the JSON a report per symbol, the page a row
/// per symbol, and the exit status of the worst finding.
#[test]
fn a_wide_file_is_validated_symbol_by_symbol() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(sample("stocks20_daily_adjclose.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (a, m) = (col("KO"), col("MSFT"));
    let mut wide = String::from("date,KO,MSFT\n");
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        if c[0] < "2018-01-01" {
            continue;
        }
        // MSFT lists in 2019; one KO close is negative.
        let msft = if c[0] < "2019-01-02" { "" } else { c[m] };
        let ko = if c[0] == "2020-06-01" { "-1" } else { c[a] };
        wide.push_str(&format!("{},{ko},{msft}\n", c[0]));
    }
    let file = d.join("two.csv");
    std::fs::write(&file, wide).unwrap();
    let out = qts(d)
        .args(["data", "validate"])
        .arg(&file)
        .args(["--as-of", "2023-01-03", "--json", "--report", "q.html"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["symbols"], serde_json::json!(["KO", "MSFT"]), "{v}");
    let reports = v["reports"].as_array().unwrap();
    // MSFT from its first bar: no gap before its listing.
    let msft = &reports[1];
    assert_eq!(msft["first"].as_str().unwrap()[..10], *"2019-01-02");
    let checks = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        !checks(msft).contains(&"non_trading_days".to_string()),
        "{msft}"
    );
    // KO's negative close is an error: the file fails validation (exit 1), and says whose.
    assert!(
        checks(&reports[0]).contains(&"price_consistency".to_string()),
        "{v}"
    );
    assert!(v["summary"]["errors"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(d.join("q.html")).unwrap();
    assert!(page.contains("<td style=\"text-align:left\">MSFT</td>"));
    // The console: a line per symbol.
    let text = qts(d)
        .args(["data", "validate"])
        .arg(&file)
        .args(["--as-of", "2023-01-03"])
        .output()
        .unwrap();
    let shown = String::from_utf8(text.stdout).unwrap();
    assert!(
        shown.contains("a wide file of 2 symbols' closes"),
        "{shown}"
    );
    assert!(shown.lines().any(|l| l.starts_with("MSFT: ")), "{shown}");
}

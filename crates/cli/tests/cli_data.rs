//! `qts data validate` and `qts features` as a user runs them, on the sample data and on bad
//! files.

#![allow(clippy::unwrap_used)]

mod common;

use arrow_array::Array as _;
use common::{qts, repo, sample};
use predicates::prelude::*;

#[test]
fn validate_the_sample_data_passes_with_warnings_only() {
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path())
        .args(["data", "validate"])
        .arg(sample("goog_daily.csv"))
        .args(["--as-of", "2013-03-04"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2148 bars, 2004-08-19 .. 2013-03-01: 0 errors",
        ))
        .stdout(predicate::str::contains("outliers_zscore"));

    let out = qts(dir.path())
        .args(["data", "validate", "--json", "--as-of", "2019-01-02"])
        .arg(sample("sp500_daily.csv"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["bars"], 5031);
    assert_eq!(v["summary"]["errors"], 0);
    assert!(
        v["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "error")
    );
}

#[test]
fn a_symbol_is_looked_up_in_the_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path())
        .args([
            "--set",
            &format!(
                "data.providers.local.directory={}",
                repo().join("examples/data").display()
            ),
        ])
        .args(["data", "validate", "goog_daily", "--as-of", "2013-03-04"])
        .assert()
        .success();
    qts(dir.path())
        .args(["data", "validate", "NOPE"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no file `NOPE`, no NOPE.csv or NOPE.parquet",
        ));
}

#[test]
fn error_findings_exit_1_and_name_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(
        &file,
        "date,open,high,low,close,volume\n2024-07-01,10,11,9,10.5,100\n2024-07-03,10,11,9,-1,100\n2024-07-02,10,11,9,10,100\n2024-07-02,10,11,9,10,100\n",
    )
    .unwrap();
    let out = qts(dir.path())
        .args(["data", "validate", "--json", "--as-of", "2024-07-05"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["report"]["findings"].as_array().unwrap();
    let find = |check: &str| findings.iter().find(|f| f["check"] == check).unwrap();
    assert_eq!(find("order")["rows"], serde_json::json!([4]));
    assert_eq!(find("duplicates")["rows"], serde_json::json!([5]));
    assert_eq!(find("price_consistency")["rows"], serde_json::json!([3]));
    assert_eq!(find("order")["severity"], "error");

    // The same file cannot be used for features: exit 2 with the first blocking row.
    qts(dir.path())
        .arg("features")
        .arg(&file)
        .args(["--out", "f.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("row 3: close is -1"));
    assert!(
        !dir.path().join("f.csv").exists(),
        "nothing written from bad input"
    );
}

#[test]
fn malformed_files_exit_2_naming_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "cols.csv",
            "date,open,close\n2024-07-01,1,2\n",
            "missing column(s) high,low,volume",
        ),
        (
            "num.csv",
            "date,open,high,low,close,volume\n2024-07-01,1,2,1,x,5\n",
            "num.csv:2: column `close`: `x` is not a number",
        ),
        (
            "date.csv",
            "date,open,high,low,close,volume\n07/01/2024,1,2,1,2,5\n",
            "date.csv:2: column `date`",
        ),
        ("empty.csv", "", "no bars"),
        ("data.txt", "x", "unsupported file type"),
    ];
    for (name, text, message) in cases {
        std::fs::write(dir.path().join(name), text).unwrap();
        for args in [
            vec!["data", "validate", name],
            vec!["features", name, "--out", "o.csv"],
        ] {
            qts(dir.path())
                .args(&args)
                .assert()
                .code(2)
                .stderr(predicate::str::contains(message))
                .stderr(predicate::str::contains("panicked").not());
        }
    }
}

#[test]
fn features_write_csv_and_parquet_with_the_contract_names() {
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path())
        .arg("features")
        .arg(sample("goog_daily.csv"))
        .args(["--out", "out/goog.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "wrote 2148 rows x 30 feature columns",
        ));
    let text = std::fs::read_to_string(dir.path().join("out/goog.csv")).unwrap();
    let header = text.lines().next().unwrap();
    for name in [
        "date",
        "sma_20",
        "ema_12",
        "rsi_14",
        "atr_14",
        "mom_10",
        "roc_10",
        "obv",
        "macd",
        "macd_signal",
        "macd_hist",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "bb_pct_b",
        "bb_width",
    ] {
        assert!(
            header.split(',').any(|h| h == name),
            "{name} missing from {header}"
        );
    }
    // Warm-up cells are empty exactly where TA-Lib has NaN: sma_20 starts on row 20.
    let col = header.split(',').position(|h| h == "sma_20").unwrap();
    let cells: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap())
        .collect();
    assert!(cells[..19].iter().all(|c| c.is_empty()));
    assert!(!cells[19].is_empty());

    qts(dir.path())
        .arg("features")
        .arg(sample("sp500_daily.csv"))
        .args(["--adjust", "--out", "sp.parquet"])
        .assert()
        .success();
    // The Parquet file holds the CSV's values: a column per feature, warm-up cells null
    // where the CSV's are empty, every other cell the same number.
    qts(dir.path())
        .arg("features")
        .arg(sample("sp500_daily.csv"))
        .args(["--adjust", "--out", "sp.csv"])
        .assert()
        .success();
    let csv = std::fs::read_to_string(dir.path().join("sp.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let file = std::fs::File::open(dir.path().join("sp.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut seen = 0;
    for batch in reader {
        let batch = batch.unwrap();
        for (k, name) in header.iter().enumerate().skip(1) {
            let column = batch
                .column_by_name(name)
                .unwrap_or_else(|| panic!("no {name}"));
            let values = column
                .as_any()
                .downcast_ref::<arrow_array::Float64Array>()
                .unwrap_or_else(|| panic!("{name} is not float64"));
            for i in 0..values.len() {
                let cell = rows[seen + i][k];
                if cell.is_empty() {
                    assert!(values.is_null(i), "{name} row {}: null expected", seen + i);
                } else {
                    let want: f64 = cell.parse().unwrap();
                    assert_eq!(values.value(i), want, "{name} row {}", seen + i);
                }
            }
        }
        seen += batch.num_rows();
    }
    assert_eq!(seen, rows.len());
    let bars = qts_data::io::read_parquet(&dir.path().join("sp.parquet"));
    // A feature file has no OHLCV columns, so it is not a bar file: the reader says which are missing.
    assert!(
        bars.unwrap_err()
            .to_string()
            .contains("missing column(s) open,high,low,close,volume")
    );
    qts(dir.path())
        .arg("features")
        .arg(sample("goog_daily.csv"))
        .args(["--adjust", "--out", "g.parquet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--adjust needs an adj_close column",
        ));
}

#[test]
fn features_refuse_to_overwrite_their_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bars.csv");
    std::fs::copy(repo().join("examples/data/goog_daily.csv"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    common::qts(dir.path())
        .args(["features", "bars.csv", "--out", "./bars.csv"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--out ./bars.csv is the input file bars.csv",
        ));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );
}

/// Interrupted while its output is half written (the `write_atomic` fault point pauses after
/// the temporary file is written, before the rename): SIGINT exits 130 and SIGTERM 143, with
/// no temporary file left and the previous output untouched.
#[test]
fn an_interrupted_write_leaves_the_old_output_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("features.csv"), "the previous output\n").unwrap();
    for (signal, status) in [("-INT", 130), ("-TERM", 143)] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qts"))
            .current_dir(d)
            .env("QTS_FAULT_POINT", "write_atomic:sleep=60000")
            .arg("-q")
            .arg("-C")
            .arg(common::repo().join("config"))
            .arg("features")
            .arg(common::sample("goog_daily.csv"))
            .args(["--out", "features.csv"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the temporary file: the write is then paused before its rename.
        let tmp = || {
            std::fs::read_dir(d)
                .unwrap()
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        };
        for _ in 0..2_400 {
            if tmp() {
                break;
            }
            assert!(child.try_wait().unwrap().is_none(), "exited before writing");
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert!(tmp(), "no temporary file appeared");
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(status), "{signal}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("1 unfinished file(s) removed"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!tmp(), "{signal}: a temporary file was left");
        assert_eq!(
            std::fs::read_to_string(d.join("features.csv")).unwrap(),
            "the previous output\n"
        );
    }
}

#[test]
fn fetch_from_the_local_provider_writes_each_symbol_to_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .args(["--set"])
        .arg(format!(
            "data.providers.local.directory={}",
            repo().join("examples/data").display()
        ))
        .args([
            "data",
            "fetch",
            "--symbols",
            "goog_daily,sp500_daily",
            "--from",
            "2010-01-01",
        ])
        .args([
            "--to",
            "2010-12-31",
            "--provider",
            "local",
            "--out",
            "bars",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["provider"], "local");
    for (row, name) in report["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["goog_daily", "sp500_daily"])
    {
        // 2010 has 252 NYSE sessions.
        assert_eq!(
            (row["symbol"].as_str(), row["bars"].as_u64()),
            (Some(name), Some(252))
        );
        assert_eq!(row["first"], "2010-01-04");
        assert_eq!(row["last"], "2010-12-31");
        // The file written holds the source's rows of 2010, value for value.
        let written =
            qts_data::io::read_bars(&dir.path().join("bars").join(format!("{name}.csv"))).unwrap();
        let source =
            qts_data::io::read_bars(&repo().join("examples/data").join(format!("{name}.csv")))
                .unwrap();
        let from = source
            .time
            .iter()
            .position(|t| t.date().to_string() == "2010-01-04")
            .unwrap();
        assert_eq!(written.time, source.time[from..from + 252].to_vec());
        assert_eq!(written.close, source.close[from..from + 252].to_vec());
        assert_eq!(written.volume, source.volume[from..from + 252].to_vec());
    }
    // Without --provider, data.default_provider chooses: the same answer from the local files.
    let out = qts(dir.path())
        .args(["--set"])
        .arg(format!(
            "data.providers.local.directory={}",
            repo().join("examples/data").display()
        ))
        .args(["--set", "data.default_provider=local"])
        .args([
            "data",
            "fetch",
            "--symbols",
            "goog_daily",
            "--from",
            "2010-01-01",
        ])
        .args(["--to", "2010-12-31", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_default: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(by_default["provider"], "local");
    assert_eq!(by_default["symbols"][0]["bars"], 252);
}

/// The sample's rows as `(date, open, high, low, close, volume)` text.
fn sample_rows() -> Vec<Vec<String>> {
    std::fs::read_to_string(sample("goog_daily.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn backtest_json(d: &std::path::Path, args: &[&str]) -> serde_json::Value {
    common::json(
        &qts(d)
            .args(["-q", "backtest", "--strategy", "sma-cross", "--json"])
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn files_as_they_come_read_with_columns_and_date_format_or_as_closes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = sample_rows();
    // A vendor's layout: `Date,Open,High,Low,Last,Vol` with US dates.
    let mut vendor = String::from("Date,Open,High,Low,Last,Vol\n");
    for r in &rows {
        let (y, m, day) = (&r[0][0..4], &r[0][5..7], &r[0][8..10]);
        vendor.push_str(&format!(
            "{m}/{day}/{y},{},{},{},{},{}\n",
            r[1], r[2], r[3], r[4], r[5]
        ));
    }
    std::fs::write(d.join("vendor.csv"), vendor).unwrap();
    let out = qts(d)
        .args([
            "-q",
            "backtest",
            "--strategy",
            "sma-cross",
            "--data",
            "vendor.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing column(s) close,volume; found Date,Open,High,Low,Last,Vol")
            && err.contains("--columns close=Last,volume=Vol"),
        "{err}"
    );
    let out = qts(d)
        .args(["-q", "--columns", "close=Last,volume=Vol", "backtest"])
        .args(["--strategy", "sma-cross", "--data", "vendor.csv"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("vendor.csv:2: column `date`: `08/19/2004` is not a date (expected YYYY-MM-DD); give --date-format %m/%d/%Y"),
        "{err}"
    );
    let ours = backtest_json(d, &["--data", sample("goog_daily.csv").to_str().unwrap()]);
    let theirs = backtest_json(
        d,
        &[
            "--data",
            "vendor.csv",
            "--columns",
            "close=Last,volume=Vol",
            "--date-format",
            "%m/%d/%Y",
        ],
    );
    for k in ["total_return", "sharpe_ratio", "num_trades", "final_equity"] {
        assert_eq!(ours[k], theirs[k], "{k}");
    }
    // The same through the configuration, for every command.
    let set = qts(d)
        .args([
            "--set",
            "data.providers.local.columns={close: Last, volume: Vol}",
        ])
        .args(["--set", "data.providers.local.date_format='%m/%d/%Y'"])
        .args(["-q", "data", "validate", "vendor.csv", "--json"])
        .output()
        .unwrap();
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let bad = qts(d)
        .args(["--columns", "closing=Last", "config", "show"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`closing` is not a bar column"));

    // Closes only: open, high and low taken as the close, said in the result's notes.
    let mut closes = String::from("date,close\n");
    for r in &rows {
        closes.push_str(&format!("{},{}\n", r[0], r[4]));
    }
    std::fs::write(d.join("closes.csv"), closes).unwrap();
    let r = backtest_json(d, &["--data", "closes.csv"]);
    let notes = r["notes"].to_string();
    assert!(notes.contains("close_only: closes only"), "{notes}");
    assert!(r["num_trades"].as_f64().unwrap() > 0.0);

    // A wide file of closes: one close-only symbol per column, traded together.
    let mut wide = String::from("Date,GOOG,HALF\n");
    for r in &rows {
        let c: f64 = r[4].parse().unwrap();
        wide.push_str(&format!("{},{},{}\n", r[0], r[4], c / 2.0));
    }
    std::fs::write(d.join("wide.csv"), wide).unwrap();
    let r = backtest_json(d, &["--data", "wide.csv"]);
    assert_eq!(r["symbols"], serde_json::json!(["GOOG", "HALF"]));
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("GOOG: data validation, close_only")
            && notes.contains("HALF: data validation, close_only"),
        "{notes}"
    );
    // Validation reads it as its symbols, each on the bars it has.
    let each = qts(d)
        .args([
            "-q",
            "data",
            "validate",
            "wide.csv",
            "--as-of",
            "2013-03-04",
        ])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&each.stdout);
    assert_eq!(each.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("a wide file of 2 symbols' closes"),
        "{shown}"
    );
    assert!(
        shown.lines().any(|l| l.starts_with("GOOG: "))
            && shown.lines().any(|l| l.starts_with("HALF: ")),
        "{shown}"
    );
    // A command that reads one series still refuses it, with the reason.
    let one = qts(d)
        .args(["-q", "features", "wide.csv", "--out", "f.csv"])
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&one.stderr).contains("a wide file of 2 symbols' closes"),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
}

#[test]
fn a_gap_that_validation_warned_about_is_in_the_result_with_the_days_traded_across() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = sample_rows();
    // Seven weeks (35 trading days) missing in 2010.
    let mut text = String::from("date,open,high,low,close,volume\n");
    let gap = rows
        .iter()
        .position(|r| r[0].as_str() >= "2010-03-01")
        .unwrap();
    for (i, r) in rows.iter().enumerate() {
        if !(gap..gap + 35).contains(&i) {
            text.push_str(&r.join(","));
            text.push('\n');
        }
    }
    std::fs::write(d.join("gappy.csv"), text).unwrap();
    let r = backtest_json(d, &["--data", "gappy.csv"]);
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("gappy: data validation, missing_days: 35 of")
            && notes.contains("2010-03-01")
            && notes.contains("positions are held across these days"),
        "{notes}"
    );
    // The sample itself has no gap, so no such note.
    let r = backtest_json(d, &["--data", sample("goog_daily.csv").to_str().unwrap()]);
    assert!(!r["notes"].to_string().contains("missing_days"), "{r}");
}

//! Indicators against TA-Lib (and numpy/pandas for volatility and log returns) on real daily
//! histories, to 1e-9 relative, with NaN exactly where the reference has NaN.
//! Golden files: scripts/golden/talib_features.py.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use qts_config::FeatureSpec;
use qts_data::BarSeries;
use qts_data::features::{compute, kernels};
use qts_data::io::{parse_number, read_bars};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

struct Golden {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

fn golden(name: &str) -> Golden {
    let path = root()
        .join("tests/golden")
        .join(format!("talib_{name}.csv"));
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let names: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .skip(1)
        .map(String::from)
        .collect();
    let mut columns = vec![Vec::new(); names.len()];
    for record in reader.records() {
        let record = record.unwrap();
        for (i, cell) in record.iter().skip(1).enumerate() {
            columns[i].push(parse_number(cell).unwrap());
        }
    }
    Golden { names, columns }
}

fn bars(name: &str) -> BarSeries {
    read_bars(
        &root()
            .join("../../examples/data")
            .join(format!("{name}.csv")),
    )
    .unwrap()
}

fn assert_matches(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.is_nan(), w.is_nan(), "{what}[{i}]: got {g}, TA-Lib {w}");
        if w.is_nan() {
            continue;
        }
        let err = (g - w).abs() / w.abs().max(1.0);
        worst = worst.max(err);
        assert!(
            err <= 1e-9,
            "{what}[{i}]: got {g}, reference {w} (error {err:e})"
        );
    }
    assert!(
        want.iter().any(|w| !w.is_nan()),
        "{what}: reference is all NaN"
    );
}

/// The kernel call a golden column's name describes.
fn kernel_for(name: &str, b: &BarSeries) -> Vec<f64> {
    let c = &b.close;
    let parts: Vec<&str> = name.split('_').collect();
    let p = |i: usize| parts[i].parse::<usize>().unwrap();
    let macd_params = |rest: &[&str]| match rest {
        [] => (12, 26, 9),
        [f, s, g] => (f.parse().unwrap(), s.parse().unwrap(), g.parse().unwrap()),
        _ => panic!("bad MACD column {name}"),
    };
    let bb_params = |rest: &[&str]| match rest {
        [] => (20, 2.0),
        [p, k] => (p.parse().unwrap(), k.parse().unwrap()),
        _ => panic!("bad Bollinger column {name}"),
    };
    let returns = kernels::log_return(c, 1);
    match parts.as_slice() {
        ["sma", _] => kernels::sma(c, p(1)),
        ["ema", _] => kernels::ema(c, p(1)),
        ["rsi", _] => kernels::rsi(c, p(1)),
        ["mom", _] => kernels::momentum(c, p(1)),
        ["roc", _] => kernels::roc(c, p(1)),
        ["atr", _] => kernels::atr(&b.high, &b.low, c, p(1)),
        ["obv"] => kernels::obv(c, &b.volume),
        ["log", "return", _] => kernels::log_return(c, p(2)),
        ["volatility", _] => kernels::rolling_std(&returns, p(1)),
        ["volatility", "ann", _] => kernels::rolling_std(&returns, p(2))
            .iter()
            .map(|v| v * 252f64.sqrt())
            .collect(),
        ["macd", ..] => {
            let has_kind = matches!(parts.get(1), Some(&"signal" | &"hist"));
            let (f, s, g) = macd_params(&parts[if has_kind { 2 } else { 1 }..]);
            let [line, signal, hist] = kernels::macd(c, f, s, g);
            match parts.get(1) {
                Some(&"signal") => signal,
                Some(&"hist") => hist,
                _ => line,
            }
        }
        ["bb", kind, ..] if *kind != "pct" => {
            let (period, k) = bb_params(&parts[2..]);
            let [up, mid, low] = kernels::bollinger(c, period, k);
            match *kind {
                "upper" => up,
                "middle" => mid,
                "lower" => low,
                "width" => (0..c.len()).map(|i| (up[i] - low[i]) / mid[i]).collect(),
                _ => panic!("unknown Bollinger column {name}"),
            }
        }
        ["bb", "pct", "b", rest @ ..] => {
            let (period, k) = bb_params(rest);
            let [up, _, low] = kernels::bollinger(c, period, k);
            (0..c.len())
                .map(|i| (c[i] - low[i]) / (up[i] - low[i]))
                .collect()
        }
        _ => panic!("no kernel for golden column {name}"),
    }
}

fn check_dataset(name: &str) {
    let b = bars(name);
    let g = golden(name);
    assert_eq!(g.columns[0].len(), b.len());
    for (col, want) in g.names.iter().zip(&g.columns) {
        assert_matches(&format!("{name}:{col}"), &kernel_for(col, &b), want);
    }
    // The default feature set, end to end, under its public column names.
    let table = compute(&b, &FeatureSpec::default()).unwrap();
    let mut compared = 0;
    for (col, values) in &table.columns {
        if let Some(i) = g.names.iter().position(|n| n == col) {
            assert_matches(&format!("{name}:compute:{col}"), values, &g.columns[i]);
            compared += 1;
        }
    }
    assert_eq!(
        compared, 24,
        "every default indicator column has a golden column"
    );
}

#[test]
fn goog_matches_talib() {
    check_dataset("goog_daily");
}

#[test]
fn sp500_matches_talib() {
    check_dataset("sp500_daily");
}

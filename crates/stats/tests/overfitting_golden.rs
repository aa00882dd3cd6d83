//! PSR, MinTRL, DSR and PBO against an independent implementation written from the papers
//! (`scripts/golden/overfitting.py`, numpy + scipy), on real returns and two trial matrices;
//! and the properties CSCV must have: pure noise overfits about half the time, a real edge
//! hardly ever.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use qts_core::budget::Budget;
use qts_data::io::{read_bars, read_csv_table, simple_returns};
use qts_stats::overfitting::{
    TrialMatrix, Trials, min_track_record_length, moments, overfitting, probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting, sharpe,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden() -> serde_json::Value {
    let text =
        std::fs::read_to_string(root().join("crates/stats/tests/golden/overfitting.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close_to(got: f64, want: &serde_json::Value, what: &str) {
    let want = want.as_f64().unwrap_or_else(|| panic!("{what}: no number"));
    let tol = 1e-9 * want.abs().max(1e-12);
    assert!(
        (got - want).abs() <= tol,
        "{what}: qts {got:e}, reference {want:e}"
    );
}

#[test]
fn psr_and_min_track_record_length_match_the_reference() {
    let g = golden();
    let cases = g["returns"].as_object().unwrap();
    assert_eq!(cases.len(), 2, "fixture cases");
    for (name, want) in cases {
        let file = match name.as_str() {
            "goog" => "goog_daily.csv",
            _ => "sp500_daily.csv",
        };
        let bars = read_bars(&root().join("examples/data").join(file)).unwrap();
        let r = simple_returns(&bars.close);
        assert_eq!(r.len() as u64, want["rows"].as_u64().unwrap());
        let (g3, g4) = moments(&r);
        close_to(sharpe(&r), &want["sharpe"], "sharpe");
        close_to(g3, &want["skew"], "skew");
        close_to(g4, &want["kurtosis"], "kurtosis");
        close_to(
            probabilistic_sharpe_ratio(&r, 0.0),
            &want["probabilistic_sharpe_ratio"],
            "psr",
        );
        close_to(
            min_track_record_length(&r, 0.0, 0.95),
            &want["min_track_record_length"],
            "min_trl",
        );
    }
}

#[test]
fn dsr_and_pbo_match_the_reference_on_two_matrices() {
    let g = golden();
    let cases = g["matrices"].as_object().unwrap();
    assert_eq!(cases.len(), 2, "fixture cases");
    for (file, want) in cases {
        let path = root().join("crates/stats/tests/golden").join(file);
        let table = read_csv_table(&path).unwrap();
        let matrix = TrialMatrix::from_columns(&table.columns, &table.time, file).unwrap();
        let splits = want["splits"].as_u64().unwrap() as usize;
        let got = overfitting(&matrix.trials(), splits, &Budget::default()).unwrap();
        assert_eq!(
            got.trials as u64,
            want["trials"].as_u64().unwrap(),
            "{file}"
        );
        assert_eq!(got.rows as u64, want["rows"].as_u64().unwrap(), "{file}");
        assert_eq!(got.rows_used as u64, want["rows_used"].as_u64().unwrap());
        assert_eq!(
            got.combinations as u64,
            want["combinations"].as_u64().unwrap()
        );
        assert_eq!(got.best_trial, want["best_trial"].as_str().unwrap());
        for (k, v) in [
            ("deflated_sharpe_ratio", got.deflated_sharpe_ratio),
            ("best_sharpe", got.best_sharpe),
            ("expected_max_sharpe", got.expected_max_sharpe),
            ("sharpe_variance", got.sharpe_variance),
        ] {
            close_to(v, &want[k], &format!("{file} {k}"));
        }
        // Shares of the 12,870 (or 252) combinations: equal exactly.
        assert_eq!(
            got.probability_of_backtest_overfitting,
            want["probability_of_backtest_overfitting"]
                .as_f64()
                .unwrap(),
            "{file}"
        );
        assert_eq!(
            got.probability_of_oos_loss,
            want["probability_of_oos_loss"].as_f64().unwrap(),
            "{file}"
        );
        let mean = got.logits.iter().sum::<f64>() / got.logits.len() as f64;
        close_to(mean, &want["logit_mean"], "logit mean");
        let min = got.logits.iter().copied().fold(f64::INFINITY, f64::min);
        let max = got.logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        close_to(min, &want["logit_min"], "logit min");
        close_to(max, &want["logit_max"], "logit max");
    }
}

/// Seeded normal noise: `rows × cols`, sd 0.01.
fn noise(rows: usize, cols: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut z = support::Noise::new(seed);
    (0..cols)
        .map(|_| (0..rows).map(|_| 0.01 * z.normal()).collect())
        .collect()
}

#[test]
fn noise_overfits_half_the_time_and_a_real_edge_hardly_ever() {
    let names: Vec<String> = (0..30).map(|i| format!("t{i}")).collect();
    let mut pbo = Vec::new();
    for seed in 1..=8 {
        let m = noise(800, 30, seed * 7919);
        let trials = Trials {
            names: &names,
            returns: &m,
        };
        pbo.push(
            probability_of_backtest_overfitting(&trials, 10, &Budget::default())
                .unwrap()
                .probability_of_backtest_overfitting,
        );
    }
    let mean = pbo.iter().sum::<f64>() / pbo.len() as f64;
    assert!((0.35..=0.65).contains(&mean), "noise PBO {pbo:?}");
    let mut m = noise(800, 30, 4242);
    for x in &mut m[11] {
        *x += 0.003;
    }
    let trials = Trials {
        names: &names,
        returns: &m,
    };
    let p = probability_of_backtest_overfitting(&trials, 10, &Budget::default()).unwrap();
    assert!(p.probability_of_backtest_overfitting < 0.05, "{p:?}");
}

#[test]
fn bad_matrices_are_refused_naming_the_problem() {
    let names: Vec<String> = vec!["a".into(), "b".into()];
    let m = noise(40, 2, 3);
    let trials = Trials {
        names: &names,
        returns: &m,
    };
    let e = probability_of_backtest_overfitting(&trials, 5, &Budget::default())
        .unwrap_err()
        .to_string();
    assert_eq!(e, "pbo_splits must be an even number of at least 2, got 5");
    let e = probability_of_backtest_overfitting(&trials, 32, &Budget::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "PBO with 32 splits needs at least 64 rows (2 a block), got 40"
    );
    let one = Trials {
        names: &names[..1],
        returns: &m[..1],
    };
    let e = overfitting(&one, 4, &Budget::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 2 trials"), "{e}");
}

#[test]
fn the_sharpe_difference_test_matches_the_reference() {
    // `scripts/golden/sharpe_difference.py`: Jobson–Korkie with Memmel's correction, written
    // from the paper with numpy and scipy, on GOOG against the S&P 500.
    let text =
        std::fs::read_to_string(root().join("crates/stats/tests/golden/sharpe_difference.json"))
            .unwrap();
    let g: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "the fixture's cases");
    let returns = |name: &str| -> Vec<(chrono::NaiveDate, f64)> {
        let b = read_bars(&root().join("examples/data").join(name)).unwrap();
        b.time
            .iter()
            .skip(1)
            .map(|t| t.date())
            .zip(b.close.windows(2).map(|w| w[1] / w[0] - 1.0))
            .collect()
    };
    let (goog, spx) = (returns("goog_daily.csv"), returns("sp500_daily.csv"));
    let spx: std::collections::HashMap<_, _> = spx.into_iter().collect();
    for case in cases {
        let (start, end) = (
            case["start"]
                .as_str()
                .unwrap()
                .parse::<chrono::NaiveDate>()
                .unwrap(),
            case["end"]
                .as_str()
                .unwrap()
                .parse::<chrono::NaiveDate>()
                .unwrap(),
        );
        let (a, b): (Vec<f64>, Vec<f64>) = goog
            .iter()
            .filter(|(d, _)| *d >= start && *d <= end)
            .filter_map(|(d, r)| spx.get(d).map(|s| (*r, *s)))
            .unzip();
        let name = case["name"].as_str().unwrap();
        assert_eq!(a.len() as u64, case["periods"].as_u64().unwrap(), "{name}");
        let d = qts_stats::significance::sharpe_difference(&a, &b).unwrap();
        close_to(d.sharpe_a, &case["sharpe_a"], &format!("{name} sharpe_a"));
        close_to(d.sharpe_b, &case["sharpe_b"], &format!("{name} sharpe_b"));
        close_to(
            d.correlation,
            &case["correlation"],
            &format!("{name} correlation"),
        );
        close_to(d.z, &case["z"], &format!("{name} z"));
        close_to(d.p_value, &case["p_value"], &format!("{name} p_value"));
    }
}

#[test]
fn the_diebold_mariano_test_matches_the_reference() {
    // `scripts/golden/diebold_mariano.py`, written from the papers with numpy and scipy: GOOG's
    // daily return forecast as 0 and as the mean of the 20 returns before it.
    let text =
        std::fs::read_to_string(root().join("crates/stats/tests/golden/diebold_mariano.json"))
            .unwrap();
    let g: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3, "the fixture's cases");
    let close = read_bars(&root().join("examples/data/goog_daily.csv"))
        .unwrap()
        .close;
    let r: Vec<f64> = close.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let (a, b): (Vec<f64>, Vec<f64>) = (20..r.len())
        .map(|i| (r[i], r[i] - r[i - 20..i].iter().sum::<f64>() / 20.0))
        .unzip();
    use qts_stats::significance::{Loss, diebold_mariano};
    for case in cases {
        let loss = match case["loss"].as_str().unwrap() {
            "squared" => Loss::Squared,
            _ => Loss::Absolute,
        };
        let h = case["horizon"].as_u64().unwrap() as usize;
        let d = diebold_mariano(&a, &b, h, loss).unwrap();
        let name = format!("{loss:?} h={h}");
        assert_eq!(
            d.periods as u64,
            case["periods"].as_u64().unwrap(),
            "{name}"
        );
        for (got, key) in [
            (d.mean_loss_a, "mean_loss_a"),
            (d.mean_loss_b, "mean_loss_b"),
            (d.statistic, "statistic"),
            (d.corrected, "corrected"),
            (d.p_value, "p_value"),
        ] {
            close_to(got, &case[key], &format!("{name} {key}"));
        }
    }
}

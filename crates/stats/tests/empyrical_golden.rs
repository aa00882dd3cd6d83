//! Return metrics against empyrical (and quantstats, for those empyrical lacks) on real daily
//! returns, to 1e-9 relative.
//! Golden file: scripts/golden/empyrical_metrics.py.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use qts_data::io::read_bars;
use qts_stats::metrics::{MetricsConfig, return_metrics, simple_returns};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn closes(name: &str) -> (Vec<chrono::NaiveDateTime>, Vec<f64>) {
    let b = read_bars(&root().join("../../examples/data").join(name)).unwrap();
    (b.time, b.close)
}

fn check(
    case: &str,
    r: &[f64],
    bench: Option<&[f64]>,
    rf: f64,
    golden: &serde_json::Value,
    metrics: usize,
) {
    let cfg = MetricsConfig {
        risk_free_annual: rf,
        ..MetricsConfig::default()
    };
    let got = return_metrics(r, bench, &cfg);
    let want = golden["cases"][case].as_object().unwrap();
    for (name, w) in want {
        let w = w.as_f64().unwrap();
        let g = got
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{case}: no metric {name}"))
            .as_f64();
        let err = (g - w).abs() / w.abs().max(1e-12);
        assert!(
            err <= 1e-9,
            "{case}: {name}: qts {g}, empyrical {w} (error {err:e})"
        );
    }
    // What the golden script writes: a cut fixture must not pass.
    assert_eq!(want.len(), metrics, "{case}: metrics in the fixture");
}

#[test]
fn return_metrics_match_empyrical() {
    let text = std::fs::read_to_string(root().join("tests/golden/empyrical_metrics.json")).unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (gt, gc) = closes("goog_daily.csv");
    let (st, sc) = closes("sp500_daily.csv");
    let r = simple_returns(&gc);
    // The benchmark's close on each of GOOG's dates.
    let at = |t: &chrono::NaiveDateTime| sc[st.binary_search(t).unwrap()];
    let bench_closes: Vec<f64> = gt.iter().map(at).collect();
    let b = simple_returns(&bench_closes);
    check("goog_vs_sp500_rf0", &r, Some(&b), 0.0, &golden, 24);
    check("goog_vs_sp500_rf2", &r, Some(&b), 0.02, &golden, 24);
    check("sp500_rf0", &simple_returns(&sc), None, 0.0, &golden, 21);
    assert_eq!(golden["cases"].as_object().unwrap().len(), 3);
}

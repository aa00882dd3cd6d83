//! The parameter search against backtesting.py's `Backtest.optimize` (fixture from
//! `scripts/golden/backtesting_py_optimize.py`): the same grid under backtesting.py's
//! execution rules picks the same parameters with the same final equity; and the search is the
//! same whatever the thread count.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use qts_backtest::Market;
use qts_backtest::engine::{EngineConfig, Execution};
use qts_backtest::report::{Settings, Stamp};
use qts_backtest::strategy::Registry;
use qts_config::QtsConfig;
use qts_data::io::read_bars;
use qts_data::validate::{Policy, require};
use qts_research::optimize::{Axis, Method, OptimizeReport, OptimizeRequest, optimize};
use qts_stats::metrics::Metric;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn search(file: &str, axes: &[Axis], cash: f64, commission: f64, method: Method) -> OptimizeReport {
    let cfg = QtsConfig::default();
    let bars = read_bars(&root().join("examples/data").join(file)).unwrap();
    let market = Market::new(vec![require(bars, file, Policy::of(&cfg)).unwrap()]).unwrap();
    let mut engine = EngineConfig::from_config(&cfg);
    engine.initial_capital = cash;
    engine.costs.commission_rate = commission;
    let settings = Settings {
        engine: engine.backtesting_py(),
        ..Settings::from_config(&cfg, Execution::BacktestingPy)
    };
    let registry = Registry::builtin();
    let req = OptimizeRequest {
        market: &market,
        registry: &registry,
        strategy: "sma-cross",
        axes,
        fixed: &[],
        signals: None,
        regime: &cfg.backtest.regime_filter,
        settings: &settings,
        maximize: Metric::FinalEquity,
        method,
        pbo_splits: 16,
        overfitting: true,
        stamp: Stamp::new(String::new(), String::new(), Vec::new()),
        budget: qts_core::budget::Budget::default(),
    };
    optimize(&req, &()).unwrap()
}

#[test]
fn the_best_parameters_and_equity_are_backtesting_pys() {
    let text = std::fs::read_to_string(
        root().join("crates/research/tests/golden/backtesting_py_optimize.json"),
    )
    .unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = golden.as_object().unwrap();
    assert_eq!(cases.len(), 3, "fixture cases");
    for (case, g) in cases {
        let axes = [
            Axis::parse(&format!("fast={}", g["fast"].as_str().unwrap())).unwrap(),
            Axis::parse(&format!("slow={}", g["slow"].as_str().unwrap())).unwrap(),
        ];
        let r = search(
            g["data"].as_str().unwrap(),
            &axes,
            g["cash"].as_f64().unwrap(),
            g["commission"].as_f64().unwrap(),
            Method::Grid,
        );
        assert_eq!(
            r.trials as u64,
            g["combinations"].as_u64().unwrap(),
            "{case}"
        );
        let p = serde_json::to_value(&r.best.params).unwrap();
        assert_eq!(p["fast"], g["best_fast"], "{case}");
        assert_eq!(p["slow"], g["best_slow"], "{case}");
        let got = r.best.metrics["final_equity"].as_f64();
        let want = g["final_equity"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "{case}: final equity {got} vs backtesting.py {want}"
        );
        assert!(
            r.deflated_sharpe_ratio.is_some() && r.probability_of_backtest_overfitting.is_some()
        );
    }
}

#[test]
fn the_search_is_the_same_on_one_thread_and_a_random_sample_is_seeded() {
    let axes = [
        Axis::parse("fast=5:30:5").unwrap(),
        Axis::parse("slow=20:80:10").unwrap(),
    ];
    let many = search("goog_daily.csv", &axes, 10_000.0, 0.002, Method::Grid);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| search("goog_daily.csv", &axes, 10_000.0, 0.002, Method::Grid));
    assert_eq!(many.trials_csv(), one.trials_csv());
    assert_eq!(many.trial_returns_csv(), one.trial_returns_csv());
    assert_eq!(
        serde_json::to_string(&many).unwrap(),
        serde_json::to_string(&one).unwrap()
    );
    let random = |seed| {
        search(
            "goog_daily.csv",
            &axes,
            10_000.0,
            0.002,
            Method::Random { trials: 10, seed },
        )
    };
    let (a, b, c) = (random(7), random(7), random(8));
    assert_eq!(a.trials + a.skipped, 10);
    assert_eq!(a.trials_csv(), b.trials_csv());
    assert_ne!(a.trials_csv(), c.trials_csv());
}

#[test]
fn walk_forward_never_looks_past_a_test_window() {
    use qts_research::walk_forward::{Schedule, walk_forward};
    let cfg = QtsConfig::default();
    let path = root().join("examples/data/goog_daily.csv");
    let policy = Policy {
        checks: &qts_config::QualityConfig {
            outliers: false,
            splits: false,
            ..cfg.data.quality.clone()
        },
        ..Policy::of(&cfg)
    };
    let bars = read_bars(&path).unwrap();
    let schedule = Schedule {
        train: 400,
        test: 200,
        step: 200,
        anchored: false,
    };
    let axes = [
        Axis::parse("fast=5:25:5").unwrap(),
        Axis::parse("slow=30:90:30").unwrap(),
    ];
    let run = |bars: qts_data::BarSeries| {
        let market = Market::new(vec![require(bars, "goog", policy).unwrap()]).unwrap();
        let settings = Settings::from_config(&cfg, Execution::Default);
        let registry = Registry::builtin();
        let req = OptimizeRequest {
            market: &market,
            registry: &registry,
            strategy: "sma-cross",
            axes: &axes,
            fixed: &[],
            signals: None,
            regime: &cfg.backtest.regime_filter,
            settings: &settings,
            maximize: Metric::SharpeRatio,
            method: Method::Grid,
            pbo_splits: 16,
            overfitting: false,
            stamp: Stamp::new(String::new(), String::new(), Vec::new()),
            budget: qts_core::budget::Budget::default(),
        };
        walk_forward(&req, &schedule, &()).unwrap()
    };
    let a = run(bars.clone());
    assert!(a.windows.len() >= 8, "{} windows", a.windows.len());
    // Change every bar after the third test window's end.
    let cut = 400 + 3 * 200;
    let mut changed = bars;
    for i in cut..changed.len() {
        let p = 200.0 + (i % 11) as f64 * 3.0;
        (
            changed.open[i],
            changed.high[i],
            changed.low[i],
            changed.close[i],
        ) = (p, p + 2.0, p - 2.0, p);
    }
    let b = run(changed);
    assert_eq!(a.windows[..3], b.windows[..3]);
    assert_ne!(
        a.windows[3..],
        b.windows[3..],
        "the change must matter later"
    );
    let end = &a.windows[2].test_end;
    let upto = |r: &qts_research::walk_forward::WalkForwardReport| {
        r.oos_equity
            .iter()
            .take_while(|(d, _, _)| d <= end)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(upto(&a).len(), 600);
    assert_eq!(upto(&a), upto(&b));
}

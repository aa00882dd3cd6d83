//! backtesting.py's quick-start SmaCross reproduced with its execution rules: the trade list
//! and the equity curve, and the statistics both define the same way, each to 10× the error
//! measured (2026-12-02: money and statistics ≤ 2.3e-15 relative, a trade's return 1.1e-13 —
//! a small number divided by another).
//! Golden files: scripts/golden/backtesting_py_smacross.py.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use qts_backtest::engine::{EngineConfig, run};
use qts_backtest::strategy::SmaCross;
use qts_backtest::summary::summarize;
use qts_config::QtsConfig;
use qts_data::io::read_bars;
use qts_stats::metrics::MetricsConfig;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn csv_rows(path: &Path) -> Vec<Vec<f64>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(|c| c.parse().unwrap()).collect())
        .collect()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    let err = (got - want).abs() / want.abs().max(1e-9);
    assert!(
        err <= tol,
        "{what}: qts {got}, backtesting.py {want} (error {err:e})"
    );
}

fn case(name: &str, data: &str, fast: usize, slow: usize, cash: f64, commission: f64) {
    let bars = read_bars(&root().join("../../examples/data").join(data)).unwrap();
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    cfg.initial_capital = cash;
    cfg.costs.commission_rate = commission;
    let cfg = cfg.backtesting_py();
    let result = run(
        std::slice::from_ref(&bars),
        &mut SmaCross::new(fast, slow).unwrap(),
        &cfg,
    )
    .unwrap();
    let golden = root().join("tests/golden");

    let trades = csv_rows(&golden.join(format!("{name}_trades.csv")));
    // Like backtesting.py (without finalize_trades), a trade still open at the end is not in
    // the trade list; the equity curve values it at each close.
    assert_eq!(result.trades.len(), trades.len(), "{name}: trade count");
    for (i, (g, w)) in result.trades.iter().zip(&trades).enumerate() {
        let what = |f: &str| format!("{name}: trade {i} {f}");
        assert_eq!(g.entry_bar as f64, w[0], "{}", what("entry bar"));
        assert_eq!(g.exit_bar as f64, w[1], "{}", what("exit bar"));
        let signed = if g.side == "long" { g.size } else { -g.size };
        assert_eq!(signed, w[2], "{}", what("size"));
        close(&what("entry price"), g.entry_price, w[3], 1e-12);
        close(&what("exit price"), g.exit_price, w[4], 1e-12);
        close(&what("pnl"), g.pnl, w[5], 1e-14);
        close(&what("return"), g.ret, w[6], 1e-12);
        close(&what("commission"), g.commission, w[7], 1e-14);
    }
    let equity = csv_rows(&golden.join(format!("{name}_equity.csv")));
    assert_eq!(equity.len(), result.equity.len());
    for (i, (g, w)) in result.equity.iter().zip(&equity).enumerate() {
        close(&format!("{name}: equity[{i}]"), *g, w[0], 1e-14);
    }

    let stats: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden.join(format!("{name}_stats.json"))).unwrap(),
    )
    .unwrap();
    let m = summarize(&result, &bars.close, None, &MetricsConfig::default());
    for key in [
        "final_equity",
        "total_return",
        "buy_and_hold_return",
        "max_drawdown",
        "win_rate",
        "best_trade",
        "worst_trade",
        "avg_trade",
        "profit_factor",
        "expectancy",
        "sqn",
        "kelly_criterion",
    ] {
        let want = stats[key].as_f64().unwrap();
        close(&format!("{name}: {key}"), m[key].as_f64(), want, 3e-14);
    }
    // backtesting.py's `Commissions [$]` sums the closed trades' commissions; qts's
    // `total_commission` is every commission paid, so it also holds the entry commission of a
    // position still open at the end (docs/backtest.md, "Where the two define a statistic
    // differently").
    let open_entry: f64 = if result.open_positions.is_empty() {
        0.0
    } else {
        result.fills.last().map_or(0.0, |f| f.commission)
    };
    close(
        &format!("{name}: total_commission less the open position's entry"),
        m["total_commission"].as_f64() - open_entry,
        stats["total_commission"].as_f64().unwrap(),
        1e-13,
    );
}

#[test]
fn quick_start_goog_10_20() {
    case("goog_10_20", "goog_daily.csv", 10, 20, 10_000.0, 0.002);
}

#[test]
fn other_parameters_goog_5_30() {
    case("goog_5_30", "goog_daily.csv", 5, 30, 25_000.0, 0.001);
}

#[test]
fn other_data_sp500_20_50() {
    case(
        "sp500_20_50",
        "sp500_daily.csv",
        20,
        50,
        1_000_000.0,
        0.0005,
    );
}

#[test]
fn an_exact_tie_of_the_averages_goog_5_25() {
    // GOOG's 5- and 25-day averages are both 489.242 on 2010-08-17: 2010-08-18 is a cross
    // below only if rounding says the 5-day one was above; pandas (backtesting.py's averages)
    // says they are equal, and qts's crossover computes them as pandas does.
    case("goog_5_25", "goog_daily.csv", 5, 25, 25_000.0, 0.001);
}

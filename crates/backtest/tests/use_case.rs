//! The backtest use case as a front end calls it: a strategy added to the registry in one
//! place (here, a test) is built and backtested by the same path as the shipped ones, and the
//! report carries every metric name that the configuration accepts in `metrics.report`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use qts_backtest::engine::Execution;
use qts_backtest::report::{Settings, Stamp};
use qts_backtest::strategy::registry::{Default, Entry, Inputs, Param};
use qts_backtest::strategy::{Action, Context, Registry, Strategy};
use qts_backtest::{Market, backtest};
use qts_core::config::{KNOWN_METRICS, QtsConfig};
use qts_data::io::{read_bars, read_returns};
use qts_data::validate::{Policy, require};

/// A toy strategy: long after `up` closes in a row above the previous one, flat after as many
/// below.
struct Streak {
    up: usize,
    run: i64,
}

impl Strategy for Streak {
    fn name(&self) -> String {
        format!("streak({})", self.up)
    }
    fn warmup(&self) -> usize {
        1
    }
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        let c = ctx.close(0);
        let t = ctx.t();
        self.run = match (c[t] > c[t - 1], self.run) {
            (true, r) if r >= 0 => r + 1,
            (true, _) => 1,
            (false, r) if r <= 0 => r - 1,
            (false, _) => -1,
        };
        let n = self.up as i64;
        let strength = if self.run == n {
            1.0
        } else if self.run == -n {
            0.0
        } else {
            return Vec::new();
        };
        vec![Action::Target {
            symbol: 0,
            strength,
            forecast: None,
        }]
    }
}

fn market(cfg: &QtsConfig) -> Market {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/goog_daily.csv");
    let bars = read_bars(&path).unwrap();
    Market::new(vec![require(bars, "goog", Policy::of(cfg)).unwrap()]).unwrap()
}

fn stamp() -> Stamp {
    Stamp::new("data".into(), "config".into(), vec!["goog".into()])
}

#[test]
fn a_strategy_registered_in_one_place_runs_through_the_same_path() {
    let registry = Registry::builtin().with(Entry {
        name: "streak",
        params: &[Param {
            name: "up",
            default: Default::Int(3),
        }],
        build: |p, _| {
            Ok(Box::new(Streak {
                up: p.int("up")?,
                run: 0,
            }))
        },
    });
    assert!(registry.names().contains(&"streak"));
    let cfg = QtsConfig::default();
    let pairs = vec![("up".to_string(), "4".to_string())];
    let mut strategy = registry
        .build(
            "streak",
            &pairs,
            &mut Inputs::default(),
            &cfg.backtest.regime_filter,
        )
        .unwrap();
    assert_eq!(strategy.name(), "streak(4)");
    let market = market(&cfg);
    let settings = Settings::from_config(&cfg, Execution::BacktestingPy);
    let report = backtest(&market, strategy.as_mut(), &settings, None, stamp()).unwrap();
    let r = &report.result;
    assert!(r.trades.len() > 20, "{} trades", r.trades.len());
    // Every fill is at the open of the bar after a four-close streak (backtesting.py's rules:
    // decide at the close, fill at the next open).
    let closes = &market.bars()[0].close;
    let opens = &market.bars()[0].open;
    for f in &r.fills {
        assert_eq!(
            f.price, opens[f.bar],
            "fill at bar {} is not at its open",
            f.bar
        );
        let d = f.bar - 1;
        let rising = (d - 3..=d).all(|i| closes[i] > closes[i - 1]);
        let falling = (d - 3..=d).all(|i| closes[i] <= closes[i - 1]);
        assert!(rising || falling, "fill at bar {} follows no streak", f.bar);
    }
    assert_eq!(report.strategy, "streak(4)");
    assert_eq!(report.execution, Execution::BacktestingPy);
    // The same strategy name is unknown to the shipped registry, with the list of names.
    let e = Registry::builtin()
        .build(
            "streak",
            &pairs,
            &mut Inputs::default(),
            &cfg.backtest.regime_filter,
        )
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "unknown strategy `streak`; known: buy-and-hold, sma-cross, signal"
    );
}

#[test]
fn every_reported_metric_is_a_name_metrics_report_accepts() {
    let cfg = QtsConfig::default();
    let market = market(&cfg);
    let bench_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/sp500_daily.csv");
    let bench = read_returns(&bench_path).unwrap();
    let mut strategy = Registry::builtin()
        .build(
            "sma-cross",
            &[],
            &mut Inputs::default(),
            &cfg.backtest.regime_filter,
        )
        .unwrap();
    let settings = Settings::from_config(&cfg, Execution::Default);
    // GOOG's dates are a subset of the S&P 500's, so every return has a benchmark return.
    let report = backtest(
        &market,
        strategy.as_mut(),
        &settings,
        Some(qts_backtest::report::Benchmark {
            series: &bench,
            source: "sp500",
        }),
        stamp(),
    )
    .unwrap();
    let produced: BTreeSet<&str> = report.metrics.keys().copied().collect();
    let known: BTreeSet<&str> = KNOWN_METRICS.iter().copied().collect();
    assert_eq!(
        produced.difference(&known).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "printed but refused by metrics.report"
    );
    assert_eq!(
        known.difference(&produced).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "accepted by metrics.report but never computed"
    );
    // A report selection keeps the user's order.
    let picked = report.selected(&["sharpe_ratio".into(), "alpha".into(), "cagr".into()]);
    let names: Vec<&str> = picked.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["sharpe_ratio", "alpha", "cagr"]);
}

//! The backtest use case as a front end calls it: a strategy added to the registry in one
//! place (here, a test) is built and backtested by the same path as the shipped ones, and the
//! report carries every metric name that the configuration accepts in `metrics.report`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use qts_backtest::engine::Execution;
use qts_backtest::report::{Settings, Stamp};
use qts_backtest::strategy::registry::{Entry, Inputs, Param};
use qts_backtest::strategy::{Action, Context, Registry, Strategy};
use qts_backtest::{Market, backtest};
use qts_config::{KNOWN_METRICS, QtsConfig};
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
        params: {
            const UP: &[Param] = &[Param::int("up", 3)];
            UP
        },
        build: |p, _| {
            Ok(Box::new(Streak {
                up: p.int("up")?,
                run: 0,
            }))
        },
        overlays: true,
        needs_signals: false,
        sizes: false,
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
        "unknown strategy `streak`; known: buy-and-hold, sma-cross, signal, equal-weight, rank"
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
    let produced: BTreeSet<&str> = report.metrics.keys().map(|m| m.key()).collect();
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

mod window {
    use super::*;
    use chrono::NaiveDate;
    use qts_backtest::report::Window;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn run(
        cfg: &QtsConfig,
        market: &Market,
        window: Window,
        execution: Execution,
    ) -> qts_backtest::BacktestReport {
        let mut strategy = Registry::builtin()
            .build(
                "sma-cross",
                &[],
                &mut Inputs::default(),
                &cfg.backtest.regime_filter,
            )
            .unwrap();
        let settings = Settings {
            window,
            ..Settings::from_config(cfg, execution)
        };
        backtest(market, strategy.as_mut(), &settings, None, stamp()).unwrap()
    }

    #[test]
    fn trades_only_inside_the_window_and_measures_only_it() {
        let cfg = QtsConfig::default();
        let market = market(&cfg);
        let time = &market.bars()[0].time;
        let window = Window {
            from: Some(day("2008-01-01")),
            to: Some(day("2010-12-31")),
        };
        let (from, until) = window.bars(time).unwrap();
        assert_eq!(
            time[from].date(),
            day("2008-01-02"),
            "first trading day of 2008"
        );
        assert_eq!(time[until - 1].date(), day("2010-12-31"));
        for execution in [Execution::Default, Execution::BacktestingPy] {
            let report = run(&cfg, &market, window, execution);
            let r = &report.result;
            assert_eq!(r.first_bar, from);
            assert_eq!(r.time.first(), Some(&time[from]));
            assert_eq!(r.time.last(), Some(&time[until - 1]));
            assert_eq!(r.equity.len(), until - from);
            assert_eq!(
                r.equity[0], cfg.backtest.initial_capital,
                "flat at the start"
            );
            assert!(!r.fills.is_empty(), "{execution:?} traded nothing");
            for f in &r.fills {
                assert!(
                    f.bar > from && f.bar < until,
                    "fill at bar {} outside",
                    f.bar
                );
            }
            assert_eq!(report.start.as_deref(), Some("2008-01-02"));
            assert_eq!(report.end.as_deref(), Some("2010-12-31"));
            let m = |k: &str| report.metrics[k].as_f64();
            assert_eq!(m("num_bars"), (until - from) as f64);
            let last = *r.equity.last().unwrap();
            assert!((m("total_return") - (last / r.equity[0] - 1.0)).abs() < 1e-15);
            let close = &market.bars()[0].close;
            let bh = close[until - 1] / close[from] - 1.0;
            assert!(
                (m("buy_and_hold_return") - bh).abs() < 1e-15,
                "{} vs {bh}",
                m("buy_and_hold_return")
            );
        }
    }

    #[test]
    fn bars_after_the_window_are_never_read() {
        let cfg = QtsConfig::default();
        let market = market(&cfg);
        let window = Window {
            from: Some(day("2006-06-01")),
            to: Some(day("2009-06-30")),
        };
        let a = run(&cfg, &market, window, Execution::Default);
        // Scramble every bar after the window's end (keeping them valid bars).
        let mut bars = market.bars()[0].clone();
        let (_, until) = window.bars(&bars.time).unwrap();
        for i in until..bars.len() {
            let p = 10.0 + (i % 7) as f64;
            (bars.open[i], bars.high[i], bars.low[i], bars.close[i]) = (p, p + 1.0, p - 1.0, p);
        }
        let scrambled = Market::new(vec![
            require(
                bars,
                "x",
                Policy {
                    checks: &qts_config::QualityConfig {
                        fail_on: qts_config::Severity::Error,
                        outliers: false,
                        splits: false,
                        ..cfg.data.quality.clone()
                    },
                    ..Policy::of(&cfg)
                },
            )
            .unwrap(),
        ])
        .unwrap();
        let b = run(&cfg, &scrambled, window, Execution::Default);
        assert_eq!(a.result.equity, b.result.equity);
        assert_eq!(a.result.fills, b.result.fills);
        assert_eq!(
            serde_json::to_string(&a.metrics).unwrap(),
            serde_json::to_string(&b.metrics).unwrap()
        );
    }

    #[test]
    fn the_warm_up_keeps_the_strategy_state() {
        // Under qts's rules a standing target from before the window is held at the first
        // rebalance inside it: GOOG's 10-day SMA crossed above the 20-day on 2009-03-23 and
        // stayed above until 2009-05-22, so a window opening on 2009-04-01 is invested in its
        // first week. backtesting.py's rules act on new signals only: their first trade waits
        // for the cross of 2009-05-22.
        let cfg = QtsConfig::default();
        let market = market(&cfg);
        let window = Window {
            from: Some(day("2009-04-01")),
            to: Some(day("2009-12-31")),
        };
        let report = run(&cfg, &market, window, Execution::Default);
        let first = report.result.fills.first().unwrap();
        assert!(first.size > 0.0);
        assert!(
            first.time.date() <= day("2009-04-08"),
            "first fill {}",
            first.time.date()
        );
        let report = run(&cfg, &market, window, Execution::BacktestingPy);
        let first = report.result.fills.first().unwrap();
        assert_eq!(
            first.time.date(),
            day("2009-05-26"),
            "the open after the cross"
        );
        assert!(first.size < 0.0, "the cross of 2009-05-22 is down");
    }

    #[test]
    fn a_window_outside_the_data_or_reversed_is_refused() {
        let cfg = QtsConfig::default();
        let market = market(&cfg);
        let time = &market.bars()[0].time;
        let e = Window {
            from: Some(day("2012-01-01")),
            to: Some(day("2011-01-01")),
        }
        .bars(time)
        .unwrap_err()
        .to_string();
        assert_eq!(e, "--from 2012-01-01 is after --to 2011-01-01");
        let e = Window {
            from: Some(day("2020-01-01")),
            to: None,
        }
        .bars(time)
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("holds 0 bar(s) of the data (2004-08-19 .. 2013-03-01)"),
            "{e}"
        );
    }
}

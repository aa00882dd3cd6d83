//! A decision is the backtest's own step: for every close of a year of the sample data, the
//! decision taken with the bars up to that close places exactly the orders the full backtest
//! placed at that close, from the same positions, cash and equity; and changing the bars after
//! the close changes nothing.

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use std::path::Path;

use chrono::NaiveDate;
use qts_backtest::engine::Execution;
use qts_backtest::order::{OrderStatus, Reason};
use qts_backtest::report::{Settings, Stamp};
use qts_backtest::strategy::registry::Inputs;
use qts_backtest::strategy::{Registry, Strategy};
use qts_backtest::{BacktestError, DecideRequest, Market, decide};
use qts_config::{ConfigLoader, QtsConfig};
use qts_core::config::Environment;
use qts_data::BarSeries;
use qts_data::io::read_bars;
use qts_data::validate::{Policy, require};

fn shipped_config(overrides: &[&str]) -> QtsConfig {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut loader = ConfigLoader::from_dir(&dir);
    for o in overrides {
        loader = loader.override_value(*o);
    }
    loader
        .load(&Environment::from_vars::<[(&str, &str); 0], _, _>([]))
        .unwrap()
        .config
}

fn goog() -> BarSeries {
    read_bars(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/goog_daily.csv"))
        .unwrap()
}

fn market(bars: BarSeries, cfg: &QtsConfig) -> Market {
    Market::new(vec![require(bars, "goog", Policy::of(cfg)).unwrap()]).unwrap()
}

fn strategy(name: &str, params: &[(&str, &str)], cfg: &QtsConfig) -> Box<dyn Strategy> {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Registry::builtin()
        .build(
            name,
            &params,
            &mut Inputs {
                symbols: 1,
                signals: None,
            },
            &cfg.backtest.regime_filter,
        )
        .unwrap()
}

fn stamp() -> Stamp {
    Stamp::new(String::new(), String::new(), Vec::new())
}

fn request(as_of: NaiveDate) -> DecideRequest {
    DecideRequest {
        as_of,
        trade_from: None,
        stale_after_days: 0,
    }
}

fn protective(r: Reason) -> bool {
    matches!(
        r,
        Reason::StopLoss | Reason::TakeProfit | Reason::TrailingStop | Reason::AtrStop
    )
}

/// Every close of the last year: the decision's new orders and positions equal the full
/// backtest's at that close.
fn decide_equals_backtest(cfg: &QtsConfig, name: &str, params: &[(&str, &str)]) -> (usize, usize) {
    let bars = goog();
    let m = market(bars.clone(), cfg);
    let settings = Settings::from_config(cfg, Execution::Default);
    let full = qts_backtest::run(
        m.bars(),
        strategy(name, params, cfg).as_mut(),
        &settings.engine,
    )
    .unwrap();
    let n = bars.len();
    let mut orders_seen = 0;
    let mut targets_checked = 0;
    for t in n - 252..n - 1 {
        let day = bars.time[t].date();
        let d = decide(
            &m,
            strategy(name, params, cfg).as_mut(),
            &settings,
            &request(day),
            stamp(),
        )
        .unwrap();
        assert_eq!(d.as_of, day.to_string());
        // The backtest's orders placed at this close, in order (protective exits are not
        // placed at a close: they fill inside the bar that reaches their level).
        let placed: Vec<_> = full
            .orders
            .iter()
            .filter(|r| r.order.submitted_bar == t && !protective(r.order.reason))
            .map(|r| (r.order.id, r.order.size, r.order.kind, r.order.reason))
            .collect();
        let decided: Vec<_> = d
            .result
            .orders
            .iter()
            .filter(|r| r.status == OrderStatus::Open && r.order.submitted_bar == t)
            .map(|r| (r.order.id, r.order.size, r.order.kind, r.order.reason))
            .collect();
        assert_eq!(decided, placed, "orders decided at {day}");
        let new_lines: Vec<_> = d
            .orders
            .iter()
            .filter(|o| o.decided == day.to_string())
            .collect();
        assert_eq!(new_lines.len(), placed.len(), "order lines at {day}");
        for (line, p) in new_lines.iter().zip(&placed) {
            assert_eq!(line.shares, p.1.abs());
            assert_eq!(line.side, if p.1 > 0.0 { "buy" } else { "sell" });
        }
        orders_seen += placed.len();
        // The same account at that close: equity, cash and shares.
        assert_eq!(d.equity, full.equity[t], "equity at {day}");
        assert_eq!(d.cash, full.cash[t], "cash at {day}");
        let held: f64 = full
            .fills
            .iter()
            .filter(|f| f.bar <= t)
            .map(|f| f.size)
            .sum();
        assert!(
            (d.positions[0].shares - held).abs() < 1e-9,
            "shares at {day}: {} vs {held}",
            d.positions[0].shares
        );
        // The decision's target is what the backtest holds after the next open's fills.
        let after: f64 = full
            .fills
            .iter()
            .filter(|f| f.bar <= t + 1 && f.reason.as_str() == "rebalance")
            .map(|f| f.size)
            .sum::<f64>()
            + full
                .fills
                .iter()
                .filter(|f| f.bar <= t && f.reason.as_str() != "rebalance")
                .map(|f| f.size)
                .sum::<f64>();
        let market_fills_next = full
            .fills
            .iter()
            .filter(|f| f.bar == t + 1 && f.reason.as_str() == "rebalance")
            .count();
        let capped = full
            .orders
            .iter()
            .any(|r| r.order.submitted_bar == t && r.status == OrderStatus::PartiallyFilled);
        if market_fills_next > 0 && !capped {
            assert!(
                (d.positions[0].target_shares - after).abs() < 1e-9,
                "target at {day}: {} vs {after}",
                d.positions[0].target_shares
            );
            targets_checked += 1;
        }
    }
    (orders_seen, targets_checked)
}

#[test]
fn decide_equals_backtest_with_the_shipped_rules() {
    // Weekly rebalancing, volatility sizing, the 8% stop, the breaker: the shipped defaults.
    let cfg = shipped_config(&[]);
    let (seen, targets) =
        decide_equals_backtest(&cfg, "sma-cross", &[("fast", "10"), ("slow", "20")]);
    assert!(
        seen >= 10,
        "a year of weekly decisions places orders: {seen}"
    );
    assert!(targets >= 5, "targets checked: {targets}");
}

#[test]
fn decide_equals_backtest_daily_with_trailing_and_take_profit() {
    let cfg = shipped_config(&[
        "trading.rebalance=daily",
        "backtest.risk.trailing_stop.enabled=true",
        "backtest.risk.take_profit.enabled=true",
        "backtest.risk.atr_stop.enabled=true",
    ]);
    let (seen, targets) =
        decide_equals_backtest(&cfg, "sma-cross", &[("fast", "5"), ("slow", "15")]);
    assert!(seen >= 10, "{seen}");
    assert!(targets >= 5, "targets checked: {targets}");
}

#[test]
fn the_bars_after_the_close_are_never_read() {
    let cfg = shipped_config(&[]);
    let bars = goog();
    let n = bars.len();
    let as_of = bars.time[n - 60].date();
    let settings = Settings::from_config(&cfg, Execution::Default);
    let run = |b: BarSeries| {
        decide(
            &market(b, &cfg),
            strategy("sma-cross", &[("fast", "10"), ("slow", "20")], &cfg).as_mut(),
            &settings,
            &request(as_of),
            stamp(),
        )
        .unwrap()
    };
    let honest = run(bars.clone());
    let mut future = bars.clone();
    for i in n - 59..n {
        future.close[i] *= 3.0;
        future.high[i] *= 3.0;
        future.open[i] *= 3.0;
        future.low[i] *= 3.0;
    }
    let mut changed = run(future);
    // Validation is the caller's (the CLI validates the bars up to the close only): the
    // tripled prices are findings of the changed file, not of the decision.
    changed.validation = honest.validation;
    assert_eq!(
        serde_json::to_string(&honest).unwrap(),
        serde_json::to_string(&changed).unwrap()
    );
    // And a history cut at the close decides the same.
    let mut cut = run(bars.through(as_of));
    cut.validation = honest.validation;
    assert_eq!(
        serde_json::to_string(&honest).unwrap(),
        serde_json::to_string(&cut).unwrap()
    );
}

#[test]
fn the_next_session_skips_weekends_and_holidays() {
    let cfg = shipped_config(&[]);
    let settings = Settings::from_config(&cfg, Execution::Default);
    let m = market(goog(), &cfg);
    // Friday 2012-11-16 -> Monday 19th; Wednesday 2012-11-21 -> Friday 23rd (Thanksgiving).
    for (as_of, next) in [("2012-11-16", "2012-11-19"), ("2012-11-21", "2012-11-23")] {
        let d = decide(
            &m,
            strategy("buy-and-hold", &[], &cfg).as_mut(),
            &settings,
            &request(as_of.parse().unwrap()),
            stamp(),
        )
        .unwrap();
        assert_eq!(d.next_session, next);
        assert_eq!(d.as_of, as_of);
    }
    // A hold says when the schedule (weekly, Monday) acts next: the Monday after a Friday
    // session, the Tuesday after Martin Luther King Day.
    for (as_of, next, rebalance) in [
        ("2012-11-16", "2012-11-19", None),
        ("2012-11-21", "2012-11-23", Some("2012-11-26")),
        ("2013-01-16", "2013-01-17", Some("2013-01-22")),
    ] {
        let d = decide(
            &m,
            strategy("buy-and-hold", &[], &cfg).as_mut(),
            &settings,
            &request(as_of.parse().unwrap()),
            stamp(),
        )
        .unwrap();
        assert_eq!(d.next_session, next);
        assert_eq!(d.rebalance_day, rebalance.is_none(), "{as_of}");
        assert_eq!(d.next_rebalance.as_deref(), rebalance, "{as_of}");
    }
}

#[test]
fn stale_data_is_refused_with_the_dates() {
    let cfg = shipped_config(&[]);
    let settings = Settings::from_config(&cfg, Execution::Default);
    let m = market(goog(), &cfg);
    let last = m.bars()[0].time.last().unwrap().date();
    let err = decide(
        &m,
        strategy("buy-and-hold", &[], &cfg).as_mut(),
        &settings,
        &DecideRequest {
            as_of: last + chrono::Days::new(7),
            trade_from: None,
            stale_after_days: 2,
        },
        stamp(),
    )
    .unwrap_err();
    assert!(
        matches!(err, BacktestError::Stale { sessions: 5, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&last.to_string()), "{err}");
    // One session behind is within a limit of 2.
    let d = decide(
        &m,
        strategy("buy-and-hold", &[], &cfg).as_mut(),
        &settings,
        &DecideRequest {
            as_of: qts_data::calendar::next_trading_day(last),
            trade_from: None,
            stale_after_days: 2,
        },
        stamp(),
    )
    .unwrap();
    assert_eq!(d.as_of, last.to_string());
    // Decided at the last close, so for the session right after it (the day asked for), not
    // for the session after that day.
    assert_eq!(
        d.next_session,
        qts_data::calendar::next_trading_day(last).to_string()
    );
}

#[test]
fn fills_at_the_close_cannot_be_decided_for_the_next_open() {
    let cfg = shipped_config(&["backtest.execution.fill_price=close"]);
    let settings = Settings::from_config(&cfg, Execution::Default);
    let m = market(goog(), &cfg);
    let err = decide(
        &m,
        strategy("buy-and-hold", &[], &cfg).as_mut(),
        &settings,
        &request("2013-01-04".parse().unwrap()),
        stamp(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("fill_price"), "{err}");
}

#[test]
fn the_sizing_chain_ends_in_the_target_the_orders_trade_to() {
    let cfg = shipped_config(&[]);
    let settings = Settings::from_config(&cfg, Execution::Default);
    let m = market(goog(), &cfg);
    let mut seen = 0;
    for as_of in [
        "2012-06-01",
        "2012-09-14",
        "2013-02-22",
        "2013-03-01",
        "2011-08-05",
    ] {
        let d = decide(
            &m,
            strategy("sma-cross", &[], &cfg).as_mut(),
            &settings,
            &request(as_of.parse().unwrap()),
            stamp(),
        )
        .unwrap();
        if !d.rebalance_day || d.cooling_down {
            assert!(d.sizing.is_empty(), "{as_of}");
            continue;
        }
        for z in &d.sizing {
            let p = d.positions.iter().find(|p| p.symbol == z.symbol).unwrap();
            assert_eq!(z.shares, p.target_shares, "{as_of}: {z:?} vs {p:?}");
            assert!(z.weight.abs() <= z.cap + 1e-12);
            assert_eq!(z.method, "volatility_scaled");
            // The method's weight is the strength scaled to the target volatility.
            let v = z.annual_volatility.unwrap();
            assert!((z.sized - z.strength * 0.15 / v).abs() < 1e-12, "{z:?}");
            seen += 1;
        }
    }
    assert!(seen >= 2, "rebalance days with a target: {seen}");
}

#[test]
fn holdings_take_a_real_account_to_the_same_targets() {
    use qts_backtest::decide::Holdings;
    let cfg = shipped_config(&[]);
    let settings = Settings::from_config(&cfg, Execution::Default);
    let m = market(goog(), &cfg);
    let symbols = vec!["goog_daily".to_string()];
    // Errors name the file and line.
    for (text, said) in [
        (
            "sym,qty\nCASH,1\n",
            "h.csv: the first line must be the header `symbol,shares`",
        ),
        (
            "symbol,shares\ngoog_daily,x\nCASH,1\n",
            "h.csv:2: `x` is not a number",
        ),
        (
            "symbol,shares\nAAPL,3\nCASH,1\n",
            "h.csv:2: `AAPL` is not a symbol this decision trades",
        ),
        (
            "symbol,shares\ngoog_daily,1\ngoog_daily,2\nCASH,1\n",
            "h.csv:3: `goog_daily` is listed twice",
        ),
        (
            "symbol,shares\ngoog_daily,1\n",
            "h.csv: no `CASH,amount` line",
        ),
    ] {
        let e = Holdings::parse("h.csv", text, &symbols)
            .unwrap_err()
            .to_string();
        assert!(e.contains(said), "{e}");
    }
    let holdings = Holdings::parse(
        "h.csv",
        "symbol,shares\ngoog_daily,10\ncash,5000\n",
        &symbols,
    )
    .unwrap();
    let d = decide(
        &m,
        strategy("sma-cross", &[], &cfg).as_mut(),
        &settings,
        &request("2013-02-22".parse().unwrap()),
        stamp(),
    )
    .unwrap();
    assert!(d.rebalance_day && !d.sizing.is_empty());
    let weight = d.sizing[0].weight;
    let close = d.positions[0].close;
    let mine = d.for_holdings(&holdings, &settings.engine);
    assert_eq!(mine.account, "holdings");
    let equity = 5000.0 + 10.0 * close;
    assert!((mine.equity - equity).abs() < 1e-9);
    let target = (weight * equity / close).floor();
    assert_eq!(mine.positions[0].shares, 10.0);
    assert_eq!(mine.positions[0].target_shares, target);
    assert_eq!(mine.sizing[0].shares, target);
    assert_eq!(mine.orders.len(), 1);
    let o = &mine.orders[0];
    assert_eq!(
        (o.side.as_str(), o.shares),
        (
            if target < 10.0 { "sell" } else { "buy" },
            (target - 10.0).abs()
        )
    );
    assert!(
        mine.positions[0].stop.is_none(),
        "the replay's stop is not this account's"
    );
}

/// A universe with a late listing, a missing day and a delisting under `rank`: at every
/// close of a year that holds all three, the decision places the backtest's orders from the
/// backtest's account.
#[test]
fn decide_equals_backtest_on_a_universe_that_lists_and_delists() {
    use chrono::Datelike;
    let cfg = shipped_config(&["trading.fractional_shares=true"]);
    let base = goog();
    // Three symbols from GOOG's bars (scaled differently so they rank differently): B lists
    // on 2012-04-02 and misses 2012-06-15, C is delisted after 2012-09-28.
    let variant = |symbol: &str, scale: f64, keep: &dyn Fn(NaiveDate) -> bool| {
        let mut b = base.clone();
        b.symbol = symbol.into();
        let k: Vec<bool> = b.time.iter().map(|t| keep(t.date())).collect();
        let pick = |v: &[f64], f: f64| -> Vec<f64> {
            v.iter()
                .zip(&k)
                .enumerate()
                .filter(|(_, (_, k))| **k)
                .map(|(i, (x, _))| x * f * (1.0 + 0.002 * ((i % 7) as f64)))
                .collect()
        };
        let (o, h, l, c) = (
            pick(&b.open, scale),
            pick(&b.high, scale),
            pick(&b.low, scale),
            pick(&b.close, scale),
        );
        b.high = o
            .iter()
            .zip(&h)
            .zip(&c)
            .map(|((o, h), c)| h.max(*o).max(*c))
            .collect();
        b.low = o
            .iter()
            .zip(&l)
            .zip(&c)
            .map(|((o, l), c)| l.min(*o).min(*c))
            .collect();
        b.open = o;
        b.close = c;
        b.volume = b
            .volume
            .iter()
            .zip(&k)
            .filter(|(_, k)| **k)
            .map(|(v, _)| *v)
            .collect();
        b.time = b
            .time
            .iter()
            .zip(&k)
            .filter(|(_, k)| **k)
            .map(|(t, _)| *t)
            .collect();
        b.source_rows = Vec::new();
        b.adj_close = None;
        b
    };
    let a = variant("A", 1.0, &|_| true);
    let b = variant("B", 0.5, &|d| {
        d >= NaiveDate::from_ymd_opt(2012, 4, 2).unwrap()
            && d != NaiveDate::from_ymd_opt(2012, 6, 15).unwrap()
    });
    let c = variant("C", 2.0, &|d| {
        d <= NaiveDate::from_ymd_opt(2012, 9, 28).unwrap()
    });
    let own = [a, b, c];
    // The market as a live decision reads it: each symbol's bars up to the close decided at,
    // nothing after (so nothing says C's last bar is its last until the calendar passes it).
    let market_through = |day: Option<NaiveDate>| {
        let checked = own
            .iter()
            .map(|s| {
                let s = day.map_or_else(|| s.clone(), |d| s.through(d));
                let name = s.symbol.clone();
                require(s, &name, Policy::of(&cfg)).unwrap()
            })
            .collect();
        Market::new(checked).unwrap()
    };
    let m = market_through(None);
    let time = m.bars()[0].time.clone();
    // Forecasts: each symbol's 10-bar momentum over the bars it has.
    let w = 3;
    let mut prediction = vec![f64::NAN; time.len() * w];
    for (s, b) in m.bars().iter().enumerate() {
        let present: Vec<usize> = (0..b.len()).filter(|&t| !b.close[t].is_nan()).collect();
        for k in 10..present.len() {
            let (t, t0) = (present[k], present[k - 10]);
            // C ranks first while it lists, so it is held when it is delisted.
            let lift = if s == 2 { 0.5 } else { 0.0 };
            prediction[t * w + s] = b.close[t] / b.close[t0] - 1.0 + lift;
        }
    }
    let signals = qts_backtest::strategy::SignalSeries {
        symbols: vec!["A".into(), "B".into(), "C".into()],
        prediction,
        ..Default::default()
    };
    let rank = || {
        Registry::builtin()
            .build(
                "rank",
                &[("top".to_string(), "2".to_string())],
                &mut Inputs {
                    symbols: 3,
                    signals: Some(signals.clone()),
                },
                &cfg.backtest.regime_filter,
            )
            .unwrap()
    };
    let mut settings = Settings::from_config(&cfg, Execution::Default);
    settings.engine.strategy_weights = true;
    let full = qts_backtest::run(m.bars(), rank().as_mut(), &settings.engine).unwrap();
    assert!(full.fills.iter().any(|f| f.reason == Reason::Delisted));
    let first = time.iter().position(|t| t.date().year() == 2012).unwrap();
    let last = time
        .iter()
        .position(|t| t.date() > NaiveDate::from_ymd_opt(2012, 12, 31).unwrap())
        .unwrap();
    let mut placed_total = 0;
    for t in first..last {
        let day = time[t].date();
        let d = decide(&m, rank().as_mut(), &settings, &request(day), stamp()).unwrap();
        // Live, from the bars up to that close only (once B has one): the same decision.
        if day >= NaiveDate::from_ymd_opt(2012, 4, 2).unwrap() {
            let cut = market_through(Some(day));
            let live = decide(&cut, rank().as_mut(), &settings, &request(day), stamp()).unwrap();
            assert_eq!(live.result.orders, d.result.orders, "orders at {day}");
            assert_eq!(live.equity, d.equity, "equity at {day}");
            assert_eq!(live.cash, d.cash, "cash at {day}");
        }
        let placed: Vec<_> = full
            .orders
            .iter()
            // A delisting closes at the close, as a protective exit fills inside its bar.
            .filter(|r| {
                r.order.submitted_bar == t
                    && !protective(r.order.reason)
                    && r.order.reason != Reason::Delisted
            })
            .map(|r| (r.order.id, r.order.symbol, r.order.size, r.order.reason))
            .collect();
        let decided: Vec<_> = d
            .result
            .orders
            .iter()
            .filter(|r| r.status == OrderStatus::Open && r.order.submitted_bar == t)
            .map(|r| (r.order.id, r.order.symbol, r.order.size, r.order.reason))
            .collect();
        assert_eq!(decided, placed, "orders decided at {day}");
        assert_eq!(d.equity, full.equity[t], "equity at {day}");
        assert_eq!(d.cash, full.cash[t], "cash at {day}");
        placed_total += placed.len();
        if day == NaiveDate::from_ymd_opt(2012, 6, 15).unwrap() {
            assert!(
                d.notes.iter().any(|n| n.starts_with("B has no bar on")),
                "{:?}",
                d.notes
            );
        }
        if day == NaiveDate::from_ymd_opt(2012, 10, 1).unwrap() {
            assert!(
                d.notes.iter().any(|n| n.contains("closed as delisted")),
                "{:?}",
                d.notes
            );
        }
    }
    assert!(
        placed_total >= 20,
        "a year of weekly decisions: {placed_total} orders"
    );
}

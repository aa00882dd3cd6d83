//! Engine behaviour: accounting invariants, determinism, no look-ahead, fills, stops, the
//! circuit breaker, the schedule and the cash constraint.

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use qts_backtest::engine::{BacktestResult, EngineConfig, run};
use qts_backtest::order::{OrderKind, TimeInForce};
use qts_backtest::strategy::{Action, BuyAndHold, Context, SmaCross, Strategy};
use qts_config::{Frequency, QtsConfig, SizingMethod, SlippageModel};
use qts_data::BarSeries;
use qts_data::io::read_bars;

fn goog() -> BarSeries {
    read_bars(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/goog_daily.csv"))
        .unwrap()
}

/// Bars from (open, high, low, close) on consecutive weekdays from 2024-01-01.
fn bars(ohlc: &[(f64, f64, f64, f64)]) -> BarSeries {
    let mut day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut b = BarSeries {
        symbol: "T".into(),
        ..BarSeries::default()
    };
    for &(o, h, l, c) in ohlc {
        while day.weekday().num_days_from_monday() > 4 {
            day = day.succ_opt().unwrap();
        }
        b.time.push(day.and_hms_opt(0, 0, 0).unwrap());
        b.open.push(o);
        b.high.push(h);
        b.low.push(l);
        b.close.push(c);
        b.volume.push(1e6);
        day = day.succ_opt().unwrap();
    }
    b
}

fn flat(n: usize, p: f64) -> Vec<(f64, f64, f64, f64)> {
    vec![(p, p + 1.0, p - 1.0, p); n]
}

/// Goes long on the first bar, then does nothing.
struct LongOnce;

impl Strategy for LongOnce {
    fn name(&self) -> String {
        "long-once".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        if ctx.t() == 0 {
            vec![Action::Target {
                symbol: 0,
                strength: 1.0,
                forecast: None,
            }]
        } else {
            vec![]
        }
    }
}

/// Submits one order after the first bar.
struct OneOrder(OrderKind, f64, TimeInForce);

impl Strategy for OneOrder {
    fn name(&self) -> String {
        "one-order".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        if ctx.t() == 0 {
            vec![Action::Order {
                symbol: 0,
                size: self.1,
                kind: self.0,
                tif: self.2,
            }]
        } else {
            vec![]
        }
    }
}

struct Never;

impl Strategy for Never {
    fn name(&self) -> String {
        "never".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, _: &Context<'_>) -> Vec<Action> {
        vec![]
    }
}

/// A plain configuration: daily rebalancing, all-in fixed fraction, no costs, no stops.
fn plain() -> EngineConfig {
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    cfg.rebalance = Frequency::Daily;
    cfg.sizing.method = SizingMethod::FixedFractional;
    cfg.sizing.fixed_fraction = 1.0;
    cfg.limits.max_position_fraction = 1.0;
    cfg.costs.commission_rate = 0.0;
    cfg.costs.slippage_model = SlippageModel::None;
    cfg.costs.max_volume_fraction = 1.0;
    cfg.stops.stop_loss.enabled = false;
    cfg.stops.circuit_breaker.enabled = false;
    cfg
}

fn positions_at_close(r: &BacktestResult, n: usize) -> Vec<f64> {
    let mut pos = vec![0.0; n];
    for f in &r.fills {
        for p in pos.iter_mut().skip(f.bar) {
            *p += f.size;
        }
    }
    pos
}

#[test]
fn equity_is_cash_plus_positions_and_costs_are_never_negative() {
    let b = goog();
    let cfg = EngineConfig::from_config(&QtsConfig::default());
    let r = run(
        std::slice::from_ref(&b),
        &mut SmaCross::new(10, 20).unwrap(),
        &cfg,
    )
    .unwrap();
    assert!(r.fills.len() > 20, "the default configuration trades");
    let pos = positions_at_close(&r, b.len());
    for t in 0..b.len() {
        let expected = r.cash[t] + pos[t] * b.close[t];
        assert!(
            (r.equity[t] - expected).abs() <= 1e-9 * expected.abs(),
            "bar {t}"
        );
        assert!(
            r.cash[t] >= -1e-6,
            "no negative cash without margin (bar {t}: {})",
            r.cash[t]
        );
    }
    assert!(
        r.fills
            .iter()
            .all(|f| f.commission >= 0.0 && f.slippage >= 0.0)
    );
}

#[test]
fn the_same_input_gives_bit_identical_output() {
    let b = goog();
    let cfg = EngineConfig::from_config(&QtsConfig::default());
    let a = run(
        std::slice::from_ref(&b),
        &mut SmaCross::new(10, 20).unwrap(),
        &cfg,
    )
    .unwrap();
    let c = run(
        std::slice::from_ref(&b),
        &mut SmaCross::new(10, 20).unwrap(),
        &cfg,
    )
    .unwrap();
    assert!(
        a.equity
            .iter()
            .zip(&c.equity)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    assert_eq!(a.fills, c.fills);
}

#[test]
fn changing_future_bars_changes_no_earlier_order_or_fill() {
    let b = goog();
    for cfg in [
        EngineConfig::from_config(&QtsConfig::default()),
        plain().backtesting_py(),
    ] {
        let base = run(
            std::slice::from_ref(&b),
            &mut SmaCross::new(10, 20).unwrap(),
            &cfg,
        )
        .unwrap();
        for cut in [100, 500, 1000, 1800] {
            let mut changed = b.clone();
            for i in cut + 1..b.len() {
                let f = if i % 2 == 0 { 1.3 } else { 0.7 };
                changed.open[i] *= f;
                changed.high[i] *= f;
                changed.low[i] *= f;
                changed.close[i] *= f;
            }
            let other = run(
                std::slice::from_ref(&changed),
                &mut SmaCross::new(10, 20).unwrap(),
                &cfg,
            )
            .unwrap();
            let early = |r: &BacktestResult| {
                r.fills
                    .iter()
                    .filter(|f| f.bar <= cut)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(early(&base), early(&other), "fills up to bar {cut}");
            let orders = |r: &BacktestResult| {
                r.orders
                    .iter()
                    .filter(|o| o.order.submitted_bar < cut)
                    .map(|o| o.order.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(orders(&base), orders(&other), "orders before bar {cut}");
            assert_eq!(base.equity[..=cut], other.equity[..=cut]);
        }
    }
}

#[test]
fn a_strategy_that_never_trades_ends_with_its_cash() {
    let r = run(
        &[goog()],
        &mut Never,
        &EngineConfig::from_config(&QtsConfig::default()),
    )
    .unwrap();
    assert!(r.fills.is_empty());
    assert_eq!(*r.equity.last().unwrap(), 100_000.0);
}

#[test]
fn market_orders_fill_at_the_next_open_or_at_the_close() {
    let mut data = flat(5, 100.0);
    data[1].0 = 101.0;
    let b = bars(&data);
    let r = run(std::slice::from_ref(&b), &mut LongOnce, &plain()).unwrap();
    assert_eq!((r.fills[0].bar, r.fills[0].price), (1, 101.0));
    // Sized at the decision close (1,000 shares at 100), then cut to what the cash buys at
    // the higher open: 990 shares at 101.
    assert_eq!(r.fills[0].size, 990.0);
    assert_eq!(r.orders[0].status, "partially_filled");
    let mut cfg = plain();
    cfg.fill_price = qts_config::FillPrice::Close;
    let r = run(&[b], &mut LongOnce, &cfg).unwrap();
    assert_eq!((r.fills[0].bar, r.fills[0].price), (0, 100.0));
}

#[test]
fn a_stop_loss_gapped_through_fills_at_the_open() {
    let mut data = flat(6, 100.0);
    data[3] = (85.0, 86.0, 84.0, 85.0); // gaps below the 8% stop (92)
    let mut cfg = plain();
    cfg.stops.stop_loss.enabled = true;
    cfg.stops.stop_loss.pct = 0.08;
    let r = run(&[bars(&data)], &mut LongOnce, &cfg).unwrap();
    let exit = &r.trades[0];
    assert_eq!(
        (exit.exit_bar, exit.exit_price, exit.exit_reason),
        (3, 85.0, "stop_loss")
    );
    // Touched within the bar: filled at the stop.
    let mut data = flat(6, 100.0);
    data[3] = (99.0, 99.5, 90.0, 95.0);
    let r = run(&[bars(&data)], &mut LongOnce, &cfg).unwrap();
    assert_eq!(
        (r.trades[0].exit_price, r.trades[0].exit_reason),
        (92.0, "stop_loss")
    );
    assert!(
        r.open_positions.is_empty(),
        "no re-entry until the strategy decides again"
    );
}

#[test]
fn take_profit_and_trailing_stop() {
    let mut data = flat(8, 100.0);
    data[2] = (100.0, 125.0, 99.0, 120.0);
    let mut cfg = plain();
    cfg.stops.take_profit.enabled = true;
    cfg.stops.take_profit.pct = 0.2;
    let r = run(&[bars(&data)], &mut LongOnce, &cfg).unwrap();
    assert_eq!(
        (r.trades[0].exit_price, r.trades[0].exit_reason),
        (120.0, "take_profit")
    );

    let mut data = flat(8, 100.0);
    data[2] = (100.0, 130.0, 99.0, 128.0);
    data[3] = (128.0, 129.0, 110.0, 112.0); // 10% below the 130 peak is 117
    let mut cfg = plain();
    cfg.stops.trailing_stop.enabled = true;
    cfg.stops.trailing_stop.pct = 0.1;
    let r = run(&[bars(&data)], &mut LongOnce, &cfg).unwrap();
    assert_eq!(
        (r.trades[0].exit_bar, r.trades[0].exit_reason),
        (3, "trailing_stop")
    );
    assert!((r.trades[0].exit_price - 117.0).abs() < 1e-9);
}

#[test]
fn the_circuit_breaker_flattens_and_stands_aside() {
    let mut data = flat(40, 100.0);
    for d in data.iter_mut().skip(5) {
        *d = (70.0, 71.0, 69.0, 70.0);
    }
    let mut cfg = plain();
    cfg.stops.circuit_breaker.enabled = true;
    cfg.stops.circuit_breaker.max_drawdown = 0.2;
    cfg.stops.circuit_breaker.cooldown_days = 10;
    let r = run(&[bars(&data)], &mut BuyAndHold::default(), &cfg).unwrap();
    let exit = r
        .fills
        .iter()
        .find(|f| f.reason == "circuit_breaker")
        .unwrap();
    assert_eq!(
        exit.bar, 6,
        "tripped at bar 5's close, flattened at bar 6's open"
    );
    assert!(r.open_positions.is_empty());
}

/// Long, said again at every close: a strategy that would re-enter as soon as it may.
struct AlwaysLong;

impl Strategy for AlwaysLong {
    fn name(&self) -> String {
        "always-long".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, _: &Context<'_>) -> Vec<Action> {
        vec![Action::Target {
            symbol: 0,
            strength: 1.0,
            forecast: None,
        }]
    }
}

#[test]
fn the_breaker_stands_aside_for_its_cool_down_then_trading_resumes() {
    let mut data = flat(40, 100.0);
    for d in data.iter_mut().skip(5) {
        *d = (70.0, 71.0, 69.0, 70.0);
    }
    let mut cfg = plain();
    cfg.stops.circuit_breaker.enabled = true;
    cfg.stops.circuit_breaker.max_drawdown = 0.2;
    cfg.stops.circuit_breaker.cooldown_days = 10;
    let r = run(&[bars(&data)], &mut AlwaysLong, &cfg).unwrap();
    let fills: Vec<(usize, &str)> = r.fills.iter().map(|f| (f.bar, f.reason.as_str())).collect();
    // In at bar 1's open; the 30% fall trips the breaker at bar 5's close, out at bar 6's
    // open; the target is said again at every close, but nothing is bought for the 10 bars of
    // the cool-down (decisions at the closes of bars 6..=15 are ignored), then the close of
    // bar 16 decides and bar 17's open buys; the peak restarted, so it does not trip again.
    assert_eq!(
        fills,
        vec![(1, "rebalance"), (6, "circuit_breaker"), (17, "rebalance")]
    );
    assert_eq!(r.open_positions.len(), 1);
}

#[test]
fn limit_stop_and_day_orders() {
    let mut data = flat(6, 100.0);
    data[3] = (100.0, 101.0, 94.0, 96.0);
    let b = bars(&data);
    let r = run(
        std::slice::from_ref(&b),
        &mut OneOrder(OrderKind::Limit { limit: 95.0 }, 10.0, TimeInForce::Gtc),
        &plain(),
    )
    .unwrap();
    assert_eq!((r.fills[0].bar, r.fills[0].price), (3, 95.0));
    let r = run(
        std::slice::from_ref(&b),
        &mut OneOrder(OrderKind::Limit { limit: 95.0 }, 10.0, TimeInForce::Day),
        &plain(),
    )
    .unwrap();
    assert!(r.fills.is_empty());
    assert_eq!(r.orders[0].status, "expired");
    let r = run(
        std::slice::from_ref(&b),
        &mut OneOrder(OrderKind::Stop { stop: 100.5 }, 10.0, TimeInForce::Gtc),
        &plain(),
    )
    .unwrap();
    assert_eq!((r.fills[0].bar, r.fills[0].price), (1, 100.5));
    let r = run(
        &[b],
        &mut OneOrder(
            OrderKind::StopLimit {
                stop: 100.5,
                limit: 96.0,
            },
            10.0,
            TimeInForce::Gtc,
        ),
        &plain(),
    )
    .unwrap();
    assert_eq!(
        (r.fills[0].bar, r.fills[0].price),
        (3, 96.0),
        "triggered at bar 1, filled when the limit was reached"
    );
}

#[test]
fn weekly_rebalancing_trades_on_the_chosen_weekday_only() {
    let b = goog();
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    cfg.rebalance = Frequency::Weekly;
    cfg.weekday = qts_config::Weekday::Wednesday;
    cfg.stops.stop_loss.enabled = false;
    cfg.stops.circuit_breaker.enabled = false;
    let r = run(
        std::slice::from_ref(&b),
        &mut SmaCross::new(10, 20).unwrap(),
        &cfg,
    )
    .unwrap();
    // The days a weekly rebalance may fill on, from the dates alone: the first bar of each ISO
    // week that falls on a Wednesday or later.
    let mut allowed = std::collections::BTreeMap::new();
    for t in &b.time {
        let d = t.date();
        if d.weekday().num_days_from_monday() >= 2 {
            allowed
                .entry((d.iso_week().year(), d.iso_week().week()))
                .or_insert(d);
        }
    }
    let days: std::collections::BTreeSet<_> = r.fills.iter().map(|f| f.time.date()).collect();
    assert!(days.len() > 20, "{} rebalance days", days.len());
    for f in &r.fills {
        let d = f.time.date();
        assert_eq!(
            allowed.get(&(d.iso_week().year(), d.iso_week().week())),
            Some(&d),
            "{} is not its week's first bar on or after Wednesday",
            f.time
        );
    }
}

#[test]
fn volume_caps_and_costs_apply() {
    let mut data = flat(4, 100.0);
    data[1].0 = 100.0;
    let mut b = bars(&data);
    b.volume[1] = 4_000.0;
    let mut cfg = plain();
    cfg.costs.max_volume_fraction = 0.1;
    cfg.costs.commission_rate = 0.001;
    cfg.costs.slippage_model = SlippageModel::FixedBps;
    cfg.costs.slippage_bps = 10.0;
    let r = run(&[b], &mut LongOnce, &cfg).unwrap();
    let f = &r.fills[0];
    assert_eq!(f.size, 400.0);
    assert_eq!(r.orders[0].status, "partially_filled");
    assert!((f.price - 100.1).abs() < 1e-9);
    assert!((f.commission - 400.0 * 100.1 * 0.001).abs() < 1e-9);
    assert!((f.slippage - 40.0).abs() < 1e-6);
}

#[test]
fn misaligned_or_bad_bars_are_errors() {
    let a = bars(&flat(5, 100.0));
    let mut b = bars(&flat(6, 100.0));
    b.symbol = "U".into();
    let e = run(&[a, b], &mut Never, &plain()).unwrap_err();
    assert!(
        e.to_string()
            .contains("`U` has timestamps that differ from `T`'s"),
        "{e}"
    );
    let mut c = bars(&flat(5, 100.0));
    c.close[2] = f64::NAN;
    assert!(
        run(&[c], &mut Never, &plain())
            .unwrap_err()
            .to_string()
            .contains("close is NaN")
    );
}

#[test]
fn several_symbols_share_one_portfolio_with_risk_parity() {
    let g = goog();
    let mut calm = g.clone();
    calm.symbol = "CALM".into();
    // Same dates, half the daily moves.
    for i in 1..calm.len() {
        let r = (g.close[i] / g.close[i - 1] - 1.0) * 0.5;
        let c = calm.close[i - 1] * (1.0 + r);
        calm.open[i] = c;
        calm.high[i] = c * 1.001;
        calm.low[i] = c * 0.999;
        calm.close[i] = c;
    }
    calm.open[0] = calm.close[0];
    calm.high[0] = calm.close[0] * 1.001;
    calm.low[0] = calm.close[0] * 0.999;
    let mut cfg = plain();
    cfg.sizing.method = SizingMethod::RiskParity;
    let r = run(&[g.clone(), calm.clone()], &mut BuyAndHold::default(), &cfg).unwrap();
    let first: Vec<_> = r.fills.iter().filter(|f| f.bar == 21).collect();
    assert_eq!(
        first.len(),
        2,
        "both symbols bought once volatility is known: {:?}",
        r.fills.first()
    );
    let value = |sym: &str| {
        first
            .iter()
            .find(|f| f.symbol == sym)
            .map(|f| f.size * f.price)
            .unwrap()
    };
    let ratio = value("CALM") / value("goog_daily");
    assert!(
        (ratio - 2.0).abs() < 0.1,
        "the calmer symbol gets about twice the weight: {ratio}"
    );
    assert!(r.cash.iter().all(|c| *c >= -1e-6), "no negative cash");
}

/// Regression (found by tests/properties.rs): with `fill_price: close` the close's equity and
/// cash were marked before the fill made at that close.
#[test]
fn regression_fills_at_the_close_are_in_that_closes_marks() {
    let b = bars(&flat(5, 100.0));
    let mut cfg = plain();
    cfg.fill_price = qts_config::FillPrice::Close;
    cfg.costs.commission_rate = 0.01;
    let r = run(std::slice::from_ref(&b), &mut LongOnce, &cfg).unwrap();
    let f = &r.fills[0];
    assert_eq!(f.bar, 0);
    assert!((r.cash[0] - (100_000.0 - f.size * 100.0 - f.commission)).abs() < 1e-9);
    assert!((r.equity[0] - (100_000.0 - f.commission)).abs() < 1e-9);
    assert!(r.exposure_time > 0.99);
}

#[test]
fn the_regime_filter_holds_longs_flat_below_the_average() {
    use qts_backtest::strategy::RegimeFilter;
    use qts_config::MaKind;
    // Falling for 10 bars, then rising: the close crosses above its 5-bar average at bar 12.
    let data: Vec<(f64, f64, f64, f64)> = (0..25)
        .map(|i| {
            let p = if i < 10 {
                100.0 - i as f64
            } else {
                90.0 + 2.0 * (i - 10) as f64
            };
            (p, p + 0.5, p - 0.5, p)
        })
        .collect();
    let b = bars(&data);
    let closes = b.close.clone();
    for kind in [MaKind::Sma, MaKind::Ema] {
        let mut s = RegimeFilter::new(Box::new(BuyAndHold::default()), kind, 5);
        let r = run(std::slice::from_ref(&b), &mut s, &plain()).unwrap();
        let first = &r.fills[0];
        // The decision bar is the first whose close is above its average; the fill is next open.
        let ma = match kind {
            MaKind::Sma => qts_data::features::kernels::sma(&closes, 5),
            MaKind::Ema => qts_data::features::kernels::ema(&closes, 5),
        };
        let decided = (4..closes.len()).find(|&t| closes[t] > ma[t]).unwrap();
        assert_eq!(first.bar, decided + 1, "{kind:?}");
        assert!(first.size > 0.0);
    }
}

/// Long at the closes listed, flat at the others.
struct Script(Vec<bool>);

impl Strategy for Script {
    fn name(&self) -> String {
        "script".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        vec![Action::Target {
            symbol: 0,
            strength: if self.0[ctx.t()] { 1.0 } else { 0.0 },
            forecast: None,
        }]
    }
}

#[test]
fn trade_and_account_metrics_of_a_hand_computed_case() {
    use qts_backtest::summary::summarize;
    use qts_stats::metrics::MetricsConfig;
    // Four round trips of 1,000 shares, each priced flat while held and left at the next
    // open: +10%, -5%, -4%, +6%.
    let p = [100.0, 110.0, 104.5, 100.32, 106.3392];
    let level = |t: usize| match t {
        0..=2 => p[0],
        3..=5 => p[1],
        6..=8 => p[2],
        9..=11 => p[3],
        _ => p[4],
    };
    let data: Vec<_> = (0..14)
        .map(|t| {
            let x = level(t);
            (x, x + 1.0, x - 1.0, x)
        })
        .collect();
    let b = bars(&data);
    let long = [0, 1, 3, 4, 6, 7, 9, 10];
    let script = Script((0..14).map(|t| long.contains(&t)).collect());
    let mut s = script;
    let r = run(std::slice::from_ref(&b), &mut s, &plain()).unwrap();
    let m = summarize(&r, &b.close, None, &MetricsConfig::default());
    let get = |k: &str| m[k].as_f64();

    let rets = [
        p[1] / p[0] - 1.0,
        p[2] / p[1] - 1.0,
        p[3] / p[2] - 1.0,
        p[4] / p[3] - 1.0,
    ];
    assert_eq!(r.trades.len(), 4);
    for (t, want) in r.trades.iter().zip(rets) {
        assert!((t.ret - want).abs() < 1e-15, "{} vs {want}", t.ret);
        assert_eq!(t.size, 1000.0);
    }
    let close = |k: &str, want: f64| {
        let g = get(k);
        assert!(
            (g - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{k}: {g} vs {want}"
        );
    };
    close("win_rate", 0.5);
    close("avg_win", (rets[0] + rets[3]) / 2.0);
    close("avg_loss", (rets[1] + rets[2]) / 2.0);
    close(
        "payoff_ratio",
        ((rets[0] + rets[3]) / 2.0) / ((rets[1] + rets[2]) / 2.0).abs(),
    );
    close("max_consecutive_wins", 1.0);
    close("max_consecutive_losses", 2.0);
    // Entry and exit days: Tue 2 → Thu 4 Jan, Fri 5 → Tue 9, Wed 10 → Fri 12, Mon 15 → Wed 17.
    close("avg_trade_duration", (2.0 + 4.0 + 2.0 + 2.0) / 4.0);
    // Held over the closes of bars 1, 2, 4, 5, 7, 8, 10 and 11.
    close("exposure_time", 8.0 / 14.0);
    // 1,000 shares bought and sold at each level; equity flat between the exits.
    let traded = 1000.0 * (p[0] + 2.0 * (p[1] + p[2] + p[3]) + p[4]);
    let equity: Vec<f64> = (0..14)
        .map(|t| 1000.0 * level(t) + (100_000.0 - 1000.0 * p[0]))
        .collect();
    let mean = equity.iter().sum::<f64>() / 14.0;
    close("turnover", traded / mean / (14.0 / 252.0));
    close("final_equity", equity[13]);
    close("num_bars", 14.0);
    close("total_costs", 0.0);
    close("best_day", p[1] / p[0] - 1.0);
    close("worst_day", p[2] / p[1] - 1.0);
    // The peak is 110,000 (bars 3..=5); from bar 6 on the equity never gets back to it
    // (104,500, 100,320, then 106,339.2 to the end): bars 6..=13, eight bars.
    close("max_drawdown_duration", 8.0);
    // One drawdown, to 100,320 from 110,000.
    close("average_drawdown", 100_320.0 / 110_000.0 - 1.0);

    // Commission: the rate on every fill's value, summed (and part of the costs).
    let mut cfg = plain();
    cfg.costs.commission_rate = 0.001;
    let mut s = Script((0..14).map(|t| long.contains(&t)).collect());
    let r = run(std::slice::from_ref(&b), &mut s, &cfg).unwrap();
    let m = summarize(&r, &b.close, None, &MetricsConfig::default());
    let paid: f64 = r
        .fills
        .iter()
        .map(|f| 0.001 * (f.size * f.price).abs())
        .sum();
    assert!(paid > 0.0);
    assert!((m["total_commission"].as_f64() - paid).abs() < 1e-9);
    assert!((m["total_costs"].as_f64() - paid).abs() < 1e-9);
}

#[test]
fn monthly_rebalancing_trades_on_each_months_first_bar_only() {
    let b = goog();
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    cfg.rebalance = Frequency::Monthly;
    cfg.stops.stop_loss.enabled = false;
    cfg.stops.circuit_breaker.enabled = false;
    let r = run(
        std::slice::from_ref(&b),
        &mut SmaCross::new(10, 20).unwrap(),
        &cfg,
    )
    .unwrap();
    let mut first = std::collections::BTreeMap::new();
    for t in &b.time {
        first.entry((t.year(), t.month())).or_insert(t.date());
    }
    let months: std::collections::BTreeSet<_> = r
        .fills
        .iter()
        .map(|f| (f.time.year(), f.time.month()))
        .collect();
    assert!(months.len() > 20, "{} months with fills", months.len());
    for f in &r.fills {
        assert_eq!(
            first.get(&(f.time.year(), f.time.month())),
            Some(&f.time.date()),
            "{} is not its month's first bar",
            f.time
        );
    }
}

#[test]
fn fractional_shares_buy_the_exact_weight_and_whole_shares_round_down() {
    let b = bars(&flat(4, 333.0));
    let mut cfg = plain();
    cfg.fractional_shares = true;
    let r = run(std::slice::from_ref(&b), &mut LongOnce, &cfg).unwrap();
    assert_eq!(r.fills[0].size, 100_000.0 / 333.0);
    let r = run(std::slice::from_ref(&b), &mut LongOnce, &plain()).unwrap();
    assert_eq!(r.fills[0].size, 300.0);
}

#[test]
fn margin_lets_a_buy_borrow_up_to_its_multiple_of_equity() {
    // A target of twice the equity (weight 2 under a gross limit of 2) at a flat 100: 2,000
    // shares asked for with 100,000 of cash. `backtest.execution.margin` is what may be
    // borrowed, as a multiple of equity: 0 cuts the buy to the cash, 0.5 to 150,000, 1 buys
    // it all and leaves the cash at −100,000.
    let b = bars(&flat(5, 100.0));
    for (margin, shares) in [(0.0, 1000.0), (0.5, 1500.0), (1.0, 2000.0)] {
        let mut cfg = plain();
        cfg.sizing.fixed_fraction = 2.0;
        cfg.limits.max_position_fraction = 2.0;
        cfg.limits.max_gross_exposure = 2.0;
        cfg.margin = margin;
        let r = run(std::slice::from_ref(&b), &mut LongOnce, &cfg).unwrap();
        assert_eq!(r.fills[0].size, shares, "margin {margin}");
        assert_eq!(r.cash[1], 100_000.0 - shares * 100.0, "margin {margin}");
        assert_eq!(r.equity[4], 100_000.0, "margin {margin}");
        // The first rebalance was cut; later ones (daily) try again but the budget is spent.
        let bought: f64 = r.fills.iter().map(|f| f.size).sum();
        assert_eq!(bought, shares, "margin {margin}");
    }
}

#[test]
fn a_grid_row_is_the_single_backtest_of_its_pair_and_a_bad_pair_is_refused() {
    use qts_backtest::grid::sma_grid;
    use qts_stats::metrics::{MetricsConfig, returns, simple_returns};

    let bars = goog();
    let cfg = EngineConfig::from_config(&QtsConfig::default());
    let metrics = MetricsConfig::default();
    let pairs = [(5, 20), (10, 30), (20, 50)];
    let rows = sma_grid(&bars, &pairs, &cfg, &metrics).unwrap();
    assert_eq!(rows.len(), pairs.len());
    for (row, &(fast, slow)) in rows.iter().zip(&pairs) {
        // Rows come back in the order of the pairs, whatever thread ran them.
        assert_eq!((row.fast, row.slow), (fast, slow));
        let single = run(
            std::slice::from_ref(&bars),
            &mut SmaCross::new(fast, slow).unwrap(),
            &cfg,
        )
        .unwrap();
        let last = *single.equity.last().unwrap();
        assert_eq!(row.final_equity, last);
        assert_eq!(row.total_return, last / cfg.initial_capital - 1.0);
        assert_eq!(row.num_trades, single.trades.len());
        let rets = simple_returns(&single.equity);
        assert_eq!(row.max_drawdown, returns::max_drawdown(&rets));
        assert_eq!(
            row.sharpe_ratio,
            returns::sharpe_ratio(
                &rets,
                metrics.risk_free_per_period(),
                metrics.periods_per_year
            )
        );
        assert!(row.num_trades > 0 && row.sharpe_ratio.is_finite());
    }
    assert!(sma_grid(&bars, &[(5, 20), (30, 10)], &cfg, &metrics).is_err());
}

/// Holds nothing from its first decision on.
struct Flat;

impl Strategy for Flat {
    fn name(&self) -> String {
        "flat".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, _: &Context<'_>) -> Vec<Action> {
        vec![Action::Target {
            symbol: 0,
            strength: 0.0,
            forecast: None,
        }]
    }
}

#[test]
fn an_account_opened_with_holdings_holds_them_from_its_first_close() {
    // Closes 100, 105, 110; opens 102 and 104 on the second and third bars.
    let b = bars(&[
        (100.0, 101.0, 99.0, 100.0),
        (102.0, 106.0, 101.0, 105.0),
        (104.0, 111.0, 103.0, 110.0),
    ]);
    let mut cfg = plain();
    cfg.initial_capital = 1_000.0;
    cfg.trade_from = 1;
    cfg.opening = vec![("T".into(), 100.0)];
    // Kept while no target says otherwise (rebalancing only when a target changes): valued
    // at each close, the cash untouched, no fill, no commission.
    let mut kept = cfg.clone();
    kept.rebalance = Frequency::Signal;
    let r = run(std::slice::from_ref(&b), &mut Never, &kept).unwrap();
    assert_eq!(
        r.equity,
        vec![1_000.0 + 100.0 * 105.0, 1_000.0 + 100.0 * 110.0]
    );
    assert_eq!(
        r.drawdown[0], 0.0,
        "the account's value at its first close is its start"
    );
    assert!(r.fills.is_empty());
    assert_eq!(r.open_positions, vec![("T".to_string(), 100.0)]);
    // Taken to the strategy's target: sold at the next open, a round trip from the first
    // close (entered at 105, sold at 104).
    let r = run(std::slice::from_ref(&b), &mut Flat, &cfg).unwrap();
    assert_eq!(
        (r.fills[0].bar, r.fills[0].size, r.fills[0].price),
        (2, -100.0, 104.0)
    );
    assert_eq!(r.equity[1], 1_000.0 + 100.0 * 104.0);
    assert_eq!(r.trades.len(), 1);
    assert_eq!((r.trades[0].entry_price, r.trades[0].pnl), (105.0, -100.0));
    // A holding of a symbol the data lacks is refused, naming it.
    cfg.opening = vec![("XYZ".into(), 1.0)];
    let e = run(std::slice::from_ref(&b), &mut Never, &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`XYZ`"), "{e}");
}

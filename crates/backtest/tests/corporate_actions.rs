//! Splits and dividends in the engine, computed by hand: a 2:1 and a 3:2 split, a dividend on
//! a long and on a short position, a split with a standing stop and a limit order, a fraction
//! of a share paid in cash — every fill, cash and position to the cent — and buy-and-hold's
//! total return equal on raw prices with actions and on total-return prices.

#![allow(clippy::unwrap_used)]

use chrono::{Datelike, NaiveDate};
use qts_backtest::engine::{BacktestResult, EngineConfig, run};
use qts_backtest::order::{OrderKind, TimeInForce};
use qts_backtest::report::{Settings, Stamp};
use qts_backtest::strategy::{Action, BuyAndHold, Context, Strategy};
use qts_backtest::{Market, backtest};
use qts_config::{Frequency, QtsConfig, SizingMethod, SlippageModel};
use qts_data::BarSeries;
use qts_data::actions::{ActionKind, Basis, CorporateAction, on_basis};
use qts_data::validate::{Policy, require};

/// Bars from (open, high, low, close) on consecutive weekdays from 2024-01-01, with actions
/// on the given bars.
fn bars(ohlc: &[(f64, f64, f64, f64)], actions: &[(usize, ActionKind, f64)]) -> BarSeries {
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
    b.actions = actions
        .iter()
        .map(|&(bar, kind, value)| CorporateAction {
            date: b.time[bar].date(),
            kind,
            value,
        })
        .collect();
    b
}

fn bar(p: f64) -> (f64, f64, f64, f64) {
    (p, p + 0.5, p - 0.5, p)
}

/// Raw orders at the first close, in the shares and prices the strategy reads: split-adjusted
/// (before a 2:1 split, 200 shares at 60 are 100 shares at 120 on the day's raw prices).
struct Orders(Vec<(f64, OrderKind)>);

impl Strategy for Orders {
    fn name(&self) -> String {
        "orders".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        if ctx.t() != 0 {
            return Vec::new();
        }
        self.0
            .iter()
            .map(|&(size, kind)| Action::Order {
                symbol: 0,
                size,
                kind,
                tif: TimeInForce::Gtc,
            })
            .collect()
    }
}

fn plain() -> EngineConfig {
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    // Raw orders only: no target for the rules to trade towards.
    cfg.rebalance = Frequency::Signal;
    cfg.sizing.method = SizingMethod::FixedFractional;
    cfg.sizing.fixed_fraction = 1.0;
    cfg.limits.max_position_fraction = 1.0;
    cfg.costs.commission_rate = 0.0;
    cfg.costs.slippage_model = SlippageModel::None;
    cfg.costs.max_volume_fraction = 1.0;
    cfg.stops.stop_loss.enabled = false;
    cfg.stops.circuit_breaker.enabled = false;
    cfg.initial_capital = 100_000.0;
    cfg.allow_short = true;
    cfg
}

fn position(r: &BacktestResult) -> f64 {
    r.open_positions.first().map_or(0.0, |p| p.1)
}

#[test]
fn a_two_for_one_split_doubles_the_shares_halves_the_stop_and_the_limit() {
    // Bought 100 at 100 (bar 1's open); a GTC limit to sell 100 at 120 stands; 2:1 at bar 3.
    // The strategy reads split-adjusted prices: it asks for 200 shares and a limit of 60.
    let prices = [
        bar(100.0),
        bar(100.0),
        bar(100.0),
        bar(50.0),
        (50.0, 61.0, 49.0, 55.0),
        bar(55.0),
    ];
    let b = bars(&prices, &[(3, ActionKind::Split, 2.0)]);
    let mut orders = Orders(vec![
        (200.0, OrderKind::Market),
        (-200.0, OrderKind::Limit { limit: 60.0 }),
    ]);
    let r = run(std::slice::from_ref(&b), &mut orders, &plain()).unwrap();
    // Cash unchanged by the split; the equity carries over it to the cent.
    assert_eq!(r.cash[2], 90_000.0);
    assert_eq!(r.cash[3], 90_000.0);
    assert_eq!(r.equity[2], 100_000.0);
    assert_eq!(r.equity[3], 90_000.0 + 200.0 * 50.0);
    assert_eq!(r.actions.len(), 1);
    assert_eq!(
        (r.actions[0].bar, r.actions[0].shares, r.actions[0].cash),
        (3, 200.0, 0.0)
    );
    // The limit became "sell 200 at 60" and filled at bar 4 (high 61).
    let sell = r.fills.iter().find(|f| f.size < 0.0).unwrap();
    assert_eq!((sell.bar, sell.size, sell.price), (4, -200.0, 60.0));
    assert_eq!(r.cash[4], 102_000.0);
    let trade = &r.trades[0];
    assert_eq!(
        (trade.size, trade.entry_price, trade.exit_price, trade.split),
        (200.0, 50.0, 60.0, 2.0)
    );
    assert_eq!(trade.pnl, 2_000.0);
    assert_eq!(position(&r), 0.0);

    // An 8% stop-loss on the entry (92) becomes 46 on the new shares: touched within bar 4
    // (low 45, open 47), it fills at 46 — not at the open as a stop left at 92 would.
    let mut prices = prices;
    prices[4] = (47.0, 48.0, 45.0, 46.0);
    let b = bars(&prices, &[(3, ActionKind::Split, 2.0)]);
    let mut cfg = plain();
    cfg.stops.stop_loss.enabled = true;
    cfg.stops.stop_loss.pct = 0.08;
    let r = run(&[b], &mut Orders(vec![(200.0, OrderKind::Market)]), &cfg).unwrap();
    let exit = &r.trades[0];
    assert_eq!(
        (exit.exit_bar, exit.size, exit.exit_price, exit.exit_reason),
        (4, 200.0, 46.0, "stop_loss")
    );
    assert!((r.cash[4] - (90_000.0 + 200.0 * 46.0)).abs() < 1e-9);
}

#[test]
fn a_three_for_two_split_pays_the_fraction_of_a_share_in_cash_at_the_open() {
    let prices = [bar(100.0), bar(100.0), (66.0, 67.0, 65.0, 66.0), bar(66.0)];
    let b = bars(&prices, &[(2, ActionKind::Split, 1.5)]);
    // 151.5 split-adjusted shares are 101 on the day's prices.
    let r = run(
        std::slice::from_ref(&b),
        &mut Orders(vec![(151.5, OrderKind::Market)]),
        &plain(),
    )
    .unwrap();
    // 101 × 1.5 = 151.5: 151 shares, and half a share at the open (66) in cash.
    assert_eq!(position(&r), 151.0);
    assert_eq!(r.cash[1], 89_900.0);
    assert_eq!(r.cash[2], 89_933.0);
    assert_eq!(r.equity[2], 89_933.0 + 151.0 * 66.0);
    assert_eq!(r.actions[0].cash, 33.0);
    // The half share sold at the open is part of the round trip: closed at the end, the trade
    // holds all 151.5 split shares, bought at 100 / 1.5 and sold at 66, its P&L the equity's.
    let mut closing = plain();
    closing.close_at_end = true;
    let r = run(
        std::slice::from_ref(&b),
        &mut Orders(vec![(151.5, OrderKind::Market)]),
        &closing,
    )
    .unwrap();
    let trip = &r.trades[0];
    assert_eq!((trip.size, trip.exit_price, trip.split), (151.5, 66.0, 1.5));
    assert!(
        (trip.pnl - 151.5 * (66.0 - 100.0 / 1.5)).abs() < 1e-9,
        "{}",
        trip.pnl
    );
    assert!((r.equity[3] - (100_000.0 + trip.pnl)).abs() < 1e-9);
    // With fractional shares the half share is kept.
    let mut cfg = plain();
    cfg.fractional_shares = true;
    let r = run(&[b], &mut Orders(vec![(151.5, OrderKind::Market)]), &cfg).unwrap();
    assert_eq!(position(&r), 151.5);
    assert_eq!(r.cash[2], 89_900.0);
    assert!(r.trades.is_empty());
}

#[test]
fn a_dividend_is_paid_to_a_long_and_by_a_short_at_the_ex_dates_open() {
    let prices = [bar(100.0), bar(100.0), bar(100.0), bar(99.5), bar(99.5)];
    let b = bars(&prices, &[(3, ActionKind::Dividend, 0.5)]);
    let mut cfg = plain();
    cfg.close_at_end = true;
    for (shares, paid) in [(100.0, 50.0), (-100.0, -50.0)] {
        let r = run(
            std::slice::from_ref(&b),
            &mut Orders(vec![(shares, OrderKind::Market)]),
            &cfg,
        )
        .unwrap();
        assert_eq!(r.dividends, vec![0.0, 0.0, 0.0, paid, 0.0]);
        assert_eq!(r.cash[3] - r.cash[2], paid);
        let a = &r.actions[0];
        assert_eq!(
            (a.kind, a.value, a.shares, a.cash),
            (ActionKind::Dividend, 0.5, shares, paid)
        );
        // The round trip's P&L holds the dividend: 100 × (99.5 − 100) ± 50.
        let t = &r.trades[0];
        assert_eq!(t.dividends, paid);
        let price_pnl = shares * (99.5 - 100.0);
        assert!((t.pnl - (price_pnl + paid)).abs() < 1e-9, "{}", t.pnl);
        // Equity: what the holding lost on the ex-date, the dividend gave back (long).
        assert!((r.equity[4] - (100_000.0 + price_pnl + paid)).abs() < 1e-9);
    }
    // `backtest.dividends: false`: nothing is paid.
    cfg.dividends = false;
    let r = run(&[b], &mut Orders(vec![(100.0, OrderKind::Market)]), &cfg).unwrap();
    assert!(r.actions.is_empty());
    assert_eq!(r.cash[3], r.cash[2]);
}

fn report(b: BarSeries, cfg: &QtsConfig) -> qts_backtest::BacktestReport {
    let market = Market::new(vec![require(b, "t", Policy::of(cfg)).unwrap()]).unwrap();
    let settings = Settings::from_config(cfg, qts_backtest::engine::Execution::Default);
    backtest(
        &market,
        &mut BuyAndHold::default(),
        &settings,
        None,
        Stamp::new(String::new(), String::new(), Vec::new()),
    )
    .unwrap()
}

#[test]
fn buy_and_hold_is_the_same_total_return_on_raw_prices_with_actions_and_on_total_return_prices() {
    // A year of a drifting price with a 4:1 split and quarterly dividends.
    let mut prices = Vec::new();
    let mut p = 400.0;
    for i in 0..250 {
        if i == 120 {
            p /= 4.0;
        }
        p *= 1.0 + 0.002 * ((i % 7) as f64 - 3.0) / 3.0;
        prices.push((p, p * 1.01, p * 0.99, p));
    }
    let actions = [
        (40, ActionKind::Dividend, 0.88),
        (120, ActionKind::Split, 4.0),
        (160, ActionKind::Dividend, 0.23),
        (220, ActionKind::Dividend, 0.24),
    ];
    let raw = bars(&prices, &actions);
    let cfg = QtsConfig::default();
    let total = |r: &qts_backtest::BacktestReport| r.buy_and_hold_equity.last().unwrap() / 1e5;
    let on_raw = report(raw.clone(), &cfg);
    let adjusted = on_basis(raw.clone(), Basis::TotalReturn).unwrap();
    let on_tr = report(adjusted.clone(), &cfg);
    let split = report(on_basis(raw.clone(), Basis::Split).unwrap(), &cfg);
    let price_return = adjusted.close[249] / adjusted.close[0];
    assert!((total(&on_raw) - price_return).abs() < 1e-9);
    assert!((total(&on_tr) - price_return).abs() < 1e-9);
    assert!((total(&split) - price_return).abs() < 1e-9);
    // No −75% day: the split is not a loss.
    assert!(
        on_raw
            .buy_and_hold_equity
            .windows(2)
            .all(|w| w[1] / w[0] > 0.9)
    );
    // Dividends switched off: the price return alone (shares × 4 kept).
    let mut off = cfg.clone();
    off.backtest.dividends = false;
    let price_only = report(raw.clone(), &off);
    let expected = 4.0 * raw.close[249] / raw.close[0];
    assert!((total(&price_only) - expected).abs() < 1e-9);
    // The engine's own holding on raw prices crosses the split in shares, not in value, and
    // collects the dividends in cash.
    let r = &on_raw.result;
    assert!(r.equity.windows(2).all(|w| w[1] / w[0] > 0.9));
    let paid: f64 = r.dividends.iter().sum();
    let received: f64 = r
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Dividend)
        .map(|a| a.cash)
        .sum();
    assert!(paid > 0.0 && (paid - received).abs() < 1e-9);
    assert_eq!(on_raw.dividend_income, paid);
    assert_eq!(on_tr.dividend_income, 0.0);
}

/// The engine's volatility and ATR read a raw series with a split as the split-adjusted one:
/// Google's sample history with its prices before a bar inside an open trade doubled (volumes
/// halved) and a 2:1 split there, traded by the SMA crossover with volatility sizing, a
/// trailing stop and an ATR stop in fractional shares, gives the same equity and trades as the
/// history itself, to 1e-9.
#[test]
fn volatility_sizing_and_the_atr_stop_read_across_a_split_as_on_adjusted_prices() {
    let goog = qts_data::io::read_bars(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/data/goog_daily.csv"),
    )
    .unwrap();
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    cfg.sizing.method = SizingMethod::VolatilityScaled;
    cfg.stops.trailing_stop.enabled = true;
    cfg.stops.atr_stop.enabled = true;
    cfg.fractional_shares = true;
    cfg.costs.slippage_model = SlippageModel::None;
    cfg.basis = Basis::Raw;
    let sma = || qts_backtest::strategy::SmaCross::new(10, 30).unwrap();
    let adjusted = run(std::slice::from_ref(&goog), &mut sma(), &cfg).unwrap();
    // The split falls inside the first trade held ten bars or more after bar 500.
    let held = adjusted
        .trades
        .iter()
        .find(|t| t.entry_bar > 500 && t.exit_bar >= t.entry_bar + 10)
        .unwrap();
    let at = held.entry_bar + 5;
    let mut raw = goog.clone();
    for t in 0..at {
        raw.open[t] *= 2.0;
        raw.high[t] *= 2.0;
        raw.low[t] *= 2.0;
        raw.close[t] *= 2.0;
        raw.volume[t] /= 2.0;
    }
    raw.actions = vec![CorporateAction {
        date: raw.time[at].date(),
        kind: ActionKind::Split,
        value: 2.0,
    }];
    let on_raw = run(std::slice::from_ref(&raw), &mut sma(), &cfg).unwrap();
    assert!(
        on_raw.trades.iter().any(|t| t.exit_reason == "atr_stop"),
        "the ATR stop acted"
    );
    let crossing = on_raw
        .trades
        .iter()
        .find(|t| t.entry_bar < at && t.exit_bar > at)
        .unwrap();
    assert_eq!(crossing.split, 2.0);
    assert_eq!(on_raw.trades.len(), adjusted.trades.len());
    for (t, (a, b)) in on_raw.equity.iter().zip(&adjusted.equity).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * b,
            "bar {t}: {a} on raw prices, {b} adjusted"
        );
    }
    for (a, b) in on_raw.trades.iter().zip(&adjusted.trades) {
        assert_eq!(
            (a.entry_bar, a.exit_bar, a.exit_reason),
            (b.entry_bar, b.exit_bar, b.exit_reason)
        );
        assert!((a.pnl - b.pnl).abs() <= 1e-6, "{} vs {}", a.pnl, b.pnl);
    }
}

//! Invariants over random markets, random strategies and random settings (proptest):
//! equity is cash plus positions at every bar, costs are never negative, no fill precedes its
//! order, cash stays non-negative for a long-only account without margin, and reruns are
//! bit-identical.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use qts_backtest::engine::{EngineConfig, run};
use qts_backtest::order::{OrderKind, TimeInForce};
use qts_backtest::strategy::{Action, Context, Strategy as QtsStrategy};
use qts_config::{FillPrice, Frequency, QtsConfig, SizingMethod, SlippageModel};
use qts_data::BarSeries;

#[derive(Clone, Debug)]
struct Scripted(Vec<(usize, Action)>);

impl QtsStrategy for Scripted {
    fn name(&self) -> String {
        "scripted".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        self.0
            .iter()
            .filter(|(t, _)| *t == ctx.t())
            .map(|(_, a)| a.clone())
            .collect()
    }
}

fn market(moves: &[(f64, f64, f64)]) -> BarSeries {
    let mut b = BarSeries {
        symbol: "P".into(),
        ..BarSeries::default()
    };
    let mut close = 100.0;
    let mut day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for &(gap, ret, range) in moves {
        let open = close * (1.0 + gap);
        close = open * (1.0 + ret);
        b.time.push(day.and_hms_opt(0, 0, 0).unwrap());
        b.open.push(open);
        b.close.push(close);
        b.high.push(open.max(close) * (1.0 + range));
        b.low.push(open.min(close) * (1.0 - range));
        b.volume.push(1e5);
        day = day.succ_opt().unwrap();
    }
    b
}

fn action(n_bars: usize) -> impl proptest::strategy::Strategy<Value = (usize, Action)> {
    let target = (-1.0f64..=1.0).prop_map(|s| Action::Target {
        symbol: 0,
        strength: s,
        forecast: None,
    });
    let order = (-50.0f64..50.0, 0u8..4, 0.8f64..1.2, any::<bool>()).prop_map(
        |(size, kind, level, gtc)| {
            let size = if size.abs() < 1.0 { 1.0 } else { size.trunc() };
            let kind = match kind {
                0 => OrderKind::Market,
                1 => OrderKind::Limit {
                    limit: 100.0 * level,
                },
                2 => OrderKind::Stop {
                    stop: 100.0 * level,
                },
                _ => OrderKind::StopLimit {
                    stop: 100.0 * level,
                    limit: 100.0 * level * 1.01,
                },
            };
            Action::Order {
                symbol: 0,
                size,
                kind,
                tif: if gtc {
                    TimeInForce::Gtc
                } else {
                    TimeInForce::Day
                },
            }
        },
    );
    (0..n_bars, prop_oneof![target, order])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn accounting_invariants_hold(
        moves in prop::collection::vec((-0.05f64..0.05, -0.05f64..0.05, 0.0f64..0.03), 5..80),
        script in prop::collection::vec(action(80), 0..25),
        allow_short in any::<bool>(),
        at_close in any::<bool>(),
        stops in any::<bool>(),
        costs in any::<bool>(),
        method in 0u8..4,
    ) {
        let bars = market(&moves);
        let mut cfg = EngineConfig::from_config(&QtsConfig::default());
        cfg.rebalance = Frequency::Daily;
        cfg.allow_short = allow_short;
        cfg.fill_price = if at_close { FillPrice::Close } else { FillPrice::NextOpen };
        cfg.stops.stop_loss.enabled = stops;
        cfg.stops.trailing_stop.enabled = stops;
        cfg.stops.take_profit.enabled = stops;
        cfg.stops.circuit_breaker.enabled = stops;
        cfg.sizing.volatility_lookback = 3;
        cfg.sizing.method = [SizingMethod::FixedFractional, SizingMethod::VolatilityScaled, SizingMethod::Kelly, SizingMethod::RiskParity][method as usize];
        if !costs {
            cfg.costs.commission_rate = 0.0;
            cfg.costs.slippage_model = SlippageModel::None;
        }
        let strategy = Scripted(script);
        let r = run(std::slice::from_ref(&bars), &mut strategy.clone(), &cfg).unwrap();
        let mut held = 0.0;
        let mut fills = r.fills.iter().peekable();
        for t in 0..bars.len() {
            while let Some(f) = fills.next_if(|f| f.bar == t) {
                held += f.size;
            }
            let expected = r.cash[t] + held * bars.close[t];
            prop_assert!((r.equity[t] - expected).abs() <= 1e-7 * expected.abs().max(1.0), "bar {}", t);
        }
        for f in &r.fills {
            prop_assert!(f.commission >= 0.0 && f.slippage >= 0.0);
            let order = r.orders.iter().find(|o| o.order.id == f.order_id).unwrap();
            prop_assert!(f.bar >= order.order.submitted_bar, "a fill before its order");
            if !at_close && order.order.reason != "stop_loss" && order.order.reason != "take_profit"
                && order.order.reason != "trailing_stop" {
                prop_assert!(f.bar > order.order.submitted_bar, "next-open fills come after the decision bar");
            }
        }
        let again = run(std::slice::from_ref(&bars), &mut strategy.clone(), &cfg).unwrap();
        prop_assert!(r.equity.iter().zip(&again.equity).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn long_only_targets_never_make_cash_negative(
        moves in prop::collection::vec((-0.05f64..0.05, -0.05f64..0.05, 0.0f64..0.03), 5..80),
        strengths in prop::collection::vec((0usize..80, 0.0f64..=1.0), 0..25),
    ) {
        let bars = market(&moves);
        let mut cfg = EngineConfig::from_config(&QtsConfig::default());
        cfg.rebalance = Frequency::Daily;
        cfg.sizing.method = SizingMethod::FixedFractional;
        cfg.sizing.fixed_fraction = 1.0;
        cfg.limits.max_position_fraction = 1.0;
        let script = strengths.into_iter().map(|(t, s)| (t, Action::Target { symbol: 0, strength: s, forecast: None })).collect();
        let r = run(&[bars], &mut Scripted(script), &cfg).unwrap();
        prop_assert!(r.cash.iter().all(|c| *c >= -1e-6), "cash went negative");
    }
}

//! A universe of symbols with their own histories: a late listing, a missing day, a delisting;
//! the `rank` strategy's selection (top-k, TopkDropout, shorts, weights, the interval rule);
//! and no look-ahead across symbols.

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use chrono::{Datelike, NaiveDate};
use qts_backtest::engine::{EngineConfig, run};
use qts_backtest::strategy::rank::{IntervalRule, Weighting};
use qts_backtest::strategy::{Action, Context, Rank, RankRules, SignalSeries, Strategy};
use qts_config::{Frequency, QtsConfig, SlippageModel};
use qts_data::BarSeries;
use qts_data::universe::union_calendar;

/// Bars at `closes` (open = close of the day before, ±1 range) on weekdays from 2024-01-01,
/// keeping only the days `keep` says.
fn series(symbol: &str, closes: &[f64], keep: impl Fn(usize) -> bool) -> BarSeries {
    let mut day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut b = BarSeries {
        symbol: symbol.into(),
        ..BarSeries::default()
    };
    for (i, &c) in closes.iter().enumerate() {
        while day.weekday().num_days_from_monday() > 4 {
            day = day.succ_opt().unwrap();
        }
        if keep(i) {
            let o = if i == 0 { c } else { closes[i - 1] };
            b.time.push(day.and_hms_opt(0, 0, 0).unwrap());
            b.open.push(o);
            b.high.push(o.max(c) + 1.0);
            b.low.push(o.min(c) - 1.0);
            b.close.push(c);
            b.volume.push(1e6);
        }
        day = day.succ_opt().unwrap();
    }
    b
}

fn plain() -> EngineConfig {
    let mut cfg = EngineConfig::from_config(&QtsConfig::default());
    cfg.rebalance = Frequency::Daily;
    cfg.limits.max_position_fraction = 1.0;
    cfg.costs.commission_rate = 0.0;
    cfg.costs.slippage_model = SlippageModel::None;
    cfg.costs.max_volume_fraction = 1.0;
    cfg.stops.stop_loss.enabled = false;
    cfg.stops.circuit_breaker.enabled = false;
    cfg.fractional_shares = true;
    cfg
}

/// Holds each symbol at an equal weight of the names with a bar, every bar.
struct EqualWeight;

impl Strategy for EqualWeight {
    fn name(&self) -> String {
        "equal".into()
    }
    fn warmup(&self) -> usize {
        0
    }
    fn sizes(&self) -> bool {
        true
    }
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        let live: Vec<usize> = (0..ctx.symbols()).filter(|&s| ctx.tradable(s)).collect();
        live.iter()
            .map(|&s| Action::Target {
                symbol: s,
                strength: 1.0 / live.len() as f64,
                forecast: None,
            })
            .collect()
    }
}

#[test]
fn a_late_listing_a_missing_day_and_a_delisting_trade_as_the_rules_say() {
    let up: Vec<f64> = (0..12).map(|i| 100.0 + i as f64).collect();
    // A: every day. B: lists on day 3, misses day 6. C: delisted after day 7.
    let a = series("A", &up, |_| true);
    // B moves differently, so the equal weights need trading every day.
    let b_closes: Vec<f64> = (0..12).map(|i| 50.0 + (i * i) as f64).collect();
    let b = series("B", &b_closes, |i| i >= 3 && i != 6);
    let c = series("C", &up, |i| i <= 7);
    let bars = union_calendar(vec![a, b, c]).unwrap();
    let r = run(&bars, &mut EqualWeight, &plain()).unwrap();
    // C is tradable on its last day (nothing says it is the last), gone from day 8.
    assert_eq!(r.listed, vec![2, 2, 2, 3, 3, 3, 2, 3, 2, 2, 2, 2]);
    // B is bought at the open after its first close, never before.
    let first_b = r.fills.iter().find(|f| f.symbol == "B").unwrap();
    assert_eq!(first_b.bar, 4);
    // No fill of B on its missing day: the day order placed for it expires.
    assert!(r.fills.iter().all(|f| !(f.symbol == "B" && f.bar == 6)));
    assert!(
        r.orders
            .iter()
            .any(|o| o.order.symbol == 1 && o.status == "expired")
    );
    // C is closed at the first close without its bar, at its last close, reason `delisted`,
    // and never traded again.
    let gone: Vec<_> = r.fills.iter().filter(|f| f.symbol == "C").collect();
    let last = gone.last().unwrap();
    assert_eq!((last.bar, last.reason.as_str()), (8, "delisted"));
    assert_eq!(last.price, bars[2].close[7]);
    assert!(r.trades.iter().any(|t| t.exit_reason == "delisted"));
    assert!(r.open_positions.iter().all(|(s, _)| s != "C"));
    // B on its missing day is marked at its last close: equity is cash plus positions at the
    // carried closes.
    let held_b: f64 = r
        .fills
        .iter()
        .filter(|f| f.symbol == "B" && f.bar <= 6)
        .map(|f| f.size)
        .sum();
    let held_a: f64 = r
        .fills
        .iter()
        .filter(|f| f.symbol == "A" && f.bar <= 6)
        .map(|f| f.size)
        .sum();
    let held_c: f64 = r
        .fills
        .iter()
        .filter(|f| f.symbol == "C" && f.bar <= 6)
        .map(|f| f.size)
        .sum();
    let want = r.cash[6]
        + held_a * bars[0].close[6]
        + held_b * bars[1].close[5]
        + held_c * bars[2].close[6];
    assert!(
        (r.equity[6] - want).abs() < 1e-6,
        "{} vs {want}",
        r.equity[6]
    );
}

fn panel(symbols: &[&str], n: usize, f: impl Fn(usize, usize) -> f64) -> SignalSeries {
    let w = symbols.len();
    SignalSeries {
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
        prediction: (0..n * w).map(|i| f(i / w, i % w)).collect(),
        ..SignalSeries::default()
    }
}

fn rules(top: usize) -> RankRules {
    RankRules {
        top,
        bottom: 0,
        weighting: Weighting::Equal,
        drop: f64::INFINITY,
        min_forecast: f64::NEG_INFINITY,
        interval: IntervalRule::Ignore,
        lookback: 20,
    }
}

/// The targets the strategy gives at bar `t` of `bars` (every bar a rebalance).
fn targets(strategy: &mut Rank, bars: &[BarSeries], t: usize) -> Vec<f64> {
    let mut w = vec![0.0; bars.len()];
    for a in strategy.on_bar(&Context::new(bars, t)) {
        if let Action::Target {
            symbol, strength, ..
        } = a
        {
            w[symbol] = strength;
        }
    }
    w
}

#[test]
fn rank_holds_the_top_names_equally_and_topk_dropout_limits_the_turnover() {
    let flat = vec![100.0; 4];
    let names = ["A", "B", "C", "D", "E"];
    let bars: Vec<BarSeries> = names.iter().map(|s| series(s, &flat, |_| true)).collect();
    // Day 0: A > B > C > D > E. Day 1: reversed. Day 2: E, D, C, A, B.
    let scores = [
        [5.0, 4.0, 3.0, 2.0, 1.0],
        [1.0, 2.0, 3.0, 4.0, 5.0],
        [2.0, 1.0, 3.0, 4.0, 5.0],
    ];
    let signal = panel(&names, 4, |t, s| scores[t.min(2)][s]);
    let mut plain = Rank::new(signal.clone(), rules(2)).unwrap();
    assert_eq!(targets(&mut plain, &bars, 0), vec![0.5, 0.5, 0.0, 0.0, 0.0]);
    assert_eq!(targets(&mut plain, &bars, 1), vec![0.0, 0.0, 0.0, 0.5, 0.5]);
    // TopkDropout with drop = 1: one holding replaced per rebalance. Day 1: held {A, B}; of
    // the held and the best new name ({B, A} ∪ {E}), the worst, A, is sold and E bought.
    let mut dropout = Rank::new(
        signal.clone(),
        RankRules {
            drop: 1.0,
            ..rules(2)
        },
    )
    .unwrap();
    assert_eq!(
        targets(&mut dropout, &bars, 0),
        vec![0.5, 0.5, 0.0, 0.0, 0.0]
    );
    assert_eq!(
        targets(&mut dropout, &bars, 1),
        vec![0.0, 0.5, 0.0, 0.0, 0.5]
    );
    // Day 2: held {E, B}; of {E, B} ∪ {D}, B is the worst → D replaces it.
    assert_eq!(
        targets(&mut dropout, &bars, 2),
        vec![0.0, 0.0, 0.0, 0.5, 0.5]
    );
    // drop = 0: the book never changes.
    let mut frozen = Rank::new(
        signal.clone(),
        RankRules {
            drop: 0.0,
            ..rules(2)
        },
    )
    .unwrap();
    targets(&mut frozen, &bars, 0);
    assert_eq!(
        targets(&mut frozen, &bars, 1),
        vec![0.5, 0.5, 0.0, 0.0, 0.0]
    );
    // Shorts of the worst, weights by forecast, a floor under the longs.
    let mut both = Rank::new(
        signal.clone(),
        RankRules {
            bottom: 1,
            weighting: Weighting::Forecast,
            min_forecast: 4.5,
            ..rules(2)
        },
    )
    .unwrap();
    // Only A clears 4.5: it holds its slot (1 of 2 → half the book); E is the short.
    assert_eq!(targets(&mut both, &bars, 0), vec![0.5, 0.0, 0.0, 0.0, -1.0]);
}

#[test]
fn the_interval_rule_skips_or_shrinks_a_name_whose_interval_straddles_zero() {
    let flat = vec![100.0; 2];
    let names = ["A", "B", "C"];
    let bars: Vec<BarSeries> = names.iter().map(|s| series(s, &flat, |_| true)).collect();
    let mut signal = panel(&names, 2, |_, s| [0.03, 0.02, 0.01][s]);
    // A's interval straddles zero; B's and C's do not.
    signal.lower = Some(panel(&names, 2, |_, s| [-0.01, 0.01, 0.005][s]).prediction);
    signal.upper = Some(panel(&names, 2, |_, s| [0.07, 0.03, 0.015][s]).prediction);
    let mut skip = Rank::new(
        signal.clone(),
        RankRules {
            interval: IntervalRule::Skip,
            ..rules(2)
        },
    )
    .unwrap();
    assert_eq!(targets(&mut skip, &bars, 0), vec![0.0, 0.5, 0.5]);
    let mut shrink = Rank::new(
        signal,
        RankRules {
            interval: IntervalRule::Shrink,
            ..rules(2)
        },
    )
    .unwrap();
    let w = targets(&mut shrink, &bars, 0);
    // A: mid 0.03, half width 0.04 → 0.5 × 0.03 / 0.07; B: mid 0.02, half 0.01 → 0.5 × 2/3.
    assert!((w[0] - 0.5 * 0.03 / 0.07).abs() < 1e-12, "{w:?}");
    assert!((w[1] - 0.5 * 0.02 / 0.03).abs() < 1e-12, "{w:?}");
    assert_eq!(w[2], 0.0);
}

#[test]
fn bad_rank_parameters_are_refused_by_name() {
    let s = SignalSeries::default();
    let e = |r: RankRules| Rank::new(s.clone(), r).unwrap_err().to_string();
    assert!(e(RankRules { top: 0, ..rules(1) }).contains("`top`"));
    assert!(
        e(RankRules {
            drop: 1.5,
            ..rules(1)
        })
        .contains("`drop`")
    );
    assert!(
        e(RankRules {
            lookback: 1,
            ..rules(1)
        })
        .contains("`lookback`")
    );
}

#[test]
fn a_later_bar_of_any_symbol_changes_no_earlier_target() {
    // Three symbols with different histories; the forecasts and the bars after day `cut` are
    // changed for one symbol at a time: every target and fill up to `cut` stays the same.
    let base: Vec<f64> = (0..60)
        .map(|i| 100.0 + (i as f64 * 0.7).sin() * 5.0)
        .collect();
    let make = |bump: Option<(usize, usize)>| {
        let mut out = Vec::new();
        for (k, keep) in [
            (
                0usize,
                Box::new(|_: usize| true) as Box<dyn Fn(usize) -> bool>,
            ),
            (1, Box::new(|i: usize| i >= 10 && i != 30)),
            (2, Box::new(|i: usize| i < 50)),
        ] {
            let closes: Vec<f64> = base
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let shift = (k as f64 + 1.0) * (i as f64 * 0.3 + k as f64).cos();
                    match bump {
                        Some((sym, cut)) if sym == k && i > cut => c * 1.5 + shift,
                        _ => c + shift,
                    }
                })
                .collect();
            out.push(series(["A", "B", "C"][k], &closes, keep));
        }
        union_calendar(out).unwrap()
    };
    let forecasts = |bars: &[BarSeries]| {
        panel(&["A", "B", "C"], bars[0].len(), |t, s| {
            let c = &bars[s].close;
            if t >= 5 && !c[t].is_nan() && !c[t - 5].is_nan() {
                c[t] / c[t - 5] - 1.0
            } else {
                f64::NAN
            }
        })
    };
    let mut cfg = plain();
    cfg.rebalance = Frequency::Weekly;
    let bars = make(None);
    let strategy = |bars: &[BarSeries]| {
        Rank::new(
            forecasts(bars),
            RankRules {
                drop: 1.0,
                ..rules(2)
            },
        )
        .unwrap()
    };
    let base_run = run(&bars, &mut strategy(&bars), &cfg).unwrap();
    for sym in 0..3 {
        for cut in [15, 31, 45] {
            let changed = make(Some((sym, cut)));
            let r = run(&changed, &mut strategy(&changed), &cfg).unwrap();
            let early = |r: &qts_backtest::engine::BacktestResult| {
                r.fills
                    .iter()
                    .filter(|f| f.bar <= cut)
                    .map(|f| (f.bar, f.symbol.clone(), f.size, f.price))
                    .collect::<Vec<_>>()
            };
            assert_eq!(early(&r), early(&base_run), "symbol {sym}, cut {cut}");
            assert_eq!(r.equity[..=cut], base_run.equity[..=cut]);
        }
    }
}

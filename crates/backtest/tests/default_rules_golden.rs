//! qts's default execution rules against a second, independent implementation of them: a
//! plain Python simulator written from docs/backtest.md alone
//! (`scripts/golden/default_rules.py`, which wrote `tests/golden/default_rules/*.json.gz`).
//! Each case configures the engine through the same `--set` keys a user writes and compares
//! every fill (bar, size, price, commission, slippage, reason), the equity, cash and drawdown
//! at every close, every round trip, the open position and every metric. Cases: GOOG and the
//! S&P 500 daily, BTC/USD monthly; volatility-scaled, fixed-fractional and Kelly sizing;
//! fixed, trailing and ATR stops, take-profit, the breaker's cool-down; daily, weekly (three
//! weekdays) and monthly rebalancing; whole and fractional shares; percent, per-share and
//! fixed commissions, fixed and volatility-scaled slippage; the volume cap; shorts.

#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::{Path, PathBuf};

use qts_backtest::engine::{EngineConfig, run};
use qts_backtest::strategy::registry::Inputs;
use qts_backtest::strategy::{Registry, SignalSeries, SignalStrategy, SmaCross, Strategy};
use qts_backtest::summary::summarize;
use qts_config::ConfigRequest;
use qts_data::BarSeries;
use qts_data::io::read_bars;
use serde_json::Value;

/// Relative agreement asked of every number. The simulator computes each value in its own
/// order (pandas' rolling statistics, sums over lot lists), so the measured differences are a
/// few units of rounding; see `MEASURED` below.
const TOLERANCE: f64 = 1e-9;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden(name: &str) -> Value {
    let path = repo().join(format!(
        "crates/backtest/tests/golden/default_rules/{name}.json.gz"
    ));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The worst relative error seen, per kind of value, for the report at the end of a case.
#[derive(Default)]
struct Errors(Vec<(&'static str, f64)>);

impl Errors {
    fn check(&mut self, kind: &'static str, what: &str, got: f64, want: f64) {
        let err = if got == want {
            0.0
        } else {
            (got - want).abs() / want.abs().max(f64::MIN_POSITIVE)
        };
        assert!(
            err <= TOLERANCE,
            "{what}: qts {got}, simulator {want} (relative error {err:e})"
        );
        match self.0.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, worst)) => *worst = worst.max(err),
            None => self.0.push((kind, err)),
        }
    }
}

/// Several files trade one portfolio on the dates they share: each cut to the dates every one
/// of them has (as the simulator cuts them).
fn common_dates(mut all: Vec<BarSeries>) -> Vec<BarSeries> {
    let shared: std::collections::BTreeSet<_> = all[0]
        .time
        .iter()
        .filter(|t| all.iter().all(|b| b.time.binary_search(t).is_ok()))
        .copied()
        .collect();
    for b in &mut all {
        let keep: Vec<bool> = b.time.iter().map(|t| shared.contains(t)).collect();
        let cut = |v: &mut Vec<f64>| {
            let mut k = keep.iter();
            v.retain(|_| *k.next().unwrap());
        };
        for col in [
            &mut b.open,
            &mut b.high,
            &mut b.low,
            &mut b.close,
            &mut b.volume,
        ] {
            cut(col);
        }
        if let Some(adj) = b.adj_close.as_mut() {
            cut(adj);
        }
        let mut k = keep.iter();
        b.source_rows.retain(|_| *k.next().unwrap());
        b.time.retain(|t| shared.contains(t));
    }
    all
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn day(v: &Value) -> chrono::NaiveDateTime {
    chrono::NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// A universe case's symbols: read as qts reads them (a wide file gives one series per
/// column), each cut to its own history as the case says, on the union of their dates.
fn universe(g: &Value) -> Vec<BarSeries> {
    let files: Vec<PathBuf> = g["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| repo().join("examples/data").join(f.as_str().unwrap()))
        .collect();
    let (read, _) = qts_data::io::read_all_hashed_as(
        &files,
        &qts_data::settings::ReadLimits::default(),
        &qts_data::settings::Layout::default(),
    )
    .unwrap();
    let series = g["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sym| {
            let sym = sym.as_str().unwrap();
            let b = read.iter().find(|b| b.symbol == sym).unwrap();
            let rule = &g["cuts"][sym];
            let from = rule.get("from").map(day);
            let to = rule.get("to").map(day);
            let dropped: Vec<_> = rule
                .get("drop")
                .map(|d| d.as_array().unwrap().iter().map(day).collect())
                .unwrap_or_default();
            let keep: Vec<bool> = b
                .time
                .iter()
                .map(|t| {
                    from.is_none_or(|f| *t >= f)
                        && to.is_none_or(|x| *t <= x)
                        && !dropped.contains(t)
                })
                .collect();
            let pick = |v: &[f64]| {
                v.iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(x, _)| *x)
                    .collect::<Vec<f64>>()
            };
            BarSeries {
                symbol: b.symbol.clone(),
                time: b
                    .time
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(t, _)| *t)
                    .collect(),
                open: pick(&b.open),
                high: pick(&b.high),
                low: pick(&b.low),
                close: pick(&b.close),
                volume: pick(&b.volume),
                adj_close: None,
                source_rows: Vec::new(),
                actions: Vec::new(),
            }
        })
        .collect();
    qts_data::universe::union_calendar(series).unwrap()
}

/// The rank strategy of a universe case, built through the registry from its `--param` text,
/// on the case's predictions read as a long-format table.
fn rank_strategy(g: &Value, all: &[BarSeries]) -> Box<dyn Strategy> {
    let rows = g["predictions"].as_array().unwrap();
    let mut table = qts_data::io::Table {
        time: rows.iter().map(|r| day(&r["date"])).collect(),
        columns: ["prediction", "lower", "upper"]
            .iter()
            .map(|c| (c.to_string(), rows.iter().map(|r| number(&r[c])).collect()))
            .collect(),
        labels: vec![(
            "symbol".into(),
            rows.iter()
                .map(|r| r["symbol"].as_str().unwrap().to_string())
                .collect(),
        )],
    };
    table.time.shrink_to_fit();
    let symbols: Vec<&str> = all.iter().map(|b| b.symbol.as_str()).collect();
    let (signals, note) =
        SignalSeries::from_long_table(&table, &all[0].time, &symbols, "golden").unwrap();
    assert!(note.is_none());
    let params: Vec<(String, String)> = g["strategy"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "name")
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            (k.clone(), text)
        })
        .collect();
    Registry::builtin()
        .build(
            "rank",
            &params,
            &mut Inputs {
                symbols: all.len(),
                signals: Some(signals),
            },
            &qts_backtest::settings::RegimeFilterConfig::default(),
        )
        .unwrap()
}

/// The shipped configuration with a case's `--set` overrides, as a user writes them.
fn configured(g: &Value) -> qts_core::config::Loaded<qts_config::QtsConfig> {
    let overrides: Vec<String> = g["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    ConfigRequest {
        dir: Some(repo().join("config")),
        overrides,
        ..ConfigRequest::default()
    }
    .load::<qts_config::QtsConfig>()
    .unwrap()
}

fn case(name: &str) {
    let g = golden(name);
    let all = if g.get("symbols").is_some() {
        universe(&g)
    } else {
        common_dates(
            g["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    read_bars(&repo().join("examples/data").join(f.as_str().unwrap())).unwrap()
                })
                .collect(),
        )
    };
    let bars = &all[0];
    let loaded = configured(&g);
    let cfg = EngineConfig::from_config(&loaded.config);
    let s = &g["strategy"];
    let mut strategy: Box<dyn Strategy> = match s["name"].as_str().unwrap() {
        "sma-cross" => Box::new(
            SmaCross::new(
                s["fast"].as_u64().unwrap() as usize,
                s["slow"].as_u64().unwrap() as usize,
            )
            .unwrap(),
        ),
        "signal" => {
            let rows: Vec<_> = g["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let date =
                        chrono::NaiveDate::parse_from_str(r["date"].as_str().unwrap(), "%Y-%m-%d")
                            .unwrap();
                    (
                        date.and_hms_opt(0, 0, 0).unwrap(),
                        number(&r["prediction"]),
                        Some(number(&r["lower"])),
                        Some(number(&r["upper"])),
                    )
                })
                .collect();
            let series = SignalSeries::align(&bars.time, &rows);
            Box::new(
                SignalStrategy::new(series, number(&s["long_above"]), number(&s["short_below"]))
                    .unwrap(),
            )
        }
        "rank" => rank_strategy(&g, &all),
        other => panic!("unknown strategy {other}"),
    };
    let result = run(&all, strategy.as_mut(), &cfg).unwrap();
    let mut e = Errors::default();
    if let Some(listed) = g.get("listed") {
        let want: Vec<usize> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(result.listed, want, "{name}: symbols tradable per close");
    }

    let fills = g["fills"].as_array().unwrap();
    for (i, (got, want)) in result.fills.iter().zip(fills).enumerate() {
        let what = |f: &str| format!("{name}: fill {i} ({}) {f}", want["date"]);
        assert_eq!(
            got.bar as u64,
            want["bar"].as_u64().unwrap(),
            "{}",
            what("bar")
        );
        assert_eq!(
            got.reason.as_str(),
            want["reason"].as_str().unwrap(),
            "{}",
            what("reason")
        );
        e.check("fill size", &what("size"), got.size, number(&want["size"]));
        e.check(
            "fill price",
            &what("price"),
            got.price,
            number(&want["price"]),
        );
        e.check(
            "commission",
            &what("commission"),
            got.commission,
            number(&want["commission"]),
        );
        e.check(
            "slippage",
            &what("slippage"),
            got.slippage,
            number(&want["slippage"]),
        );
    }
    assert_eq!(result.fills.len(), fills.len(), "{name}: fill count");

    for (col, got) in [
        ("equity", &result.equity),
        ("cash", &result.cash),
        ("drawdown", &result.drawdown),
    ] {
        let want = g[col].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: {col} length");
        for (i, (x, w)) in got.iter().zip(want).enumerate() {
            e.check(
                "curves",
                &format!("{name}: {col}[{i}] ({})", bars.time[i].date()),
                *x,
                number(w),
            );
        }
    }

    let trades = g["trades"].as_array().unwrap();
    assert_eq!(result.trades.len(), trades.len(), "{name}: round trips");
    for (i, (got, want)) in result.trades.iter().zip(trades).enumerate() {
        let what = |f: &str| format!("{name}: trade {i} ({}) {f}", want["entry_date"]);
        let symbol = &all[want["symbol"].as_u64().unwrap() as usize].symbol;
        assert_eq!(&got.symbol, symbol, "{}", what("symbol"));
        assert_eq!(
            got.side.as_str(),
            want["side"].as_str().unwrap(),
            "{}",
            what("side")
        );
        assert_eq!(
            got.entry_bar as u64,
            want["entry_bar"].as_u64().unwrap(),
            "{}",
            what("entry")
        );
        assert_eq!(
            got.exit_bar as u64,
            want["exit_bar"].as_u64().unwrap(),
            "{}",
            what("exit")
        );
        for (kind, field, x) in [
            ("trade size", "size", got.size),
            ("trade prices", "entry_price", got.entry_price),
            ("trade prices", "exit_price", got.exit_price),
            ("trade pnl", "pnl", got.pnl),
            ("trade return", "return", got.ret),
            ("commission", "commission", got.commission),
            ("trade duration", "duration_days", got.duration_days),
        ] {
            e.check(kind, &what(field), x, number(&want[field]));
        }
    }
    for (s, b) in all.iter().enumerate() {
        let open = result
            .open_positions
            .iter()
            .find(|(sym, _)| *sym == b.symbol)
            .map_or(0.0, |(_, x)| *x);
        e.check(
            "fill size",
            &format!("{name}: open position of {}", b.symbol),
            open,
            number(&g["open_positions"][s]),
        );
    }

    let metrics_cfg = loaded.config.backtest.metrics.to_stats();
    let m = summarize(&result, &bars.close, None, &metrics_cfg);
    let want = g["metrics"].as_object().unwrap();
    assert_eq!(want.len(), 45, "{name}: the simulator's metrics");
    for (key, w) in want {
        let got = m
            .get(key.as_str())
            .unwrap_or_else(|| panic!("{name}: qts has no {key}"));
        let got = got.as_f64();
        if w.is_null() {
            assert!(got.is_nan(), "{name}: {key}: qts {got}, simulator null");
        } else {
            e.check("metrics", &format!("{name}: {key}"), got, number(w));
        }
    }
    assert_eq!(m.len(), want.len(), "{name}: metric count");
    eprintln!(
        "{name}: {} fills, {} trades, {} bars; worst relative error: {}",
        fills.len(),
        trades.len(),
        result.equity.len(),
        e.0.iter()
            .map(|(k, v)| format!("{k} {v:.1e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

#[test]
fn two_symbols_risk_parity_gross_cap_sells_first() {
    case("goog_sp500_risk_parity");
}

#[test]
fn two_symbols_scaled_to_the_gross_limit_breaker_fractional_daily() {
    case("goog_sp500_fixed_gross");
}

#[test]
fn goog_shipped_defaults() {
    case("goog_sma_defaults");
}

#[test]
fn goog_signal_shorts_trailing_stop_take_profit_daily() {
    case("goog_signal_trailing_take_profit");
}

#[test]
fn goog_atr_stop_monthly_fractional_per_share_vol_slippage() {
    case("goog_atr_monthly_fractional");
}

#[test]
fn sp500_breaker_cool_down_wednesday_fixed_commission() {
    case("sp500_sma_breaker");
}

#[test]
fn sp500_kelly_shorts_stops_friday() {
    case("sp500_signal_kelly_short");
}

#[test]
fn btc_monthly_volume_cap_fractional() {
    case("btc_monthly_sma");
}

#[test]
fn btc_monthly_weekly_rule_whole_shares_trailing() {
    case("btc_monthly_weekly_whole");
}

#[test]
fn a_universe_with_a_late_listing_a_delisting_and_missing_days_ranked_top_one() {
    case("goog_sp500_rank_union");
}

#[test]
fn seven_stocks_topk_dropout_with_a_short_forecast_weights_interval_shrink() {
    case("stocks20_rank_dropout_short");
}

#[test]
fn six_stocks_inverse_volatility_interval_skip_monthly() {
    case("stocks20_rank_inverse_vol_skip");
}

/// An equal-weight top-3 portfolio of seven stocks (one listed late, two with missing days)
/// against vectorbt's `Portfolio.from_orders` on the same target weights
/// (`scripts/golden/vectorbt_rank.py`, which wrote `tests/golden/vectorbt_rank.json.gz`):
/// every fill and the equity at every close equal to 1e-9; and the forecasts' rank IC per date
/// and its summary against scipy's `spearmanr`.
#[test]
fn equal_weight_top_k_matches_vectorbt_and_the_rank_ic_matches_scipy() {
    let path = repo().join("crates/backtest/tests/golden/vectorbt_rank.json.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let g: Value = serde_json::from_str(&text).unwrap();
    let all = universe(&g);
    let loaded = configured(&g);
    let cfg = EngineConfig::from_config(&loaded.config);
    let mut strategy = rank_strategy(&g, &all);
    let result = run(&all, strategy.as_mut(), &cfg).unwrap();
    let mut e = Errors::default();
    let value = g["value"].as_array().unwrap();
    assert_eq!(result.equity.len(), value.len());
    for (t, (got, want)) in result.equity.iter().zip(value).enumerate() {
        e.check("equity", &format!("equity[{t}]"), *got, number(want));
    }
    // vectorbt records an order of every target, however small; qts orders a change above
    // 1e-9 shares.
    let fills: Vec<&Value> = g["fills"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| number(&f["size"]).abs() > 1e-6)
        .collect();
    let ours: Vec<_> = result
        .fills
        .iter()
        .filter(|f| f.size.abs() > 1e-6)
        .collect();
    assert_eq!(ours.len(), fills.len(), "fills");
    let mut ours = ours;
    ours.sort_by_key(|f| {
        (
            f.bar,
            all.iter().position(|b| b.symbol == f.symbol).unwrap(),
        )
    });
    for (got, want) in ours.iter().zip(&fills) {
        let what = format!("fill {} {}", want["bar"], want["symbol"]);
        assert_eq!(got.bar as u64, want["bar"].as_u64().unwrap(), "{what}");
        assert_eq!(got.symbol, want["symbol"].as_str().unwrap(), "{what}");
        e.check("size", &what, got.size, number(&want["size"]));
        e.check("price", &what, got.price, number(&want["price"]));
        e.check(
            "commission",
            &what,
            got.commission,
            number(&want["commission"]),
        );
    }
    // The rank IC, date by date, and its summary.
    let symbols: Vec<&str> = all.iter().map(|b| b.symbol.as_str()).collect();
    let rows = g["predictions"].as_array().unwrap();
    let table = qts_data::io::Table {
        time: rows.iter().map(|r| day(&r["date"])).collect(),
        columns: vec![(
            "prediction".into(),
            rows.iter().map(|r| number(&r["prediction"])).collect(),
        )],
        labels: vec![(
            "symbol".into(),
            rows.iter()
                .map(|r| r["symbol"].as_str().unwrap().to_string())
                .collect(),
        )],
    };
    let (signals, _) =
        SignalSeries::from_long_table(&table, &all[0].time, &symbols, "golden").unwrap();
    let (ic, _) = qts_backtest::universe::rank_ic(&all, &signals, 0, all[0].len());
    let want = g["rank_ic"].as_array().unwrap();
    assert_eq!(ic.len(), want.len(), "dates with an IC");
    for ((date, got), w) in ic.iter().zip(want) {
        assert_eq!(date.to_string(), w["date"].as_str().unwrap());
        assert!(
            (got - number(&w["ic"])).abs() < 1e-12,
            "{date}: {got} vs {}",
            w["ic"]
        );
    }
    let summary =
        qts_stats::cross_section::RankIc::of(&ic.iter().map(|x| x.1).collect::<Vec<_>>()).unwrap();
    let s = &g["rank_ic_summary"];
    for (name, got) in [
        ("mean", summary.mean),
        ("std", summary.std),
        ("t_stat", summary.t_stat),
        ("icir", summary.icir),
    ] {
        e.check("rank IC", name, got, number(&s[name]));
    }
    eprintln!(
        "vectorbt_rank: {} fills, {} bars, {} IC dates; worst relative error: {}",
        fills.len(),
        result.equity.len(),
        ic.len(),
        e.0.iter()
            .map(|(k, v)| format!("{k} {v:.1e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

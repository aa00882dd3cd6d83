//! The daily decision: after a close, what to trade at the next open.
//!
//! A decision is the engine's own step, not a second implementation: the engine runs over the
//! bars up to the close just passed, with the next session known
//! ([`EngineConfig::next_session`]), so the strategy decides at that close exactly as it did
//! at every close of a backtest, and the orders it leaves open are the decision. Hence
//! `qts decide --as-of D` gives the orders `qts backtest` placed at D's close, for every D
//! (tested over a year of the sample data), and the paper account, which replays the engine
//! the same way, cannot drift from the backtest.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::engine::{BacktestResult, EngineConfig, Execution, run_checked};
use crate::error::BacktestError;
use crate::order::{OrderKind, OrderStatus, TimeInForce};
use crate::report::{Market, Settings, Stamp};
use crate::settings::FillPrice;
use crate::strategy::Strategy;

/// What a decision is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecideRequest {
    /// The close just passed: bars after this day are never read.
    pub as_of: NaiveDate,
    /// The first day that may be traded (a paper account's first step); `None` trades the
    /// whole history, as `qts backtest` does.
    pub trade_from: Option<NaiveDate>,
    /// Refuse a history whose newest bar is this many trading days behind `as_of` (0: never).
    pub stale_after_days: u32,
}

/// How one symbol's target position was sized at the close, step by step: the strategy's
/// strength, the sizing method's weight, the forecast interval's shrink, the account's caps,
/// and the shares that weight buys at the close. What `qts decide` prints beside each order,
/// so "4 shares" and "1 share" never differ without a reason shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingLine {
    /// The symbol.
    pub symbol: String,
    /// The strategy's signed strength in [-1, 1].
    pub strength: f64,
    /// The sizing method (`backtest.position_sizing.method`).
    pub method: String,
    /// Annualised volatility over the lookback (`null` when the method does not read it).
    pub annual_volatility: Option<f64>,
    /// The method's weight of equity, before the interval.
    pub sized: f64,
    /// The forecast interval's factor (1 without an interval or with the shrink off).
    pub interval_factor: f64,
    /// The weight after the caps (position, gross exposure, no shorts).
    pub weight: f64,
    /// The position cap in force.
    pub cap: f64,
    /// Equity at the close.
    pub equity: f64,
    /// The close.
    pub close: f64,
    /// The shares `weight` of `equity` buys at `close` (rounded as the account trades).
    pub shares: f64,
}

/// One symbol's position after the close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionLine {
    /// Symbol.
    pub symbol: String,
    /// Signed shares held.
    pub shares: f64,
    /// The close it is marked at.
    pub close: f64,
    /// Shares × close.
    pub value: f64,
    /// Value as a fraction of equity.
    pub weight: f64,
    /// Average entry price (NaN when flat, written as null).
    pub avg_entry: Option<f64>,
    /// Shares held once the decision's market orders fill.
    pub target_shares: f64,
    /// The strategy's standing target strength in [-1, 1] (null: none yet).
    pub target_strength: Option<f64>,
    /// The forecast behind the target, with its interval when the model gave one.
    pub forecast: Option<ForecastLine>,
    /// The stop the position carries into the next session (price and rule), if any.
    pub stop: Option<Level>,
    /// The take-profit level, if enabled.
    pub take_profit: Option<f64>,
}

/// A forecast as printed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastLine {
    /// Expected next return.
    pub expected: f64,
    /// Lower bound of its interval.
    pub lower: Option<f64>,
    /// Upper bound.
    pub upper: Option<f64>,
}

/// A protective level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Price.
    pub price: f64,
    /// The rule that set it (`stop_loss`, `trailing_stop`, `atr_stop`).
    pub rule: String,
}

/// One order for the next session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The engine's order number.
    pub id: u64,
    /// Symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Unsigned shares.
    pub shares: f64,
    /// `market`, `limit`, `stop` or `stop_limit`.
    pub order_type: String,
    /// Limit price, if any.
    pub limit: Option<f64>,
    /// Stop price, if any.
    pub stop: Option<f64>,
    /// `day` or `gtc`.
    pub time_in_force: String,
    /// Why it exists (`rebalance`, `circuit_breaker`, `strategy`).
    pub reason: String,
    /// The day of the close it was decided at.
    pub decided: String,
}

/// What to trade at the next open, and the state it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// What the reader of the orders must know: symbols without a bar at the close
    /// (delisted, or data late).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The strategy and its parameters.
    pub strategy: String,
    /// The close the decision was taken at (the newest bar read).
    pub as_of: String,
    /// The session the orders are for.
    pub next_session: String,
    /// Whether the next session is a rebalance day (when it is not, only protective and
    /// breaker orders can be placed).
    pub rebalance_day: bool,
    /// The next rebalance day after the next session when that session is not one (the
    /// configured schedule on the NYSE calendar); `null` on a rebalance day.
    pub next_rebalance: Option<String>,
    /// Whether the drawdown breaker's cool-down covers the next session.
    pub cooling_down: bool,
    /// First day traded by the run behind the decision.
    pub traded_from: String,
    /// Cash after the close.
    pub cash: f64,
    /// Equity after the close.
    pub equity: f64,
    /// Drawdown from the equity peak at the close (≤ 0).
    pub drawdown: f64,
    /// Each symbol's position and target.
    pub positions: Vec<PositionLine>,
    /// Orders for the next session (new at this close, or standing from earlier ones).
    pub orders: Vec<OrderLine>,
    /// How each target was sized, on a rebalance day (empty otherwise: no target is sized).
    pub sizing: Vec<SizingLine>,
    /// The account the orders are for: `replayed` (the strategy's own account since the first
    /// day traded) or `holdings` (the cash and shares given with `--holdings`).
    pub account: String,
    /// Findings tolerated by validation.
    pub validation: qts_data::validate::Summary,
    /// Provenance.
    pub stamp: Stamp,
    /// The run behind the decision (the paper account records its fills).
    #[serde(skip)]
    pub result: BacktestResult,
}

/// Decides what to trade at the session after `request.as_of` under `settings` (qts's
/// execution rules; its window is ignored: `request` says what is traded).
///
/// # Errors
/// [`BacktestError::Window`] when no bar falls on or before `as_of` (or after `trade_from`),
/// [`BacktestError::Stale`] when the newest bar is too old, [`BacktestError::Config`] for
/// settings a next-open decision cannot follow.
pub fn decide(
    market: &Market,
    strategy: &mut dyn Strategy,
    settings: &Settings,
    request: &DecideRequest,
    stamp: Stamp,
) -> Result<Decision, BacktestError> {
    let engine = &settings.engine;
    if engine.execution != Execution::Default {
        return Err(BacktestError::Config(
            "a decision follows qts's execution rules; backtesting.py's are for comparison only"
                .into(),
        ));
    }
    if engine.fill_price == FillPrice::Close {
        return Err(BacktestError::Config(
            "backtest.execution.fill_price is `close`: a backtest fills at the deciding close, \
             which cannot be traded after it; set it to `next_open` to decide for the next open"
                .into(),
        ));
    }
    let bars = market.bars();
    let time = &bars[0].time;
    let until = time.partition_point(|t| t.date() <= request.as_of);
    let Some(last) = until.checked_sub(1).map(|i| time[i].date()) else {
        return Err(BacktestError::Window(format!(
            "no bar on or before {} (the data starts {})",
            request.as_of,
            time.first()
                .map_or("nowhere".into(), |t| t.date().to_string())
        )));
    };
    let behind = qts_data::calendar::sessions_between(last, request.as_of);
    if request.stale_after_days > 0 && behind >= request.stale_after_days as usize {
        return Err(BacktestError::Stale {
            newest: last,
            as_of: request.as_of,
            sessions: behind,
            limit: request.stale_after_days,
        });
    }
    let from = request
        .trade_from
        .map_or(0, |f| time.partition_point(|t| t.date() < f));
    if from >= until {
        return Err(BacktestError::Window(format!(
            "nothing to trade: the first day traded ({}) is after the newest bar on or before {} ({last})",
            request.trade_from.map_or("start".into(), |d| d.to_string()),
            request.as_of
        )));
    }
    // The orders fill at the open after the close they were decided at: with data a session
    // behind `as_of` (before today's close is published), that is `as_of`'s own session.
    let next = qts_data::calendar::next_trading_day(last);
    let cfg = EngineConfig {
        trade_from: from,
        trade_until: until,
        close_at_end: false,
        next_session: Some(next.and_time(chrono::NaiveTime::MIN)),
        ..engine.clone()
    };
    let result = run_checked(bars, strategy, &cfg)?;
    let t = until - 1;
    let equity = result
        .equity
        .last()
        .copied()
        .unwrap_or(engine.initial_capital);
    let orders: Vec<OrderLine> = result
        .orders
        .iter()
        .filter(|r| r.status == OrderStatus::Open)
        .map(|r| order_line(&r.order, &bars[r.order.symbol].symbol, time))
        .collect();
    let positions = bars
        .iter()
        .enumerate()
        .map(|(s, b)| {
            let shares = result
                .open_positions
                .iter()
                .find(|(name, _)| *name == b.symbol)
                .map_or(0.0, |p| p.1);
            // A symbol without a bar at the close is valued at its last one.
            let close = b.close[..=t]
                .iter()
                .rev()
                .find(|c| !c.is_nan())
                .copied()
                .unwrap_or(f64::NAN);
            let pending: f64 = result
                .orders
                .iter()
                .filter(|r| {
                    r.status == OrderStatus::Open
                        && r.order.symbol == s
                        && r.order.kind == OrderKind::Market
                })
                .map(|r| r.order.size)
                .sum();
            let target = result.end.targets.get(s).copied().flatten();
            let levels = result.end.protective.get(s).copied().unwrap_or_default();
            let entry = result.end.avg_entry.get(s).copied().unwrap_or(f64::NAN);
            PositionLine {
                symbol: b.symbol.clone(),
                shares,
                close,
                value: shares * close,
                weight: if equity != 0.0 {
                    shares * close / equity
                } else {
                    0.0
                },
                avg_entry: entry.is_finite().then_some(entry),
                target_shares: shares + pending,
                target_strength: target.map(|x| x.0),
                forecast: target.and_then(|x| x.1).map(|f| ForecastLine {
                    expected: f.expected,
                    lower: f.lower,
                    upper: f.upper,
                }),
                stop: levels.stop.map(|(price, rule)| Level {
                    price,
                    rule: rule.as_str().to_string(),
                }),
                take_profit: levels.take_profit,
            }
        })
        .collect();
    // Symbols without a bar at the close decided at: not traded today; a symbol whose bars
    // ended before it was closed as delisted — late data looks the same, so say which.
    let notes: Vec<String> = bars
        .iter()
        .filter(|b| b.close[t].is_nan())
        .filter_map(|b| {
            let l = qts_data::universe::Listing::of(b)?;
            let last_day = time[l.last.min(t)].date();
            Some(if l.last < t {
                format!(
                    "{} has no bar after {last_day}: it was closed as delisted; if its data is only late, refresh it before trading",
                    b.symbol
                )
            } else {
                format!(
                    "{} has no bar on {last}: it is held at its last close ({last_day}) and not traded today",
                    b.symbol
                )
            })
        })
        .collect();
    Ok(Decision {
        notes,
        strategy: result.strategy.clone(),
        as_of: last.to_string(),
        next_session: next.to_string(),
        sizing: if result.end.rebalance_next && !result.end.cooling_down {
            sizing_chain(bars, &result, t, equity, &cfg)
        } else {
            Vec::new()
        },
        account: "replayed".into(),
        rebalance_day: result.end.rebalance_next,
        next_rebalance: (!result.end.rebalance_next)
            .then(|| next_rebalance(&time[..until], next, engine))
            .flatten()
            .map(|d| d.to_string()),
        cooling_down: result.end.cooling_down,
        traded_from: time[from].date().to_string(),
        cash: result
            .cash
            .last()
            .copied()
            .unwrap_or(engine.initial_capital),
        equity,
        drawdown: result.drawdown.last().copied().unwrap_or(0.0),
        positions,
        orders,
        validation: market.validation(),
        stamp,
        result,
    })
}

fn order_line(o: &crate::order::Order, symbol: &str, time: &[chrono::NaiveDateTime]) -> OrderLine {
    let (order_type, limit, stop) = match o.kind {
        OrderKind::Market => ("market", None, None),
        OrderKind::Limit { limit } => ("limit", Some(limit), None),
        OrderKind::Stop { stop } => ("stop", None, Some(stop)),
        OrderKind::StopLimit { stop, limit } => ("stop_limit", Some(limit), Some(stop)),
    };
    OrderLine {
        id: o.id,
        symbol: symbol.to_string(),
        side: if o.size > 0.0 { "buy" } else { "sell" }.into(),
        shares: o.size.abs(),
        order_type: order_type.into(),
        limit,
        stop,
        time_in_force: match o.tif {
            TimeInForce::Day => "day",
            TimeInForce::Gtc => "gtc",
        }
        .into(),
        reason: o.reason.as_str().to_string(),
        decided: time
            .get(o.submitted_bar)
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
    }
}

/// The first rebalance day after `next` (the next session) under `engine`'s schedule: the
/// schedule's own rule run over the bars and the NYSE sessions after them, so a weekly
/// rebalance on a holiday Monday moves to the Tuesday exactly as the backtest does.
fn next_rebalance(
    time: &[chrono::NaiveDateTime],
    next: chrono::NaiveDate,
    engine: &EngineConfig,
) -> Option<chrono::NaiveDate> {
    let mut days: Vec<chrono::NaiveDateTime> = time.to_vec();
    let mut d = next;
    let from = days.len();
    // Two months of sessions hold the next weekly or monthly rebalance.
    for _ in 0..45 {
        days.push(d.and_time(chrono::NaiveTime::MIN));
        d = qts_data::calendar::next_trading_day(d);
    }
    let flags = crate::schedule::rebalance_flags(&days, None, engine);
    (from + 1..days.len())
        .find(|&i| flags[i])
        .map(|i| days[i].date())
}

/// The sizing of each target at bar `t` as the engine's rules size it
/// ([`crate::sizing::weights`], [`crate::sizing::cap`]), one step at a time.
fn sizing_chain(
    bars: &[qts_data::BarSeries],
    result: &BacktestResult,
    t: usize,
    equity: f64,
    cfg: &EngineConfig,
) -> Vec<SizingLine> {
    use crate::settings::SizingMethod;
    use crate::sizing::{Input, cap, interval_factor, weights};
    use qts_data::features::kernels::{log_return, rolling_std};
    // A strategy that sizes itself gives weights: the sizer is not read.
    let own = cfg.strategy_weights;
    let reads_vol = !own && cfg.sizing.method != SizingMethod::FixedFractional;
    let inputs: Vec<Input> = bars
        .iter()
        .enumerate()
        .map(|(s, b)| {
            let (strength, forecast) = result
                .end
                .targets
                .get(s)
                .copied()
                .flatten()
                .unwrap_or((0.0, None));
            let daily_vol = if reads_vol {
                qts_data::universe::on_present(b, |p| {
                    rolling_std(&log_return(&p.close, 1), cfg.sizing.volatility_lookback)
                })
                .get(t)
                .copied()
                .unwrap_or(f64::NAN)
            } else {
                f64::NAN
            };
            Input {
                strength,
                forecast,
                daily_vol,
            }
        })
        .collect();
    let plain = crate::settings::SizingConfig {
        shrink_by_interval: false,
        ..cfg.sizing.clone()
    };
    let (sized, mut capped) = if own {
        let w: Vec<f64> = inputs.iter().map(|i| i.strength).collect();
        (w.clone(), w)
    } else {
        (
            weights(&inputs, &plain, cfg.periods_per_year),
            weights(&inputs, &cfg.sizing, cfg.periods_per_year),
        )
    };
    cap(&mut capped, &cfg.limits, cfg.allow_short);
    bars.iter()
        .enumerate()
        .filter(|(s, _)| result.end.targets.get(*s).copied().flatten().is_some())
        .map(|(s, b)| {
            let i = inputs[s];
            // A symbol without a bar at the close is marked at its last one.
            let close = b.close[..=t.min(b.len().saturating_sub(1))]
                .iter()
                .rev()
                .find(|c| !c.is_nan())
                .copied()
                .unwrap_or(f64::NAN);
            SizingLine {
                symbol: b.symbol.clone(),
                strength: i.strength,
                method: if own {
                    "weight chosen by the strategy".to_string()
                } else {
                    serde_json::to_value(cfg.sizing.method)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                },
                annual_volatility: (reads_vol && i.daily_vol.is_finite())
                    .then(|| i.daily_vol * cfg.periods_per_year.sqrt()),
                sized: sized[s],
                interval_factor: if cfg.sizing.shrink_by_interval && !own {
                    interval_factor(i.forecast)
                } else {
                    1.0
                },
                weight: capped[s],
                cap: cfg.limits.max_position_fraction,
                equity,
                close,
                shares: crate::execution::round_shares(cfg, capped[s] * equity / close),
            }
        })
        .collect()
}

/// A real account's holdings: its cash and the shares of each symbol, as a user copies them
/// from a broker (`--holdings FILE`), so a decision orders what takes *that* account to the
/// strategy's targets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Holdings {
    /// Cash.
    pub cash: f64,
    /// Signed shares by symbol (absent: none).
    pub shares: std::collections::BTreeMap<String, f64>,
}

impl Holdings {
    /// Parses `symbol,shares` CSV text (named `source` in errors) whose `CASH` row (any case)
    /// gives the cash. Every symbol must be one of `symbols`, once; numbers finite; the cash
    /// row present.
    ///
    /// # Errors
    /// [`BacktestError::Config`] naming the file, the line and what is wrong.
    pub fn parse(source: &str, text: &str, symbols: &[String]) -> Result<Holdings, BacktestError> {
        let bad =
            |line: usize, what: String| BacktestError::Config(format!("{source}:{line}: {what}"));
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines
            .next()
            .map(|(_, l)| l.trim().to_ascii_lowercase().replace(' ', ""));
        if header.as_deref() != Some("symbol,shares") {
            return Err(BacktestError::Config(format!(
                "{source}: the first line must be the header `symbol,shares` (then one line per symbol and a `CASH,amount` line)"
            )));
        }
        let mut out = Holdings::default();
        let mut cash = None;
        for (i, l) in lines {
            let line = i + 1;
            let Some((symbol, value)) = l.split_once(',') else {
                return Err(bad(line, format!("`{l}` is not `symbol,shares`")));
            };
            let (symbol, value) = (symbol.trim(), value.trim());
            let x: f64 = value
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| bad(line, format!("`{value}` is not a number")))?;
            if symbol.eq_ignore_ascii_case("cash") {
                if cash.replace(x).is_some() {
                    return Err(bad(line, "a second CASH line".into()));
                }
            } else if !symbols.iter().any(|s| s == symbol) {
                return Err(bad(
                    line,
                    format!(
                        "`{symbol}` is not a symbol this decision trades ({})",
                        symbols.join(", ")
                    ),
                ));
            } else if out.shares.insert(symbol.to_string(), x).is_some() {
                return Err(bad(line, format!("`{symbol}` is listed twice")));
            }
        }
        out.cash = cash.ok_or_else(|| {
            BacktestError::Config(format!(
                "{source}: no `CASH,amount` line: the account's cash is needed to size its orders"
            ))
        })?;
        Ok(out)
    }
}

impl Decision {
    /// This decision for the account `holdings` describes instead of the replayed one: the
    /// same targets (weights of equity, from [`Decision::sizing`]) applied to that account's
    /// equity at the close, and the market orders that take its shares there (sells first). On
    /// a day that is not a rebalance day nothing is ordered but the protective exits the
    /// replay placed, each as a sale of what the account holds of the symbol.
    pub fn for_holdings(mut self, holdings: &Holdings, engine: &EngineConfig) -> Decision {
        let held = |s: &str| holdings.shares.get(s).copied().unwrap_or(0.0);
        let equity = holdings.cash
            + self
                .positions
                .iter()
                .map(|p| held(&p.symbol) * p.close)
                .sum::<f64>();
        let mut orders: Vec<OrderLine> = Vec::new();
        let target_of = |p: &PositionLine, sizing: &[SizingLine]| -> f64 {
            match sizing.iter().find(|z| z.symbol == p.symbol) {
                Some(z) => crate::execution::round_shares(engine, z.weight * equity / p.close),
                None if p.target_strength.is_some() => 0.0,
                None => held(&p.symbol),
            }
        };
        let sizing_day = !self.sizing.is_empty() || (self.rebalance_day && !self.cooling_down);
        for p in &mut self.positions {
            let now = held(&p.symbol);
            let target = if sizing_day {
                target_of(p, &self.sizing)
            } else {
                let exit = self
                    .orders
                    .iter()
                    .any(|o| o.symbol == p.symbol && o.reason != "rebalance");
                if exit { 0.0 } else { now }
            };
            let delta = target - now;
            if delta.abs() > 1e-9 {
                orders.push(OrderLine {
                    id: 0,
                    symbol: p.symbol.clone(),
                    side: if delta > 0.0 { "buy" } else { "sell" }.into(),
                    shares: delta.abs(),
                    order_type: "market".into(),
                    limit: None,
                    stop: None,
                    time_in_force: "day".into(),
                    reason: if sizing_day { "rebalance" } else { "exit" }.into(),
                    decided: self.as_of.clone(),
                });
            }
            p.shares = now;
            p.value = now * p.close;
            p.weight = if equity != 0.0 { p.value / equity } else { 0.0 };
            // The replay's entry price and the stops drawn from it are not this account's.
            p.avg_entry = None;
            p.stop = None;
            p.take_profit = None;
            p.target_shares = target;
        }
        orders.sort_by_key(|o| o.side == "buy");
        for (k, o) in orders.iter_mut().enumerate() {
            o.id = k as u64 + 1;
        }
        for z in &mut self.sizing {
            z.equity = equity;
            z.shares = crate::execution::round_shares(engine, z.weight * equity / z.close);
        }
        self.orders = orders;
        self.cash = holdings.cash;
        self.equity = equity;
        self.drawdown = f64::NAN;
        self.account = "holdings".into();
        self
    }
}

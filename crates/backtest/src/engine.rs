//! The event-driven engine. For each bar, in time order:
//!
//! 1. orders submitted at the previous close fill against this bar (market at the open; limit,
//!    stop and stop-limit when the bar's range reaches them; an open that gaps through a stop
//!    fills at the open);
//! 2. protective exits are checked against this bar: stop-loss, trailing and ATR stops first,
//!    then take-profit (when one bar reaches both, the stop is assumed hit first);
//! 3. equity is marked at the close, and the drawdown circuit breaker is checked;
//! 4. the strategy sees the bars up to this close and answers; the execution rules
//!    (`execution.rs`) turn its targets into orders for the next bar (or, under qts's
//!    rules with `fill_price: close`, fill them at this close).
//!
//! Nothing at bar t uses data after t. The loop allocates nothing per bar: buffers are kept
//! between bars and only results (fills, orders, trades) grow.

use chrono::NaiveDateTime;

use crate::execution::{Desk, OrderRequest, Rules, Size, Target, round_shares, rules_for};
use crate::fill_rules::{limit_fill, python_floordiv, stop_fill};
use crate::schedule::rebalance_flags;
use crate::settings::{
    BacktestConfig, CostsConfig, FillPrice, Frequency, RiskLimits, SizingConfig, SlippageModel,
    StopsConfig, Weekday,
};
use qts_data::BarSeries;
use qts_data::features::kernels::{atr, log_return, rolling_std};
use qts_data::universe::{Listing, carried_closes, has_bar, is_ragged, on_present};
use serde::{Deserialize, Serialize};

use crate::costs::Costs;
use crate::error::BacktestError;
use crate::order::{Fill, Order, OrderKind, OrderStatus, Reason, TimeInForce};
use crate::portfolio::{Portfolio, Trade, scaled_shares};
use crate::strategy::{Action, Context, Forecast, Strategy};

/// Which execution rules the broker follows.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Execution {
    /// qts's rules: the configured sizing, costs, schedule and risk controls.
    Default,
    /// backtesting.py's rules: every new target closes the position and goes all in (whole
    /// shares, `int(cash × (1 − ε) // (price × (1 + commission)))`), at the next open,
    /// commission charged on entry and exit value, no stops, daily decisions.
    BacktestingPy,
}

/// Everything the engine needs besides bars and a strategy.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Starting cash.
    pub initial_capital: f64,
    /// Execution rules.
    pub execution: Execution,
    /// Fill price of market orders.
    pub fill_price: FillPrice,
    /// Costs.
    pub costs: CostsConfig,
    /// Sizing.
    pub sizing: SizingConfig,
    /// Stops and the circuit breaker.
    pub stops: StopsConfig,
    /// Account limits.
    pub limits: RiskLimits,
    /// Rebalancing schedule.
    pub rebalance: Frequency,
    /// Weekday of weekly rebalances.
    pub weekday: Weekday,
    /// Whether shorts are allowed.
    pub allow_short: bool,
    /// Whether fractional shares are allowed.
    pub fractional_shares: bool,
    /// Borrowing as a multiple of equity.
    pub margin: f64,
    /// Periods a year (for volatility sizing).
    pub periods_per_year: f64,
    /// The first bar that may be traded (the backtest window's start; 0 for all). Bars before
    /// it warm up indicators and the strategy's state: the strategy sees them and its targets
    /// stand, but no order is placed before this bar's close, and the result (equity, cash,
    /// drawdown, exposure) starts at this bar.
    pub trade_from: usize,
    /// One past the last bar the backtest runs to (the window's end; `usize::MAX` for all):
    /// later bars are never read.
    pub trade_until: usize,
    /// Close every position at the last bar's close (market, with costs; reason
    /// `end_of_data`), so the result ends flat: how a walk-forward window hands its cash to
    /// the next.
    pub close_at_end: bool,
    /// Live decisions: the session after the last bar (the next trading day). When set, the
    /// strategy also decides at the last bar's close, as it would have in a backtest that had
    /// the next bar, and the orders it places stay open for that session
    /// ([`BacktestResult::orders`] with status `open`); that session's rebalance day comes
    /// from this date. `qts decide` and the paper account use it, so a live decision is the
    /// engine's own step, not a second implementation.
    pub next_session: Option<NaiveDateTime>,
    /// Whether the risk overlays of the configuration apply (see
    /// [`EngineConfig::without_overlays`]).
    pub overlays: bool,
    /// Whether the strategy chooses the weights (the registry's `sizes`: the configured
    /// sizer is skipped). What the result's terms say; the engine asks the strategy itself
    /// ([`Strategy::sizes`]).
    pub strategy_weights: bool,
    /// The price basis of the bars (`data.adjustment`): on `raw` the engine splits positions
    /// at an ex-date's open.
    pub basis: qts_data::actions::Basis,
    /// Whether cash dividends of the bars' actions are paid (`backtest.dividends`).
    pub dividends: bool,
    /// Shares held at the first traded bar's close ([`EngineConfig::trade_from`]), each
    /// valued at that close, besides the cash (`initial_capital`): an account opened with the
    /// holdings of a real one (`qts paper init --holdings`). Each is a lot entered at that
    /// close without a commission; the strategy's first decision takes them to its targets.
    pub opening: Vec<(String, f64)>,
}

impl EngineConfig {
    /// The engine settings of a loaded configuration.
    pub fn from_config(cfg: &dyn crate::settings::BacktestSettings) -> EngineConfig {
        let b: &BacktestConfig = cfg.backtest();
        EngineConfig {
            initial_capital: b.initial_capital,
            execution: Execution::Default,
            fill_price: b.execution.fill_price,
            costs: b.costs.clone(),
            sizing: b.position_sizing.clone(),
            stops: b.risk.clone(),
            limits: cfg.risk().clone(),
            rebalance: cfg.trading().rebalance,
            weekday: cfg.trading().rebalance_weekday,
            allow_short: cfg.trading().allow_short,
            fractional_shares: cfg.trading().fractional_shares,
            margin: b.execution.margin,
            periods_per_year: f64::from(b.metrics.periods_per_year),
            trade_from: 0,
            trade_until: usize::MAX,
            close_at_end: false,
            next_session: None,
            overlays: true,
            strategy_weights: false,
            basis: cfg.price_basis(),
            dividends: b.dividends,
            opening: Vec::new(),
        }
    }

    /// The account held whole by the strategy's targets, without the risk overlays: each
    /// target is sized at the whole equity (no volatility targeting, no position cap beyond
    /// the gross exposure), no stops, no breaker, and a position changes only when the target
    /// does. What `buy-and-hold` means unless the overlays are asked for.
    pub fn without_overlays(mut self) -> EngineConfig {
        self.sizing.method = crate::settings::SizingMethod::FixedFractional;
        self.sizing.fixed_fraction = 1.0;
        self.limits.max_position_fraction = 1.0;
        self.stops.stop_loss.enabled = false;
        self.stops.take_profit.enabled = false;
        self.stops.trailing_stop.enabled = false;
        self.stops.atr_stop.enabled = false;
        self.stops.circuit_breaker.enabled = false;
        self.rebalance = Frequency::Signal;
        self.overlays = false;
        self
    }

    /// The rules in force, as every result lists them (`settings` in the JSON).
    pub fn active(&self) -> ActiveSettings {
        ActiveSettings {
            execution: self.execution,
            fill_price: self.fill_price,
            overlays: self.overlays,
            strategy_weights: self.strategy_weights,
            sizing: self.sizing.clone(),
            limits: self.limits.clone(),
            stops: self.stops.clone(),
            rebalance: self.rebalance,
            rebalance_weekday: self.weekday,
            costs: self.costs.clone(),
            allow_short: self.allow_short,
            fractional_shares: self.fractional_shares,
            margin: self.margin,
            price_basis: self.basis,
            dividends: self.dividends,
        }
    }

    /// Switches to backtesting.py's execution rules (see [`Execution::BacktestingPy`]),
    /// keeping the capital and the commission rate.
    pub fn backtesting_py(mut self) -> EngineConfig {
        self.execution = Execution::BacktestingPy;
        self.fill_price = FillPrice::NextOpen;
        self.costs.commission_model = crate::settings::CommissionModel::Percent;
        self.costs.slippage_model = SlippageModel::None;
        self.costs.max_volume_fraction = 1.0;
        self.stops.stop_loss.enabled = false;
        self.stops.take_profit.enabled = false;
        self.stops.trailing_stop.enabled = false;
        self.stops.atr_stop.enabled = false;
        self.stops.circuit_breaker.enabled = false;
        self.rebalance = Frequency::Daily;
        self.allow_short = true;
        self.fractional_shares = false;
        self
    }
}

/// The rules a result was produced under: sizer, caps, stops, breaker, rebalance rule, costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveSettings {
    /// Execution rules.
    pub execution: Execution,
    /// Fill price of market orders.
    pub fill_price: FillPrice,
    /// Whether `backtest_config.yaml`'s risk overlays apply (false: the strategy's targets
    /// hold the whole account, as buy-and-hold does by default).
    pub overlays: bool,
    /// Whether the strategy chose the weights (the sizer skipped).
    #[serde(default)]
    pub strategy_weights: bool,
    /// The sizer.
    pub sizing: SizingConfig,
    /// Account limits (position cap, gross exposure).
    pub limits: RiskLimits,
    /// Stops and the breaker (each with `enabled`).
    pub stops: StopsConfig,
    /// Rebalancing rule.
    pub rebalance: Frequency,
    /// Weekday of weekly rebalances.
    pub rebalance_weekday: Weekday,
    /// Commission and slippage.
    pub costs: CostsConfig,
    /// Whether shorts are allowed.
    pub allow_short: bool,
    /// Whether fractional shares are allowed.
    pub fractional_shares: bool,
    /// Borrowing as a multiple of equity.
    pub margin: f64,
    /// The price basis the bars were read on.
    #[serde(default)]
    pub price_basis: qts_data::actions::Basis,
    /// Whether cash dividends were paid to positions.
    #[serde(default = "yes")]
    pub dividends: bool,
}

fn yes() -> bool {
    true
}

/// `monday` → `Monday`.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl ActiveSettings {
    /// The terms a result traded under, in one line a person reads beside its numbers
    /// ("volatility-sized to 15% a year, at most 25% of equity a position, stop-loss 8%,
    /// breaker at 20% drawdown, rebalanced weekly on Monday"), so results sized differently
    /// are never set side by side unsaid.
    pub fn terms(&self) -> String {
        use crate::settings::SizingMethod;
        let pct = |x: f64| format!("{}%", (100.0 * x * 100.0).round() / 100.0);
        if self.execution == Execution::BacktestingPy {
            return "backtesting.py's rules: all in on each new target, whole shares, no stops"
                .into();
        }
        if !self.overlays {
            return "the whole account: no volatility sizing, position cap, stops or breaker"
                .into();
        }
        let s = &self.sizing;
        let mut parts = vec![match s.method {
            _ if self.strategy_weights => "weights chosen by the strategy".to_string(),
            SizingMethod::FixedFractional => {
                format!("{} of equity a position", pct(s.fixed_fraction))
            }
            SizingMethod::VolatilityScaled => {
                format!("volatility-sized to {} a year", pct(s.target_volatility))
            }
            SizingMethod::Kelly => {
                format!("{}× Kelly, at most {}", s.kelly_fraction, pct(s.kelly_cap))
            }
            SizingMethod::RiskParity => format!(
                "inverse-volatility weights to {} a year",
                pct(s.target_volatility)
            ),
        }];
        if self.limits.max_position_fraction < 1.0 {
            parts.push(format!(
                "at most {} of equity a position",
                pct(self.limits.max_position_fraction)
            ));
        }
        let st = &self.stops;
        for (on, text) in [
            (
                st.stop_loss.enabled,
                format!("stop-loss {}", pct(st.stop_loss.pct)),
            ),
            (
                st.take_profit.enabled,
                format!("take-profit {}", pct(st.take_profit.pct)),
            ),
            (
                st.trailing_stop.enabled,
                format!("trailing stop {}", pct(st.trailing_stop.pct)),
            ),
            (
                st.atr_stop.enabled,
                format!("{}× ATR({}) stop", st.atr_stop.multiple, st.atr_stop.period),
            ),
            (
                st.circuit_breaker.enabled,
                format!(
                    "breaker at {} drawdown",
                    pct(st.circuit_breaker.max_drawdown)
                ),
            ),
        ] {
            if on {
                parts.push(text);
            }
        }
        parts.push(match self.rebalance {
            Frequency::Weekly => format!(
                "rebalanced weekly on {}",
                serde_json::to_value(self.rebalance_weekday)
                    .ok()
                    .and_then(|v| v.as_str().map(capitalised))
                    .unwrap_or_default()
            ),
            Frequency::Daily => "rebalanced daily".into(),
            Frequency::Monthly => "rebalanced monthly".into(),
            Frequency::Signal => "resized only when the target changes".into(),
        });
        parts.join(", ")
    }
}

/// An order and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRecord {
    /// The order.
    pub order: Order,
    /// What became of it.
    pub status: OrderStatus,
    /// Shares filled.
    pub filled: f64,
}

/// A split or dividend applied to a position at an ex-date's open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRecord {
    /// The input bar whose open it was applied at.
    pub bar: usize,
    /// That bar's timestamp.
    pub time: NaiveDateTime,
    /// Symbol.
    pub symbol: String,
    /// Dividend or split.
    pub kind: qts_data::actions::ActionKind,
    /// Cash per share, or new shares per old share.
    pub value: f64,
    /// Signed shares held after it.
    pub shares: f64,
    /// Cash moved: the dividend paid (negative on a short), or a split's fraction of a
    /// share paid in cash.
    pub cash: f64,
}

/// The outcome of a backtest.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestResult {
    /// Strategy description.
    pub strategy: String,
    /// Symbols.
    pub symbols: Vec<String>,
    /// Bar timestamps.
    pub time: Vec<NaiveDateTime>,
    /// Equity at each close.
    pub equity: Vec<f64>,
    /// Cash at each close.
    pub cash: Vec<f64>,
    /// Drawdown from the running equity peak at each close (≤ 0).
    pub drawdown: Vec<f64>,
    /// Closed trades: round trips, each a position from open to flat (or a flip), however
    /// often it was resized in between. What the trade statistics count.
    pub trades: Vec<Trade>,
    /// The closed lots behind them (FIFO): a resize that sells part of a position closes a
    /// lot but not a trade.
    pub lots: Vec<Trade>,
    /// Every fill.
    pub fills: Vec<Fill>,
    /// Every order with its outcome.
    pub orders: Vec<OrderRecord>,
    /// Every split and dividend applied to a position, in order.
    pub actions: Vec<ActionRecord>,
    /// Cash dividends received at each close of the result (negative: paid on shorts).
    pub dividends: Vec<f64>,
    /// Positions still open at the end (symbol, signed shares).
    pub open_positions: Vec<(String, f64)>,
    /// Fraction of bars that ended with a position.
    pub exposure_time: f64,
    /// The first bar the strategy decided on (after its warm-up and the window's start),
    /// counted from the first bar of the result.
    pub first_decision_bar: usize,
    /// The input bar the result starts at ([`EngineConfig::trade_from`]); `bar` fields of
    /// fills, orders and trades index the input bars.
    pub first_bar: usize,
    /// How many symbols could be traded at each close of the result (a bar there, not
    /// delisted): all of them, unless the symbols have their own histories.
    pub listed: Vec<usize>,
    /// What stands after the last bar (targets, protective levels, the breaker), for a live
    /// decision.
    #[serde(skip)]
    pub end: EndState,
}

/// What the engine holds after its last bar besides the portfolio: what a live decision
/// reports next to its orders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndState {
    /// Each symbol's standing target (strength in [-1, 1], the forecast behind it), if any.
    pub targets: Vec<Option<(f64, Option<Forecast>)>>,
    /// Each symbol's protective levels for the next bar (empty levels when flat).
    pub protective: Vec<Protective>,
    /// Average entry price of each open position (NaN when flat).
    pub avg_entry: Vec<f64>,
    /// Whether the bar after the last one is a rebalance day (known only with
    /// [`EngineConfig::next_session`]).
    pub rebalance_next: bool,
    /// Whether the circuit breaker's cool-down covers the bar after the last one.
    pub cooling_down: bool,
}

/// The exit levels a position carries into the next bar.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Protective {
    /// The tightest enabled stop: its price and which rule set it.
    pub stop: Option<(f64, Reason)>,
    /// The take-profit price, when enabled.
    pub take_profit: Option<f64>,
}

#[derive(Debug, Clone)]
struct Pending {
    order: Order,
    size: Size,
    stop_triggered: bool,
}

/// Checks that every series has the same timestamps and usable bars.
///
/// # Errors
/// [`BacktestError`] naming the first problem.
pub fn check_bars(bars: &[BarSeries]) -> Result<(), BacktestError> {
    for b in bars {
        // On a union calendar, the bars a symbol has are checked (a missing bar is NaN).
        if qts_data::universe::is_ragged(b) {
            qts_data::universe::check_missing(b)?;
            qts_data::universe::present(b).check_usable()?;
        } else {
            b.check_usable()?;
        }
    }
    check_aligned(bars)
}

/// Checks that there is at least one series and that every series has the first one's
/// timestamps (the bars themselves were checked, e.g. by `qts_data::validate::require`).
///
/// # Errors
/// [`BacktestError::Misaligned`] naming the first series that differs.
pub fn check_aligned(bars: &[BarSeries]) -> Result<(), BacktestError> {
    let Some(first) = bars.first() else {
        return Err(BacktestError::Config("no bars".into()));
    };
    for b in bars {
        if b.time != first.time {
            return Err(BacktestError::Misaligned {
                first: first.symbol.clone(),
                symbol: b.symbol.clone(),
            });
        }
    }
    Ok(())
}

/// Runs `strategy` over `bars` (one series per symbol, same timestamps).
///
/// # Errors
/// [`BacktestError`] for unusable or misaligned bars.
pub fn run(
    bars: &[BarSeries],
    strategy: &mut dyn Strategy,
    cfg: &EngineConfig,
) -> Result<BacktestResult, BacktestError> {
    check_bars(bars)?;
    run_checked(bars, strategy, cfg)
}

/// [`run`] on bars that already passed [`check_bars`] (a grid checks them once).
///
/// # Errors
/// None today; the signature leaves room for strategies that fail.
pub fn run_checked(
    bars: &[BarSeries],
    strategy: &mut dyn Strategy,
    cfg: &EngineConfig,
) -> Result<BacktestResult, BacktestError> {
    Engine::new(bars, cfg).run(strategy)
}

struct Engine<'a> {
    bars: &'a [BarSeries],
    /// Each symbol's closes carried over its missing bars (a union calendar): the marks.
    mark: Vec<std::borrow::Cow<'a, [f64]>>,
    /// Each symbol's last bar when the calendar goes on after it (a delisting).
    delisted_after: Vec<Option<usize>>,
    /// Which symbols the strategy may trade at the current close: a bar there, not delisted.
    tradable: Vec<bool>,
    /// How many symbols had a bar at each close.
    listed: Vec<usize>,
    /// How many are tradable at the current close.
    tradable_now: usize,
    /// Whether the strategy's strengths are weights of equity (see [`Strategy::sizes`]).
    strategy_sizes: bool,
    cfg: &'a EngineConfig,
    rules: Box<dyn Rules>,
    /// Read once from the rules: whether buys are cut to the cash and margin.
    cap_buys: bool,
    /// Read once: whether market orders fill at the deciding close.
    fill_at_close: bool,
    costs: Costs,
    portfolio: Portfolio,
    pending: Vec<Pending>,
    /// The pending book's spare buffer, swapped in each bar so filling allocates nothing.
    spare: Vec<Pending>,
    records: Vec<OrderRecord>,
    fills: Vec<Fill>,
    next_id: u64,
    /// Daily volatility known at each bar's close (from returns up to that close).
    vol: Vec<Vec<f64>>,
    atr: Vec<Vec<f64>>,
    rebalance_bar: Vec<bool>,
    targets: Vec<Target>,
    /// Symbols whose target is new this bar.
    fresh: Vec<bool>,
    /// Each symbol's close at bar `closes_bar`.
    closes: Vec<f64>,
    closes_bar: Option<usize>,
    /// Orders the rules ask for at a decision.
    requests: Vec<OrderRequest>,
    /// A protective exit flattened the symbol: its standing target waits for a new decision.
    stopped: Vec<bool>,
    /// Best price since entry (high for longs, low for shorts), up to the previous bar.
    extreme: Vec<f64>,
    atr_stop: Vec<f64>,
    cooldown_until: Option<usize>,
    /// Whether the window's first decision was taken.
    window_open: bool,
    /// Each symbol's splits and dividends per bar (none for most series).
    per_bar: Vec<Option<qts_data::actions::PerBar>>,
    /// What the strategy reads when the bars carry splits (raw prices): the same bars
    /// split-adjusted, so that a split is not a move to it. Orders trade the raw bars.
    view: Option<Vec<BarSeries>>,
    /// Actions dated on a day a symbol had no bar (a union calendar), applied at its next.
    carried: Vec<(f64, f64)>,
    action_log: Vec<ActionRecord>,
    /// Dividend cash at each bar.
    dividend_cash: Vec<f64>,
}

/// Equity, cash and drawdown at each close, and the bars held.
struct Marks {
    equity: Vec<f64>,
    cash: Vec<f64>,
    drawdown: Vec<f64>,
    peak: f64,
    exposed: usize,
}

impl Marks {
    fn new(n: usize, initial: f64) -> Self {
        Marks {
            equity: Vec::with_capacity(n),
            cash: Vec::with_capacity(n),
            drawdown: Vec::with_capacity(n),
            peak: initial,
            exposed: 0,
        }
    }

    /// Marks a close; returns the drawdown.
    fn push(&mut self, equity: f64, cash: f64) -> f64 {
        self.peak = self.peak.max(equity);
        let dd = drawdown(equity, self.peak);
        self.equity.push(equity);
        self.cash.push(cash);
        self.drawdown.push(dd);
        dd
    }

    /// Re-marks close `t` after fills at that close.
    fn remark(&mut self, t: usize, equity: f64, cash: f64) {
        self.peak = self.peak.max(equity);
        self.equity[t] = equity;
        self.cash[t] = cash;
        self.drawdown[t] = drawdown(equity, self.peak);
    }
}

/// The bars an indicator reads: on raw prices with splits, split-adjusted, so that a split
/// is not a move (a price distance read from them is put back in each bar's own units).
fn split_adjusted(p: &BarSeries) -> std::borrow::Cow<'_, BarSeries> {
    use qts_data::actions::{ActionKind, Basis, on_basis};
    if !p.actions.iter().any(|a| a.kind == ActionKind::Split) {
        return std::borrow::Cow::Borrowed(p);
    }
    match on_basis(p.clone(), Basis::Split) {
        Ok(adjusted) => std::borrow::Cow::Owned(adjusted),
        Err(_) => std::borrow::Cow::Borrowed(p),
    }
}

/// [`scaled_shares`], whole.
fn whole_shares(x: f64) -> f64 {
    scaled_shares(x).trunc()
}

fn drawdown(equity: f64, peak: f64) -> f64 {
    if peak > 0.0 { equity / peak - 1.0 } else { 0.0 }
}

impl<'a> Engine<'a> {
    fn new(bars: &'a [BarSeries], cfg: &'a EngineConfig) -> Self {
        let n = bars.len();
        // Indicators only where a rule reads them: they are most of a backtest's set-up cost.
        let rules = rules_for(cfg);
        let lookback = cfg.sizing.volatility_lookback;
        // On a union calendar each symbol's indicators run over the bars it has.
        let vol = if rules.reads_volatility(cfg)
            || cfg.costs.slippage_model == SlippageModel::VolatilityScaled
        {
            bars.iter()
                .map(|b| {
                    on_present(b, |p| {
                        rolling_std(&log_return(&split_adjusted(p).close, 1), lookback)
                    })
                })
                .collect()
        } else {
            vec![Vec::new(); n]
        };
        let atr = if cfg.stops.atr_stop.enabled {
            bars.iter()
                .map(|b| {
                    on_present(b, |p| {
                        let q = split_adjusted(p);
                        let mut range = atr(&q.high, &q.low, &q.close, cfg.stops.atr_stop.period);
                        // Back in each bar's own units (a distance on the prices it traded at).
                        for ((x, raw), adjusted) in range.iter_mut().zip(&p.close).zip(&q.close) {
                            *x *= raw / adjusted;
                        }
                        range
                    })
                })
                .collect()
        } else {
            vec![Vec::new(); n]
        };
        let calendar = bars.first().map_or(0, BarSeries::len);
        Engine {
            bars,
            mark: bars
                .iter()
                .map(|b| {
                    if is_ragged(b) {
                        std::borrow::Cow::Owned(carried_closes(b))
                    } else {
                        std::borrow::Cow::Borrowed(b.close.as_slice())
                    }
                })
                .collect(),
            delisted_after: bars
                .iter()
                .map(|b| Listing::of(b).map(|l| l.last).filter(|&l| l + 1 < calendar))
                .collect(),
            tradable: vec![false; n],
            listed: Vec::new(),
            tradable_now: 0,
            strategy_sizes: false,
            cfg,
            cap_buys: rules.caps_buys_to_cash(),
            fill_at_close: cfg.fill_price == FillPrice::Close && rules.may_fill_at_close(),
            rules,
            costs: Costs::new(&cfg.costs),
            portfolio: Portfolio::new(
                bars.iter().map(|b| b.symbol.clone()).collect(),
                cfg.initial_capital,
            ),
            pending: Vec::new(),
            spare: Vec::new(),
            records: Vec::new(),
            fills: Vec::new(),
            next_id: 0,
            vol,
            atr,
            // The next session (live) is one more bar for the schedule only.
            rebalance_bar: rebalance_flags(
                &bars[0].time[..bars[0].len().min(cfg.trade_until)],
                cfg.next_session,
                cfg,
            ),
            targets: vec![None; n],
            fresh: vec![false; n],
            closes: vec![f64::NAN; n],
            closes_bar: None,
            requests: Vec::new(),
            stopped: vec![false; n],
            extreme: vec![f64::NAN; n],
            atr_stop: vec![f64::NAN; n],
            cooldown_until: None,
            window_open: false,
            per_bar: bars.iter().map(qts_data::actions::PerBar::of).collect(),
            view: bars
                .iter()
                .any(|b| {
                    b.actions
                        .iter()
                        .any(|a| a.kind == qts_data::actions::ActionKind::Split)
                })
                .then(|| {
                    bars.iter()
                        .map(|b| split_adjusted(b).into_owned())
                        .collect()
                }),
            carried: vec![(1.0, 0.0); n],
            action_log: Vec::new(),
            dividend_cash: Vec::new(),
        }
    }

    fn run(mut self, strategy: &mut dyn Strategy) -> Result<BacktestResult, BacktestError> {
        self.strategy_sizes = strategy.sizes();
        let n_bars = self.bars[0].len().min(self.cfg.trade_until);
        self.listed.reserve(n_bars);
        let mut marks = Marks::new(n_bars, self.cfg.initial_capital);
        let from = self.cfg.trade_from.min(n_bars.saturating_sub(1));
        let warmup = strategy.warmup();
        let first_decision = warmup.max(from);
        let live = self.cfg.next_session.is_some();
        let any_actions = self.per_bar.iter().any(Option::is_some);
        self.dividend_cash = vec![0.0; n_bars];
        for t in 0..n_bars {
            // 0. Splits and dividends at the ex-date's open, before anything trades on it.
            if any_actions {
                self.corporate_actions(t);
            }
            // 1. Orders from the previous close fill against this bar.
            self.fill_pending(t, false);
            // 2. Protective exits against this bar's range.
            self.protective_exits(t);
            // An account opened with holdings holds them from the first traded close: its
            // value there is where its drawdown starts.
            if t == from && !self.cfg.opening.is_empty() {
                self.open_holdings(t)?;
                marks.peak = f64::MIN;
            }
            // 3. A symbol whose bars ended at the close before while the calendar goes on is
            //    delisted: its position closes at its last close and its orders are
            //    cancelled. Then the marks at the close, and the breaker.
            self.delist(t);
            let dd = marks.push(self.equity_at(t), self.portfolio.cash);
            let was_exposed = self.holding();
            if was_exposed {
                marks.exposed += 1;
            }
            self.listed.push(self.tradable_now);
            self.update_extremes(t);
            if self.breaker(t, dd) {
                marks.peak = marks.equity[t];
            }
            // 4. The strategy decides; the rules place orders (at the last bar too when the
            //    next session is known: a live decision).
            if t >= warmup && (t + 1 < n_bars || live) {
                let fills_before = self.fills.len();
                let ctx = Context::new(self.view.as_deref().unwrap_or(self.bars), t)
                    .with_tradable(&self.tradable)
                    .with_rebalance(self.rebalance_bar.get(t + 1).copied().unwrap_or(false));
                let actions = strategy.on_bar(&ctx);
                if t < from {
                    // Warm-up before the window: targets stand, nothing is traded.
                    self.note_targets(actions);
                    continue;
                }
                self.decide(t, actions);
                if self.fills.len() > fills_before {
                    // Filled at this close (`fill_price: close`): the close's marks include
                    // the trade and its costs.
                    marks.remark(t, self.equity_at(t), self.portfolio.cash);
                    match (self.holding(), was_exposed) {
                        (true, false) => marks.exposed += 1,
                        (false, true) => marks.exposed -= 1,
                        _ => {}
                    }
                }
            }
        }
        if self.cfg.close_at_end && !live && n_bars > 0 && self.holding() {
            let t = n_bars - 1;
            for s in 0..self.bars.len() {
                if self.portfolio.position(s) != 0.0 {
                    let p = self.new_order(
                        t,
                        OrderRequest::market(s, Size::Close, TimeInForce::Day, Reason::EndOfData),
                    );
                    // A symbol without a bar at the end is closed at its last close.
                    let close = self.mark[s][t];
                    self.execute(t, p, close, true);
                }
            }
            // As a fill at the close inside the loop: the close's marks include the trade and
            // its costs, and a bar that ends flat is not exposed.
            marks.remark(t, self.equity_at(t), self.portfolio.cash);
            if !self.holding() {
                marks.exposed -= 1;
            }
        }
        for p in std::mem::take(&mut self.pending) {
            self.records.push(OrderRecord {
                order: p.order,
                status: OrderStatus::Open,
                filled: 0.0,
            });
        }
        let open_positions = (0..self.bars.len())
            .filter(|&s| self.portfolio.position(s) != 0.0)
            .map(|s| {
                (
                    self.portfolio.symbols[s].clone(),
                    self.portfolio.position(s),
                )
            })
            .collect();
        self.records.sort_by_key(|r| r.order.id);
        let end = self.end_state(n_bars);
        let window = |v: Vec<f64>| if from == 0 { v } else { v[from..].to_vec() };
        let listed = self.listed[from.min(self.listed.len())..].to_vec();
        Ok(BacktestResult {
            strategy: strategy.name(),
            symbols: self.portfolio.symbols.clone(),
            time: self.bars[0].time[from..n_bars].to_vec(),
            equity: window(marks.equity),
            cash: window(marks.cash),
            drawdown: window(marks.drawdown),
            trades: self.portfolio.round_trips,
            lots: self.portfolio.trades,
            fills: self.fills,
            orders: self.records,
            actions: self.action_log,
            dividends: window(self.dividend_cash),
            open_positions,
            exposure_time: marks.exposed as f64 / (n_bars - from).max(1) as f64,
            first_decision_bar: first_decision - from,
            first_bar: from,
            listed,
            end,
        })
    }

    /// What stands after bar `n_bars - 1`.
    fn end_state(&self, n_bars: usize) -> EndState {
        let next = n_bars;
        EndState {
            targets: self.targets.clone(),
            protective: (0..self.bars.len())
                .map(|s| self.protective_levels(s))
                .collect(),
            avg_entry: (0..self.bars.len())
                .map(|s| {
                    if self.portfolio.position(s) == 0.0 {
                        f64::NAN
                    } else {
                        self.portfolio.avg_entry(s)
                    }
                })
                .collect(),
            rebalance_next: self.rebalance_bar.get(next).copied().unwrap_or(false),
            cooling_down: self.cooldown_until.is_some_and(|u| next < u),
        }
    }

    /// The exit levels of symbol `s`'s position for the next bar (none when flat).
    fn protective_levels(&self, s: usize) -> Protective {
        let held = self.portfolio.position(s);
        if held == 0.0 {
            return Protective::default();
        }
        let st = &self.cfg.stops;
        let entry = self.portfolio.avg_entry(s);
        let dir = if held > 0.0 { 1.0 } else { -1.0 };
        // The tightest stop among those enabled (for a long, the highest level).
        let mut stop: Option<(f64, Reason)> = None;
        let mut consider = |level: f64, reason| {
            if level.is_finite() && stop.is_none_or(|(x, _)| dir * level > dir * x) {
                stop = Some((level, reason));
            }
        };
        if st.stop_loss.enabled {
            consider(entry * (1.0 - dir * st.stop_loss.pct), Reason::StopLoss);
        }
        if st.trailing_stop.enabled {
            consider(
                self.extreme[s] * (1.0 - dir * st.trailing_stop.pct),
                Reason::TrailingStop,
            );
        }
        if st.atr_stop.enabled {
            consider(entry - dir * self.atr_stop[s], Reason::AtrStop);
        }
        Protective {
            stop,
            take_profit: st
                .take_profit
                .enabled
                .then_some(entry * (1.0 + dir * st.take_profit.pct)),
        }
    }

    /// Before the window: the strategy's targets stand (so the first rebalance inside the
    /// window holds them), raw orders are dropped.
    fn note_targets(&mut self, actions: Vec<Action>) {
        for a in actions {
            if let Action::Target {
                symbol,
                strength,
                forecast,
            } = a
                && symbol < self.bars.len()
            {
                self.targets[symbol] = Some((strength.clamp(-1.0, 1.0), forecast));
                self.stopped[symbol] = false;
            }
        }
    }

    /// Whether any position is open.
    fn holding(&self) -> bool {
        (0..self.bars.len()).any(|s| self.portfolio.position(s) != 0.0)
    }

    /// Places an order in the book.
    fn submit(&mut self, t: usize, request: OrderRequest) {
        let pending = self.new_order(t, request);
        self.pending.push(pending);
    }

    /// A numbered order, not yet in the book.
    fn new_order(&mut self, t: usize, r: OrderRequest) -> Pending {
        self.next_id += 1;
        let signed = match r.size {
            Size::Shares(s) => s,
            Size::Close => -self.portfolio.position(r.symbol),
            Size::AllIn(d) => d,
        };
        Pending {
            order: Order {
                id: self.next_id,
                symbol: r.symbol,
                size: signed,
                kind: r.kind,
                tif: r.tif,
                submitted_bar: t,
                reason: r.reason,
            },
            size: r.size,
            stop_triggered: false,
        }
    }

    /// Step 4: the strategy's actions become standing targets (or raw orders), and the
    /// execution rules turn the targets into orders.
    fn decide(&mut self, t: usize, actions: Vec<Action>) {
        self.fresh.fill(false);
        for a in actions {
            match a {
                Action::Target {
                    symbol,
                    strength,
                    forecast,
                } if symbol < self.bars.len() => {
                    self.targets[symbol] = Some((strength.clamp(-1.0, 1.0), forecast));
                    self.stopped[symbol] = false;
                    self.fresh[symbol] = true;
                }
                Action::Order {
                    symbol,
                    size,
                    kind,
                    tif,
                } if symbol < self.bars.len() && size != 0.0 => {
                    let (size, kind) = self.traded_units(symbol, t, size, kind);
                    self.submit(
                        t,
                        OrderRequest {
                            symbol,
                            size: Size::Shares(size),
                            kind,
                            tif,
                            reason: Reason::Strategy,
                        },
                    );
                }
                _ => {}
            }
        }
        let any_fresh = self.fresh.iter().any(|&f| f);
        let cooling = self.cooldown_until.is_some_and(|until| t < until);
        // Under the signal rule a position changes only with its target; the targets that
        // stand when the window opens count as new at its first decision.
        let opening = !std::mem::replace(&mut self.window_open, true);
        let rebalance_next = self.rebalance_bar[t + 1]
            && (self.cfg.rebalance != Frequency::Signal
                || any_fresh
                || (opening && self.targets.iter().any(Option::is_some)));
        if !self.rules.decides(any_fresh, rebalance_next, cooling) {
            return;
        }
        let equity = self.equity_at(t);
        let desk = Desk {
            cfg: self.cfg,
            portfolio: &self.portfolio,
            closes: &self.closes,
            vol: &self.vol,
            vol_bar: t,
            targets: &self.targets,
            stopped: &self.stopped,
            fresh: &self.fresh,
            tradable: &self.tradable,
            strategy_sizes: self.strategy_sizes,
            equity,
        };
        let mut requests = std::mem::take(&mut self.requests);
        self.rules.plan(&desk, &mut requests);
        for r in requests.drain(..) {
            self.submit(t, r);
        }
        self.requests = requests;
        if self.fill_at_close {
            self.fill_pending(t, true);
        }
    }

    /// A strategy's order, in shares and prices of the split-adjusted view it reads at bar
    /// `t`, in the traded bar's units (a split after `t`: fewer shares at higher prices).
    fn traded_units(&self, s: usize, t: usize, size: f64, kind: OrderKind) -> (f64, OrderKind) {
        let Some(view) = &self.view else {
            return (size, kind);
        };
        let f = self.bars[s].close[t] / view[s].close[t];
        if !f.is_finite() || f == 1.0 {
            return (size, kind);
        }
        let size = if self.cfg.fractional_shares {
            scaled_shares(size / f)
        } else {
            whole_shares(size / f)
        };
        (size, kind.scaled(f))
    }

    /// Each symbol's close at bar `t`, in [`Engine::closes`].
    fn load_closes(&mut self, t: usize) {
        if self.closes_bar != Some(t) {
            for (s, m) in self.mark.iter().enumerate() {
                self.closes[s] = m[t];
            }
            self.closes_bar = Some(t);
        }
    }

    /// [`EngineConfig::opening`]: each holding a lot entered at close `t`.
    fn open_holdings(&mut self, t: usize) -> Result<(), BacktestError> {
        for (symbol, shares) in &self.cfg.opening {
            let Some(s) = self.bars.iter().position(|b| &b.symbol == symbol) else {
                return Err(BacktestError::Config(format!(
                    "the holding of `{symbol}` is not a symbol of the data"
                )));
            };
            let b = &self.bars[s];
            let close = b.close[t];
            if !has_bar(b, t) || !close.is_finite() {
                return Err(BacktestError::Config(format!(
                    "the holding of `{symbol}` has no close on {}, the first day traded",
                    b.time[t].date()
                )));
            }
            self.portfolio.hold(s, *shares, close, t, b.time[t]);
        }
        Ok(())
    }

    /// Cash plus positions at bar `t`'s closes.
    fn equity_at(&mut self, t: usize) -> f64 {
        self.load_closes(t);
        self.portfolio.equity(&self.closes)
    }

    /// Step 1 (or, at the close, market orders only).
    fn fill_pending(&mut self, t: usize, at_close: bool) {
        if self.pending.is_empty() {
            return;
        }
        let mut book = std::mem::replace(&mut self.pending, std::mem::take(&mut self.spare));
        for mut p in book.drain(..) {
            if at_close && p.order.kind != OrderKind::Market {
                self.pending.push(p);
                continue;
            }
            let b = &self.bars[p.order.symbol];
            let (o, h, l, c) = (b.open[t], b.high[t], b.low[t], b.close[t]);
            // No bar (a missing day on a union calendar): nothing fills; a day order expires.
            let present = !c.is_nan();
            let buy = p.order.size > 0.0
                || matches!(p.size, Size::AllIn(d) if d > 0.0)
                || (p.size == Size::Close && self.portfolio.position(p.order.symbol) < 0.0);
            let reference = if at_close { c } else { o };
            let price = match p.order.kind {
                _ if !present => None,
                OrderKind::Market => Some((reference, true)),
                OrderKind::Limit { limit } => limit_fill(buy, o, h, l, limit).map(|x| (x, false)),
                OrderKind::Stop { stop } => stop_fill(buy, o, h, l, stop).map(|x| (x, true)),
                OrderKind::StopLimit { stop, limit } => {
                    if !p.stop_triggered && stop_fill(buy, o, h, l, stop).is_some() {
                        p.stop_triggered = true;
                    }
                    if p.stop_triggered {
                        limit_fill(buy, o, h, l, limit).map(|x| (x, false))
                    } else {
                        None
                    }
                }
            };
            match price {
                Some((px, slips)) => self.execute(t, p, px, slips),
                None if p.order.tif == TimeInForce::Day && t > p.order.submitted_bar => {
                    self.records.push(OrderRecord {
                        order: p.order,
                        status: OrderStatus::Expired,
                        filled: 0.0,
                    });
                }
                None => self.pending.push(p),
            }
        }
        self.spare = book;
    }

    fn execute(&mut self, t: usize, p: Pending, reference: f64, slips: bool) {
        let s = p.order.symbol;
        let b = &self.bars[s];
        let held = self.portfolio.position(s);
        let mut size = match p.size {
            Size::Shares(x) => x,
            Size::Close => -held,
            Size::AllIn(d) => self.all_in(d, reference, t),
        };
        let mut status = OrderStatus::Filled;
        if size == 0.0 {
            let status = if p.size == Size::Close {
                OrderStatus::Filled
            } else {
                OrderStatus::Cancelled
            };
            self.records.push(OrderRecord {
                order: p.order,
                status,
                filled: 0.0,
            });
            return;
        }
        let prev_vol = match t.checked_sub(1) {
            Some(prev) => self.vol[s].get(prev).copied().unwrap_or(f64::NAN),
            None => f64::NAN,
        };
        let price = if slips {
            self.costs.slipped(size, reference, prev_vol)
        } else {
            reference
        };
        let cap = self.costs.volume_cap(b.volume[t]);
        if size.abs() > cap {
            size = cap.copysign(size);
            status = OrderStatus::PartiallyFilled;
        }
        // No negative cash beyond the margin: a buy is cut to what the account can pay.
        if self.cap_buys && size > 0.0 && held >= 0.0 {
            // The equity is summed over every symbol: only when margin needs it.
            let borrow = if self.cfg.margin == 0.0 {
                0.0
            } else {
                self.cfg.margin * self.equity_at(t)
            };
            let budget = self.portfolio.cash + borrow;
            let unit = price + self.costs.commission(1.0, price).max(0.0);
            let affordable = round_shares(self.cfg, (budget / unit).max(0.0));
            if size > affordable {
                size = affordable;
                status = OrderStatus::PartiallyFilled;
            }
        }
        if size == 0.0 {
            self.records.push(OrderRecord {
                order: p.order,
                status: OrderStatus::Cancelled,
                filled: 0.0,
            });
            return;
        }
        let commission = self.costs.commission(size, price);
        let was_flat = held == 0.0 || held.signum() != (held + size).signum();
        self.portfolio.apply(
            s,
            size,
            price,
            commission,
            t,
            b.time[t],
            p.order.reason.as_str(),
        );
        let now = self.portfolio.position(s);
        if now != 0.0 && was_flat {
            // A new position: protective levels start from this entry.
            self.extreme[s] = price;
            self.atr_stop[s] = if t > 0 {
                self.atr[s].get(t - 1).copied().unwrap_or(f64::NAN)
                    * self.cfg.stops.atr_stop.multiple
            } else {
                f64::NAN
            };
        }
        self.fills.push(Fill {
            order_id: p.order.id,
            symbol: b.symbol.clone(),
            bar: t,
            time: b.time[t],
            size,
            price,
            commission,
            slippage: size.abs() * (price - reference).abs(),
            reason: p.order.reason,
        });
        self.records.push(OrderRecord {
            order: p.order,
            status,
            filled: size,
        });
    }

    /// backtesting.py's all-in size: `int(margin_available × (1 − ε) // (price + commission
    /// per unit))`, with Python's float floor division.
    fn all_in(&mut self, direction: f64, price: f64, t: usize) -> f64 {
        let fraction = 1.0 - f64::EPSILON;
        let commission = self.costs.commission(fraction, price) / fraction;
        // backtesting.py's margin available: equity less the value of open trades, at the
        // bar's close (with no trade open, exactly the cash).
        self.load_closes(t);
        let used = self.portfolio.gross_exposure(&self.closes);
        let available = if used == 0.0 {
            self.portfolio.cash
        } else {
            (self.equity_at(t) - used).max(0.0)
        };
        python_floordiv(available * fraction, price + commission)
            .trunc()
            .copysign(direction)
    }

    /// Step 2.
    fn protective_exits(&mut self, t: usize) {
        let st = &self.cfg.stops;
        let any = st.stop_loss.enabled
            || st.trailing_stop.enabled
            || st.atr_stop.enabled
            || st.take_profit.enabled;
        if !any {
            return;
        }
        for s in 0..self.bars.len() {
            let held = self.portfolio.position(s);
            if held == 0.0 {
                continue;
            }
            let b = &self.bars[s];
            if !has_bar(b, t) {
                continue;
            }
            let (o, h, l) = (b.open[t], b.high[t], b.low[t]);
            let long = held > 0.0;
            let levels = self.protective_levels(s);
            let exit = levels.stop.and_then(|(level, reason)| {
                stop_fill(!long, o, h, l, level).map(|px| (px, reason, true))
            });
            let exit = exit.or_else(|| {
                levels
                    .take_profit
                    .and_then(|tp| limit_fill(!long, o, h, l, tp))
                    .map(|px| (px, Reason::TakeProfit, false))
            });
            if let Some((px, reason, slips)) = exit {
                // Filled at once, against this bar: it never waits in the book.
                let p = self.new_order(
                    t,
                    OrderRequest::market(s, Size::Close, TimeInForce::Day, reason),
                );
                self.execute(t, p, px, slips);
                self.stopped[s] = true;
            }
        }
    }

    /// Step 0: each symbol's split (on raw prices) and cash dividend dated at bar `t`, applied
    /// at its open as a broker does: shares × ratio, entry, stop and order prices ÷ ratio,
    /// cash unchanged but for a fraction of a share paid at the open (whole shares); then the
    /// dividend on the shares held, in cash (`backtest.dividends`).
    fn corporate_actions(&mut self, t: usize) {
        use qts_data::actions::ActionKind;
        for s in 0..self.bars.len() {
            let Some(per) = &self.per_bar[s] else {
                continue;
            };
            let (r0, d0) = self.carried[s];
            // A later split turns an earlier dividend's per-share cash into less per share.
            let ratio = r0 * per.split[t];
            let dividend = d0 / per.split[t] + per.dividend[t];
            if ratio == 1.0 && dividend == 0.0 {
                continue;
            }
            if !has_bar(&self.bars[s], t) {
                self.carried[s] = (ratio, dividend);
                continue;
            }
            self.carried[s] = (1.0, 0.0);
            let b = &self.bars[s];
            let (time, open) = (b.time[t], b.open[t]);
            if ratio != 1.0 {
                let held = self.portfolio.position(s);
                let whole = !self.cfg.fractional_shares;
                let (shares, cash) = self.portfolio.split(s, ratio, whole, open, t, time);
                for p in self.pending.iter_mut().filter(|p| p.order.symbol == s) {
                    let scaled = p.order.size * ratio;
                    p.order.size = if whole { whole_shares(scaled) } else { scaled };
                    if let Size::Shares(x) = p.size {
                        p.size = Size::Shares(if whole {
                            whole_shares(x * ratio)
                        } else {
                            x * ratio
                        });
                    }
                    p.order.kind = p.order.kind.scaled(1.0 / ratio);
                }
                self.extreme[s] /= ratio;
                self.atr_stop[s] /= ratio;
                if held != 0.0 || cash != 0.0 {
                    self.action_log.push(ActionRecord {
                        bar: t,
                        time,
                        symbol: b.symbol.clone(),
                        kind: ActionKind::Split,
                        value: ratio,
                        shares,
                        cash,
                    });
                }
            }
            if dividend > 0.0 && self.cfg.dividends && self.portfolio.position(s) != 0.0 {
                let cash = self.portfolio.pay_dividend(s, dividend);
                self.dividend_cash[t] += cash;
                self.action_log.push(ActionRecord {
                    bar: t,
                    time,
                    symbol: b.symbol.clone(),
                    kind: ActionKind::Dividend,
                    value: dividend,
                    shares: self.portfolio.position(s),
                    cash,
                });
            }
        }
    }

    /// Which symbols may be traded at close `t`, and the delistings at it (see
    /// [`qts_data::universe`]).
    fn delist(&mut self, t: usize) {
        self.tradable_now = 0;
        for s in 0..self.bars.len() {
            // Delisted at the first close without its bar: nothing before it says the last bar
            // was the last (a decision at that close, live or replayed, sees the same).
            let gone = self.delisted_after[s].is_some_and(|last| last + 1 == t);
            self.tradable[s] = has_bar(&self.bars[s], t) && !gone;
            self.tradable_now += usize::from(self.tradable[s]);
            if !gone {
                continue;
            }
            for p in std::mem::take(&mut self.pending) {
                if p.order.symbol == s {
                    self.records.push(OrderRecord {
                        order: p.order,
                        status: OrderStatus::Cancelled,
                        filled: 0.0,
                    });
                } else {
                    self.pending.push(p);
                }
            }
            if self.portfolio.position(s) != 0.0 {
                let p = self.new_order(
                    t,
                    OrderRequest::market(s, Size::Close, TimeInForce::Day, Reason::Delisted),
                );
                // At its last close, carried to this one.
                let close = self.mark[s][t];
                self.execute(t, p, close, true);
            }
            self.stopped[s] = true;
        }
    }

    fn update_extremes(&mut self, t: usize) {
        // Only the trailing stop reads the best price since entry.
        if !self.cfg.stops.trailing_stop.enabled {
            return;
        }
        for s in 0..self.bars.len() {
            let held = self.portfolio.position(s);
            let b = &self.bars[s];
            if held > 0.0 {
                self.extreme[s] = self.extreme[s].max(b.high[t]);
            } else if held < 0.0 {
                self.extreme[s] = self.extreme[s].min(b.low[t]);
            }
        }
    }

    /// Step 3's breaker: trips when the drawdown passes its limit; flattens at the next bar
    /// and stands aside for the cool-down. Returns whether it tripped (the peak restarts).
    fn breaker(&mut self, t: usize, dd: f64) -> bool {
        let cb = &self.cfg.stops.circuit_breaker;
        let cooling = self.cooldown_until.is_some_and(|u| t < u);
        if !cb.enabled || cooling || dd > -cb.max_drawdown {
            return false;
        }
        self.cooldown_until = Some(t + 1 + cb.cooldown_days as usize);
        for s in 0..self.bars.len() {
            if self.portfolio.position(s) != 0.0 {
                self.submit(
                    t,
                    OrderRequest::market(s, Size::Close, TimeInForce::Gtc, Reason::CircuitBreaker),
                );
            }
            self.stopped[s] = true;
        }
        true
    }
}

#[cfg(test)]
mod terms_tests {
    use super::ActiveSettings;

    fn settings(overlays: bool, rebalance: &str) -> ActiveSettings {
        serde_json::from_value(serde_json::json!({
            "execution": "default", "fill_price": "next_open", "overlays": overlays,
            "sizing": {"method": "volatility_scaled", "fixed_fraction": 0.1, "target_volatility": 0.15,
                       "volatility_lookback": 20, "kelly_fraction": 0.5, "kelly_cap": 0.25,
                       "shrink_by_interval": true},
            "limits": {"max_position_fraction": 0.25, "max_gross_exposure": 1.0, "max_drawdown": 0.25},
            "stops": {"stop_loss": {"enabled": true, "pct": 0.08},
                      "take_profit": {"enabled": false, "pct": 0.2},
                      "trailing_stop": {"enabled": false, "pct": 0.1},
                      "atr_stop": {"enabled": false, "period": 14, "multiple": 3.0},
                      "circuit_breaker": {"enabled": true, "max_drawdown": 0.2, "cooldown_days": 20}},
            "rebalance": rebalance, "rebalance_weekday": "monday",
            "costs": {}, "allow_short": false, "fractional_shares": false, "margin": 0.0
        }))
        .unwrap()
    }

    #[test]
    fn terms_say_the_sizing_caps_stops_and_schedule_in_force() {
        assert_eq!(
            settings(true, "weekly").terms(),
            "volatility-sized to 15% a year, at most 25% of equity a position, stop-loss 8%, breaker at 20% drawdown, rebalanced weekly on Monday"
        );
        assert_eq!(
            settings(false, "signal").terms(),
            "the whole account: no volatility sizing, position cap, stops or breaker"
        );
        assert!(
            settings(true, "daily")
                .terms()
                .ends_with("rebalanced daily")
        );
    }
}

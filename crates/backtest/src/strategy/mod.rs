//! Strategies behind one trait. A strategy sees each bar's close through a [`Context`] that
//! holds data up to that bar only, and answers with [`Action`]s: a target position strength
//! per symbol (the sizer turns it into shares) or a raw order.

mod buy_hold;
mod equal_weight;
pub mod rank;
mod regime;
pub mod registry;
mod signal;
mod sma_cross;

use qts_data::BarSeries;

use crate::order::{OrderKind, TimeInForce};

pub use buy_hold::BuyAndHold;
pub use equal_weight::EqualWeight;
pub use rank::{Rank, RankRules};
pub use regime::RegimeFilter;
pub use registry::Registry;
pub use signal::{SignalSeries, SignalStrategy};
pub use sma_cross::SmaCross;

/// A model's forecast of a symbol's next return, with an optional interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// Expected return.
    pub expected: f64,
    /// Lower bound of the interval.
    pub lower: Option<f64>,
    /// Upper bound of the interval.
    pub upper: Option<f64>,
}

/// What a strategy wants after a bar closes.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Hold a position of signed strength in [-1, 1] (1 = fully long as the sizer defines
    /// it, 0 = flat); it stands until the next target for the symbol.
    Target {
        /// Symbol index.
        symbol: usize,
        /// Signed strength.
        strength: f64,
        /// The forecast behind it, if any (used by Kelly sizing and interval shrinkage).
        forecast: Option<Forecast>,
    },
    /// An order exactly as given.
    Order {
        /// Symbol index.
        symbol: usize,
        /// Signed shares.
        size: f64,
        /// Price rule.
        kind: OrderKind,
        /// Lifetime.
        tif: TimeInForce,
    },
}

/// The market as of bar `t`'s close: every slice ends at `t`.
pub struct Context<'a> {
    bars: &'a [BarSeries],
    t: usize,
    tradable: Option<&'a [bool]>,
    rebalance: bool,
}

impl<'a> Context<'a> {
    /// The market as of bar `t`'s close (every symbol tradable, every close a rebalance).
    pub fn new(bars: &'a [BarSeries], t: usize) -> Self {
        Context {
            bars,
            t,
            tradable: None,
            rebalance: true,
        }
    }

    /// Which symbols may be traded at this close (a bar here, not delisted).
    pub fn with_tradable(mut self, tradable: &'a [bool]) -> Self {
        self.tradable = Some(tradable);
        self
    }

    /// Whether the targets given at this close are traded at the next bar (the rebalancing
    /// schedule).
    pub fn with_rebalance(mut self, rebalance: bool) -> Self {
        self.rebalance = rebalance;
        self
    }

    /// Whether `symbol` may be traded at this close: it has a bar here and is not delisted
    /// (symbols on a union calendar; see [`qts_data::universe`]).
    pub fn tradable(&self, symbol: usize) -> bool {
        match self.tradable {
            Some(t) => t.get(symbol).copied().unwrap_or(false),
            None => qts_data::universe::has_bar(&self.bars[symbol], self.t),
        }
    }

    /// Whether the next bar executes a rebalance: targets given now are traded then. A
    /// strategy that keeps state between rebalances (which names it holds) updates it only
    /// then.
    pub fn rebalance(&self) -> bool {
        self.rebalance
    }

    /// The current bar's index.
    pub fn t(&self) -> usize {
        self.t
    }

    /// Number of symbols.
    pub fn symbols(&self) -> usize {
        self.bars.len()
    }

    /// Closes of a symbol up to and including bar `t`.
    pub fn close(&self, symbol: usize) -> &'a [f64] {
        &self.bars[symbol].close[..=self.t]
    }

    /// Highs up to bar `t`.
    pub fn high(&self, symbol: usize) -> &'a [f64] {
        &self.bars[symbol].high[..=self.t]
    }

    /// Lows up to bar `t`.
    pub fn low(&self, symbol: usize) -> &'a [f64] {
        &self.bars[symbol].low[..=self.t]
    }

    /// Timestamps up to bar `t`.
    pub fn time(&self, symbol: usize) -> &'a [chrono::NaiveDateTime] {
        &self.bars[symbol].time[..=self.t]
    }
}

/// A trading strategy.
pub trait Strategy {
    /// Name, as on the command line.
    fn name(&self) -> String;

    /// The first bar at which the strategy can decide (indicator warm-up).
    fn warmup(&self) -> usize;

    /// Decides after bar `ctx.t()` closes.
    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action>;

    /// Whether the strengths it gives are weights of equity, chosen by the strategy (a
    /// portfolio of ranked names): the configured sizer is skipped, the account limits
    /// (position cap, gross exposure, no shorts) still apply.
    fn sizes(&self) -> bool {
        false
    }

    /// The forecasts it trades (a model's), for the statistics of what they foretold (the
    /// rank IC of a universe); `None` for a rule on prices.
    fn forecasts(&self) -> Option<&SignalSeries> {
        None
    }
}

//! Strategies behind one trait. A strategy sees each bar's close through a [`Context`] that
//! holds data up to that bar only, and answers with [`Action`]s: a target position strength
//! per symbol (the sizer turns it into shares) or a raw order.

mod buy_hold;
mod regime;
pub mod registry;
mod signal;
mod sma_cross;

use qts_data::BarSeries;

use crate::order::{OrderKind, TimeInForce};

pub use buy_hold::BuyAndHold;
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
}

impl<'a> Context<'a> {
    pub(crate) fn new(bars: &'a [BarSeries], t: usize) -> Self {
        Context { bars, t }
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
}

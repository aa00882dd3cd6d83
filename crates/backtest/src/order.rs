//! Orders and fills.

use chrono::NaiveDateTime;
use serde::Serialize;

/// How an order's price is determined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderKind {
    /// At the next available price.
    Market,
    /// At `limit` or better.
    Limit {
        /// Limit price.
        limit: f64,
    },
    /// A market order once the price touches `stop`; an open that gaps through the stop
    /// fills at the open.
    Stop {
        /// Stop price.
        stop: f64,
    },
    /// A limit order once the price touches `stop`.
    StopLimit {
        /// Stop price.
        stop: f64,
        /// Limit price.
        limit: f64,
    },
}

impl OrderKind {
    /// The same order with its prices multiplied by `factor` (a split's units: ÷ ratio).
    #[must_use]
    pub fn scaled(self, factor: f64) -> OrderKind {
        match self {
            OrderKind::Market => OrderKind::Market,
            OrderKind::Limit { limit } => OrderKind::Limit {
                limit: limit * factor,
            },
            OrderKind::Stop { stop } => OrderKind::Stop {
                stop: stop * factor,
            },
            OrderKind::StopLimit { stop, limit } => OrderKind::StopLimit {
                stop: stop * factor,
                limit: limit * factor,
            },
        }
    }
}

/// How long an order lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeInForce {
    /// Until filled or cancelled.
    Gtc,
    /// For the bar it can first fill on only.
    Day,
}

qts_core::text_enum! {
    /// Why an order exists.
    Reason {
        /// The execution rules turned targets into orders.
        Rebalance => "rebalance",
        /// The fixed stop-loss was hit.
        StopLoss => "stop_loss",
        /// The take-profit level was reached.
        TakeProfit => "take_profit",
        /// The trailing stop was hit.
        TrailingStop => "trailing_stop",
        /// The ATR stop was hit.
        AtrStop => "atr_stop",
        /// The drawdown circuit breaker tripped.
        CircuitBreaker => "circuit_breaker",
        /// The strategy placed it as a raw order.
        Strategy => "strategy",
        /// The data ended.
        EndOfData => "end_of_data",
        /// The symbol's bars ended while the calendar went on (closed at its last close).
        Delisted => "delisted",
        /// A split left a fraction of a share, paid in cash at the ex-date's open (a closed
        /// trade, never an order).
        Split => "split",
    }
}

qts_core::text_enum! {
    /// What became of an order.
    OrderStatus {
        /// Filled in full.
        Filled => "filled",
        /// Filled in part (volume cap, cash).
        PartiallyFilled => "partially_filled",
        /// A day order whose bar passed unfilled.
        Expired => "expired",
        /// Nothing could be filled (no shares affordable).
        Cancelled => "cancelled",
        /// Still in the book at the end of the data.
        Open => "open",
    }
}

/// An order in the book.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    /// Sequence number.
    pub id: u64,
    /// Index of the symbol.
    pub symbol: usize,
    /// Signed quantity: positive buys, negative sells.
    pub size: f64,
    /// Price rule.
    pub kind: OrderKind,
    /// Lifetime.
    pub tif: TimeInForce,
    /// Bar after whose close it was submitted.
    pub submitted_bar: usize,
    /// Why it exists.
    pub reason: Reason,
}

/// An executed (part of an) order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fill {
    /// The order.
    pub order_id: u64,
    /// Symbol name.
    pub symbol: String,
    /// Bar of execution.
    pub bar: usize,
    /// Time of execution.
    pub time: NaiveDateTime,
    /// Signed quantity.
    pub size: f64,
    /// Price paid or received, slippage included.
    pub price: f64,
    /// Commission charged.
    pub commission: f64,
    /// Slippage cost in cash (|size| × |price − reference price|).
    pub slippage: f64,
    /// The order's reason.
    pub reason: Reason,
}

//! qts backtesting: an event-driven engine with realistic fills, costs and risk controls,
//! strategies, position sizing, and 30+ performance metrics. It takes predictions as plain
//! columns, never a model.

pub mod metrics;

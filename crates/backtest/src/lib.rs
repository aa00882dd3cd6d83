//! qts backtesting: an event-driven engine with realistic fills, costs and risk controls,
//! strategies, position sizing, and 30+ performance metrics. It takes predictions as plain
//! columns, never a model.
//!
//! ```
//! use qts_backtest::engine::{EngineConfig, run};
//! use qts_backtest::strategy::SmaCross;
//! use qts_config::QtsConfig;
//!
//! let bars = qts_data::io::read_bars(std::path::Path::new("../../examples/data/goog_daily.csv")).unwrap();
//! let cfg = EngineConfig::from_config(&QtsConfig::default());
//! let result = run(&[bars], &mut SmaCross::new(10, 20).unwrap(), &cfg).unwrap();
//! assert!(!result.trades.is_empty());
//! ```

pub mod costs;
pub mod decide;
pub mod engine;
pub mod error;
mod execution;
mod fill_rules;
pub mod grid;
pub mod order;
pub mod portfolio;
pub mod report;
pub mod request;
mod schedule;
pub mod settings;
pub mod sizing;
pub mod strategy;
pub mod summary;
pub mod universe;

// The statistics live in `qts-stats`; `crate::metrics` reads them there.
use qts_stats::metrics;

pub use decide::{DecideRequest, Decision, decide};
pub use engine::{BacktestResult, EngineConfig, Execution, run};
pub use error::BacktestError;
pub use fill_rules::python_floordiv;
pub use report::{BacktestReport, Market, backtest};

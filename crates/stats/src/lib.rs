//! qts statistics: the numbers measured on return series, trade lists and trial matrices,
//! none of which touches the engine. Each is a pure function over slices with its reference
//! (empyrical, the papers of Bailey and López de Prado, Jobson–Korkie–Memmel, Diebold–Mariano,
//! Politis–Romano) named where it is defined, and a golden beside it in `tests/`.
//!
//! ```
//! use qts_stats::metrics::{MetricsConfig, return_metrics};
//!
//! let returns = [0.01, -0.02, 0.015, 0.003, -0.004];
//! let m = return_metrics(&returns, None, &MetricsConfig::default());
//! assert!(m["total_return"].as_f64() > 0.0);
//! ```

pub mod compare;
pub mod cross_section;
pub mod error;
pub mod metrics;
pub mod monte_carlo;
pub mod overfitting;
pub mod serde_nan;
pub mod significance;

pub use error::StatsError;

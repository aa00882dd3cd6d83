//! Significance tests: whether one strategy's Sharpe ratio differs from another's
//! (Jobson–Korkie–Memmel, on paired returns) and whether one forecast's errors are smaller than
//! another's (Diebold–Mariano, with Harvey, Leybourne & Newbold's correction).

mod diebold_mariano;
pub mod forecasts;
mod sharpe_difference;

pub use diebold_mariano::{ForecastDifference, Loss, diebold_mariano};
pub use sharpe_difference::{SharpeDifference, sharpe_difference};

/// The level every verdict qts prints is tested at ("significant at 5%"): one place, so a
/// summary, a comparison and a ranking cannot disagree.
pub const LEVEL: f64 = 0.05;

/// The level as a person reads it: `5%`.
pub fn level_text(level: f64) -> String {
    format!("{}%", (100.0 * level * 1e9).round() / 1e9)
}

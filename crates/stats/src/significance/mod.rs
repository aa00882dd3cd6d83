//! Significance tests: whether one strategy's Sharpe ratio differs from another's
//! (Jobson–Korkie–Memmel, on paired returns) and whether one forecast's errors are smaller than
//! another's (Diebold–Mariano, with Harvey, Leybourne & Newbold's correction).

mod diebold_mariano;
pub mod forecasts;
mod sharpe_difference;

pub use diebold_mariano::{ForecastDifference, Loss, diebold_mariano};
pub use sharpe_difference::{SharpeDifference, sharpe_difference};

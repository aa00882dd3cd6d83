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

/// A two-sided test's verdict as the pages word it: `better, significant` or
/// `worse, significant` when `p_value` is below `level` (`better` says which side won), else
/// `no significant difference`.
pub fn verdict(p_value: f64, better: bool, level: f64) -> &'static str {
    match (p_value < level, better) {
        (true, true) => "better, significant",
        (true, false) => "worse, significant",
        (false, _) => "no significant difference",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_names_the_side_only_below_the_level() {
        assert_eq!(verdict(0.01, true, LEVEL), "better, significant");
        assert_eq!(verdict(0.01, false, LEVEL), "worse, significant");
        assert_eq!(verdict(0.05, true, LEVEL), "no significant difference");
        assert_eq!(verdict(f64::NAN, true, LEVEL), "no significant difference");
        assert_eq!(level_text(LEVEL), "5%");
    }
}

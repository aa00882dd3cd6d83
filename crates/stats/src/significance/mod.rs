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

/// What a two-sided test says of a candidate against a baseline: significantly better,
/// significantly worse, or not distinguishable at the level. The one function every verdict
/// qts prints (console, JSON `verdict`, page banners) goes through, so none can point the wrong
/// way: a significant difference is a lead only when the candidate is the better side.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Verdict {
    /// Significantly better at the level.
    Better,
    /// Significantly worse at the level.
    Worse,
    /// No significant difference (or no test).
    NotDistinguishable,
}

impl Verdict {
    /// The verdict of a test with `p_value` (two-sided) where `better` says which side the
    /// candidate's estimate is on; NaN or a missing p-value is [`Verdict::NotDistinguishable`].
    pub fn of(p_value: f64, better: bool, level: f64) -> Verdict {
        match (p_value < level, better) {
            (true, true) => Verdict::Better,
            (true, false) => Verdict::Worse,
            (false, _) => Verdict::NotDistinguishable,
        }
    }

    /// The verdict of a Sharpe ratio test of a candidate (`a`) against a baseline (`b`).
    pub fn of_sharpe(test: Option<&SharpeDifference>, level: f64) -> Verdict {
        test.map_or(Verdict::NotDistinguishable, |d| {
            Verdict::of(d.p_value, d.sharpe_a > d.sharpe_b, level)
        })
    }

    /// The verdict of a candidate against several baselines: worse when it is significantly
    /// worse than any, better when significantly better than every one, otherwise not
    /// distinguishable.
    pub fn overall(each: &[Verdict]) -> Verdict {
        if each.contains(&Verdict::Worse) {
            Verdict::Worse
        } else if !each.is_empty() && each.iter().all(|v| *v == Verdict::Better) {
            Verdict::Better
        } else {
            Verdict::NotDistinguishable
        }
    }

    /// In words, against `what`: "significantly better than buy-and-hold",
    /// "not distinguishable from buy-and-hold".
    pub fn against(self, what: &str) -> String {
        match self {
            Verdict::Better => format!("significantly better than {what}"),
            Verdict::Worse => format!("significantly worse than {what}"),
            Verdict::NotDistinguishable => format!("not distinguishable from {what}"),
        }
    }
}

/// A two-sided test's verdict as the pages word it: `better, significant` or
/// `worse, significant` when `p_value` is below `level` (`better` says which side won), else
/// `no significant difference`.
pub fn verdict(p_value: f64, better: bool, level: f64) -> &'static str {
    match Verdict::of(p_value, better, level) {
        Verdict::Better => "better, significant",
        Verdict::Worse => "worse, significant",
        Verdict::NotDistinguishable => "no significant difference",
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

    fn test(sharpe_a: f64, sharpe_b: f64, p_value: f64) -> SharpeDifference {
        SharpeDifference {
            sharpe_a,
            sharpe_b,
            correlation: 0.5,
            periods: 500,
            z: 0.0,
            p_value,
        }
    }

    #[test]
    fn a_verdict_points_the_way_the_candidate_went_in_both_directions() {
        // Issue 35's case: Sharpe -0.197 against 0.483, p = 0.000: significantly worse.
        let worse = test(-0.197, 0.483, 0.0001);
        assert_eq!(Verdict::of_sharpe(Some(&worse), LEVEL), Verdict::Worse);
        let better = test(0.483, -0.197, 0.0001);
        assert_eq!(Verdict::of_sharpe(Some(&better), LEVEL), Verdict::Better);
        let close = test(0.483, 0.432, 0.4);
        assert_eq!(
            Verdict::of_sharpe(Some(&close), LEVEL),
            Verdict::NotDistinguishable
        );
        assert_eq!(Verdict::of_sharpe(None, LEVEL), Verdict::NotDistinguishable);
        use Verdict::*;
        assert_eq!(Verdict::overall(&[Worse, Better]), Worse);
        assert_eq!(Verdict::overall(&[Better, Better]), Better);
        assert_eq!(
            Verdict::overall(&[Better, NotDistinguishable]),
            NotDistinguishable
        );
        assert_eq!(Verdict::overall(&[]), NotDistinguishable);
        assert_eq!(Worse.to_string(), "worse");
        assert_eq!(
            "not_distinguishable".parse::<Verdict>(),
            Ok(NotDistinguishable)
        );
        assert_eq!(
            serde_json::to_string(&NotDistinguishable).unwrap(),
            "\"not_distinguishable\""
        );
        assert_eq!(
            Worse.against("buy-and-hold"),
            "significantly worse than buy-and-hold"
        );
    }
}

//! The verdicts qts prints of a candidate against its baselines, as functions: whether it beat
//! them, whether its lead is significant, and how much its Sharpe ratio owes to the number of
//! candidates compared. The level is [`qts_stats::significance::LEVEL`], in one place.

use qts_stats::metrics::Metrics;
use qts_stats::overfitting::{Trials, deflated_sharpe_ratio, probabilistic_sharpe_ratio};
use qts_stats::significance::{SharpeDifference, Verdict};
use serde::{Deserialize, Serialize};

/// A metric's value, NaN where it is missing.
fn value(m: &Metrics, key: &str) -> f64 {
    m.get(key).map_or(f64::NAN, |v| v.as_f64())
}

/// Whether `candidate` beat `baseline` over the same days: a higher total return *and* a
/// higher Sharpe ratio (a higher return bought with more risk is not a win).
pub fn beats(candidate: &Metrics, baseline: &Metrics) -> bool {
    value(candidate, "total_return") > value(baseline, "total_return")
        && value(candidate, "sharpe_ratio") > value(baseline, "sharpe_ratio")
}

/// Whether every test is a significant lead of the candidate at `level` (none missing).
pub fn lead_significant(tests: &[Option<SharpeDifference>], level: f64) -> bool {
    !tests.is_empty()
        && tests
            .iter()
            .all(|d| d.is_some_and(|d| d.significant_lead(level)))
}

/// The verdict of the main job's model against its two baselines, from their Sharpe ratio
/// tests (Jobson–Korkie–Memmel) at `level`: what `qts run` prints, writes as `verdict` in
/// `summary.json` and shows in its page's banner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunVerdict {
    /// Worse than either baseline: `worse`; better than both: `better`; else
    /// `not_distinguishable` ([`Verdict::overall`]).
    pub overall: Verdict,
    /// Against buy-and-hold.
    pub against_buy_and_hold: Verdict,
    /// Against the SMA crossover.
    pub against_sma_cross: Verdict,
    /// The level tested at.
    pub level: f64,
}

impl RunVerdict {
    /// The verdict of the model's Sharpe ratio tests against buy-and-hold and the SMA crossover.
    pub fn of(
        vs_hold: Option<&SharpeDifference>,
        vs_sma: Option<&SharpeDifference>,
        level: f64,
    ) -> RunVerdict {
        let hold = Verdict::of_sharpe(vs_hold, level);
        let sma = Verdict::of_sharpe(vs_sma, level);
        RunVerdict {
            overall: Verdict::overall(&[hold, sma]),
            against_buy_and_hold: hold,
            against_sma_cross: sma,
            level,
        }
    }

    /// The verdict in one sentence, with each test's p-value: "The model is significantly worse
    /// than buy-and-hold (p = 0.000) and not distinguishable from the SMA crossover (p = 0.170)
    /// out of sample, by its Sharpe ratio at 5% (Jobson–Korkie–Memmel)."
    pub fn sentence(
        &self,
        vs_hold: Option<&SharpeDifference>,
        vs_sma: Option<&SharpeDifference>,
    ) -> String {
        self.sentence_against("buy-and-hold", vs_hold, vs_sma)
    }

    /// [`RunVerdict::sentence`] with the holding baseline named `hold` (a universe's is "the
    /// equal-weight universe").
    pub fn sentence_against(
        &self,
        hold: &str,
        vs_hold: Option<&SharpeDifference>,
        vs_sma: Option<&SharpeDifference>,
    ) -> String {
        let p = |d: Option<&SharpeDifference>| {
            d.filter(|d| !d.p_value.is_nan())
                .map_or("no test".into(), |d| format!("p = {:.3}", d.p_value))
        };
        format!(
            "The model is {} ({}) and {} ({}) out of sample, by its Sharpe ratio at {} (Jobson–Korkie–Memmel).",
            self.against_buy_and_hold.against(hold),
            p(vs_hold),
            self.against_sma_cross.against("the SMA crossover"),
            p(vs_sma),
            qts_stats::significance::level_text(self.level),
        )
    }
}

/// The deflated Sharpe ratio of the first of `candidates` (daily returns over the same days):
/// its probabilistic Sharpe ratio against the Sharpe ratio the best of that many candidates
/// reaches by luck.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Deflation {
    /// DSR of the first candidate.
    pub deflated_sharpe_ratio: f64,
    /// SR0: the per-period Sharpe ratio the best of the candidates reaches by luck.
    pub expected_max_sharpe: f64,
    /// Candidates compared.
    pub candidates: usize,
}

/// [`Deflation`] of `returns[0]` among `returns` (named `names`); `None` when fewer than two
/// candidates or returns leave nothing to deflate.
pub fn deflate(names: &[String], returns: &[Vec<f64>]) -> Option<Deflation> {
    let d = deflated_sharpe_ratio(&Trials { names, returns }).ok()?;
    Some(Deflation {
        deflated_sharpe_ratio: probabilistic_sharpe_ratio(&returns[0], d.expected_max_sharpe),
        expected_max_sharpe: d.expected_max_sharpe,
        candidates: returns.len(),
    })
}

/// The sentence of a lead: "significant at 5%" or "not significant at 5%".
pub fn significance_text(significant: bool, level: f64) -> String {
    format!(
        "{}significant at {}",
        if significant { "" } else { "not " },
        qts_stats::significance::level_text(level)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use qts_stats::metrics::{Metric, Value};

    fn metrics(total: f64, sharpe: f64) -> Metrics {
        let mut m = Metrics::new();
        m.insert(Metric::TotalReturn, Value::Number(total));
        m.insert(Metric::SharpeRatio, Value::Number(sharpe));
        m
    }

    fn test(sharpe_a: f64, sharpe_b: f64, p_value: f64) -> Option<SharpeDifference> {
        Some(SharpeDifference {
            sharpe_a,
            sharpe_b,
            correlation: 0.5,
            periods: 500,
            z: 0.0,
            p_value,
        })
    }

    #[test]
    fn beating_needs_both_the_return_and_the_sharpe_ratio() {
        assert!(beats(&metrics(0.3, 0.8), &metrics(0.2, 0.5)));
        // More return bought with more risk: not a win.
        assert!(!beats(&metrics(0.3, 0.4), &metrics(0.2, 0.5)));
        assert!(!beats(&metrics(0.1, 0.8), &metrics(0.2, 0.5)));
        // A missing number never beats.
        assert!(!beats(&Metrics::new(), &metrics(0.2, 0.5)));
    }

    #[test]
    fn a_significant_lead_points_the_models_way() {
        let level = qts_stats::significance::LEVEL;
        assert!(lead_significant(
            &[test(0.08, 0.02, 0.01), test(0.08, 0.03, 0.02)],
            level
        ));
        // Significantly *worse* is not a lead (the verdict of issue 35's report).
        assert!(!lead_significant(&[test(-0.01, 0.03, 0.0001)], level));
        assert!(!lead_significant(&[test(0.08, 0.02, 0.2)], level));
        assert!(!lead_significant(&[test(0.08, 0.02, 0.01), None], level));
        assert!(!lead_significant(&[], level));
        assert_eq!(significance_text(true, level), "significant at 5%");
        assert_eq!(significance_text(false, level), "not significant at 5%");
    }

    #[test]
    fn the_run_verdict_says_worse_when_the_model_is_significantly_worse() {
        let level = qts_stats::significance::LEVEL;
        // Issue 35: Sharpe -0.197 against 0.483 (p 0.000) and 0.432 (p 0.017).
        let (hold, sma) = (
            test(-0.197, 0.483, 0.0001).unwrap(),
            test(-0.197, 0.432, 0.017).unwrap(),
        );
        let v = RunVerdict::of(Some(&hold), Some(&sma), level);
        assert_eq!(v.overall, Verdict::Worse);
        let text = v.sentence(Some(&hold), Some(&sma));
        assert!(
            text.starts_with("The model is significantly worse than buy-and-hold (p = 0.000) and significantly worse than the SMA crossover (p = 0.017)"),
            "{text}"
        );
        assert!(!text.contains("lead"), "{text}");
        // The other direction, and a mixed one.
        let (hold, sma) = (
            test(0.9, 0.4, 0.001).unwrap(),
            test(0.9, 0.5, 0.01).unwrap(),
        );
        assert_eq!(
            RunVerdict::of(Some(&hold), Some(&sma), level).overall,
            Verdict::Better
        );
        let flat = test(0.5, 0.4, 0.3).unwrap();
        let v = RunVerdict::of(Some(&hold), Some(&flat), level);
        assert_eq!(v.overall, Verdict::NotDistinguishable);
        assert!(v.sentence(Some(&hold), None).contains("(no test)"));
        let v = RunVerdict::of(Some(&hold), None, level);
        assert_eq!(v.against_sma_cross, Verdict::NotDistinguishable);
    }

    #[test]
    fn deflation_is_the_first_candidates_psr_against_the_expected_maximum() {
        let wave = |phase: f64, drift: f64| -> Vec<f64> {
            (0..300)
                .map(|i| 0.01 * ((i as f64) * 0.7 + phase).sin() + drift)
                .collect()
        };
        let returns = vec![wave(0.0, 0.002), wave(1.0, 0.0), wave(2.0, -0.001)];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let d = deflate(&names, &returns).unwrap();
        assert_eq!(d.candidates, 3);
        let want = probabilistic_sharpe_ratio(&returns[0], d.expected_max_sharpe);
        assert_eq!(d.deflated_sharpe_ratio.to_bits(), want.to_bits());
        assert!(deflate(&names[..1], &returns[..1]).is_none());
    }
}

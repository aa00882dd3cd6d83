//! Forecast quality on plain slices: what each epoch logs for the validation split, and the
//! verdict of a trained model against the naive forecasts.

use qts_stats::significance::Verdict;

/// Mean absolute error.
pub fn mae(pred: &[f64], target: &[f64]) -> f64 {
    if pred.is_empty() {
        return f64::NAN;
    }
    pred.iter()
        .zip(target)
        .map(|(p, t)| (p - t).abs())
        .sum::<f64>()
        / pred.len() as f64
}

/// Share of forecasts on the right side of `threshold` (0 for returns, 0.5 for
/// probabilities of an up move): `(pred > threshold) == (target > threshold)`.
pub fn directional_accuracy(pred: &[f64], target: &[f64], threshold: f64) -> f64 {
    if pred.is_empty() {
        return f64::NAN;
    }
    let hits = pred
        .iter()
        .zip(target)
        .filter(|(p, t)| (**p > threshold) == (**t > threshold))
        .count();
    hits as f64 / pred.len() as f64
}

/// Share of outcomes inside `[lower, upper]`: an interval's empirical coverage, to set beside
/// its nominal level.
pub fn coverage(target: &[f64], lower: &[f64], upper: &[f64]) -> f64 {
    if target.is_empty() {
        return f64::NAN;
    }
    let inside = target
        .iter()
        .zip(lower.iter().zip(upper))
        .filter(|(t, (lo, hi))| *lo <= *t && *t <= *hi)
        .count();
    inside as f64 / target.len() as f64
}

/// The t-statistic of a correlation `r` over `n` pairs: `r √((n − 2) / (1 − r²))`.
pub fn correlation_t(r: f64, n: usize) -> f64 {
    if n < 3 || !r.is_finite() {
        return f64::NAN;
    }
    r * ((n as f64 - 2.0) / (1.0 - r * r)).sqrt()
}

/// The baselines a forecast is judged against, on outcomes `target`: the errors of the zero
/// forecast and of the training mean (`train_mean`), the share of up moves (what always
/// forecasting "up" scores in directional accuracy), and, given the forecast `pred`, its
/// RMSE and the t-statistic of its IC.
pub fn baselines(
    target: &[f64],
    train_mean: f64,
    threshold: f64,
    pred: Option<&[f64]>,
) -> Vec<(&'static str, f64)> {
    let n = target.len();
    let rmse = |f: &dyn Fn(usize) -> f64| {
        (target
            .iter()
            .enumerate()
            .map(|(i, t)| (f(i) - t).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt()
    };
    let constant = |c: f64| target.iter().map(|t| (t - c).abs()).sum::<f64>() / n as f64;
    let up = target.iter().filter(|t| **t > threshold).count() as f64 / n as f64;
    let mut out = vec![
        ("mae_zero", constant(threshold)),
        ("rmse_zero", rmse(&|_| threshold)),
        ("mae_train_mean", constant(train_mean)),
        ("rmse_train_mean", rmse(&|_| train_mean)),
        ("up_share", up),
    ];
    if let Some(p) = pred {
        out.push(("rmse", rmse(&|i| p[i])));
        out.push(("ic_t", correlation_t(information_coefficient(p, target), n)));
    }
    out
}

/// Diebold–Mariano p-values of the forecast `pred` against the naive forecasts on `target`,
/// as metrics (`dm_p_zero`, `dm_p_train_mean` on absolute errors; `dm_p_always_up` on misses of
/// direction, forecasting "up" every time); a test that cannot be computed (too few forecasts,
/// identical losses) is left out.
pub fn naive_tests(
    pred: &[f64],
    target: &[f64],
    train_mean: f64,
    threshold: f64,
    horizon: usize,
) -> Vec<(&'static str, f64)> {
    use qts_stats::significance::{Loss, diebold_mariano};
    let errors = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        target.iter().enumerate().map(|(i, t)| f(i) - t).collect()
    };
    let model = errors(&|i| pred[i]);
    let miss = |up: &dyn Fn(usize) -> bool| -> Vec<f64> {
        target
            .iter()
            .enumerate()
            .map(|(i, t)| f64::from(u8::from(up(i) != (*t > threshold))))
            .collect()
    };
    let p = |a: &[f64], b: &[f64]| {
        diebold_mariano(a, b, horizon, Loss::Absolute)
            .ok()
            .map(|d| d.p_value)
            .filter(|p| p.is_finite())
    };
    [
        ("dm_p_zero", p(&model, &errors(&|_| threshold))),
        ("dm_p_train_mean", p(&model, &errors(&|_| train_mean))),
        (
            "dm_p_always_up",
            p(&miss(&|i| pred[i] > threshold), &miss(&|_| true)),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

/// How far an interval's empirical coverage may stray from its nominal level before qts flags
/// it: 5 percentage points.
pub const COVERAGE_TOLERANCE: f64 = 0.05;

/// An interval's coverage on the test split beside its nominal level.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoverageCheck {
    /// `mc_dropout` or `ensemble`.
    pub method: String,
    /// The nominal level (0.9).
    pub nominal: f64,
    /// The share of outcomes inside.
    pub observed: f64,
    /// `within`, `too_narrow` (below nominal − tolerance) or `too_wide` (above nominal +
    /// tolerance).
    pub calibration: String,
}

/// Whether a trained model beats the naive forecasts on its test split, in words a person and
/// a script read: better / worse / not distinguishable (Diebold–Mariano at the level), and
/// each interval's calibration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ForecastVerdict {
    /// The level tested at.
    pub level: f64,
    /// Against forecasting 0 (or ½ for a probability of up).
    pub zero_forecast: Verdict,
    /// Against forecasting the training split's mean.
    pub training_mean: Verdict,
    /// Its direction against always forecasting "up".
    pub always_up: Verdict,
    /// The intervals' coverage, within [`COVERAGE_TOLERANCE`] of nominal or not.
    pub coverage: Vec<CoverageCheck>,
}

impl ForecastVerdict {
    /// The verdict read from a training run's test metrics (`test_mae`, `test_mae_zero`,
    /// `test_dm_p_zero`, …); a test the metrics lack is not distinguishable.
    pub fn of(metrics: &std::collections::BTreeMap<String, f64>, level: f64) -> ForecastVerdict {
        let get = |k: &str| metrics.get(k).copied().unwrap_or(f64::NAN);
        let lower =
            |ours: &str, theirs: &str, p: &str| Verdict::of(get(p), get(ours) < get(theirs), level);
        let coverage = [
            ("mc_dropout", "test_coverage_mc_dropout_90"),
            ("ensemble", "test_coverage_ensemble_90"),
        ]
        .into_iter()
        .filter_map(|(method, key)| {
            let observed = *metrics.get(key)?;
            let nominal = 0.9;
            let calibration = if observed < nominal - COVERAGE_TOLERANCE {
                "too_narrow"
            } else if observed > nominal + COVERAGE_TOLERANCE {
                "too_wide"
            } else {
                "within"
            };
            Some(CoverageCheck {
                method: method.into(),
                nominal,
                observed,
                calibration: calibration.into(),
            })
        })
        .collect();
        ForecastVerdict {
            level,
            zero_forecast: lower("test_mae", "test_mae_zero", "test_dm_p_zero"),
            training_mean: lower("test_mae", "test_mae_train_mean", "test_dm_p_train_mean"),
            always_up: Verdict::of(
                get("test_dm_p_always_up"),
                get("test_directional_accuracy") > get("test_up_share"),
                level,
            ),
            coverage,
        }
    }

    /// The verdict in words, with the p-values from `metrics`.
    pub fn sentences(&self, metrics: &std::collections::BTreeMap<String, f64>) -> String {
        let p = |k: &str| {
            metrics
                .get(k)
                .map_or("no test".into(), |p| format!("p = {p:.3}"))
        };
        let mut out = format!(
            "verdict on test at {} (Diebold–Mariano on absolute errors): the model is {} ({}) and {} ({}); its direction is {} ({})\n",
            qts_stats::significance::level_text(self.level),
            self.zero_forecast.against("the zero forecast"),
            p("test_dm_p_zero"),
            self.training_mean.against("the training mean"),
            p("test_dm_p_train_mean"),
            self.always_up.against("always up"),
            p("test_dm_p_always_up"),
        );
        for c in &self.coverage {
            if c.calibration != "within" {
                out.push_str(&format!(
                    "WARNING: the {} intervals cover {:.1}% of test outcomes against a nominal {:.0}% (tolerance ±{:.0} points): {}\n",
                    c.method.replace('_', " "),
                    100.0 * c.observed,
                    100.0 * c.nominal,
                    100.0 * COVERAGE_TOLERANCE,
                    if c.calibration == "too_narrow" {
                        "too narrow, so sizing by them trusts the forecast too much"
                    } else {
                        "too wide, so sizing by them shrinks positions too much"
                    }
                ));
            }
        }
        out
    }
}

/// Ranks from 1, ties sharing their average rank (as `scipy.stats.rankdata`).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Pearson's correlation; NaN when either side is constant.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    qts_core::stats::correlation(a, b)
}

/// Information coefficient: Spearman's rank correlation of forecasts and outcomes (NaN when
/// either is constant).
pub fn information_coefficient(pred: &[f64], target: &[f64]) -> f64 {
    if pred.len() < 2 {
        return f64::NAN;
    }
    pearson(&ranks(pred), &ranks(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(pairs: &[(&str, f64)]) -> std::collections::BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn a_model_worse_than_the_naive_forecasts_is_called_worse() {
        // Issue 35's `qts train`: mae 0.007001 against the zero forecast's 0.006675,
        // directional accuracy 0.520 against a share of up days of 0.568; coverage 19%.
        let m = metrics(&[
            ("test_mae", 0.007001),
            ("test_mae_zero", 0.006675),
            ("test_mae_train_mean", 0.006690),
            ("test_dm_p_zero", 0.001),
            ("test_dm_p_train_mean", 0.30),
            ("test_directional_accuracy", 0.520062),
            ("test_up_share", 0.567901),
            ("test_dm_p_always_up", 0.04),
            ("test_coverage_mc_dropout_90", 0.19),
            ("test_coverage_ensemble_90", 0.88),
        ]);
        let v = ForecastVerdict::of(&m, 0.05);
        assert_eq!(v.zero_forecast, Verdict::Worse);
        assert_eq!(v.training_mean, Verdict::NotDistinguishable);
        assert_eq!(v.always_up, Verdict::Worse);
        assert_eq!(v.coverage[0].calibration, "too_narrow");
        assert_eq!(v.coverage[1].calibration, "within");
        let text = v.sentences(&m);
        assert!(
            text.contains("significantly worse than the zero forecast (p = 0.001)"),
            "{text}"
        );
        assert!(text.contains("mc dropout intervals cover 19.0%"), "{text}");
        assert!(!text.contains("ensemble intervals"), "{text}");
        // The other direction.
        let m = metrics(&[
            ("test_mae", 0.005),
            ("test_mae_zero", 0.006675),
            ("test_dm_p_zero", 0.001),
            ("test_directional_accuracy", 0.60),
            ("test_up_share", 0.52),
            ("test_dm_p_always_up", 0.01),
            ("test_coverage_mc_dropout_90", 0.99),
        ]);
        let v = ForecastVerdict::of(&m, 0.05);
        assert_eq!(v.zero_forecast, Verdict::Better);
        assert_eq!(v.always_up, Verdict::Better);
        assert_eq!(v.training_mean, Verdict::NotDistinguishable);
        assert_eq!(v.coverage[0].calibration, "too_wide");
    }

    #[test]
    fn naive_tests_are_diebold_mariano_on_the_naive_forecasts_errors() {
        // A forecast that is the outcome plus small noise beats the zero forecast clearly.
        let target: Vec<f64> = (0..200).map(|i| 0.01 * ((i as f64) * 0.9).sin()).collect();
        let good: Vec<f64> = target
            .iter()
            .enumerate()
            .map(|(i, t)| t + 0.001 * ((i % 3) as f64 - 1.0))
            .collect();
        let t: std::collections::BTreeMap<_, _> = naive_tests(&good, &target, 0.0, 0.0, 1)
            .into_iter()
            .collect();
        let errs = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
            target.iter().enumerate().map(|(i, y)| f(i) - y).collect()
        };
        let want = qts_stats::significance::diebold_mariano(
            &errs(&|i| good[i]),
            &errs(&|_| 0.0),
            1,
            qts_stats::significance::Loss::Absolute,
        )
        .unwrap();
        assert_eq!(t["dm_p_zero"].to_bits(), want.p_value.to_bits());
        assert!(t["dm_p_zero"] < 1e-6);
        assert!(t.contains_key("dm_p_always_up"));
    }

    #[test]
    fn spearman_with_ties_as_scipy() {
        // scipy.stats.spearmanr([1, 2, 2, 3, 5], [2, 1, 4, 4, 9]).statistic
        let ic = information_coefficient(&[1.0, 2.0, 2.0, 3.0, 5.0], &[2.0, 1.0, 4.0, 4.0, 9.0]);
        assert!((ic - 0.763_157_894_736_842_1).abs() < 1e-12, "{ic}");
        assert!(information_coefficient(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }

    #[test]
    fn baselines_and_coverage_by_hand() {
        let t = [0.02, -0.01, 0.03, -0.04];
        let b: std::collections::BTreeMap<_, _> =
            baselines(&t, 0.01, 0.0, Some(&[0.01, 0.0, 0.01, -0.01]))
                .into_iter()
                .collect();
        assert!((b["mae_zero"] - 0.025).abs() < 1e-15);
        assert!((b["rmse_zero"] - (0.0030_f64 / 4.0).sqrt()).abs() < 1e-15);
        assert!((b["mae_train_mean"] - (0.01 + 0.02 + 0.02 + 0.05) / 4.0).abs() < 1e-15);
        assert_eq!(b["up_share"], 0.5);
        let rmse = ((0.0001 + 0.0001 + 0.0004 + 0.0009) / 4.0_f64).sqrt();
        assert!((b["rmse"] - rmse).abs() < 1e-15);
        // IC 0.8 over 4 pairs: t = 0.8 √(2 / 0.36).
        let ic = information_coefficient(&[0.01, 0.0, 0.01, -0.01], &t);
        assert!((b["ic_t"] - ic * (2.0 / (1.0 - ic * ic)).sqrt()).abs() < 1e-12);
        assert_eq!(
            coverage(&t, &[0.0, -0.02, 0.0, 0.0], &[0.05, 0.0, 0.01, 0.1]),
            0.5
        );
    }

    #[test]
    fn accuracy_and_mae() {
        let p = [0.1, -0.2, 0.3, -0.1];
        let t = [0.2, 0.1, 0.1, -0.3];
        assert_eq!(directional_accuracy(&p, &t, 0.0), 0.75);
        assert!((mae(&p, &t) - (0.1 + 0.3 + 0.2 + 0.2) / 4.0).abs() < 1e-12);
    }
}

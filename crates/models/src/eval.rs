//! Forecast quality on plain slices: what each epoch logs for the validation split.

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

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
    fn accuracy_and_mae() {
        let p = [0.1, -0.2, 0.3, -0.1];
        let t = [0.2, 0.1, 0.1, -0.3];
        assert_eq!(directional_accuracy(&p, &t, 0.0), 0.75);
        assert!((mae(&p, &t) - (0.1 + 0.3 + 0.2 + 0.2) / 4.0).abs() < 1e-12);
    }
}

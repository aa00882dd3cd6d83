//! Cross-sectional statistics of a universe's forecasts: Spearman's rank correlation between
//! the forecasts at a close and the returns that follow, one per date (the rank IC), and its
//! summary over the dates (Qlib's IC and ICIR).
//!
//! Written here rather than taken from a crate: a rank correlation with scipy's tie rule
//! (average ranks) over a few hundred names is a sort and a Pearson correlation, and no
//! maintained Rust crate computes the per-date IC with the summary Qlib reports.

use serde::{Deserialize, Serialize};

/// 1-based ranks of `x`, ties given the average of the ranks they span (scipy's
/// `rankdata(method="average")`). NaN values must be removed first.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    ranks_and_order(x).0
}

/// An order-preserving integer key of a number (IEEE 754 total order): comparing keys is
/// comparing the numbers, and integer sorts are faster than float comparisons.
fn order_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// [`average_ranks`] of `x`, and the positions of `x` from the largest value to the smallest
/// (ties: the lower position first).
pub fn ranks_and_order(x: &[f64]) -> (Vec<f64>, Vec<usize>) {
    // Keys ascending, and among equal keys the higher position first, so that read backwards
    // the order is largest first with ties by position.
    let mut sorted: Vec<(u64, u32)> = x
        .iter()
        .enumerate()
        .map(|(i, v)| (order_key(*v), u32::MAX - i as u32))
        .collect();
    sorted.sort_unstable();
    let position = |k: u32| (u32::MAX - k) as usize;
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && x[position(sorted[j + 1].1)] == x[position(sorted[i].1)] {
            j += 1;
        }
        // Positions i..=j (0-based) share ranks i+1..=j+1: their mean.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &(_, k) in &sorted[i..=j] {
            ranks[position(k)] = rank;
        }
        i = j + 1;
    }
    let order = sorted.iter().rev().map(|&(_, k)| position(k)).collect();
    (ranks, order)
}

/// Pearson's correlation of `x` and `y` (NaN when either is constant or shorter than 2).
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 2 {
        return f64::NAN;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x[..n].iter().zip(&y[..n]) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

/// Spearman's rank correlation (scipy's `spearmanr` statistic): Pearson's correlation of the
/// average ranks. NaN for fewer than 2 pairs or a constant side.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// The rank IC over the dates: mean, standard deviation (n − 1), t-statistic
/// (mean / (std / √n)) and ICIR (mean / std).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankIc {
    /// Mean IC.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub mean: f64,
    /// Its standard deviation over the dates.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub std: f64,
    /// `mean / (std / √dates)`: how many standard errors the mean IC is from 0.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub t_stat: f64,
    /// `mean / std`, Qlib's ICIR (not annualised).
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub icir: f64,
    /// Dates with an IC.
    pub dates: usize,
}

impl RankIc {
    /// The summary of per-date ICs (NaN ones skipped); None with fewer than 2.
    pub fn of(ics: &[f64]) -> Option<RankIc> {
        let x: Vec<f64> = ics.iter().copied().filter(|v| v.is_finite()).collect();
        let n = x.len();
        if n < 2 {
            return None;
        }
        let mean = x.iter().sum::<f64>() / n as f64;
        let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        Some(RankIc {
            mean,
            std,
            t_stat: mean / (std / (n as f64).sqrt()),
            icir: mean / std,
            dates: n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_average_rank_and_spearman_is_pearson_of_ranks() {
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0]),
            vec![3.5, 1.0, 3.5, 2.0]
        );
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-15);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        assert!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]);
        assert!((rho - 0.820_782_681_668_123_3).abs() < 1e-12, "{rho}");
        let s = RankIc::of(&[0.1, f64::NAN, 0.3]).unwrap();
        assert_eq!(s.dates, 2);
        assert!((s.mean - 0.2).abs() < 1e-15);
        assert!(RankIc::of(&[0.1]).is_none());
    }

    #[test]
    fn the_order_is_largest_first_with_ties_by_position() {
        let x = [2.0, 5.0, -1.0, 5.0, 0.0, -0.0, 2.0];
        let (ranks, order) = ranks_and_order(&x);
        assert_eq!(ranks, vec![4.5, 6.5, 1.0, 6.5, 2.5, 2.5, 4.5]);
        assert_eq!(order, vec![1, 3, 0, 6, 4, 5, 2]);
        // The integer keys order as the numbers do, infinities and signs included.
        let mut v = [
            3.5,
            -7.0,
            f64::INFINITY,
            0.0,
            f64::NEG_INFINITY,
            1e-300,
            -1e-300,
        ];
        let mut by_key = v;
        by_key.sort_by_key(|x| order_key(*x));
        v.sort_by(f64::total_cmp);
        assert_eq!(by_key, v);
    }
}

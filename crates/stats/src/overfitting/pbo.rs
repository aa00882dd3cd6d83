//! The probability of backtest overfitting (PBO) by combinatorially symmetric
//! cross-validation (CSCV): Bailey, Borwein, López de Prado and Zhu, "The Probability of
//! Backtest Overfitting" (2015), §2.

use serde::Serialize;

use super::Trials;
use crate::StatsError;

/// The probability of backtest overfitting and its distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overfitting {
    /// PBO: the share of combinations whose in-sample best ranks in the lower half out of
    /// sample (logit λ ≤ 0).
    pub probability_of_backtest_overfitting: f64,
    /// The share of combinations whose in-sample best loses out of sample (negative mean).
    pub probability_of_oos_loss: f64,
    /// λ of every combination, in combination order.
    pub logits: Vec<f64>,
    /// Row blocks.
    pub splits: usize,
    /// Combinations of `splits / 2` blocks.
    pub combinations: usize,
    /// Rows used (the oldest `rows mod splits` are dropped).
    pub rows_used: usize,
}

/// Per-trial sums over each row block, from which any union of blocks has its Sharpe ratio.
struct BlockSums {
    count: Vec<f64>,
    splits: usize,
    /// `[trial * splits + block]`: one trial's blocks side by side, read together.
    sum: Vec<f64>,
    sumsq: Vec<f64>,
}

impl BlockSums {
    fn sharpe(&self, blocks: &[usize], trial: usize) -> f64 {
        let (mut n, mut s, mut q) = (0.0, 0.0, 0.0);
        let at = trial * self.splits;
        for &b in blocks {
            n += self.count[b];
            s += self.sum[at + b];
            q += self.sumsq[at + b];
        }
        let mean = s / n;
        let var = (q - n * mean * mean) / (n - 1.0);
        if var > 0.0 {
            mean / var.sqrt()
        } else {
            f64::NAN
        }
    }

    fn mean(&self, blocks: &[usize], trial: usize) -> f64 {
        let n: f64 = blocks.iter().map(|&b| self.count[b]).sum();
        let at = trial * self.splits;
        blocks.iter().map(|&b| self.sum[at + b]).sum::<f64>() / n
    }
}

/// NaN sorts lowest in a ranking.
fn rank_key(x: f64) -> f64 {
    if x.is_nan() { f64::NEG_INFINITY } else { x }
}

/// The rank [`ranks`] gives `values[i]`, without sorting: the values below it, plus the
/// average position among its equals.
fn rank_of(values: &[f64], i: usize) -> f64 {
    let v = rank_key(values[i]);
    let (mut less, mut equal) = (0usize, 0usize);
    for &x in values {
        let x = rank_key(x);
        if x < v {
            less += 1;
        } else if x == v {
            equal += 1;
        }
    }
    less as f64 + (equal as f64 + 1.0) / 2.0
}

/// The ranks of `values` from 1 (the least) to N, ties sharing their average rank; NaN ranks
/// lowest.
#[cfg(test)]
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    let key = |i: usize| rank_key(values[i]);
    order.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
    let mut r = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && key(order[j + 1]) == key(order[i]) {
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

/// Every way of choosing `k` of `0..n`, in lexicographic order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut c: Vec<usize> = (0..k).collect();
    loop {
        out.push(c.clone());
        let Some(i) = (0..k).rev().find(|&i| c[i] != i + n - k) else {
            return out;
        };
        c[i] += 1;
        for j in i + 1..k {
            c[j] = c[j - 1] + 1;
        }
    }
}

/// Checks the plan of PBO over `trials` trials with `splits` blocks against `budget`: the
/// C(splits, splits/2) combinations, each a list of splits/2 blocks scoring every trial twice.
///
/// # Errors
/// [`StatsError::Parameter`] (`pbo_splits`) for a plan over the budget.
pub fn check_budget(
    splits: usize,
    trials: usize,
    budget: &qts_core::budget::Budget,
) -> Result<(), StatsError> {
    let half = splits / 2;
    let combos = (1..=half).fold(1.0f64, |c, i| c * (splits - half + i) as f64 / i as f64);
    let (n, s) = (trials as f64, splits as f64);
    budget
        .check(
            "pbo_splits",
            || {
                format!(
                    "{} CSCV combinations of {trials} trials",
                    qts_core::budget::count(combos)
                )
            },
            combos * (8.0 * half as f64 + 64.0) + 16.0 * n * s,
            combos * n * s,
        )
        .map_err(|e| StatsError::parameter("pbo_splits", format!("{splits} is too large: {e}")))
}

/// PBO by CSCV over `trials` with `splits` row blocks (an even number, at least 2); the
/// C(splits, splits/2) combinations are planned against `budget` before any is built.
///
/// # Errors
/// [`StatsError::Parameter`] for an odd number of splits or combinations over the budget,
/// [`StatsError::Insufficient`] for too many splits or fewer than two trials.
pub fn probability_of_backtest_overfitting(
    trials: &Trials<'_>,
    splits: usize,
    budget: &qts_core::budget::Budget,
) -> Result<Overfitting, StatsError> {
    let n = trials.returns.len();
    let t = trials.returns.first().map_or(0, Vec::len);
    if splits < 2 || !splits.is_multiple_of(2) {
        return Err(StatsError::parameter(
            "pbo_splits",
            format!("must be an even number of at least 2, got {splits}"),
        ));
    }
    if n < 2 {
        return Err(StatsError::Insufficient(format!(
            "PBO needs at least 2 trials, got {n}"
        )));
    }
    if t < 2 * splits {
        return Err(StatsError::Insufficient(format!(
            "PBO with {splits} splits needs at least {} rows (2 a block), got {t}",
            2 * splits
        )));
    }
    check_budget(splits, n, budget)?;
    let block = t / splits;
    let skip = t - block * splits;
    let mut sums = BlockSums {
        count: vec![block as f64; splits],
        splits,
        sum: vec![0.0; n * splits],
        sumsq: vec![0.0; n * splits],
    };
    for (j, r) in trials.returns.iter().enumerate() {
        for b in 0..splits {
            for &x in &r[skip + b * block..skip + (b + 1) * block] {
                sums.sum[j * splits + b] += x;
                sums.sumsq[j * splits + b] += x * x;
            }
        }
    }
    let combos = combinations(splits, splits / 2);
    // Each combination on its own (in parallel, collected in order: the same result on any
    // number of threads).
    use rayon::prelude::*;
    let outcomes: Vec<(f64, bool)> = combos
        .par_iter()
        .map(|is| {
            let oos: Vec<usize> = (0..splits).filter(|b| !is.contains(b)).collect();
            let mut best = 0;
            let mut best_sr = f64::NEG_INFINITY;
            for j in 0..n {
                let sr = sums.sharpe(is, j);
                if sr > best_sr {
                    best_sr = sr;
                    best = j;
                }
            }
            let oos_sharpe: Vec<f64> = (0..n).map(|j| sums.sharpe(&oos, j)).collect();
            let omega = rank_of(&oos_sharpe, best) / (n as f64 + 1.0);
            ((omega / (1.0 - omega)).ln(), sums.mean(&oos, best) < 0.0)
        })
        .collect();
    let logits: Vec<f64> = outcomes.iter().map(|o| o.0).collect();
    let losses = outcomes.iter().filter(|o| o.1).count();
    let m = logits.len() as f64;
    Ok(Overfitting {
        probability_of_backtest_overfitting: logits.iter().filter(|l| **l <= 0.0).count() as f64
            / m,
        probability_of_oos_loss: losses as f64 / m,
        splits,
        combinations: logits.len(),
        rows_used: block * splits,
        logits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_and_ranks_follow_their_definitions() {
        assert_eq!(combinations(4, 2).len(), 6);
        assert_eq!(combinations(16, 8).len(), 12_870);
        assert_eq!(combinations(4, 2)[0], vec![0, 1]);
        assert_eq!(combinations(4, 2)[5], vec![2, 3]);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        let v = [3.0, f64::NAN, 1.0, 3.0, 2.0, f64::NAN, 3.0];
        let all = ranks(&v);
        for (i, r) in all.iter().enumerate() {
            assert_eq!(rank_of(&v, i), *r, "{i}");
        }
    }
}

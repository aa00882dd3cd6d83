//! Overfitting statistics of Bailey and López de Prado, on per-period returns:
//!
//! - the probabilistic Sharpe ratio (PSR) and the minimum track record length (MinTRL),
//!   "The Sharpe Ratio Efficient Frontier" (2012), eqs. (11)–(12) and (14);
//! - the deflated Sharpe ratio (DSR) of the best of N trials, "The Deflated Sharpe Ratio"
//!   (2014), eqs. (2)–(3);
//! - the probability of backtest overfitting (PBO) by combinatorially symmetric
//!   cross-validation (CSCV), "The Probability of Backtest Overfitting" (2015), §2.
//!
//! Conventions (as the papers and `docs/overfitting.md`): the Sharpe ratio is per period (not
//! annualised) with the sample standard deviation (ddof = 1); skewness γ3 and kurtosis γ4 are
//! population moments, γ4 not excess (scipy's `skew(bias=True)`, `kurtosis(fisher=False,
//! bias=True)`).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::BacktestError;

/// Euler–Mascheroni's constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

fn normal() -> Normal {
    // Mean 0 and standard deviation 1 are valid parameters.
    Normal::standard()
}

/// Φ, the standard normal distribution function.
pub fn norm_cdf(x: f64) -> f64 {
    normal().cdf(x)
}

/// Φ⁻¹.
pub fn norm_ppf(p: f64) -> f64 {
    normal().inverse_cdf(p)
}

/// Per-period Sharpe ratio, mean over the sample standard deviation (NaN for fewer than two
/// returns or no dispersion).
pub fn sharpe(r: &[f64]) -> f64 {
    let sd = qts_core::stats::std(r, 1);
    if r.len() < 2 || sd == 0.0 {
        return f64::NAN;
    }
    qts_core::stats::mean(r) / sd
}

/// Population skewness γ3 and (non-excess) kurtosis γ4.
pub fn moments(r: &[f64]) -> (f64, f64) {
    let n = r.len() as f64;
    let m = qts_core::stats::mean(r);
    // The same sums, in the same order, as the fused passes of `metrics::return_metrics`.
    let (mut m2, mut m3, mut m4) = (-0.0, -0.0, -0.0);
    for &x in r {
        let c = x - m;
        m2 += c * c;
        m3 += c.powi(3);
        m4 += c.powi(4);
    }
    let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
    (m3 / m2.powf(1.5), m4 / (m2 * m2))
}

/// PSR of a Sharpe ratio `sr` measured over `t` returns with moments `g3`, `g4`, against the
/// benchmark `sr_star` (eq. 11 of the 2012 paper).
pub fn psr_of(sr: f64, sr_star: f64, t: usize, g3: f64, g4: f64) -> f64 {
    let denominator = (1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr).sqrt();
    norm_cdf((sr - sr_star) * ((t as f64) - 1.0).sqrt() / denominator)
}

/// The probabilistic Sharpe ratio of `r` against `sr_star`.
pub fn probabilistic_sharpe_ratio(r: &[f64], sr_star: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let (g3, g4) = moments(r);
    psr_of(sharpe(r), sr_star, r.len(), g3, g4)
}

/// The minimum track record length, in periods, for `r`'s Sharpe ratio to exceed `sr_star`
/// with confidence `alpha` (eq. 14 of the 2012 paper); NaN when it does not exceed it.
pub fn min_track_record_length(r: &[f64], sr_star: f64, alpha: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let sr = sharpe(r);
    if sr.is_nan() || sr <= sr_star {
        return f64::NAN;
    }
    let (g3, g4) = moments(r);
    let z = norm_ppf(alpha);
    1.0 + (1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr) * (z / (sr - sr_star)).powi(2)
}

/// The expected maximum Sharpe ratio of `n` trials whose Sharpe ratios have variance `v`
/// under the null of no skill (eq. 2 of the 2014 paper): SR0.
pub fn expected_max_sharpe(n: usize, v: f64) -> f64 {
    let n = n as f64;
    v.sqrt()
        * ((1.0 - EULER_GAMMA) * norm_ppf(1.0 - 1.0 / n)
            + EULER_GAMMA * norm_ppf(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// Trial returns read from a file: `date` and one column of per-period returns per trial.
#[derive(Debug, Clone)]
pub struct TrialMatrix {
    /// Trial names (the column headers).
    pub names: Vec<String>,
    /// One column per trial.
    pub returns: Vec<Vec<f64>>,
}

impl TrialMatrix {
    /// The trials of a table read from `source`.
    ///
    /// # Errors
    /// [`BacktestError::Input`] naming the file, and the row and column of a return that is
    /// missing or not finite.
    pub fn from_table(table: &qts_data::io::Table, source: &str) -> Result<Self, BacktestError> {
        for (name, col) in &table.columns {
            if let Some(i) = col.iter().position(|x| !x.is_finite()) {
                return Err(BacktestError::Input {
                    path: source.into(),
                    reason: format!(
                        "row {} ({}): trial `{name}` has no finite return; fill or drop that row",
                        i + 2,
                        table.time[i].date()
                    ),
                });
            }
        }
        Ok(TrialMatrix {
            names: table.columns.iter().map(|(n, _)| n.clone()).collect(),
            returns: table.columns.iter().map(|(_, c)| c.clone()).collect(),
        })
    }

    /// The trials as [`Trials`].
    pub fn trials(&self) -> Trials<'_> {
        Trials {
            names: &self.names,
            returns: &self.returns,
        }
    }
}

/// Trial returns as columns of one period grid.
#[derive(Debug, Clone)]
pub struct Trials<'a> {
    /// Trial names (e.g. `fast=5;slow=10`).
    pub names: &'a [String],
    /// One column of per-period returns per trial, all of the same length.
    pub returns: &'a [Vec<f64>],
}

/// The deflated Sharpe ratio and what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deflated {
    /// DSR: PSR of the best trial against SR0.
    pub deflated_sharpe_ratio: f64,
    /// The trial with the best full-sample Sharpe ratio.
    pub best_trial: String,
    /// Its per-period Sharpe ratio.
    pub best_sharpe: f64,
    /// SR0, the Sharpe ratio the best of this many trials reaches by luck.
    pub expected_max_sharpe: f64,
    /// Variance (ddof = 1) of the trials' Sharpe ratios.
    pub sharpe_variance: f64,
}

/// The deflated Sharpe ratio of the best of `trials`.
///
/// # Errors
/// [`BacktestError::Config`] for fewer than two trials or two returns.
pub fn deflated_sharpe_ratio(trials: &Trials<'_>) -> Result<Deflated, BacktestError> {
    let n = trials.returns.len();
    let t = trials.returns.first().map_or(0, Vec::len);
    if n < 2 || t < 2 {
        return Err(BacktestError::Config(format!(
            "the deflated Sharpe ratio needs at least 2 trials of 2 returns; got {n} of {t}"
        )));
    }
    let srs: Vec<f64> = trials.returns.iter().map(|r| sharpe(r)).collect();
    let best = (0..n)
        .filter(|&i| srs[i].is_finite())
        .fold(None, |b: Option<usize>, i| match b {
            Some(j) if srs[j] >= srs[i] => Some(j),
            _ => Some(i),
        })
        .ok_or_else(|| BacktestError::Config("no trial has a finite Sharpe ratio".into()))?;
    let finite: Vec<f64> = srs.iter().copied().filter(|s| s.is_finite()).collect();
    let v = qts_core::stats::std(&finite, 1).powi(2);
    let sr0 = expected_max_sharpe(n, v);
    let (g3, g4) = moments(&trials.returns[best]);
    Ok(Deflated {
        deflated_sharpe_ratio: psr_of(srs[best], sr0, t, g3, g4),
        best_trial: trials.names.get(best).cloned().unwrap_or_default(),
        best_sharpe: srs[best],
        expected_max_sharpe: sr0,
        sharpe_variance: v,
    })
}

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

/// PBO by CSCV over `trials` with `splits` row blocks (an even number, at least 2).
///
/// # Errors
/// [`BacktestError::Config`] for an odd or too large number of splits, or fewer than two
/// trials.
pub fn probability_of_backtest_overfitting(
    trials: &Trials<'_>,
    splits: usize,
) -> Result<Overfitting, BacktestError> {
    let n = trials.returns.len();
    let t = trials.returns.first().map_or(0, Vec::len);
    if splits < 2 || !splits.is_multiple_of(2) {
        return Err(BacktestError::Config(format!(
            "--pbo-splits must be an even number of at least 2, got {splits}"
        )));
    }
    if n < 2 {
        return Err(BacktestError::Config(format!(
            "PBO needs at least 2 trials, got {n}"
        )));
    }
    if t < 2 * splits {
        return Err(BacktestError::Config(format!(
            "PBO with {splits} splits needs at least {} rows (2 a block), got {t}",
            2 * splits
        )));
    }
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

/// DSR and PBO of a set of trials, as `qts overfitting --json` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverfittingReport {
    /// DSR of the trial with the best full-sample Sharpe ratio.
    pub deflated_sharpe_ratio: f64,
    /// PBO by CSCV.
    pub probability_of_backtest_overfitting: f64,
    /// Trials.
    pub trials: usize,
    /// Rows of the matrix (DSR uses them all).
    pub rows: usize,
    /// Rows PBO used.
    pub rows_used: usize,
    /// The share of CSCV combinations whose in-sample best loses out of sample.
    pub probability_of_oos_loss: f64,
    /// The best trial's name.
    pub best_trial: String,
    /// Its per-period Sharpe ratio.
    pub best_sharpe: f64,
    /// SR0.
    pub expected_max_sharpe: f64,
    /// Variance of the trials' Sharpe ratios.
    pub sharpe_variance: f64,
    /// Row blocks.
    pub splits: usize,
    /// CSCV combinations.
    pub combinations: usize,
    /// λ of each combination (the distribution PBO is the share ≤ 0 of).
    pub logits: Vec<f64>,
}

/// DSR and PBO of `trials` with `splits` CSCV blocks.
///
/// # Errors
/// As [`deflated_sharpe_ratio`] and [`probability_of_backtest_overfitting`].
pub fn overfitting(trials: &Trials<'_>, splits: usize) -> Result<OverfittingReport, BacktestError> {
    let d = deflated_sharpe_ratio(trials)?;
    let p = probability_of_backtest_overfitting(trials, splits)?;
    Ok(OverfittingReport {
        deflated_sharpe_ratio: d.deflated_sharpe_ratio,
        probability_of_backtest_overfitting: p.probability_of_backtest_overfitting,
        trials: trials.returns.len(),
        rows: trials.returns.first().map_or(0, Vec::len),
        rows_used: p.rows_used,
        probability_of_oos_loss: p.probability_of_oos_loss,
        best_trial: d.best_trial,
        best_sharpe: d.best_sharpe,
        expected_max_sharpe: d.expected_max_sharpe,
        sharpe_variance: d.sharpe_variance,
        splits: p.splits,
        combinations: p.combinations,
        logits: p.logits,
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

    #[test]
    fn the_expected_maximum_grows_with_the_trials() {
        // SR0 for N = 100 trials with unit variance: ≈ 2.5306 (Bailey & López de Prado 2014,
        // Fig. 1 reads ≈ 2.5).
        let sr0 = expected_max_sharpe(100, 1.0);
        assert!((sr0 - 2.5306).abs() < 1e-3, "{sr0}");
        assert!(expected_max_sharpe(1000, 1.0) > sr0);
    }
}

/// The Jobson–Korkie test of a difference of two Sharpe ratios, with Memmel's (2003)
/// correction, on paired returns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SharpeDifference {
    /// Per-period Sharpe ratio of the first series.
    pub sharpe_a: f64,
    /// Of the second.
    pub sharpe_b: f64,
    /// Correlation of the two return series.
    pub correlation: f64,
    /// Paired periods.
    pub periods: usize,
    /// z = (SR_a − SR_b) / √θ.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Tests whether `a` and `b` (the same periods) have different Sharpe ratios:
/// θ = [2(1 − ρ) + ½(SR_a² + SR_b² − 2 SR_a SR_b ρ²)] / T (Memmel 2003, eq. 2, with the
/// sample moments), z = (SR_a − SR_b)/√θ, p = 2(1 − Φ(|z|)).
///
/// # Errors
/// [`BacktestError::Input`] for series of different lengths or fewer than 3 periods.
pub fn sharpe_difference(a: &[f64], b: &[f64]) -> Result<SharpeDifference, BacktestError> {
    if a.len() != b.len() || a.len() < 3 {
        return Err(BacktestError::Input {
            path: "returns".into(),
            reason: format!(
                "a Sharpe difference needs two return series over the same periods (at least 3), got {} and {}",
                a.len(),
                b.len()
            ),
        });
    }
    let (sa, sb) = (sharpe(a), sharpe(b));
    let rho = qts_core::stats::correlation(a, b);
    let t = a.len() as f64;
    let theta = (2.0 * (1.0 - rho) + 0.5 * (sa * sa + sb * sb - 2.0 * sa * sb * rho * rho)) / t;
    let z = (sa - sb) / theta.sqrt();
    Ok(SharpeDifference {
        sharpe_a: sa,
        sharpe_b: sb,
        correlation: rho,
        periods: a.len(),
        z,
        p_value: if z.is_finite() {
            2.0 * (1.0 - norm_cdf(z.abs()))
        } else {
            f64::NAN
        },
    })
}

#[cfg(test)]
mod sharpe_difference_tests {
    use super::*;

    #[test]
    fn jobson_korkie_memmel_by_hand() {
        // Expected values from Python's statistics module and math.erf on the same numbers.
        let a = [0.01, 0.02, -0.01, 0.03, 0.005, -0.02, 0.015, 0.01];
        let b = [0.00, 0.01, 0.01, 0.02, -0.01, 0.00, 0.005, 0.012];
        let d = sharpe_difference(&a, &b).unwrap();
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs().max(1.0);
        assert!(close(d.sharpe_a, 0.467_707_173_346_742_7), "{d:?}");
        assert!(close(d.sharpe_b, 0.638_374_193_396_675_1), "{d:?}");
        assert!(close(d.correlation, 0.476_747_488_045_551_8), "{d:?}");
        assert!(close(d.z, -0.424_717_841_507_249_3), "{d:?}");
        assert!(close(d.p_value, 0.671_042_376_024_074_5), "{d:?}");
        // Swapping the series negates z and keeps p.
        let e = sharpe_difference(&b, &a).unwrap();
        assert!(close(e.z, -d.z) && close(e.p_value, d.p_value));
        let e = sharpe_difference(&a, &b[..4]).unwrap_err().to_string();

        assert!(e.contains("a Sharpe difference needs two return series over the same periods (at least 3), got 8 and 4"), "{e}");
    }
}

//! The deflated Sharpe ratio (DSR) of the best of N trials: Bailey and López de Prado, "The
//! Deflated Sharpe Ratio" (2014), eqs. (2)–(3).

use serde::Serialize;

use super::Trials;
use super::psr::{moments, norm_ppf, psr_of, sharpe};
use crate::StatsError;

/// Euler–Mascheroni's constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The expected maximum Sharpe ratio of `n` trials whose Sharpe ratios have variance `v`
/// under the null of no skill (eq. 2 of the 2014 paper): SR0.
pub fn expected_max_sharpe(n: usize, v: f64) -> f64 {
    let n = n as f64;
    v.sqrt()
        * ((1.0 - EULER_GAMMA) * norm_ppf(1.0 - 1.0 / n)
            + EULER_GAMMA * norm_ppf(1.0 - 1.0 / (n * std::f64::consts::E)))
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
/// [`StatsError::Insufficient`] for fewer than two trials or two returns.
pub fn deflated_sharpe_ratio(trials: &Trials<'_>) -> Result<Deflated, StatsError> {
    let n = trials.returns.len();
    let t = trials.returns.first().map_or(0, Vec::len);
    if n < 2 || t < 2 {
        return Err(StatsError::Insufficient(format!(
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
        .ok_or_else(|| StatsError::Insufficient("no trial has a finite Sharpe ratio".into()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_maximum_grows_with_the_trials() {
        // SR0 for N = 100 trials with unit variance: ≈ 2.5306 (Bailey & López de Prado 2014,
        // Fig. 1 reads ≈ 2.5).
        let sr0 = expected_max_sharpe(100, 1.0);
        assert!((sr0 - 2.5306).abs() < 1e-3, "{sr0}");
        assert!(expected_max_sharpe(1000, 1.0) > sr0);
    }
}

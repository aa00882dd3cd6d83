//! The probabilistic Sharpe ratio (PSR) and the minimum track record length (MinTRL) of
//! Bailey and López de Prado, "The Sharpe Ratio Efficient Frontier" (2012), eqs. (11)–(12)
//! and (14), with the moments they are built from.

use statrs::distribution::{ContinuousCDF, Normal};

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

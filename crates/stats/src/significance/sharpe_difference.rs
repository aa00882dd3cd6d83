//! The Jobson–Korkie test of a difference of two Sharpe ratios on paired returns, with
//! Memmel's (2003) correction.

use serde::{Deserialize, Serialize};

use crate::StatsError;
use crate::overfitting::{norm_cdf, sharpe};

/// The Jobson–Korkie test of a difference of two Sharpe ratios, with Memmel's (2003)
/// correction, on paired returns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

impl SharpeDifference {
    /// Whether the two Sharpe ratios differ at `level` (two-sided).
    pub fn significant(&self, level: f64) -> bool {
        self.p_value < level
    }

    /// Whether the first series' Sharpe ratio is significantly higher than the second's at
    /// `level`: a lead, not just a difference.
    pub fn significant_lead(&self, level: f64) -> bool {
        self.significant(level) && self.sharpe_a > self.sharpe_b
    }
}

/// Tests whether `a` and `b` (the same periods) have different Sharpe ratios:
/// θ = [2(1 − ρ) + ½(SR_a² + SR_b² − 2 SR_a SR_b ρ²)] / T (Memmel 2003, eq. 2, with the
/// sample moments), z = (SR_a − SR_b)/√θ, p = 2(1 − Φ(|z|)).
///
/// # Errors
/// [`StatsError::Input`] for series of different lengths or fewer than 3 periods.
pub fn sharpe_difference(a: &[f64], b: &[f64]) -> Result<SharpeDifference, StatsError> {
    if a.len() != b.len() || a.len() < 3 {
        return Err(StatsError::Input {
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
mod tests {
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

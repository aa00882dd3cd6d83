//! Whether one forecast's errors are smaller than another's: the Diebold–Mariano test on the
//! two series of forecast errors for the same targets, with Harvey, Leybourne & Newbold's (1997)
//! small-sample correction.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::StatsError;

/// The loss a forecast error is scored by.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Loss {
    /// e².
    Squared,
    /// |e|.
    Absolute,
}

/// The Diebold–Mariano test of two forecasts' errors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ForecastDifference {
    /// The loss compared.
    pub loss: Loss,
    /// Forecast horizon h (autocovariances of the loss differential up to lag h − 1 count).
    pub horizon: usize,
    /// Paired forecasts.
    pub periods: usize,
    /// Mean loss of the first forecast.
    pub mean_loss_a: f64,
    /// Of the second.
    pub mean_loss_b: f64,
    /// DM = d̄ / √(V̂(d̄)), d = L(e_a) − L(e_b): negative when the first is better.
    pub statistic: f64,
    /// DM × √((T + 1 − 2h + h(h − 1)/T) / T), Harvey, Leybourne & Newbold's correction.
    pub corrected: f64,
    /// Two-sided p-value of the corrected statistic under Student's t with T − 1 degrees of
    /// freedom.
    pub p_value: f64,
}

impl ForecastDifference {
    /// Whether the two forecasts' losses differ at `level` (two-sided).
    pub fn significant(&self, level: f64) -> bool {
        self.p_value < level
    }
}

/// Diebold & Mariano (1995): d_t = L(a_t) − L(b_t), γ_k = (1/T) Σ_{t>k} (d_t − d̄)(d_{t−k} − d̄),
/// V̂(d̄) = (γ_0 + 2 Σ_{k=1}^{h−1} γ_k) / T, DM = d̄ / √V̂; corrected as Harvey, Leybourne &
/// Newbold (1997, eq. 9), p from t(T − 1).
///
/// # Errors
/// [`StatsError::Input`] for series of different lengths, fewer than 3 forecasts, a horizon
/// of 0 or one not shorter than the series, or errors that are not finite.
pub fn diebold_mariano(
    a: &[f64],
    b: &[f64],
    horizon: usize,
    loss: Loss,
) -> Result<ForecastDifference, StatsError> {
    let bad = |reason: String| StatsError::Input {
        path: "forecast errors".into(),
        reason,
    };
    if a.len() != b.len() || a.len() < 3 {
        return Err(bad(format!(
            "the Diebold–Mariano test needs two error series for the same targets (at least 3), got {} and {}",
            a.len(),
            b.len()
        )));
    }
    if horizon == 0 || horizon >= a.len() {
        return Err(bad(format!(
            "the horizon must be between 1 and {}, got {horizon}",
            a.len() - 1
        )));
    }
    if let Some(i) = a.iter().chain(b).position(|x| !x.is_finite()) {
        return Err(bad(format!("error {} is not finite", i % a.len() + 1)));
    }
    let score = |e: f64| match loss {
        Loss::Squared => e * e,
        Loss::Absolute => e.abs(),
    };
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| score(*x) - score(*y))
        .collect();
    let t = d.len() as f64;
    let mean = d.iter().sum::<f64>() / t;
    let gamma = |k: usize| {
        (k..d.len())
            .map(|i| (d[i] - mean) * (d[i - k] - mean))
            .sum::<f64>()
            / t
    };
    let variance = (gamma(0) + 2.0 * (1..horizon).map(gamma).sum::<f64>()) / t;
    let statistic = mean / variance.sqrt();
    let h = horizon as f64;
    let corrected = statistic * ((t + 1.0 - 2.0 * h + h * (h - 1.0) / t) / t).sqrt();
    let p_value = match StudentsT::new(0.0, 1.0, t - 1.0) {
        Ok(dist) if corrected.is_finite() => 2.0 * (1.0 - dist.cdf(corrected.abs())),
        _ => f64::NAN,
    };
    let mean_of = |e: &[f64]| e.iter().map(|x| score(*x)).sum::<f64>() / t;
    Ok(ForecastDifference {
        loss,
        horizon,
        periods: d.len(),
        mean_loss_a: mean_of(a),
        mean_loss_b: mean_of(b),
        statistic,
        corrected,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_forecasts_do_not_differ_and_bad_input_is_named() {
        let a = [0.1, -0.2, 0.05, 0.3, -0.1];
        let d = diebold_mariano(&a, &[0.2, -0.1, 0.1, 0.2, -0.3], 1, Loss::Squared).unwrap();
        assert_eq!(d.periods, 5);
        assert!(d.p_value > 0.0 && d.p_value <= 1.0);
        // The same errors: no difference to test (0 / 0).
        assert!(
            diebold_mariano(&a, &a, 1, Loss::Absolute)
                .unwrap()
                .statistic
                .is_nan()
        );
        let e = diebold_mariano(&a, &a[..4], 1, Loss::Squared)
            .unwrap_err()
            .to_string();
        assert!(e.contains("same targets"), "{e}");
        let e = diebold_mariano(&a, &a, 5, Loss::Squared)
            .unwrap_err()
            .to_string();
        assert!(e.contains("horizon"), "{e}");
    }
}

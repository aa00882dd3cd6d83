//! Whether one model's forecasts beat another's: the Diebold–Mariano test on the two series of
//! forecast errors for the same targets, with Harvey, Leybourne & Newbold's (1997) small-sample
//! correction. (The test of two strategies' Sharpe ratios is
//! [`crate::overfitting::sharpe_difference`].)

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::BacktestError;

/// The loss a forecast error is scored by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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

/// Diebold & Mariano (1995): d_t = L(a_t) − L(b_t), γ_k = (1/T) Σ_{t>k} (d_t − d̄)(d_{t−k} − d̄),
/// V̂(d̄) = (γ_0 + 2 Σ_{k=1}^{h−1} γ_k) / T, DM = d̄ / √V̂; corrected as Harvey, Leybourne &
/// Newbold (1997, eq. 9), p from t(T − 1).
///
/// # Errors
/// [`BacktestError::Input`] for series of different lengths, fewer than 3 forecasts, a horizon
/// of 0 or one not shorter than the series, or errors that are not finite.
pub fn diebold_mariano(
    a: &[f64],
    b: &[f64],
    horizon: usize,
    loss: Loss,
) -> Result<ForecastDifference, BacktestError> {
    let bad = |reason: String| BacktestError::Input {
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

/// A model's test forecasts by day: (target, prediction).
pub type TestForecasts = std::collections::BTreeMap<String, (f64, f64)>;

/// The forecasts of a `test_predictions.csv` (`date,target,prediction`, as `qts train`
/// registers it); `Ok(None)` when a day repeats (several symbols pooled: no day-by-day
/// pairing).
///
/// # Errors
/// The 1-based line of a row that is not `date,target,prediction`.
pub fn parse_test_forecasts(text: &str) -> Result<Option<TestForecasts>, usize> {
    let mut out = TestForecasts::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let num = |k: usize| cells.get(k).and_then(|v| v.parse::<f64>().ok());
        let (Some(day), Some(t), Some(p)) = (cells.first(), num(1), num(2)) else {
            return Err(i + 1);
        };
        if out.insert((*day).to_string(), (t, p)).is_some() {
            return Ok(None);
        }
    }
    Ok(Some(out))
}

/// The Diebold–Mariano test of `b`'s squared errors against `a`'s on the days both forecast
/// the same target (negative: `b` is better); `None` with too few such days.
pub fn compare_forecasts(
    a: &TestForecasts,
    b: &TestForecasts,
    horizon: usize,
) -> Option<ForecastDifference> {
    let (eb, ea): (Vec<f64>, Vec<f64>) = b
        .iter()
        .filter_map(|(day, (tb, pb))| {
            let (ta, pa) = a.get(day)?;
            ((ta - tb).abs() <= 1e-6 * ta.abs().max(1e-12)).then_some((tb - pb, ta - pa))
        })
        .unzip();
    diebold_mariano(&eb, &ea, horizon, Loss::Squared).ok()
}

/// [`parse_test_forecasts`] of the text of the file at `path` (named in the error).
///
/// # Errors
/// [`BacktestError::Input`] naming the file and the line that is not `date,target,prediction`.
pub fn read_test_forecasts(path: &str, text: &str) -> Result<Option<TestForecasts>, BacktestError> {
    parse_test_forecasts(text).map_err(|line| BacktestError::Input {
        path: format!("{path}:{line}"),
        reason: "not date,target,prediction".into(),
    })
}

/// Each model's test against the first model's (`series[0]`), on the days both forecast the
/// same target, at `horizon`: `None` for the first, and where either has no forecasts by day
/// (imported, or several symbols pooled) or too few common days.
pub fn against_first(
    series: &[(String, Option<TestForecasts>)],
    horizon: usize,
) -> Vec<(String, Option<ForecastDifference>)> {
    let Some((first_name, first)) = series.first() else {
        return Vec::new();
    };
    let mut out = vec![(first_name.clone(), None)];
    for (name, f) in &series[1..] {
        let test = match (first, f) {
            (Some(a), Some(b)) => compare_forecasts(a, b, horizon),
            _ => None,
        };
        out.push((name.clone(), test));
    }
    out
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

    #[test]
    fn test_forecasts_pair_on_the_days_with_the_same_target() {
        let a = "date,target,prediction\nd1,0.1,0.0\nd2,-0.2,0.1\nd3,0.3,0.1\nd4,0.0,0.2\n";
        let b = "date,target,prediction\nd2,-0.2,-0.1\nd3,0.3,0.2\nd4,0.0,0.1\nd5,0.1,0.1\n";
        let (a, b) = (
            parse_test_forecasts(a).unwrap().unwrap(),
            parse_test_forecasts(b).unwrap().unwrap(),
        );
        // Days 2–4 in common: each error is the target minus the prediction.
        let d = compare_forecasts(&a, &b, 1).unwrap();
        let (eb, ea) = (
            [-0.2 - -0.1, 0.3 - 0.2, 0.0 - 0.1],
            [-0.2 - 0.1, 0.3 - 0.1, 0.0 - 0.2],
        );
        let want = diebold_mariano(&eb, &ea, 1, Loss::Squared).unwrap();
        assert_eq!(d, want);
        assert_eq!(
            parse_test_forecasts("date,target,prediction\nd1,x,0\n"),
            Err(2)
        );
        assert_eq!(parse_test_forecasts("h\nd1,1,0\nd1,1,0\n"), Ok(None));
    }
}

//! Two models' forecasts paired by day: the test forecasts a model registers
//! (`date,target,prediction`), and each model's Diebold–Mariano test against a first one on the
//! days both forecast the same target.

use std::collections::BTreeMap;

use super::{ForecastDifference, Loss, diebold_mariano};

/// A model's test forecasts by day: (target, prediction).
pub type TestForecasts = BTreeMap<String, (f64, f64)>;

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

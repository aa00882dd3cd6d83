//! Strategies side by side: their returns on the days all of them traded, the correlation of
//! those returns, and a Jobson–Korkie–Memmel test of each Sharpe ratio against the first's.
//! `qts compare` prints it and draws it .

use chrono::NaiveDate;
use serde::Serialize;

use crate::StatsError;
use crate::significance::{SharpeDifference, sharpe_difference};

/// One run's equity curve (a `qts backtest --out` folder's, a walk's stitched equity).
#[derive(Debug, Clone)]
pub struct RunSeries {
    /// What the run is called (its folder, or its strategy).
    pub name: String,
    /// Days of the equity curve.
    pub days: Vec<NaiveDate>,
    /// Equity at each close.
    pub equity: Vec<f64>,
}

/// The comparison, as `qts compare --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The runs, in the order given (the first is the reference).
    pub runs: Vec<String>,
    /// First and last day every run has.
    pub common: (String, String),
    /// Returns on those days.
    pub periods: usize,
    /// `correlation[i][j]`: of the runs' daily returns on the common days.
    pub correlation: Vec<Vec<f64>>,
    /// Each run's Sharpe ratio against the first's (`null` for the first itself).
    pub against_first: Vec<Option<SharpeDifference>>,
}

/// The returns of every run on the days all of them have.
///
/// # Errors
/// [`StatsError::Input`] for fewer than two runs, or fewer than 3 common returns.
pub fn compare(runs: &[RunSeries]) -> Result<Comparison, StatsError> {
    let bad = |reason: String| StatsError::Input {
        path: "compare".into(),
        reason,
    };
    if runs.len() < 2 {
        return Err(bad(format!("needs at least two runs, got {}", runs.len())));
    }
    // Daily returns keyed by the day they end on; a day counts when every run has it and the
    // day before it in its own curve.
    let returns: Vec<std::collections::BTreeMap<NaiveDate, f64>> = runs
        .iter()
        .map(|r| {
            r.days
                .iter()
                .skip(1)
                .copied()
                .zip(r.equity.windows(2).map(|w| w[1] / w[0] - 1.0))
                .collect()
        })
        .collect();
    let days: Vec<NaiveDate> = returns[0]
        .keys()
        .filter(|d| returns[1..].iter().all(|m| m.contains_key(d)))
        .copied()
        .collect();
    if days.len() < 3 {
        return Err(bad(format!(
            "the runs share {} daily returns; a comparison needs at least 3 (do their spans overlap?)",
            days.len()
        )));
    }
    let series: Vec<Vec<f64>> = returns
        .iter()
        .map(|m| days.iter().map(|d| m[d]).collect())
        .collect();
    let correlation = series
        .iter()
        .map(|a| {
            series
                .iter()
                .map(|b| qts_core::stats::correlation(a, b))
                .collect()
        })
        .collect();
    let against_first = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                None
            } else {
                sharpe_difference(s, &series[0]).ok()
            }
        })
        .collect();
    Ok(Comparison {
        runs: runs.iter().map(|r| r.name.clone()).collect(),
        common: (days[0].to_string(), days[days.len() - 1].to_string()),
        periods: days.len(),
        correlation,
        against_first,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, start: u32, equity: &[f64]) -> RunSeries {
        RunSeries {
            name: name.into(),
            days: (0..equity.len() as u32)
                .map(|i| NaiveDate::from_ymd_opt(2020, 1, start + i).unwrap())
                .collect(),
            equity: equity.to_vec(),
        }
    }

    #[test]
    fn returns_are_compared_on_the_days_every_run_has() {
        let a = run("a", 1, &[100.0, 101.0, 99.0, 102.0, 103.0, 101.0]);
        let b = run("b", 2, &[50.0, 51.0, 50.5, 52.0, 52.5]);
        let c = compare(&[a.clone(), b]).unwrap();
        // a's returns end on days 2..6, b's on 3..6: common 3..6.
        assert_eq!(c.common, ("2020-01-03".into(), "2020-01-06".into()));
        assert_eq!(c.periods, 4);
        assert!((c.correlation[0][0] - 1.0).abs() < 1e-12);
        assert!(c.against_first[0].is_none());
        let d = c.against_first[1].unwrap();
        let ra = [
            99.0 / 101.0 - 1.0,
            102.0 / 99.0 - 1.0,
            103.0 / 102.0 - 1.0,
            101.0 / 103.0 - 1.0,
        ];
        let rb = [
            51.0 / 50.0 - 1.0,
            50.5 / 51.0 - 1.0,
            52.0 / 50.5 - 1.0,
            52.5 / 52.0 - 1.0,
        ];
        assert_eq!(d, sharpe_difference(&rb, &ra).unwrap());
        let e = compare(&[a]).unwrap_err().to_string();
        assert!(e.contains("at least two runs"), "{e}");
    }
}

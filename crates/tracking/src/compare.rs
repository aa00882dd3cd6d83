//! Stored runs side by side (`qts experiments compare`) and the best run by a metric
//! (`qts experiments best`): the params that differ, every metric, and whether a lead is
//! significant — each later run's Sharpe ratio against the first's on the days both traded
//! (Jobson–Korkie–Memmel, from their `equity.csv`), and for training runs each model's test
//! forecasts against the first's (Diebold–Mariano, from `model/test_predictions.csv`).

use std::collections::HashMap;

use qts_stats::significance::forecasts::{compare_forecasts, parse_test_forecasts};
use qts_stats::significance::{ForecastDifference, SharpeDifference, sharpe_difference};
use serde::Serialize;

use crate::error::TrackingError;
use crate::store::StoredRun;

/// Runs side by side, as `qts experiments compare --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The run ids.
    pub runs: Vec<String>,
    /// Their names.
    pub names: Vec<String>,
    /// Params whose values differ, with each run's value.
    pub params: Vec<(String, Vec<Option<String>>)>,
    /// Every metric, with each run's value.
    pub metrics: Vec<(String, Vec<Option<f64>>)>,
    /// Each later run's Sharpe difference from the first.
    pub significance: Vec<Option<SharpeDifference>>,
    /// For training runs: each later model's Diebold–Mariano test against the first's, on the
    /// test forecasts both made of the same days (squared error, h = 1).
    pub forecast_significance: Vec<Option<ForecastDifference>>,
}

/// The best run by a metric, as `qts experiments best --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Best {
    /// The metric ranked by.
    pub metric: String,
    /// The best run's id.
    pub best: String,
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// The runner-up's id.
    pub runner_up: Option<String>,
    /// Its value.
    pub runner_up_value: Option<f64>,
    /// The best run's Sharpe ratio against the runner-up's, when both stored equity curves
    /// (`None` inside: no days in common).
    pub sharpe_difference: Option<Option<SharpeDifference>>,
}

/// A metric's last logged value (step 0 metrics have one).
pub fn last_metric(r: &StoredRun, key: &str) -> Option<f64> {
    r.run
        .metrics
        .iter()
        .rev()
        .find(|m| m.key == key)
        .map(|m| m.value)
}

/// A run's daily returns by day, from its stored `equity.csv`.
fn returns_of(r: &StoredRun) -> Result<Option<Vec<(chrono::NaiveDate, f64)>>, TrackingError> {
    let path = r.folder.join("artifacts/equity.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let series = qts_data::io::read_returns(&path).map_err(|e| TrackingError::Store {
        path: path.display().to_string(),
        reason: e.to_string(),
        source: None,
    })?;
    Ok(Some(
        series
            .time
            .iter()
            .map(|t| t.date())
            .zip(series.returns)
            .collect(),
    ))
}

/// The Jobson–Korkie–Memmel test of `a` against `b` on the days both have.
///
/// # Errors
/// [`TrackingError::Store`] for an equity file that cannot be read.
pub fn sharpe_test(
    a: &StoredRun,
    b: &StoredRun,
) -> Result<Option<SharpeDifference>, TrackingError> {
    let (Some(ra), Some(rb)) = (returns_of(a)?, returns_of(b)?) else {
        return Ok(None);
    };
    let by_day: HashMap<_, _> = rb.into_iter().collect();
    let (x, y): (Vec<f64>, Vec<f64>) = ra
        .iter()
        .filter_map(|(d, r)| by_day.get(d).map(|s| (*r, *s)))
        .unzip();
    Ok(sharpe_difference(&x, &y).ok())
}

/// Each later training run's Diebold–Mariano test against the first's, on the test
/// forecasts both stored (`model/test_predictions.csv`; h = 1).
fn forecast_test(a: &StoredRun, b: &StoredRun) -> Option<ForecastDifference> {
    let read = |r: &StoredRun| {
        let path = r.folder.join("artifacts/model/test_predictions.csv");
        parse_test_forecasts(&std::fs::read_to_string(path).ok()?)
            .ok()
            .flatten()
    };
    compare_forecasts(&read(a)?, &read(b)?, 1)
}

/// `runs` side by side (the first is the reference).
///
/// # Errors
/// [`TrackingError::Store`] for an equity file that cannot be read.
pub fn compare(runs: &[StoredRun]) -> Result<Comparison, TrackingError> {
    let mut param_keys: Vec<String> = runs
        .iter()
        .flat_map(|r| r.run.params.iter().map(|(k, _)| k.clone()))
        .collect();
    param_keys.sort();
    param_keys.dedup();
    let params = param_keys
        .into_iter()
        .filter_map(|k| {
            let values: Vec<Option<String>> = runs
                .iter()
                .map(|r| {
                    r.run
                        .params
                        .iter()
                        .find(|(p, _)| *p == k)
                        .map(|p| p.1.clone())
                })
                .collect();
            values
                .windows(2)
                .any(|w| w[0] != w[1])
                .then_some((k, values))
        })
        .collect();
    let mut metric_keys: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.run
                .metrics
                .iter()
                .filter(|m| m.step == 0)
                .map(|m| m.key.clone())
        })
        .collect();
    metric_keys.sort();
    metric_keys.dedup();
    let metrics = metric_keys
        .into_iter()
        .map(|k| {
            let v = runs.iter().map(|r| last_metric(r, &k)).collect();
            (k, v)
        })
        .collect();
    let rest = runs.get(1..).unwrap_or_default();
    let significance = rest
        .iter()
        .map(|r| sharpe_test(&runs[0], r))
        .collect::<Result<_, _>>()?;
    let forecast_significance = rest.iter().map(|r| forecast_test(&runs[0], r)).collect();
    Ok(Comparison {
        runs: runs.iter().map(|r| r.run_id.clone()).collect(),
        names: runs.iter().map(|r| r.run.name.clone()).collect(),
        params,
        metrics,
        significance,
        forecast_significance,
    })
}

/// The run of `all` with the highest last `metric`, and the runner-up with the test of the
/// lead.
///
/// # Errors
/// [`TrackingError::NoMetric`] when no run has the metric; [`TrackingError::Store`] for an
/// equity file that cannot be read.
pub fn best(all: &[StoredRun], metric: &str) -> Result<Best, TrackingError> {
    let mut ranked: Vec<(&StoredRun, f64)> = all
        .iter()
        .filter_map(|r| last_metric(r, metric).map(|v| (r, v)))
        .collect();
    if ranked.is_empty() {
        return Err(TrackingError::NoMetric(metric.to_string()));
    }
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let lead = match ranked.get(1) {
        Some((second, _)) => Some(sharpe_test(ranked[0].0, second)?),
        None => None,
    };
    Ok(Best {
        metric: metric.to_string(),
        best: ranked[0].0.run_id.clone(),
        name: ranked[0].0.run.name.clone(),
        value: ranked[0].1,
        runner_up: ranked.get(1).map(|r| r.0.run_id.clone()),
        runner_up_value: ranked.get(1).map(|r| r.1),
        sharpe_difference: lead,
    })
}

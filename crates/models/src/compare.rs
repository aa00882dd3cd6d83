//! Registered models side by side: each version's metrics (`qts models compare --json`), and
//! each model's Diebold–Mariano test against the first on the test days both forecast the same
//! target (squared error, at the first model's horizon).

use std::collections::BTreeMap;

use qts_stats::significance::ForecastDifference;
use qts_stats::significance::forecasts::{TestForecasts, against_first, parse_test_forecasts};
use serde::Serialize;

use crate::ModelError;
use crate::registry::{ModelCard, ModelRef, Registry, horizon};

/// Models compared, as `qts models compare` and `qts.compare_models` give them.
#[derive(Debug, Clone, Serialize)]
pub struct ModelComparison {
    /// The cards, in the order asked.
    #[serde(skip)]
    pub cards: Vec<ModelCard>,
    /// `NAME@VERSION` → metric → value (`None` where a model lacks the metric): the JSON of
    /// `qts models compare --json`.
    pub metrics: BTreeMap<String, BTreeMap<String, Option<f64>>>,
    /// Each model's test against the first (`None` for the first, and where there is nothing
    /// to pair).
    pub tests: Vec<(String, Option<ForecastDifference>)>,
}

/// Compares the registered `models` (`NAME`, `NAME@VERSION`, `NAME@ALIAS`).
///
/// # Errors
/// [`ModelError`] for a reference that is malformed or not registered, or a test-predictions
/// file that cannot be read.
pub fn compare_models(
    registry: &Registry,
    models: &[String],
) -> Result<ModelComparison, ModelError> {
    let cards = models
        .iter()
        .map(|m| ModelRef::parse(m).and_then(|r| registry.card(&r)))
        .collect::<Result<Vec<_>, _>>()?;
    let tests = forecast_tests(registry, &cards)?;
    Ok(ModelComparison {
        metrics: crate::registry::compare(&cards),
        cards,
        tests,
    })
}

/// Each model's Diebold–Mariano test against the first on the test days both forecast (the
/// same targets), squared error, at the first model's horizon.
///
/// # Errors
/// [`ModelError`] for a test-predictions file that cannot be read or parsed.
pub fn forecast_tests(
    registry: &Registry,
    cards: &[ModelCard],
) -> Result<Vec<(String, Option<ForecastDifference>)>, ModelError> {
    let series = cards
        .iter()
        .map(|c| {
            let tests = match registry.test_predictions(c)? {
                Some((path, text)) => read_test_forecasts(&path.display().to_string(), &text)?,
                None => None,
            };
            Ok((format!("{}@{}", c.name, c.version), tests))
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    Ok(against_first(&series, cards.first().map_or(1, horizon)))
}

/// [`parse_test_forecasts`] of the text of the file at `path` (named in the error).
///
/// # Errors
/// [`ModelError::Input`] naming the file and the line that is not `date,target,prediction`.
pub fn read_test_forecasts(path: &str, text: &str) -> Result<Option<TestForecasts>, ModelError> {
    parse_test_forecasts(text)
        .map_err(|line| ModelError::Input(format!("{path}:{line}: not date,target,prediction")))
}

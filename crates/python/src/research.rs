//! Decisions, the paper account, tracked runs and result folders from Python: each one call
//! into `qts-research`, `qts-tracking` or `qts-report`, the calls `qts decide`, `qts paper …`,
//! `qts experiments …`, `qts reproduce` and `qts compare` make.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use qts_research::paper::{OpenAsk, StepAsk};
use qts_research::session::{LiveAsk, LiveData, Session};
use qts_tracking::RunStore;

use crate::api::{Bars, Config, json_text, loaded, parse_day};
use crate::backtest::{given, tracker};
use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    m.add_function(wrap_pyfunction!(paper_open, m)?)?;
    m.add_function(wrap_pyfunction!(paper_step, m)?)?;
    m.add_function(wrap_pyfunction!(paper_status, m)?)?;
    m.add_function(wrap_pyfunction!(paper_history, m)?)?;
    m.add_function(wrap_pyfunction!(runs_list, m)?)?;
    m.add_function(wrap_pyfunction!(runs_show, m)?)?;
    m.add_function(wrap_pyfunction!(runs_compare, m)?)?;
    m.add_function(wrap_pyfunction!(runs_best, m)?)?;
    m.add_function(wrap_pyfunction!(reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(folder_page, m)?)?;
    Ok(())
}

fn day(text: Option<String>, what: &str) -> PyResult<Option<chrono::NaiveDate>> {
    text.map(|t| parse_day(&t, what)).transpose()
}

/// The bars of a decision: the ones handed over, else files or symbols.
fn live_data(
    bars: Vec<PyRef<'_, Bars>>,
    inputs: Vec<String>,
    offline: bool,
    history_from: Option<String>,
) -> PyResult<LiveData> {
    if !bars.is_empty() {
        return Ok(LiveData::Bars(given(&bars)?));
    }
    Ok(LiveData::Inputs {
        inputs,
        offline,
        history_from: day(history_from, "history_from")?,
    })
}

/// `qts decide --json`: the decision at the close of `as_of` (default today) with `strategy`
/// on `bars` (or `inputs`: files or symbols, refreshed unless `offline`).
#[pyfunction]
#[pyo3(signature = (
    bars, inputs, strategy, params, as_of=None, signals=None, overlays=false, offline=false,
    history_from=None, config=None, holdings=None
))]
#[allow(clippy::too_many_arguments)]
fn decide(
    py: Python<'_>,
    bars: Vec<PyRef<'_, Bars>>,
    inputs: Vec<String>,
    strategy: String,
    params: Vec<(String, String)>,
    as_of: Option<String>,
    signals: Option<PathBuf>,
    overlays: bool,
    offline: bool,
    history_from: Option<String>,
    config: Option<&Config>,
    holdings: Option<String>,
) -> PyResult<String> {
    let loaded = loaded(config)?;
    let ask = LiveAsk {
        data: live_data(bars, inputs, offline, history_from)?,
        as_of: day(as_of, "as_of")?.unwrap_or_else(|| chrono::Local::now().date_naive()),
        strategy,
        params,
        signals,
        overlays,
    };
    let decision = py.detach(move || {
        Session::live(loaded, ask)
            .and_then(|s| {
                let d = s.decide(None)?;
                s.with_holdings(d, holdings.as_deref().map(|t| ("holdings", t)))
            })
            .map_err(errors::research)
    })?;
    json_text(&decision)
}

/// `qts paper init --json`: opens the account of `paper.database` following `strategy` on
/// `inputs` (files or symbols).
#[pyfunction]
#[pyo3(signature = (
    cash, inputs, strategy, params, signals=None, overlays=false, offline=false,
    history_from=None, config=None, holdings=None
))]
#[allow(clippy::too_many_arguments)]
fn paper_open(
    py: Python<'_>,
    cash: f64,
    inputs: Vec<String>,
    strategy: String,
    params: Vec<(String, String)>,
    signals: Option<PathBuf>,
    overlays: bool,
    offline: bool,
    history_from: Option<String>,
    config: Option<&Config>,
    holdings: Option<String>,
) -> PyResult<String> {
    let loaded = loaded(config)?;
    let ask = OpenAsk {
        cash,
        holdings: holdings.map(|text| ("holdings".to_string(), text)),
        inputs,
        strategy,
        params,
        signals,
        overlays,
        offline,
        history_from: day(history_from, "history_from")?,
    };
    let (_, _, status) = py
        .detach(move || qts_research::paper::open(loaded, &ask))
        .map_err(errors::research)?;
    json_text(&status)
}

/// `qts paper step --json`: steps the account to the close of `as_of` (default today), the
/// step tracked as the command tracks it.
#[pyfunction]
#[pyo3(signature = (as_of=None, data=Vec::new(), offline=false, history_from=None, config=None))]
fn paper_step(
    py: Python<'_>,
    as_of: Option<String>,
    data: Vec<String>,
    offline: bool,
    history_from: Option<String>,
    config: Option<&Config>,
) -> PyResult<String> {
    let loaded = loaded(config)?;
    let ask = StepAsk {
        as_of: day(as_of, "as_of")?,
        data,
        offline,
        history_from: day(history_from, "history_from")?,
    };
    let stepped = py.detach(move || {
        let tracker = tracker(&loaded, "qts.paper_step(…)");
        qts_research::paper::step(Arc::clone(&loaded), &ask, &tracker).map_err(errors::research)
    })?;
    json_text(&stepped)
}

/// `qts paper status --json`.
#[pyfunction]
#[pyo3(signature = (config=None))]
fn paper_status(config: Option<&Config>) -> PyResult<String> {
    let loaded = loaded(config)?;
    json_text(&qts_research::paper::status(&loaded).map_err(errors::research)?)
}

/// `qts paper history --out -`: every step, as CSV text.
#[pyfunction]
#[pyo3(signature = (config=None))]
fn paper_history(config: Option<&Config>) -> PyResult<String> {
    let loaded = loaded(config)?;
    let rows = qts_research::paper::history(&loaded).map_err(errors::research)?;
    Ok(qts_paper::history_csv(&rows))
}

fn store(config: Option<&Config>) -> PyResult<(Arc<qts_config::Loaded>, RunStore)> {
    let loaded = loaded(config)?;
    let store = RunStore::new(&loaded.config.mlflow.local_store);
    Ok((loaded, store))
}

fn tracking(e: qts_tracking::TrackingError) -> PyErr {
    errors::research(e.into())
}

/// `qts experiments list --json`.
#[pyfunction]
#[pyo3(signature = (config=None))]
fn runs_list(config: Option<&Config>) -> PyResult<String> {
    let (_, store) = store(config)?;
    json_text(&store.list().map_err(tracking)?)
}

/// `qts experiments show RUN --json` (`latest`: the newest run).
#[pyfunction]
#[pyo3(signature = (run, config=None))]
fn runs_show(run: &str, config: Option<&Config>) -> PyResult<String> {
    let (loaded, store) = store(config)?;
    let r = if run == "latest" {
        store.list().map_err(tracking)?.pop().ok_or_else(|| {
            errors::QtsError::new_err(format!(
                "no run in {} to show",
                loaded.config.mlflow.local_store
            ))
        })?
    } else {
        store.load(run).map_err(tracking)?
    };
    json_text(&r)
}

/// `qts experiments compare RUN RUN… --json`.
#[pyfunction]
#[pyo3(signature = (runs, config=None))]
fn runs_compare(runs: Vec<String>, config: Option<&Config>) -> PyResult<String> {
    let (_, store) = store(config)?;
    let stored = runs
        .iter()
        .map(|r| store.load(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(tracking)?;
    json_text(&qts_tracking::compare::compare(&stored).map_err(tracking)?)
}

/// `qts experiments best --metric M --json`.
#[pyfunction]
#[pyo3(signature = (metric, config=None))]
fn runs_best(metric: &str, config: Option<&Config>) -> PyResult<String> {
    let (_, store) = store(config)?;
    let all = store.list().map_err(tracking)?;
    json_text(&qts_tracking::compare::best(&all, metric).map_err(tracking)?)
}

/// `qts reproduce RUN --json`, re-running with the `qts` executable `exe`.
#[pyfunction]
#[pyo3(signature = (run, exe, config=None))]
fn reproduce(
    py: Python<'_>,
    run: String,
    exe: PathBuf,
    config: Option<&Config>,
) -> PyResult<String> {
    let loaded = loaded(config)?;
    let env = qts_core::config::Environment::process();
    let report = py
        .detach(move || qts_research::reproduce::reproduce(&loaded, &env, &run, &exe))
        .map_err(errors::research)?;
    json_text(&report)
}

/// `qts compare DIR DIR… --json` and its page: result folders of `qts backtest --out`.
#[pyfunction]
fn compare(dirs: Vec<PathBuf>) -> PyResult<(String, String)> {
    let runs = qts_report::folder::compared_runs(&dirs).map_err(folder)?;
    let c =
        qts_stats::compare::compare(&qts_report::html::series_of(&runs)).map_err(errors::stats)?;
    Ok((
        json_text(&c)?,
        qts_report::html::compare_page(&runs, &c, None),
    ))
}

/// `qts report DIR`: the page of a result folder.
#[pyfunction]
fn folder_page(dir: PathBuf) -> PyResult<String> {
    qts_report::folder::page_of(&dir).map_err(folder)
}

fn folder(e: qts_report::folder::FolderError) -> PyErr {
    errors::folder(e)
}

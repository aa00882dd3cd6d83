//! `qts_torch._native`: training and prediction from Python, each one call into `qts-models`
//! (the calls `qts train` and `qts predict` make), in the process.
//!
//! A separate extension from `qts._qts` because it links libtorch: `import qts` stays light
//! and works without torch, as `qts` does beside `qts-torch`. Errors are raised as the
//! exception classes of `qts._qts`, so `except qts.DataError` catches them from either half.

use std::path::PathBuf;

use arrow_pyarrow::{PyArrowType, Table};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use qts_arrow::{Columns, TableError};
use qts_config::{ConfigLoader, ConfigRequest};
use qts_core::config::{Environment, Section};
use qts_data::locate::for_model;
use qts_data::validate::{Policy, require};
use qts_models::fit::{SymbolBars, TrainRequest, train_model};
use qts_models::forecast::{ForecastRequest, Inputs, forecast};
use qts_models::pipeline::Pipeline;
use qts_models::train::{EpochLog, Progress};
use qts_models::{ModelError, ModelRef, Registry};

/// The module `qts_torch._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// `qts._qts`'s exception `class` with `message`.
fn raise(class: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let found = py
            .import("qts._qts")
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match found {
            Ok(ty) => PyErr::from_type(ty, message),
            Err(e) => e,
        }
    })
}

fn model_error(e: ModelError) -> PyErr {
    match e {
        ModelError::Data(d) => raise("DataError", d.to_string()),
        other => raise("QtsError", other.to_string()),
    }
}

fn table_error(e: TableError) -> PyErr {
    raise("DataError", e.0)
}

/// `(dir, model, overrides, env_file)`, as `qts.Config.request()` gives it.
type Request = (
    Option<PathBuf>,
    Option<PathBuf>,
    Vec<String>,
    Option<PathBuf>,
);

fn load(request: Request) -> PyResult<qts_config::Loaded> {
    let (dir, model, overrides, env_file) = request;
    ConfigRequest {
        dir,
        model,
        overrides,
        env_file,
    }
    .load()
    .map_err(|e| raise("ConfigError", e.to_string()))
}

/// One symbol's bars as Python hands them over: the Arrow table, symbol, source, SHA-256.
type GivenBars = (PyArrowType<Table>, String, String, String);

fn bars(given: GivenBars) -> PyResult<(qts_data::BarSeries, String, String)> {
    let (table, symbol, source, hash) = given;
    let (batches, schema) = table.0.into_inner();
    let series = Columns::new(batches, schema, &source)
        .bars(&symbol)
        .map_err(table_error)?;
    Ok((series, source, hash))
}

/// Per-epoch reports to a Python callable, and Ctrl-C: the signal is checked after each
/// batch and stops the run.
struct PyProgress {
    callback: Option<Py<PyAny>>,
    interrupted: Option<PyErr>,
    failed: Option<PyErr>,
}

impl Progress for PyProgress {
    fn batch(&mut self, _epoch: usize, _done: usize, _total: usize) {
        if let Err(e) = Python::attach(|py| py.check_signals()) {
            self.interrupted = Some(e);
        }
    }

    fn epoch(&mut self, log: &EpochLog) {
        let Some(callback) = &self.callback else {
            return;
        };
        let called = Python::attach(|py| -> PyResult<()> {
            let d = PyDict::new(py);
            d.set_item("epoch", log.epoch + 1)?;
            d.set_item("lr", log.lr)?;
            d.set_item("loss", log.loss)?;
            d.set_item("val_loss", log.val_loss)?;
            d.set_item("val_mae", log.val_mae)?;
            d.set_item("val_directional_accuracy", log.val_directional_accuracy)?;
            d.set_item("val_ic", log.val_ic)?;
            d.set_item("seconds", log.seconds)?;
            callback.call1(py, (d,))?;
            Ok(())
        });
        if let Err(e) = called {
            self.failed = Some(e);
        }
    }

    fn cancelled(&mut self) -> bool {
        self.interrupted.is_some() || self.failed.is_some()
    }
}

/// Trains and registers a model as `qts train` does: each symbol's bars readied as a model
/// reads them (duplicates dropped, adjusted when asked) and validated under the
/// configuration's policy, the model section's network trained with its seeds, registered in
/// `registry.directory`. Returns the JSON of `qts train --json`.
#[pyfunction]
#[pyo3(signature = (bars, config, name=None, seeds=1, adjust=false, resume=false, progress=None))]
#[allow(clippy::too_many_arguments)]
fn train(
    py: Python<'_>,
    bars: Vec<GivenBars>,
    config: Request,
    name: Option<String>,
    seeds: usize,
    adjust: bool,
    resume: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    if seeds == 0 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "seeds must be at least 1",
        ));
    }
    if bars.is_empty() {
        return Err(raise("DataError", "train: no bars given".into()));
    }
    let loaded = load(config)?;
    let cfg = &loaded.config;
    let name = name.unwrap_or_else(|| cfg.model.name.clone());
    qts_models::registry::check_name(&name).map_err(model_error)?;
    let given = bars
        .into_iter()
        .map(self::bars)
        .collect::<PyResult<Vec<_>>>()?;
    let data_hash = qts_arrow::combined_hash(given.iter().map(|b| b.2.as_str()));
    let data_name = given
        .iter()
        .map(|b| b.1.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut data = Vec::with_capacity(given.len());
    for (series, source, _) in given {
        let symbol = series.symbol.clone();
        let series =
            for_model(series, &source, adjust).map_err(|e| raise("DataError", e.to_string()))?;
        // As `qts train`: data that fails validation does not train a model.
        let series = require(series, &source, Policy::of(cfg))
            .map_err(|e| raise("DataError", e.to_string()))?
            .into_inner();
        data.push(SymbolBars {
            symbol,
            source,
            bars: series,
        });
    }
    let request = TrainRequest {
        config: cfg,
        name,
        data,
        data_name,
        data_hash,
        adjust,
        seeds,
        resume,
        git_commit: qts_core::provenance::git_commit(),
        from: None,
    };
    let mut progress = PyProgress {
        callback: progress,
        interrupted: None,
        failed: None,
    };
    let outcome = py.detach(|| train_model(&request, &mut progress));
    if let Some(e) = progress.interrupted.take().or(progress.failed.take()) {
        return Err(e);
    }
    let report = outcome.map_err(model_error)?;
    serde_json::to_string(&report).map_err(|e| raise("QtsError", e.to_string()))
}

fn day(text: Option<String>, what: &str) -> PyResult<Option<chrono::NaiveDate>> {
    text.map(|t| {
        t.parse().map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "{what}: `{t}` is not a YYYY-MM-DD date"
            ))
        })
    })
    .transpose()
}

/// Predicts with a registered model (`NAME`, `NAME@VERSION`, `NAME@ALIAS` of the local
/// registry) over bars, through the feature pipeline saved with it, as `qts predict` does:
/// `time`, `prediction` [, `lower`, `upper`], `split`.
#[pyfunction]
#[pyo3(signature = (model, bars, config, start=None, end=None, mc_dropout=0, ensemble=false, level=0.9, adjust=false))]
#[allow(clippy::too_many_arguments)]
fn predict(
    py: Python<'_>,
    model: String,
    bars: GivenBars,
    config: Request,
    start: Option<String>,
    end: Option<String>,
    mc_dropout: usize,
    ensemble: bool,
    level: f64,
    adjust: bool,
) -> PyResult<PyArrowType<Table>> {
    let loaded = load(config)?;
    let cfg = &loaded.config;
    let (from, to) = (day(start, "start")?, day(end, "end")?);
    let registry = Registry::new(&cfg.registry.directory);
    let card = registry
        .card(&ModelRef::parse(&model).map_err(model_error)?)
        .map_err(model_error)?;
    let dir = registry.version_dir(&card.name, card.version);
    let saved = ConfigLoader::new()
        .file(Section::Model, dir.join("config.yaml"))
        .load(&Environment::process())
        .map_err(|e| raise("ConfigError", e.to_string()))?
        .config
        .model;
    let Some(pipeline) = Pipeline::read(&dir).map_err(model_error)? else {
        return Err(raise(
            "QtsError",
            format!(
                "{}@{} was imported without a feature pipeline: predict it with `qts predict --inputs-as-is`",
                card.name, card.version
            ),
        ));
    };
    let (series, source, _) = self::bars(bars)?;
    let series = for_model(series, &source, pipeline.adjust || adjust)
        .map_err(|e| raise("DataError", e.to_string()))?;
    let out = py
        .detach(|| {
            let (time, values) = pipeline.inputs(&series)?;
            forecast(
                &ForecastRequest {
                    registry: &registry,
                    card: &card,
                    model: &saved,
                    compute: &cfg.compute,
                    from,
                    to,
                    ensemble,
                    mc_samples: mc_dropout,
                    level,
                    seed: cfg.reproducibility.seed,
                    data_name: &source,
                },
                &Inputs { time, values },
            )
        })
        .map_err(model_error)?;
    let (batch, schema) = qts_arrow::table_batch(&out).finish().map_err(table_error)?;
    Table::try_new(vec![batch], schema)
        .map(PyArrowType)
        .map_err(|e| raise("QtsError", e.to_string()))
}

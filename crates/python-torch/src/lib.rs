//! `qts_torch._native`: the model side of qts from Python — training, prediction, a model
//! walked forward, a model search, a model's decision, the main job and the model registry —
//! each one call into `qts-research-torch` or `qts-models`, the calls `qts-torch` makes, in
//! the process.
//!
//! A separate extension from `qts._qts` because it links libtorch: `import qts` stays light
//! and works without torch, as `qts` does beside `qts-torch`. Errors are raised as the
//! exception classes of `qts._qts`, so `except qts.DataError` catches them from either half.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arrow_pyarrow::{PyArrowType, Table};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use qts_arrow::{Columns, TableError};
use qts_config::{ConfigRequest, Loaded};
use qts_core::chain::message;
use qts_core::config::Environment;
use qts_data::locate::for_model;
use qts_models::forecast::{ForecastRequest, Inputs, forecast};
use qts_models::pipeline::Pipeline;
use qts_models::train::{EpochLog, Progress};
use qts_research::session::{Ask, Data, GivenBars, LiveAsk, LiveData, Session};
use qts_research::track::{Invocation, Tracker};
use qts_research::walk_forward::Schedule;
use qts_research_torch::JobError;

/// The module `qts_torch._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(walk_forward, m)?)?;
    m.add_function(wrap_pyfunction!(search, m)?)?;
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    m.add_function(wrap_pyfunction!(models_list, m)?)?;
    m.add_function(wrap_pyfunction!(models_show, m)?)?;
    m.add_function(wrap_pyfunction!(models_promote, m)?)?;
    m.add_function(wrap_pyfunction!(models_import, m)?)?;
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

/// A job's error as the class `qts._qts` raises for it.
fn job_error(e: impl Into<JobError>) -> PyErr {
    use qts_research::ResearchError as R;
    let e = e.into();
    let class = match &e {
        JobError::Research(R::Data(_)) => "DataError",
        JobError::Model(qts_models::ModelError::Data(_)) => "DataError",
        JobError::Research(R::Config(_)) => "ConfigError",
        JobError::Research(R::Backtest(_) | R::Stats(_) | R::Parameter { .. } | R::Input(_)) => {
            "BacktestError"
        }
        _ => "QtsError",
    };
    raise(class, message(&e))
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

fn load(request: Request) -> PyResult<Loaded> {
    let (dir, model, overrides, env_file) = request;
    ConfigRequest {
        dir,
        model,
        overrides,
        env_file,
    }
    .load()
    .map_err(|e| raise("ConfigError", message(&e)))
}

/// One symbol's bars as Python hands them over: the Arrow table, symbol, source, SHA-256.
type Given = (PyArrowType<Table>, String, String, String);

fn bars(given: Given) -> PyResult<GivenBars> {
    let (table, symbol, source, hash) = given;
    let (batches, schema) = table.0.into_inner();
    let bars = Columns::new(batches, schema, &source)
        .bars(&symbol)
        .map_err(table_error)?;
    Ok(GivenBars { bars, source, hash })
}

/// The sources of several symbols' bars, as one text for messages and pages.
fn sources(given: &[GivenBars]) -> String {
    given
        .iter()
        .map(|g| g.source.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

fn all_bars(given: Vec<Given>) -> PyResult<Vec<GivenBars>> {
    given.into_iter().map(bars).collect()
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

/// A long job's progress to a Python callable `(done, total)` and its stages `(n, of,
/// what)`, and Ctrl-C: signals are checked whenever the job reports, and stop it.
struct Watch {
    callback: Option<Py<PyAny>>,
    stop: AtomicBool,
    error: std::sync::Mutex<Option<PyErr>>,
    shown: AtomicUsize,
}

impl Watch {
    fn new(callback: Option<Py<PyAny>>) -> Watch {
        Watch {
            callback,
            stop: AtomicBool::new(false),
            error: std::sync::Mutex::new(None),
            shown: AtomicUsize::new(usize::MAX),
        }
    }

    fn check(&self, call: impl FnOnce(Python<'_>, &Py<PyAny>) -> PyResult<()>) {
        let outcome = Python::attach(|py| {
            py.check_signals()?;
            match &self.callback {
                Some(cb) => call(py, cb),
                None => Ok(()),
            }
        });
        if let Err(e) = outcome {
            self.stop.store(true, Ordering::Relaxed);
            if let Ok(mut slot) = self.error.lock() {
                slot.get_or_insert(e);
            }
        }
    }

    /// The Ctrl-C or callback error that stopped the job, if one did.
    fn take(&self) -> Option<PyErr> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

impl qts_research::Progress for Watch {
    fn at(&self, done: usize, total: usize) {
        if self.shown.swap(done, Ordering::Relaxed) != done {
            self.check(|py, cb| cb.call1(py, (done, total)).map(|_| ()));
        }
    }

    fn stage(&self, n: usize, of: usize, what: &str) {
        self.check(|py, cb| {
            // A callable of two arguments hears the windows only.
            match cb.call1(py, (n, of, what)) {
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) => Ok(()),
                other => other.map(|_| ()),
            }
        });
    }

    fn cancelled(&self) -> bool {
        if !self.stop.load(Ordering::Relaxed) {
            self.check(|_, _| Ok(()));
        }
        self.stop.load(Ordering::Relaxed)
    }
}

/// Runs `job` with the GIL released, then raises what stopped it (Ctrl-C first).
fn watched<T: Send>(
    py: Python<'_>,
    watch: &Watch,
    job: impl FnOnce() -> Result<T, JobError> + Send,
) -> PyResult<T> {
    let outcome = py.detach(job);
    if let Some(e) = watch.take() {
        return Err(e);
    }
    outcome.map_err(job_error)
}

fn tracker<'a>(loaded: &'a Loaded, call: &str) -> Tracker<'a> {
    Tracker::start(loaded, Invocation::python(call))
}

/// Trains and registers a model as `qts train` does: each symbol's bars readied as a model
/// reads them (duplicates dropped, adjusted when asked) and validated under the
/// configuration's policy, the model section's network trained with its seeds, registered in
/// `registry.directory`; tracked when `track`. Returns the JSON of `qts train --json`.
#[pyfunction]
#[pyo3(signature = (bars, config, name=None, seeds=1, adjust=false, resume=false, progress=None, track=false))]
#[allow(clippy::too_many_arguments)]
fn train(
    py: Python<'_>,
    bars: Vec<Given>,
    config: Request,
    name: Option<String>,
    seeds: usize,
    adjust: bool,
    resume: bool,
    progress: Option<Py<PyAny>>,
    track: bool,
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
    let ask = qts_research_torch::train::TrainAsk {
        data: qts_research_torch::train::TrainData::Bars(all_bars(bars)?),
        name,
        seeds,
        adjust,
        resume,
    };
    let mut progress = PyProgress {
        callback: progress,
        interrupted: None,
        failed: None,
    };
    let tracker = tracker(&loaded, "qts.train(…)").only_if(track);
    let outcome =
        py.detach(|| qts_research_torch::train::train(&loaded, ask, &mut progress, &tracker));
    if let Some(e) = progress.interrupted.take().or(progress.failed.take()) {
        return Err(e);
    }
    let report = outcome.map_err(job_error)?;
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

/// Predicts with a registered model (`NAME`, `NAME@VERSION`, `NAME@ALIAS`; the local
/// registry, else MLflow's) over bars, through the feature pipeline saved with it, as
/// `qts predict` does: `time`, `prediction` [, `lower`, `upper`], `split`.
#[pyfunction]
#[pyo3(signature = (model, bars, config, start=None, end=None, mc_dropout=0, ensemble=false, level=0.9, adjust=false))]
#[allow(clippy::too_many_arguments)]
fn predict(
    py: Python<'_>,
    model: String,
    bars: Given,
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
    let (registry, card) = qts_research_torch::registry::find(cfg, &model).map_err(job_error)?;
    let dir = registry.version_dir(&card.name, card.version);
    let saved = qts_research_torch::registry::saved_config(&Environment::process(), &dir)
        .map_err(job_error)?;
    let Some(pipeline) = Pipeline::read(&dir).map_err(job_error)? else {
        return Err(raise(
            "QtsError",
            format!(
                "{}@{} was imported without a feature pipeline: predict it with `qts predict --inputs-as-is`",
                card.name, card.version
            ),
        ));
    };
    let given = self::bars(bars)?;
    // A frame's actions put the bars on the basis the model was trained on.
    let series = for_model(
        given.bars,
        &given.source,
        pipeline.adjust || adjust,
        pipeline.basis.unwrap_or_default(),
        None,
    )
    .map_err(|e| raise("DataError", message(&e)))?;
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
                    data_name: &given.source,
                },
                &Inputs { time, values },
            )
        })
        .map_err(job_error)?;
    let (batch, schema) = qts_arrow::table_batch(&out).finish().map_err(table_error)?;
    Table::try_new(vec![batch], schema)
        .map(PyArrowType)
        .map_err(|e| raise("QtsError", e.to_string()))
}

/// The main job (`qts run --json`) on one symbol's bars or a universe's (several symbols: one
/// model pooled per window, its forecasts ranked by `strategy` — `rank` unless `signal` —
/// with `params`, against the equal-weight universe): `summary.json`'s text; the pages in
/// `out`. The configuration is loaded with the settings `qts run` finishes in minutes with
/// (10 epochs, checkpoints under `out`), each yielding to the caller's overrides, so the
/// numbers are the CLI's. Tracked when `track` (as `qts run` is by default).
#[pyfunction]
#[pyo3(signature = (
    bars, config, out, train=None, test=None, paths=2000, progress=None, track=true,
    strategy=None, params=Vec::new(), benchmark=None
))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    bars: Vec<Given>,
    config: Request,
    out: PathBuf,
    train: Option<usize>,
    test: Option<usize>,
    paths: usize,
    progress: Option<Py<PyAny>>,
    track: bool,
    strategy: Option<String>,
    params: Vec<(String, String)>,
    benchmark: Option<PathBuf>,
) -> PyResult<String> {
    if bars.is_empty() {
        return Err(raise("DataError", "run: no bars given".into()));
    }
    let benchmark = match benchmark {
        Some(path) => Some((
            qts_data::io::read_returns(&path).map_err(|e| raise("DataError", e.to_string()))?,
            path.display().to_string(),
        )),
        None => None,
    };
    let (dir, model, overrides, env_file) = config;
    let overrides = qts_research_torch::run::quick_overrides(&out, &overrides);
    let loaded = load((dir, model, overrides, env_file))?;
    let given = all_bars(bars)?;
    let source = sources(&given);
    let watch = Watch::new(progress);
    let report = watched(py, &watch, || {
        let mut session = Session::open(
            Arc::new(loaded),
            Ask {
                params,
                ..Ask::strategy(strategy.as_deref().unwrap_or("signal"), Data::Bars(given))
            },
        )?;
        qts_research_torch::run::choose_strategy(&mut session, strategy.as_deref())?;
        let tracker = tracker(session.loaded(), "qts.run(…)").only_if(track);
        let outcome = qts_research_torch::run::run(
            &session,
            &source,
            &qts_research_torch::run::RunOptions {
                out,
                train,
                test,
                paths,
                benchmark,
            },
            &watch,
            &tracker,
        )?;
        Ok(qts_research_torch::run::summary_json(&outcome.report))
    })?;
    Ok(report)
}

/// `qts walk-forward --model-config --json`: the model of the configuration trained on each
/// window and its forecasts traded (one model pooled over a universe's symbols per window,
/// its forecasts ranked by `strategy` — `rank` unless `signal`); the report's JSON,
/// `windows.csv` and `oos_equity.csv`.
#[pyfunction]
#[pyo3(signature = (
    bars, config, params=Vec::new(), train=None, test=None, step=None, anchored=false,
    maximize=None, progress=None, track=false, strategy=None
))]
#[allow(clippy::too_many_arguments)]
fn walk_forward(
    py: Python<'_>,
    bars: Vec<Given>,
    config: Request,
    params: Vec<(String, String)>,
    train: Option<usize>,
    test: Option<usize>,
    step: Option<usize>,
    anchored: bool,
    maximize: Option<String>,
    progress: Option<Py<PyAny>>,
    track: bool,
    strategy: Option<String>,
) -> PyResult<(String, String, String)> {
    if bars.is_empty() {
        return Err(raise("DataError", "walk_forward: no bars given".into()));
    }
    let loaded = Arc::new(load(config)?);
    let given = all_bars(bars)?;
    let source = sources(&given);
    let watch = Watch::new(progress);
    watched(py, &watch, || {
        let mut session = Session::open(
            Arc::clone(&loaded),
            Ask {
                params,
                ..Ask::strategy(strategy.as_deref().unwrap_or("signal"), Data::Bars(given))
            },
        )?;
        qts_research_torch::run::choose_strategy(&mut session, strategy.as_deref())?;
        let cfg = session.config();
        let ask = qts_research_torch::folds::ModelWalk {
            schedule: Schedule::from_config(
                &cfg.backtest.walk_forward,
                train,
                test,
                step,
                anchored,
            ),
            maximize: match maximize.as_deref() {
                Some(name) => qts_research::optimize::check_metric(name)?,
                None => qts_stats::metrics::Metric::SharpeRatio,
            },
            name: format!("{}-wf", cfg.model.name),
            source: source.clone(),
        };
        let walked = qts_research_torch::folds::walk_model(&session, &ask, &watch)?;
        let what = format!("the model {} retrained on each window", cfg.model.name);
        if track {
            tracker(&loaded, "qts.walk_forward(…, model=…)").walk_forward(
                &walked.report,
                &ask.name,
                &session.stamp,
            )?;
        }
        let r = &walked.report;
        Ok((
            serde_json::to_string(&r.described(&what, &source))
                .map_err(|e| JobError::runtime(e.to_string()))?,
            r.windows_csv(),
            r.oos_equity_csv(),
        ))
    })
}

/// `qts optimize --model-config --json`: the model's hyper-parameter search (each trial
/// trained, registered, scored on its validation split); the report's JSON and `trials.csv`.
#[pyfunction]
#[pyo3(signature = (
    bars, config, maximize=None, minimize=None, space=Vec::new(), method=None, trials=None,
    seed=None, progress=None, track=false
))]
#[allow(clippy::too_many_arguments)]
fn search(
    py: Python<'_>,
    bars: Given,
    config: Request,
    maximize: Option<String>,
    minimize: Option<String>,
    space: Vec<String>,
    method: Option<String>,
    trials: Option<usize>,
    seed: Option<u64>,
    progress: Option<Py<PyAny>>,
    track: bool,
) -> PyResult<(String, String)> {
    let loaded = load(config)?;
    let method = method
        .map(|m| {
            m.parse::<qts_config::SearchMethod>().map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "method=`{m}`: expected grid or random"
                ))
            })
        })
        .transpose()?;
    let ask = qts_research_torch::search::SearchAsk {
        data: qts_research_torch::train::TrainData::Bars(vec![self::bars(bars)?]),
        maximize,
        minimize,
        space,
        method,
        trials,
        seed,
    };
    let watch = Watch::new(progress);
    watched(py, &watch, || {
        let tracker = tracker(&loaded, "qts.search(…)").only_if(track);
        let report = qts_research_torch::search::search_model(&loaded, ask, &watch, &tracker)?;
        Ok((
            serde_json::to_string(&report).map_err(|e| JobError::runtime(e.to_string()))?,
            report.trials_csv(),
        ))
    })
}

/// `qts decide --model --json`: a registered model's decision at the close of `as_of`
/// (default today) on one symbol's bars.
#[pyfunction]
#[pyo3(signature = (model, bars, config, as_of=None, params=Vec::new(), ensemble=false, mc_dropout=0, level=0.9, holdings=None))]
#[allow(clippy::too_many_arguments)]
fn decide(
    py: Python<'_>,
    model: String,
    bars: Given,
    config: Request,
    as_of: Option<String>,
    params: Vec<(String, String)>,
    ensemble: bool,
    mc_dropout: usize,
    level: f64,
    holdings: Option<String>,
) -> PyResult<String> {
    let loaded = Arc::new(load(config)?);
    let ask = LiveAsk {
        data: LiveData::Bars(vec![self::bars(bars)?]),
        as_of: day(as_of, "as_of")?.unwrap_or_else(|| chrono::Local::now().date_naive()),
        strategy: "signal".into(),
        params,
        signals: None,
        overlays: false,
    };
    let decision = py
        .detach(|| -> Result<_, JobError> {
            let session = Session::live(loaded, ask)?;
            let d = qts_research_torch::decide::decide_with_model(
                &session,
                &qts_research_torch::decide::ModelDecision {
                    model,
                    ensemble,
                    mc_dropout,
                    level,
                },
                &Environment::process(),
            )?;
            Ok(session.with_holdings(d, holdings.as_deref().map(|t| ("holdings", t)))?)
        })
        .map_err(job_error)?;
    serde_json::to_string(&decision).map_err(|e| raise("QtsError", e.to_string()))
}

fn registry(config: Request) -> PyResult<(Loaded, qts_models::Registry)> {
    let loaded = load(config)?;
    let registry = qts_models::Registry::new(&loaded.config.registry.directory);
    Ok((loaded, registry))
}

/// `qts models list --json`.
#[pyfunction]
fn models_list(config: Request) -> PyResult<String> {
    let (_, registry) = registry(config)?;
    let rows = registry.summaries().map_err(job_error)?;
    serde_json::to_string(&rows).map_err(|e| raise("QtsError", e.to_string()))
}

/// `qts models show MODEL --json`.
#[pyfunction]
fn models_show(model: &str, config: Request) -> PyResult<String> {
    let loaded = load(config)?;
    let (_, card) = qts_research_torch::registry::find(&loaded.config, model).map_err(job_error)?;
    serde_json::to_string(&card).map_err(|e| raise("QtsError", e.to_string()))
}

/// `qts models promote MODEL --alias ALIAS`: the version promoted, and MLflow's registration
/// when a server is configured.
#[pyfunction]
fn models_promote(model: &str, alias: &str, config: Request) -> PyResult<String> {
    let loaded = load(config)?;
    let (name, version, remote) =
        qts_research_torch::registry::promote_both(&loaded.config, model, alias)
            .map_err(job_error)?;
    serde_json::to_string(&serde_json::json!({
        "name": name,
        "alias": alias,
        "version": version,
        "mlflow": remote,
    }))
    .map_err(|e| raise("QtsError", e.to_string()))
}

/// `qts models import`: `weights` (`.safetensors`, or a `torch.save` archive when
/// `pytorch`) for the network of the model file `model_file`, registered as `name`; its card.
#[pyfunction]
#[pyo3(signature = (weights, model_file, name, config, pytorch=false))]
fn models_import(
    weights: PathBuf,
    model_file: PathBuf,
    name: &str,
    config: Request,
    pytorch: bool,
) -> PyResult<String> {
    let (_, registry) = registry(config)?;
    let weights = if pytorch {
        qts_research_torch::registry::Weights::Pytorch(weights)
    } else {
        qts_research_torch::registry::Weights::Safetensors(weights)
    };
    let (card, _) = qts_research_torch::registry::import(
        &registry,
        &Environment::process(),
        &weights,
        &model_file,
        name,
    )
    .map_err(job_error)?;
    serde_json::to_string(&card).map_err(|e| raise("QtsError", e.to_string()))
}

//! The functions and classes of `qts._qts`: configuration, bars, validation, features and
//! backtests, each a call into the library crates the CLI calls.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_pyarrow::{PyArrowType, Table};
use pyo3::prelude::*;
use qts_config::{ConfigLoader, ConfigRequest, Loaded};
use qts_core::config::Environment;
use qts_data::bars::BarSeries;
use qts_report::html::data_quality_page;

use crate::errors;
use crate::tables::{columns, refused, to_py};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Config>()?;
    m.add_class::<Bars>()?;
    m.add_function(wrap_pyfunction!(read_bars, m)?)?;
    m.add_function(wrap_pyfunction!(read_universe, m)?)?;
    m.add_function(wrap_pyfunction!(bars_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(quality_page, m)?)?;
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(strategies, m)?)?;
    m.add_function(wrap_pyfunction!(read_table, m)?)?;
    m.add_function(wrap_pyfunction!(fetch, m)?)?;
    m.add_function(wrap_pyfunction!(locate, m)?)?;
    Ok(())
}

pub(crate) fn json_text(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(errors::other)
}

/// A loaded configuration: the four YAML files of a directory, `--set`-style overrides and
/// `${VAR}` from the environment, checked as `qts` checks it.
#[pyclass(module = "qts._qts", frozen)]
pub(crate) struct Config {
    pub(crate) loaded: Loaded,
    request: ConfigRequest,
}

#[pymethods]
impl Config {
    /// Loads `dir` (the four files it holds; none: the built-in defaults), `model` in place of
    /// its model file, then `overrides` (`"key.path=value"`); `${VAR}` from the process
    /// environment and `env_file`.
    #[staticmethod]
    #[pyo3(signature = (dir=None, overrides=Vec::new(), env_file=None, model=None))]
    fn load(
        dir: Option<PathBuf>,
        overrides: Vec<String>,
        env_file: Option<PathBuf>,
        model: Option<PathBuf>,
    ) -> PyResult<Config> {
        let request = ConfigRequest {
            dir,
            model,
            overrides,
            env_file,
        };
        let loaded = request
            .load::<qts_config::QtsConfig>()
            .map_err(errors::config)?;
        Ok(Config { loaded, request })
    }

    /// What it was loaded from, `(dir, model, overrides, env_file)`, for the model extension
    /// to load the same.
    fn request(
        &self,
    ) -> (
        Option<PathBuf>,
        Option<PathBuf>,
        Vec<String>,
        Option<PathBuf>,
    ) {
        let r = &self.request;
        (
            r.dir.clone(),
            r.model.clone(),
            r.overrides.clone(),
            r.env_file.clone(),
        )
    }

    /// The effective configuration as JSON (secrets redacted), as `qts config show --json`.
    fn to_json(&self) -> PyResult<String> {
        json_text(&self.loaded.config)
    }

    /// The configuration's fingerprint (stamped on every result).
    #[getter]
    fn fingerprint(&self) -> String {
        self.loaded.config.fingerprint()
    }

    /// The files read, in order.
    #[getter]
    fn files(&self) -> Vec<String> {
        self.loaded
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    }
}

fn defaults() -> PyResult<Arc<Loaded>> {
    Ok(Arc::new(
        ConfigLoader::new()
            .load(&Environment::process())
            .map_err(errors::config)?,
    ))
}

pub(crate) fn loaded(config: Option<&Config>) -> PyResult<Arc<Loaded>> {
    match config {
        Some(c) => Ok(Arc::new(c.loaded.clone())),
        None => defaults(),
    }
}

/// One symbol's daily bars, as read (not yet validated), with where they came from and the
/// SHA-256 stamped on results made from them.
#[pyclass(module = "qts._qts", frozen)]
pub(crate) struct Bars {
    pub(crate) series: Arc<BarSeries>,
    pub(crate) source: String,
    pub(crate) hash: String,
}

#[pymethods]
impl Bars {
    /// The symbol.
    #[getter]
    fn symbol(&self) -> String {
        self.series.symbol.clone()
    }

    /// The file or frame the bars came from.
    #[getter]
    fn source(&self) -> String {
        self.source.clone()
    }

    /// SHA-256 of the file's bytes, or of the frame's values.
    #[getter]
    fn data_hash(&self) -> String {
        self.hash.clone()
    }

    fn __len__(&self) -> usize {
        self.series.len()
    }

    /// The bars as a pyarrow table: `time`, `open`, `high`, `low`, `close`, `volume`
    /// [, `adj_close`] [, `dividend`, `split` when the bars carry corporate actions: each on its
    /// ex-date's row, 0 where none].
    fn to_arrow(&self) -> PyResult<PyArrowType<Table>> {
        to_py(qts_arrow::bars_batch(&self.series))
    }
}

/// The file that holds `input`'s bars, as `--data FILE|SYMBOL` finds it: the file itself,
/// else `<SYMBOL>.csv|.parquet` in `data.providers.local.directory`, else the cache.
#[pyfunction]
#[pyo3(signature = (input, config=None))]
fn locate(input: &str, config: Option<&Config>) -> PyResult<String> {
    let loaded = loaded(config)?;
    qts_data::locate::resolve(input, &loaded.config)
        .map(|p| p.display().to_string())
        .map_err(errors::data)
}

/// `qts data fetch --json`: each symbol's daily bars from the provider (the configured
/// default when `None`) into the cache, with the configured rate limits and retries; a
/// symbol that fails is reported in its row.
#[pyfunction]
#[pyo3(signature = (symbols, start, end=None, provider=None, out=None, config=None))]
fn fetch(
    py: Python<'_>,
    symbols: Vec<String>,
    start: String,
    end: Option<String>,
    provider: Option<String>,
    out: Option<PathBuf>,
    config: Option<&Config>,
) -> PyResult<String> {
    use qts_config::ProviderName;
    let loaded = loaded(config)?;
    let cfg = &loaded.config;
    let name = match provider.as_deref() {
        None => cfg.data.default_provider,
        Some(p) => crate::errors::parse_name::<ProviderName>(p, "provider")?,
    };
    let today = chrono::Local::now().date_naive();
    let from = parse_day(&start, "start")?;
    let to = end
        .as_deref()
        .map(|d| parse_day(d, "end"))
        .transpose()?
        .unwrap_or(today);
    let request = qts_data::fetch::FetchRequest {
        provider: name,
        symbols: &symbols,
        from,
        to,
        today,
        out: out.as_deref(),
    };
    // The provider (its HTTP agent and rate limiter) lives on this thread only.
    let report = py.detach(|| -> PyResult<_> {
        let provider = qts_data::provider::from_config(name, &cfg.data).map_err(|e| match e {
            qts_data::provider::FetchError::MissingKey { .. } => {
                errors::ConfigError::new_err(e.to_string())
            }
            other => errors::DataError::new_err(other.to_string()),
        })?;
        qts_data::fetch::fetch_symbols(&request, provider.as_ref(), &cfg.data, &mut |_| {})
            .map_err(errors::data)
    })?;
    json_text(&report)
}

/// Reads a bar file (CSV or Parquet) as `qts` reads `--data`: under the configuration's
/// `data.limits` and CSV layout (`data.providers.local.columns`, `date_format`), the defaults
/// without one.
#[pyfunction]
#[pyo3(signature = (path, config=None))]
fn read_bars(py: Python<'_>, path: PathBuf, config: Option<&Config>) -> PyResult<Bars> {
    let source = path.display().to_string();
    let loaded = loaded(config)?;
    let limits = &loaded.config.data.limits;
    let layout = loaded.config.data.providers.local.layout();
    let (series, hash) = py
        .detach(|| qts_data::io::read_one_hashed(&path, limits, &layout))
        .map_err(errors::data)?;
    Ok(Bars {
        series: Arc::new(series),
        source,
        hash,
    })
}

/// Every series of a bar file as `qts backtest --data` reads it: one, or one per symbol
/// column of a wide CSV file of closes; each stamped with the file's SHA-256.
#[pyfunction]
#[pyo3(signature = (path, config=None))]
fn read_universe(py: Python<'_>, path: PathBuf, config: Option<&Config>) -> PyResult<Vec<Bars>> {
    let source = path.display().to_string();
    let loaded = loaded(config)?;
    let limits = &loaded.config.data.limits;
    let layout = loaded.config.data.providers.local.layout();
    let (series, hash) = py
        .detach(|| qts_data::io::read_all_hashed_as(std::slice::from_ref(&path), limits, &layout))
        .map_err(errors::data)?;
    Ok(series
        .into_iter()
        .map(|s| Bars {
            series: Arc::new(s),
            source: source.clone(),
            hash: hash.clone(),
        })
        .collect())
}

/// Bars from a normalised Arrow table (see `qts._frames`): rows are numbered from 0 in
/// messages, as `DataFrame.iloc` counts them.
#[pyfunction]
fn bars_from_arrow(table: PyArrowType<Table>, symbol: String, source: String) -> PyResult<Bars> {
    let series = columns(table, &source).bars(&symbol).map_err(refused)?;
    Ok(Bars {
        hash: qts_arrow::values_hash(&series),
        series: Arc::new(series),
        source,
    })
}

/// A `YYYY-MM-DD` argument.
pub(crate) fn parse_day(text: &str, what: &str) -> PyResult<chrono::NaiveDate> {
    text.parse().map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "{what}: `{text}` is not a YYYY-MM-DD date"
        ))
    })
}

/// The validation report of `bars` under `config` as of `as_of` (default today), and
/// whether a backtest would refuse them.
fn quality(
    bars: &Bars,
    config: Option<&Config>,
    as_of: Option<String>,
) -> PyResult<(qts_data::validate::Report, bool)> {
    let loaded = loaded(config)?;
    let cfg = &loaded.config;
    let today = match as_of {
        Some(d) => parse_day(&d, "as_of")?,
        None => chrono::Local::now().date_naive(),
    };
    let report =
        qts_data::validate::validate(&bars.series, &cfg.validation, &cfg.data.quality, today);
    let fails = report
        .worst()
        .is_some_and(|w| w >= cfg.data.quality.fail_on);
    Ok((report, fails))
}

/// Validates bars as `qts data validate --json` does (as of `as_of`, default today); the JSON
/// holds `file`, `report` and `summary`, and `fails`.
#[pyfunction]
#[pyo3(signature = (bars, config=None, as_of=None))]
fn validate(bars: &Bars, config: Option<&Config>, as_of: Option<String>) -> PyResult<String> {
    let (report, fails) = quality(bars, config, as_of)?;
    json_text(&serde_json::json!({
        "file": bars.source,
        "report": report,
        "summary": report.summary(),
        "fails": fails,
    }))
}

/// The data-quality page (`qts data validate --report`) as HTML.
#[pyfunction]
#[pyo3(signature = (bars, config=None, as_of=None))]
fn quality_page(bars: &Bars, config: Option<&Config>, as_of: Option<String>) -> PyResult<String> {
    let (report, _) = quality(bars, config, as_of)?;
    Ok(data_quality_page(&bars.source, &bars.series, &report))
}

/// The configured features (`qts features`), duplicates dropped (the last bar of a time
/// kept), on adjusted prices when `adjust`.
#[pyfunction]
#[pyo3(signature = (bars, config=None, adjust=false))]
fn features(
    py: Python<'_>,
    bars: &Bars,
    config: Option<&Config>,
    adjust: bool,
) -> PyResult<PyArrowType<Table>> {
    let loaded = loaded(config)?;
    let (series, _) = qts_data::validate::drop_duplicates(&bars.series);
    let series = if adjust {
        if series.adj_close.is_none() {
            return Err(errors::DataError::new_err(format!(
                "{}: adjust=True needs an adj_close column",
                bars.source
            )));
        }
        series.adjusted()
    } else {
        series
    };
    let table = py
        .detach(|| qts_data::features::compute(&series, &loaded.config.data.features))
        .map_err(errors::data)?;
    to_py(qts_arrow::table_batch(&table))
}

/// A CSV table (predictions) as `qts backtest --signals` reads it, under the configuration's
/// `data.limits`.
#[pyfunction]
#[pyo3(signature = (path, config=None))]
fn read_table(
    py: Python<'_>,
    path: PathBuf,
    config: Option<&Config>,
) -> PyResult<PyArrowType<Table>> {
    let loaded = loaded(config)?;
    let limits = &loaded.config.data.limits;
    let table = py
        .detach(|| qts_data::io::read_csv_table_with(&path, limits))
        .map_err(errors::data)?;
    to_py(qts_arrow::table_batch(&table))
}

/// The registered strategies with their parameters and defaults, as JSON.
#[pyfunction]
fn strategies() -> PyResult<String> {
    let registry = qts_backtest::strategy::Registry::builtin();
    let mut all = serde_json::Map::new();
    for name in registry.names() {
        let entry = registry.entry(name).map_err(errors::backtest)?;
        let params: serde_json::Map<String, serde_json::Value> = entry
            .params
            .iter()
            .map(|p| (p.name.to_string(), serde_json::json!(p.default)))
            .collect();
        all.insert(
            name.to_string(),
            serde_json::json!({"params": params, "overlays": entry.overlays}),
        );
    }
    json_text(&all)
}

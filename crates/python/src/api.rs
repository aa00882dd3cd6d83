//! The functions and classes of `qts._qts`: configuration, bars, validation, features and
//! backtests, each a call into the library crates the CLI calls.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_pyarrow::{PyArrowType, Table};
use pyo3::prelude::*;
use qts_backtest::engine::Execution;
use qts_backtest::html::{RunData, backtest_page, data_quality_page};
use qts_backtest::report::{ConfigFile, Settings, Stamp, Window};
use qts_backtest::request::{Request, plan_signals};
use qts_backtest::strategy::SignalSeries;
use qts_backtest::{BacktestReport, Market};
use qts_core::config::{ConfigLoader, Environment, Loaded};
use qts_data::bars::BarSeries;
use qts_data::validate::{Policy, require};

use crate::convert::{self, Batch, Columns, TIME};
use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Config>()?;
    m.add_class::<Bars>()?;
    m.add_class::<BacktestRun>()?;
    m.add_function(wrap_pyfunction!(read_bars, m)?)?;
    m.add_function(wrap_pyfunction!(bars_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(quality_page, m)?)?;
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    m.add_function(wrap_pyfunction!(strategies, m)?)?;
    m.add_function(wrap_pyfunction!(read_table, m)?)?;
    Ok(())
}

fn json_text(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(errors::other)
}

/// A loaded configuration: the four YAML files of a directory, `--set`-style overrides and
/// `${VAR}` from the environment, checked as `qts` checks it.
#[pyclass(module = "qts._qts", frozen)]
pub(crate) struct Config {
    loaded: Loaded,
}

#[pymethods]
impl Config {
    /// Loads `dir` (the four files it holds), then `overrides` (`"key.path=value"`); `${VAR}`
    /// from the process environment and `env_file`. No `dir`: the built-in defaults.
    #[staticmethod]
    #[pyo3(signature = (dir=None, overrides=Vec::new(), env_file=None))]
    fn load(
        dir: Option<PathBuf>,
        overrides: Vec<String>,
        env_file: Option<PathBuf>,
    ) -> PyResult<Config> {
        let mut loader = match &dir {
            Some(dir) if !dir.is_dir() => {
                return Err(errors::ConfigError::new_err(format!(
                    "configuration directory {}: no such directory",
                    dir.display()
                )));
            }
            Some(dir) => ConfigLoader::from_dir(dir),
            None => ConfigLoader::new(),
        };
        for o in overrides {
            loader = loader.override_value(o);
        }
        let mut env = Environment::process();
        if let Some(file) = &env_file {
            env = env
                .with_dotenv(file)
                .map_err(|e| errors::ConfigError::new_err(e.to_string()))?;
        }
        let loaded = loader.load(&env).map_err(errors::config)?;
        Ok(Config { loaded })
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

fn loaded(config: Option<&Config>) -> PyResult<Arc<Loaded>> {
    match config {
        Some(c) => Ok(Arc::new(c.loaded.clone())),
        None => defaults(),
    }
}

/// One symbol's daily bars, as read (not yet validated), with where they came from and the
/// SHA-256 stamped on results made from them.
#[pyclass(module = "qts._qts", frozen)]
pub(crate) struct Bars {
    series: Arc<BarSeries>,
    source: String,
    hash: String,
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
    /// [, `adj_close`].
    fn to_arrow(&self) -> PyResult<PyArrowType<Table>> {
        let s = &self.series;
        let mut b = Batch::default()
            .time(TIME, &s.time)
            .float("open", s.open.iter().copied())
            .float("high", s.high.iter().copied())
            .float("low", s.low.iter().copied())
            .float("close", s.close.iter().copied())
            .float("volume", s.volume.iter().copied());
        if let Some(adj) = &s.adj_close {
            b = b.float("adj_close", adj.iter().copied());
        }
        Ok(PyArrowType(b.finish()?))
    }
}

/// Reads a bar file (CSV or Parquet) as `qts` reads `--data`.
#[pyfunction]
fn read_bars(py: Python<'_>, path: PathBuf) -> PyResult<Bars> {
    let source = path.display().to_string();
    let (series, hash) = py
        .detach(|| qts_data::io::read_bars_hashed(&path))
        .map_err(errors::data)?;
    Ok(Bars {
        series: Arc::new(series),
        source,
        hash,
    })
}

/// Bars from a normalised Arrow table (see `qts._frames`): rows are numbered from 0 in
/// messages, as `DataFrame.iloc` counts them.
#[pyfunction]
fn bars_from_arrow(table: PyArrowType<Table>, symbol: String, source: String) -> PyResult<Bars> {
    let columns = Columns::new(table.0, &source);
    let time = columns.time()?;
    let rows = time.len();
    let adj_close = if columns.has("adj_close") {
        Some(columns.float("adj_close")?)
    } else {
        None
    };
    let series = BarSeries {
        symbol,
        open: columns.float("open")?,
        high: columns.float("high")?,
        low: columns.float("low")?,
        close: columns.float("close")?,
        volume: columns.float("volume")?,
        adj_close,
        source_rows: (0..rows).collect(),
        time,
    };
    series.check_lengths().map_err(errors::data)?;
    // The frame's values, each to the bit, in a fixed order: the same frame gives the same
    // stamp.
    let mut bytes = Vec::with_capacity(rows * 56);
    for i in 0..rows {
        bytes.extend(series.time[i].and_utc().timestamp_micros().to_le_bytes());
        for column in [
            &series.open,
            &series.high,
            &series.low,
            &series.close,
            &series.volume,
        ] {
            bytes.extend(column[i].to_bits().to_le_bytes());
        }
        if let Some(adj) = &series.adj_close {
            bytes.extend(adj[i].to_bits().to_le_bytes());
        }
    }
    Ok(Bars {
        hash: qts_core::hex::sha256(&bytes),
        series: Arc::new(series),
        source,
    })
}

fn parse_day(text: &str, what: &str) -> PyResult<chrono::NaiveDate> {
    text.parse().map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "{what}: `{text}` is not a YYYY-MM-DD date"
        ))
    })
}

/// Validates bars as `qts data validate --json` does (as of `as_of`, default today); the JSON
/// holds `file`, `report` and `summary`.
#[pyfunction]
#[pyo3(signature = (bars, config=None, as_of=None))]
fn validate(bars: &Bars, config: Option<&Config>, as_of: Option<String>) -> PyResult<String> {
    let loaded = loaded(config)?;
    let cfg = &loaded.config;
    let today = match as_of {
        Some(d) => parse_day(&d, "as_of")?,
        None => chrono::Local::now().date_naive(),
    };
    let report =
        qts_data::validate::validate(&bars.series, &cfg.validation, &cfg.data.quality, today);
    json_text(&serde_json::json!({
        "file": bars.source,
        "report": report,
        "summary": report.summary(),
        "fails": report.worst().is_some_and(|w| w >= cfg.data.quality.fail_on),
    }))
}

/// The data-quality page (`qts data validate --report`) as HTML.
#[pyfunction]
#[pyo3(signature = (bars, config=None, as_of=None))]
fn quality_page(bars: &Bars, config: Option<&Config>, as_of: Option<String>) -> PyResult<String> {
    let loaded = loaded(config)?;
    let cfg = &loaded.config;
    let today = match as_of {
        Some(d) => parse_day(&d, "as_of")?,
        None => chrono::Local::now().date_naive(),
    };
    let report =
        qts_data::validate::validate(&bars.series, &cfg.validation, &cfg.data.quality, today);
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
    Ok(PyArrowType(convert::table(&table)?))
}

/// A CSV table (predictions) as `qts backtest --signals` reads it.
#[pyfunction]
fn read_table(py: Python<'_>, path: PathBuf) -> PyResult<PyArrowType<Table>> {
    let table = py
        .detach(|| qts_data::io::read_csv_table(&path))
        .map_err(errors::data)?;
    Ok(PyArrowType(convert::table(&table)?))
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

/// A finished backtest: the report (its JSON is `qts backtest --json`) and the rows behind it.
#[pyclass(module = "qts._qts", frozen)]
pub(crate) struct BacktestRun {
    report: BacktestReport,
    stats: serde_json::Value,
}

#[pymethods]
impl BacktestRun {
    /// The JSON of `qts backtest --json` (and `stats.json`).
    fn stats_json(&self) -> PyResult<String> {
        json_text(&self.stats)
    }

    /// `trades.csv`'s columns, with the symbol and the exit reason.
    fn trades(&self) -> PyResult<PyArrowType<Table>> {
        let t = &self.report.result.trades;
        let b = Batch::default()
            .time(
                "entry_time",
                &t.iter().map(|t| t.entry_time).collect::<Vec<_>>(),
            )
            .time(
                "exit_time",
                &t.iter().map(|t| t.exit_time).collect::<Vec<_>>(),
            )
            .text("symbol", t.iter().map(|t| t.symbol.as_str()))
            .text("side", t.iter().map(|t| t.side.to_string()))
            .float("size", t.iter().map(|t| t.size))
            .float("entry_price", t.iter().map(|t| t.entry_price))
            .float("exit_price", t.iter().map(|t| t.exit_price))
            .float("pnl", t.iter().map(|t| t.pnl))
            .float("return", t.iter().map(|t| t.ret))
            .float("commission", t.iter().map(|t| t.commission))
            .float("duration_days", t.iter().map(|t| t.duration_days))
            .text("exit_reason", t.iter().map(|t| t.exit_reason));
        Ok(PyArrowType(b.finish()?))
    }

    /// `equity.csv`'s columns: equity, cash and drawdown at each close, buy-and-hold's equity
    /// from the same start, the first symbol's close.
    fn equity(&self) -> PyResult<PyArrowType<Table>> {
        let r = &self.report;
        let n = r.result.time.len();
        let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        let b = Batch::default()
            .time("date", &r.result.time)
            .float("equity", r.result.equity.iter().copied())
            .float("cash", r.result.cash.iter().copied())
            .float("drawdown", r.result.drawdown.iter().copied())
            .float(
                "buy_and_hold",
                (0..n).map(|i| at(&r.buy_and_hold_equity, i)),
            )
            .float("price", (0..n).map(|i| at(&r.first_close, i)));
        Ok(PyArrowType(b.finish()?))
    }

    /// Every order with its outcome.
    fn orders(&self) -> PyResult<PyArrowType<Table>> {
        let r = &self.report.result;
        let o = &r.orders;
        let symbols = &r.symbols;
        let submitted = |bar: usize| r.time.get(bar.saturating_sub(r.first_bar)).copied();
        let times: Vec<_> = o
            .iter()
            .map(|o| submitted(o.order.submitted_bar).unwrap_or_default())
            .collect();
        let b = Batch::default()
            .float("id", o.iter().map(|o| o.order.id as f64))
            .time("submitted", &times)
            .text(
                "symbol",
                o.iter()
                    .map(|o| symbols.get(o.order.symbol).map_or("", String::as_str)),
            )
            .float("size", o.iter().map(|o| o.order.size))
            .text("kind", o.iter().map(|o| format!("{:?}", o.order.kind)))
            .text("reason", o.iter().map(|o| o.order.reason.to_string()))
            .text("status", o.iter().map(|o| o.status.to_string()))
            .float("filled", o.iter().map(|o| o.filled));
        Ok(PyArrowType(b.finish()?))
    }

    /// Every fill: price with slippage, commission, slippage cost.
    fn fills(&self) -> PyResult<PyArrowType<Table>> {
        let f = &self.report.result.fills;
        let b = Batch::default()
            .float("order_id", f.iter().map(|f| f.order_id as f64))
            .time("time", &f.iter().map(|f| f.time).collect::<Vec<_>>())
            .text("symbol", f.iter().map(|f| f.symbol.as_str()))
            .float("size", f.iter().map(|f| f.size))
            .float("price", f.iter().map(|f| f.price))
            .float("commission", f.iter().map(|f| f.commission))
            .float("slippage", f.iter().map(|f| f.slippage))
            .text("reason", f.iter().map(|f| f.reason.to_string()));
        Ok(PyArrowType(b.finish()?))
    }

    /// The backtest page (`qts backtest --report`) as HTML.
    fn page(&self) -> String {
        backtest_page(&RunData::of_report(&self.report, &self.stats))
    }
}

/// Runs a backtest as `qts backtest` does: the bars validated under the configuration's
/// policy, the strategy built by name, predictions planned (out of sample unless
/// `allow_in_sample`, their span traded), overlays as the strategy declares.
#[pyfunction]
#[pyo3(signature = (
    bars, strategy, params, config=None, signals=None, execution="default",
    start=None, end=None, close_at_end=false, overlays=false, allow_in_sample=false
))]
#[allow(clippy::too_many_arguments)]
fn backtest(
    py: Python<'_>,
    bars: Vec<PyRef<'_, Bars>>,
    strategy: String,
    params: Vec<(String, String)>,
    config: Option<&Config>,
    signals: Option<(PyArrowType<Table>, String)>,
    execution: &str,
    start: Option<String>,
    end: Option<String>,
    close_at_end: bool,
    overlays: bool,
    allow_in_sample: bool,
) -> PyResult<BacktestRun> {
    if bars.is_empty() {
        return Err(errors::DataError::new_err("backtest: no bars given"));
    }
    let loaded = loaded(config)?;
    let execution = match execution {
        "default" => Execution::Default,
        "backtesting-py" => Execution::BacktestingPy,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "execution=`{other}`: expected `default` or `backtesting-py`"
            )));
        }
    };
    let mut window = Window {
        from: start
            .as_deref()
            .map(|d| parse_day(d, "start"))
            .transpose()?,
        to: end.as_deref().map(|d| parse_day(d, "end")).transpose()?,
    };
    let sources: Vec<String> = bars.iter().map(|b| b.source.clone()).collect();
    let data_hash = match bars.as_slice() {
        [one] => one.hash.clone(),
        many => qts_core::hex::sha256(
            many.iter()
                .map(|b| b.hash.as_str())
                .collect::<String>()
                .as_bytes(),
        ),
    };
    let series: Vec<(BarSeries, String)> = bars
        .iter()
        .map(|b| ((*b.series).clone(), b.source.clone()))
        .collect();
    let signals_table = signals
        .map(|(table, source)| {
            let columns = Columns::new(table.0, &source);
            convert::from_table(&columns).map(|t| (t, source))
        })
        .transpose()?;
    let strategy_name = strategy;
    py.detach(move || -> PyResult<BacktestRun> {
        let cfg = &loaded.config;
        let checked = series
            .into_iter()
            .map(|(b, source)| require(b, &source, Policy::of(cfg)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(errors::data)?;
        let market = Market::new(checked).map_err(errors::backtest)?;
        let mut notes = Vec::new();
        let mut in_sample = false;
        let signals = match (&signals_table, strategy_name.as_str()) {
            (Some((table, source)), "signal") => {
                let time = &market.bars()[0].time;
                let all =
                    SignalSeries::from_table(table, time, source).map_err(errors::backtest)?;
                let plan = plan_signals(all, allow_in_sample, source, time, window)
                    .map_err(errors::backtest)?;
                in_sample = plan.in_sample;
                notes.extend(plan.notes);
                window = plan.window;
                Some(plan.signals)
            }
            _ => None,
        };
        let mut settings = Settings {
            window,
            ..Settings::from_config(cfg, execution)
        };
        if let Some(note) = settings
            .overlays_for(&strategy_name, overlays)
            .map_err(errors::backtest)?
        {
            notes.push(note);
        }
        settings.engine.close_at_end = close_at_end;
        let stamp = Stamp::new(data_hash, cfg.fingerprint(), sources)
            .with_config_files(ConfigFile::of_files(&loaded.files));
        let report = qts_backtest::request::run(Request {
            market: &market,
            strategy: &strategy_name,
            params: &params,
            signals,
            regime: &cfg.backtest.regime_filter,
            settings: &settings,
            benchmark: None,
            stamp,
            in_sample,
            notes,
        })
        .map_err(errors::backtest)?;
        let stats = serde_json::to_value(&report).map_err(errors::other)?;
        Ok(BacktestRun { report, stats })
    })
}

//! Backtests and the research tools (parameter search, walk-forward, Monte Carlo) from
//! Python: a [`qts_research::Session`] opened on the bars handed over, as `qts backtest` opens
//! one on its files, then one call into the same library; `track=True` records the call in
//! the run store (and MLflow) as the command would.

use std::sync::Arc;

use arrow_pyarrow::{PyArrowType, Table};
use pyo3::prelude::*;
use qts_backtest::BacktestReport;
use qts_backtest::report::Window;
use qts_config::{Loaded, ResampleMethod, SearchMethod};
use qts_report::html::{RunData, backtest_page};
use qts_research::optimize::{Axis, Method, check_metric};
use qts_research::session::{Ask, BacktestOptions, Data, GivenBars, SearchSpec, Session, Signals};
use qts_research::track::{Invocation, Tracker};
use qts_research::walk_forward::Schedule;

use crate::api::{Bars, Config, json_text, loaded, parse_day};
use qts_arrow::Batch;

use crate::errors::{self, parse_name};
use crate::interrupt::interruptible;
use crate::tables::{columns, refused, to_py};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BacktestRun>()?;
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    m.add_function(wrap_pyfunction!(optimize, m)?)?;
    m.add_function(wrap_pyfunction!(walk_forward, m)?)?;
    m.add_function(wrap_pyfunction!(monte_carlo, m)?)?;
    m.add_function(wrap_pyfunction!(compare_models, m)?)?;
    m.add_function(wrap_pyfunction!(diebold_mariano, m)?)?;
    Ok(())
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
            .float("dividends", t.iter().map(|t| t.dividends))
            .float("split", t.iter().map(|t| t.split))
            .text("exit_reason", t.iter().map(|t| t.exit_reason));
        to_py(b)
    }

    /// `equity.csv`'s columns: equity, cash and drawdown at each close, buy-and-hold's equity
    /// from the same start, the first symbol's close, the dividends received.
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
            .float("price", (0..n).map(|i| at(&r.first_close, i)))
            .float("dividends", (0..n).map(|i| at(&r.result.dividends, i)));
        to_py(b)
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
        to_py(b)
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
        to_py(b)
    }

    /// The backtest page (`qts backtest --report`) as HTML.
    fn page(&self) -> String {
        backtest_page(&RunData::of_report(&self.report))
    }
}

/// The bars handed over, as the session takes them.
pub(crate) fn given(bars: &[PyRef<'_, Bars>]) -> PyResult<Vec<GivenBars>> {
    if bars.is_empty() {
        return Err(errors::DataError::new_err("no bars given"));
    }
    Ok(bars
        .iter()
        .map(|b| GivenBars {
            bars: (*b.series).clone(),
            source: b.source.clone(),
            hash: b.hash.clone(),
        })
        .collect())
}

/// What every backtesting call asks for, as Python hands it over.
#[allow(clippy::too_many_arguments)]
fn ask(
    bars: Vec<PyRef<'_, Bars>>,
    strategy: String,
    params: Vec<(String, String)>,
    signals: Option<(PyArrowType<Table>, String)>,
    execution: &str,
    start: Option<String>,
    end: Option<String>,
    overlays: bool,
    allow_in_sample: bool,
) -> PyResult<Ask> {
    let data = Data::Bars(given(&bars)?);
    let window = Window {
        from: start
            .as_deref()
            .map(|d| parse_day(d, "start"))
            .transpose()?,
        to: end.as_deref().map(|d| parse_day(d, "end")).transpose()?,
    };
    let signals = signals
        .map(|(table, source)| {
            columns(table, &source)
                .table()
                .map(|table| Signals::Table { table, source })
                .map_err(refused)
        })
        .transpose()?;
    Ok(Ask {
        data,
        strategy,
        params,
        signals,
        execution: parse_name(execution, "execution")?,
        window,
        overlays,
        allow_in_sample,
    })
}

/// The session of `ask` under `loaded`.
fn open(loaded: Arc<Loaded>, ask: Ask) -> PyResult<Session> {
    Session::open(loaded, ask).map_err(errors::research)
}

/// A tracker of the Python call `call` when `track`, so the call lands in the run store the
/// CLI uses (and its MLflow server).
pub(crate) fn tracker<'a>(loaded: &'a Loaded, call: &str) -> Tracker<'a> {
    Tracker::start(loaded, Invocation::python(call))
}

/// Runs a backtest as `qts backtest` does; `track` records it as that command would.
#[pyfunction]
#[pyo3(signature = (
    bars, strategy, params, config=None, signals=None, execution="default",
    start=None, end=None, close_at_end=false, overlays=false, allow_in_sample=false, track=false
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
    track: bool,
) -> PyResult<BacktestRun> {
    let ask = ask(
        bars,
        strategy,
        params,
        signals,
        execution,
        start,
        end,
        overlays,
        allow_in_sample,
    )?;
    let loaded = loaded(config)?;
    py.detach(move || -> PyResult<BacktestRun> {
        let session = open(Arc::clone(&loaded), ask)?;
        let report = session
            .backtest(&BacktestOptions {
                close_at_end,
                benchmark: None,
            })
            .map_err(errors::research)?;
        let stats = serde_json::to_value(&report).map_err(errors::other)?;
        if track {
            let call = format!("qts.backtest(…, {:?})", report.strategy);
            tracker(&loaded, &call)
                .backtest(
                    &report,
                    &|| qts_report::folder::backtest_files(&report, &stats),
                    None,
                )
                .map_err(errors::research)?;
        }
        Ok(BacktestRun { report, stats })
    })
}

fn search_method(
    method: &str,
    trials: Option<usize>,
    seed: Option<u64>,
    cfg: &Loaded,
) -> PyResult<Method> {
    Ok(match parse_name::<SearchMethod>(method, "method")? {
        SearchMethod::Grid => Method::Grid,
        SearchMethod::Random => Method::random(trials, seed, cfg.config.reproducibility.seed),
    })
}

fn axes(grid: &[String]) -> PyResult<Vec<Axis>> {
    grid.iter()
        .map(|g| Axis::parse(g).map_err(errors::research))
        .collect()
}

/// `qts optimize`: the JSON of `--json` and `trials.csv` as text.
#[pyfunction]
#[pyo3(signature = (
    bars, strategy, grid, maximize, fixed, config=None, signals=None, execution="default",
    start=None, end=None, method="grid", trials=None, seed=None, pbo_splits=16, progress=None,
    track=false
))]
#[allow(clippy::too_many_arguments)]
fn optimize(
    py: Python<'_>,
    bars: Vec<PyRef<'_, Bars>>,
    strategy: String,
    grid: Vec<String>,
    maximize: String,
    fixed: Vec<(String, String)>,
    config: Option<&Config>,
    signals: Option<(PyArrowType<Table>, String)>,
    execution: &str,
    start: Option<String>,
    end: Option<String>,
    method: &str,
    trials: Option<usize>,
    seed: Option<u64>,
    pbo_splits: usize,
    progress: Option<Bound<'_, PyAny>>,
    track: bool,
) -> PyResult<(String, String)> {
    let ask = ask(
        bars, strategy, fixed, signals, execution, start, end, false, false,
    )?;
    let loaded = loaded(config)?;
    let spec = SearchSpec {
        axes: axes(&grid)?,
        maximize: check_metric(&maximize).map_err(errors::research)?,
        method: search_method(method, trials, seed, &loaded)?,
        pbo_splits,
    };
    let points = spec.method.points(&spec.axes);
    interruptible(py, progress.as_ref(), points, move |watch| {
        let session = open(Arc::clone(&loaded), ask)?;
        let report = session.search(&spec, watch).map_err(errors::research)?;
        if track {
            let call = format!("qts.optimize(…, {:?})", session.strategy);
            tracker(&loaded, &call)
                .optimize(&report, &session.strategy, &grid, &session.stamp)
                .map_err(errors::research)?;
        }
        Ok((json_text(&report)?, report.trials_csv()))
    })
}

/// `qts walk-forward`: the report's JSON, `windows.csv` and `oos_equity.csv` as text.
#[pyfunction]
#[pyo3(signature = (
    bars, strategy, grid, maximize, fixed, train=None, test=None, step=None, anchored=false,
    config=None, signals=None, execution="default", progress=None, track=false
))]
#[allow(clippy::too_many_arguments)]
fn walk_forward(
    py: Python<'_>,
    bars: Vec<PyRef<'_, Bars>>,
    strategy: String,
    grid: Vec<String>,
    maximize: String,
    fixed: Vec<(String, String)>,
    train: Option<usize>,
    test: Option<usize>,
    step: Option<usize>,
    anchored: bool,
    config: Option<&Config>,
    signals: Option<(PyArrowType<Table>, String)>,
    execution: &str,
    progress: Option<Bound<'_, PyAny>>,
    track: bool,
) -> PyResult<(String, String, String)> {
    let ask = ask(
        bars, strategy, fixed, signals, execution, None, None, false, false,
    )?;
    let loaded = loaded(config)?;
    let spec = SearchSpec {
        axes: axes(&grid)?,
        ..SearchSpec::grid(
            Vec::new(),
            check_metric(&maximize).map_err(errors::research)?,
        )
    };
    let schedule = Schedule::from_config(
        &loaded.config.backtest.walk_forward,
        train,
        test,
        step,
        anchored,
    );
    interruptible(py, progress.as_ref(), 0, move |watch| {
        let session = open(Arc::clone(&loaded), ask)?;
        let report = session
            .walk(&spec, &schedule, watch)
            .map_err(errors::research)?;
        if track {
            let call = format!("qts.walk_forward(…, {:?})", session.strategy);
            tracker(&loaded, &call)
                .walk_forward(&report, &session.strategy, &session.stamp)
                .map_err(errors::research)?;
        }
        Ok((
            json_text(&report)?,
            report.windows_csv(),
            report.oos_equity_csv(),
        ))
    })
}

/// `qts monte-carlo --run DIR`: paths drawn from a backtest's daily returns (or, for
/// `trades`, its trades' P&L over the equity at entry); the JSON of `--json`.
#[pyfunction]
#[pyo3(signature = (
    run, method=None, paths=None, seed=None, block_size=None, horizon=None, level=None,
    drawdown=0.2, config=None, track=false
))]
#[allow(clippy::too_many_arguments)]
fn monte_carlo(
    py: Python<'_>,
    run: &BacktestRun,
    method: Option<&str>,
    paths: Option<usize>,
    seed: Option<u64>,
    block_size: Option<usize>,
    horizon: Option<usize>,
    level: Option<f64>,
    drawdown: f64,
    config: Option<&Config>,
    track: bool,
) -> PyResult<String> {
    use qts_stats::monte_carlo::{Method as Draw, Request as Simulation, simulate};
    let loaded = loaded(config)?;
    let cfg = &loaded.config;
    let periods = f64::from(cfg.backtest.metrics.periods_per_year);
    let mc = &cfg.backtest.monte_carlo;
    let (paths, level) = (
        paths.unwrap_or(mc.simulations),
        level.unwrap_or(mc.confidence),
    );
    let method = match method {
        None => mc.method,
        Some(name) => parse_name::<ResampleMethod>(name, "method")?,
    };
    let draw = method.with_block_size(block_size.unwrap_or(mc.block_size));
    let result = &run.report.result;
    let returns = qts_data::io::simple_returns(&result.equity);
    let (sample, periods_per_year) = if draw == Draw::Trades {
        let entries: Vec<_> = result
            .trades
            .iter()
            .map(|t| (Some(t.entry_time.date()), Some(t.pnl)))
            .collect();
        let equity: Vec<_> = result
            .time
            .iter()
            .zip(&result.equity)
            .map(|(t, e)| (t.date(), *e))
            .collect();
        qts_stats::monte_carlo::trade_sample(&entries, &equity, returns.len(), periods).map_err(
            |k| {
                errors::BacktestError::new_err(format!(
                    "trade {}: its P&L is not a number, or its entry day has no equity",
                    k + 1
                ))
            },
        )?
    } else {
        (returns, periods)
    };
    let seed = seed.unwrap_or(cfg.reproducibility.seed);
    let initial = cfg.backtest.initial_capital;
    let report = py
        .detach(|| {
            simulate(&Simulation {
                sample: &sample,
                periods_per_year,
                method: draw,
                paths,
                seed,
                horizon,
                level,
                drawdown,
                initial,
                budget: cfg.budget,
            })
        })
        .map_err(errors::stats)?;
    if track {
        let data =
            qts_research::track::data_tags(&run.report.stamp.data_hash, &run.report.stamp.files);
        tracker(&loaded, "qts.monte_carlo(…)")
            .monte_carlo(&report, data)
            .map_err(errors::research)?;
    }
    json_text(&report)
}

/// `qts models compare --json` (each model's metrics) and each model's Diebold–Mariano test
/// against the first on their common test forecasts: two JSON texts.
#[pyfunction]
#[pyo3(signature = (models, config=None))]
fn compare_models(models: Vec<String>, config: Option<&Config>) -> PyResult<(String, String)> {
    if models.len() < 2 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "compare_models: give at least two models",
        ));
    }
    let loaded = loaded(config)?;
    let registry = qts_models::Registry::new(&loaded.config.registry.directory);
    let c = qts_models::compare::compare_models(&registry, &models)
        .map_err(|e| errors::QtsError::new_err(e.to_string()))?;
    Ok((json_text(&c.metrics)?, json_text(&c.tests)?))
}

/// The Diebold–Mariano test of two forecasts' errors on the same targets (Harvey, Leybourne &
/// Newbold's correction), `loss` `squared` or `absolute`; JSON.
#[pyfunction]
#[pyo3(signature = (errors_a, errors_b, horizon=1, loss="squared"))]
fn diebold_mariano(
    errors_a: Vec<f64>,
    errors_b: Vec<f64>,
    horizon: usize,
    loss: &str,
) -> PyResult<String> {
    let loss = parse_name::<qts_stats::significance::Loss>(loss, "loss")?;
    let d = qts_stats::significance::diebold_mariano(&errors_a, &errors_b, horizon, loss)
        .map_err(errors::stats)?;
    json_text(&d)
}

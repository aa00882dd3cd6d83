//! Backtests and the research tools (parameter search, walk-forward, Monte Carlo) from
//! Python: the data and the request prepared as `qts backtest` prepares them, then one call
//! into `qts-backtest`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow_pyarrow::{PyArrowType, Table};
use pyo3::prelude::*;
use qts_backtest::engine::Execution;
use qts_backtest::optimize::{Axis, Method, OptimizeRequest};
use qts_backtest::report::{ConfigFile, Settings, Stamp, Window};
use qts_backtest::request::Request;
use qts_backtest::strategy::{Registry, SignalSeries};
use qts_backtest::walk_forward::Schedule;
use qts_backtest::{BacktestReport, Market};
use qts_config::Loaded;
use qts_data::bars::BarSeries;
use qts_data::validate::{Policy, require};
use qts_report::html::{RunData, backtest_page};

use crate::api::{Bars, Config, json_text, loaded, parse_day};
use qts_arrow::Batch;

use crate::errors;
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
            .text("exit_reason", t.iter().map(|t| t.exit_reason));
        to_py(b)
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
        backtest_page(&RunData::of_report(&self.report, &self.stats))
    }
}

/// What every backtesting call asks for, as Python hands it over.
pub(crate) struct Ask {
    bars: Vec<(BarSeries, String, String)>,
    strategy: String,
    config: Arc<Loaded>,
    signals: Option<(qts_data::io::Table, String)>,
    execution: Execution,
    window: Window,
    overlays: bool,
    allow_in_sample: bool,
}

/// The request made ready: checked market, planned signals, settings, stamp, notes.
pub(crate) struct Prepared {
    config: Arc<Loaded>,
    market: Market,
    signals: Option<SignalSeries>,
    settings: Settings,
    stamp: Stamp,
    in_sample: bool,
    notes: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
fn ask(
    bars: Vec<PyRef<'_, Bars>>,
    strategy: String,
    config: Option<&Config>,
    signals: Option<(PyArrowType<Table>, String)>,
    execution: &str,
    start: Option<String>,
    end: Option<String>,
    overlays: bool,
    allow_in_sample: bool,
) -> PyResult<Ask> {
    if bars.is_empty() {
        return Err(errors::DataError::new_err("no bars given"));
    }
    let execution = match execution {
        "default" => Execution::Default,
        "backtesting-py" => Execution::BacktestingPy,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "execution=`{other}`: expected `default` or `backtesting-py`"
            )));
        }
    };
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
                .map(|t| (t, source))
                .map_err(refused)
        })
        .transpose()?;
    Ok(Ask {
        bars: bars
            .iter()
            .map(|b| ((*b.series).clone(), b.source.clone(), b.hash.clone()))
            .collect(),
        strategy,
        config: loaded(config)?,
        signals,
        execution,
        window,
        overlays,
        allow_in_sample,
    })
}

impl Ask {
    /// As the CLI's `prepare`: the bars validated under the configuration's policy, aligned,
    /// predictions planned, overlays as the strategy declares.
    fn prepare(self) -> PyResult<Prepared> {
        let cfg = &self.config.config;
        let sources: Vec<String> = self.bars.iter().map(|b| b.1.clone()).collect();
        let data_hash = qts_arrow::combined_hash(self.bars.iter().map(|b| b.2.as_str()));
        let checked = self
            .bars
            .into_iter()
            .map(|(b, source, _)| require(b, &source, Policy::of(cfg)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(errors::data)?;
        let market = Market::new(checked).map_err(errors::backtest)?;
        let ready = qts_backtest::request::ready(
            &market,
            cfg,
            qts_backtest::request::Ask {
                strategy: &self.strategy,
                signals: self
                    .signals
                    .as_ref()
                    .map(|(t, source)| (t, source.as_str())),
                execution: self.execution,
                window: self.window,
                overlays: self.overlays,
                allow_in_sample: self.allow_in_sample,
            },
        )
        .map_err(errors::backtest)?;
        let stamp = Stamp::new(data_hash, cfg.fingerprint(), sources)
            .with_config_files(ConfigFile::of_files(&self.config.files));
        Ok(Prepared {
            config: self.config,
            market,
            signals: ready.signals,
            settings: ready.settings,
            stamp,
            in_sample: ready.in_sample,
            notes: ready.notes,
        })
    }
}

impl Prepared {
    /// A grid search of `strategy` over `axes` on the prepared data (the overfitting
    /// statistics on, 16 CSCV blocks), stopped by `cancel`.
    fn search<'a>(
        &'a self,
        registry: &'a Registry,
        strategy: &'a str,
        axes: &'a [Axis],
        fixed: &'a [(String, String)],
        maximize: &'a str,
        cancel: &'a std::sync::atomic::AtomicBool,
    ) -> OptimizeRequest<'a> {
        OptimizeRequest {
            market: &self.market,
            registry,
            strategy,
            axes,
            fixed,
            signals: self.signals.as_ref(),
            regime: &self.config.config.backtest.regime_filter,
            settings: &self.settings,
            maximize,
            method: Method::Grid,
            pbo_splits: 16,
            overfitting: true,
            stamp: self.stamp.clone(),
            cancel: Some(cancel),
        }
    }
}

/// Runs a backtest as `qts backtest` does.
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
    let ask = ask(
        bars,
        strategy,
        config,
        signals,
        execution,
        start,
        end,
        overlays,
        allow_in_sample,
    )?;
    let strategy = ask.strategy.clone();
    py.detach(move || -> PyResult<BacktestRun> {
        let mut p = ask.prepare()?;
        p.settings.engine.close_at_end = close_at_end;
        let report = qts_backtest::request::run(Request {
            market: &p.market,
            strategy: &strategy,
            params: &params,
            signals: p.signals,
            regime: &p.config.config.backtest.regime_filter,
            settings: &p.settings,
            benchmark: None,
            stamp: p.stamp,
            in_sample: p.in_sample,
            notes: p.notes,
        })
        .map_err(errors::backtest)?;
        let stats = serde_json::to_value(&report).map_err(errors::other)?;
        Ok(BacktestRun { report, stats })
    })
}

fn search_method(
    method: &str,
    trials: Option<usize>,
    seed: Option<u64>,
    cfg: &Loaded,
) -> PyResult<Method> {
    match method {
        "grid" => Ok(Method::Grid),
        "random" => Ok(Method::random(
            trials,
            seed,
            cfg.config.reproducibility.seed,
        )),
        other => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "method=`{other}`: expected `grid` or `random`"
        ))),
    }
}

fn axes(grid: &[String]) -> PyResult<Vec<Axis>> {
    grid.iter()
        .map(|g| Axis::parse(g).map_err(errors::backtest))
        .collect()
}

/// `qts optimize`: the JSON of `--json` and `trials.csv` as text.
#[pyfunction]
#[pyo3(signature = (
    bars, strategy, grid, maximize, fixed, config=None, signals=None, execution="default",
    start=None, end=None, method="grid", trials=None, seed=None, pbo_splits=16, progress=None
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
) -> PyResult<(String, String)> {
    let ask = ask(
        bars, strategy, config, signals, execution, start, end, false, false,
    )?;
    let method = search_method(method, trials, seed, &ask.config)?;
    let axes = axes(&grid)?;
    let strategy = ask.strategy.clone();
    let points = method.points(&axes);
    interruptible(py, progress.as_ref(), points, move |watch| {
        let p = ask.prepare()?;
        let registry = Registry::builtin();
        let report = qts_backtest::optimize::optimize(
            &OptimizeRequest {
                method,
                pbo_splits,
                ..p.search(
                    &registry,
                    &strategy,
                    &axes,
                    &fixed,
                    &maximize,
                    &watch.cancel,
                )
            },
            &|| {
                watch.done.fetch_add(1, Ordering::Relaxed);
            },
        )
        .map_err(errors::backtest)?;
        Ok((json_text(&report)?, report.trials_csv()))
    })
}

/// `qts walk-forward`: the report's JSON, `windows.csv` and `oos_equity.csv` as text.
#[pyfunction]
#[pyo3(signature = (
    bars, strategy, grid, maximize, fixed, train=None, test=None, step=None, anchored=false,
    config=None, signals=None, execution="default", progress=None
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
) -> PyResult<(String, String, String)> {
    let ask = ask(
        bars, strategy, config, signals, execution, None, None, false, false,
    )?;
    let axes = axes(&grid)?;
    let strategy = ask.strategy.clone();
    let schedule = Schedule::from_config(
        &loaded(config)?.config.backtest.walk_forward,
        train,
        test,
        step,
        anchored,
    );
    interruptible(py, progress.as_ref(), 0, move |watch| {
        let p = ask.prepare()?;
        let registry = Registry::builtin();
        let search = OptimizeRequest {
            overfitting: false,
            ..p.search(
                &registry,
                &strategy,
                &axes,
                &fixed,
                &maximize,
                &watch.cancel,
            )
        };
        let report =
            qts_backtest::walk_forward::walk_forward(&search, &schedule, &|done, total| {
                watch.total.store(total, Ordering::Relaxed);
                watch.done.store(done, Ordering::Relaxed);
            })
            .map_err(errors::backtest)?;
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
    drawdown=0.2, config=None
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
) -> PyResult<String> {
    use qts_config::ResampleMethod;
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
        Some("iid") => ResampleMethod::Iid,
        Some("block") => ResampleMethod::Block,
        Some("trades") => ResampleMethod::Trades,
        Some("normal") => ResampleMethod::Normal,
        Some("student-t") => ResampleMethod::StudentT,
        Some(other) => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "method=`{other}`: expected iid, block, trades, normal or student-t"
            )));
        }
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
            })
        })
        .map_err(errors::stats)?;
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
    use qts_stats::significance::Loss;
    let loss = match loss {
        "squared" => Loss::Squared,
        "absolute" => Loss::Absolute,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "loss=`{other}`: expected `squared` or `absolute`"
            )));
        }
    };
    let d = qts_stats::significance::diebold_mariano(&errors_a, &errors_b, horizon, loss)
        .map_err(errors::stats)?;
    json_text(&d)
}

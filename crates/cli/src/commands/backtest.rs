//! `qts backtest`: flags → [`qts_backtest::backtest`] → table, JSON and files.

use std::path::Path;

use anyhow::anyhow;
use qts_backtest::report::{Benchmark, Settings, Stamp, Window};
use qts_backtest::request::{Ask, Request, ready};
use qts_backtest::strategy::SignalSeries;
use qts_backtest::{BacktestReport, Execution, Market};
use qts_config::Loaded;
use qts_core::logging::{LogGuard, RunContext};
use qts_data::io::{read_all_hashed_with, read_csv_table_with, read_returns};
use qts_data::validate::{Policy, require};

use super::metrics::print;
use super::setup::{load_config, start_logging};
use crate::cli::{BacktestArgs, ExecutionArg, GlobalArgs, RunArgs, SectionFiles};
use crate::failure::Failure;

/// What every backtesting command prepares from [`RunArgs`]: the configuration (with `--cash`
/// and `--commission` as overrides), logging, the checked market, the signals, the settings
/// (execution, window) and the stamp.
pub struct Prepared {
    /// The configuration.
    pub loaded: Loaded,
    /// Keeps logging alive.
    pub guard: LogGuard,
    /// The data, validated.
    pub market: Market,
    /// Predictions, for `--strategy signal`.
    pub signals: Option<SignalSeries>,
    /// Engine, metrics and window.
    pub settings: Settings,
    /// Provenance.
    pub stamp: Stamp,
    /// `--param` pairs.
    pub params: Vec<(String, String)>,
    /// Whether in-sample predictions are traded (`--allow-in-sample` with some).
    pub in_sample: bool,
    /// What the reader of the result should know about how it was shaped.
    pub notes: Vec<String>,
}

/// Prepares a backtesting command (see [`Prepared`]).
pub fn prepare(global: &GlobalArgs, args: &RunArgs, command: &str) -> Result<Prepared, Failure> {
    prepare_with_model(global, args, command, None)
}

/// [`prepare`] with `model` as the model's YAML (a model walk-forward or search).
pub fn prepare_with_model(
    global: &GlobalArgs,
    args: &RunArgs,
    command: &str,
    model: Option<&std::path::Path>,
) -> Result<Prepared, Failure> {
    // --cash and --commission are overrides like any --set: validated with the rest.
    let mut global_with = global.clone();
    if let Some(cash) = args.cash {
        global_with
            .overrides
            .push(format!("backtest.initial_capital={cash}"));
    }
    if let Some(c) = args.commission {
        global_with
            .overrides
            .push("backtest.costs.commission_model=percent".into());
        global_with
            .overrides
            .push(format!("backtest.costs.commission_rate={c}"));
    }
    let files = SectionFiles {
        backtest: args.config.clone(),
        model: model.map(std::path::Path::to_path_buf),
        ..SectionFiles::default()
    };
    let loaded = load_config(&global_with, &files)?;
    let guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;
    super::setup::distinct_files(&args.data)?;
    let (series, data_hash) = read_all_hashed_with(&args.data, &cfg.data.limits)?;
    let checked = series
        .into_iter()
        .zip(&args.data)
        .map(|(bars, path)| require(bars, &path.display().to_string(), Policy::of(cfg)))
        .collect::<Result<Vec<_>, _>>()?;
    let market = Market::new(checked)?;
    let table = match &args.signals {
        Some(path) if args.strategy == "signal" => Some((
            read_csv_table_with(path, &cfg.data.limits)?,
            path.display().to_string(),
        )),
        _ => None,
    };
    let ready = ready(
        &market,
        cfg,
        Ask {
            strategy: &args.strategy,
            signals: table.as_ref().map(|(t, shown)| (t, shown.as_str())),
            execution: match args.execution {
                ExecutionArg::Default => Execution::Default,
                ExecutionArg::BacktestingPy => Execution::BacktestingPy,
            },
            window: Window {
                from: args.from,
                to: args.to,
            },
            overlays: args.overlays,
            allow_in_sample: args.allow_in_sample,
        },
    )?;
    let stamp = Stamp::new(
        data_hash,
        cfg.fingerprint(),
        args.data.iter().map(|p| p.display().to_string()).collect(),
    )
    .with_config_files(super::setup::config_files(&loaded));
    let params = parse_params(&args.params)?;
    tracing::debug!(command, bars = market.bars()[0].len(), "data ready");
    Ok(Prepared {
        loaded,
        guard,
        market,
        signals: ready.signals,
        settings: ready.settings,
        stamp,
        params,
        in_sample: ready.in_sample,
        notes: ready.notes,
    })
}

/// Drops the risk overlays for a strategy that holds the account whole (buy-and-hold) unless
/// `overlays` asks for them ([`Settings::overlays_for`]); returns the note that says so.
pub fn apply_overlays(
    settings: &mut Settings,
    strategy: &str,
    overlays: bool,
) -> Result<Option<String>, Failure> {
    Ok(settings.overlays_for(strategy, overlays)?)
}

/// The predictions a signal backtest may trade ([`qts_backtest::request::out_of_sample`]).
pub fn out_of_sample(
    signals: SignalSeries,
    allow: bool,
    path: &str,
) -> Result<(SignalSeries, Option<String>), Failure> {
    Ok(qts_backtest::request::out_of_sample(signals, allow, path)?)
}

/// Runs `qts backtest`.
pub fn run(global: &GlobalArgs, args: &BacktestArgs) -> Result<(), Failure> {
    let p = prepare(global, &args.run, "backtest")?;
    let _guard = &p.guard;
    let cfg = &p.loaded.config;
    let symbol = p
        .market
        .bars()
        .iter()
        .map(|b| b.symbol.clone())
        .collect::<Vec<_>>()
        .join(",");
    let span = RunContext::new("backtest").symbol(symbol).span();
    let _run = span.enter();

    let bench_series = args.benchmark.as_deref().map(read_returns).transpose()?;
    let bench_name = args.benchmark.as_ref().map(|p| p.display().to_string());
    let benchmark = bench_series
        .as_ref()
        .zip(bench_name.as_deref())
        .map(|(series, source)| Benchmark { series, source });
    let mut settings = p.settings.clone();
    settings.engine.close_at_end = args.close_at_end;
    let started = std::time::Instant::now();
    let start_ms = super::track::now_ms();
    let report = qts_backtest::request::run(Request {
        market: &p.market,
        strategy: &args.run.strategy,
        params: &p.params,
        signals: p.signals.clone(),
        regime: &cfg.backtest.regime_filter,
        settings: &settings,
        benchmark,
        stamp: p.stamp.clone(),
        in_sample: p.in_sample,
        notes: p.notes.clone(),
    })?;
    tracing::info!(
        trades = report.result.trades.len(),
        micros = started.elapsed().as_micros() as u64,
        "backtest finished"
    );

    let json = serde_json::to_value(&report).map_err(|e| Failure::Runtime(e.into()))?;
    // The result's files, formatted once for --out and the tracked run, and only if one asks.
    let files = std::cell::LazyCell::new(|| result_files(&report, &json));
    if let Some(dir) = &args.out {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
        write_result(dir, &bytes)?;
    }
    let page = args
        .report
        .as_ref()
        .map(|_| qts_report::html::backtest_page(&super::report::from_report(&report, &json)));
    super::track::backtest(
        &p.loaded,
        &report,
        &|| files.clone(),
        page.as_deref(),
        start_ms,
    )?;
    if args.json {
        print(&[], Some(json.clone()))?;
    } else {
        std::io::Write::write_all(
            &mut std::io::stdout().lock(),
            qts_report::render::summary(&report, &cfg.backtest.metrics.report).as_bytes(),
        )
        .map_err(|e| Failure::Runtime(e.into()))?;
    }
    if let Some(dir) = &args.out
        && !args.json
    {
        println!(
            "wrote stats.json, trades.csv and equity.csv to {}",
            dir.display()
        );
    }
    if let (Some(path), Some(page)) = (&args.report, &page) {
        super::report::write_page(path, page)?;
    }
    Ok(())
}

/// `--param KEY=VALUE` pairs.
pub fn parse_params(params: &[String]) -> Result<Vec<(String, String)>, Failure> {
    params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    Failure::Input(anyhow!("--param {p}: expected KEY=VALUE, e.g. fast=10"))
                })
        })
        .collect()
}

/// Writes `text` to `dir/name` atomically.
pub fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), Failure> {
    let path = dir.join(name);
    qts_core::fs::write_atomic(&path, text.as_bytes())
        .map_err(|e| Failure::Runtime(anyhow!("{}: cannot write: {e}", path.display())))
}

/// `stats.json`, `trades.csv` and `equity.csv` of a backtest, as `--out` writes them.
pub fn result_files(r: &BacktestReport, stats: &serde_json::Value) -> [(&'static str, String); 3] {
    let stats = serde_json::to_string_pretty(stats).unwrap_or_default() + "\n";
    [
        ("stats.json", stats),
        ("trades.csv", r.trades_csv()),
        ("equity.csv", r.equity_csv()),
    ]
}

/// Writes a result's files into `dir` as one unit, with its manifest last
/// ([`qts_core::fs::write_result_dir`]).
pub fn write_result(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), Failure> {
    qts_core::fs::write_result_dir(dir, files)
        .map_err(|e| Failure::Runtime(anyhow!("{}: cannot write: {e}", dir.display())))
}

//! `qts backtest`: flags → [`qts_backtest::backtest`] → table, JSON and files.

use std::path::Path;

use anyhow::anyhow;
use qts_backtest::report::{Benchmark, Settings, Stamp, Window};
use qts_backtest::strategy::SignalSeries;
use qts_backtest::strategy::registry::Inputs;
use qts_backtest::{BacktestReport, Execution, Market, backtest};
use qts_core::config::Loaded;
use qts_core::logging::{LogGuard, RunContext};
use qts_data::io::{read_all_hashed, read_csv_table, read_returns};
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
    let (series, data_hash) = read_all_hashed(&args.data)?;
    let checked = series
        .into_iter()
        .zip(&args.data)
        .map(|(bars, path)| require(bars, &path.display().to_string(), Policy::of(cfg)))
        .collect::<Result<Vec<_>, _>>()?;
    let market = Market::new(checked)?;
    let mut notes = Vec::new();
    let mut in_sample = false;
    let mut window = Window {
        from: args.from,
        to: args.to,
    };
    let signals = match &args.signals {
        Some(path) if args.strategy == "signal" => {
            let time = &market.bars()[0].time;
            let shown = path.display().to_string();
            let all = SignalSeries::from_table(&read_csv_table(path)?, time, &shown)?;
            let (signals, note) = out_of_sample(all, args.allow_in_sample, &shown)?;
            in_sample = args.allow_in_sample && note.is_some();
            notes.extend(note);
            // Predictions that cover part of the data trade their span (and the bar their last
            // decision fills on), not years of flat cash around it.
            if let Some((first, last)) = signals.span() {
                let to = time[(last + 1).min(time.len() - 1)].date();
                if window.from.is_none() && first > 0 {
                    window.from = Some(time[first].date());
                }
                if window.to.is_none() && last + 1 < time.len() - 1 {
                    window.to = Some(to);
                }
                if window.from != args.from || window.to != args.to {
                    notes.push(format!(
                        "traded the span of the predictions: {} .. {} (--from/--to choose another)",
                        window.from.unwrap_or(time[0].date()),
                        window.to.unwrap_or(time[time.len() - 1].date())
                    ));
                }
            }
            Some(signals)
        }
        _ => None,
    };
    let execution = match args.execution {
        ExecutionArg::Default => Execution::Default,
        ExecutionArg::BacktestingPy => Execution::BacktestingPy,
    };
    let mut settings = Settings {
        window,
        ..Settings::from_config(cfg, execution)
    };
    if let Some(note) = apply_overlays(&mut settings, &args.strategy, args.overlays)? {
        notes.push(note);
    }
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
        signals,
        settings,
        stamp,
        params,
        in_sample,
        notes,
    })
}

/// Drops the risk overlays for a strategy that holds the account whole (buy-and-hold) unless
/// `overlays` asks for them; returns the note that says so.
pub fn apply_overlays(
    settings: &mut Settings,
    strategy: &str,
    overlays: bool,
) -> Result<Option<String>, Failure> {
    let declared = qts_backtest::strategy::Registry::builtin()
        .entry(strategy)?
        .overlays;
    if declared || overlays || settings.engine.execution != Execution::Default {
        return Ok(None);
    }
    settings.engine = settings.engine.clone().without_overlays();
    Ok(Some(format!(
        "{strategy} holds the whole account: no volatility sizing, position cap, stops, breaker or rebalancing (--overlays applies backtest_config.yaml's)"
    )))
}

/// The predictions a signal backtest may trade: those of the model's test split and later,
/// unless `allow` (then the in-sample ones too, with a note saying so).
pub fn out_of_sample(
    signals: SignalSeries,
    allow: bool,
    path: &str,
) -> Result<(SignalSeries, Option<String>), Failure> {
    let inside = signals.in_sample_rows();
    if signals.split.is_none() {
        return Ok((
            signals,
            Some(format!(
                "{path} has no split column: qts cannot tell in-sample predictions from out-of-sample ones"
            )),
        ));
    }
    if inside == 0 {
        return Ok((signals, None));
    }
    if allow {
        return Ok((
            signals,
            Some(format!(
                "IN-SAMPLE: {inside} prediction(s) of {path} are of the model's training or validation rows and were traded (--allow-in-sample)"
            )),
        ));
    }
    let kept = signals.out_of_sample();
    if kept.span().is_none() {
        return Err(Failure::Input(anyhow!(
            "{path}: every prediction is of the model's training or validation rows ({inside}); predict the test split or later (`qts models show` lists the split dates), or pass --allow-in-sample to trade them, marked in-sample"
        )));
    }
    Ok((
        kept,
        Some(format!(
            "dropped {inside} in-sample prediction(s) of {path} (the model's training and validation rows); --allow-in-sample trades them"
        )),
    ))
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

    let mut inputs = Inputs {
        symbols: p.market.bars().len(),
        signals: p.signals.clone(),
    };
    let mut strategy = qts_backtest::strategy::Registry::builtin().build(
        &args.run.strategy,
        &p.params,
        &mut inputs,
        &cfg.backtest.regime_filter,
    )?;
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
    let report = backtest(
        &p.market,
        strategy.as_mut(),
        &settings,
        benchmark,
        p.stamp.clone(),
    )?;
    tracing::info!(
        trades = report.result.trades.len(),
        micros = started.elapsed().as_micros() as u64,
        "backtest finished"
    );

    let mut report = report;
    report.in_sample = p.in_sample;
    report.notes = p.notes.clone();
    let json = serde_json::to_value(&report).map_err(|e| Failure::Runtime(e.into()))?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &report, &json)?;
    }
    let page = args
        .report
        .as_ref()
        .map(|_| qts_backtest::html::backtest_page(&super::report::from_report(&report, &json)));
    super::track::backtest(&p.loaded, &report, &json, page.as_deref(), start_ms)?;
    if args.json {
        print(&[], Some(json.clone()))?;
    } else {
        std::io::Write::write_all(
            &mut std::io::stdout().lock(),
            report.summary(&cfg.backtest.metrics.report).as_bytes(),
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

fn write_outputs(dir: &Path, r: &BacktestReport, stats: &serde_json::Value) -> Result<(), Failure> {
    let stats = serde_json::to_string_pretty(stats).map_err(|e| Failure::Runtime(e.into()))? + "\n";
    let (trades, equity) = (r.trades_csv(), r.equity_csv());
    write_result(
        dir,
        &[
            ("stats.json", stats.as_bytes()),
            ("trades.csv", trades.as_bytes()),
            ("equity.csv", equity.as_bytes()),
        ],
    )
}

/// Writes a result's files into `dir` as one unit, with its manifest last
/// ([`qts_core::fs::write_result_dir`]).
pub fn write_result(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), Failure> {
    qts_core::fs::write_result_dir(dir, files)
        .map_err(|e| Failure::Runtime(anyhow!("{}: cannot write: {e}", dir.display())))
}

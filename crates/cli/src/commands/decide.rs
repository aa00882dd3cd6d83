//! `qts decide`: the bars up to a close → [`qts_backtest::decide()`] → the orders for the next
//! open. Also what `qts paper` shares with it: reading the bars a live command may see.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use chrono::NaiveDate;
use comfy_table::Table;
use qts_backtest::decide::{DecideRequest, Decision};
use qts_backtest::report::{Settings, Stamp};
use qts_backtest::strategy::registry::Inputs;
use qts_backtest::strategy::{Registry, SignalSeries, Strategy};
use qts_backtest::{Execution, Market};
use qts_config::Loaded;
use qts_config::{ProviderName, QtsConfig};
use qts_core::logging::{LogGuard, RunContext};
use qts_data::fetch::{FetchRequest, SymbolFetch, fetch_symbols};
use qts_data::io::{read_all_hashed_with, read_csv_table};
use qts_data::validate::{Policy, require};

use super::backtest::parse_params;
use super::setup::{load_config, start_logging};
use crate::cli::{DecideArgs, GlobalArgs, LiveArgs, SectionFiles};
use crate::failure::Failure;

/// The bars a live command may read: every input's bars up to `as_of`, validated.
pub struct LiveMarket {
    /// The checked bars.
    pub market: Market,
    /// Provenance (files read, their SHA-256, the config).
    pub stamp: Stamp,
}

/// The inputs of a live command as text: files as given, or symbols.
pub fn inputs(live: &LiveArgs) -> Vec<String> {
    if live.symbols.is_empty() {
        live.data.iter().map(|p| p.display().to_string()).collect()
    } else {
        live.symbols.iter().map(|s| s.trim().to_string()).collect()
    }
}

/// Reads `inputs` (files, or symbols refreshed from the default provider unless `offline`)
/// up to `as_of` and validates them.
pub fn read_through(
    loaded: &Loaded,
    inputs: &[String],
    as_of: NaiveDate,
    offline: bool,
    history_from: Option<NaiveDate>,
) -> Result<LiveMarket, Failure> {
    let cfg = &loaded.config;
    if inputs.is_empty() {
        return Err(Failure::Input(anyhow!(
            "no data: give --data FILE (repeatable) or --symbols AAPL,MSFT"
        )));
    }
    let symbols: Vec<String> = inputs
        .iter()
        .filter(|i| !Path::new(i).is_file())
        .cloned()
        .collect();
    if !symbols.is_empty() && !offline && cfg.data.default_provider != ProviderName::Local {
        refresh(cfg, &symbols, as_of, history_from)?;
    }
    let paths = inputs
        .iter()
        .map(|i| qts_data::locate::resolve(i, cfg))
        .collect::<Result<Vec<PathBuf>, _>>()?;
    super::setup::distinct_files(&paths)?;
    let (series, data_hash) = read_all_hashed_with(&paths, &cfg.data.limits)?;
    let checked = series
        .into_iter()
        .zip(&paths)
        .map(|(bars, path)| {
            require(
                bars.through(as_of),
                &path.display().to_string(),
                Policy::of(cfg),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let market = Market::new(checked)?;
    let stamp = Stamp::new(
        data_hash,
        cfg.fingerprint(),
        paths.iter().map(|p| p.display().to_string()).collect(),
    )
    .with_config_files(super::setup::config_files(loaded));
    Ok(LiveMarket { market, stamp })
}

/// Brings the cache of `symbols` up to `as_of` from the default provider.
/// Fetches `symbols` from the default provider into the cache (from `history_from`, or five
/// years before `as_of`, to `as_of`); a symbol the provider fails on is exit 2 naming it.
pub fn refresh(
    cfg: &QtsConfig,
    symbols: &[String],
    as_of: NaiveDate,
    history_from: Option<NaiveDate>,
) -> Result<(), Failure> {
    let name = cfg.data.default_provider;
    let provider = qts_data::provider::from_config(name, &cfg.data).map_err(|e| match e {
        qts_data::provider::FetchError::MissingKey { .. } => Failure::Input(e.into()),
        other => Failure::Runtime(other.into()),
    })?;
    let from = history_from.unwrap_or_else(|| {
        as_of
            .checked_sub_months(chrono::Months::new(60))
            .unwrap_or(as_of)
    });
    let today = chrono::Local::now().date_naive();
    let report = fetch_symbols(
        &FetchRequest {
            provider: name,
            symbols,
            from,
            to: as_of.min(today),
            today,
            out: None,
        },
        provider.as_ref(),
        &cfg.data,
        &mut |_| {},
    )?;
    for row in &report.symbols {
        if let SymbolFetch::Failed { symbol, error } = row {
            return Err(Failure::Input(anyhow!(
                "{symbol}: cannot refresh from {}: {error} (--offline uses the cache as it is)",
                report.provider
            )));
        }
    }
    Ok(())
}

/// A predictions file's series aligned to `market`, every row kept (see [`live_signals`]).
pub fn read_signals(path: &Path, market: &Market) -> Result<SignalSeries, Failure> {
    Ok(SignalSeries::from_table(
        &read_csv_table(path)?,
        &market.bars()[0].time,
        &path.display().to_string(),
    )?)
}

/// Builds `name` with `params` (and the signals file for `signal`).
pub fn build_strategy(
    cfg: &QtsConfig,
    name: &str,
    params: &[(String, String)],
    signals: Option<&Path>,
    market: &Market,
) -> Result<Box<dyn Strategy>, Failure> {
    let signals = match signals {
        Some(path) if name == "signal" => Some(live_signals(
            read_signals(path, market)?,
            &path.display().to_string(),
        )?),
        _ => None,
    };
    build_with_signals(cfg, name, params, signals, market)
}

/// The predictions a live decision follows: never the model's in-sample rows (as a signal
/// backtest by default), so a decision replays what the backtest traded.
pub fn live_signals(all: SignalSeries, shown: &str) -> Result<SignalSeries, Failure> {
    let (kept, note) = super::backtest::out_of_sample(all, false, shown)?;
    if let Some(note) = note {
        tracing::info!("{note}");
    }
    Ok(kept)
}

/// The settings a live command trades `strategy` under: the configuration's, with the risk
/// overlays dropped where a backtest drops them (buy-and-hold without `--overlays`).
pub fn live_settings(cfg: &QtsConfig, strategy: &str, overlays: bool) -> Result<Settings, Failure> {
    let mut settings = Settings::from_config(cfg, Execution::Default);
    super::backtest::apply_overlays(&mut settings, strategy, overlays)?;
    Ok(settings)
}

/// The day of the first prediction a decision may trade on.
pub fn first_signal_day(signals: &SignalSeries, market: &Market) -> Option<NaiveDate> {
    signals
        .span()
        .map(|(first, _)| market.bars()[0].time[first].date())
}

/// Builds `name` with `params` and predictions already aligned to `market` (a model's).
pub fn build_with_signals(
    cfg: &QtsConfig,
    name: &str,
    params: &[(String, String)],
    signals: Option<SignalSeries>,
    market: &Market,
) -> Result<Box<dyn Strategy>, Failure> {
    let mut inputs = Inputs {
        symbols: market.bars().len(),
        signals,
    };
    Ok(Registry::builtin().build(name, params, &mut inputs, &cfg.backtest.regime_filter)?)
}

/// The day decided for: `--as-of`, else today.
pub fn as_of(given: Option<NaiveDate>) -> NaiveDate {
    given.unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// The configuration of `qts decide` (with `--config` as backtest_config.yaml), logging started.
pub fn configure(global: &GlobalArgs, args: &DecideArgs) -> Result<(Loaded, LogGuard), Failure> {
    let files = SectionFiles {
        backtest: args.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(global, &files)?;
    let guard = start_logging(global, &loaded)?;
    Ok((loaded, guard))
}

/// Runs `qts decide`.
pub fn run(global: &GlobalArgs, args: &DecideArgs) -> Result<(), Failure> {
    let (loaded, _guard) = configure(global, args)?;
    let cfg = &loaded.config;
    let inputs = inputs(&args.live);
    let span = RunContext::new("decide").symbol(inputs.join(",")).span();
    let _run = span.enter();
    let day = as_of(args.as_of);
    let live = read_through(
        &loaded,
        &inputs,
        day,
        args.live.offline,
        args.live.history_from,
    )?;
    let name = args.strategy.name();
    let params = parse_params(&args.strategy.params)?;
    let signals = match (&args.strategy.signals, name) {
        (Some(path), "signal") => Some(live_signals(
            read_signals(path, &live.market)?,
            &path.display().to_string(),
        )?),
        _ => None,
    };
    // Predictions trade from their first out-of-sample row, as a signal backtest does.
    let trade_from = signals
        .as_ref()
        .and_then(|s| first_signal_day(s, &live.market));
    let mut strategy = build_with_signals(cfg, name, &params, signals, &live.market)?;
    finish(
        cfg,
        live,
        (name, strategy.as_mut()),
        args.strategy.overlays,
        day,
        trade_from,
        args.json,
    )
}

/// Decides with `strategy` on `live` and prints the decision (what `qts decide` and the model
/// path in `qts-torch` share).
pub fn finish(
    cfg: &QtsConfig,
    live: LiveMarket,
    (name, strategy): (&str, &mut dyn Strategy),
    overlays: bool,
    day: NaiveDate,
    trade_from: Option<NaiveDate>,
    json: bool,
) -> Result<(), Failure> {
    let settings = live_settings(cfg, name, overlays)?;
    let decision = qts_backtest::decide(
        &live.market,
        strategy,
        &settings,
        &DecideRequest {
            as_of: day,
            trade_from,
            stale_after_days: cfg.monitoring.stale_data_alert_days,
        },
        live.stamp,
    )?;
    tracing::info!(
        as_of = %decision.as_of,
        orders = decision.orders.len(),
        "decided"
    );
    let text = if json {
        serde_json::to_string_pretty(&decision).map_err(|e| Failure::Runtime(e.into()))? + "\n"
    } else {
        render(&decision)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "-".into(), f)
}

/// The decision as a person reads it: what it is based on, the positions, the orders.
pub fn render(d: &Decision) -> String {
    let mut out = format!(
        "Decision at the close of {} for the session of {} ({})\n\
         {} · traded since {} · equity {} · cash {} · drawdown {:.2}%{}\n",
        d.as_of,
        d.next_session,
        if d.rebalance_day {
            "a rebalance day"
        } else {
            "not a rebalance day: only stops and the breaker act"
        },
        d.strategy,
        d.traded_from,
        money(d.equity),
        money(d.cash),
        100.0 * d.drawdown,
        if d.cooling_down {
            " · breaker cooling down"
        } else {
            ""
        },
    );
    let mut t = Table::new();
    t.set_header(vec![
        "symbol",
        "shares",
        "close",
        "weight",
        "target shares",
        "target",
        "forecast [interval]",
        "stop",
        "take-profit",
    ]);
    for p in &d.positions {
        t.add_row(vec![
            p.symbol.clone(),
            p.shares.to_string(),
            money(p.close),
            format!("{:.1}%", 100.0 * p.weight),
            p.target_shares.to_string(),
            opt(p.target_strength, |x| format!("{x:+.2}")),
            p.forecast.map_or_else(
                || "-".into(),
                |f| match (f.lower, f.upper) {
                    (Some(l), Some(u)) => {
                        format!(
                            "{:+.3}% [{:+.3}%, {:+.3}%]",
                            100.0 * f.expected,
                            100.0 * l,
                            100.0 * u
                        )
                    }
                    _ => format!("{:+.3}%", 100.0 * f.expected),
                },
            ),
            p.stop.as_ref().map_or_else(
                || "-".into(),
                |s| format!("{} ({})", money(s.price), s.rule),
            ),
            opt(p.take_profit, money),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    if d.orders.is_empty() {
        out.push_str(&format!("No orders for {}: hold.\n", d.next_session));
    } else {
        let mut t = Table::new();
        t.set_header(vec![
            "symbol", "side", "shares", "type", "limit", "stop", "tif", "reason", "decided",
        ]);
        for o in &d.orders {
            t.add_row(vec![
                o.symbol.clone(),
                o.side.clone(),
                o.shares.to_string(),
                o.order_type.clone(),
                opt(o.limit, money),
                opt(o.stop, money),
                o.time_in_force.clone(),
                o.reason.clone(),
                o.decided.clone(),
            ]);
        }
        out.push_str(&format!(
            "Orders for the open of {}:\n{t}\n",
            d.next_session
        ));
    }
    out
}

//! A session: the market loaded and gated once — every file read once and hashed, validated
//! under the configuration's policy, aligned — with the predictions planned, the settings in
//! force, the provenance stamp and what the reader of a result must be told. Every use case
//! over one market (a backtest, a parameter search, a walk-forward, a decision) is a method
//! or a function of it, so the CLI, `qts run`, both Python extensions and the paper account
//! prepare their data one way.
//!
//! ```no_run
//! use std::sync::Arc;
//! use qts_research::session::{Ask, Data, Session};
//!
//! let loaded = qts_config::ConfigLoader::from_dir(std::path::Path::new("config"))
//!     .load(&qts_core::config::Environment::process())
//!     .unwrap();
//! let ask = Ask::strategy("sma-cross", Data::Files(vec!["examples/data/goog_daily.csv".into()]));
//! let session = Session::open(Arc::new(loaded), ask).unwrap();
//! let report = session.backtest(&Default::default()).unwrap();
//! println!("{}", report.metrics["sharpe_ratio"].as_f64());
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use qts_backtest::decide::{DecideRequest, Decision};
use qts_backtest::report::{Benchmark, ConfigFile, Settings, Stamp, Window};
use qts_backtest::request::{Request, ready};
use qts_backtest::strategy::registry::Inputs;
use qts_backtest::strategy::{Registry, SignalSeries, Strategy};
use qts_backtest::{BacktestReport, Execution, Market};
use qts_config::{Loaded, QtsConfig};
use qts_data::BarSeries;
use qts_data::io::{ReturnSeries, Table, read_all_sourced, read_csv_table_with};
use qts_data::validate::{Policy, require};
use qts_stats::metrics::Metric;

use crate::error::ResearchError;
use crate::optimize::{Axis, Method, OptimizeReport, OptimizeRequest, optimize};
use crate::progress::Progress;
use crate::walk_forward::{Schedule, WalkForwardReport, walk_forward};

/// Where a session's bars come from.
#[derive(Debug, Clone)]
pub enum Data {
    /// Files as the user named them (CSV or Parquet), read once under `data.limits`.
    Files(Vec<PathBuf>),
    /// Bars already read (a notebook's frames), each with its source and SHA-256.
    Bars(Vec<GivenBars>),
    /// A universe: the `symbols` of `files` (a wide file's columns, or files named by their
    /// stem), in that order; with no files, each symbol's own file, looked up as `qts train`
    /// looks one up (`data.providers.local.directory`, then the cache).
    Universe {
        /// Files to pick from (empty: one file per symbol, looked up).
        files: Vec<PathBuf>,
        /// The symbols traded.
        symbols: Vec<String>,
    },
}

/// One symbol's bars handed over already read.
#[derive(Debug, Clone)]
pub struct GivenBars {
    /// The bars, not yet validated.
    pub bars: BarSeries,
    /// The file or frame they came from (named in messages and the stamp).
    pub source: String,
    /// SHA-256 of the file's bytes or the frame's values.
    pub hash: String,
}

/// Predictions for the signal strategy.
#[derive(Debug, Clone)]
pub enum Signals {
    /// A predictions file (`date,prediction[,lower,upper][,split]`), read under `data.limits`.
    File(PathBuf),
    /// A table already read, and where it came from.
    Table {
        /// The predictions.
        table: Table,
        /// Its name in messages.
        source: String,
    },
}

/// What a session is asked to prepare besides the configuration.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The bars.
    pub data: Data,
    /// A registered strategy name.
    pub strategy: String,
    /// Its parameters, `KEY`/`VALUE` as the user wrote them.
    pub params: Vec<(String, String)>,
    /// Predictions, for the signal strategy.
    pub signals: Option<Signals>,
    /// Execution rules.
    pub execution: Execution,
    /// The span traded.
    pub window: Window,
    /// Apply the risk overlays even to a strategy that holds the account whole.
    pub overlays: bool,
    /// Trade in-sample predictions too (marked).
    pub allow_in_sample: bool,
}

impl Ask {
    /// `strategy` on `data` with its defaults: no parameters, qts's execution rules, the
    /// whole span, the overlays as the strategy declares, out-of-sample predictions only.
    pub fn strategy(strategy: &str, data: Data) -> Ask {
        Ask {
            data,
            strategy: strategy.to_string(),
            params: Vec::new(),
            signals: None,
            execution: Execution::Default,
            window: Window::default(),
            overlays: false,
            allow_in_sample: false,
        }
    }
}

/// Where a decision session's bars come from.
#[derive(Debug, Clone)]
pub enum LiveData {
    /// Files as given, or symbols (refreshed from the default provider unless `offline`).
    Inputs {
        /// The files or symbols.
        inputs: Vec<String>,
        /// Use the cache as it is.
        offline: bool,
        /// First day a refresh fetches (five years before the close when `None`).
        history_from: Option<NaiveDate>,
    },
    /// Bars already read (a notebook's); those after the close are dropped.
    Bars(Vec<GivenBars>),
}

/// What a decision session reads: the bars a live command may see, up to a close.
#[derive(Debug, Clone)]
pub struct LiveAsk {
    /// The bars.
    pub data: LiveData,
    /// The close decided at: bars after it are never read.
    pub as_of: NaiveDate,
    /// A registered strategy name.
    pub strategy: String,
    /// Its parameters.
    pub params: Vec<(String, String)>,
    /// A predictions file for the signal strategy.
    pub signals: Option<PathBuf>,
    /// Apply the risk overlays even to a strategy that holds the account whole.
    pub overlays: bool,
}

/// Options of one backtest of a session.
#[derive(Debug, Clone, Copy, Default)]
pub struct BacktestOptions<'a> {
    /// Close every position at the last bar's close.
    pub close_at_end: bool,
    /// Returns to measure against, and their name.
    pub benchmark: Option<(&'a ReturnSeries, &'a str)>,
}

/// A parameter search of a session's strategy.
#[derive(Debug, Clone)]
pub struct SearchSpec {
    /// Searched parameters; the first varies slowest.
    pub axes: Vec<Axis>,
    /// The metric to maximise.
    pub maximize: Metric,
    /// Grid or random.
    pub method: Method,
    /// CSCV blocks for PBO (`optimize.pbo_splits`, 16 by default).
    pub pbo_splits: usize,
}

impl SearchSpec {
    /// A grid search of `axes` for `maximize`, with 16 CSCV blocks.
    pub fn grid(axes: Vec<Axis>, maximize: Metric) -> SearchSpec {
        SearchSpec {
            axes,
            maximize,
            method: Method::Grid,
            pbo_splits: DEFAULT_PBO_SPLITS,
        }
    }
}

/// CSCV blocks of a search's PBO unless asked otherwise.
pub const DEFAULT_PBO_SPLITS: usize = 16;

/// The market loaded and gated once, with everything a use case over it needs.
#[derive(Debug, Clone)]
pub struct Session {
    loaded: Arc<Loaded>,
    /// The checked, aligned bars.
    pub market: Market,
    /// The strategy asked for.
    pub strategy: String,
    /// Its parameters.
    pub params: Vec<(String, String)>,
    /// The predictions traded (the signal strategy), planned.
    pub signals: Option<SignalSeries>,
    /// Engine, metrics and window.
    pub settings: Settings,
    /// Provenance.
    pub stamp: Stamp,
    /// Whether in-sample predictions are traded.
    pub in_sample: bool,
    /// What shaped the results that their reader should know.
    pub notes: Vec<String>,
    /// For a decision session: the close decided at and the first day predictions trade.
    pub live: Option<Live>,
}

/// What a decision session adds: the close and the first day traded.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// The close decided at.
    pub as_of: NaiveDate,
    /// The first day of predictions a decision may trade on (a signal backtest's start).
    pub trade_from: Option<NaiveDate>,
}

impl Session {
    /// Loads and gates `ask.data` under `loaded`: files read once (refused when one is named
    /// twice), every series validated as `qts data validate` would (findings at or above
    /// `data.quality.fail_on` refuse it), the symbols aligned, the predictions planned
    /// ([`qts_backtest::request::ready`]), the stamp made.
    ///
    /// # Errors
    /// [`ResearchError`]: unreadable or invalid data, misaligned symbols, predictions that
    /// cannot be traded, an unknown strategy.
    pub fn open(loaded: Arc<Loaded>, ask: Ask) -> Result<Session, ResearchError> {
        let cfg = &loaded.config;
        let (market, data_hash, files) = match ask.data {
            Data::Files(paths) => {
                let (checked, hash) = read_checked(cfg, &paths, None)?;
                (
                    Market::new(checked)?,
                    hash,
                    paths.iter().map(|p| p.display().to_string()).collect(),
                )
            }
            Data::Bars(given) => market_of(cfg, cfg.data.adjustment, given)?,
            Data::Universe { files, symbols } => {
                let (paths, only) = if files.is_empty() {
                    let paths = symbols
                        .iter()
                        .map(|s| qts_data::locate::resolve(s, cfg))
                        .collect::<Result<Vec<_>, _>>()?;
                    (paths, Vec::new())
                } else {
                    (files, symbols)
                };
                let (checked, hash) = read_selected(cfg, &paths, None, &only)?;
                (
                    Market::new(checked)?,
                    hash,
                    paths.iter().map(|p| p.display().to_string()).collect(),
                )
            }
        };
        let needs_signals = Registry::builtin().needs_signals(&ask.strategy);
        let table = match &ask.signals {
            Some(Signals::File(path)) if needs_signals => Some((
                read_csv_table_with(path, &cfg.data.limits)?,
                path.display().to_string(),
            )),
            Some(Signals::Table { table, source }) if needs_signals => {
                Some((table.clone(), source.clone()))
            }
            _ => None,
        };
        let ready = ready(
            &market,
            cfg,
            qts_backtest::request::Ask {
                strategy: &ask.strategy,
                signals: table.as_ref().map(|(t, shown)| (t, shown.as_str())),
                execution: ask.execution,
                window: ask.window,
                overlays: ask.overlays,
                allow_in_sample: ask.allow_in_sample,
            },
        )?;
        let stamp = stamp(&loaded, data_hash, files);
        tracing::debug!(bars = market.bars()[0].len(), "data ready");
        let notes = ready
            .notes
            .into_iter()
            .chain(market.notes().iter().cloned())
            .collect();
        Ok(Session {
            loaded,
            market,
            strategy: ask.strategy,
            params: ask.params,
            signals: ready.signals,
            settings: ready.settings,
            stamp,
            in_sample: ready.in_sample,
            notes,
            live: None,
        })
    }

    /// A decision session: the bars of `ask.inputs` up to `ask.as_of` (symbols refreshed
    /// from the default provider first, unless offline), validated; the predictions of a
    /// signal strategy out of sample only, so a decision replays what the backtest traded;
    /// qts's execution rules with the overlays as the strategy declares.
    ///
    /// # Errors
    /// [`ResearchError`]: no inputs, a symbol the provider fails on, unreadable or invalid
    /// data, predictions that cannot be traded, an unknown strategy.
    pub fn live(loaded: Arc<Loaded>, ask: LiveAsk) -> Result<Session, ResearchError> {
        let cfg = &loaded.config;
        let (market, data_hash, files) = match ask.data {
            LiveData::Inputs {
                inputs,
                offline,
                history_from,
            } => {
                let (market, hash, paths) =
                    crate::live::read_through(cfg, &inputs, ask.as_of, offline, history_from)?;
                let files = paths.iter().map(|p| p.display().to_string()).collect();
                (market, hash, files)
            }
            LiveData::Bars(given) => market_of(
                cfg,
                qts_data::actions::Basis::Raw,
                given
                    .into_iter()
                    .map(|b| GivenBars {
                        bars: b.bars.through(ask.as_of),
                        ..b
                    })
                    .collect(),
            )?,
        };
        let signals = match &ask.signals {
            Some(path) if Registry::builtin().needs_signals(&ask.strategy) => Some(live_signals(
                read_signals(cfg, path, &market)?,
                &path.display().to_string(),
            )?),
            _ => None,
        };
        // Predictions trade from their first out-of-sample row, as a signal backtest does.
        let trade_from = signals.as_ref().and_then(|s| first_signal_day(s, &market));
        let mut settings = Settings::from_config(cfg, Execution::Default);
        settings.engine.basis = qts_data::actions::Basis::Raw;
        let notes = settings
            .overlays_for(&ask.strategy, ask.overlays)?
            .into_iter()
            .collect();
        let stamp = stamp(&loaded, data_hash, files);
        Ok(Session {
            loaded,
            market,
            strategy: ask.strategy,
            params: ask.params,
            signals,
            settings,
            stamp,
            in_sample: false,
            notes,
            live: Some(Live {
                as_of: ask.as_of,
                trade_from,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &QtsConfig {
        &self.loaded.config
    }

    /// The configuration as loaded (files, redactor).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// The shared configuration.
    pub fn loaded_arc(&self) -> Arc<Loaded> {
        Arc::clone(&self.loaded)
    }

    /// The session with its settings replaced (a walk's window, an account's cash).
    pub fn with_settings(&self, settings: Settings) -> Session {
        Session {
            settings,
            ..self.clone()
        }
    }

    /// Builds `name` with `params` and predictions already aligned to the market (a
    /// model's), under the configuration's regime filter.
    ///
    /// # Errors
    /// [`ResearchError::Backtest`] for an unknown strategy or parameter.
    pub fn build(
        &self,
        name: &str,
        params: &[(String, String)],
        signals: Option<SignalSeries>,
    ) -> Result<Box<dyn Strategy>, ResearchError> {
        let mut inputs = Inputs {
            symbols: self.market.bars().len(),
            signals,
        };
        Ok(Registry::builtin().build(
            name,
            params,
            &mut inputs,
            &self.config().backtest.regime_filter,
        )?)
    }

    /// The strategy asked for, built fresh with its parameters and predictions.
    ///
    /// # Errors
    /// As [`Session::build`].
    pub fn strategy(&self) -> Result<Box<dyn Strategy>, ResearchError> {
        self.build(&self.strategy, &self.params, self.signals.clone())
    }

    /// Backtests the strategy asked for ([`qts_backtest::request::run`]).
    ///
    /// # Errors
    /// [`ResearchError::Backtest`]: an unknown parameter, a window or benchmark that does not
    /// fit the data.
    pub fn backtest(&self, options: &BacktestOptions<'_>) -> Result<BacktestReport, ResearchError> {
        let mut settings = self.settings.clone();
        settings.engine.close_at_end = options.close_at_end;
        // In-sample by provenance: the winner of a tracked search on the same data.
        let winner = (!self.in_sample && self.live.is_none())
            .then(|| {
                crate::provenance::search_winner(
                    Path::new(&self.config().mlflow.local_store),
                    &self.strategy,
                    &self.params,
                    &self.stamp.data_hash,
                )
            })
            .flatten();
        let mut notes = self.notes.clone();
        if let Some(w) = &winner {
            notes.insert(0, w.note());
        }
        Ok(qts_backtest::request::run(Request {
            market: &self.market,
            strategy: &self.strategy,
            params: &self.params,
            signals: self.signals.clone(),
            regime: &self.config().backtest.regime_filter,
            settings: &settings,
            benchmark: options
                .benchmark
                .map(|(series, source)| Benchmark { series, source }),
            stamp: self.stamp.clone(),
            in_sample: self.in_sample || winner.is_some(),
            notes,
        })?)
    }

    /// `decision` for the account the holdings text describes (`symbol,shares` CSV with a
    /// `CASH,amount` line, named `source` in errors), under this session's engine settings;
    /// unchanged without holdings ([`qts_backtest::Decision::for_holdings`]).
    ///
    /// # Errors
    /// [`ResearchError::Backtest`] naming the line of what is wrong with the holdings.
    pub fn with_holdings(
        &self,
        decision: Decision,
        holdings: Option<(&str, &str)>,
    ) -> Result<Decision, ResearchError> {
        let Some((source, text)) = holdings else {
            return Ok(decision);
        };
        let symbols: Vec<String> = decision
            .positions
            .iter()
            .map(|p| p.symbol.clone())
            .collect();
        let h = qts_backtest::decide::Holdings::parse(source, text, &symbols)?;
        Ok(decision.for_holdings(&h, &self.settings.engine))
    }

    /// The search request of `spec` over this session (its market, strategy, fixed
    /// parameters, predictions, settings and stamp), with the overfitting statistics on.
    pub fn search_request<'a>(
        &'a self,
        spec: &'a SearchSpec,
        registry: &'a Registry,
    ) -> OptimizeRequest<'a> {
        OptimizeRequest {
            market: &self.market,
            registry,
            strategy: &self.strategy,
            axes: &spec.axes,
            fixed: &self.params,
            signals: self.signals.as_ref(),
            regime: &self.config().backtest.regime_filter,
            settings: &self.settings,
            maximize: spec.maximize,
            method: spec.method,
            pbo_splits: spec.pbo_splits,
            overfitting: true,
            stamp: self.stamp.clone(),
            budget: self.config().budget,
        }
    }

    /// Searches the strategy's parameters ([`crate::optimize::optimize`]).
    ///
    /// # Errors
    /// As [`crate::optimize::optimize`].
    pub fn search(
        &self,
        spec: &SearchSpec,
        progress: &dyn Progress,
    ) -> Result<OptimizeReport, ResearchError> {
        let registry = Registry::builtin();
        optimize(&self.search_request(spec, &registry), progress)
    }

    /// Walks the search forward over `schedule`'s windows
    /// ([`crate::walk_forward::walk_forward`]).
    ///
    /// # Errors
    /// As [`crate::walk_forward::walk_forward`].
    pub fn walk(
        &self,
        spec: &SearchSpec,
        schedule: &Schedule,
        progress: &dyn Progress,
    ) -> Result<WalkForwardReport, ResearchError> {
        let registry = Registry::builtin();
        let search = OptimizeRequest {
            overfitting: false,
            ..self.search_request(spec, &registry)
        };
        walk_forward(&search, schedule, progress)
    }

    /// The decision at the close of a decision session ([`Session::live`]) with `strategy`
    /// (the one asked for when `None`): the engine's replay up to the close, and the orders
    /// it leaves for the next session ([`qts_backtest::decide()`]).
    ///
    /// # Errors
    /// [`ResearchError::Input`] for a session that is not a decision session; the engine's
    /// errors (stale data).
    pub fn decide(&self, strategy: Option<&mut dyn Strategy>) -> Result<Decision, ResearchError> {
        let trade_from = self.live.and_then(|l| l.trade_from);
        match strategy {
            Some(s) => self.decide_from(s, trade_from),
            None => self.decide_from(self.strategy()?.as_mut(), trade_from),
        }
    }

    /// [`Session::decide`] with `strategy`, trading predictions from `trade_from` (a model's
    /// first out-of-sample forecast).
    ///
    /// # Errors
    /// As [`Session::decide`].
    pub fn decide_from(
        &self,
        strategy: &mut dyn Strategy,
        trade_from: Option<NaiveDate>,
    ) -> Result<Decision, ResearchError> {
        let Some(live) = self.live else {
            return Err(ResearchError::Input(
                "a decision needs a decision session (Session::live): the bars up to a close"
                    .into(),
            ));
        };
        self.decide_at(strategy, live.as_of, trade_from)
    }

    /// The decision of `strategy` at the close of `as_of` (the session's market must end there:
    /// the main job decides on its last bar), trading predictions from `trade_from`.
    ///
    /// # Errors
    /// The engine's errors (stale data).
    pub fn decide_at(
        &self,
        strategy: &mut dyn Strategy,
        as_of: NaiveDate,
        trade_from: Option<NaiveDate>,
    ) -> Result<Decision, ResearchError> {
        let decision = qts_backtest::decide(
            &self.market,
            strategy,
            &self.settings,
            &DecideRequest {
                as_of,
                trade_from,
                stale_after_days: self.config().monitoring.stale_data_alert_days,
            },
            self.stamp.clone(),
        )?;
        tracing::info!(
            as_of = %decision.as_of,
            orders = decision.orders.len(),
            "decided"
        );
        Ok(decision)
    }
}

/// Refuses a data file named twice (after resolving links and `..`): it would be traded as two
/// symbols.
///
/// # Errors
/// [`ResearchError::Input`] naming both.
pub fn distinct_files(paths: &[PathBuf]) -> Result<(), ResearchError> {
    for (i, a) in paths.iter().enumerate() {
        if let Some(b) = paths[..i].iter().find(|b| qts_core::fs::same_file(a, b)) {
            return Err(ResearchError::Input(format!(
                "{} is the same file as {}: give each symbol's file once",
                a.display(),
                b.display()
            )));
        }
    }
    Ok(())
}

/// Reads `paths` once under the configuration's limits (up to `through` when given) and
/// validates each; with the SHA-256 of their bytes.
pub(crate) fn read_checked(
    cfg: &QtsConfig,
    paths: &[PathBuf],
    through: Option<NaiveDate>,
) -> Result<(Vec<qts_data::validate::CheckedBars>, String), ResearchError> {
    read_selected(cfg, paths, through, &[])
}

/// [`read_checked`], keeping only the series of `only` (all when empty), in its order: a
/// symbol matches a series' name (a wide file's column, a file's stem) ignoring case.
///
/// # Errors
/// As [`read_checked`], and [`ResearchError::Input`] for a symbol no file has or one named
/// twice.
pub(crate) fn read_selected(
    cfg: &QtsConfig,
    paths: &[PathBuf],
    through: Option<NaiveDate>,
    only: &[String],
) -> Result<(Vec<qts_data::validate::CheckedBars>, String), ResearchError> {
    distinct_files(paths)?;
    // A wide file of closes gives one series per symbol column.
    let (mut series, data_hash) =
        read_all_sourced(paths, &cfg.data.limits, &cfg.data.providers.local.layout())?;
    if !only.is_empty() {
        let names: Vec<String> = series.iter().map(|(b, _)| b.symbol.clone()).collect();
        let mut picked = Vec::with_capacity(only.len());
        for (i, want) in only.iter().enumerate() {
            if only[..i].iter().any(|o| o.eq_ignore_ascii_case(want)) {
                return Err(ResearchError::Input(format!(
                    "symbol `{want}` is named twice in the universe"
                )));
            }
            let Some(k) = series
                .iter()
                .position(|(b, _)| b.symbol.eq_ignore_ascii_case(want))
            else {
                let more = names.len() > 30;
                let have: Vec<&str> = names.iter().take(30).map(String::as_str).collect();
                return Err(ResearchError::Input(format!(
                    "symbol `{want}` is in none of the data files; they hold {}{}",
                    have.join(", "),
                    if more { ", …" } else { "" }
                )));
            };
            picked.push(series.swap_remove(k));
        }
        series = picked;
    }
    let events = qts_data::actions::configured_events(&cfg.data)?;
    let checked = series
        .into_iter()
        .map(|(bars, path)| {
            let bars = match through {
                Some(day) => bars.through(day),
                None => bars,
            };
            let shown = path.display().to_string();
            // On the configured price basis, from the actions known at the last bar; a live
            // decision (up to a close) trades raw prices with their actions, as a broker does,
            // so that a split after a recorded day never revises it.
            let basis = match through {
                Some(_) => qts_data::actions::Basis::Raw,
                None => cfg.data.adjustment,
            };
            let bars = qts_data::actions::prepare(bars, events.as_ref(), basis, &shown)?;
            require(bars, &shown, Policy::of(cfg))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((checked, data_hash))
}

/// The market of bars handed over already read, their combined hash and sources.
fn market_of(
    cfg: &QtsConfig,
    basis: qts_data::actions::Basis,
    given: Vec<GivenBars>,
) -> Result<(Market, String, Vec<String>), ResearchError> {
    if given.is_empty() {
        return Err(ResearchError::Input("no bars given".into()));
    }
    let hash = qts_core::hex::combined(given.iter().map(|b| b.hash.as_str()));
    let sources: Vec<String> = given.iter().map(|b| b.source.clone()).collect();
    let events = qts_data::actions::configured_events(&cfg.data)?;
    let checked = given
        .into_iter()
        .map(|b| {
            let bars = qts_data::actions::prepare(b.bars, events.as_ref(), basis, &b.source)?;
            require(bars, &b.source, Policy::of(cfg))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((Market::new(checked)?, hash, sources))
}

/// The stamp of a result made under `loaded` from data hashed `data_hash` read from `files`.
pub fn stamp(loaded: &Loaded, data_hash: String, files: Vec<String>) -> Stamp {
    Stamp::new(data_hash, loaded.config.fingerprint(), files)
        .with_config_files(ConfigFile::of_files(&loaded.files))
}

/// A predictions file's series aligned to `market`, every row kept (see [`live_signals`]).
///
/// # Errors
/// [`ResearchError`] for a file that cannot be read or does not fit the bars.
pub fn read_signals(
    cfg: &QtsConfig,
    path: &Path,
    market: &Market,
) -> Result<SignalSeries, ResearchError> {
    let shown = path.display().to_string();
    let (signals, note) = qts_backtest::request::predictions(
        &read_csv_table_with(path, &cfg.data.limits)?,
        market,
        &shown,
    )?;
    if let Some(note) = note {
        tracing::info!("{note}");
    }
    Ok(signals)
}

/// The predictions a live decision follows: never the model's in-sample rows (as a signal
/// backtest by default), so a decision replays what the backtest traded.
///
/// # Errors
/// [`ResearchError::Backtest`] when every prediction is in-sample.
pub fn live_signals(all: SignalSeries, shown: &str) -> Result<SignalSeries, ResearchError> {
    let (kept, note) = qts_backtest::request::out_of_sample(all, false, shown)?;
    if let Some(note) = note {
        tracing::info!("{note}");
    }
    Ok(kept)
}

/// The day of the first prediction a decision may trade on.
pub fn first_signal_day(signals: &SignalSeries, market: &Market) -> Option<NaiveDate> {
    signals
        .span()
        .map(|(first, _)| market.bars()[0].time[first].date())
}

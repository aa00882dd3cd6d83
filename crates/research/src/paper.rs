//! The paper account's use cases — open, step, status, history — over the account file of
//! `paper.database`, as `qts paper …` and `qts.paper_*` call them. A step reads the bars up
//! to its close through a decision session ([`Session::live`]), so the account trades what
//! `qts decide` prints and what the backtest replays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use qts_backtest::Market;
use qts_backtest::strategy::SignalSeries;
use qts_config::Loaded;
use qts_paper::monitor::{ModelRecord, alert_for, deliver};
use qts_paper::{
    Account, AccountSpec, Delivery, HistoryRow, PaperError, Status, StepReport, StepRequest,
    settings_fingerprint,
};
use serde::Serialize;

use crate::error::ResearchError;
use crate::session::{LiveAsk, LiveData, Session, live_signals, read_signals};
use crate::track::Tracker;

/// The account file and how long to wait for its lock.
pub fn database(loaded: &Loaded) -> (PathBuf, Duration) {
    let p = &loaded.config.paper;
    (
        PathBuf::from(&p.database),
        Duration::from_secs_f64(p.lock_timeout_seconds),
    )
}

/// What a new account follows.
#[derive(Debug, Clone)]
pub struct OpenAsk {
    /// Starting cash (with `holdings`, their `CASH` line's instead).
    pub cash: f64,
    /// A real account's holdings to start from: the text of a `symbol,shares` CSV with a
    /// `CASH,amount` line (as `qts decide --holdings` reads), and its name for errors. The
    /// shares are held from the first step's close, valued at it.
    pub holdings: Option<(String, String)>,
    /// Bar files or symbols.
    pub inputs: Vec<String>,
    /// A registered strategy name.
    pub strategy: String,
    /// Its parameters.
    pub params: Vec<(String, String)>,
    /// A predictions file for the signal strategy.
    pub signals: Option<PathBuf>,
    /// Apply the risk overlays to a strategy that goes without them by default.
    pub overlays: bool,
    /// Use the cache as it is (no refresh of symbols).
    pub offline: bool,
    /// First day a refresh fetches.
    pub history_from: Option<NaiveDate>,
}

/// Files as absolute paths, so a scheduled step finds them from any directory.
fn absolute(input: &str) -> String {
    let p = Path::new(input);
    if p.is_file() {
        std::fs::canonicalize(p).map_or_else(|_| input.to_string(), |a| a.display().to_string())
    } else {
        input.to_string()
    }
}

/// Opens an account in `paper.database` following `ask`. The strategy is built once on the
/// data up to today, so a bad name, parameter or predictions file is refused now rather than
/// at the first step.
///
/// # Errors
/// [`ResearchError`]: data or a strategy that cannot be used, an account that already exists.
pub fn open(
    loaded: Arc<Loaded>,
    ask: &OpenAsk,
) -> Result<(PathBuf, AccountSpec, Status), ResearchError> {
    let today = chrono::Local::now().date_naive();
    let session = Session::live(
        Arc::clone(&loaded),
        LiveAsk {
            data: LiveData::Inputs {
                inputs: ask.inputs.clone(),
                offline: ask.offline,
                history_from: ask.history_from,
            },
            as_of: today,
            strategy: ask.strategy.clone(),
            params: ask.params.clone(),
            signals: ask.signals.clone(),
            overlays: ask.overlays,
        },
    )?;
    session.strategy()?;
    let (cash, holdings) = match &ask.holdings {
        None => (ask.cash, Vec::new()),
        Some((source, text)) => {
            let symbols: Vec<String> = session
                .market
                .bars()
                .iter()
                .map(|b| b.symbol.clone())
                .collect();
            let h = qts_backtest::decide::Holdings::parse(source, text, &symbols)?;
            let whole = !loaded.config.trading.fractional_shares;
            if let Some((symbol, x)) = h.shares.iter().find(|(_, x)| whole && x.fract() != 0.0) {
                return Err(ResearchError::Backtest(
                    qts_backtest::BacktestError::Config(format!(
                        "{source}: {x} shares of `{symbol}`, but the account trades whole shares (trading.fractional_shares: false)"
                    )),
                ));
            }
            if let Some((symbol, x)) = h
                .shares
                .iter()
                .find(|(_, x)| **x < 0.0 && !loaded.config.trading.allow_short)
            {
                return Err(ResearchError::Backtest(
                    qts_backtest::BacktestError::Config(format!(
                        "{source}: {x} shares of `{symbol}` (a short), but the account does not short (trading.allow_short: false)"
                    )),
                ));
            }
            let held = h.shares.into_iter().filter(|(_, x)| *x != 0.0).collect();
            (h.cash, held)
        }
    };
    let spec = AccountSpec {
        initial_cash: cash,
        strategy: ask.strategy.clone(),
        params: ask.params.clone(),
        signals: ask
            .signals
            .as_ref()
            .map(|p| absolute(&p.display().to_string())),
        data: ask.inputs.iter().map(|d| absolute(d)).collect(),
        settings: settings_fingerprint(&loaded.config),
        overlays: ask.overlays,
        holdings,
    };
    let (path, wait) = database(&loaded);
    let account = Account::init(&path, &spec, wait)?;
    let status = account.status()?;
    tracing::info!(database = %path.display(), cash, holdings = spec.holdings.len(), "paper account opened");
    Ok((path, spec, status))
}

/// A step asked for.
#[derive(Debug, Clone, Default)]
pub struct StepAsk {
    /// The close to step to (today when `None`).
    pub as_of: Option<NaiveDate>,
    /// Bar files or symbols in place of the account's own (a moved file).
    pub data: Vec<String>,
    /// Use the cache as it is.
    pub offline: bool,
    /// First day a refresh fetches.
    pub history_from: Option<NaiveDate>,
}

/// What a step did and what became of its alerts.
#[derive(Debug, Clone, Serialize)]
pub struct Stepped {
    /// The step.
    #[serde(flatten)]
    pub report: StepReport,
    /// Each alert's delivery.
    pub deliveries: Vec<Delivery>,
    /// The account file.
    #[serde(skip)]
    pub database: PathBuf,
}

/// Steps the account to the close asked for: the fills of the last decision, the marks, the
/// new decision, in one transaction ([`qts_paper::step()`]); alerts delivered; the step
/// tracked. A step refused for its data (stale, invalid) raises an alert too.
///
/// # Errors
/// [`ResearchError`]: no account, data that cannot be read, a refused step.
pub fn step(
    loaded: Arc<Loaded>,
    ask: &StepAsk,
    tracker: &Tracker<'_>,
) -> Result<Stepped, ResearchError> {
    let cfg = &loaded.config;
    let (path, wait) = database(&loaded);
    let mut account = Account::open(&path, false, wait)?;
    let spec = account.spec()?;
    let day = ask
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let monitoring = &cfg.monitoring;
    let data: Vec<String> = if ask.data.is_empty() {
        spec.data.clone()
    } else {
        ask.data.clone()
    };
    // The predictions are read below, every row for the model's record.
    let session = Session::live(
        Arc::clone(&loaded),
        LiveAsk {
            data: LiveData::Inputs {
                inputs: data,
                offline: ask.offline,
                history_from: ask.history_from,
            },
            as_of: day,
            strategy: spec.strategy.clone(),
            params: spec.params.clone(),
            signals: None,
            overlays: spec.overlays,
        },
    );
    let session = match session {
        Ok(s) => s,
        Err(e) => {
            if let ResearchError::Data(qts_data::DataError::Invalid { path, first }) = &e {
                raise(
                    &PaperError::Data(qts_data::DataError::Invalid {
                        path: path.clone(),
                        first: first.clone(),
                    }),
                    day,
                    monitoring,
                );
            }
            return Err(e);
        }
    };
    // A signal account's predictions are read once: every row for the model's record, the
    // out-of-sample ones for the strategy.
    let full = match &spec.signals {
        Some(p) if qts_backtest::strategy::Registry::builtin().needs_signals(&spec.strategy) => {
            Some(read_signals(cfg, Path::new(p), &session.market)?)
        }
        _ => None,
    };
    let model = match &full {
        Some(signals) => model_record(
            &account,
            signals,
            &session.market,
            day,
            monitoring.model_window,
        )?,
        None => None,
    };
    let signals = match (full, &spec.signals) {
        (Some(all), Some(p)) => Some(live_signals(all, p)?),
        _ => None,
    };
    let mut strategy = session.build(&spec.strategy, &spec.params, signals)?;
    let fingerprint = settings_fingerprint(cfg);
    let started = std::time::Instant::now();
    let report = match qts_paper::step(
        &mut account,
        StepRequest {
            as_of: day,
            market: &session.market,
            strategy: strategy.as_mut(),
            settings: &session.settings,
            settings_fingerprint: &fingerprint,
            stale_after_days: monitoring.stale_data_alert_days,
            stamp: session.stamp.clone(),
            model,
        },
        monitoring,
        wait.as_secs_f64(),
    ) {
        Ok(r) => r,
        Err(e) => {
            raise(&e, day, monitoring);
            return Err(e.into());
        }
    };
    tracing::info!(
        day = %report.day,
        equity = report.equity,
        fills = report.fills.len(),
        orders = report.decision.orders.len(),
        micros = started.elapsed().as_micros() as u64,
        "paper step applied"
    );
    let deliveries = deliver(&report.alerts, monitoring)?;
    for d in deliveries.iter().filter(|d| d.delivered) {
        account.mark_delivered(&report.day, &d.kind)?;
    }
    tracker.paper_step(&path.display().to_string(), &report)?;
    Ok(Stepped {
        report,
        deliveries,
        database: path,
    })
}

/// The live record of the model behind a signal account: its out-of-sample forecasts since
/// the account opened against its own validation rows (both from the predictions file).
fn model_record(
    account: &Account,
    signals: &SignalSeries,
    market: &Market,
    day: NaiveDate,
    window: usize,
) -> Result<Option<ModelRecord>, ResearchError> {
    let time = &market.bars()[0].time;
    let last = time.partition_point(|t| t.date() <= day).saturating_sub(1);
    let first = account
        .status()?
        .first_day
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .map_or(last, |d| time.partition_point(|t| t.date() < d));
    Ok(qts_paper::monitor::model_record(
        signals,
        &market.bars()[0].close,
        first,
        last,
        window,
    ))
}

/// A step refused (for its data, or by the account) is an alert too.
fn raise(e: &PaperError, day: NaiveDate, monitoring: &qts_config::MonitoringConfig) {
    if let Some(alert) = alert_for(e, &day.to_string(), monitoring)
        && let Err(w) = deliver(std::slice::from_ref(&alert), monitoring)
    {
        tracing::error!("{w}");
    }
}

/// The account's status.
///
/// # Errors
/// [`ResearchError::Paper`]: no account, a file that is not one.
pub fn status(loaded: &Loaded) -> Result<Status, ResearchError> {
    let (path, wait) = database(loaded);
    Ok(Account::open(&path, false, wait)?.status()?)
}

/// Every step the account took.
///
/// # Errors
/// As [`status`].
pub fn history(loaded: &Loaded) -> Result<Vec<HistoryRow>, ResearchError> {
    let (path, wait) = database(loaded);
    Ok(Account::open(&path, false, wait)?.history()?)
}

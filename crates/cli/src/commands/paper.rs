//! `qts paper init|step|status|history`: flags → [`qts_paper`] → a summary.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use comfy_table::Table;
use qts_config::Loaded;
use qts_core::logging::{LogGuard, RunContext};
use qts_paper::monitor::{alert_for, deliver};
use qts_paper::{Account, AccountSpec, PaperError, StepRequest, settings_fingerprint};

use super::backtest::parse_params;
use super::decide::{
    as_of, build_strategy, build_with_signals, inputs, live_settings, live_signals, read_signals,
    read_through, render,
};
use super::setup::{load_config, start_logging};
use crate::cli::{
    GlobalArgs, PaperCommand, PaperHistoryArgs, PaperInitArgs, PaperStatusArgs, PaperStepArgs,
    SectionFiles,
};
use crate::failure::Failure;

impl From<PaperError> for Failure {
    fn from(e: PaperError) -> Self {
        if e.is_input() {
            Failure::Input(e.into())
        } else {
            Failure::Runtime(e.into())
        }
    }
}

/// Runs a `qts paper` command.
pub fn run(global: &GlobalArgs, command: &PaperCommand) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let guard = start_logging(global, &loaded)?;
    let span = RunContext::new("paper").span();
    let _run = span.enter();
    match command {
        PaperCommand::Init(args) => init(&loaded, args),
        PaperCommand::Step(args) => step(&loaded, args, guard),
        PaperCommand::Status(args) => status(&loaded, args),
        PaperCommand::History(args) => history(&loaded, args),
    }
}

fn database(loaded: &Loaded) -> (PathBuf, Duration) {
    let p = &loaded.config.paper;
    (
        PathBuf::from(&p.database),
        Duration::from_secs_f64(p.lock_timeout_seconds),
    )
}

fn out(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(v).map_err(|e| Failure::Runtime(e.into()))? + "\n")
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

fn init(loaded: &Loaded, args: &PaperInitArgs) -> Result<(), Failure> {
    let cfg = &loaded.config;
    let data = inputs(&args.live);
    let params = parse_params(&args.strategy.params)?;
    // The strategy is built once on the data now, so a bad name, parameter or signals file is
    // refused at init rather than at the first step.
    let today = chrono::Local::now().date_naive();
    let live = read_through(
        loaded,
        &data,
        today,
        args.live.offline,
        args.live.history_from,
    )?;
    build_strategy(
        cfg,
        args.strategy.name(),
        &params,
        args.strategy.signals.as_deref(),
        &live.market,
    )?;
    let spec = AccountSpec {
        initial_cash: args.cash,
        strategy: args.strategy.name().to_string(),
        params,
        signals: args
            .strategy
            .signals
            .as_ref()
            .map(|p| absolute(&p.display().to_string())),
        data: data.iter().map(|d| absolute(d)).collect(),
        settings: settings_fingerprint(cfg),
        overlays: args.strategy.overlays,
    };
    let (path, wait) = database(loaded);
    let account = Account::init(&path, &spec, wait)?;
    let status = account.status()?;
    tracing::info!(database = %path.display(), cash = args.cash, "paper account opened");
    if args.json {
        return out(&json(&status)?);
    }
    out(&format!(
        "Opened a paper account in {} with {:.2} cash, following {} on {}.\n\
         Step it after each close: qts paper step [--as-of DATE] [--offline]\n",
        path.display(),
        args.cash,
        spec.strategy,
        spec.data.join(", ")
    ))
}

fn step(loaded: &Loaded, args: &PaperStepArgs, _guard: LogGuard) -> Result<(), Failure> {
    let cfg = &loaded.config;
    let (path, wait) = database(loaded);
    let mut account = Account::open(&path, false, wait)?;
    let spec = account.spec()?;
    let day = as_of(args.as_of);
    let monitoring = &cfg.monitoring;
    let data: Vec<String> = if args.data.is_empty() {
        spec.data.clone()
    } else {
        args.data.iter().map(|p| p.display().to_string()).collect()
    };
    let live = match read_through(loaded, &data, day, args.offline, args.history_from) {
        Ok(l) => l,
        Err(f) => {
            if let Some(e) = data_error(&f) {
                raise(&e, day, monitoring);
            }
            return Err(f);
        }
    };
    // A signal account's predictions are read once: every row for the model's record, the
    // out-of-sample ones for the strategy.
    let full = match (&spec.signals, spec.strategy.as_str()) {
        (Some(path), "signal") => Some(read_signals(Path::new(path), &live.market)?),
        _ => None,
    };
    let model = match &full {
        Some(signals) => model_record(
            &account,
            signals,
            &live.market,
            day,
            monitoring.model_window,
        )?,
        None => None,
    };
    let signals = match (full, &spec.signals) {
        (Some(all), Some(path)) => Some(live_signals(all, path)?),
        _ => None,
    };
    let mut strategy =
        build_with_signals(cfg, &spec.strategy, &spec.params, signals, &live.market)?;
    let settings = live_settings(cfg, &spec.strategy, spec.overlays)?;
    let fingerprint = settings_fingerprint(cfg);
    let started = Instant::now();
    let start_ms = super::track::now_ms();
    let report = match qts_paper::step(
        &mut account,
        StepRequest {
            as_of: day,
            market: &live.market,
            strategy: strategy.as_mut(),
            settings: &settings,
            settings_fingerprint: &fingerprint,
            stale_after_days: monitoring.stale_data_alert_days,
            stamp: live.stamp,
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
    super::track::paper_step(loaded, &path.display().to_string(), &report, start_ms)?;
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| Failure::Runtime(e.into()))?;
        v["deliveries"] = serde_json::to_value(&deliveries).unwrap_or_default();
        return out(&json(&v)?);
    }
    let mut text = format!(
        "Stepped {} to {}: equity {:.2} ({:+.2}% on the day, P&L {:+.2} since it opened)\n",
        path.display(),
        report.day,
        report.equity,
        100.0 * report.day_return,
        report.pnl
    );
    if report.fills.is_empty() {
        text.push_str("No fills since the last step.\n");
    } else {
        let mut t = Table::new();
        t.set_header(vec![
            "day",
            "symbol",
            "shares",
            "price",
            "commission",
            "reason",
        ]);
        for f in &report.fills {
            t.add_row(vec![
                f.day.clone(),
                f.symbol.clone(),
                f.shares.to_string(),
                format!("{:.4}", f.price),
                format!("{:.2}", f.commission),
                f.reason.clone(),
            ]);
        }
        text.push_str(&format!("Fills:\n{t}\n"));
    }
    for a in &report.alerts {
        text.push_str(&format!("ALERT {}: {}\n", a.kind, a.message));
    }
    text.push_str(&render(&report.decision));
    out(&text)
}

/// The live record of the model behind a signal account: its out-of-sample forecasts since
/// the account opened against its own validation rows (both from the predictions file).
fn model_record(
    account: &Account,
    signals: &qts_backtest::strategy::SignalSeries,
    market: &qts_backtest::Market,
    day: chrono::NaiveDate,
    window: usize,
) -> Result<Option<qts_paper::monitor::ModelRecord>, Failure> {
    let time = &market.bars()[0].time;
    let last = time.partition_point(|t| t.date() <= day).saturating_sub(1);
    let first = account
        .status()?
        .first_day
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map_or(last, |d| time.partition_point(|t| t.date() < d));
    Ok(qts_paper::monitor::model_record(
        signals,
        &market.bars()[0].close,
        first,
        last,
        window,
    ))
}

/// A step refused for its data (stale, invalid) is an alert too.
fn raise(e: &PaperError, day: chrono::NaiveDate, monitoring: &qts_config::MonitoringConfig) {
    if let Some(alert) = alert_for(e, &day.to_string(), monitoring)
        && let Err(w) = deliver(std::slice::from_ref(&alert), monitoring)
    {
        tracing::error!("{w}");
    }
}

/// The data error inside a failure to read the bars, as a paper error (for its alert).
fn data_error(f: &Failure) -> Option<PaperError> {
    let e = match f {
        Failure::Input(e) | Failure::Runtime(e) => e,
        Failure::Verdict => return None,
    };
    match e.downcast_ref::<qts_data::DataError>() {
        Some(qts_data::DataError::Invalid { path, first }) => {
            Some(PaperError::Data(qts_data::DataError::Invalid {
                path: path.clone(),
                first: first.clone(),
            }))
        }
        _ => None,
    }
}

fn status(loaded: &Loaded, args: &PaperStatusArgs) -> Result<(), Failure> {
    let (path, wait) = database(loaded);
    let s = Account::open(&path, false, wait)?.status()?;
    if args.json {
        return out(&json(&s)?);
    }
    let mut text = format!(
        "Paper account {} · {} {} · opened with {:.2}\n\
         last step {} ({} steps) · equity {:.2} · cash {:.2} · P&L {:+.2} ({:+.2}%) · drawdown {:.2}% from a peak of {:.2} · alerts {}\n",
        s.database,
        s.strategy,
        s.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        s.initial_cash,
        s.last_day.as_deref().unwrap_or("none yet"),
        s.steps,
        s.equity,
        s.cash,
        s.pnl,
        100.0 * s.total_return,
        100.0 * s.drawdown,
        s.peak_equity,
        s.alerts
    );
    let mut t = Table::new();
    t.set_header(vec![
        "symbol",
        "shares",
        "avg entry",
        "close",
        "value",
        "unrealized P&L",
    ]);
    for p in &s.positions {
        t.add_row(vec![
            p.symbol.clone(),
            p.shares.to_string(),
            p.avg_entry.map_or("-".into(), |x| format!("{x:.4}")),
            format!("{:.2}", p.close),
            format!("{:.2}", p.value),
            format!("{:+.2}", p.unrealized_pnl),
        ]);
    }
    text.push_str(&format!("{t}\n"));
    if s.open_orders.is_empty() {
        text.push_str("No open orders.\n");
    } else {
        let mut t = Table::new();
        t.set_header(vec![
            "symbol", "side", "shares", "type", "tif", "reason", "decided",
        ]);
        for o in &s.open_orders {
            t.add_row(vec![
                o.symbol.clone(),
                o.side.clone(),
                o.shares.to_string(),
                o.order_type.clone(),
                o.time_in_force.clone(),
                o.reason.clone(),
                o.decided.clone(),
            ]);
        }
        text.push_str(&format!("Open orders:\n{t}\n"));
    }
    out(&text)
}

fn history(loaded: &Loaded, args: &PaperHistoryArgs) -> Result<(), Failure> {
    let (path, wait) = database(loaded);
    let rows = Account::open(&path, false, wait)?.history()?;
    let csv = qts_paper::history_csv(&rows);
    if args.out.as_os_str() == "-" {
        return out(&csv);
    }
    qts_core::fs::write_atomic(&args.out, csv.as_bytes())
        .map_err(|e| Failure::Runtime(anyhow!("{}: cannot write: {e}", args.out.display())))?;
    out(&format!(
        "wrote {} step(s) to {}\n",
        rows.len(),
        args.out.display()
    ))
}

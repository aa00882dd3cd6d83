//! What a backtest request settles before the engine starts, whatever front end made it (the
//! CLI, `qts run`, `qts decide`, the Python package): which predictions may be traded, the
//! span they cover, and which risk overlays apply to the strategy chosen.

use chrono::NaiveDateTime;

use crate::engine::Execution;
use crate::error::BacktestError;
use crate::report::{BacktestReport, Benchmark, Market, Settings, Stamp, Window, backtest};
use crate::strategy::registry::Inputs;
use crate::strategy::{Registry, SignalSeries};

/// What a backtesting command asks for besides the data: the strategy by name, the
/// predictions read for it, the execution rules, the window and the overlay and in-sample
/// choices.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// A registered strategy name.
    pub strategy: &'a str,
    /// The predictions table and where it was read (used by the `signal` strategy only).
    pub signals: Option<(&'a qts_data::io::Table, &'a str)>,
    /// Execution rules.
    pub execution: Execution,
    /// The window asked for.
    pub window: Window,
    /// Apply the risk overlays even to a strategy that holds the account whole.
    pub overlays: bool,
    /// Trade in-sample predictions too (marked).
    pub allow_in_sample: bool,
}

/// A request made ready on checked data: the predictions planned, the settings in force, and
/// what the reader of the result must be told.
#[derive(Debug, Clone)]
pub struct Ready {
    /// Predictions to trade (the signal strategy).
    pub signals: Option<SignalSeries>,
    /// Engine, metrics and window.
    pub settings: Settings,
    /// Whether in-sample predictions are traded.
    pub in_sample: bool,
    /// What shaped the result.
    pub notes: Vec<String>,
}

/// Readies `ask` on `market` under `cfg`, as every front end does before a backtest, a
/// search or a walk-forward: predictions aligned and planned ([`plan_signals`]), the
/// configuration's settings under the execution rules with the window, and the overlays as
/// the strategy declares ([`Settings::overlays_for`]).
///
/// # Errors
/// [`BacktestError`] for predictions that cannot be traded or an unknown strategy.
pub fn ready(
    market: &Market,
    cfg: &dyn crate::settings::BacktestSettings,
    ask: Ask<'_>,
) -> Result<Ready, BacktestError> {
    let mut notes = Vec::new();
    let mut in_sample = false;
    let mut window = ask.window;
    let signals = match ask.signals {
        Some((table, source)) if Registry::builtin().needs_signals(ask.strategy) => {
            let time = &market.bars()[0].time;
            let (all, note) = predictions(table, market, source)?;
            notes.extend(note);
            let plan = plan_signals(all, ask.allow_in_sample, source, time, window)?;
            in_sample = plan.in_sample;
            notes.extend(plan.notes);
            window = plan.window;
            Some(plan.signals)
        }
        _ => None,
    };
    let mut settings = Settings {
        window,
        ..Settings::from_config(cfg, ask.execution)
    };
    notes.extend(settings.overlays_for(ask.strategy, ask.overlays)?);
    Ok(Ready {
        signals,
        settings,
        in_sample,
        notes,
    })
}

/// The predictions of `table` (read from `source`) on `market`'s calendar: the long format
/// (`date,symbol,prediction…`, one column per symbol of the market) when the table has a
/// `symbol` column, else one symbol's column; and a note naming the file's symbols the market
/// lacks.
///
/// # Errors
/// [`BacktestError::Input`] naming `source` for predictions that cannot be read.
pub fn predictions(
    table: &qts_data::io::Table,
    market: &Market,
    source: &str,
) -> Result<(SignalSeries, Option<String>), BacktestError> {
    let time = &market.bars()[0].time;
    if table.label("symbol").is_some() {
        let symbols: Vec<&str> = market.bars().iter().map(|b| b.symbol.as_str()).collect();
        SignalSeries::from_long_table(table, time, &symbols, source)
    } else {
        Ok((SignalSeries::from_table(table, time, source)?, None))
    }
}

/// Predictions made ready to trade: the out-of-sample ones (or all, when asked), the window
/// they span, and what the reader of the result should be told about both.
#[derive(Debug, Clone)]
pub struct SignalPlan {
    /// The predictions traded.
    pub signals: SignalSeries,
    /// The window traded: the one asked for, or the predictions' span where none was given.
    pub window: Window,
    /// Whether in-sample predictions are traded (allowed, and some were).
    pub in_sample: bool,
    /// What shaped the result.
    pub notes: Vec<String>,
}

/// Readies `all`, the predictions read from `source`, for a backtest over bars at `time`:
/// in-sample rows dropped unless `allow_in_sample` (see [`out_of_sample`]), and where
/// `window` leaves a side open, the predictions' span traded rather than years of flat cash
/// around it.
///
/// # Errors
/// [`BacktestError::Input`] naming `source` when no prediction is left to trade.
pub fn plan_signals(
    all: SignalSeries,
    allow_in_sample: bool,
    source: &str,
    time: &[NaiveDateTime],
    window: Window,
) -> Result<SignalPlan, BacktestError> {
    let (signals, note) = out_of_sample(all, allow_in_sample, source)?;
    let in_sample = allow_in_sample && note.is_some();
    let mut notes: Vec<String> = note.into_iter().collect();
    let asked = window;
    let mut window = window;
    if let (Some((first, last)), false) = (signals.span(), time.is_empty()) {
        let to = time[(last + 1).min(time.len() - 1)].date();
        if window.from.is_none() && first > 0 {
            window.from = Some(time[first].date());
        }
        // The bar the last decision fills on is traded too.
        if window.to.is_none() && last + 1 < time.len() - 1 {
            window.to = Some(to);
        }
        if window != asked {
            notes.push(format!(
                "traded the span of the predictions: {} .. {} (--from/--to choose another)",
                window.from.unwrap_or(time[0].date()),
                window.to.unwrap_or(time[time.len() - 1].date())
            ));
        }
    }
    Ok(SignalPlan {
        signals,
        window,
        in_sample,
        notes,
    })
}

/// The predictions a backtest may trade: those of the model's test split and later, unless
/// `allow` (then the in-sample ones too, with a note saying so). The note says what was
/// dropped or kept.
///
/// # Errors
/// [`BacktestError::Input`] naming `path` when every prediction is in-sample and `allow` is
/// false.
pub fn out_of_sample(
    signals: SignalSeries,
    allow: bool,
    path: &str,
) -> Result<(SignalSeries, Option<String>), BacktestError> {
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
        return Err(BacktestError::Input {
            path: path.to_string(),
            reason: format!(
                "every prediction is of the model's training or validation rows ({inside}); predict the test split or later (`qts models show` lists the split dates), or pass --allow-in-sample to trade them, marked in-sample"
            ),
        });
    }
    Ok((
        kept,
        Some(format!(
            "dropped {inside} in-sample prediction(s) of {path} (the model's training and validation rows); --allow-in-sample trades them"
        )),
    ))
}

impl Settings {
    /// Drops the risk overlays for a strategy that holds the account whole (buy-and-hold)
    /// unless `overlays` asks for them; returns the note that says so.
    ///
    /// # Errors
    /// [`BacktestError::UnknownStrategy`] for a name the registry does not hold.
    pub fn overlays_for(
        &mut self,
        strategy: &str,
        overlays: bool,
    ) -> Result<Option<String>, BacktestError> {
        let registry = Registry::builtin();
        let entry = registry.entry(strategy)?;
        self.engine.strategy_weights = entry.sizes;
        let declared = entry.overlays;
        if declared || overlays || self.engine.execution != Execution::Default {
            return Ok(None);
        }
        self.engine = self.engine.clone().without_overlays();
        Ok(Some(format!(
            "{strategy} holds the whole account: no volatility sizing, position cap, stops, breaker or rebalancing (--overlays applies backtest_config.yaml's)"
        )))
    }
}

/// A backtest as every front end asks for it: the data, a strategy by registered name with
/// its parameters as text, the predictions for the signal strategy, the settings and the
/// provenance.
pub struct Request<'a> {
    /// The checked, aligned bars.
    pub market: &'a Market,
    /// A registered strategy name.
    pub strategy: &'a str,
    /// Its parameters, `KEY`/`VALUE` as the user wrote them.
    pub params: &'a [(String, String)],
    /// Predictions (the signal strategy).
    pub signals: Option<SignalSeries>,
    /// `backtest.regime_filter`.
    pub regime: &'a crate::settings::RegimeFilterConfig,
    /// Engine, metrics, window.
    pub settings: &'a Settings,
    /// Returns to measure against.
    pub benchmark: Option<Benchmark<'a>>,
    /// Provenance.
    pub stamp: Stamp,
    /// Whether in-sample predictions are traded ([`SignalPlan::in_sample`]).
    pub in_sample: bool,
    /// What shaped the result ([`SignalPlan::notes`], [`Settings::overlays_for`]).
    pub notes: Vec<String>,
}

/// Builds the strategy and runs the backtest the request describes.
///
/// # Errors
/// [`BacktestError`] for an unknown strategy or parameter, missing predictions, or a window
/// or benchmark that does not fit the data.
pub fn run(request: Request<'_>) -> Result<BacktestReport, BacktestError> {
    // A universe's forecasts are kept for the rank IC of the result.
    let forecasts = (request.market.bars().len() > 1)
        .then(|| request.signals.clone())
        .flatten();
    let mut inputs = Inputs {
        symbols: request.market.bars().len(),
        signals: request.signals,
    };
    let mut strategy = Registry::builtin().build(
        request.strategy,
        request.params,
        &mut inputs,
        request.regime,
    )?;
    let mut report = backtest(
        request.market,
        strategy.as_mut(),
        request.settings,
        request.benchmark,
        request.stamp,
    )?;
    report.in_sample = request.in_sample;
    report.notes = request.notes;
    // The trading's part was measured by `backtest`; the forecasts add the rank IC.
    if let (Some(signals), Some(universe)) = (&forecasts, report.universe.as_mut()) {
        let from = report.result.first_bar;
        universe.add_forecasts(
            request.market.bars(),
            signals,
            from,
            from + report.result.equity.len(),
        );
    }
    Ok(report)
}

//! A registered model's decision: its forecasts up to the close, through the feature pipeline
//! saved with it, followed by the signal strategy — then the same decision as any strategy's
//! ([`qts_research::Session::decide`]). What `qts decide --model` and `qts_torch.decide` call.

use qts_backtest::decide::Decision;
use qts_backtest::strategy::SignalSeries;
use qts_core::config::Environment;
use qts_core::logging::RunContext;
use qts_models::forecast::{ForecastRequest, Inputs, forecast};
use qts_models::pipeline::Pipeline;
use qts_research::session::{Session, first_signal_day, live_signals};

use crate::error::JobError;

/// How the model forecasts for the decision.
#[derive(Debug, Clone)]
pub struct ModelDecision {
    /// `NAME`, `NAME@VERSION` or `NAME@ALIAS` (local registry, else MLflow's).
    pub model: String,
    /// Average the ensemble members saved with the version.
    pub ensemble: bool,
    /// MC-dropout samples for an interval (0: none).
    pub mc_dropout: usize,
    /// The interval's coverage.
    pub level: f64,
}

/// The decision of `ask.model` at the close of the decision session `session` (one symbol,
/// the signal strategy with the session's parameters).
///
/// # Errors
/// [`JobError`]: not a decision session, several symbols, a strategy other than `signal`, a
/// model that cannot compute its inputs from bars (imported without a pipeline, trained on
/// adjusted prices the data lacks), the forecast's and the decision's errors.
pub fn decide_with_model(
    session: &Session,
    ask: &ModelDecision,
    env: &Environment,
) -> Result<Decision, JobError> {
    let cfg = session.config();
    let Some(live) = session.live else {
        return Err(JobError::input(
            "a decision needs a decision session (Session::live): the bars up to a close",
        ));
    };
    if !qts_backtest::strategy::Registry::builtin().needs_signals(&session.strategy) {
        return Err(JobError::input(format!(
            "a model is followed by the signal strategy; the strategy {} takes no model",
            session.strategy
        )));
    }
    if session.market.bars().len() != 1 {
        return Err(JobError::input(
            "a model decides for one symbol: give one data file or symbol",
        ));
    }
    let (registry, card) = crate::registry::find(cfg, &ask.model)?;
    let dir = registry.version_dir(&card.name, card.version);
    let span = RunContext::new("decide")
        .model_type(card.architecture.clone())
        .span();
    let _run = span.enter();
    let model = crate::registry::saved_config(env, &dir)?;
    let Some(pipeline) = Pipeline::read(&dir)? else {
        return Err(JobError::input(format!(
            "{}@{} was imported without a feature pipeline: it cannot compute its inputs from bars",
            card.name, card.version
        )));
    };
    let given = &session.market.bars()[0];
    let bars = if pipeline.adjust {
        if given.adj_close.is_none() {
            return Err(JobError::input(format!(
                "{}@{} was trained on adjusted prices and {} has no adj_close column",
                card.name,
                card.version,
                session
                    .stamp
                    .files
                    .first()
                    .map_or("the data", String::as_str)
            )));
        }
        given.adjusted()
    } else {
        // A decision reads raw prices with their actions: the model reads them on its basis.
        qts_data::actions::on_basis(given.clone(), pipeline.basis.unwrap_or_default())
            .map_err(|e| JobError::input(e.to_string()))?
    };
    let (time, values) = pipeline.inputs(&bars)?;
    // Forecasts up to the close only: the same column a signal backtest of this day reads.
    let predictions = forecast(
        &ForecastRequest {
            registry: &registry,
            card: &card,
            model: &model,
            compute: &cfg.compute,
            // In-sample rows are never traded: no need to predict them.
            from: card.splits.as_ref().and_then(|s| s.test.start.parse().ok()),
            to: Some(live.as_of),
            ensemble: ask.ensemble,
            mc_samples: ask.mc_dropout,
            level: ask.level,
            seed: cfg.reproducibility.seed,
            data_name: session.stamp.files.first().map_or("", String::as_str),
        },
        &Inputs { time, values },
    )?;
    let signals = live_signals(
        SignalSeries::from_table(&predictions, &given.time, &ask.model)?,
        &ask.model,
    )?;
    let trade_from = first_signal_day(&signals, &session.market);
    let mut strategy = session.build("signal", &session.params, Some(signals))?;
    Ok(session.decide_from(strategy.as_mut(), trade_from)?)
}

//! A model walked forward. On each train window the model is trained from scratch (its purged
//! train/validation/test split inside the window, normalisation fitted on that window's
//! training rows only) and registered; its forecasts of the test window are traded with the
//! signal strategy and the configured sizing, risk and schedule, by the same walk as a
//! strategy's ([`qts_research::walk_forward::walk`]).

use chrono::NaiveDateTime;
use qts_backtest::report::{Settings, Window, backtest};
use qts_backtest::strategy::SignalSeries;
use qts_models::fit::{SymbolBars, TrainRequest, train_model};
use qts_models::forecast::{ForecastRequest, Inputs, forecast};
use qts_models::pipeline::Pipeline;
use qts_models::{ModelCard, ModelRef, Registry};
use qts_research::Progress;
use qts_research::session::Session;
use qts_research::walk_forward::{Fold, Schedule, Span, WalkForwardReport, walk};
use qts_stats::metrics::Metric;

use crate::error::JobError;

/// One forecast: the bar it was made at the close of, and the prediction.
pub type Forecast = (NaiveDateTime, f64);

/// What trains each window's model and forecasts with it.
pub struct Folds<'a> {
    /// The session: one symbol's market, the settings, the stamp, the signal strategy's
    /// parameters.
    pub session: &'a Session,
    /// Registry name of the fold models.
    pub name: String,
    /// The data file, for messages.
    pub source: String,
    /// The metric in and out of sample.
    pub maximize: Metric,
    /// Where the fold models are registered.
    pub registry: Registry,
    /// Hears the training runs (their log lines are written with the display out of the way).
    pub progress: &'a dyn Progress,
}

impl Folds<'_> {
    /// Trains a model on bars `a ..= b` (the bars before `a` only warm the features up) and
    /// forecasts every bar from `a` to `to` (each from the bars up to it).
    ///
    /// # Errors
    /// [`JobError`] for a training or inference failure.
    pub fn train_and_forecast(
        &self,
        label: &str,
        (a, b): (usize, usize),
        to: usize,
    ) -> Result<(ModelCard, Vec<Forecast>), JobError> {
        let cfg = self.session.config();
        let bars = &self.session.market.bars()[0];
        let day = |i: usize| bars.time[i].date();
        // The model sees the bars up to its train window's end and nothing after.
        let request = TrainRequest {
            config: cfg,
            name: self.name.clone(),
            data: vec![SymbolBars {
                symbol: bars.symbol.clone(),
                source: self.source.clone(),
                bars: bars.through(day(b)),
            }],
            data_name: format!("{} ({label}: {} .. {})", self.source, day(a), day(b)),
            data_hash: qts_core::hex::sha256(
                format!("{}:{}:{}", self.session.stamp.data_hash, day(a), day(b)).as_bytes(),
            ),
            adjust: false,
            seeds: 1,
            resume: false,
            git_commit: qts_core::provenance::git_commit(),
            from: Some(day(a)),
        };
        let mut trained = None;
        self.progress
            .suspend(&mut || trained = Some(train_model(&request, &mut ())));
        let trained =
            trained.unwrap_or_else(|| Err(qts_models::ModelError::Input("not trained".into())))?;
        let card = self.registry.card(&ModelRef {
            name: self.name.clone(),
            at: Some(trained.version.to_string()),
        })?;
        let dir = self.registry.version_dir(&card.name, card.version);
        let Some(pipeline) = Pipeline::read(&dir)? else {
            return Err(JobError::runtime(format!(
                "{}@{} was registered without its pipeline",
                card.name, card.version
            )));
        };
        // Inputs up to `to`: a forecast at bar t reads bars up to t only.
        let (time, values) = pipeline.inputs(&bars.through(day(to)))?;
        let predictions = forecast(
            &ForecastRequest {
                registry: &self.registry,
                card: &card,
                model: &cfg.model,
                compute: &cfg.compute,
                from: Some(day(a)),
                to: Some(day(to)),
                ensemble: false,
                mc_samples: 0,
                level: 0.9,
                seed: cfg.reproducibility.seed,
                data_name: &self.source,
            },
            &Inputs { time, values },
        )?;
        let pred = predictions.column("prediction").unwrap_or_default();
        let rows = predictions
            .time
            .iter()
            .copied()
            .zip(pred.iter().copied())
            .collect();
        Ok((card, rows))
    }

    /// A window's fold: its model trained on the train window, its in-sample metric (the
    /// model's forecasts of its own train window, traded), and the strategy that trades its
    /// forecasts of the test window; with those forecasts.
    ///
    /// # Errors
    /// As [`Folds::train_and_forecast`], and the in-sample backtest's errors.
    pub fn fold(&self, span: Span) -> Result<(Fold, Vec<Forecast>), JobError> {
        let s = self.session;
        let bars = &s.market.bars()[0];
        let b = span.train.1;
        let end = bars.time[b].date();
        let (card, rows) =
            self.train_and_forecast(&format!("window {}", span.window), span.train, span.test.1)?;
        let signal = |keep: &dyn Fn(chrono::NaiveDate) -> bool| -> Vec<_> {
            rows.iter()
                .filter(|(t, _)| keep(t.date()))
                .map(|(t, v)| (*t, *v, None, None))
                .collect()
        };
        let inside = signal(&|t| t <= end);
        let outside = signal(&|t| t > end);
        // In sample: the model's forecasts of its own train window, traded the same way.
        let (in_sample, in_sample_annual_return) = match inside.first() {
            Some(first) if inside.len() >= 2 => {
                let settings = Settings {
                    window: Window {
                        from: Some(first.0.date()),
                        to: Some(end),
                    },
                    ..s.settings.clone()
                };
                let mut strategy = s.build(
                    "signal",
                    &s.params,
                    Some(SignalSeries::align(&bars.time, &inside)),
                )?;
                let r = backtest(
                    &s.market,
                    strategy.as_mut(),
                    &settings,
                    None,
                    s.stamp.clone(),
                )?;
                let get = |k: &str| r.metrics.get(k).map(|v| v.as_f64());
                (
                    get(self.maximize.key()),
                    get("annual_return").unwrap_or(f64::NAN),
                )
            }
            _ => (None, f64::NAN),
        };
        let strategy = s.build(
            "signal",
            &s.params,
            Some(SignalSeries::align(&bars.time, &outside)),
        )?;
        tracing::info!(
            window = span.window,
            model = %format!("{}@{}", card.name, card.version),
            val_loss = card.metrics.get("val_loss").copied().unwrap_or(f64::NAN),
            "fold trained"
        );
        let tested = rows.into_iter().filter(|(t, _)| t.date() > end).collect();
        Ok((
            Fold {
                strategy,
                label: format!("model={}@{}", card.name, card.version),
                in_sample,
                in_sample_annual_return,
            },
            tested,
        ))
    }
}

/// A model walked forward, as asked.
#[derive(Debug, Clone)]
pub struct ModelWalk {
    /// The windows.
    pub schedule: Schedule,
    /// The metric in and out of sample.
    pub maximize: Metric,
    /// Registry name of the window models (`<model.name>-wf` for `qts walk-forward`).
    pub name: String,
    /// The data file, for messages and the models' cards.
    pub source: String,
}

/// What a model walk-forward gives: the walk, and every test window's forecasts in order.
pub struct WalkedModel {
    /// The walk, as `qts walk-forward --json` prints it.
    pub report: WalkForwardReport,
    /// The out-of-sample forecasts, window after window.
    pub forecasts: Vec<Forecast>,
}

/// Walks the model of the session's configuration forward over `ask.schedule` (one symbol;
/// the signal strategy trades the forecasts).
///
/// # Errors
/// [`JobError`]: more than one symbol, a bad registry name, the windows' and the training's
/// errors, [`qts_research::ResearchError::Cancelled`].
pub fn walk_model(
    session: &Session,
    ask: &ModelWalk,
    progress: &dyn Progress,
) -> Result<WalkedModel, JobError> {
    if session.market.bars().len() != 1 {
        return Err(JobError::input(
            "a model walks one symbol forward: give one data file",
        ));
    }
    qts_models::registry::check_name(&ask.name)?;
    let folds = Folds {
        session,
        name: ask.name.clone(),
        source: ask.source.clone(),
        maximize: ask.maximize,
        registry: Registry::new(&session.config().registry.directory),
        progress,
    };
    let mut forecasts = Vec::new();
    let report = walk(
        &session.market,
        &session.settings,
        &ask.schedule,
        ask.maximize,
        &session.stamp,
        &mut |span: Span| {
            let (fold, rows) = folds.fold(span)?;
            forecasts.extend(rows);
            Ok::<Fold, JobError>(fold)
        },
        progress,
    )?;
    Ok(WalkedModel { report, forecasts })
}

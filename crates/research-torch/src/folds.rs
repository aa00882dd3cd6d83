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
        let (card, mut rows) = self.train_and_forecast_all(label, (a, b), to)?;
        Ok((card, rows.swap_remove(0)))
    }

    /// [`Folds::train_and_forecast`] over every symbol of the market: one model pooled over
    /// the symbols with bars over the whole train window (each on the bars it has), and every
    /// symbol's forecasts (none for a symbol without the bars its features need).
    ///
    /// # Errors
    /// As [`Folds::train_and_forecast`].
    pub fn train_and_forecast_all(
        &self,
        label: &str,
        (a, b): (usize, usize),
        to: usize,
    ) -> Result<(ModelCard, Vec<Vec<Forecast>>), JobError> {
        let cfg = self.session.config();
        let all = self.session.market.bars();
        let time = &all[0].time;
        let day = |i: usize| time[i].date();
        // Each symbol on the bars it has; the model sees them up to its train window's end and
        // nothing after.
        let own: Vec<qts_data::BarSeries> = all.iter().map(qts_data::universe::present).collect();
        // A symbol joins a window's model when it has bars over the whole train window (a
        // bar at its first and its last date): one listed or delisted inside it is forecast by
        // the model but not trained on.
        let data: Vec<SymbolBars> = all
            .iter()
            .zip(&own)
            .filter(|(full, _)| {
                all.len() == 1
                    || (qts_data::universe::has_bar(full, a)
                        && qts_data::universe::has_bar(full, b))
            })
            .map(|(_, p)| p)
            .map(|p| SymbolBars {
                symbol: p.symbol.clone(),
                source: self.source.clone(),
                bars: p.through(day(b)),
            })
            .collect();
        if data.is_empty() {
            return Err(JobError::input(format!(
                "no symbol has bars over the whole train window {} .. {}",
                day(a),
                day(b)
            )));
        }
        let request = TrainRequest {
            config: cfg,
            name: self.name.clone(),
            data,
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
        let lookback = qts_models::net::NetSpec::new(&cfg.model, card.input_size)
            .map(|n| n.lookback)
            .unwrap_or(1);
        let mut out = Vec::with_capacity(own.len());
        for p in &own {
            // Inputs up to `to`: a forecast at bar t reads bars up to t only.
            let upto = p.through(day(to));
            let in_span = upto.time.iter().filter(|t| t.date() >= day(a)).count();
            if own.len() > 1 && (upto.len() < lookback.max(2) || in_span == 0) {
                out.push(Vec::new());
                continue;
            }
            let (time, values) = match pipeline.inputs(&upto) {
                Ok(x) => x,
                // Too few bars for the features' warm-up: no forecast for this symbol.
                Err(_) if own.len() > 1 => {
                    out.push(Vec::new());
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
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
            out.push(
                predictions
                    .time
                    .iter()
                    .copied()
                    .zip(pred.iter().copied())
                    .collect(),
            );
        }
        Ok((card, out))
    }

    /// A window's fold: its model trained on the train window, its in-sample metric (the
    /// model's forecasts of its own train window, traded), and the strategy that trades its
    /// forecasts of the test window; with those forecasts, symbol by symbol.
    ///
    /// # Errors
    /// As [`Folds::train_and_forecast`], and the in-sample backtest's errors.
    pub fn fold(&self, span: Span) -> Result<(Fold, Vec<Vec<Forecast>>), JobError> {
        self.fold_to(span, span.test.1)
    }

    /// [`Folds::fold`] with the window's model forecasting every bar up to `to` (at or after
    /// the test window's end; the bars after it are out of sample too, as the model was
    /// trained before them): what the main job's last window gives the bars no test window
    /// covers. The fold's strategy trades what the walk asks of it (its test window).
    ///
    /// # Errors
    /// As [`Folds::fold`].
    pub fn fold_to(&self, span: Span, to: usize) -> Result<(Fold, Vec<Vec<Forecast>>), JobError> {
        let s = self.session;
        let bars = &s.market.bars()[0];
        let b = span.train.1;
        let end = bars.time[b].date();
        let (card, all_rows) = self.train_and_forecast_all(
            &format!("window {}", span.window),
            span.train,
            to.max(span.test.1),
        )?;
        let universe = all_rows.len() > 1;
        // One symbol: the signal strategy; a universe: the strategy asked for (`rank` unless
        // `signal`), each symbol's forecasts in one panel.
        let traded = if !universe || s.strategy == "signal" {
            "signal"
        } else {
            "rank"
        };
        let params: &[(String, String)] = if universe || s.strategy == "signal" {
            &s.params
        } else {
            &[]
        };
        let signal = |keep: &dyn Fn(chrono::NaiveDate) -> bool| -> Option<SignalSeries> {
            if !universe {
                let rows: Vec<_> = all_rows[0]
                    .iter()
                    .filter(|(t, _)| keep(t.date()))
                    .map(|(t, v)| (*t, *v, None, None))
                    .collect();
                return (!rows.is_empty()).then(|| SignalSeries::align(&bars.time, &rows));
            }
            let w = all_rows.len();
            let mut prediction = vec![f64::NAN; bars.time.len() * w];
            let mut any = false;
            for (sym, rows) in all_rows.iter().enumerate() {
                for (t, v) in rows.iter().filter(|(t, _)| keep(t.date())) {
                    if let Ok(i) = bars.time.binary_search(t) {
                        prediction[i * w + sym] = *v;
                        any = true;
                    }
                }
            }
            any.then(|| SignalSeries {
                symbols: s.market.bars().iter().map(|b| b.symbol.clone()).collect(),
                prediction,
                ..SignalSeries::default()
            })
        };
        let inside = signal(&|t| t <= end);
        let outside = signal(&|t| t > end);
        // In sample: the model's forecasts of its own train window, traded the same way.
        let first_inside = inside.as_ref().and_then(SignalSeries::span).map(|x| x.0);
        let (in_sample, in_sample_annual_return) = match (first_inside, inside) {
            (Some(first), Some(inside)) if bars.time[first].date() < end => {
                let settings = Settings {
                    window: Window {
                        from: Some(bars.time[first].date()),
                        to: Some(end),
                    },
                    ..s.settings.clone()
                };
                let mut strategy = s.build(traded, params, Some(inside))?;
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
            traded,
            params,
            Some(outside.unwrap_or_else(|| SignalSeries {
                symbols: if universe {
                    s.market.bars().iter().map(|b| b.symbol.clone()).collect()
                } else {
                    Vec::new()
                },
                prediction: vec![f64::NAN; bars.time.len() * all_rows.len()],
                ..SignalSeries::default()
            })),
        )?;
        tracing::info!(
            window = span.window,
            model = %format!("{}@{}", card.name, card.version),
            val_loss = card.metrics.get("val_loss").copied().unwrap_or(f64::NAN),
            "fold trained"
        );
        // Each symbol's forecasts of the test window.
        let tested = all_rows
            .into_iter()
            .map(|rows| rows.into_iter().filter(|(t, _)| t.date() > end).collect())
            .collect();
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
    /// The out-of-sample forecasts, window after window, of each symbol (in the market's
    /// order).
    pub forecasts: Vec<Vec<Forecast>>,
}

/// Walks the model of the session's configuration forward over `ask.schedule`: one symbol's
/// forecasts traded by the signal strategy; a universe's by one model pooled over its symbols
/// per window, ranked (`rank`, with the session's parameters; `signal` when asked).
///
/// # Errors
/// [`JobError`]: more than one symbol, a bad registry name, the windows' and the training's
/// errors, [`qts_research::ResearchError::Cancelled`].
pub fn walk_model(
    session: &Session,
    ask: &ModelWalk,
    progress: &dyn Progress,
) -> Result<WalkedModel, JobError> {
    qts_models::registry::check_name(&ask.name)?;
    let folds = Folds {
        session,
        name: ask.name.clone(),
        source: ask.source.clone(),
        maximize: ask.maximize,
        registry: Registry::new(&session.config().registry.directory),
        progress,
    };
    let mut forecasts = vec![Vec::new(); session.market.bars().len()];
    let report = walk(
        &session.market,
        &session.settings,
        &ask.schedule,
        ask.maximize,
        &session.stamp,
        &mut |span: Span| {
            let (fold, rows) = folds.fold(span)?;
            for (all, window) in forecasts.iter_mut().zip(rows) {
                all.extend(window);
            }
            Ok::<Fold, JobError>(fold)
        },
        progress,
    )?;
    Ok(WalkedModel { report, forecasts })
}

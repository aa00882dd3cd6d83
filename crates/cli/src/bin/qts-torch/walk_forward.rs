//! `qts walk-forward --model-config FILE`: a model walked forward. On each train window the
//! model is trained from scratch (its purged train/validation/test split inside the window,
//! normalisation fitted on that window's training rows only) and registered; its forecasts of
//! the test window are traded with the signal strategy and the configured sizing, risk and
//! schedule, by the same walk as a strategy's ([`qts_backtest::walk_forward::walk`]).

use anyhow::anyhow;
use chrono::NaiveDateTime;
use qts_backtest::report::{Settings, Window, backtest};
use qts_backtest::strategy::SignalSeries;
use qts_backtest::walk_forward::{Fold, Span, walk};
use qts_core::logging::RunContext;
use qts_models::fit::{SymbolBars, TrainRequest, train_model};
use qts_models::forecast::{ForecastRequest, Inputs, forecast};
use qts_models::pipeline::Pipeline;
use qts_models::{ModelCard, ModelRef, Registry};

use qts_cli::cli::{GlobalArgs, WalkForwardArgs};
use qts_cli::commands::backtest::{Prepared, prepare_with_model};
use qts_cli::commands::decide::build_with_signals;
use qts_cli::commands::optimize::progress_bar;
use qts_cli::commands::walk_forward::{finish, schedule};
use qts_cli::failure::Failure;

/// One forecast: the bar it was made at the close of, and the prediction.
pub type Forecast = (NaiveDateTime, f64);

/// What trains each window's model and forecasts with it.
pub struct Folds<'a> {
    /// The prepared command (configuration, market, settings, stamp, `--param`).
    pub p: &'a Prepared,
    /// Registry name of the fold models.
    pub name: String,
    /// The data file, for messages.
    pub source: String,
    /// The metric in and out of sample.
    pub maximize: &'a str,
    /// Where the fold models are registered.
    pub registry: Registry,
}

impl Folds<'_> {
    /// Trains a model on bars `a ..= b` (the bars before `a` only warm the features up) and
    /// forecasts every bar from `a` to `to` (each from the bars up to it).
    pub fn train_and_forecast(
        &self,
        label: &str,
        (a, b): (usize, usize),
        to: usize,
        quiet: &dyn Fn(&mut dyn FnMut()),
    ) -> Result<(ModelCard, Vec<Forecast>), Failure> {
        let cfg = &self.p.loaded.config;
        let bars = &self.p.market.bars()[0];
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
                format!("{}:{}:{}", self.p.stamp.data_hash, day(a), day(b)).as_bytes(),
            ),
            adjust: false,
            seeds: 1,
            resume: false,
            git_commit: qts_core::provenance::git_commit(),
            from: Some(day(a)),
        };
        let mut trained = None;
        quiet(&mut || trained = Some(train_model(&request, &mut ())));
        let trained = trained
            .unwrap_or_else(|| Err(qts_models::ModelError::Input("not trained".into())))
            .map_err(crate::failure)?;
        let card = self
            .registry
            .card(&ModelRef {
                name: self.name.clone(),
                at: Some(trained.version.to_string()),
            })
            .map_err(crate::failure)?;
        let dir = self.registry.version_dir(&card.name, card.version);
        let Some(pipeline) = Pipeline::read(&dir).map_err(crate::failure)? else {
            return Err(Failure::Runtime(anyhow!(
                "{}@{} was registered without its pipeline",
                card.name,
                card.version
            )));
        };
        // Inputs up to `to`: a forecast at bar t reads bars up to t only.
        let (time, values) = pipeline
            .inputs(&bars.through(day(to)))
            .map_err(crate::failure)?;
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
        )
        .map_err(crate::failure)?;
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
    pub fn fold(
        &self,
        span: Span,
        quiet: &dyn Fn(&mut dyn FnMut()),
    ) -> Result<(Fold, Vec<Forecast>), Failure> {
        let p = self.p;
        let cfg = &p.loaded.config;
        let bars = &p.market.bars()[0];
        let b = span.train.1;
        let end = bars.time[b].date();
        let (card, rows) = self.train_and_forecast(
            &format!("window {}", span.window),
            span.train,
            span.test.1,
            quiet,
        )?;
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
                    ..p.settings.clone()
                };
                let mut s = build_with_signals(
                    cfg,
                    "signal",
                    &p.params,
                    Some(SignalSeries::align(&bars.time, &inside)),
                    &p.market,
                )?;
                let r = backtest(&p.market, s.as_mut(), &settings, None, p.stamp.clone())?;
                let get = |k: &str| r.metrics.get(k).map(|v| v.as_f64());
                (get(self.maximize), get("annual_return").unwrap_or(f64::NAN))
            }
            _ => (None, f64::NAN),
        };
        let strategy = build_with_signals(
            cfg,
            "signal",
            &p.params,
            Some(SignalSeries::align(&bars.time, &outside)),
            &p.market,
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

/// Runs `qts walk-forward --model-config`.
pub fn run(global: &GlobalArgs, args: &WalkForwardArgs) -> Result<(), Failure> {
    let bad = |m: String| Err(Failure::Input(anyhow!(m)));
    if args.run.from.is_some() || args.run.to.is_some() {
        return bad(
            "--from/--to do not apply to walk-forward: its windows are --train/--test bars".into(),
        );
    }
    if !args.search.grid.is_empty() {
        return bad("--grid searches a strategy's parameters; with --model-config each window retrains the model (search its hyper-parameters with `qts optimize --model-config`)".into());
    }
    if !matches!(args.run.strategy.as_str(), "sma-cross" | "signal") {
        return bad(format!(
            "--model-config trades the model's forecasts with the signal strategy; --strategy {} takes no model",
            args.run.strategy
        ));
    }
    if args.run.signals.is_some() {
        return bad("--signals: with --model-config the forecasts are the model's own".into());
    }
    if args.run.data.len() != 1 {
        return bad("--model-config walks one symbol forward: give one --data file".into());
    }
    let p = prepare_with_model(
        global,
        &args.run,
        "walk-forward",
        args.search.model_config.as_deref(),
    )?;
    let _guard = &p.guard;
    let cfg = &p.loaded.config;
    let span = RunContext::new("walk-forward")
        .model_type(format!("{:?}", cfg.model.architecture).to_lowercase())
        .symbol(p.market.bars()[0].symbol.clone())
        .span();
    let _run = span.enter();
    let name = format!("{}-wf", cfg.model.name);
    qts_models::registry::check_name(&name).map_err(crate::failure)?;
    let folds = Folds {
        p: &p,
        name: name.clone(),
        source: args.run.data[0].display().to_string(),
        maximize: args.search.maximize.as_deref().unwrap_or("sharpe_ratio"),
        registry: Registry::new(&cfg.registry.directory),
    };
    let bar = progress_bar(
        "walk-forward [{bar:30}] {pos}/{len} windows (a model trained on each) {elapsed}",
        global.quiet > 0 || args.json,
    );
    let quiet = |f: &mut dyn FnMut()| bar.suspend(f);
    let mut choose = |span: Span| folds.fold(span, &quiet).map(|(fold, _)| fold);
    let start_ms = qts_cli::commands::track::now_ms();
    let report = walk(
        &p.market,
        &p.settings,
        &schedule(args, cfg),
        folds.maximize,
        &p.stamp,
        &mut choose,
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    let report = report?;
    qts_cli::commands::track::walk_forward(&p.loaded, &report, &name, &p.stamp, start_ms)?;
    finish(
        args,
        &report,
        &format!("the model {} retrained on each window", cfg.model.name),
    )
}

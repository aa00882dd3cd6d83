//! `qts decide --model`: a registered model's forecasts up to the close, through the feature
//! pipeline saved with it, followed by the signal strategy, then the same decision as any
//! strategy's ([`qts_cli::commands::decide::finish`]).

use anyhow::anyhow;
use qts_backtest::strategy::SignalSeries;
use qts_core::logging::RunContext;
use qts_models::forecast::{ForecastRequest, Inputs, forecast};
use qts_models::pipeline::Pipeline;
use qts_models::{ModelRef, Registry};

use qts_cli::cli::{DecideArgs, GlobalArgs};
use qts_cli::commands::backtest::parse_params;
use qts_cli::commands::decide::{
    as_of, build_with_signals, configure, finish, first_signal_day, inputs, live_signals,
    read_through,
};
use qts_cli::failure::Failure;

/// Runs `qts decide --model`.
pub fn run(global: &GlobalArgs, args: &DecideArgs) -> Result<(), Failure> {
    let (loaded, _guard) = configure(global, args)?;
    let cfg = &loaded.config;
    let model_ref = args.model.as_deref().unwrap_or_default();
    let registry = Registry::new(&cfg.registry.directory);
    let card = crate::mlflow_registry::card(
        cfg,
        &registry,
        &ModelRef::parse(model_ref).map_err(crate::failure)?,
    )?;
    let dir = registry.version_dir(&card.name, card.version);
    let span = RunContext::new("decide")
        .model_type(card.architecture.clone())
        .span();
    let _run = span.enter();
    if let Some(name) = args.strategy.strategy.as_deref().filter(|n| *n != "signal") {
        return Err(Failure::Input(anyhow!(
            "--model is followed by the signal strategy; --strategy {name} takes no model"
        )));
    }
    let data = inputs(&args.live);
    if data.len() != 1 {
        return Err(Failure::Input(anyhow!(
            "--model decides for one symbol: give one --data file or symbol"
        )));
    }
    let model = crate::predict::saved_config(global, &dir)?;
    let Some(pipeline) = Pipeline::read(&dir).map_err(crate::failure)? else {
        return Err(Failure::Input(anyhow!(
            "{}@{} was imported without a feature pipeline: it cannot compute its inputs from bars",
            card.name,
            card.version
        )));
    };
    let day = as_of(args.as_of);
    let live = read_through(
        &loaded,
        &data,
        day,
        args.live.offline,
        args.live.history_from,
    )?;
    let bars = &live.market.bars()[0];
    let bars = if pipeline.adjust {
        if bars.adj_close.is_none() {
            return Err(Failure::Input(anyhow!(
                "{}@{} was trained on adjusted prices and {} has no adj_close column",
                card.name,
                card.version,
                data[0]
            )));
        }
        bars.adjusted()
    } else {
        bars.clone()
    };
    let (time, values) = pipeline.inputs(&bars).map_err(crate::failure)?;
    // Forecasts up to the close only: the same column a signal backtest of this day reads.
    let predictions = forecast(
        &ForecastRequest {
            registry: &registry,
            card: &card,
            model: &model,
            compute: &cfg.compute,
            // In-sample rows are never traded: no need to predict them.
            from: card.splits.as_ref().and_then(|s| s.test.start.parse().ok()),
            to: Some(day),
            ensemble: args.ensemble,
            mc_samples: args.mc_dropout,
            level: args.level,
            seed: cfg.reproducibility.seed,
            data_name: &data[0],
        },
        &Inputs { time, values },
    )
    .map_err(crate::failure)?;
    let signals = live_signals(
        SignalSeries::from_table(&predictions, &live.market.bars()[0].time, model_ref)?,
        model_ref,
    )?;
    let params = parse_params(&args.strategy.params)?;
    let trade_from = first_signal_day(&signals, &live.market);
    let mut strategy = build_with_signals(cfg, "signal", &params, Some(signals), &live.market)?;
    finish(
        cfg,
        live,
        ("signal", strategy.as_mut()),
        false,
        day,
        trade_from,
        args.json,
    )
}

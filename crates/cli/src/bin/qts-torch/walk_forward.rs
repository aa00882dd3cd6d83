//! `qts walk-forward --model-config FILE`: flags → [`qts_research_torch::folds::walk_model`]
//! (the model trained from scratch on each train window — pooled over the symbols of a universe
//! — its forecasts of the test window traded by the signal strategy, or ranked by `rank` for
//! several symbols) → table, JSON and files.

use qts_cli::cli::{GlobalArgs, WalkForwardArgs};
use qts_cli::failure::{Failure, input};
use qts_cli::output::Bar;
use qts_cli::output::finish_walk as finish;
use qts_cli::setup::{no_walk_window as no_window, walk_schedule as schedule};
use qts_cli::setup::{session, tracker};
use qts_core::logging::RunContext;
use qts_research_torch::folds::{ModelWalk, walk_model};

/// Runs `qts walk-forward --model-config`.
pub fn run(global: &GlobalArgs, args: &WalkForwardArgs) -> Result<(), Failure> {
    no_window(args)?;
    if !args.search.grid.is_empty() {
        return Err(input(
            "--grid searches a strategy's parameters; with --model-config each window retrains the model (search its hyper-parameters with `qts optimize --model-config`)",
        ));
    }
    if !matches!(args.run.strategy.as_str(), "sma-cross" | "signal" | "rank") {
        return Err(input(format!(
            "--model-config trades the model's forecasts with the signal strategy (rank for several symbols); --strategy {} takes no model",
            args.run.strategy
        )));
    }
    if args.run.signals.is_some() {
        return Err(input(
            "--signals: with --model-config the forecasts are the model's own",
        ));
    }
    let (mut s, _guard) = session(global, &args.run, args.search.model_config.as_deref())?;
    if s.market.bars().len() > 1 && s.strategy == "sma-cross" {
        if !args.run.params.is_empty() {
            return Err(input(
                "several symbols walk forward as a ranked portfolio: give --strategy rank with its --param (top=5, …)",
            ));
        }
        // A universe's forecasts are ranked: the strategy, and the rules its result states.
        s.strategy = "rank".into();
        s.settings.engine.strategy_weights = true;
    }
    let cfg = s.config();
    let span = RunContext::new("walk-forward")
        .model_type(cfg.model.architecture.to_string())
        .symbol(s.market.bars()[0].symbol.clone())
        .span();
    let _run = span.enter();
    let ask = ModelWalk {
        schedule: schedule(args, cfg),
        maximize: match args.search.maximize.as_deref() {
            Some(name) => qts_research::optimize::check_metric(name)?,
            None => qts_stats::metrics::Metric::SharpeRatio,
        },
        name: format!("{}-wf", cfg.model.name),
        source: qts_cli::setup::data_text(&args.run),
    };
    let tracker = tracker(s.loaded());
    let bar = Bar::new(
        "walk-forward [{bar:30}] {pos}/{len} windows (a model trained on each) {elapsed} elapsed, about {eta} left",
        global.quiet > 0 || args.json,
    );
    let walked = walk_model(&s, &ask, &bar);
    drop(bar);
    let walked = walked.map_err(crate::failure)?;
    tracker.walk_forward(&walked.report, &ask.name, &s.stamp)?;
    finish(
        args,
        &walked.report,
        &format!("the model {} retrained on each window", cfg.model.name),
    )
}

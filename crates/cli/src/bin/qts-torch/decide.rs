//! `qts decide --model`: flags → [`qts_research_torch::decide::decide_with_model`] → the
//! orders for the next open.

use qts_cli::cli::{DecideArgs, GlobalArgs};
use qts_cli::failure::{Failure, input};
use qts_cli::setup::{
    decide_configure as configure, decide_session as session, environment, inputs,
    show_decision as show,
};
use qts_research_torch::decide::{ModelDecision, decide_with_model};

/// Runs `qts decide --model`.
pub fn run(global: &GlobalArgs, args: &DecideArgs) -> Result<(), Failure> {
    let (loaded, _guard) = configure(global, args)?;
    if let Some(name) = args.strategy.strategy.as_deref().filter(|n| *n != "signal") {
        return Err(input(format!(
            "--model is followed by the signal strategy; --strategy {name} takes no model"
        )));
    }
    if inputs(&args.live).len() != 1 {
        return Err(input(
            "--model decides for one symbol: give one --data file or symbol",
        ));
    }
    let s = session(loaded, args, "signal")?;
    let decision = decide_with_model(
        &s,
        &ModelDecision {
            model: args.model.clone().unwrap_or_default(),
            ensemble: args.ensemble,
            mc_dropout: args.mc_dropout,
            level: args.level,
        },
        &environment(global)?,
    )
    .map_err(crate::failure)?;
    let decision = qts_cli::setup::for_account(&s, decision, args)?;
    show(&decision, args.json)
}

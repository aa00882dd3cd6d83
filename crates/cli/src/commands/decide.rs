//! `qts decide`: the bars up to a close → [`qts_research::Session::decide`] → the orders for
//! the next open.

use qts_core::logging::RunContext;

use crate::cli::{DecideArgs, GlobalArgs};
use crate::failure::Failure;
use crate::setup::{
    decide_configure as configure, decide_session as session, inputs, show_decision as show,
};

/// Runs `qts decide`.
pub fn run(global: &GlobalArgs, args: &DecideArgs) -> Result<(), Failure> {
    let (loaded, _guard) = configure(global, args)?;
    let span = RunContext::new("decide")
        .symbol(inputs(&args.live).join(","))
        .span();
    let _run = span.enter();
    let s = session(loaded, args, args.strategy.name())?;
    let decision = crate::setup::for_account(&s, s.decide(None)?, args)?;
    show(&decision, args.json)
}

//! `qts decide`: the bars up to a close → [`qts_research::Session::decide`] → the orders for
//! the next open.

use std::sync::Arc;

use qts_config::Loaded;
use qts_core::logging::{LogGuard, RunContext};
use qts_research::session::{LiveAsk, LiveData, Session};

use super::output::{json, print};
use super::setup::{as_of, inputs, load_config, parse_params, start_logging};
use crate::cli::{DecideArgs, GlobalArgs, SectionFiles};
use crate::failure::{Failure, input};

/// The configuration of `qts decide` (with `--config` as backtest_config.yaml), logging started.
pub fn configure(
    global: &GlobalArgs,
    args: &DecideArgs,
) -> Result<(Arc<Loaded>, LogGuard), Failure> {
    let files = SectionFiles {
        backtest: args.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(global, &files)?;
    let guard = start_logging(global, &loaded)?;
    Ok((Arc::new(loaded), guard))
}

/// The decision session of `qts decide`'s flags, following `strategy`.
pub fn session(loaded: Arc<Loaded>, args: &DecideArgs, strategy: &str) -> Result<Session, Failure> {
    let data = inputs(&args.live);
    if data.is_empty() {
        return Err(input(
            "no data: give --data FILE (repeatable) or --symbols AAPL,MSFT",
        ));
    }
    super::setup::distinct_files(&args.live.data)?;
    Ok(Session::live(
        loaded,
        LiveAsk {
            data: LiveData::Inputs {
                inputs: data,
                offline: args.live.offline,
                history_from: args.live.history_from,
            },
            as_of: as_of(args.as_of),
            strategy: strategy.to_string(),
            params: parse_params(&args.strategy.params)?,
            signals: args.strategy.signals.clone(),
            overlays: args.strategy.overlays,
        },
    )?)
}

/// Prints a decision as `--json` or a table.
pub fn show(decision: &qts_backtest::Decision, as_json: bool) -> Result<(), Failure> {
    if as_json {
        print(&json(decision)?)
    } else {
        print(&qts_report::render::decision(decision))
    }
}

/// Runs `qts decide`.
pub fn run(global: &GlobalArgs, args: &DecideArgs) -> Result<(), Failure> {
    let (loaded, _guard) = configure(global, args)?;
    let span = RunContext::new("decide")
        .symbol(inputs(&args.live).join(","))
        .span();
    let _run = span.enter();
    let s = session(loaded, args, args.strategy.name())?;
    show(&s.decide(None)?, args.json)
}

//! `qts walk-forward`: flags → [`qts_research::Session::walk`] → table, JSON and files.

use qts_core::logging::RunContext;
use qts_research::optimize::Method;

use crate::cli::{GlobalArgs, WalkForwardArgs};
use crate::failure::Failure;
use crate::output::{Bar, finish_walk as finish};
use crate::setup::{no_walk_window as no_window, session, tracker, walk_schedule as schedule};

/// Runs `qts walk-forward`.
pub fn run(global: &GlobalArgs, args: &WalkForwardArgs) -> Result<(), Failure> {
    no_window(args)?;
    let (s, _guard) = session(global, &args.run, None)?;
    let span = RunContext::new("walk-forward")
        .symbol(s.market.bars()[0].symbol.clone())
        .span();
    let _run = span.enter();
    let spec = super::optimize::spec(&args.search, Method::Grid, 16)?;
    let tracker = tracker(s.loaded());
    let bar = Bar::new(
        "walk-forward [{bar:30}] {pos}/{len} windows {elapsed} elapsed, about {eta} left",
        global.quiet > 0 || args.json,
    );
    let report = s.walk(&spec, &schedule(args, s.config()), &bar);
    drop(bar);
    let report = report?;
    tracker.walk_forward(&report, &args.run.strategy, &s.stamp)?;
    let grid = args.search.grid.join(" ");
    finish(args, &report, &format!("{} over {grid}", args.run.strategy))
}

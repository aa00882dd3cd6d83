//! `qts walk-forward`: flags → [`qts_research::Session::walk`] → table, JSON and files.

use qts_core::logging::RunContext;
use qts_research::optimize::Method;
use qts_research::walk_forward::{Schedule, WalkForwardReport};

use crate::cli::{GlobalArgs, WalkForwardArgs};
use crate::failure::{Failure, input};
use crate::output::{Bar, json, print, write_page, write_result};
use crate::setup::{data_text, session, tracker};

/// The windows' lengths of the flags, `backtest.walk_forward` where a flag is not given.
pub fn schedule(args: &WalkForwardArgs, cfg: &qts_config::QtsConfig) -> Schedule {
    Schedule::from_config(
        &cfg.backtest.walk_forward,
        args.train,
        args.test,
        args.step,
        args.anchored,
    )
}

/// Refuses `--from`/`--to`: a walk-forward's windows are `--train`/`--test` bars.
pub fn no_window(args: &WalkForwardArgs) -> Result<(), Failure> {
    if args.run.from.is_some() || args.run.to.is_some() {
        return Err(input(
            "--from/--to do not apply to walk-forward: its windows are --train/--test bars",
        ));
    }
    Ok(())
}

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
        "walk-forward [{bar:30}] {pos}/{len} windows {elapsed}",
        global.quiet > 0 || args.json,
    );
    let report = s.walk(&spec, &schedule(args, s.config()), &bar);
    drop(bar);
    let report = report?;
    tracker.walk_forward(&report, &args.run.strategy, &s.stamp)?;
    let grid = args.search.grid.join(" ");
    finish(args, &report, &format!("{} over {grid}", args.run.strategy))
}

/// Writes `--out` and `--report`, and prints a walk-forward's table or JSON (strategy and
/// model alike); `what` names what was walked forward, for the page.
pub fn finish(
    args: &WalkForwardArgs,
    report: &WalkForwardReport,
    what: &str,
) -> Result<(), Failure> {
    let data = data_text(&args.run);
    let described = report.described(what, &data);
    if let Some(dir) = &args.out {
        write_result(
            dir,
            &qts_report::folder::walk_forward_files(report, &described),
        )?;
    }
    if let Some(path) = &args.report {
        write_page(
            path,
            &qts_report::html::walk_forward_report_page(report, what, &data),
        )?;
    }
    if args.json {
        print(&json(&described)?)
    } else {
        print(&qts_report::render::walk_forward(report))
    }
}

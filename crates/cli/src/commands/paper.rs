//! `qts paper init|step|status|history`: flags → [`qts_research::paper`] → a summary.

use std::sync::Arc;

use qts_config::Loaded;
use qts_core::logging::RunContext;
use qts_research::paper::{OpenAsk, StepAsk};

use crate::cli::{
    GlobalArgs, PaperCommand, PaperHistoryArgs, PaperInitArgs, PaperStatusArgs, PaperStepArgs,
    SectionFiles,
};
use crate::failure::Failure;
use crate::output::{json, print};
use crate::setup::{inputs, load_config, parse_params, start_logging, tracker};

/// Runs a `qts paper` command.
pub fn run(global: &GlobalArgs, command: &PaperCommand) -> Result<(), Failure> {
    let loaded = Arc::new(load_config(global, &SectionFiles::default())?);
    let _guard = start_logging(global, &loaded)?;
    let span = RunContext::new("paper").span();
    let _run = span.enter();
    match command {
        PaperCommand::Init(args) => init(loaded, args),
        PaperCommand::Step(args) => step(loaded, args),
        PaperCommand::Status(args) => status(&loaded, args),
        PaperCommand::History(args) => history(&loaded, args),
    }
}

fn init(loaded: Arc<Loaded>, args: &PaperInitArgs) -> Result<(), Failure> {
    crate::setup::distinct_files(&args.live.data)?;
    let holdings = args
        .holdings
        .as_deref()
        .map(crate::setup::holdings_file)
        .transpose()?;
    let (path, spec, status) = qts_research::paper::open(
        loaded,
        &OpenAsk {
            cash: args.cash.unwrap_or(0.0),
            holdings,
            inputs: inputs(&args.live),
            strategy: args.strategy.name().to_string(),
            params: parse_params(&args.strategy.params)?,
            signals: args.strategy.signals.clone(),
            overlays: args.strategy.overlays,
            offline: args.live.offline,
            history_from: args.live.history_from,
        },
    )?;
    if args.json {
        return print(&json(&status)?);
    }
    let held = if spec.holdings.is_empty() {
        String::new()
    } else {
        format!(
            " and {} (held from the first step's close, valued at it; P&L is measured from that value)",
            spec.holdings
                .iter()
                .map(|(s, x)| format!("{x} {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    print(&format!(
        "Opened a paper account in {} with {:.2} cash{held}, following {} on {}.\n\
         Step it after each close: qts paper step [--as-of DATE] [--offline]\n",
        path.display(),
        spec.initial_cash,
        spec.strategy,
        spec.data.join(", ")
    ))
}

fn step(loaded: Arc<Loaded>, args: &PaperStepArgs) -> Result<(), Failure> {
    let tracker = tracker(&loaded);
    let stepped = qts_research::paper::step(
        Arc::clone(&loaded),
        &StepAsk {
            as_of: args.as_of,
            data: args.data.iter().map(|p| p.display().to_string()).collect(),
            offline: args.offline,
            history_from: args.history_from,
        },
        &tracker,
    )?;
    if args.json {
        return print(&json(&stepped)?);
    }
    print(&qts_report::render::paper_step(
        &stepped.database.display().to_string(),
        &stepped.report,
    ))
}

fn status(loaded: &Loaded, args: &PaperStatusArgs) -> Result<(), Failure> {
    let s = qts_research::paper::status(loaded)?;
    if args.json {
        return print(&json(&s)?);
    }
    print(&qts_report::render::paper_status(&s))
}

fn history(loaded: &Loaded, args: &PaperHistoryArgs) -> Result<(), Failure> {
    let rows = qts_research::paper::history(loaded)?;
    let csv = qts_paper::history_csv(&rows);
    if args.out.as_os_str() == "-" {
        return print(&csv);
    }
    crate::output::write_file(&args.out, csv.as_bytes())?;
    print(&format!(
        "wrote {} step(s) to {}\n",
        rows.len(),
        args.out.display()
    ))
}

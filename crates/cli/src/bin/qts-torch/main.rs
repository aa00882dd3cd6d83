//! `qts-torch`: the `qts` command line with model support linked in (libtorch). `qts` hands
//! it the model commands (train, predict, models …); it runs any other command too. Each
//! model command parses its flags, calls one function of `qts-research-torch` and prints.

mod decide;
mod models;
mod pipeline;
mod predict;
mod search;
mod train;
mod walk_forward;

use std::process::ExitCode;

use qts_cli::cli::{Cli, Command};
use qts_cli::failure::Failure;
use qts_research_torch::JobError;

fn main() -> ExitCode {
    qts_cli::exit_cleanly_on_interrupt();
    let cli = Cli::parse_all();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Train(args) => train::run(&cli.global, args),
        Command::Run(args) => pipeline::run(&cli.global, args),
        Command::Predict(args) => predict::run(&cli.global, args),
        Command::Models(command) => models::run(&cli.global, command),
        Command::Decide(args) if args.model.is_some() => decide::run(&cli.global, args),
        Command::Optimize(args) if args.search.model_config.is_some() => {
            search::run(&cli.global, args)
        }
        Command::WalkForward(args) if args.search.model_config.is_some() => {
            walk_forward::run(&cli.global, args)
        }
        _ => qts_cli::run(cli),
    }
}

/// A model job's error as a command failure: a parameter shown as its flag; libtorch and I/O
/// failures are runtime failures (exit 1), everything else is bad input (exit 2).
pub fn failure(e: impl Into<JobError>) -> Failure {
    match e.into() {
        JobError::Research(r) => r.into(),
        JobError::Model(qts_models::ModelError::Data(d)) => d.into(),
        e if e.is_input() => Failure::Input(e.into()),
        e => Failure::Runtime(e.into()),
    }
}

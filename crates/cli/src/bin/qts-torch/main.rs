//! `qts-torch`: the `qts` command line with model support linked in (libtorch). `qts` hands
//! it the model commands (train, predict, models …); it runs any other command too. The model
//! commands live here, not in the library, so that `qts` links no libtorch.

mod decide;
mod mlflow_registry;
mod models;
mod pipeline;
mod predict;
mod search;
mod train;
mod walk_forward;

use std::process::ExitCode;

use clap::Parser;
use qts_cli::cli::{Cli, Command};
use qts_cli::failure::Failure;
use qts_models::ModelError;

fn main() -> ExitCode {
    qts_cli::exit_cleanly_on_interrupt();
    let cli = Cli::parse();
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

/// A model error as a command failure: I/O and libtorch failures are runtime failures (exit
/// 1), everything else is bad input (exit 2).
pub fn failure(e: ModelError) -> Failure {
    match e {
        ModelError::Io { .. } | ModelError::Torch(_) | ModelError::Encode { .. } => {
            Failure::Runtime(e.into())
        }
        ModelError::Data(e) => e.into(),
        _ => Failure::Input(e.into()),
    }
}

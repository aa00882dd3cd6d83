//! The `qts` command.

mod cli;
mod commands;
mod failure;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Config(command) => commands::config::run(&cli.global, command),
        Command::Data(command) => commands::data::run(&cli.global, command),
        Command::Features(args) => commands::features::run(&cli.global, args),
        Command::Backtest(args) => commands::backtest::run(&cli.global, args),
        Command::Metrics(args) => commands::metrics::run(&cli.global, args),
        Command::Models(command) => commands::models::run(&cli.global, command),
    }
}

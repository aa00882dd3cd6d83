//! The `qts` command line: grammar, commands and exit statuses, shared by the two
//! executables. `qts` runs every command that needs no model itself and hands the model
//! commands (train, predict, models …) to `qts-torch` beside it, the only one that links
//! libtorch. This library does not depend on the models crate, so `qts` cannot pull libtorch
//! in by accident (a test reads its dynamic section).

pub mod cli;
pub mod commands;
pub mod failure;

use crate::cli::{Cli, Command};
use crate::failure::Failure;

/// Whether the command needs libtorch (and so runs in `qts-torch`).
pub fn needs_torch(command: &Command) -> bool {
    match command {
        Command::Train(_) | Command::Predict(_) | Command::Models(_) | Command::Run(_) => true,
        Command::Decide(args) => args.model.is_some(),
        Command::Optimize(args) => args.search.model_config.is_some(),
        Command::WalkForward(args) => args.search.model_config.is_some(),
        _ => false,
    }
}

/// Runs a command that needs no model in this process (what `qts` does).
///
/// # Errors
/// The command's [`Failure`]; a model command is one too (it belongs to `qts-torch`).
pub fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Config(command) => commands::config::run(&cli.global, command),
        Command::Data(command) => commands::data::run(&cli.global, command),
        Command::Features(args) => commands::features::run(&cli.global, args),
        Command::Backtest(args) => commands::backtest::run(&cli.global, args),
        Command::Metrics(args) => commands::metrics::run(&cli.global, args),
        Command::Overfitting(args) => commands::overfitting::run(&cli.global, args),
        Command::Optimize(args) if args.search.model_config.is_some() => {
            Err(torch_only("optimize --model-config"))
        }
        Command::WalkForward(args) if args.search.model_config.is_some() => {
            Err(torch_only("walk-forward --model-config"))
        }
        Command::Optimize(args) => commands::optimize::run(&cli.global, args),
        Command::WalkForward(args) => commands::walk_forward::run(&cli.global, args),
        Command::MonteCarlo(args) => commands::monte_carlo::run(&cli.global, args),
        Command::Decide(args) if args.model.is_some() => Err(Failure::Input(anyhow::anyhow!(
            "decide --model runs in qts-torch (built with the default cargo feature `torch`)"
        ))),
        Command::Decide(args) => commands::decide::run(&cli.global, args),
        Command::Paper(command) => commands::paper::run(&cli.global, command),
        Command::Experiments(command) => commands::experiments::run(&cli.global, command),
        Command::Report(args) => commands::report::run(&cli.global, args),
        Command::Compare(args) => commands::report::compare(&cli.global, args),
        Command::Reproduce(args) => commands::reproduce::run(&cli.global, args),
        Command::Train(_) | Command::Predict(_) | Command::Models(_) | Command::Run(_) => {
            Err(Failure::Input(anyhow::anyhow!(
                "model commands run in qts-torch (built with the default cargo feature `torch`)"
            )))
        }
    }
}

fn torch_only(what: &str) -> Failure {
    Failure::Input(anyhow::anyhow!(
        "{what} runs in qts-torch (built with the default cargo feature `torch`)"
    ))
}

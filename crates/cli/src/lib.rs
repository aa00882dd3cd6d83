//! The `qts` command line: grammar, commands and exit statuses, shared by the two
//! executables. `qts` runs every command that needs no model itself and hands the model
//! commands (train, predict, models …) to `qts-torch` beside it, the only one that links
//! libtorch. This library does not depend on the models crate, so `qts` cannot pull libtorch
//! in by accident (a test reads its dynamic section).

pub mod cli;
pub mod commands;
pub mod failure;
pub mod output;
pub mod setup;

/// Exits on SIGINT (status 130) and SIGTERM (143) after removing the temporary files that
/// atomic writes have open, so an interrupted command leaves no half-written file: every
/// output is either its old version or its new one, and a result folder without its manifest
/// says it was interrupted. Call once, first thing in `main`.
pub fn exit_cleanly_on_interrupt() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let removed = qts_core::fs::remove_in_progress();
            eprintln!(
                "interrupted ({}): {removed} unfinished file(s) removed; outputs are as they were before, or complete",
                if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                }
            );
            std::process::exit(128 + signal);
        }
    });
}

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

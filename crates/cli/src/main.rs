//! `qts`: runs the commands that need no model here, so they never load libtorch (hundreds of
//! MB of shared libraries), and hands model commands to `qts-torch` in the same directory.

use std::process::ExitCode;

use qts_cli::cli::Cli;
use qts_cli::failure::Failure;

fn main() -> ExitCode {
    qts_cli::exit_cleanly_on_interrupt();
    let cli = Cli::parse_all();
    let result = if qts_cli::needs_torch(&cli.command) {
        hand_over()
    } else {
        qts_cli::run(&cli)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Replaces this process with `qts-torch` and the same arguments (its exit status is ours).
fn hand_over() -> Result<(), Failure> {
    let here = std::env::current_exe().map_err(|e| Failure::Runtime(e.into()))?;
    let torch = here.with_file_name(format!("qts-torch{}", std::env::consts::EXE_SUFFIX));
    if !torch.is_file() {
        return Err(Failure::Runtime(anyhow::anyhow!(
            "model commands run in {}, which is not there: build it with `cargo build --release` \
             (it needs the default `torch` feature and libtorch, see scripts/torch-env.sh)",
            torch.display()
        )));
    }
    let mut command = std::process::Command::new(&torch);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = command.exec();
        Err(Failure::Runtime(anyhow::anyhow!(
            "{}: {e}",
            torch.display()
        )))
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{}: {e}", torch.display())))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

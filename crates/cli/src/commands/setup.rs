//! What every command does first: read `.env`, load the configuration, start logging.

use std::path::Path;

use qts_core::config::{ConfigLoader, Environment, Loaded, Section};
use qts_core::logging::{self, LogGuard, LogOptions};

use crate::cli::{GlobalArgs, SectionFiles};
use crate::failure::Failure;

/// The environment for `${VAR}`: the process, then `--env-file` or `./.env` when present.
pub fn environment(global: &GlobalArgs) -> Result<Environment, Failure> {
    let env = Environment::process();
    let file = match &global.env_file {
        Some(path) => path.as_path(),
        None if Path::new(".env").is_file() => Path::new(".env"),
        None => return Ok(env),
    };
    env.with_dotenv(file).map_err(|e| Failure::Input(e.into()))
}

/// Loads the configuration from the directory, the section files and the overrides.
pub fn load_config(global: &GlobalArgs, files: &SectionFiles) -> Result<Loaded, Failure> {
    let env = environment(global)?;
    let mut loader = ConfigLoader::from_dir(&global.config_dir);
    let explicit = [
        (Section::Base, &files.base),
        (Section::DataSources, &files.data_sources),
        (Section::Backtest, &files.backtest),
        (Section::Model, &files.model),
    ];
    for (section, file) in explicit {
        if let Some(file) = file {
            loader = loader.file(section, file);
        }
    }
    for assignment in &global.overrides {
        loader = loader.override_value(assignment);
    }
    Ok(loader.load(&env)?)
}

/// Starts logging as the configuration and the flags say.
pub fn start_logging(global: &GlobalArgs, loaded: &Loaded) -> Result<LogGuard, Failure> {
    let opts = LogOptions::from_env(global.verbose, global.quiet);
    let guard = logging::init(&loaded.config.logging, &opts, &loaded.redactor)?;
    tracing::debug!(
        files = ?loaded.files,
        overrides = loaded.redactor.scrub(&global.overrides.join(" ")),
        fingerprint = %loaded.config.fingerprint(),
        "configuration loaded"
    );
    Ok(guard)
}

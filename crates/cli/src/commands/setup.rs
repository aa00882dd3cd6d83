//! What every command does first: read `.env`, load the configuration, start logging.

use std::path::Path;

use qts_config::{ConfigLoader, Loaded};
use qts_core::config::{Environment, Section};
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
///
/// A configuration directory that does not exist, or that holds none of the four files (when
/// no file is named), is an error: running from the wrong folder must not silently fall back
/// to the built-in defaults.
pub fn load_config(global: &GlobalArgs, files: &SectionFiles) -> Result<Loaded, Failure> {
    let dir = &global.config_dir;
    if !dir.is_dir() {
        return Err(Failure::Input(anyhow::anyhow!(
            "configuration directory {}: no such directory (-C DIR or QTS_CONFIG_DIR; default `config`)",
            dir.display()
        )));
    }
    let named = [
        &files.base,
        &files.data_sources,
        &files.backtest,
        &files.model,
    ]
    .iter()
    .any(|f| f.is_some());
    if !named
        && !Section::ALL
            .iter()
            .any(|s| dir.join(s.default_file()).is_file())
    {
        return Err(Failure::Input(anyhow::anyhow!(
            "configuration directory {} holds none of {}: run from the project directory or pass -C DIR",
            dir.display(),
            Section::ALL
                .iter()
                .map(|s| s.default_file())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
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

/// Refuses a data file named twice (after resolving links and `..`): it would be traded as two
/// symbols.
pub fn distinct_files(paths: &[std::path::PathBuf]) -> Result<(), Failure> {
    for (i, a) in paths.iter().enumerate() {
        if let Some(b) = paths[..i].iter().find(|b| qts_core::fs::same_file(a, b)) {
            return Err(Failure::Input(anyhow::anyhow!(
                "--data {} is the same file as --data {}: give each symbol's file once",
                a.display(),
                b.display()
            )));
        }
    }
    Ok(())
}

/// The configuration files read, with their SHA-256, for a result's stamp.
pub fn config_files(loaded: &Loaded) -> Vec<qts_backtest::report::ConfigFile> {
    qts_backtest::report::ConfigFile::of_files(&loaded.files)
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

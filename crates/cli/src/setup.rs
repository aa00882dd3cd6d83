//! What every command does first: read `.env`, load the configuration, start logging.

use std::path::Path;
use std::sync::Arc;

use qts_backtest::report::Window;
use qts_config::{ConfigLoader, Loaded};
use qts_core::config::{Environment, Section};
use qts_core::logging::{self, LogGuard, LogOptions};
use qts_research::session::{Ask, Data, LiveAsk, LiveData, Session, Signals};
use qts_research::track::{Invocation, Tracker};

use crate::cli::{DecideArgs, GlobalArgs, LiveArgs, RunArgs, SectionFiles, WalkForwardArgs};
use crate::failure::{Failure, input};
use crate::output::{json, print};

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
    for assignment in global.overrides.iter().chain(&layout_overrides(global)?) {
        loader = loader.override_value(assignment);
    }
    let loaded = loader.load(&env)?;
    // What no output of this command may replace: the configuration and secrets it read, the
    // run store, the cache, the model registry and the paper account.
    for f in loaded.files.iter().chain(&global.env_file) {
        crate::output::reads(f);
    }
    let c = &loaded.config;
    for dir in [
        &c.mlflow.local_store,
        &c.data.cache.directory,
        &c.registry.directory,
    ] {
        crate::output::keeps(Path::new(dir));
    }
    crate::output::reads(&qts_research::paper::database(&loaded).0);
    Ok(loaded)
}

/// `--columns` and `--date-format` as the `--set` assignments they stand for (each header
/// quoted, so `Close/Last` or `Adj Close` stay text).
fn layout_overrides(global: &GlobalArgs) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    let quote = |v: &str| serde_json::to_string(v.trim()).unwrap_or_default();
    if let Some(columns) = &global.columns {
        for pair in columns.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((key, header)) = pair.split_once('=') else {
                return Err(Failure::Input(anyhow::anyhow!(
                    "--columns takes COLUMN=HEADER pairs separated by commas (date=Date,close=Last), got `{pair}`"
                )));
            };
            let key = key.trim().to_ascii_lowercase();
            if !qts_data::settings::BAR_COLUMNS.contains(&key.as_str()) {
                return Err(Failure::Input(anyhow::anyhow!(
                    "--columns {pair}: `{key}` is not a bar column (one of {})",
                    qts_data::settings::BAR_COLUMNS.join(", ")
                )));
            }
            out.push(format!(
                "data.providers.local.columns.{key}={}",
                quote(header)
            ));
        }
    }
    if let Some(format) = &global.date_format {
        out.push(format!(
            "data.providers.local.date_format={}",
            quote(format)
        ));
    }
    if let Some(events) = &global.events {
        if !events.is_file() {
            return Err(Failure::Input(anyhow::anyhow!(
                "--events {}: no such file",
                events.display()
            )));
        }
        out.push(format!(
            "data.events={}",
            quote(&events.display().to_string())
        ));
    }
    if let Some(basis) = &global.adjustment {
        let basis = qts_data::actions::Basis::parse(basis)
            .map_err(|m| Failure::Input(anyhow::anyhow!("--adjustment: {m}")))?;
        out.push(format!("data.adjustment={basis}"));
    }
    Ok(out)
}

/// Refuses a data file named twice (after resolving links and `..`): it would be traded as two
/// symbols. (The library refuses it too; the command names its flag.)
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

/// `--param KEY=VALUE` pairs.
pub fn parse_params(params: &[String]) -> Result<Vec<(String, String)>, Failure> {
    params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    Failure::Input(anyhow::anyhow!(
                        "--param {p}: expected KEY=VALUE, e.g. fast=10"
                    ))
                })
        })
        .collect()
}

/// The configuration of a backtesting command (`--config` as backtest_config.yaml, `model` as
/// the model file, `--cash` and `--commission` as overrides validated with the rest) and its
/// logging.
pub fn configure(
    global: &GlobalArgs,
    args: &RunArgs,
    model: Option<&Path>,
) -> Result<(Arc<Loaded>, LogGuard), Failure> {
    let mut global_with = global.clone();
    if let Some(cash) = args.cash {
        global_with
            .overrides
            .push(format!("backtest.initial_capital={cash}"));
    }
    if let Some(c) = args.commission {
        global_with
            .overrides
            .push("backtest.costs.commission_model=percent".into());
        global_with
            .overrides
            .push(format!("backtest.costs.commission_rate={c}"));
    }
    let files = SectionFiles {
        backtest: args.config.clone(),
        model: model.map(Path::to_path_buf),
        ..SectionFiles::default()
    };
    let loaded = load_config(&global_with, &files)?;
    let guard = start_logging(global, &loaded)?;
    Ok((Arc::new(loaded), guard))
}

/// What a backtesting command asks the session for.
pub fn ask(args: &RunArgs) -> Result<Ask, Failure> {
    distinct_files(&args.data)?;
    for f in args.data.iter().chain(&args.signals).chain(&args.universe) {
        crate::output::reads(f);
    }
    let symbols = universe_symbols(&args.symbols, args.universe.as_deref())?;
    let data = if symbols.is_empty() {
        Data::Files(args.data.clone())
    } else {
        Data::Universe {
            files: args.data.clone(),
            symbols,
        }
    };
    Ok(Ask {
        data,
        strategy: args.strategy.clone(),
        params: parse_params(&args.params)?,
        signals: args.signals.clone().map(Signals::File),
        execution: args.execution,
        window: Window {
            from: args.from,
            to: args.to,
        },
        overlays: args.overlays,
        allow_in_sample: args.allow_in_sample,
    })
}

/// The configuration, logging and session of a backtesting command.
pub fn session(
    global: &GlobalArgs,
    args: &RunArgs,
    model: Option<&Path>,
) -> Result<(Session, LogGuard), Failure> {
    let (loaded, guard) = configure(global, args, model)?;
    let session = Session::open(loaded, ask(args)?)?;
    Ok((session, guard))
}

/// The symbols of `--symbols` (trimmed, blanks dropped), then the entries of `--universe FILE`.
///
/// # Errors
/// A universe file that cannot be read, is too large or lists nothing.
pub fn universe_symbols(
    symbols: &[String],
    universe: Option<&Path>,
) -> Result<Vec<String>, Failure> {
    let mut out: Vec<String> = symbols
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(file) = universe {
        out.extend(universe_file(file)?);
    }
    Ok(out)
}

/// The most bytes a universe file may have (a list of symbols).
const MAX_UNIVERSE_BYTES: u64 = 1 << 20;

/// The entries of a universe file: one symbol or bar file per line, blank lines and `#`
/// comments skipped; a file named relative to the universe file's folder is given as a path.
fn universe_file(file: &Path) -> Result<Vec<String>, Failure> {
    let bad =
        |reason: String| crate::failure::input(format!("--universe {}: {reason}", file.display()));
    let size = std::fs::metadata(file)
        .map_err(|e| bad(format!("cannot be read: {e}")))?
        .len();
    if size > MAX_UNIVERSE_BYTES {
        return Err(bad(format!(
            "has {size} bytes, over the {MAX_UNIVERSE_BYTES} a list of symbols may have"
        )));
    }
    let text = std::fs::read_to_string(file).map_err(|e| bad(format!("cannot be read: {e}")))?;
    let folder = file.parent().unwrap_or(Path::new(""));
    let entries: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let beside = folder.join(l);
            if !Path::new(l).is_file() && beside.is_file() {
                beside.display().to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    if entries.is_empty() {
        return Err(bad("lists no symbol or file".into()));
    }
    Ok(entries)
}

/// The data of a backtesting command as a page names it: `a.csv, b.csv`, then the symbols
/// chosen.
pub fn data_text(args: &RunArgs) -> String {
    let mut parts: Vec<String> = args.data.iter().map(|p| p.display().to_string()).collect();
    if !args.symbols.is_empty() {
        parts.push(format!("symbols {}", args.symbols.join(",")));
    }
    if let Some(u) = &args.universe {
        parts.push(format!("universe {}", u.display()));
    }
    parts.join(", ")
}

/// The inputs of a live command as text: files as given, or symbols.
pub fn inputs(live: &LiveArgs) -> Vec<String> {
    if live.symbols.is_empty() {
        live.data.iter().map(|p| p.display().to_string()).collect()
    } else {
        live.symbols.iter().map(|s| s.trim().to_string()).collect()
    }
}

/// The day decided for: `--as-of`, else today.
pub fn as_of(given: Option<chrono::NaiveDate>) -> chrono::NaiveDate {
    given.unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// A tracker of this process's command under `loaded`.
pub fn tracker(loaded: &Loaded) -> Tracker<'_> {
    Tracker::start(loaded, Invocation::of_process())
}

/// The configuration of `qts decide` (with `--config` as backtest_config.yaml), logging started.
pub fn decide_configure(
    global: &GlobalArgs,
    args: &DecideArgs,
) -> Result<(Arc<Loaded>, LogGuard), Failure> {
    let files = SectionFiles {
        backtest: args.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(global, &files)?;
    let guard = start_logging(global, &loaded)?;
    Ok((Arc::new(loaded), guard))
}

/// The decision session of `qts decide`'s flags, following `strategy`.
pub fn decide_session(
    loaded: Arc<Loaded>,
    args: &DecideArgs,
    strategy: &str,
) -> Result<Session, Failure> {
    let data = inputs(&args.live);
    if data.is_empty() {
        return Err(input(
            "no data: give --data FILE (repeatable) or --symbols AAPL,MSFT",
        ));
    }
    crate::setup::distinct_files(&args.live.data)?;
    for f in args.live.data.iter().chain(&args.strategy.signals) {
        crate::output::reads(f);
    }
    Ok(Session::live(
        loaded,
        LiveAsk {
            data: LiveData::Inputs {
                inputs: data,
                offline: args.live.offline,
                history_from: args.live.history_from,
            },
            as_of: as_of(args.as_of),
            strategy: strategy.to_string(),
            params: parse_params(&args.strategy.params)?,
            signals: args.strategy.signals.clone(),
            overlays: args.strategy.overlays,
        },
    )?)
}

/// `decision` for the account `--holdings` gives (unchanged without it): the file is read
/// capped, as the untrusted input it is ([`qts_research::session::Session::with_holdings`]).
///
/// # Errors
/// Exit 2 naming the file and line of what is wrong with it.
pub fn for_account(
    session: &qts_research::session::Session,
    decision: qts_backtest::Decision,
    args: &crate::cli::DecideArgs,
) -> Result<qts_backtest::Decision, Failure> {
    let Some(path) = &args.holdings else {
        return Ok(decision);
    };
    let (shown, text) = holdings_file(path)?;
    session
        .with_holdings(decision, Some((&shown, &text)))
        .map_err(crate::failure::input)
}

/// A `--holdings` file's name and text, read capped (1 MiB) as the untrusted input it is.
///
/// # Errors
/// Exit 2 naming the file: unreadable, too large, not UTF-8.
pub fn holdings_file(path: &std::path::Path) -> Result<(String, String), Failure> {
    crate::output::reads(path);
    let shown = path.display().to_string();
    let bytes = match qts_core::fs::read_capped(path, 1 << 20) {
        Ok(Ok(b)) => b,
        Ok(Err(size)) => {
            return Err(crate::failure::input(format!(
                "--holdings {shown}: {size} bytes, over the 1048576 a holdings file may have"
            )));
        }
        Err(e) => return Err(crate::failure::input(format!("--holdings {shown}: {e}"))),
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| crate::failure::input(format!("--holdings {shown}: not UTF-8 text")))?;
    Ok((shown, text))
}

/// Prints a decision as `--json` or a table.
pub fn show_decision(decision: &qts_backtest::Decision, as_json: bool) -> Result<(), Failure> {
    if as_json {
        print(&json(decision)?)
    } else {
        print(&qts_report::render::decision(decision))
    }
}

/// The windows' lengths of the flags, `backtest.walk_forward` where a flag is not given.
pub fn walk_schedule(
    args: &WalkForwardArgs,
    cfg: &qts_config::QtsConfig,
) -> qts_research::walk_forward::Schedule {
    qts_research::walk_forward::Schedule::from_config(
        &cfg.backtest.walk_forward,
        args.train,
        args.test,
        args.step,
        args.anchored,
    )
}

/// Refuses `--from`/`--to`: a walk-forward's windows are `--train`/`--test` bars.
pub fn no_walk_window(args: &WalkForwardArgs) -> Result<(), Failure> {
    if args.run.from.is_some() || args.run.to.is_some() {
        return Err(input(
            "--from/--to do not apply to walk-forward: its windows are --train/--test bars",
        ));
    }
    Ok(())
}

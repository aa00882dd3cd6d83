//! `qts run`: flags → [`qts_research_torch::run::run`] (the main job, end to end, on one data
//! file — the bundled sample by default — or a universe) → the summary, or `summary.json` with
//! `--json`.

use std::path::PathBuf;
use std::sync::Arc;

use qts_cli::cli::{GlobalArgs, PipelineArgs, SectionFiles};
use qts_cli::failure::{Failure, input};
use qts_cli::output::{Bar, print};
use qts_cli::setup::{load_config, start_logging, tracker};
use qts_research::session::{Ask, Data, Session};
use qts_research_torch::run::{
    RunOptions, choose_strategy, quick_overrides, run as run_job, summary_json,
};

/// The bundled sample, read when no data is named.
const SAMPLE: &str = "examples/data/goog_daily.csv";

/// Runs `qts run`.
pub fn run(global: &GlobalArgs, args: &PipelineArgs) -> Result<(), Failure> {
    if let Some(file) = &args.universe {
        qts_cli::output::reads(file);
    }
    let symbols = qts_cli::setup::universe_symbols(&args.symbols, args.universe.as_deref())?;
    qts_cli::setup::distinct_files(&args.data)?;
    let fetched;
    let (data, source) = if !symbols.is_empty() && args.data.is_empty() && args.universe.is_none() {
        // Fresh bars into the cache, then each symbol's cached file is its data.
        let loaded = load_config(global, &SectionFiles::default())?;
        let cfg = &loaded.config;
        let today = chrono::Local::now().date_naive();
        let from = args.history_from.unwrap_or_else(|| {
            today
                .checked_sub_months(chrono::Months::new(240))
                .unwrap_or(today)
        });
        qts_research::live::refresh(cfg, &symbols, today, Some(from))?;
        fetched = symbols
            .iter()
            .map(|s| qts_data::locate::resolve(s, cfg))
            .collect::<Result<Vec<_>, _>>()?;
        let text = fetched
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        (Data::Files(fetched.clone()), text)
    } else if symbols.is_empty() {
        let files = if args.data.is_empty() {
            vec![PathBuf::from(SAMPLE)]
        } else {
            args.data.clone()
        };
        for f in &files {
            if !f.is_file() {
                return Err(input(format!(
                    "{}: no such file (qts run reads the bundled sample from the repository root by default; --data FILE for another)",
                    f.display()
                )));
            }
        }
        let text = files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        (Data::Files(files), text)
    } else {
        let mut text: Vec<String> = args.data.iter().map(|p| p.display().to_string()).collect();
        text.push(format!("symbols {}", symbols.join(",")));
        (
            Data::Universe {
                files: args.data.clone(),
                symbols,
            },
            text.join(", "),
        )
    };
    if let Data::Files(files) | Data::Universe { files, .. } = &data {
        for f in files {
            qts_cli::output::reads(f);
        }
    }
    // Defaults that finish in minutes on a laptop, each yielding to the user's own --set.
    let mut g = global.clone();
    g.overrides = quick_overrides(&args.out, &global.overrides);
    let loaded = load_config(&g, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let quiet = global.quiet > 0 || args.json;
    let bar = Bar::new(
        "model walk-forward [{bar:30}] {pos}/{len} windows {elapsed} elapsed, about {eta} left",
        quiet,
    );
    let benchmark = match &args.benchmark {
        Some(path) => {
            qts_cli::output::reads(path);
            Some((
                qts_data::io::read_returns(path)?,
                path.display().to_string(),
            ))
        }
        None => None,
    };
    let mut ask = Ask::strategy(args.strategy.as_deref().unwrap_or("signal"), data);
    ask.params = qts_cli::setup::parse_params(&args.params)?;
    let mut session = Session::open(Arc::new(loaded), ask)?;
    choose_strategy(&mut session, args.strategy.as_deref()).map_err(crate::failure)?;
    qts_cli::output::check_output(&args.out)?;
    let tracker = tracker(session.loaded());
    let outcome = run_job(
        &session,
        &source,
        &RunOptions {
            out: args.out.clone(),
            train: args.train,
            test: args.test,
            paths: args.paths,
            benchmark,
        },
        &bar,
        &tracker,
    );
    drop(bar);
    let outcome = outcome.map_err(crate::failure)?;
    if args.json {
        return print(&summary_json(&outcome.report));
    }
    print(&qts_report::render::run(
        &outcome.report,
        outcome.walks(),
        &outcome.decision,
    ))
}

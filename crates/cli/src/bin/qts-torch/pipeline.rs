//! `qts run`: flags → [`qts_research_torch::run::run`] (the main job, end to end, on one data
//! file: the bundled sample by default) → the summary, or `summary.json` with `--json`.

use std::sync::Arc;

use qts_cli::cli::{GlobalArgs, PipelineArgs, SectionFiles};
use qts_cli::failure::{Failure, input};
use qts_cli::output::{Bar, print};
use qts_cli::setup::{load_config, start_logging, tracker};
use qts_research::session::{Ask, Data, Session};
use qts_research_torch::run::{RunOptions, quick_overrides, run as run_job, summary_json};

/// Runs `qts run`.
pub fn run(global: &GlobalArgs, args: &PipelineArgs) -> Result<(), Failure> {
    let fetched;
    let data = match &args.symbols {
        Some(symbol) => {
            // Fresh bars into the cache, then the cached file is the data.
            let loaded = load_config(global, &SectionFiles::default())?;
            let cfg = &loaded.config;
            let today = chrono::Local::now().date_naive();
            let from = args.history_from.unwrap_or_else(|| {
                today
                    .checked_sub_months(chrono::Months::new(240))
                    .unwrap_or(today)
            });
            qts_research::live::refresh(cfg, std::slice::from_ref(symbol), today, Some(from))?;
            fetched = qts_data::locate::resolve(symbol, cfg)?;
            &fetched
        }
        None => &args.data,
    };
    if !data.is_file() {
        return Err(input(format!(
            "{}: no such file (qts run reads the bundled sample from the repository root by default; --data FILE for another)",
            data.display()
        )));
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
    let session = Session::open(
        Arc::new(loaded),
        Ask::strategy("signal", Data::Files(vec![data.clone()])),
    )?;
    qts_cli::output::reads(data);
    qts_cli::output::check_output(&args.out)?;
    let tracker = tracker(session.loaded());
    let outcome = run_job(
        &session,
        &data.display().to_string(),
        &RunOptions {
            out: args.out.clone(),
            train: args.train,
            test: args.test,
            paths: args.paths,
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

//! `qts report RUN_DIR` and `qts compare`: result folders → the HTML pages of
//! [`qts_report::html`], read through [`qts_report::folder`].

use crate::cli::{CompareArgs, GlobalArgs, ReportArgs, SectionFiles};
use crate::failure::Failure;
use crate::output::{json, print, write_page};
use crate::setup::{load_config, start_logging};

/// Runs `qts report`.
pub fn run(global: &GlobalArgs, args: &ReportArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    crate::output::reads_result(&args.run);
    let page = qts_report::folder::page_of(&args.run)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run.join("report.html"));
    write_page(&out, &page)
}

/// Runs `qts compare`.
pub fn compare(global: &GlobalArgs, args: &CompareArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    for dir in &args.runs {
        crate::output::reads_result(dir);
    }
    let runs = qts_report::folder::compared_runs(&args.runs)?;
    let c = qts_stats::compare::compare(&qts_report::html::series_of(&runs))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("compare.html"));
    if args.json {
        print(&json(&c)?)?;
    } else {
        print(&qts_report::render::compare(&runs, &c))?;
    }
    write_page(&out, &qts_report::html::compare_page(&runs, &c, None))
}

//! What every command does last: print text or JSON, write a result folder or a page, draw a
//! progress bar that a long library call advances.

use std::io::Write as _;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::failure::{Failure, runtime};

/// Writes `text` to stdout.
pub fn print(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

/// `value` as pretty JSON with a final newline (what `--json` prints).
pub fn json(value: &impl serde::Serialize) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(value).map_err(|e| Failure::Runtime(e.into()))? + "\n")
}

/// Writes a result's files into `dir` as one unit, with its manifest last.
pub fn write_result(dir: &Path, files: &[(&str, String)]) -> Result<(), Failure> {
    qts_report::folder::write(dir, files)
        .map_err(|e| runtime(format!("{}: cannot write: {e}", dir.display())))
}

/// Writes a page atomically and says where, last.
pub fn write_page(path: &Path, page: &str) -> Result<(), Failure> {
    qts_report::write_page(path, page)
        .map_err(|e| runtime(format!("{}: cannot write: {e}", path.display())))?;
    eprintln!(
        "report: {} ({} KB)",
        path.display(),
        page.len().div_ceil(1024)
    );
    Ok(())
}

/// A progress bar, hidden with `-q` or `--json`, that a library call advances
/// ([`qts_research::Progress`]); its stages print as `[n/N] what` above it.
pub struct Bar {
    bar: ProgressBar,
    stages: bool,
}

impl Bar {
    /// A bar drawn with `template`, hidden when `hidden`.
    pub fn new(template: &str, hidden: bool) -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        if hidden {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        Bar {
            bar,
            stages: !hidden,
        }
    }

    /// The bar itself (a training run's batches).
    pub fn inner(&self) -> &ProgressBar {
        &self.bar
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl qts_research::Progress for Bar {
    fn at(&self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }

    fn step(&self) {
        self.bar.inc(1);
    }

    fn stage(&self, n: usize, of: usize, what: &str) {
        if self.stages {
            self.bar.suspend(|| eprintln!("[{n}/{of}] {what}"));
        }
    }

    fn suspend(&self, f: &mut dyn FnMut()) {
        self.bar.suspend(f)
    }
}

/// Writes `--out` and `--report`, and prints a walk-forward's table or JSON (strategy and
/// model alike); `what` names what was walked forward, for the page.
pub fn finish_walk(
    args: &crate::cli::WalkForwardArgs,
    report: &qts_research::walk_forward::WalkForwardReport,
    what: &str,
) -> Result<(), Failure> {
    let data = crate::setup::data_text(&args.run);
    let described = report.described(what, &data);
    if let Some(dir) = &args.out {
        write_result(
            dir,
            &qts_report::folder::walk_forward_files(report, &described),
        )?;
    }
    if let Some(path) = &args.report {
        write_page(
            path,
            &qts_report::html::walk_forward_report_page(report, what, &data),
        )?;
    }
    if args.json {
        print(&json(&described)?)
    } else {
        print(&qts_report::render::walk_forward(report))
    }
}

//! What every command does last: print text or JSON, write a result folder or a page, draw a
//! progress bar that a long library call advances.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::failure::{Failure, runtime};

/// Writes `text` to stdout; a reader that went away (`qts … | head`) ends the command
/// quietly ([`Failure::ClosedPipe`]), as `ripgrep` and `git` do.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Failure::ClosedPipe,
            _ => Failure::Runtime(e.into()),
        })
}

/// `value` as pretty JSON with a final newline (what `--json` prints).
pub fn json(value: &impl serde::Serialize) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(value).map_err(|e| Failure::Runtime(e.into()))? + "\n")
}

/// What this command reads: data files, configuration files, the account, the run store, the
/// cache, the model registry, a result folder's files. Every write below checks it is none of
/// them ([`check_output`]).
static INPUTS: Mutex<Vec<(PathBuf, bool)>> = Mutex::new(Vec::new());

/// Records the file `path` as an input of this command.
pub fn reads(path: &Path) {
    if let Ok(mut all) = INPUTS.lock() {
        all.push((path.to_path_buf(), false));
    }
}

/// Records the folder `dir` (existing or not yet) as kept by this command: nothing is written
/// inside it.
pub fn keeps(dir: &Path) {
    if let Ok(mut all) = INPUTS.lock() {
        all.push((dir.to_path_buf(), true));
    }
}

/// Records the files of the result folder `dir` as inputs of this command (its other files,
/// such as a page drawn earlier, are not).
pub fn reads_result(dir: &Path) {
    for name in qts_report::folder::FILES {
        reads(&dir.join(name));
    }
}

/// `path` with its links and `..` resolved; for a path not written yet, its nearest existing
/// ancestor resolved and the rest appended.
fn resolved(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(at) {
            return rest.iter().rev().fold(real, |p, name| p.join(name));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Refuses an output that is one of the command's inputs ([`reads`]), the same file by its
/// resolved path (links followed), or a path inside a folder the command keeps ([`keeps`]): an output never replaces
/// what it is computed from, the account, the run store or the configuration.
pub fn check_output(path: &Path) -> Result<(), Failure> {
    let out = resolved(path);
    let inputs = INPUTS.lock().map(|all| all.clone()).unwrap_or_default();
    for (input, folder) in inputs {
        let real = resolved(&input);
        if out == real || (folder && out.starts_with(&real)) {
            return Err(crate::failure::input(format!(
                "{} would overwrite {}, an input of this command: write the output elsewhere",
                path.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// Writes a result's files into `dir` as one unit, with its manifest last.
pub fn write_result(dir: &Path, files: &[(&str, String)]) -> Result<(), Failure> {
    check_output(dir)?;
    for (name, _) in files {
        check_output(&dir.join(name))?;
    }
    qts_report::folder::write(dir, files)
        .map_err(|e| runtime(format!("{}: cannot write: {e}", dir.display())))
}

/// Writes a file atomically (`--out FILE`).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    check_output(path)?;
    qts_core::fs::write_atomic(path, bytes)
        .map_err(|e| runtime(format!("{}: cannot write: {e}", path.display())))
}

/// Writes a page atomically and says where, last.
pub fn write_page(path: &Path, page: &str) -> Result<(), Failure> {
    check_output(path)?;
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

//! Re-running a tracked run from what it logged — its arguments, its effective
//! configuration (`config.yaml`) and the SHA-256 of the data it read — in a scratch directory
//! (its own run store, registry and output folders, nothing sent to a server), and checking
//! that every metric came out the same, to the bit. What `qts reproduce` and `qts.reproduce`
//! call; the re-run is the `qts` executable given.

use std::path::{Path, PathBuf};

use qts_config::{ConfigLoader, Loaded};
use qts_core::config::{Environment, Section};
use qts_tracking::{RunStore, StoredRun};
use serde::Serialize;

use crate::error::ResearchError;

/// One metric, as logged and as reproduced.
#[derive(Debug, Clone, Serialize)]
pub struct MetricCheck {
    /// The metric.
    pub key: String,
    /// Its step.
    pub step: i64,
    /// As logged.
    pub logged: f64,
    /// As the re-run logged it.
    pub reproduced: Option<f64>,
    /// Whether the two are the same bits.
    pub same: bool,
}

/// What `qts reproduce --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Reproduction {
    /// The run re-run.
    pub run: String,
    /// Its command.
    pub command: String,
    /// The arguments re-run (after the global flags the re-run sets itself), outputs sent to
    /// the scratch folder.
    pub argv: Vec<String>,
    /// The data files and whether their bytes are those the run read.
    pub data: Vec<String>,
    /// Whether the data files are the bytes the run read.
    pub data_unchanged: bool,
    /// Every logged metric against the re-run's.
    pub metrics: Vec<MetricCheck>,
    /// Whether every metric came out the same.
    pub same: bool,
}

/// The kinds of run `reproduce` re-runs: those computed from local data files alone.
pub const REPRODUCIBLE: [&str; 6] = [
    "backtest",
    "optimize",
    "walk-forward",
    "monte-carlo",
    "train",
    "run",
];

/// The environment a re-run keeps: what finds the executable and its libraries, the locale,
/// and where an instrumented build writes its coverage profile (`LLVM_PROFILE_FILE`; without
/// it a profile lands in the working folder). Credentials and `${VAR}` values are not passed on.
fn kept_env(name: &str) -> bool {
    matches!(
        name,
        "PATH"
            | "HOME"
            | "TMPDIR"
            | "TZ"
            | "LANG"
            | "LC_ALL"
            | "NO_COLOR"
            | "RAYON_NUM_THREADS"
            | "LLVM_PROFILE_FILE"
    ) || ["LD_", "DYLD_", "LIBTORCH"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Whether `yaml` holds a `${…}` placeholder (`$${` is a literal): a logged configuration is
/// written expanded, so a placeholder means the file was edited to pull a value in.
fn has_placeholder(yaml: &str) -> bool {
    let b = yaml.as_bytes();
    (0..b.len().saturating_sub(1))
        .any(|i| b[i] == b'$' && b[i + 1] == b'{' && (i == 0 || b[i - 1] != b'$'))
}

fn tag<'a>(r: &'a StoredRun, key: &str) -> Option<&'a str> {
    r.run
        .tags
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The arguments of the original command without the global flags the scratch run sets
/// itself, with `--out`/`--report` sent to the scratch directory and `--config`/
/// `--model-config` to the logged settings of their section.
fn rewrite(argv: &[String], scratch: &Path, command: &str) -> Vec<String> {
    let takes_value = ["-C", "--config-dir", "--set", "-s", "--env-file"];
    let mut out = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].as_str();
        let flag = a.split('=').next().unwrap_or(a);
        if takes_value.contains(&flag) {
            i += if a.contains('=') { 1 } else { 2 };
            continue;
        }
        if a.starts_with('-')
            && !a.starts_with("--")
            && a.trim_start_matches('-')
                .chars()
                .all(|c| c == 'q' || c == 'v')
        {
            i += 1;
            continue;
        }
        if matches!(a, "--quiet" | "--verbose") {
            i += 1;
            continue;
        }
        // `--out DIR` and `--out=DIR` alike.
        let (name, inline) = match a.split_once('=') {
            Some((name, _)) if name.starts_with("--") => (name, true),
            _ => (a, false),
        };
        let replaced = match name {
            "--out" => Some(scratch.join("out").display().to_string()),
            "--report" => Some(scratch.join("report.html").display().to_string()),
            // `train --config` is the model's file; elsewhere it is backtest_config.yaml.
            "--config" if command == "train" => {
                Some(scratch.join("model.yaml").display().to_string())
            }
            "--config" => Some(scratch.join("backtest.yaml").display().to_string()),
            "--model-config" => Some(scratch.join("model.yaml").display().to_string()),
            _ => None,
        };
        match replaced {
            Some(v) if inline => {
                out.push(format!("{name}={v}"));
                i += 1;
            }
            Some(v) if i + 1 < argv.len() => {
                out.push(name.to_string());
                out.push(v);
                i += 2;
            }
            _ => {
                out.push(a.to_string());
                i += 1;
            }
        }
    }
    out
}

/// Re-runs the tracked run `run` of `loaded`'s run store with the `qts` executable `exe`
/// (`env` fills the logged configuration's placeholders).
///
/// # Errors
/// [`ResearchError::Input`]: no such run, a run that cannot be re-run (a paper step, one
/// logged without its arguments or configuration, one recorded from Python), data whose bytes
/// changed; [`ResearchError::Runtime`] when the re-run fails.
pub fn reproduce(
    loaded: &Loaded,
    env: &Environment,
    run: &str,
    exe: &Path,
) -> Result<Reproduction, ResearchError> {
    let input = |m: String| ResearchError::Input(m);
    let runtime = |e: &dyn std::fmt::Display| ResearchError::Runtime(e.to_string());
    let store = RunStore::new(&loaded.config.mlflow.local_store);
    let stored = store.load(run).map_err(|e| input(format!("{run}: {e}")))?;
    let command = tag(&stored, "qts.command").unwrap_or("").to_string();
    if command == "paper step" {
        return Err(input(format!(
            "{}: a paper step moves its account on; it is checked against the account's own history at every step, not re-run",
            run
        )));
    }
    if !REPRODUCIBLE.contains(&command.as_str()) {
        return Err(input(format!(
            "{run}: a run of `{command}` is not re-run; reproduce re-runs {}",
            REPRODUCIBLE.join(", ")
        )));
    }
    let argv: Vec<String> = tag(&stored, "qts.argv")
        .and_then(|a| serde_json::from_str(a).ok())
        .ok_or_else(|| {
            input(format!(
                "{}: the run has no qts.argv tag (logged by an older qts, or from Python); it cannot be re-run",
                run
            ))
        })?;
    let config = qts_tracking::store::artifact_bytes(&stored, Path::new("artifacts/config.yaml"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            input(format!(
                "{}: the run has no config.yaml artifact (logged by an older qts); it cannot be re-run",
                run
            ))
        })?;
    if has_placeholder(&config) {
        return Err(input(format!(
            "{run}: its config.yaml holds a ${{…}} placeholder, which qts never logs (the file was edited); it is not re-run"
        )));
    }
    let cwd = tag(&stored, "qts.cwd")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from("."));
    // The data must be the bytes the run read.
    let files: Vec<String> = tag(&stored, "qts.data_files")
        .map(|f| {
            f.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut bytes = Vec::new();
    for f in &files {
        let path = cwd.join(f);
        bytes.extend(std::fs::read(&path).map_err(|e| {
            input(format!(
                "{}: the run read {}, which cannot be read now: {e}",
                run,
                path.display()
            ))
        })?);
    }
    let data_unchanged = match tag(&stored, "qts.data_hash") {
        Some(h) => qts_core::hex::sha256(&bytes) == h,
        None => files.is_empty(),
    };
    if !data_unchanged {
        return Err(input(format!(
            "{}: the data files ({}) are not the bytes the run read (SHA-256 differs): the run cannot be reproduced from them",
            run,
            files.join(", ")
        )));
    }
    // The scratch directory: the logged settings as the whole configuration.
    let scratch = tempfile::tempdir().map_err(|e| runtime(&e))?;
    let dir = scratch.path();
    let config_dir = dir.join("config");
    std::fs::create_dir_all(&config_dir).map_err(|e| runtime(&e))?;
    // Secrets were logged as `***`, which reads back as unset: the re-run has none (it reads
    // the logged data files, not a provider).
    std::fs::write(config_dir.join("base_config.yaml"), &config).map_err(|e| runtime(&e))?;
    let logged = ConfigLoader::new()
        .file(Section::Base, config_dir.join("base_config.yaml"))
        .load(env)
        .map_err(|e| input(format!("{}: its config.yaml does not load: {e}", run)))?;
    let write = |name: &str, yaml: Result<String, qts_core::config::YamlWriteError>| {
        let yaml = yaml.map_err(|e| runtime(&e))?;
        std::fs::write(dir.join(name), yaml).map_err(|e| runtime(&e))
    };
    write(
        "model.yaml",
        qts_core::config::to_yaml(&logged.config.model),
    )?;
    write(
        "backtest.yaml",
        qts_core::config::to_yaml(&logged.config.backtest),
    )?;
    let runs = dir.join("runs");
    let args = rewrite(&argv, dir, &command);
    // The command line must run the kind of command the run records, nothing else.
    let words = command.split(' ').count();
    if args.len() < words || args[..words].join(" ") != command {
        return Err(input(format!(
            "{run}: its recorded command line runs `{}`, not the {command} the run records (the run was edited); it is not re-run",
            args.first().map_or("", String::as_str)
        )));
    }
    let no_env = dir.join("empty.env");
    std::fs::write(&no_env, "").map_err(|e| runtime(&e))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.current_dir(&cwd)
        .env_clear()
        .envs(std::env::vars_os().filter(|(k, _)| kept_env(&k.to_string_lossy())))
        .arg("-q")
        .arg("-C")
        .arg(&config_dir)
        .arg("--env-file")
        .arg(&no_env)
        .args([
            "--set",
            "mlflow.enabled=true",
            "--set",
            "mlflow.tracking_uri=\"\"",
        ])
        .arg("--set")
        .arg(format!("mlflow.local_store={}", runs.display()))
        .arg("--set")
        .arg(format!(
            "registry.directory={}",
            dir.join("models").display()
        ))
        .arg("--set")
        .arg(format!(
            "model.training.checkpoints.directory={}",
            dir.join("checkpoints").display()
        ))
        // Nothing fetched (the data are the files hashed above), no log written elsewhere.
        .args(["--set", "data.cache.policy=offline"])
        .args(["--set", "logging.file.enabled=false"])
        .args(&args)
        .stdout(std::process::Stdio::null());
    tracing::info!(run = %run, command = %command, "re-running");
    let status = cmd.output().map_err(|e| runtime(&e))?;
    if !status.status.success() {
        return Err(ResearchError::Runtime(format!(
            "{}: the re-run failed (exit {}): {}",
            run,
            status.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&status.stderr).trim()
        )));
    }
    let again = RunStore::new(&runs).list().map_err(|e| runtime(&e))?;
    let Some(again) = again
        .iter()
        .find(|r| tag(r, "qts.command") == Some(command.as_str()))
    else {
        return Err(ResearchError::Runtime(format!(
            "{}: the re-run tracked no {command} run",
            run
        )));
    };
    let metrics: Vec<MetricCheck> = stored
        .run
        .metrics
        .iter()
        .map(|m| {
            let r = again
                .run
                .metrics
                .iter()
                .find(|x| x.key == m.key && x.step == m.step)
                .map(|x| x.value);
            MetricCheck {
                key: m.key.clone(),
                step: m.step,
                logged: m.value,
                reproduced: r,
                same: r.is_some_and(|v| v.to_bits() == m.value.to_bits()),
            }
        })
        .collect();
    let same = !metrics.is_empty() && metrics.iter().all(|m| m.same);
    Ok(Reproduction {
        run: run.to_string(),
        command: command.clone(),
        argv: args,
        data: files,
        data_unchanged,
        metrics,
        same,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduce_of_a_run_logged_with_out_equals_writes_in_its_scratch_folder() {
        let argv: Vec<String> = [
            "backtest",
            "--data",
            "goog.csv",
            "--out=/home/me/results",
            "--report=/home/me/r.html",
            "--config",
            "mine.yaml",
            "--set=backtest.initial_capital=1",
            "-qv",
        ]
        .map(String::from)
        .to_vec();
        let scratch = Path::new("/scratch");
        assert_eq!(
            rewrite(&argv, scratch, "backtest"),
            [
                "backtest",
                "--data",
                "goog.csv",
                "--out=/scratch/out",
                "--report=/scratch/report.html",
                "--config",
                "/scratch/backtest.yaml",
            ]
        );
    }
}

//! `qts experiments list|show|sync`: the local run store, and sending it to a server.

use std::io::Write as _;

use anyhow::anyhow;
use comfy_table::Table;
use qts_tracking::RunStore;

use super::setup::{load_config, start_logging};
use crate::cli::{ExperimentsCommand, GlobalArgs, SectionFiles};
use crate::failure::Failure;

fn out(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(v).map_err(|e| Failure::Runtime(e.into()))? + "\n")
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Runs `qts experiments …`.
pub fn run(global: &GlobalArgs, command: &ExperimentsCommand) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config.mlflow;
    let store = RunStore::new(&cfg.local_store);
    let failure = |e: qts_tracking::TrackingError| match e {
        qts_tracking::TrackingError::UnknownRun(_) | qts_tracking::TrackingError::NoServer => {
            Failure::Input(e.into())
        }
        other => Failure::Runtime(other.into()),
    };
    match command {
        ExperimentsCommand::List { json: as_json } => {
            let runs = store.list().map_err(failure)?;
            if *as_json {
                return out(&json(&runs)?);
            }
            let mut t = Table::new();
            t.set_header(vec![
                "run",
                "started",
                "experiment",
                "name",
                "status",
                "sent to",
            ]);
            for r in &runs {
                t.add_row(vec![
                    r.run_id.clone(),
                    when(r.run.start_time),
                    r.run.experiment.clone(),
                    r.run.name.clone(),
                    r.run.status.clone(),
                    r.sent
                        .iter()
                        .map(|s| s.uri.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]);
            }
            out(&format!(
                "{} run(s) in {}\n{t}\n",
                runs.len(),
                cfg.local_store
            ))
        }
        ExperimentsCommand::Show { run, json: as_json } => {
            let r = store.load(run).map_err(failure)?;
            if *as_json {
                return out(&json(&r)?);
            }
            let mut text = format!(
                "{} · {} · {} · {} .. {}\n",
                r.run_id,
                r.run.name,
                r.run.status,
                when(r.run.start_time),
                when(r.run.end_time)
            );
            let mut t = Table::new();
            t.set_header(vec!["metric", "step", "value"]);
            for m in &r.run.metrics {
                t.add_row(vec![
                    m.key.clone(),
                    m.step.to_string(),
                    format!("{:.6}", m.value),
                ]);
            }
            text.push_str(&format!("{t}\n"));
            for (k, v) in &r.run.tags {
                text.push_str(&format!("tag {k} = {v}\n"));
            }
            text.push_str(&format!(
                "{} params; artifacts: {}\n",
                r.run.params.len(),
                r.run
                    .artifacts
                    .iter()
                    .map(|a| a.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            out(&text)
        }
        ExperimentsCommand::Sync { json: as_json } => {
            let report = qts_tracking::sync(cfg).map_err(failure)?;
            if *as_json {
                out(&json(&report)?)?;
            } else {
                out(&format!(
                    "sent {} run(s) to {}; {} already there; {} failed\n",
                    report.sent.len(),
                    cfg.tracking_uri,
                    report.already,
                    report.failed.len()
                ))?;
                for (id, why) in &report.failed {
                    out(&format!("  {id}: {why}\n"))?;
                }
            }
            if report.failed.is_empty() {
                Ok(())
            } else {
                Err(Failure::Runtime(anyhow!(
                    "{} run(s) could not be sent; they stay in {}",
                    report.failed.len(),
                    cfg.local_store
                )))
            }
        }
    }
}

//! `qts experiments list|show|compare|best|sync|ui`: the local run store
//! ([`qts_tracking`]), and sending it to a server.

use qts_report::render::runs;
use qts_tracking::RunStore;

use crate::cli::{ExperimentsCommand, GlobalArgs, SectionFiles};
use crate::failure::{Failure, input, runtime};
use crate::output::{json, print};
use crate::setup::{load_config, start_logging};

/// Runs `qts experiments …`.
pub fn run(global: &GlobalArgs, command: &ExperimentsCommand) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config.mlflow;
    let store = RunStore::new(&cfg.local_store);
    match command {
        ExperimentsCommand::List { json: as_json } => {
            let all = store.list()?;
            if *as_json {
                return print(&json(&all)?);
            }
            print(&runs::list(&all, &cfg.local_store))
        }
        ExperimentsCommand::Show { run, json: as_json } => {
            // `latest`: the newest run, so a script needs no id (run ids start with digits).
            let r = if run == "latest" {
                store
                    .list()?
                    .pop()
                    .ok_or_else(|| input(format!("no run in {} to show", cfg.local_store)))?
            } else {
                store.load(run)?
            };
            if *as_json {
                return print(&json(&r)?);
            }
            print(&runs::show(&r))
        }
        ExperimentsCommand::Compare {
            runs: ids,
            json: as_json,
        } => {
            let stored = ids
                .iter()
                .map(|r| store.load(r))
                .collect::<Result<Vec<_>, _>>()?;
            let c = qts_tracking::compare::compare(&stored)?;
            if *as_json {
                return print(&json(&c)?);
            }
            print(&runs::compare(&c))
        }
        ExperimentsCommand::Best {
            metric,
            json: as_json,
        } => {
            let best = qts_tracking::compare::best(&store.list()?, metric)?;
            if *as_json {
                return print(&json(&best)?);
            }
            print(&runs::best(&best))
        }
        ExperimentsCommand::Ui { dir, port } => {
            let ui = qts_tracking::ui::Ui::start(cfg, dir, *port)?;
            match qts_tracking::sync(&ui.config) {
                Ok(r) => eprintln!(
                    "sent {} run(s) from {} ({} already there, {} failed)",
                    r.sent.len(),
                    cfg.local_store,
                    r.already,
                    r.failed.len()
                ),
                Err(e) => eprintln!("warning: the runs could not be sent: {e:?}"),
            }
            print(&format!(
                "MLflow UI: {} (database {}; Ctrl-C stops it)\n",
                ui.uri,
                ui.database.display()
            ))?;
            let status = ui.wait()?;
            tracing::info!(%status, "mlflow server stopped");
            Ok(())
        }
        ExperimentsCommand::Sync { json: as_json } => {
            let report = qts_tracking::sync(cfg)?;
            if *as_json {
                print(&json(&report)?)?;
            } else {
                print(&format!(
                    "sent {} run(s) to {}; {} already there; {} failed\n",
                    report.sent.len(),
                    cfg.tracking_uri,
                    report.already,
                    report.failed.len()
                ))?;
                for (id, why) in &report.failed {
                    print(&format!("  {id}: {why}\n"))?;
                }
            }
            for (id, why) in &report.broken {
                eprintln!("warning: run {id} skipped: {why}");
            }
            if report.failed.is_empty() {
                Ok(())
            } else {
                Err(runtime(format!(
                    "{} run(s) could not be sent; they stay in {}",
                    report.failed.len(),
                    cfg.local_store
                )))
            }
        }
    }
}

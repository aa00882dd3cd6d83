//! `qts reproduce RUN_ID`: flags → [`qts_research::reproduce::reproduce`] (with this
//! executable) → whether every metric came out the same, to the bit.

use comfy_table::Table;
use qts_research::reproduce::MetricCheck;

use crate::cli::{GlobalArgs, ReproduceArgs, SectionFiles};
use crate::failure::{Failure, runtime};
use crate::output::{json, print};
use crate::setup::{environment, load_config, start_logging};

/// Runs `qts reproduce`.
pub fn run(global: &GlobalArgs, args: &ReproduceArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let exe = std::env::current_exe().map_err(runtime)?;
    let report =
        qts_research::reproduce::reproduce(&loaded, &environment(global)?, &args.run, &exe)?;
    let text = if args.json {
        json(&report)?
    } else {
        let differing: Vec<&MetricCheck> = report.metrics.iter().filter(|m| !m.same).collect();
        let mut text = format!(
            "{} ({}): data unchanged (SHA-256); {} of {} metrics reproduced exactly\nre-ran: qts {}\n",
            report.run,
            report.command,
            report.metrics.len() - differing.len(),
            report.metrics.len(),
            report.argv.join(" ")
        );
        if !differing.is_empty() {
            let mut t = Table::new();
            t.set_header(vec!["metric", "step", "logged", "reproduced"]);
            for m in differing.iter().take(30) {
                t.add_row(vec![
                    m.key.clone(),
                    m.step.to_string(),
                    format!("{:e}", m.logged),
                    m.reproduced.map_or("missing".into(), |v| format!("{v:e}")),
                ]);
            }
            text.push_str(&format!("{t}\n"));
        }
        text
    };
    print(&text)?;
    if report.same {
        Ok(())
    } else {
        Err(Failure::Verdict)
    }
}

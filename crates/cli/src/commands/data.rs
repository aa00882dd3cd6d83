//! `qts data validate`.

use std::path::Path;

use comfy_table::{ContentArrangement, Table};
use qts_core::logging::RunContext;
use qts_data::io::read_bars_as;
use qts_data::validate::{Report, validate};

use crate::cli::{DataCommand, GlobalArgs, SectionFiles};
use crate::failure::Failure;
use crate::setup::{load_config, start_logging};

/// Runs a `data` subcommand.
pub fn run(global: &GlobalArgs, command: &DataCommand) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    match command {
        DataCommand::Fetch(args) => super::fetch::fetch(&loaded.config, args),
        DataCommand::Cache(c) => super::fetch::cache(&loaded.config, c),
        DataCommand::Validate {
            input,
            json,
            as_of,
            report: page,
        } => {
            let path = qts_data::locate::resolve(input, &loaded.config)?;
            crate::output::reads(&path);
            let span = RunContext::new("data validate")
                .symbol(input.as_str())
                .span();
            let _run = span.enter();
            let bars = read_bars_as(
                &path,
                &loaded.config.data.limits,
                &loaded.config.data.providers.local.layout(),
            )?;
            let today = as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
            let cfg = &loaded.config;
            let report = validate(&bars, &cfg.validation, &cfg.data.quality, today);
            tracing::info!(
                bars = report.bars,
                findings = report.findings.len(),
                "validated"
            );
            let text = if *json {
                let summary = report.summary();
                let value = serde_json::json!({
                    "file": path.display().to_string(),
                    "report": report,
                    "summary": summary,
                });
                serde_json::to_string_pretty(&value).map_err(|e| Failure::Runtime(e.into()))? + "\n"
            } else {
                render(&path, &report)
            };
            crate::output::print(&text)?;
            if let Some(out) = page {
                crate::output::write_page(
                    out,
                    &qts_report::html::data_quality_page(
                        &path.display().to_string(),
                        &bars,
                        &report,
                    ),
                )?;
            }
            match report.worst() {
                Some(worst) if worst >= cfg.data.quality.fail_on => Err(Failure::Verdict),
                _ => Ok(()),
            }
        }
    }
}

fn render(path: &Path, report: &Report) -> String {
    let s = report.summary();
    let range = match (report.first, report.last) {
        (Some(a), Some(b)) => format!("{} .. {}", a.date(), b.date()),
        _ => "-".into(),
    };
    let mut out = format!(
        "{}: {} bars, {range}: {} errors, {} warnings, {} infos\n",
        path.display(),
        report.bars,
        s.errors,
        s.warnings,
        s.infos
    );
    if report.findings.is_empty() {
        out.push_str("no findings: every check passed\n");
        return out;
    }
    let mut table = Table::new();
    table
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(110)
        .set_header(vec!["severity", "check", "finding"]);
    for f in &report.findings {
        let severity = f.severity.to_string();
        table.add_row(vec![severity, f.check.to_string(), f.message.clone()]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out
}

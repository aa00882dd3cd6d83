//! `qts data validate` (of one symbol's bars, or of each symbol of a wide file of closes).

use std::path::Path;

use comfy_table::{ContentArrangement, Table};
use qts_core::logging::RunContext;
use qts_data::io::read_all_hashed_as;
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
            let (all, _) = read_all_hashed_as(
                &[&path],
                &loaded.config.data.limits,
                &loaded.config.data.providers.local.layout(),
            )?;
            let today = as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
            let cfg = &loaded.config;
            // Judged on the prices as traded, with every action known (the events file's
            // too): a jump an action explains is that action.
            let events = qts_data::actions::configured_events(&cfg.data)?;
            let shown = path.display().to_string();
            let all = all
                .into_iter()
                .map(|b| {
                    qts_data::actions::prepare(
                        b,
                        events.as_ref(),
                        qts_data::actions::Basis::Raw,
                        &shown,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            if all.len() > 1 {
                // A wide file of closes: each symbol validated on the bars it has.
                let reports: Vec<Report> = all
                    .iter()
                    .map(|b| {
                        let own = qts_data::universe::present(b);
                        validate(&own, &cfg.validation, &cfg.data.quality, today)
                    })
                    .collect();
                return finish_wide(&path, &reports, *json, page.as_deref(), cfg);
            }
            let bars = all.into_iter().next().unwrap_or_default();
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

/// A wide file's validation: a line and the findings of each symbol (JSON: `reports`, one per
/// symbol, and their `summary` added up), its page, and the verdict of the worst finding.
fn finish_wide(
    path: &Path,
    reports: &[Report],
    json: bool,
    page: Option<&Path>,
    cfg: &qts_config::QtsConfig,
) -> Result<(), Failure> {
    let mut total = qts_data::validate::Summary::default();
    for r in reports {
        let s = r.summary();
        total.errors += s.errors;
        total.warnings += s.warnings;
        total.infos += s.infos;
    }
    tracing::info!(
        symbols = reports.len(),
        findings = reports.iter().map(|r| r.findings.len()).sum::<usize>(),
        "validated"
    );
    let text = if json {
        let value = serde_json::json!({
            "file": path.display().to_string(),
            "symbols": reports.iter().map(|r| r.source.clone()).collect::<Vec<_>>(),
            "reports": reports,
            "summary": total,
        });
        serde_json::to_string_pretty(&value).map_err(|e| Failure::Runtime(e.into()))? + "\n"
    } else {
        let mut out = format!(
            "{}: a wide file of {} symbols' closes, each validated on the bars it has: {} errors, {} warnings, {} infos\n",
            path.display(),
            reports.len(),
            total.errors,
            total.warnings,
            total.infos
        );
        for r in reports {
            out.push_str(&render(Path::new(&r.source), r));
        }
        out
    };
    crate::output::print(&text)?;
    if let Some(out) = page {
        crate::output::write_page(
            out,
            &qts_report::html::universe_quality_page(&path.display().to_string(), reports),
        )?;
    }
    match reports.iter().filter_map(Report::worst).max() {
        Some(worst) if worst >= cfg.data.quality.fail_on => Err(Failure::Verdict),
        _ => Ok(()),
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

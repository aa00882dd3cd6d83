//! `qts models import|list|show|compare|promote`: flags → the registry
//! ([`qts_models::Registry`], [`qts_research_torch::registry`]) → a table or JSON.

use comfy_table::Table;
use qts_cli::cli::{GlobalArgs, ModelsCommand, SectionFiles};
use qts_cli::failure::{Failure, input};
use qts_cli::output::{json, print, write_page};
use qts_cli::setup::{environment, load_config, start_logging};
use qts_core::logging::RunContext;
use qts_models::compare::ModelComparison;
use qts_models::{ModelCard, Registry};
use qts_research_torch::registry::{self, Weights};

use crate::failure;

/// Runs a `models` subcommand.
pub fn run(global: &GlobalArgs, command: &ModelsCommand) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;
    let registry = Registry::new(&cfg.registry.directory);
    match command {
        ModelsCommand::Import {
            safetensors,
            pytorch,
            config,
            name,
        } => {
            let weights = match (safetensors, pytorch) {
                (Some(p), _) => Weights::Safetensors(p.clone()),
                (None, Some(p)) => Weights::Pytorch(p.clone()),
                (None, None) => {
                    return Err(input(
                        "give the weights with --safetensors FILE or --pytorch FILE",
                    ));
                }
            };
            let span = RunContext::new("models import").model_type("lstm").span();
            let _run = span.enter();
            let (card, shape) =
                registry::import(&registry, &environment(global)?, &weights, config, name)
                    .map_err(failure)?;
            print(&format!(
                "registered {}@{} (LSTM, input size {}, hidden {}, {} layers) in {}\n",
                card.name,
                card.version,
                shape.input_size,
                shape.hidden_size,
                shape.num_layers,
                registry.version_dir(&card.name, card.version).display()
            ))
        }
        ModelsCommand::List { json: as_json } => {
            let rows = registry.summaries().map_err(failure)?;
            if *as_json {
                return print(&json(&rows)?);
            }
            if rows.is_empty() {
                return print(&format!("no models in {}\n", registry.root().display()));
            }
            let mut t = Table::new();
            t.set_header(vec!["name", "versions", "latest", "aliases"]);
            for r in &rows {
                let aliases: Vec<String> =
                    r.aliases.iter().map(|(k, v)| format!("{k}→{v}")).collect();
                t.add_row(vec![
                    r.name.clone(),
                    r.versions.len().to_string(),
                    r.versions.last().map(u32::to_string).unwrap_or_default(),
                    aliases.join(", "),
                ]);
            }
            print(&format!("{t}\n"))
        }
        ModelsCommand::Show {
            model,
            json: as_json,
        } => {
            let (registry, card) = registry::find(cfg, model).map_err(failure)?;
            if *as_json {
                return print(&json(&card)?);
            }
            print(&show(&registry, &card))
        }
        ModelsCommand::Compare {
            models,
            json: as_json,
            report,
        } => {
            let compared =
                qts_models::compare::compare_models(&registry, models).map_err(failure)?;
            if let Some(path) = report {
                let columns = registry::columns(&registry, &compared.cards).map_err(failure)?;
                write_page(
                    path,
                    &qts_report::html::models_page(&columns, &compared.tests),
                )?;
            }
            if *as_json {
                return print(&json(&compared.metrics)?);
            }
            print(&compare(&compared))
        }
        ModelsCommand::Promote { model, alias } => {
            let (name, v, remote) = registry::promote_both(cfg, model, alias).map_err(failure)?;
            let mut text = format!("{name}@{alias} → version {v}\n");
            if let Some(m) = remote {
                text.push_str(&format!(
                    "MLflow ({}): registered model {name} version {} (from run {}), alias {alias}\n",
                    cfg.mlflow.tracking_uri, m.version, m.run_id
                ));
            }
            print(&text)
        }
    }
}

/// A version's card as a person reads it.
fn show(registry: &Registry, card: &ModelCard) -> String {
    let dir = registry.version_dir(&card.name, card.version);
    let mut text = format!(
        "{}@{} ({}, input size {}, from {})\ncreated {}\ndirectory {}\n",
        card.name,
        card.version,
        card.architecture,
        card.input_size,
        card.source,
        card.created_at,
        dir.display()
    );
    if let Some(c) = &card.git_commit {
        text.push_str(&format!("git commit {c}\n"));
    }
    match &card.splits {
        Some(s) => text.push_str(&format!(
            "train {} .. {} · validation {} .. {} · test {} .. {} (later: unseen)\n",
            s.train.start,
            s.train.end,
            s.validation.start,
            s.validation.end,
            s.test.start,
            s.test.end
        )),
        None => text.push_str("splits unknown (imported): every prediction may be in-sample\n"),
    }
    for (k, v) in &card.metrics {
        text.push_str(&format!("{k} = {v}\n"));
    }
    text
}

/// Models side by side: every metric, then each model's test against the first.
fn compare(c: &ModelComparison) -> String {
    let keys: std::collections::BTreeSet<&String> =
        c.metrics.values().flat_map(|row| row.keys()).collect();
    let mut t = Table::new();
    let mut header = vec!["metric".to_string()];
    header.extend(c.cards.iter().map(|c| format!("{}@{}", c.name, c.version)));
    t.set_header(header);
    for k in keys {
        let mut row = vec![k.clone()];
        row.extend(c.cards.iter().map(|card| {
            card.metrics
                .get(k)
                .map_or("-".into(), |v| format!("{v:.6}"))
        }));
        t.add_row(row);
    }
    let mut text = format!("{t}\n");
    let Some((first, _)) = c.tests.first() else {
        return text;
    };
    for (name, d) in c.tests.iter().skip(1) {
        text.push_str(&match d {
            Some(d) => format!(
                "{name} against {first}: Diebold–Mariano on {} common test forecasts (squared error, h={}): mean loss {:.6e} vs {:.6e}, DM {:.3} (corrected {:.3}), p {:.4}\n",
                d.periods, d.horizon, d.mean_loss_a, d.mean_loss_b, d.statistic, d.corrected, d.p_value
            ),
            None => format!(
                "{name} against {first}: no common test forecasts to compare (test_predictions.csv missing, or other days)\n"
            ),
        });
    }
    text
}

//! `qts models import|list|show|compare|promote`.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use comfy_table::Table;
use qts_config::ConfigLoader;
use qts_core::config::Section;
use qts_core::logging::RunContext;
use qts_models::import::register_import;
use qts_models::{ModelCard, ModelRef, Registry};

use qts_cli::cli::{GlobalArgs, ModelsCommand, SectionFiles};
use qts_cli::commands::setup::{environment, load_config, start_logging};
use qts_cli::failure::Failure;
use qts_models::pickle::pt_to_safetensors;

use crate::failure;

fn out(text: String) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

fn json(v: &impl serde::Serialize) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(v).map_err(|e| Failure::Runtime(e.into()))? + "\n")
}

/// Runs a `models` subcommand.
pub fn run(global: &GlobalArgs, command: &ModelsCommand) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let registry = Registry::new(&loaded.config.registry.directory);
    let cfg = &loaded.config;
    match command {
        ModelsCommand::Import {
            safetensors: Some(path),
            config,
            name,
            ..
        } => {
            // A weights file the user names that cannot be read is their input: exit 2.
            let bytes =
                qts_models::import::read_weights(path).map_err(|e| Failure::Input(e.into()))?;
            import(global, &registry, path, &bytes, "safetensors", config, name)
        }
        ModelsCommand::Import {
            pytorch: Some(path),
            config,
            name,
            ..
        } => {
            let bytes = pt_to_safetensors(path).map_err(failure)?;
            import(global, &registry, path, &bytes, "pytorch", config, name)
        }
        ModelsCommand::Import { .. } => Err(Failure::Input(anyhow!(
            "give the weights with --safetensors FILE or --pytorch FILE"
        ))),
        ModelsCommand::List { json: as_json } => {
            let rows = registry.summaries().map_err(crate::failure)?;
            if *as_json {
                return out(json(&rows)?);
            }
            if rows.is_empty() {
                return out(format!("no models in {}\n", registry.root().display()));
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
            out(format!("{t}\n"))
        }
        ModelsCommand::Show {
            model,
            json: as_json,
        } => {
            let card = crate::mlflow_registry::card(
                cfg,
                &registry,
                &ModelRef::parse(model).map_err(crate::failure)?,
            )?;
            if *as_json {
                return out(json(&card)?);
            }
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
                None => {
                    text.push_str("splits unknown (imported): every prediction may be in-sample\n")
                }
            }
            for (k, v) in &card.metrics {
                text.push_str(&format!("{k} = {v}\n"));
            }
            out(text)
        }
        ModelsCommand::Compare {
            models,
            json: as_json,
            report,
        } => {
            let compared =
                qts_models::compare::compare_models(&registry, models).map_err(crate::failure)?;
            let (cards, table, tests) = (&compared.cards, &compared.metrics, &compared.tests);
            if let Some(path) = report {
                let columns: Vec<qts_report::html::ModelColumn> = cards
                    .iter()
                    .map(|c| column(&registry, c))
                    .collect::<Result<_, _>>()?;
                qts_cli::commands::report::write_page(
                    path,
                    &qts_report::html::models_page(&columns, &tests),
                )?;
            }
            if *as_json {
                return out(json(&table)?);
            }
            let keys: Vec<&String> = table
                .values()
                .flat_map(|row| row.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut t = Table::new();
            let mut header = vec!["metric".to_string()];
            header.extend(cards.iter().map(|c| format!("{}@{}", c.name, c.version)));
            t.set_header(header);
            for k in keys {
                let mut row = vec![k.clone()];
                row.extend(
                    cards
                        .iter()
                        .map(|c| c.metrics.get(k).map_or("-".into(), |v| format!("{v:.6}"))),
                );
                t.add_row(row);
            }
            let mut text = format!("{t}\n");
            for (name, d) in tests.iter().skip(1) {
                text.push_str(&match d {
                    Some(d) => format!(
                        "{name} against {}: Diebold–Mariano on {} common test forecasts (squared error, h={}): mean loss {:.6e} vs {:.6e}, DM {:.3} (corrected {:.3}), p {:.4}\n",
                        tests[0].0, d.periods, d.horizon, d.mean_loss_a, d.mean_loss_b, d.statistic, d.corrected, d.p_value
                    ),
                    None => format!(
                        "{name} against {}: no common test forecasts to compare (test_predictions.csv missing, or other days)\n",
                        tests[0].0
                    ),
                });
            }
            out(text)
        }
        ModelsCommand::Promote { model, alias } => {
            let r = ModelRef::parse(model).map_err(crate::failure)?;
            let v = registry.promote(&r, alias).map_err(crate::failure)?;
            let mut text = format!("{}@{alias} → version {v}\n", r.name);
            if let Some(m) = crate::mlflow_registry::promote(cfg, &r.name, v, alias)? {
                text.push_str(&format!(
                    "MLflow ({}): registered model {} version {} (from run {}), alias {alias}\n",
                    cfg.mlflow.tracking_uri, r.name, m.version, m.run_id
                ));
            }
            out(text)
        }
    }
}

/// Checks the weights against the model configuration and registers them
/// ([`qts_models::import::register_import`]).
pub fn import(
    global: &GlobalArgs,
    registry: &Registry,
    weights: &Path,
    bytes: &[u8],
    source: &str,
    config: &Path,
    name: &str,
) -> Result<(), Failure> {
    let span = RunContext::new("models import").model_type("lstm").span();
    let _run = span.enter();
    let env = environment(global)?;
    let loaded = ConfigLoader::new()
        .file(Section::Model, config)
        .load(&env)?;
    let (card, shape) = register_import(
        registry,
        weights,
        bytes,
        source,
        &loaded.config.model,
        config,
        name,
    )
    .map_err(crate::failure)?;
    out(format!(
        "registered {}@{} (LSTM, input size {}, hidden {}, {} layers) in {}\n",
        card.name,
        card.version,
        shape.input_size,
        shape.hidden_size,
        shape.num_layers,
        registry.version_dir(&card.name, card.version).display()
    ))
}

/// What the comparison page draws of a registered version: its card and `history.json`.
fn column(registry: &Registry, c: &ModelCard) -> Result<qts_report::html::ModelColumn, Failure> {
    let path = registry
        .version_dir(&c.name, c.version)
        .join("history.json");
    let history = if path.is_file() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{}: {e}", path.display())))?;
        let epochs: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| Failure::Input(anyhow::anyhow!("{}: {e}", path.display())))?;
        epochs
            .iter()
            .map(|e| {
                (
                    e["loss"].as_f64().unwrap_or(f64::NAN),
                    e["val_loss"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(qts_report::html::ModelColumn {
        name: format!("{}@{}", c.name, c.version),
        architecture: c.architecture.clone(),
        data: c.data.as_ref().map_or("imported".into(), |d| {
            format!("{} {} .. {}", d.symbols.join(","), d.start, d.end)
        }),
        splits: c.splits.as_ref().map_or("-".into(), |s| {
            format!(
                "train {} .. {}, validation {} .. {}, test {} .. {}",
                s.train.start,
                s.train.end,
                s.validation.start,
                s.validation.end,
                s.test.start,
                s.test.end
            )
        }),
        metrics: c.metrics.clone(),
        history,
    })
}

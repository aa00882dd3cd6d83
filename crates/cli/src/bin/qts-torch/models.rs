//! `qts models import|list|show|compare|promote`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use comfy_table::Table;
use qts_core::config::{Architecture, ConfigLoader, Section};
use qts_core::logging::RunContext;
use qts_models::import::check_lstm_safetensors;
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
    match command {
        ModelsCommand::Import {
            safetensors: Some(path),
            config,
            name,
            ..
        } => {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::Input(anyhow!("{}: {e}", path.display())))?;
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
            let mut rows = Vec::new();
            for name in registry.names() {
                let versions = registry.versions(&name).map_err(crate::failure)?;
                let aliases = registry.aliases(&name).map_err(crate::failure)?;
                rows.push(
                    serde_json::json!({"name": name, "versions": versions, "aliases": aliases}),
                );
            }
            if *as_json {
                return out(json(&rows)?);
            }
            if rows.is_empty() {
                return out(format!("no models in {}\n", registry.root().display()));
            }
            let mut t = Table::new();
            t.set_header(vec!["name", "versions", "latest", "aliases"]);
            for r in &rows {
                let versions = r["versions"].as_array().map(|v| v.len()).unwrap_or(0);
                let latest = r["versions"]
                    .as_array()
                    .and_then(|v| v.last())
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let aliases = r["aliases"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}→{v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                t.add_row(vec![
                    r["name"].as_str().unwrap_or("").to_string(),
                    versions.to_string(),
                    latest,
                    aliases,
                ]);
            }
            out(format!("{t}\n"))
        }
        ModelsCommand::Show {
            model,
            json: as_json,
        } => {
            let card = registry
                .card(&ModelRef::parse(model).map_err(crate::failure)?)
                .map_err(crate::failure)?;
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
            for (k, v) in &card.metrics {
                text.push_str(&format!("{k} = {v}\n"));
            }
            out(text)
        }
        ModelsCommand::Compare {
            models,
            json: as_json,
        } => {
            let cards: Vec<ModelCard> = models
                .iter()
                .map(|m| ModelRef::parse(m).and_then(|r| registry.card(&r)))
                .collect::<Result<_, _>>()
                .map_err(crate::failure)?;
            let keys: Vec<String> = cards
                .iter()
                .flat_map(|c| c.metrics.keys().cloned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if *as_json {
                let table: BTreeMap<String, BTreeMap<String, Option<f64>>> = cards
                    .iter()
                    .map(|c| {
                        let row = keys
                            .iter()
                            .map(|k| (k.clone(), c.metrics.get(k).copied()))
                            .collect();
                        (format!("{}@{}", c.name, c.version), row)
                    })
                    .collect();
                return out(json(&table)?);
            }
            let mut t = Table::new();
            let mut header = vec!["metric".to_string()];
            header.extend(cards.iter().map(|c| format!("{}@{}", c.name, c.version)));
            t.set_header(header);
            for k in &keys {
                let mut row = vec![k.clone()];
                row.extend(
                    cards
                        .iter()
                        .map(|c| c.metrics.get(k).map_or("-".into(), |v| format!("{v:.6}"))),
                );
                t.add_row(row);
            }
            out(format!("{t}\n"))
        }
        ModelsCommand::Promote { model, alias } => {
            let r = ModelRef::parse(model).map_err(crate::failure)?;
            let v = registry.promote(&r, alias).map_err(crate::failure)?;
            out(format!("{}@{alias} → version {v}\n", r.name))
        }
    }
}

/// Checks `bytes` (an LSTM state dict as safetensors, read from `weights`) against the model
/// configuration and registers them; `source` names the original format.
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
    let model = &loaded.config.model;
    if model.architecture != Architecture::Lstm {
        return Err(Failure::Input(anyhow!(
            "{}: model.architecture is {:?}; only LSTM weights can be imported so far",
            config.display(),
            model.architecture
        )));
    }
    let shape = check_lstm_safetensors(weights, bytes, &model.lstm).map_err(crate::failure)?;
    let config_yaml = qts_core::config::to_yaml(model).map_err(|e| Failure::Runtime(e.into()))?;
    let card = ModelCard {
        name: name.to_string(),
        version: 0,
        created_at: String::new(),
        architecture: "lstm".into(),
        input_size: shape.input_size,
        config: serde_json::to_value(model).map_err(|e| Failure::Runtime(e.into()))?,
        data: None,
        metrics: BTreeMap::new(),
        training_seconds: None,
        git_commit: git_commit(),
        source: format!("import:{source}"),
        files: Vec::new(),
    };
    let card = registry
        .register(
            card,
            &[
                ("weights.safetensors", bytes),
                ("config.yaml", config_yaml.as_bytes()),
            ],
        )
        .map_err(crate::failure)?;
    tracing::info!(name, version = card.version, "model registered");
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

/// The commit of the working directory, when it is a git checkout.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

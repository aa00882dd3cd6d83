//! `qts config show|validate`.

use anyhow::anyhow;
use qts_config::Loaded;
use qts_core::config::to_yaml;
use qts_core::logging::RunContext;
use serde_json::Value;

use crate::cli::{ConfigCommand, GlobalArgs};
use crate::failure::Failure;
use crate::setup::{load_config, start_logging};

/// Runs a `config` subcommand.
pub fn run(global: &GlobalArgs, command: &ConfigCommand) -> Result<(), Failure> {
    match command {
        ConfigCommand::Show {
            files,
            json,
            section,
            sources,
        } => {
            let loaded = load_config(global, files)?;
            let _guard = start_logging(global, &loaded)?;
            let span = RunContext::new("config show").span();
            let _run = span.enter();
            show(&loaded, *json, section.as_deref(), *sources)
        }
        ConfigCommand::Validate { files } => {
            let loaded = load_config(global, files)?;
            let _guard = start_logging(global, &loaded)?;
            let span = RunContext::new("config validate").span();
            let _run = span.enter();
            tracing::info!(files = loaded.files.len(), "configuration is valid");
            let files: Vec<String> = loaded
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            let read = if files.is_empty() {
                "no files (built-in defaults)".to_string()
            } else {
                files.join(", ")
            };
            crate::output::print(&format!(
                "configuration is valid: {read}\nfingerprint: {}\n",
                loaded.config.fingerprint()
            ))
        }
    }
}

fn show(loaded: &Loaded, json: bool, section: Option<&str>, sources: bool) -> Result<(), Failure> {
    let whole = serde_json::to_value(&loaded.config).map_err(|e| Failure::Runtime(e.into()))?;
    let (prefix, value) = match section {
        Some(key) => {
            let found = key.split('.').try_fold(&whole, |v, k| v.get(k));
            let value = found.ok_or_else(|| {
                let top: Vec<&str> = whole
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                Failure::Input(anyhow!(
                    "--section: no setting `{key}`; top-level sections are {}",
                    top.join(", ")
                ))
            })?;
            (key.to_string(), value)
        }
        None => (String::new(), &whole),
    };
    let text = if sources {
        let mut lines = Vec::new();
        list_sources(loaded, &prefix, value, &mut lines);
        lines.join("\n") + "\n"
    } else if json {
        serde_json::to_string_pretty(value).map_err(|e| Failure::Runtime(e.into()))? + "\n"
    } else {
        to_yaml(value).map_err(|e| Failure::Runtime(e.into()))?
    };
    crate::output::print(&text)
}

// One line per setting: `key = value  # source`. Lists of scalars stay on one line.
fn list_sources(loaded: &Loaded, at: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                list_sources(loaded, &key, v, out);
            }
        }
        _ => {
            let source = loaded.origins.lookup(at);
            out.push(format!("{at} = {value}  # {source}"));
        }
    }
}

//! The model registry on MLflow, beside the local one: `qts models promote` also registers
//! the version there (its files are the `model/` artifacts of the training run that made it)
//! and sets the alias; a model reference the local registry lacks is looked up there and its
//! files downloaded into the local registry, so `NAME@ALIAS` loads from either backend.

use std::path::Path;

use qts_config::{ConfigLoader, ModelConfig, QtsConfig};
use qts_core::config::{Environment, Section};
use qts_models::{ModelCard, ModelRef, Registry};
use qts_tracking::{Client, RunStore};

use crate::error::JobError;

fn runtime(e: impl std::fmt::Display) -> JobError {
    JobError::runtime(e.to_string())
}

/// What `promote` did on the server.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Registered {
    /// MLflow's version number.
    pub version: String,
    /// The training run on the server.
    pub run_id: String,
}

/// Registers `name@version` in MLflow's registry and points `alias` at it; `None` when no
/// server is configured.
///
/// # Errors
/// [`JobError`]: no tracked training run holds the version's files; server errors.
pub fn promote(
    cfg: &QtsConfig,
    name: &str,
    version: u32,
    alias: &str,
) -> Result<Option<Registered>, JobError> {
    let m = &cfg.mlflow;
    if m.tracking_uri.is_empty() {
        return Ok(None);
    }
    let model = format!("{name}@{version}");
    let store = RunStore::new(&m.local_store);
    let find = || -> Result<Option<qts_tracking::StoredRun>, JobError> {
        Ok(store.list().map_err(runtime)?.into_iter().find(|r| {
            r.run
                .tags
                .iter()
                .any(|(k, v)| k == "qts.model" && *v == model)
                && r.run
                    .tags
                    .iter()
                    .any(|(k, v)| k == "qts.command" && v == "train")
        }))
    };
    let Some(mut run) = find()? else {
        return Err(JobError::input(format!(
            "{model} was promoted locally but not in MLflow: no tracked training run holds its files (it was imported, or trained with mlflow.enabled: false)"
        )));
    };
    // A training run that never reached this server is sent first.
    if !run.sent.iter().any(|s| s.uri == m.tracking_uri) {
        qts_tracking::sync(m).map_err(runtime)?;
        run = find()?.ok_or_else(|| runtime("the training run left the store"))?;
    }
    let Some(server_run) = run
        .sent
        .iter()
        .find(|s| s.uri == m.tracking_uri)
        .map(|s| s.server_run_id.clone())
    else {
        return Err(runtime(format!(
            "the training run of {model} could not be sent to {}",
            m.tracking_uri
        )));
    };
    let client = Client::new(m);
    let source = format!(
        "{}/model",
        client.artifact_uri(&server_run).map_err(runtime)?
    );
    let mv = client
        .register_version(name, version, &source, &server_run)
        .map_err(runtime)?;
    client
        .set_alias(name, alias, &mv.version)
        .map_err(runtime)?;
    Ok(Some(Registered {
        version: mv.version,
        run_id: server_run,
    }))
}

/// The card of `r`: from the local registry, or — when it does not know the reference and a
/// server is configured — fetched from MLflow's registry (`NAME@ALIAS`) into it.
///
/// # Errors
/// [`JobError`]: the local registry's error when neither backend has the model; download
/// errors.
pub fn card(cfg: &QtsConfig, registry: &Registry, r: &ModelRef) -> Result<ModelCard, JobError> {
    let local = registry.card(r);
    let (Err(e), Some(alias)) = (&local, r.at.as_deref()) else {
        return Ok(local?);
    };
    if cfg.mlflow.tracking_uri.is_empty() || alias.parse::<u32>().is_ok() {
        return Ok(local?);
    }
    let client = Client::new(&cfg.mlflow);
    let Some(mv) = client.alias(&r.name, alias).map_err(runtime)? else {
        return Err(JobError::input(format!(
            "{e}; and MLflow ({}) has no alias {alias} of {}",
            cfg.mlflow.tracking_uri, r.name
        )));
    };
    let card_bytes = client.download(&mv.source, "model.json").map_err(runtime)?;
    let mut fetched: ModelCard = serde_json::from_slice(&card_bytes)
        .map_err(|e| runtime(format!("{}/model.json from MLflow: {e}", mv.source)))?;
    let files: Vec<(String, Vec<u8>)> = fetched
        .files
        .iter()
        .filter(|f| *f != "model.json")
        .map(|f| client.download(&mv.source, f).map(|b| (f.clone(), b)))
        .collect::<Result<_, _>>()
        .map_err(runtime)?;
    fetched.source = format!(
        "mlflow:{}/{} ({}@{})",
        r.name,
        mv.version,
        r.name,
        mv.qts_version.map_or("?".into(), |v| v.to_string())
    );
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let card = registry.register(fetched, &refs)?;
    registry.promote(
        &ModelRef {
            name: card.name.clone(),
            at: Some(card.version.to_string()),
        },
        alias,
    )?;
    tracing::info!(
        model = %format!("{}@{alias}", r.name),
        mlflow_version = %mv.version,
        local_version = card.version,
        "fetched from MLflow's registry"
    );
    Ok(card)
}

/// The card of `reference` (`NAME`, `NAME@VERSION`, `NAME@ALIAS`) of the configured registry,
/// or of MLflow's ([`card`]).
///
/// # Errors
/// As [`card`], and a malformed reference.
pub fn find(cfg: &QtsConfig, reference: &str) -> Result<(Registry, ModelCard), JobError> {
    let registry = Registry::new(&cfg.registry.directory);
    let card = card(cfg, &registry, &ModelRef::parse(reference)?)?;
    Ok((registry, card))
}

/// The model configuration saved with a registered version (its `config.yaml`).
///
/// # Errors
/// [`JobError`] when the file does not load.
pub fn saved_config(env: &Environment, dir: &Path) -> Result<ModelConfig, JobError> {
    let loaded = ConfigLoader::new()
        .file(Section::Model, dir.join("config.yaml"))
        .load(env)?;
    Ok(loaded.config.model)
}

/// Promotes `reference` to `alias` in the local registry and, when a server is configured,
/// in MLflow's; the local version and what MLflow registered.
///
/// # Errors
/// [`JobError`]: no such version, a malformed alias, server errors.
pub fn promote_both(
    cfg: &QtsConfig,
    reference: &str,
    alias: &str,
) -> Result<(String, u32, Option<Registered>), JobError> {
    let registry = Registry::new(&cfg.registry.directory);
    let r = ModelRef::parse(reference)?;
    let v = registry.promote(&r, alias)?;
    let remote = promote(cfg, &r.name, v, alias)?;
    Ok((r.name, v, remote))
}

/// Weights to import, and their format.
#[derive(Debug, Clone)]
pub enum Weights {
    /// A safetensors file in PyTorch's parameter names.
    Safetensors(std::path::PathBuf),
    /// A `torch.save(model.state_dict(), …)` archive.
    Pytorch(std::path::PathBuf),
}

/// Imports `weights` for the network of the model file `config` and registers them as `name`
/// in `registry` ([`qts_models::import::register_import`]).
///
/// # Errors
/// [`JobError`]: weights that cannot be read or do not fit the network, a model file that
/// does not load, a bad name.
pub fn import(
    registry: &Registry,
    env: &Environment,
    weights: &Weights,
    config: &Path,
    name: &str,
) -> Result<(ModelCard, qts_models::import::LstmShape), JobError> {
    let (path, bytes, source) = match weights {
        // A weights file the user names that cannot be read is their input.
        Weights::Safetensors(p) => (
            p,
            qts_models::import::read_weights(p).map_err(JobError::Named)?,
            "safetensors",
        ),
        Weights::Pytorch(p) => (p, qts_models::pickle::pt_to_safetensors(p)?, "pytorch"),
    };
    let loaded = ConfigLoader::new().file(Section::Model, config).load(env)?;
    Ok(qts_models::import::register_import(
        registry,
        path,
        &bytes,
        source,
        &loaded.config.model,
        config,
        name,
    )?)
}

/// What the comparison page draws of registered versions: each card and its
/// `history.json` (the loss and validation loss of every epoch).
///
/// # Errors
/// [`JobError`] for a history that cannot be read or is not JSON.
pub fn columns(
    registry: &Registry,
    cards: &[ModelCard],
) -> Result<Vec<qts_report::html::ModelColumn>, JobError> {
    cards.iter().map(|c| column(registry, c)).collect()
}

fn column(registry: &Registry, c: &ModelCard) -> Result<qts_report::html::ModelColumn, JobError> {
    let path = registry
        .version_dir(&c.name, c.version)
        .join("history.json");
    let history = if path.is_file() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| JobError::runtime(format!("{}: {e}", path.display())))?;
        let epochs: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| JobError::input(format!("{}: {e}", path.display())))?;
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

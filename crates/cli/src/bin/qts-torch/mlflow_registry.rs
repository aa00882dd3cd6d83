//! The model registry on MLflow, beside the local one: `qts models promote` also registers
//! the version there (its files are the `model/` artifacts of the training run that made it)
//! and sets the alias; a model reference the local registry lacks is looked up there and its
//! files downloaded into the local registry, so `NAME@ALIAS` loads from either backend.

use anyhow::anyhow;
use qts_config::QtsConfig;
use qts_models::{ModelCard, ModelRef, Registry};
use qts_tracking::{Client, RunStore};

use qts_cli::failure::Failure;

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow!("{e}"))
}

/// What `promote` did on the server.
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
/// [`Failure::Input`] when no tracked training run holds the version's files; server errors.
pub fn promote(
    cfg: &QtsConfig,
    name: &str,
    version: u32,
    alias: &str,
) -> Result<Option<Registered>, Failure> {
    let m = &cfg.mlflow;
    if m.tracking_uri.is_empty() {
        return Ok(None);
    }
    let model = format!("{name}@{version}");
    let store = RunStore::new(&m.local_store);
    let find = || -> Result<Option<qts_tracking::StoredRun>, Failure> {
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
        return Err(Failure::Input(anyhow!(
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
/// The local registry's error when neither backend has the model; download errors.
pub fn card(cfg: &QtsConfig, registry: &Registry, r: &ModelRef) -> Result<ModelCard, Failure> {
    let local = registry.card(r);
    let (Err(e), Some(alias)) = (&local, r.at.as_deref()) else {
        return local.map_err(crate::failure);
    };
    if cfg.mlflow.tracking_uri.is_empty() || alias.parse::<u32>().is_ok() {
        return local.map_err(crate::failure);
    }
    let client = Client::new(&cfg.mlflow);
    let Some(mv) = client.alias(&r.name, alias).map_err(runtime)? else {
        return Err(Failure::Input(anyhow!(
            "{e}; and MLflow ({}) has no alias {alias} of {}",
            cfg.mlflow.tracking_uri,
            r.name
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
    let card = registry.register(fetched, &refs).map_err(crate::failure)?;
    registry
        .promote(
            &ModelRef {
                name: card.name.clone(),
                at: Some(card.version.to_string()),
            },
            alias,
        )
        .map_err(crate::failure)?;
    tracing::info!(
        model = %format!("{}@{alias}", r.name),
        mlflow_version = %mv.version,
        local_version = card.version,
        "fetched from MLflow's registry"
    );
    Ok(card)
}

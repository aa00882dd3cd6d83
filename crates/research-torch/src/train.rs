//! Training a model ([`qts_models::fit::train_model`]) on bars a user names or hands over,
//! with the run tracked: what `qts train` and `qts_torch.train` call.

use qts_config::Loaded;
use qts_core::logging::RunContext;
use qts_models::fit::{SymbolBars, TrainReport, TrainRequest, train_model};
use qts_models::train::Progress;
use qts_research::ResearchError;
use qts_research::session::GivenBars;
use qts_research::track::{Tracker, data_tags};

use crate::error::JobError;

/// The bars to train on.
#[derive(Debug, Clone)]
pub enum TrainData {
    /// A file, or symbols `AAPL,MSFT` pooled into one dataset, as the user named them.
    Named(String),
    /// Bars handed over already read.
    Bars(Vec<GivenBars>),
    /// These symbols of a file (a wide file of closes' columns), pooled.
    Universe {
        /// The file, as named.
        file: String,
        /// The symbols kept, in this order.
        symbols: Vec<String>,
    },
}

/// A training run asked for.
#[derive(Debug, Clone)]
pub struct TrainAsk {
    /// The bars.
    pub data: TrainData,
    /// Registry name (the model file's `name` when `None`).
    pub name: Option<String>,
    /// Runs with consecutive seeds (an ensemble with several).
    pub seeds: usize,
    /// Train on prices adjusted for splits and dividends.
    pub adjust: bool,
    /// Continue from the last checkpoint of the same configuration and data.
    pub resume: bool,
}

/// The bars of `data`, their hash and name, as a model reads them.
///
/// # Errors
/// [`JobError`] for data that cannot be found, read or validated.
pub fn bars(
    loaded: &Loaded,
    data: TrainData,
    adjust: bool,
) -> Result<(Vec<SymbolBars>, String, String), JobError> {
    match data {
        TrainData::Named(given) => {
            let (bars, hash) = crate::data::load(&loaded.config, &given, adjust, &[])?;
            Ok((bars, hash, given))
        }
        TrainData::Universe { file, symbols } => {
            let (bars, hash) = crate::data::load(&loaded.config, &file, adjust, &symbols)?;
            Ok((bars, hash, format!("{file} ({})", symbols.join(","))))
        }
        TrainData::Bars(given) => crate::data::given(&loaded.config, given, adjust),
    }
}

/// Trains, registers and tracks a model as `ask` says under `loaded` (its `model` section is
/// the network and the trainer).
///
/// # Errors
/// [`JobError`]: no seeds, a bad name, data that cannot be used, a training failure or a
/// Ctrl-C ([`qts_models::ModelError::Cancelled`]).
pub fn train(
    loaded: &Loaded,
    ask: TrainAsk,
    progress: &mut dyn Progress,
    tracker: &Tracker<'_>,
) -> Result<TrainReport, JobError> {
    let cfg = &loaded.config;
    if ask.seeds == 0 {
        return Err(ResearchError::parameter("seeds", "must be at least 1, got 0").into());
    }
    let name = ask.name.clone().unwrap_or_else(|| cfg.model.name.clone());
    qts_models::registry::check_name(&name)?;
    let (data, data_hash, data_name) = bars(loaded, ask.data, ask.adjust)?;
    let tags = data_tags(
        &data_hash,
        &data.iter().map(|d| d.source.clone()).collect::<Vec<_>>(),
    );
    let symbols: Vec<&str> = data.iter().map(|d| d.symbol.as_str()).collect();
    let span = RunContext::new("train")
        .model_type(cfg.model.architecture.to_string())
        .symbol(symbols.join(","))
        .span();
    let _run = span.enter();
    let request = TrainRequest {
        config: cfg,
        name,
        data,
        data_name,
        data_hash,
        adjust: ask.adjust,
        seeds: ask.seeds,
        resume: ask.resume,
        git_commit: qts_core::provenance::git_commit(),
        from: None,
    };
    let report = train_model(&request, progress)?;
    track(tracker, &report, tags)?;
    Ok(report)
}

/// The training run for tracking: the model's metrics, each epoch's numbers at its step (from
/// the registered `history.json`), and the registered files under `model/` (what MLflow's
/// registry points a version at when it is promoted).
///
/// # Errors
/// [`JobError`] when a registered file cannot be read or the run store written.
pub fn track(
    tracker: &Tracker<'_>,
    report: &TrainReport,
    data_tags: Vec<(String, String)>,
) -> Result<(), JobError> {
    if !tracker.enabled() {
        return Ok(());
    }
    let name = format!("train {}@{}", report.name, report.version);
    let mut run = tracker.new_run("train", name);
    for (k, v) in &report.metrics {
        run.metric(k, *v);
    }
    let history =
        std::fs::read_to_string(report.directory.join("history.json")).unwrap_or_default();
    let epochs: Vec<serde_json::Value> = serde_json::from_str(&history).unwrap_or_default();
    for e in &epochs {
        let step = e["epoch"].as_i64().unwrap_or(0) + 1;
        for k in [
            "loss",
            "val_loss",
            "val_mae",
            "val_directional_accuracy",
            "val_ic",
            "lr",
        ] {
            if let Some(x) = e[k].as_f64() {
                run.metric_at(&format!("epoch.{k}"), x, step);
            }
        }
    }
    run.tags.push((
        "qts.model".into(),
        format!("{}@{}", report.name, report.version),
    ));
    run.tags.extend(data_tags);
    let card = std::fs::read(report.directory.join("model.json")).unwrap_or_default();
    let files: Vec<String> = serde_json::from_slice::<serde_json::Value>(&card)
        .ok()
        .and_then(|c| serde_json::from_value(c["files"].clone()).ok())
        .unwrap_or_default();
    for f in files {
        let path = report.directory.join(&f);
        let bytes = std::fs::read(&path)
            .map_err(|e| JobError::runtime(format!("{}: {e}", path.display())))?;
        run.inline.push((format!("model/{f}"), bytes));
    }
    tracker.finish(run)?;
    Ok(())
}

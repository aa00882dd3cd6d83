//! A model's hyper-parameter search ([`qts_models::search::search`]): every trial trained,
//! registered and scored on its validation split, the chosen model's test metrics the honest
//! estimate; the search tracked with a nested run per trial. What `qts optimize
//! --model-config` and `qts_torch.search` call.

use qts_config::{Loaded, SearchMethod};
use qts_core::logging::RunContext;
use qts_models::fit::TrainRequest;
use qts_models::search::{Objective, SearchReport, Trial, parse_param, search};
use qts_research::Progress;
use qts_research::track::{Tracker, data_tags};

use crate::error::JobError;
use crate::train::{TrainData, bars};

/// A model search asked for.
#[derive(Debug, Clone)]
pub struct SearchAsk {
    /// The bars (one file, or bars handed over).
    pub data: TrainData,
    /// A validation metric to maximise (`val_directional_accuracy`, `val_ic`).
    pub maximize: Option<String>,
    /// Or one to minimise (`val_loss`, the default, `val_mae`).
    pub minimize: Option<String>,
    /// `KEY=…` specs that replace the model file's search space.
    pub space: Vec<String>,
    /// Grid or random, in place of the file's.
    pub method: Option<SearchMethod>,
    /// Random trials, in place of the file's.
    pub trials: Option<usize>,
    /// The seed of the random draw (the configuration's when `None`).
    pub seed: Option<u64>,
}

/// The space of `ask` over the model file's: `space` replaces the file's, `method` and
/// `trials` override its own, all checked as the file's were.
///
/// # Errors
/// [`JobError`] naming the key that does not fit the model's settings.
pub fn space(loaded: &Loaded, ask: &SearchAsk) -> Result<qts_config::SearchConfig, JobError> {
    let cfg = &loaded.config;
    let mut space = cfg.model.search.clone();
    if !ask.space.is_empty() {
        space.space.clear();
        for spec in &ask.space {
            let (key, param) = parse_param(spec)?;
            space.space.insert(key, param);
        }
    }
    if let Some(m) = ask.method {
        space.method = m;
    }
    if let Some(n) = ask.trials {
        space.trials = n;
    }
    // The space goes through the same checks as the YAML's (keys that exist, ranges).
    let mut checked = cfg.model.clone();
    checked.search = space.clone();
    let mut checks = qts_core::config::Checks::default();
    qts_core::config::Validate::validate(&checked, "model", &mut checks);
    // The YAML's own space was checked when it loaded: a problem here comes from the ask.
    if let Some((key, why)) = checks.into_problems().first() {
        return Err(JobError::input(format!(
            "{key}: {why} (with --search/--method/--trials)"
        )));
    }
    Ok(space)
}

/// The trials a search of `ask` trains (known before it starts, for a progress bar).
///
/// # Errors
/// As [`space`], and an empty space.
pub fn size(loaded: &Loaded, ask: &SearchAsk) -> Result<usize, JobError> {
    let seed = ask.seed.unwrap_or(loaded.config.reproducibility.seed);
    Ok(qts_models::search::points(&space(loaded, ask)?, seed)?.len())
}

/// Searches the model of `loaded`'s model section as `ask` says; `progress` hears each trial
/// trained.
///
/// # Errors
/// [`JobError`]: a bad objective or space, data that cannot be used, a training failure.
pub fn search_model(
    loaded: &Loaded,
    ask: SearchAsk,
    progress: &dyn Progress,
    tracker: &Tracker<'_>,
) -> Result<SearchReport, JobError> {
    let cfg = &loaded.config;
    let objective = Objective::new(ask.maximize.as_deref(), ask.minimize.as_deref())?;
    let space = space(loaded, &ask)?;
    let seed = ask.seed.unwrap_or(cfg.reproducibility.seed);
    let (data, data_hash, data_name) = bars(loaded, ask.data, false)?;
    let tags = data_tags(
        &data_hash,
        &data.iter().map(|d| d.source.clone()).collect::<Vec<_>>(),
    );
    let span = RunContext::new("optimize")
        .model_type(cfg.model.architecture.to_string())
        .symbol(data[0].symbol.clone())
        .span();
    let _run = span.enter();
    let base = TrainRequest {
        config: cfg,
        name: cfg.model.name.clone(),
        data,
        data_name,
        data_hash,
        adjust: false,
        seeds: 1,
        resume: false,
        git_commit: qts_core::provenance::git_commit(),
        from: None,
    };
    let total = qts_models::search::points(&space, seed)?.len();
    progress.at(0, total);
    let report = search(&base, &space, seed, objective, &mut |t: &Trial, done| {
        progress.suspend(&mut || {
            tracing::info!(trial = t.trial, model = %t.model, params = %qts_models::search::label(&t.params), "trial trained");
        });
        progress.at(done, total);
    })?;
    track(tracker, &report, tags)?;
    Ok(report)
}

/// The search's run with a nested run per trial (its settings, validation metrics and model).
///
/// # Errors
/// [`JobError`] when the run store cannot be written.
pub fn track(
    tracker: &Tracker<'_>,
    report: &SearchReport,
    data_tags: Vec<(String, String)>,
) -> Result<(), JobError> {
    if !tracker.enabled() {
        return Ok(());
    }
    let name = format!("optimize {} ({} trials)", report.best.model, report.trials);
    let mut run = tracker.new_run("optimize", name);
    run.params
        .push(("run.objective".into(), report.objective.metric.clone()));
    run.params
        .push(("run.maximize".into(), report.objective.maximize.to_string()));
    run.params
        .push(("run.method".into(), report.method.clone()));
    run.metric("trials", report.trials as f64);
    for (k, v) in &report.best.metrics {
        run.metric(&format!("best_{k}"), *v);
    }
    run.tags
        .push(("qts.model".into(), report.best.model.clone()));
    run.tags.extend(data_tags);
    run.inline
        .extend([("trials.csv".into(), report.trials_csv().into_bytes())]);
    for t in &report.all {
        let mut child = tracker.child(
            &run,
            qts_models::search::label(&t.params),
            t.params
                .iter()
                .map(|(k, v)| {
                    (
                        format!("model.{k}"),
                        v.as_str().map_or(v.to_string(), str::to_string),
                    )
                })
                .collect(),
            vec![
                ("qts.trial".into(), t.trial.to_string()),
                ("qts.model".into(), t.model.clone()),
            ],
        );
        for (k, v) in t.metrics.iter().filter(|(k, _)| k.starts_with("val_")) {
            child.metric(k, *v);
        }
        run.children.push(child);
    }
    tracker.finish(run)?;
    Ok(())
}

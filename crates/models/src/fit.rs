//! The training use case: checked bars and the effective configuration in, a registered model
//! and a [`TrainReport`] out. Bars → features → a leak-free pooled dataset → one trainer run
//! per seed → the best weights scored on the test split → a registry version with the
//! pipeline that feeds new data as training did. `qts train`, `qts run` and Python call this.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::settings::ModelSettings;
use qts_data::BarSeries;
use qts_data::dataset::{Dataset, Part, Split};
use qts_data::features::compute;
use qts_data::settings::Target;
use serde::Serialize;

use crate::batches::Series;
use crate::error::ModelError;
use crate::eval;
use crate::infer::{PredictOptions, Predictor};
use crate::net::NetSpec;
use crate::pipeline::{self, Pipeline};
use crate::registry::{DataFingerprint, ModelCard, Registry, check_name};
use crate::train::{Progress, TrainOptions, TrainSet, Trained, train};

/// One symbol's bars (already validated), and its name.
#[derive(Debug, Clone)]
pub struct SymbolBars {
    /// The symbol (a file's stem).
    pub symbol: String,
    /// Where the bars came from (a path), for messages.
    pub source: String,
    /// Its bars.
    pub bars: BarSeries,
}

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainRequest<'a> {
    /// The whole effective configuration (its `model` section is the network and trainer;
    /// all of it is saved with the model).
    pub config: &'a dyn ModelSettings,
    /// Registry name.
    pub name: String,
    /// The bars, one entry per symbol; several are pooled into one dataset.
    pub data: Vec<SymbolBars>,
    /// What the user named as the data (a path or `AAPL,MSFT`), for messages.
    pub data_name: String,
    /// SHA-256 of the data files' bytes.
    pub data_hash: String,
    /// Whether the prices were adjusted.
    pub adjust: bool,
    /// Runs with consecutive seeds; with several, each run's best weights are an ensemble
    /// member.
    pub seeds: usize,
    /// Continue from the last checkpoint of the same configuration and data.
    pub resume: bool,
    /// The commit of the code, recorded on the card.
    pub git_commit: Option<String>,
    /// Only rows from this day on form the dataset; earlier bars only warm the features up
    /// (a walk-forward's rolling train window).
    pub from: Option<chrono::NaiveDate>,
}

/// What a training run did, as `qts train --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Registry name.
    pub name: String,
    /// Registered version.
    pub version: u32,
    /// The version's directory.
    pub directory: PathBuf,
    /// Device used.
    pub device: String,
    /// Whether mixed precision was on.
    pub mixed_precision: bool,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Seeds trained.
    pub seeds: usize,
    /// Ensemble members saved.
    pub ensemble_members: usize,
    /// Epoch the run resumed after, if it did.
    pub resumed_after_epoch: Option<usize>,
    /// Wall time of the training runs.
    pub training_seconds: f64,
    /// Validation and test metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Better, worse or not distinguishable from the naive forecasts on test, and the
    /// intervals' calibration ([`crate::eval::ForecastVerdict`]).
    pub verdict: crate::eval::ForecastVerdict,
    /// Network family (`lstm`, `transformer`, `mlp`).
    #[serde(skip)]
    pub architecture: String,
    /// Epochs trained.
    #[serde(skip)]
    pub epochs: usize,
    /// The best epoch, 0-based.
    #[serde(skip)]
    pub best_epoch: usize,
}

/// The days of the dataset's splits (of its first symbol: pooled splits cut every symbol at
/// the same dates).
fn split_dates(ds: &Dataset) -> crate::registry::SplitDates {
    let day = |i: usize| {
        ds.time
            .get(i)
            .map(|t| t.date().to_string())
            .unwrap_or_default()
    };
    let span = |r: &std::ops::Range<usize>| crate::registry::Span {
        start: day(r.start),
        end: day(r.end.saturating_sub(1)),
    };
    crate::registry::SplitDates {
        train: span(&ds.splits.train),
        validation: span(&ds.splits.validation),
        test: span(&ds.splits.test),
    }
}

/// Trains, scores on the test split and registers a model.
///
/// # Errors
/// [`ModelError::Input`] for a bad name, too little data or zero seeds; [`ModelError::Data`]
/// for features that cannot be computed; libtorch and registry errors as they come.
pub fn train_model(
    req: &TrainRequest<'_>,
    progress: &mut dyn Progress,
) -> Result<TrainReport, ModelError> {
    let cfg = req.config;
    let model = cfg.model();
    check_name(&req.name)?;
    if req.seeds == 0 {
        return Err(ModelError::Input("--seeds must be at least 1".into()));
    }
    // Each table with the row its closes start at (rows before `from` cut off).
    let tables = req
        .data
        .iter()
        .map(|d| {
            let table =
                compute(&d.bars, &cfg.data().features).map_err(|e| ModelError::Prepare {
                    what: d.source.clone(),
                    source: e,
                })?;
            Ok(match req.from {
                Some(from) => {
                    let first = table.time.partition_point(|t| t.date() < from);
                    (table.rows_from(first), first)
                }
                None => (table, 0),
            })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    let parts: Vec<Part> = req
        .data
        .iter()
        .zip(&tables)
        .map(|(d, (table, first))| Part {
            symbol: &d.symbol,
            table,
            close: &d.bars.close[*first..],
        })
        .collect();
    let symbols: Vec<String> = req.data.iter().map(|d| d.symbol.clone()).collect();
    let ds = Dataset::pooled(&parts, &model.data).map_err(|e| ModelError::Prepare {
        what: req.data_name.clone(),
        source: e,
    })?;
    // One checkpoint directory per configuration and data, so --resume finds its own run.
    let run_key = qts_core::hex::sha256(
        format!("{}{}{}", cfg.fingerprint(), req.data_hash, req.adjust).as_bytes(),
    );
    let run_dir = PathBuf::from(&model.training.checkpoints.directory).join(format!(
        "{}-{}",
        req.name,
        &run_key[..12]
    ));
    let series = Series {
        values: ds.values(),
        width: ds.width(),
        lookback: ds.lookback,
    };
    let set = TrainSet {
        series,
        targets: ds.targets(),
        train: ds.samples(Split::Train),
        validation: ds.samples(Split::Validation),
    };
    tracing::info!(
        rows = ds.time.len(),
        features = ds.width(),
        train = set.train.len(),
        validation = set.validation.len(),
        test = ds.samples(Split::Test).len(),
        checkpoints = %run_dir.display(),
        "training"
    );
    let started = Instant::now();
    let mut runs = Vec::new();
    for i in 0..req.seeds {
        let dir = if req.seeds == 1 {
            run_dir.clone()
        } else {
            run_dir.with_file_name(format!("{}-{}-seed{i}", req.name, &run_key[..12]))
        };
        let opts = TrainOptions {
            compute: cfg.compute().clone(),
            seed: cfg.reproducibility().seed.wrapping_add(i as u64),
            deterministic: cfg.reproducibility().deterministic,
            checkpoint_dir: Some(dir),
            resume: req.resume,
            max_epochs_this_run: None,
        };
        if req.seeds > 1 {
            tracing::info!(seed = opts.seed, member = i + 1, of = req.seeds, "training");
        }
        let run = train(model, &set, &opts, progress)?;
        // A resumed run with nothing left to train was already finished (and registered when
        // it finished): registering it again would make a duplicate version.
        if let Some(after) = run.resumed_after
            && run.history.len() <= after + 1
        {
            return Err(ModelError::Input(format!(
                "--resume: the run of this configuration and data already finished (epoch {} of {}{}); \
                 nothing was registered. Train without --resume to start it over",
                after + 1,
                model.training.epochs,
                if run.stopped_early {
                    ", stopped early"
                } else {
                    ""
                }
            )));
        }
        runs.push(run);
    }
    let seconds = started.elapsed().as_secs_f64();
    let best_loss = |t: &Trained| {
        t.history
            .iter()
            .map(|l| l.val_loss)
            .fold(f64::INFINITY, f64::min)
    };
    let members: Vec<Vec<u8>> = if runs.len() > 1 {
        runs.iter().map(|t| t.weights.clone()).collect()
    } else {
        runs[0].members.clone()
    };
    let trained = runs
        .into_iter()
        .min_by(|a, b| best_loss(a).total_cmp(&best_loss(b)))
        .ok_or_else(|| ModelError::Input("no run was trained".into()))?;
    let (metrics, test_predictions) =
        test_metrics(cfg, &ds, &series, &run_dir, &trained, &members)?;

    let family = model.architecture.to_string();
    let pipeline = Pipeline {
        features: cfg.data().features.clone(),
        feature_names: ds.names.clone(),
        normalizer: ds.normalizer.clone(),
        adjust: req.adjust,
        basis: (!req.adjust).then(|| cfg.data().adjustment),
        lookback: ds.lookback,
        target: model.data.target,
    };
    let encode = |what: &'static str| {
        move |e: &dyn std::fmt::Display| ModelError::Encode {
            what,
            source: e.to_string().into(),
        }
    };
    let config_yaml = qts_core::config::to_yaml(model).map_err(|e| encode("config.yaml")(&e))?;
    // The whole effective configuration (features, compute, seed…), secrets shown as ***.
    let run_yaml = format!(
        "# fingerprint {}\n{}",
        cfg.fingerprint(),
        cfg.to_yaml().map_err(|e| encode("run_config.yaml")(&e))?
    );
    let pipeline_json =
        serde_json::to_vec_pretty(&pipeline).map_err(|e| encode(pipeline::FILE)(&e))?;
    let history_json =
        serde_json::to_vec_pretty(&trained.history).map_err(|e| encode("history.json")(&e))?;
    let member_names: Vec<String> = (1..=members.len())
        .map(|i| format!("member-{i}.safetensors"))
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("weights.safetensors", &trained.weights),
        ("config.yaml", config_yaml.as_bytes()),
        ("run_config.yaml", run_yaml.as_bytes()),
        (pipeline::FILE, &pipeline_json),
        ("history.json", &history_json),
        (TEST_PREDICTIONS, test_predictions.as_bytes()),
    ];
    for (n, w) in member_names.iter().zip(&members) {
        files.push((n, w));
    }
    let date =
        |t: Option<&chrono::NaiveDateTime>| t.map(|t| t.date().to_string()).unwrap_or_default();
    let card = ModelCard {
        name: req.name.clone(),
        version: 0,
        created_at: String::new(),
        architecture: family.clone(),
        input_size: ds.width(),
        config: serde_json::to_value(model).map_err(|e| encode("model.json")(&e))?,
        data: Some(DataFingerprint {
            symbols,
            start: date(ds.time.first()),
            end: date(ds.time.last()),
            hash: req.data_hash.clone(),
        }),
        metrics,
        training_seconds: Some(seconds),
        git_commit: req.git_commit.clone(),
        source: format!("train:{}", trained.device),
        files: Vec::new(),
        splits: Some(split_dates(&ds)),
    };
    let registry = Registry::new(&cfg.registry().directory);
    let card = registry.register(card, &files)?;
    let directory = registry.version_dir(&card.name, card.version);
    tracing::info!(name = %card.name, version = card.version, "model registered");
    Ok(TrainReport {
        name: card.name,
        version: card.version,
        directory,
        device: trained.device,
        mixed_precision: trained.mixed_precision,
        stopped_early: trained.stopped_early,
        seeds: req.seeds,
        ensemble_members: members.len(),
        resumed_after_epoch: trained.resumed_after,
        training_seconds: seconds,
        verdict: crate::eval::ForecastVerdict::of(&card.metrics, qts_stats::significance::LEVEL),
        metrics: card.metrics,
        architecture: family,
        epochs: trained.history.len(),
        best_epoch: trained.best_epoch + 1,
    })
}

pub use crate::registry::TEST_PREDICTIONS;

/// The best epoch's validation numbers, and the best weights on the test split, never seen in
/// training or model selection; with the test forecasts as [`TEST_PREDICTIONS`].
fn test_metrics(
    cfg: &dyn ModelSettings,
    ds: &Dataset,
    series: &Series<'_>,
    run_dir: &std::path::Path,
    trained: &Trained,
    members: &[Vec<u8>],
) -> Result<(BTreeMap<String, f64>, String), ModelError> {
    let model = cfg.model();
    let spec = NetSpec::new(model, ds.width())?;
    let predictor = Predictor::new(spec, &[(run_dir, &trained.weights)], cfg.compute())?;
    let test = ds.samples(Split::Test);
    let p = predictor.predict(
        series,
        test,
        &PredictOptions {
            batch_size: 1024,
            ..PredictOptions::default()
        },
    )?;
    let y: Vec<f64> = test.iter().map(|&r| f64::from(ds.target(r))).collect();
    let mut csv = String::from("date,target,prediction\n");
    for ((&r, t), p) in test.iter().zip(&y).zip(&p.mean) {
        csv.push_str(&format!("{},{t},{p}\n", ds.time[r].date()));
    }
    let classify = model.data.target == Target::Direction;
    let threshold = if classify { 0.5 } else { 0.0 };
    let best = trained
        .history
        .iter()
        .find(|l| l.epoch == trained.best_epoch)
        .ok_or_else(|| ModelError::Input("no epoch was trained".into()))?;
    let mut metrics = BTreeMap::from([
        // Counted from 1, as the training output prints it.
        ("best_epoch".to_string(), best.epoch as f64 + 1.0),
        ("epochs".into(), trained.history.len() as f64),
        ("val_loss".into(), best.val_loss),
        ("val_mae".into(), best.val_mae),
        (
            "val_directional_accuracy".into(),
            best.val_directional_accuracy,
        ),
        ("val_ic".into(), best.val_ic),
        ("test_mae".into(), eval::mae(&p.mean, &y)),
        (
            "test_directional_accuracy".into(),
            eval::directional_accuracy(&p.mean, &y, threshold),
        ),
        ("test_ic".into(), eval::information_coefficient(&p.mean, &y)),
    ]);
    if !classify {
        let mse = p
            .mean
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / y.len() as f64;
        metrics.insert("test_mse".into(), mse);
    }
    // Baselines beside every figure: a forecast is worth something only against them.
    let targets = |split| -> Vec<f64> {
        ds.samples(split)
            .iter()
            .map(|&r| f64::from(ds.target(r)))
            .collect()
    };
    let train_y = targets(Split::Train);
    let train_mean = qts_core::stats::mean(&train_y);
    for (prefix, ys, pred) in [
        ("val", targets(Split::Validation), None),
        ("test", y.clone(), Some(&p.mean)),
    ] {
        for (k, v) in eval::baselines(&ys, train_mean, threshold, pred.map(Vec::as_slice)) {
            metrics.insert(format!("{prefix}_{k}"), v);
        }
    }
    // Whether the forecast beats the naive ones on test, as a test, not only as point estimates.
    let horizon = if model.data.target == Target::HorizonReturn {
        model.data.horizon.max(1)
    } else {
        1
    };
    for (k, v) in eval::naive_tests(&p.mean, &y, train_mean, threshold, horizon) {
        metrics.insert(format!("test_{k}"), v);
    }
    // Interval calibration at the nominal level: MC dropout, and the ensemble when there is one.
    let level = 0.9;
    let mc = predictor.predict(
        series,
        test,
        &PredictOptions {
            batch_size: 1024,
            mc_samples: 20,
            level,
            seed: cfg.reproducibility().seed,
        },
    )?;
    if let Some((lo, hi)) = &mc.interval
        && lo.iter().zip(hi).any(|(a, b)| b > a)
    {
        metrics.insert(
            "test_coverage_mc_dropout_90".into(),
            eval::coverage(&y, lo, hi),
        );
    }
    if members.len() > 1 {
        let refs: Vec<(&std::path::Path, &[u8])> =
            members.iter().map(|w| (run_dir, w.as_slice())).collect();
        let ensemble = Predictor::new(NetSpec::new(model, ds.width())?, &refs, cfg.compute())?
            .predict(
                series,
                test,
                &PredictOptions {
                    batch_size: 1024,
                    level,
                    ..PredictOptions::default()
                },
            )?;
        if let Some((lo, hi)) = &ensemble.interval {
            metrics.insert(
                "test_coverage_ensemble_90".into(),
                eval::coverage(&y, lo, hi),
            );
        }
    }
    metrics.retain(|_, v| v.is_finite());
    Ok((metrics, csv))
}

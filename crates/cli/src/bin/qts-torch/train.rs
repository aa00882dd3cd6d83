//! `qts train`: bars → features → leak-free dataset → trainer → registry.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use qts_core::config::Target;
use qts_core::logging::RunContext;
use qts_data::dataset::{Dataset, Part, Split};
use qts_data::features::compute;
use qts_models::batches::Series;
use qts_models::eval;
use qts_models::infer::{PredictOptions, Predictor};
use qts_models::net::NetSpec;
use qts_models::registry::{DataFingerprint, check_name};
use qts_models::train::{EpochLog, Progress, TrainOptions, TrainSet, train};
use qts_models::{ModelCard, Registry};
use serde_json::json;
use sha2::{Digest, Sha256};

use qts_cli::cli::{GlobalArgs, SectionFiles, TrainArgs};
use qts_cli::commands::pipeline::{self, Pipeline};
use qts_cli::commands::setup::{load_config, start_logging};
use qts_cli::failure::Failure;

/// A progress bar over each epoch's batches and a log line per epoch.
struct CliProgress {
    bar: ProgressBar,
    epochs: usize,
}

impl Progress for CliProgress {
    fn batch(&mut self, epoch: usize, done: usize, total: usize) {
        if done == 1 {
            self.bar.set_length(total as u64);
            self.bar.set_position(0);
            self.bar
                .set_message(format!("epoch {}/{}", epoch + 1, self.epochs));
        }
        self.bar.set_position(done as u64);
    }

    fn epoch(&mut self, l: &EpochLog) {
        self.bar.suspend(|| {
            tracing::info!(
                epoch = l.epoch + 1,
                lr = l.lr,
                loss = l.loss,
                val_loss = l.val_loss,
                val_mae = l.val_mae,
                val_directional_accuracy = l.val_directional_accuracy,
                val_ic = l.val_ic,
                seconds = l.seconds,
                "epoch done"
            );
        });
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow!("{e}"))
}

/// Runs `qts train`.
pub fn run(global: &GlobalArgs, args: &TrainArgs) -> Result<(), Failure> {
    let files = SectionFiles {
        model: args.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(global, &files)?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;
    let model = &cfg.model;
    let name = args.name.clone().unwrap_or_else(|| model.name.clone());
    check_name(&name).map_err(crate::failure)?;
    // A file, or one or more symbols (`AAPL,MSFT`): several are pooled into one dataset.
    let inputs: Vec<&str> = if Path::new(&args.data).is_file() {
        vec![args.data.as_str()]
    } else {
        args.data
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut loaded = Vec::new();
    let mut hasher = Sha256::new();
    for input in &inputs {
        let (bars, path) = pipeline::load_bars(input, cfg, args.adjust)?;
        // As `qts backtest`: data that fails validation does not train a model.
        qts_cli::commands::data::require_valid(&path, &bars, cfg)?;
        let symbol = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = compute(&bars, &cfg.data.features)
            .map_err(|e| Failure::Input(anyhow!("{}: {e}", path.display())))?;
        hasher.update(std::fs::read(&path).map_err(runtime)?);
        loaded.push((symbol, bars, table));
    }
    let symbols: Vec<String> = loaded.iter().map(|(s, _, _)| s.clone()).collect();
    let family = format!("{:?}", model.architecture).to_lowercase();
    let span = RunContext::new("train")
        .model_type(family.clone())
        .symbol(symbols.join(","))
        .span();
    let _run = span.enter();

    let parts: Vec<Part> = loaded
        .iter()
        .map(|(symbol, bars, table)| Part {
            symbol,
            table,
            close: &bars.close,
        })
        .collect();
    let ds = Dataset::pooled(&parts, &model.data)
        .map_err(|e| Failure::Input(anyhow!("{}: {e}", args.data)))?;
    let data_hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // One checkpoint directory per configuration and data, so --resume finds its own run.
    let run_key = sha256_hex(format!("{}{data_hash}{}", cfg.fingerprint(), args.adjust).as_bytes());
    let run_dir =
        Path::new(&model.training.checkpoints.directory).join(format!("{name}-{}", &run_key[..12]));
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
    if args.seeds == 0 {
        return Err(Failure::Input(anyhow!("--seeds must be at least 1")));
    }
    tracing::info!(
        rows = ds.time.len(),
        features = ds.width(),
        train = set.train.len(),
        validation = set.validation.len(),
        test = ds.samples(Split::Test).len(),
        checkpoints = %run_dir.display(),
        "training"
    );
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} batches {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if global.quiet > 0 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut progress = CliProgress {
        bar,
        epochs: model.training.epochs,
    };
    let started = Instant::now();
    // One run per seed; with several, each run's best weights are a member of the ensemble.
    let mut runs = Vec::new();
    for i in 0..args.seeds {
        let dir = if args.seeds == 1 {
            run_dir.clone()
        } else {
            run_dir.with_file_name(format!("{name}-{}-seed{i}", &run_key[..12]))
        };
        let opts = TrainOptions {
            compute: cfg.compute.clone(),
            seed: cfg.reproducibility.seed.wrapping_add(i as u64),
            checkpoint_dir: Some(dir),
            resume: args.resume,
            max_epochs_this_run: None,
        };
        if args.seeds > 1 {
            tracing::info!(
                seed = opts.seed,
                member = i + 1,
                of = args.seeds,
                "training"
            );
        }
        runs.push(train(model, &set, &opts, &mut progress).map_err(crate::failure)?);
    }
    progress.bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let best_loss = |t: &qts_models::train::Trained| {
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
        .ok_or_else(|| runtime("no run was trained"))?;

    // The best weights on the test split, never seen in training or model selection.
    let spec = NetSpec::new(model, ds.width()).map_err(crate::failure)?;
    let predictor = Predictor::new(spec, &[(&run_dir, &trained.weights)], &cfg.compute)
        .map_err(crate::failure)?;
    let test = ds.samples(Split::Test);
    let p = predictor
        .predict(
            &series,
            test,
            &PredictOptions {
                batch_size: 1024,
                ..PredictOptions::default()
            },
        )
        .map_err(crate::failure)?;
    let y: Vec<f64> = test.iter().map(|&r| f64::from(ds.target(r))).collect();
    let classify = model.data.target == Target::Direction;
    let threshold = if classify { 0.5 } else { 0.0 };
    let best = trained
        .history
        .iter()
        .find(|l| l.epoch == trained.best_epoch)
        .cloned()
        .ok_or_else(|| runtime("no epoch was trained"))?;
    let mut metrics = BTreeMap::from([
        ("best_epoch".to_string(), best.epoch as f64),
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
    metrics.retain(|_, v| v.is_finite());

    let pipeline = Pipeline {
        features: cfg.data.features.clone(),
        feature_names: ds.names.clone(),
        normalizer: ds.normalizer.clone(),
        adjust: args.adjust,
        lookback: ds.lookback,
        target: model.data.target,
    };
    let config_yaml = qts_core::config::to_yaml(model).map_err(runtime)?;
    // The whole effective configuration (features, compute, seed…), secrets shown as ***.
    let run_yaml = format!(
        "# fingerprint {}\n{}",
        cfg.fingerprint(),
        qts_core::config::to_yaml(cfg).map_err(runtime)?
    );
    let pipeline_json = serde_json::to_vec_pretty(&pipeline).map_err(runtime)?;
    let history_json = serde_json::to_vec_pretty(&trained.history).map_err(runtime)?;
    let member_names: Vec<String> = (1..=members.len())
        .map(|i| format!("member-{i}.safetensors"))
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("weights.safetensors", &trained.weights),
        ("config.yaml", config_yaml.as_bytes()),
        ("run_config.yaml", run_yaml.as_bytes()),
        (pipeline::FILE, &pipeline_json),
        ("history.json", &history_json),
    ];
    for (n, w) in member_names.iter().zip(&members) {
        files.push((n, w));
    }
    let card = ModelCard {
        name: name.clone(),
        version: 0,
        created_at: String::new(),
        architecture: family.clone(),
        input_size: ds.width(),
        config: serde_json::to_value(model).map_err(runtime)?,
        data: Some(DataFingerprint {
            symbols,
            start: ds
                .time
                .first()
                .map(|t| t.date().to_string())
                .unwrap_or_default(),
            end: ds
                .time
                .last()
                .map(|t| t.date().to_string())
                .unwrap_or_default(),
            hash: data_hash,
        }),
        metrics,
        training_seconds: Some(seconds),
        git_commit: crate::models::git_commit(),
        source: format!("train:{}", trained.device),
        files: Vec::new(),
    };
    let registry = Registry::new(&cfg.registry.directory);
    let card = registry.register(card, &files).map_err(crate::failure)?;
    let dir = registry.version_dir(&card.name, card.version);
    tracing::info!(name = %card.name, version = card.version, "model registered");
    let text = if args.json {
        serde_json::to_string_pretty(&json!({
            "name": card.name,
            "version": card.version,
            "directory": dir,
            "device": trained.device,
            "mixed_precision": trained.mixed_precision,
            "stopped_early": trained.stopped_early,
            "seeds": args.seeds,
            "ensemble_members": members.len(),
            "resumed_after_epoch": trained.resumed_after,
            "training_seconds": seconds,
            "metrics": card.metrics,
        }))
        .map_err(runtime)?
            + "\n"
    } else {
        let m = &card.metrics;
        let get = |k: &str| m.get(k).map_or("-".into(), |v| format!("{v:.6}"));
        format!(
            "registered {}@{} in {}\n{} on {}, {} epochs{} in {:.1}s; best epoch {}: val loss {}\n\
             test: mae {}, directional accuracy {}, IC {}\n",
            card.name,
            card.version,
            dir.display(),
            family,
            trained.device,
            trained.history.len(),
            if trained.stopped_early {
                " (stopped early)"
            } else {
                ""
            },
            seconds,
            best.epoch + 1,
            get("val_loss"),
            get("test_mae"),
            get("test_directional_accuracy"),
            get("test_ic"),
        )
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(runtime)
}

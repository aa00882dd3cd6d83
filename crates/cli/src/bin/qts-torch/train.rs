//! `qts train`: flags → [`qts_models::fit::train_model`] (bars → features → leak-free dataset →
//! trainer → registry) → summary.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use qts_core::logging::RunContext;
use qts_data::locate::load_for_model;
use qts_data::validate::{Policy, require};
use qts_models::fit::{SymbolBars, TrainReport, TrainRequest, train_model};
use qts_models::train::{EpochLog, Progress};
use sha2::Digest;

use qts_cli::cli::{GlobalArgs, SectionFiles, TrainArgs};
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

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow!("{e}"))
}

/// The bars of `--data` (a file, or one or more symbols `AAPL,MSFT`, pooled into one
/// dataset), validated as `qts backtest` validates them, and the SHA-256 of their bytes.
pub fn load_data(
    cfg: &qts_config::QtsConfig,
    given: &str,
    adjust: bool,
) -> Result<(Vec<SymbolBars>, String), Failure> {
    let inputs: Vec<&str> = if Path::new(given).is_file() {
        vec![given]
    } else {
        given
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut data = Vec::new();
    let mut hasher = sha2::Sha256::new();
    for input in &inputs {
        let (bars, path) = load_for_model(input, cfg, adjust, &mut hasher)?;
        // As `qts backtest`: data that fails validation does not train a model.
        let source = path.display().to_string();
        let bars = require(bars, &source, Policy::of(cfg))?.into_inner();
        let symbol = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        data.push(SymbolBars {
            symbol,
            source,
            bars,
        });
    }
    Ok((data, qts_core::hex::encode(&hasher.finalize())))
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
    qts_models::registry::check_name(&name).map_err(crate::failure)?;
    let (data, data_hash) = load_data(cfg, &args.data, args.adjust)?;
    let data_tags = vec![
        ("qts.data_hash".to_string(), data_hash.clone()),
        (
            "qts.data_files".to_string(),
            data.iter()
                .map(|d| d.source.clone())
                .collect::<Vec<_>>()
                .join(","),
        ),
    ];
    let family = format!("{:?}", model.architecture).to_lowercase();
    let symbols: Vec<&str> = data.iter().map(|d| d.symbol.as_str()).collect();
    let span = RunContext::new("train")
        .model_type(family)
        .symbol(symbols.join(","))
        .span();
    let _run = span.enter();
    if args.seeds == 0 {
        return Err(Failure::Input(anyhow!("--seeds must be at least 1")));
    }
    let request = TrainRequest {
        config: cfg,
        name,
        data,
        data_name: args.data.clone(),
        data_hash,
        adjust: args.adjust,
        seeds: args.seeds,
        resume: args.resume,
        git_commit: qts_core::provenance::git_commit(),
        from: None,
    };
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
    let start_ms = qts_cli::commands::track::now_ms();
    let report = train_model(&request, &mut progress);
    progress.bar.finish_and_clear();
    let report = report.map_err(crate::failure)?;
    track(&loaded, &report, start_ms, data_tags)?;
    let text = if args.json {
        serde_json::to_string_pretty(&report).map_err(runtime)? + "\n"
    } else {
        let m = &report.metrics;
        let get = |k: &str| m.get(k).map_or("-".into(), |v| format!("{v:.6}"));
        format!(
            "registered {}@{} in {}\n{} on {}, {} epochs{} in {:.1}s; best epoch {}: val loss {}\n\
             test: mae {} (zero forecast {}, training mean {}), directional accuracy {} (share of up days {}), IC {} (t {})\n\
             validation: mae {} (zero forecast {}), directional accuracy {} (share of up days {})\n\
             coverage of the 90% intervals on test: MC dropout {}, ensemble {}\n",
            report.name,
            report.version,
            report.directory.display(),
            report.architecture,
            report.device,
            report.epochs,
            if report.stopped_early {
                " (stopped early)"
            } else {
                ""
            },
            report.training_seconds,
            report.best_epoch,
            get("val_loss"),
            get("test_mae"),
            get("test_mae_zero"),
            get("test_mae_train_mean"),
            get("test_directional_accuracy"),
            get("test_up_share"),
            get("test_ic"),
            get("test_ic_t"),
            get("val_mae"),
            get("val_mae_zero"),
            get("val_directional_accuracy"),
            get("val_up_share"),
            get("test_coverage_mc_dropout_90"),
            get("test_coverage_ensemble_90"),
        )
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(runtime)
}

/// The training run for tracking: the model's metrics, each epoch's numbers at its step (from
/// the registered `history.json`), and the registered files.
fn track(
    loaded: &qts_config::Loaded,
    report: &TrainReport,
    start: i64,
    data_tags: Vec<(String, String)>,
) -> Result<(), Failure> {
    let name = format!("train {}@{}", report.name, report.version);
    let mut run = qts_cli::commands::track::new_run(loaded, "train", name, start);
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
    // The registered version's files, under `model/`: what MLflow's registry points a model
    // version at when the version is promoted.
    let card = std::fs::read(report.directory.join("model.json")).unwrap_or_default();
    let files: Vec<String> = serde_json::from_slice::<serde_json::Value>(&card)
        .ok()
        .and_then(|c| serde_json::from_value(c["files"].clone()).ok())
        .unwrap_or_default();
    for f in files {
        let path = report.directory.join(&f);
        let bytes = std::fs::read(&path)
            .map_err(|e| Failure::Runtime(anyhow!("{}: {e}", path.display())))?;
        run.inline.push((format!("model/{f}"), bytes));
    }
    qts_cli::commands::track::finish(loaded, run).map(|_| ())
}

//! `qts train`: flags → [`qts_research_torch::train::train`] (bars → features → leak-free
//! dataset → trainer → registry, tracked) → summary.

use indicatif::{ProgressBar, ProgressStyle};
use qts_cli::cli::{GlobalArgs, SectionFiles, TrainArgs};
use qts_cli::failure::Failure;
use qts_cli::output::{json, print};
use qts_cli::setup::{load_config, start_logging, tracker};
use qts_models::fit::TrainReport;
use qts_models::train::{EpochLog, Progress};
use qts_research_torch::train::{TrainAsk, TrainData, train};

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

/// Runs `qts train`.
pub fn run(global: &GlobalArgs, args: &TrainArgs) -> Result<(), Failure> {
    let files = SectionFiles {
        model: args.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(global, &files)?;
    let _guard = start_logging(global, &loaded)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} batches {elapsed} elapsed, about {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    if global.quiet > 0 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut progress = CliProgress {
        bar,
        epochs: loaded.config.model.training.epochs,
    };
    let tracker = tracker(&loaded);
    let report = train(
        &loaded,
        TrainAsk {
            data: if args.symbols.is_empty() {
                TrainData::Named(args.data.clone())
            } else {
                TrainData::Universe {
                    file: args.data.clone(),
                    symbols: args.symbols.clone(),
                }
            },
            name: args.name.clone(),
            seeds: args.seeds,
            adjust: args.adjust,
            resume: args.resume,
        },
        &mut progress,
        &tracker,
    );
    progress.bar.finish_and_clear();
    let report = report.map_err(crate::failure)?;
    if args.json {
        return print(&json(&report)?);
    }
    print(&summary(&report))
}

/// The training run as a person reads it: what was registered, the test split's numbers
/// beside the naive forecasts, the validation's, the intervals' coverage.
fn summary(report: &TrainReport) -> String {
    let m = &report.metrics;
    let get = |k: &str| m.get(k).map_or("-".into(), |v| format!("{v:.6}"));
    format!(
        "registered {}@{} in {}\n{} on {}, {} epochs{} in {:.1}s; best epoch {}: val loss {}\n\
         test: mae {} (zero forecast {}, training mean {}), directional accuracy {} (share of up days {}), IC {} (t {})\n\
         validation: mae {} (zero forecast {}), directional accuracy {} (share of up days {})\n\
         coverage of the 90% intervals on test: MC dropout {}, ensemble {}\n{}",
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
        report.verdict.sentences(m),
    )
}

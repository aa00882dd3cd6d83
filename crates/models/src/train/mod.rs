//! The training loop: seeded shuffles, Adam/AdamW, the learning-rate schedule, gradient
//! clipping, mixed precision on CUDA, validation metrics each epoch, early stopping and
//! checkpoints that let an interrupted run resume exactly.
//!
//! Exact resumption: an epoch's shuffle and dropout masks are functions of `(seed, epoch)`
//! only (libtorch's generator is re-seeded at every epoch), the optimiser's moments are in the
//! checkpoint, and the schedule and early stopping are rebuilt by replaying the recorded
//! validation losses. So a run stopped after epoch k and resumed ends with the weights of an
//! uninterrupted run (tested).

use std::path::PathBuf;
use std::time::Instant;

use crate::settings::{ComputeConfig, Loss, ModelConfig, Optimizer};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Reduction, Tensor, nn};

use crate::batches::{DeviceSeries, Series, host, index_tensor};
use crate::checkpoint::Checkpoints;
use crate::error::ModelError;
use crate::eval;
use crate::net::{Net, NetSpec};
use crate::optim::{Adam, AdamConfig};
use crate::schedule::{EarlyStopping, LrSchedule};
use crate::weights;

mod amp;
mod state;

use amp::LossScale;
use state::{RunState, read, restore};

/// What the trainer learns from.
#[derive(Debug, Clone, Copy)]
pub struct TrainSet<'a> {
    /// The normalised features.
    pub series: Series<'a>,
    /// The target of the window ending at each row (NaN where unknown).
    pub targets: &'a [f32],
    /// End rows of the training windows.
    pub train: &'a [usize],
    /// End rows of the validation windows.
    pub validation: &'a [usize],
}

/// How to run.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Device and threads.
    pub compute: ComputeConfig,
    /// Seed of initialisation, shuffles and dropout.
    pub seed: u64,
    /// Deterministic GPU kernels (`reproducibility.deterministic`; see [`crate::device::select`]).
    pub deterministic: bool,
    /// Where checkpoints go (`None`: kept in memory, no resumption).
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from the last checkpoint in `checkpoint_dir`.
    pub resume: bool,
    /// Stop after this many epochs of this invocation (simulates an interruption in tests;
    /// `None` in normal use).
    pub max_epochs_this_run: Option<usize>,
}

/// One epoch's log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Mean training loss.
    pub loss: f64,
    /// Validation loss.
    pub val_loss: f64,
    /// Validation mean absolute error (of the return, or of the up-probability).
    pub val_mae: f64,
    /// Validation directional accuracy.
    pub val_directional_accuracy: f64,
    /// Validation information coefficient (Spearman).
    pub val_ic: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
}

/// Receives progress; both methods default to nothing.
pub trait Progress {
    /// After each batch.
    fn batch(&mut self, _epoch: usize, _done: usize, _total: usize) {}
    /// After each epoch.
    fn epoch(&mut self, _log: &EpochLog) {}
    /// Asked after each batch: true stops the run with [`ModelError::Cancelled`] (the last
    /// finished epoch's checkpoint stays, so `--resume` continues from it).
    fn cancelled(&mut self) -> bool {
        false
    }
}

impl Progress for () {}

/// The outcome of training.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Weights of the best epoch (lowest validation loss), safetensors.
    pub weights: Vec<u8>,
    /// Weights of the best `keep_top_k` epochs, best first (the checkpoint ensemble).
    pub members: Vec<Vec<u8>>,
    /// Every epoch, including those before a resumption.
    pub history: Vec<EpochLog>,
    /// The best epoch.
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Epoch the run resumed after, if it did.
    pub resumed_after: Option<usize>,
    /// Device used (`cpu`, `cuda:0`).
    pub device: String,
    /// Whether mixed precision was on.
    pub mixed_precision: bool,
}

fn loss(kind: Loss, out: &Tensor, target: &Tensor) -> Tensor {
    let out = out.to_kind(Kind::Float);
    match kind {
        Loss::Mse => out.mse_loss(target, Reduction::Mean),
        Loss::Huber => out.huber_loss(target, Reduction::Mean, 1.0),
        Loss::CrossEntropy => out.cross_entropy_for_logits(&target.to_kind(Kind::Int64)),
    }
}

fn seeded_order(rows: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    qts_data::dataset::seeded_order(rows, seed, epoch as u64)
}

fn torch_seed(seed: u64, epoch: usize) -> i64 {
    (seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64) & (i64::MAX as u64)) as i64
}

struct Context<'a> {
    cfg: &'a ModelConfig,
    net: Net,
    vs: nn::VarStore,
    data: DeviceSeries,
    targets: Tensor,
    device: Device,
    amp: bool,
}

impl Context<'_> {
    /// Outputs for the windows ending at `rows`, in eval mode, on the device.
    fn outputs(&self, rows: &[usize]) -> Tensor {
        tch::no_grad(|| {
            let outs: Vec<Tensor> = rows
                .chunks(1024)
                .map(|chunk| {
                    let x = self.data.windows(&index_tensor(chunk, self.device));
                    tch::autocast(self.amp, || self.net.forward(&x, false)).to_kind(Kind::Float)
                })
                .collect();
            Tensor::cat(&outs, 0)
        })
    }

    /// Validation loss and metrics.
    fn validate(&self, rows: &[usize]) -> Result<(f64, f64, f64, f64), ModelError> {
        let out = self.outputs(rows);
        let y = self
            .targets
            .index_select(0, &index_tensor(rows, self.device));
        let l = f64::try_from(loss(self.cfg.training.loss, &out, &y))?;
        let (pred, threshold) = if self.cfg.training.loss == Loss::CrossEntropy {
            (out.softmax(-1, Kind::Float).select(1, 1), 0.5)
        } else {
            (out, 0.0)
        };
        let pred = host(&pred)?;
        let y = host(&y)?;
        Ok((
            l,
            eval::mae(&pred, &y),
            eval::directional_accuracy(&pred, &y, threshold),
            eval::information_coefficient(&pred, &y),
        ))
    }
}

fn check_set(cfg: &ModelConfig, set: &TrainSet) -> Result<(), ModelError> {
    set.series.check(set.train)?;
    set.series.check(set.validation)?;
    if set.series.lookback != cfg.data.lookback {
        return Err(ModelError::Input(format!(
            "the windows have {} rows but data.lookback is {}",
            set.series.lookback, cfg.data.lookback
        )));
    }
    if set.targets.len() != set.series.rows() {
        return Err(ModelError::Input(format!(
            "{} targets for {} rows",
            set.targets.len(),
            set.series.rows()
        )));
    }
    if set.train.is_empty() || set.validation.is_empty() {
        return Err(ModelError::Input(
            "the training and validation splits both need at least one window".into(),
        ));
    }
    for &r in set.train.iter().chain(set.validation) {
        if !set.targets[r].is_finite() {
            return Err(ModelError::Input(format!(
                "the target of row {r} is not finite"
            )));
        }
    }
    Ok(())
}

/// Trains the network `cfg` describes on `set`.
///
/// # Errors
/// [`ModelError::Input`] for unusable data or settings, [`ModelError::Io`] for checkpoint
/// failures, [`ModelError::Torch`] when libtorch fails.
pub fn train(
    cfg: &ModelConfig,
    set: &TrainSet,
    opts: &TrainOptions,
    progress: &mut dyn Progress,
) -> Result<Trained, ModelError> {
    check_set(cfg, set)?;
    let device = crate::device::select(&opts.compute, opts.deterministic)?;
    let _generator = crate::device::generator_lock();
    tch::manual_seed(torch_seed(opts.seed, usize::MAX));
    let spec = NetSpec::new(cfg, set.series.width)?;
    let vs = nn::VarStore::new(device);
    let net = Net::new(&vs.root(), &spec);
    let t = &cfg.training;
    let mut opt = Adam::new(
        weights::variables(&vs),
        AdamConfig::new(t.weight_decay, t.optimizer == Optimizer::Adamw),
    );
    let ctx = Context {
        cfg,
        net,
        data: DeviceSeries::new(&set.series, device),
        targets: Tensor::from_slice(set.targets).to_device(device),
        vs,
        device,
        amp: device.is_cuda() && t.mixed_precision,
    };
    let store = opts
        .checkpoint_dir
        .as_ref()
        .map(|d| Checkpoints::new(d, t.checkpoints.keep_top_k));
    let mut schedule = LrSchedule::new(t);
    let mut stopper = EarlyStopping::new(t.early_stopping.patience, t.early_stopping.min_delta);
    let mut scaler = LossScale {
        scale: 65536.0,
        good: 0,
    };
    let mut history: Vec<EpochLog> = Vec::new();
    let mut resumed_after = None;
    let mut stopped_early = false;
    match (&store, opts.resume) {
        (Some(store), true) => {
            if let Some(last) = store.last()? {
                let state = restore(&store.path(&last), &ctx.vs, &mut opt)?;
                scaler = LossScale {
                    scale: state.loss_scale,
                    good: state.good_steps,
                };
                for log in &state.history {
                    schedule.step(Some(log.val_loss));
                    stopped_early =
                        t.early_stopping.enabled && stopper.update(log.epoch, log.val_loss);
                }
                resumed_after = Some(state.epoch);
                history = state.history;
                tracing::info!(epoch = state.epoch, "resuming after the last checkpoint");
            } else {
                tracing::warn!("--resume: no checkpoint yet, starting from the first epoch");
            }
        }
        (Some(store), false) => store.clear()?,
        (None, true) => {
            return Err(ModelError::Input(
                "resuming needs a checkpoint directory".into(),
            ));
        }
        (None, false) => {}
    }
    let mut best: Option<(f64, Vec<u8>)> = None;
    let first = history.len();
    for (ran, epoch) in (first..t.epochs).enumerate() {
        if stopped_early || opts.max_epochs_this_run.is_some_and(|m| ran >= m) {
            break;
        }
        let started = Instant::now();
        tch::manual_seed(torch_seed(opts.seed, epoch));
        let order = seeded_order(set.train, opts.seed, epoch);
        let order_t = index_tensor(&order, device);
        let lr = schedule.lr();
        let mut total = Tensor::zeros([], (Kind::Float, device));
        let batches = order.len().div_ceil(t.batch_size);
        for b in 0..batches {
            let start = b * t.batch_size;
            let len = t.batch_size.min(order.len() - start);
            let idx = order_t.narrow(0, start as i64, len as i64);
            let x = ctx.data.windows(&idx);
            let y = ctx.targets.index_select(0, &idx);
            let out = tch::autocast(ctx.amp, || ctx.net.forward(&x, true));
            let l = loss(t.loss, &out, &y);
            opt.zero_grad();
            let step = if ctx.amp {
                (&l * scaler.scale).backward();
                scaler.unscale(&opt)
            } else {
                l.backward();
                true
            };
            if step {
                if t.gradient_clip_norm > 0.0 {
                    opt.clip_grad_norm(t.gradient_clip_norm);
                }
                opt.step(lr);
            }
            total += l.detach() * len as f64;
            progress.batch(epoch, b + 1, batches);
            if progress.cancelled() {
                return Err(ModelError::Cancelled);
            }
        }
        let train_loss = f64::try_from(&total)? / order.len() as f64;
        let (val_loss, val_mae, val_da, val_ic) = ctx.validate(set.validation)?;
        if !val_loss.is_finite() || !train_loss.is_finite() {
            return Err(ModelError::Input(format!(
                "training diverged at epoch {epoch} (loss {train_loss}, validation loss {val_loss}): lower training.learning_rate or check the features"
            )));
        }
        let log = EpochLog {
            epoch,
            lr,
            loss: train_loss,
            val_loss,
            val_mae,
            val_directional_accuracy: val_da,
            val_ic,
            seconds: started.elapsed().as_secs_f64(),
        };
        schedule.step(Some(val_loss));
        stopped_early = t.early_stopping.enabled && stopper.update(epoch, val_loss);
        history.push(log.clone());
        progress.epoch(&log);
        let bytes = weights::to_safetensors(&weights::variables(&ctx.vs))?;
        if let Some(store) = &store {
            let state = RunState {
                epoch,
                optimizer_steps: opt.steps(),
                loss_scale: scaler.scale,
                good_steps: scaler.good,
                history: history.clone(),
            };
            let state = serde_json::to_vec_pretty(&state).map_err(|e| ModelError::Encode {
                what: "training state",
                source: e.into(),
            })?;
            let moments = weights::to_safetensors(&opt.state())?;
            store.save(
                epoch,
                val_loss,
                &[
                    ("weights.safetensors", &bytes),
                    ("optimizer.safetensors", &moments),
                    ("state.json", &state),
                ],
            )?;
        }
        if best.as_ref().is_none_or(|(l, _)| val_loss < *l) {
            best = Some((val_loss, bytes));
        }
    }
    let (weights, members) = match &store {
        Some(store) => {
            let members = store
                .best_k()?
                .iter()
                .map(|c| read(&store.path(c).join("weights.safetensors")))
                .collect::<Result<Vec<_>, _>>()?;
            let first = members
                .first()
                .cloned()
                .ok_or_else(|| ModelError::Input("no epoch was trained".into()))?;
            (first, members)
        }
        None => {
            let (_, w) = best.ok_or_else(|| ModelError::Input("no epoch was trained".into()))?;
            (w.clone(), vec![w])
        }
    };
    let best_epoch = history
        .iter()
        .min_by(|a, b| {
            a.val_loss
                .total_cmp(&b.val_loss)
                .then(a.epoch.cmp(&b.epoch))
        })
        .map_or(0, |l| l.epoch);
    Ok(Trained {
        weights,
        members,
        history,
        best_epoch,
        stopped_early,
        resumed_after,
        device: crate::device::name(device),
        mixed_precision: ctx.amp,
    })
}

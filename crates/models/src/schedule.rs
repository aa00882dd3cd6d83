//! Learning-rate schedules, step by step as `torch.optim.lr_scheduler` computes them (the
//! recursive "chainable" forms, not the closed forms, so values agree to rounding):
//! `StepLR`, `CosineAnnealingLR(T_max = epochs − warm-up)`, `ReduceLROnPlateau` (mode min,
//! relative threshold 1e-4, no cool-down), and a warm-up of `LinearLR(1/(W+1) → 1, W)` chained
//! before them as `SequentialLR` does (the main schedule starts from the base rate at epoch W).
//! tch has no schedulers; `tests/lr_golden.rs` replays PyTorch's.

use std::f64::consts::PI;

use crate::settings::{Schedule, TrainingConfig};

/// A schedule's state; [`LrSchedule::lr`] is the rate for the current epoch.
#[derive(Debug, Clone)]
pub struct LrSchedule {
    kind: Schedule,
    base: f64,
    lr: f64,
    epoch: usize,
    warmup: usize,
    start_factor: f64,
    step_size: usize,
    gamma: f64,
    min_lr: f64,
    t_max: usize,
    patience: usize,
    best: f64,
    bad_epochs: usize,
}

impl LrSchedule {
    /// The schedule `cfg` describes.
    pub fn new(cfg: &TrainingConfig) -> LrSchedule {
        let warmup = cfg.warmup_epochs;
        let start_factor = 1.0 / (warmup as f64 + 1.0);
        LrSchedule {
            kind: cfg.schedule,
            base: cfg.learning_rate,
            lr: if warmup > 0 {
                cfg.learning_rate * start_factor
            } else {
                cfg.learning_rate
            },
            epoch: 0,
            warmup,
            start_factor,
            step_size: cfg.step_size.max(1),
            gamma: cfg.gamma,
            min_lr: cfg.min_lr,
            t_max: cfg.epochs.saturating_sub(warmup).max(1),
            patience: cfg.plateau_patience,
            best: f64::INFINITY,
            bad_epochs: 0,
        }
    }

    /// The learning rate of the current epoch.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Ends an epoch; `val_loss` drives `reduce_on_plateau` (ignored by the others).
    pub fn step(&mut self, val_loss: Option<f64>) {
        self.epoch += 1;
        let e = self.epoch;
        if e < self.warmup || (e == self.warmup && self.warmup > 0) {
            if e == self.warmup {
                // SequentialLR hands over to the main schedule at its epoch 0: the base rate.
                self.lr = self.base;
            } else {
                let (s, w) = (self.start_factor, self.warmup as f64);
                self.lr *= 1.0 + (1.0 - s) / (w * s + (e as f64 - 1.0) * (1.0 - s));
            }
            return;
        }
        let k = e - self.warmup; // epochs into the main schedule
        match self.kind {
            Schedule::Constant => {}
            Schedule::Step => {
                if k.is_multiple_of(self.step_size) {
                    self.lr *= self.gamma;
                }
            }
            Schedule::Cosine => {
                let (t, k) = (self.t_max as i64, k as i64);
                self.lr = if (k - 1 - t).rem_euclid(2 * t) == 0 {
                    self.lr + (self.base - self.min_lr) * (1.0 - (PI / t as f64).cos()) / 2.0
                } else {
                    (1.0 + (k as f64 * PI / t as f64).cos())
                        / (1.0 + ((k - 1) as f64 * PI / t as f64).cos())
                        * (self.lr - self.min_lr)
                        + self.min_lr
                };
            }
            Schedule::ReduceOnPlateau => {
                let Some(loss) = val_loss else { return };
                if loss < self.best * (1.0 - 1e-4) {
                    self.best = loss;
                    self.bad_epochs = 0;
                } else {
                    self.bad_epochs += 1;
                }
                if self.bad_epochs > self.patience {
                    let new = (self.lr * self.gamma).max(self.min_lr);
                    if self.lr - new > 1e-8 {
                        self.lr = new;
                    }
                    self.bad_epochs = 0;
                }
            }
        }
    }
}

/// Early stopping on validation loss: stop after `patience` epochs without an improvement of
/// more than `min_delta`.
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f64,
    best: f64,
    best_epoch: Option<usize>,
    waited: usize,
}

impl EarlyStopping {
    /// A stopper with the given patience and minimum improvement.
    pub fn new(patience: usize, min_delta: f64) -> EarlyStopping {
        EarlyStopping {
            patience,
            min_delta,
            best: f64::INFINITY,
            best_epoch: None,
            waited: 0,
        }
    }

    /// Records an epoch's validation loss; returns whether training should stop.
    pub fn update(&mut self, epoch: usize, val_loss: f64) -> bool {
        if val_loss < self.best - self.min_delta {
            self.best = val_loss;
            self.best_epoch = Some(epoch);
            self.waited = 0;
            false
        } else {
            self.waited += 1;
            self.waited >= self.patience
        }
    }

    /// The best epoch so far and its loss.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.best_epoch.map(|e| (e, self.best))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_waits_patience_epochs_without_improvement() {
        let mut s = EarlyStopping::new(2, 0.01);
        assert!(!s.update(0, 1.0));
        assert!(!s.update(1, 0.995), "not better by more than min_delta");
        assert!(s.update(2, 0.999));
        assert_eq!(s.best(), Some((0, 1.0)));
        let mut s = EarlyStopping::new(2, 0.0);
        for (e, l) in [1.0, 0.9, 0.8, 0.7].iter().enumerate() {
            assert!(!s.update(e, *l));
        }
        assert_eq!(s.best(), Some((3, 0.7)));
    }
}

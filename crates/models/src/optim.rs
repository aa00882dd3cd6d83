//! Adam and AdamW as `torch.optim` computes them (single-tensor form), with gradient clipping
//! by global norm. Written here rather than taken from tch's because tch does not expose the
//! moment estimates, and an interrupted run must resume with them exactly.

use std::collections::BTreeMap;

use tch::{Tensor, no_grad};

/// Adam's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// L2 penalty (Adam) or decoupled decay (AdamW).
    pub weight_decay: f64,
    /// AdamW when true.
    pub decoupled: bool,
}

impl AdamConfig {
    /// PyTorch's defaults with the given decay.
    pub fn new(weight_decay: f64, decoupled: bool) -> AdamConfig {
        AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            decoupled,
        }
    }
}

/// The optimiser over a fixed list of named parameters.
#[derive(Debug)]
pub struct Adam {
    cfg: AdamConfig,
    params: Vec<(String, Tensor)>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    steps: i64,
}

impl Adam {
    /// An optimiser with zero moments over `params`.
    pub fn new(params: Vec<(String, Tensor)>, cfg: AdamConfig) -> Adam {
        let exp_avg = params.iter().map(|(_, p)| p.zeros_like()).collect();
        let exp_avg_sq = params.iter().map(|(_, p)| p.zeros_like()).collect();
        Adam {
            cfg,
            params,
            exp_avg,
            exp_avg_sq,
            steps: 0,
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// The gradients that are defined (shallow: scaling them scales the parameters' grads).
    pub fn grads(&self) -> Vec<Tensor> {
        self.params
            .iter()
            .map(|(_, p)| p.grad())
            .filter(|g| g.defined())
            .collect()
    }

    /// Clears every gradient.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// Scales the gradients so their global L2 norm is at most `max_norm`, as
    /// `torch.nn.utils.clip_grad_norm_` (coefficient `max / (norm + 1e-6)`, clamped to 1). Stays
    /// on the device: no host round trip.
    pub fn clip_grad_norm(&mut self, max_norm: f64) {
        let grads = self.grads();
        if grads.is_empty() {
            return;
        }
        no_grad(|| {
            let norms: Vec<Tensor> = grads.iter().map(|g| g.norm().unsqueeze(0)).collect();
            let total = Tensor::cat(&norms, 0).norm();
            let coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
            for mut g in grads {
                let _ = g.f_mul_(&coef);
            }
        });
    }

    /// One update at learning rate `lr`.
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let c = self.cfg;
        let t = self.steps as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        no_grad(|| {
            for (i, (_, p)) in self.params.iter_mut().enumerate() {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let g = if c.weight_decay > 0.0 && !c.decoupled {
                    &g + &*p * c.weight_decay
                } else {
                    g
                };
                if c.weight_decay > 0.0 && c.decoupled {
                    let _ = p.f_mul_scalar_(1.0 - lr * c.weight_decay);
                }
                let _ = self.exp_avg[i].f_lerp_(&g, 1.0 - c.beta1);
                let sq = &mut self.exp_avg_sq[i];
                let _ = sq.f_mul_scalar_(c.beta2);
                let _ = sq.f_add_(&(g.square() * (1.0 - c.beta2)));
                let denom = sq.sqrt() / bias2_sqrt + c.eps;
                let _ = p.f_sub_(&(&self.exp_avg[i] / denom * (lr / bias1)));
            }
        });
    }

    /// The moments as named tensors (`{param}.exp_avg`, `{param}.exp_avg_sq`) for a checkpoint.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (i, (name, _)) in self.params.iter().enumerate() {
            out.push((format!("{name}.exp_avg"), self.exp_avg[i].shallow_clone()));
            out.push((
                format!("{name}.exp_avg_sq"),
                self.exp_avg_sq[i].shallow_clone(),
            ));
        }
        out
    }

    /// Restores the moments and the step count from a checkpoint.
    ///
    /// # Errors
    /// The name of a moment that is missing or mis-shaped.
    pub fn restore(&mut self, state: &BTreeMap<String, Tensor>, steps: i64) -> Result<(), String> {
        no_grad(|| {
            for (i, (name, p)) in self.params.iter().enumerate() {
                for (suffix, dst) in [
                    ("exp_avg", &mut self.exp_avg[i]),
                    ("exp_avg_sq", &mut self.exp_avg_sq[i]),
                ] {
                    let key = format!("{name}.{suffix}");
                    let src = state
                        .get(&key)
                        .filter(|t| t.size() == p.size())
                        .ok_or_else(|| {
                            format!("optimizer state `{key}` is missing or mis-shaped")
                        })?;
                    dst.copy_(&src.to_device(p.device()).to_kind(p.kind()));
                }
            }
            Ok::<(), String>(())
        })?;
        self.steps = steps;
        Ok(())
    }
}

//! Dynamic loss scaling for float16 autocast on CUDA.

use tch::Tensor;

use crate::optim::Adam;

/// Dynamic loss scaling for float16 autocast, as `torch.cuda.amp.GradScaler` (initial scale
/// 2¹⁶, halve on overflow and skip the step, double after 2000 clean steps).
#[derive(Debug, Clone, Copy)]
pub(super) struct LossScale {
    pub(super) scale: f64,
    pub(super) good: u32,
}

impl LossScale {
    /// Unscales the gradients; false when any is not finite (the step is skipped).
    pub(super) fn unscale(&mut self, opt: &Adam) -> bool {
        let grads = opt.grads();
        let finite = tch::no_grad(|| {
            let mut all = Vec::new();
            for mut g in grads {
                let _ = g.f_mul_scalar_(1.0 / self.scale);
                all.push(g.isfinite().all().unsqueeze(0));
            }
            Tensor::cat(&all, 0).all()
        });
        let ok = bool::try_from(&finite).unwrap_or(false);
        if ok {
            self.good += 1;
            if self.good >= 2000 {
                self.scale *= 2.0;
                self.good = 0;
            }
        } else {
            self.scale *= 0.5;
            self.good = 0;
        }
        ok
    }
}

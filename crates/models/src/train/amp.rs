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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::optim::AdamConfig;

    /// A parameter whose gradient is `2 × scale × values` (the loss `scale × Σ v·p²`, at p = 1).
    fn scaled(values: &[f64], scale: f64) -> Adam {
        let p = Tensor::ones([values.len() as i64], (tch::Kind::Double, tch::Device::Cpu))
            .set_requires_grad(true);
        let v = Tensor::from_slice(values);
        (&p * &p * v * scale).sum(tch::Kind::Double).backward();
        Adam::new(vec![("p".into(), p)], AdamConfig::new(0.0, false))
    }

    #[test]
    fn the_scale_is_divided_out_halved_on_overflow_and_doubled_after_2000_clean_steps() {
        let mut s = LossScale {
            scale: 65_536.0,
            good: 0,
        };
        let opt = scaled(&[0.5, -1.5], s.scale);
        assert!(s.unscale(&opt));
        // The gradients the optimiser steps with are the unscaled ones: 2 × v.
        let g: Vec<f64> = Vec::try_from(opt.grads()[0].shallow_clone()).unwrap();
        assert_eq!(g, vec![1.0, -3.0]);
        assert_eq!((s.scale, s.good), (65_536.0, 1));

        // An overflow: the step is skipped and the scale halved.
        let opt = scaled(&[f64::INFINITY, 1.0], s.scale);
        assert!(!s.unscale(&opt));
        assert_eq!((s.scale, s.good), (32_768.0, 0));
        let opt = scaled(&[f64::NAN, 1.0], s.scale);
        assert!(!s.unscale(&opt));
        assert_eq!(s.scale, 16_384.0);

        // 2,000 clean steps in a row double it.
        s.good = 1_999;
        let opt = scaled(&[1.0], s.scale);
        assert!(s.unscale(&opt));
        assert_eq!((s.scale, s.good), (32_768.0, 0));
    }
}

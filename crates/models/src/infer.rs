//! Batch prediction with intervals. Every member of an ensemble (the best checkpoints of a
//! run, or imported weights alone) predicts each window; with MC dropout each member also
//! predicts `mc_samples` times with dropout on. The forecast is the mean of all those samples
//! and the interval their empirical `(1 − level)/2` and `(1 + level)/2` quantiles (linear
//! interpolation, as `numpy.quantile`). One sample in all gives no interval.

use qts_core::stats::quantile_sorted as quantile;
use std::path::Path;

use crate::settings::ComputeConfig;
use tch::{Device, Kind, Tensor, nn};

use crate::batches::{DeviceSeries, Series, host, index_tensor};
use crate::error::ModelError;
use crate::net::{Net, NetSpec};
use crate::weights;

/// How to predict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictOptions {
    /// Forward passes with dropout on, per member (0: one pass, dropout off).
    pub mc_samples: usize,
    /// Interval coverage, in (0, 1).
    pub level: f64,
    /// Windows per forward pass.
    pub batch_size: usize,
    /// Seed of the MC-dropout masks.
    pub seed: u64,
}

impl Default for PredictOptions {
    fn default() -> Self {
        PredictOptions {
            mc_samples: 0,
            level: 0.9,
            batch_size: 256,
            seed: 42,
        }
    }
}

/// Forecasts, one per window: the predicted return, or the probability of an up move.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Mean over members and samples.
    pub mean: Vec<f64>,
    /// Lower and upper bounds, when there was more than one sample.
    pub interval: Option<(Vec<f64>, Vec<f64>)>,
}

/// Loaded networks ready to predict.
#[derive(Debug)]
pub struct Predictor {
    spec: NetSpec,
    members: Vec<(nn::VarStore, Net)>,
    device: Device,
}

impl Predictor {
    /// Loads each member's safetensors weights (`(path for messages, bytes)`).
    ///
    /// # Errors
    /// [`ModelError::Weights`] when weights do not fit `spec` (each problem named).
    pub fn new(
        spec: NetSpec,
        members: &[(&Path, &[u8])],
        compute: &ComputeConfig,
    ) -> Result<Predictor, ModelError> {
        if members.is_empty() {
            return Err(ModelError::Input("no weights to predict with".into()));
        }
        let device = crate::device::select(compute, true)?;
        // Creating a network draws its initial weights (overwritten below) from the shared
        // generator: not while a seeded run is using it.
        let _generator = crate::device::generator_lock();
        let mut loaded = Vec::new();
        for (path, bytes) in members {
            let mut vs = nn::VarStore::new(device);
            let net = Net::new(&vs.root(), &spec);
            weights::load_into(&vs, &weights::read_safetensors(path, bytes)?, path)?;
            // No gradients at inference.
            vs.freeze();
            loaded.push((vs, net));
        }
        Ok(Predictor {
            spec,
            members: loaded,
            device,
        })
    }

    /// The network's shape.
    pub fn spec(&self) -> &NetSpec {
        &self.spec
    }

    /// Forecasts for the windows ending at `ends`.
    ///
    /// # Errors
    /// [`ModelError::Input`] when the series does not fit the network or a window is
    /// incomplete or not finite.
    pub fn predict(
        &self,
        series: &Series,
        ends: &[usize],
        opts: &PredictOptions,
    ) -> Result<Predictions, ModelError> {
        if series.width != self.spec.input_size || series.lookback != self.spec.lookback {
            return Err(ModelError::Input(format!(
                "the network takes windows of {} rows x {} features, got {} x {}",
                self.spec.lookback, self.spec.input_size, series.lookback, series.width
            )));
        }
        series.check(ends)?;
        if !(opts.level > 0.0 && opts.level < 1.0) {
            return Err(ModelError::Input(format!(
                "the interval level must be in (0, 1), got {}",
                opts.level
            )));
        }
        let data = DeviceSeries::new(series, self.device);
        let passes = opts.mc_samples.max(1);
        let dropout_on = opts.mc_samples > 0;
        let _generator = dropout_on.then(crate::device::generator_lock);
        if dropout_on {
            tch::manual_seed((opts.seed & (i64::MAX as u64)) as i64);
        }
        // samples[s][i]: sample s of window i.
        let mut samples: Vec<Vec<f64>> = Vec::new();
        for (_, net) in &self.members {
            for _ in 0..passes {
                let mut out = Vec::with_capacity(ends.len());
                for chunk in ends.chunks(opts.batch_size.max(1)) {
                    let x = data.windows(&index_tensor(chunk, self.device));
                    let y = tch::no_grad(|| net.forward(&x, dropout_on)).to_kind(Kind::Float);
                    let y = if self.spec.outputs == 2 {
                        y.softmax(-1, Kind::Float).select(1, 1)
                    } else {
                        y
                    };
                    out.extend(host(&y)?);
                }
                samples.push(out);
            }
        }
        let n = samples.len();
        let mean = (0..ends.len())
            .map(|i| samples.iter().map(|s| s[i]).sum::<f64>() / n as f64)
            .collect();
        let interval = (n > 1).then(|| {
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            let mut col = vec![0.0; n];
            for i in 0..ends.len() {
                for (c, s) in col.iter_mut().zip(&samples) {
                    *c = s[i];
                }
                col.sort_by(f64::total_cmp);
                lo.push(quantile(&col, (1.0 - opts.level) / 2.0));
                hi.push(quantile(&col, (1.0 + opts.level) / 2.0));
            }
            (lo, hi)
        });
        Ok(Predictions { mean, interval })
    }

    /// One window (`lookback × width`, row-major) through the first member, dropout off: the
    /// latency path.
    ///
    /// # Errors
    /// [`ModelError::Input`] for a window of the wrong size.
    pub fn predict_one(&self, window: &[f32]) -> Result<f64, ModelError> {
        let (l, w) = (self.spec.lookback, self.spec.input_size);
        if window.len() != l * w {
            return Err(ModelError::Input(format!(
                "a window has {} values ({l} x {w}), got {}",
                l * w,
                window.len()
            )));
        }
        let x = Tensor::from_slice(window)
            .view([1, l as i64, w as i64])
            .to_device(self.device);
        let y = tch::no_grad(|| self.members[0].1.forward(&x, false)).to_kind(Kind::Float);
        let y = if self.spec.outputs == 2 {
            y.softmax(-1, Kind::Float).select(1, 1)
        } else {
            y
        };
        Ok(host(&y)?[0])
    }
}

#[cfg(test)]
mod tests {
    use qts_core::stats::quantile_sorted as quantile;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.quantile([1, 2, 3, 4], [0.05, 0.95]) == [1.15, 3.85]
        let s = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile(&s, 0.05) - 1.15).abs() < 1e-12);
        assert!((quantile(&s, 0.95) - 3.85).abs() < 1e-12);
    }
}

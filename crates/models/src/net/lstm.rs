//! `nn.LSTM(batch_first=True)` (libtorch's fused kernel: cuDNN on CUDA), then the last
//! step's output — or attention pooling over all steps — an optional layer norm, dropout and
//! a linear head:
//!
//! ```python
//! out, _ = self.lstm(x)                       # [B, L, H·D]
//! if attention:
//!     w = softmax(self.attention(out).squeeze(-1), dim=1)
//!     pooled = (w.unsqueeze(-1) * out).sum(1)
//! else:
//!     pooled = out[:, -1, :]
//! pooled = self.norm(pooled)                  # if layer_norm
//! return self.head(self.dropout(pooled))
//! ```

use tch::{Tensor, nn};

use super::NetSpec;
use super::layers::{LayerNorm, Linear};

/// The LSTM network.
#[derive(Debug)]
pub struct Lstm {
    weights: Vec<Tensor>,
    hidden: i64,
    layers: i64,
    bidirectional: bool,
    dropout: f64,
    attention: Option<Linear>,
    norm: Option<LayerNorm>,
    head: Linear,
}

impl Lstm {
    /// Parameters `lstm.*`, `attention.*`, `norm.*`, `head.*` under `root`.
    pub fn new(root: &nn::Path, spec: &NetSpec) -> Lstm {
        let c = &spec.lstm;
        let p = root / "lstm";
        let dirs = if c.bidirectional { 2 } else { 1 };
        let (h, gates) = (c.hidden_size as i64, 4 * c.hidden_size as i64);
        // PyTorch draws every LSTM parameter, biases too, uniform in ±1/√hidden.
        let bound = 1.0 / (c.hidden_size as f64).sqrt();
        let init = nn::Init::Uniform {
            lo: -bound,
            up: bound,
        };
        let mut weights = Vec::new();
        for layer in 0..c.num_layers {
            for dir in 0..dirs {
                let suffix = if dir == 1 { "_reverse" } else { "" };
                let n_in = if layer == 0 {
                    spec.input_size as i64
                } else {
                    h * dirs
                };
                weights.push(p.var(&format!("weight_ih_l{layer}{suffix}"), &[gates, n_in], init));
                weights.push(p.var(&format!("weight_hh_l{layer}{suffix}"), &[gates, h], init));
                weights.push(p.var(&format!("bias_ih_l{layer}{suffix}"), &[gates], init));
                weights.push(p.var(&format!("bias_hh_l{layer}{suffix}"), &[gates], init));
            }
        }
        if root.device().is_cuda() && tch::Cuda::cudnn_is_available() {
            // One contiguous buffer for cuDNN, as nn.LSTM.flatten_parameters() (and tch's own
            // LSTM) do; otherwise every call copies the weights.
            let _ = Tensor::internal_cudnn_rnn_flatten_weight(
                &weights,
                4,
                spec.input_size as i64,
                2, // LSTM in cuDNN's mode numbering
                h,
                0,
                c.num_layers as i64,
                true,
                c.bidirectional,
            );
        }
        let width = c.hidden_size * dirs as usize;
        Lstm {
            weights,
            hidden: h,
            layers: c.num_layers as i64,
            bidirectional: c.bidirectional,
            dropout: c.dropout,
            attention: c
                .attention
                .then(|| Linear::new(root / "attention", width, 1)),
            norm: c.layer_norm.then(|| LayerNorm::new(root / "norm", width)),
            head: Linear::new(root / "head", width, spec.outputs),
        }
    }

    /// Forward pass.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let batch = xs.size()[0];
        let dirs = if self.bidirectional { 2 } else { 1 };
        let zeros = Tensor::zeros(
            [self.layers * dirs, batch, self.hidden],
            (xs.kind(), xs.device()),
        );
        let (out, _, _) = xs.lstm(
            &[&zeros, &zeros],
            &self.weights.iter().collect::<Vec<_>>(),
            true,
            self.layers,
            self.dropout,
            train,
            self.bidirectional,
            true,
        );
        let pooled = match &self.attention {
            Some(att) => {
                let kind = out.kind();
                let w = att.forward(&out).squeeze_dim(-1).softmax(1, kind);
                (&out * w.unsqueeze(-1)).sum_dim_intlist(1, false, kind)
            }
            None => out.select(1, -1),
        };
        let pooled = match &self.norm {
            Some(n) => n.forward(&pooled),
            None => pooled,
        };
        self.head.forward(&pooled.dropout(self.dropout, train))
    }
}

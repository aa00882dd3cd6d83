//! A Transformer encoder written out in tensor operations (tch has none), equal to
//! PyTorch's
//!
//! ```python
//! x = self.input(x) + pe[:L]                  # nn.Linear(n_in, d_model), sinusoidal pe
//! x = self.dropout(x)
//! x = self.encoder(x)                          # nn.TransformerEncoder(nn.TransformerEncoderLayer(
//!                                              #   d_model, heads, ff, dropout, batch_first=True), layers)
//! return self.head(x.mean(dim=1))
//! ```
//!
//! Each layer is post-norm with ReLU, as PyTorch's default:
//! `x = norm1(x + drop(attn(x))); x = norm2(x + drop(linear2(drop(relu(linear1(x))))))`.
//! No mask: a window ends at the bar being predicted, so attending within it sees no future.

use tch::{Tensor, nn};

use super::NetSpec;
use super::layers::{LayerNorm, Linear};

#[derive(Debug)]
struct EncoderLayer {
    in_proj_weight: Tensor,
    in_proj_bias: Tensor,
    out_proj: Linear,
    linear1: Linear,
    linear2: Linear,
    norm1: LayerNorm,
    norm2: LayerNorm,
}

/// The Transformer network.
#[derive(Debug)]
pub struct Transformer {
    input: Linear,
    positions: Tensor,
    layers: Vec<EncoderLayer>,
    head: Linear,
    heads: i64,
    dropout: f64,
}

/// The sinusoidal encoding of PyTorch's tutorial: `pe[t, 2i] = sin(t / 10000^(2i/d))`,
/// `pe[t, 2i+1] = cos(…)`.
fn positional_encoding(length: usize, d: usize) -> Vec<f32> {
    let mut pe = vec![0.0f32; length * d];
    for t in 0..length {
        for i in (0..d).step_by(2) {
            let angle = t as f64 * (-(10000f64.ln()) * i as f64 / d as f64).exp();
            pe[t * d + i] = angle.sin() as f32;
            if i + 1 < d {
                pe[t * d + i + 1] = angle.cos() as f32;
            }
        }
    }
    pe
}

impl Transformer {
    /// Parameters `input.*`, `encoder.layers.{i}.*`, `head.*` under `root`.
    pub fn new(root: &nn::Path, spec: &NetSpec) -> Transformer {
        let c = &spec.transformer;
        let d = c.d_model;
        // xavier_uniform for the packed q/k/v projection, zero biases: as nn.MultiheadAttention.
        let bound = (6.0 / (d + 3 * d) as f64).sqrt();
        let layers = (0..c.num_layers)
            .map(|i| {
                let p = root / "encoder" / "layers" / i;
                let att = &p / "self_attn";
                EncoderLayer {
                    in_proj_weight: att.var(
                        "in_proj_weight",
                        &[3 * d as i64, d as i64],
                        nn::Init::Uniform {
                            lo: -bound,
                            up: bound,
                        },
                    ),
                    in_proj_bias: att.var("in_proj_bias", &[3 * d as i64], nn::Init::Const(0.0)),
                    out_proj: Linear::new(&att / "out_proj", d, d),
                    linear1: Linear::new(&p / "linear1", d, c.feedforward_size),
                    linear2: Linear::new(&p / "linear2", c.feedforward_size, d),
                    norm1: LayerNorm::new(&p / "norm1", d),
                    norm2: LayerNorm::new(&p / "norm2", d),
                }
            })
            .collect();
        let pe = positional_encoding(spec.lookback, d);
        Transformer {
            input: Linear::new(root / "input", spec.input_size, d),
            positions: Tensor::from_slice(&pe)
                .view([spec.lookback as i64, d as i64])
                .to_device(root.device()),
            layers,
            head: Linear::new(root / "head", d, spec.outputs),
            heads: c.num_heads as i64,
            dropout: c.dropout,
        }
    }

    fn attention(&self, l: &EncoderLayer, x: &Tensor, train: bool) -> Tensor {
        let (b, t, d) = x.size3().unwrap_or((0, 0, 0));
        let dh = d / self.heads;
        let qkv = x.linear(&l.in_proj_weight, Some(&l.in_proj_bias));
        let parts = qkv.chunk(3, -1);
        let split = |z: &Tensor| z.reshape([b, t, self.heads, dh]).transpose(1, 2);
        let (q, k, v) = (split(&parts[0]), split(&parts[1]), split(&parts[2]));
        let scores = (q * (1.0 / (dh as f64).sqrt())).matmul(&k.transpose(-2, -1));
        let weights = scores
            .softmax(-1, scores.kind())
            .dropout(self.dropout, train);
        let out = weights.matmul(&v).transpose(1, 2).reshape([b, t, d]);
        l.out_proj.forward(&out)
    }

    /// Forward pass.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let steps = xs.size()[1];
        let pe = self.positions.narrow(0, 0, steps).to_kind(xs.kind());
        let mut x = (self.input.forward(xs) + pe).dropout(self.dropout, train);
        for l in &self.layers {
            let a = self.attention(l, &x, train).dropout(self.dropout, train);
            x = l.norm1.forward(&(x + a));
            let f = l
                .linear2
                .forward(&l.linear1.forward(&x).relu().dropout(self.dropout, train))
                .dropout(self.dropout, train);
            x = l.norm2.forward(&(x + f));
        }
        let pooled = x.mean_dim(1, false, x.kind());
        self.head.forward(&pooled)
    }
}

#[cfg(test)]
mod tests {
    use super::positional_encoding;

    #[test]
    fn positional_encoding_is_the_tutorial_one() {
        let pe = positional_encoding(3, 4);
        assert_eq!(pe[0..4], [0.0, 1.0, 0.0, 1.0]);
        assert!((pe[4] - 1f32.sin()).abs() < 1e-7);
        assert!((pe[6] - (1.0f64 / 100.0).sin() as f32).abs() < 1e-7);
    }
}

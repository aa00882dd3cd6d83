//! A multi-layer perceptron over the flattened window, the baseline a sequence model has to
//! beat: `hidden.{i}` = `nn.Linear` + ReLU + dropout, then `head`.

use tch::{Tensor, nn};

use super::NetSpec;
use super::layers::Linear;

/// The MLP network.
#[derive(Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    head: Linear,
    dropout: f64,
}

impl Mlp {
    /// Parameters `hidden.{i}.*`, `head.*` under `root`.
    pub fn new(root: &nn::Path, spec: &NetSpec) -> Mlp {
        let mut width = spec.input_size * spec.lookback;
        let mut hidden = Vec::new();
        for (i, &h) in spec.mlp.hidden_sizes.iter().enumerate() {
            hidden.push(Linear::new(root / "hidden" / i, width, h));
            width = h;
        }
        Mlp {
            hidden,
            head: Linear::new(root / "head", width, spec.outputs),
            dropout: spec.mlp.dropout,
        }
    }

    /// Forward pass.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.flatten(1, -1);
        for l in &self.hidden {
            x = l.forward(&x).relu().dropout(self.dropout, train);
        }
        self.head.forward(&x)
    }
}

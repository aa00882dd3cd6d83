//! The networks, in PyTorch's parameter names and layouts, so weights move both ways as
//! safetensors (`docs/models.md` lists the names). Each takes windows `[batch, lookback,
//! features]` and returns `[batch]` (regression) or `[batch, 2]` logits (direction).

mod layers;
mod lstm;
mod mlp;
mod transformer;

use crate::settings::{Architecture, LstmConfig, MlpConfig, ModelConfig, TransformerConfig};
use qts_data::settings::Target;
use tch::{Tensor, nn};

use crate::error::ModelError;

pub use lstm::Lstm;
pub use mlp::Mlp;
pub use transformer::Transformer;

/// Everything that fixes a network's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSpec {
    /// Family.
    pub architecture: Architecture,
    /// LSTM settings (used when `architecture` is LSTM).
    pub lstm: LstmConfig,
    /// Transformer settings.
    pub transformer: TransformerConfig,
    /// MLP settings.
    pub mlp: MlpConfig,
    /// Features per time step.
    pub input_size: usize,
    /// Time steps per window.
    pub lookback: usize,
    /// 1 for a regression target, 2 logits for `direction`.
    pub outputs: usize,
}

impl NetSpec {
    /// The network `cfg` describes over `input_size` features.
    ///
    /// # Errors
    /// [`ModelError::Input`] for a zero size (the configuration checks catch these first; this
    /// guards callers that build a spec by hand).
    pub fn new(cfg: &ModelConfig, input_size: usize) -> Result<NetSpec, ModelError> {
        let spec = NetSpec {
            architecture: cfg.architecture,
            lstm: cfg.lstm.clone(),
            transformer: cfg.transformer.clone(),
            mlp: cfg.mlp.clone(),
            input_size,
            lookback: cfg.data.lookback,
            outputs: if cfg.data.target == Target::Direction {
                2
            } else {
                1
            },
        };
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), ModelError> {
        let mut zero = Vec::new();
        let mut need = |name: &str, v: usize| {
            if v == 0 {
                zero.push(name.to_string());
            }
        };
        need("input size", self.input_size);
        need("data.lookback", self.lookback);
        match self.architecture {
            Architecture::Lstm => {
                need("lstm.hidden_size", self.lstm.hidden_size);
                need("lstm.num_layers", self.lstm.num_layers);
            }
            Architecture::Transformer => {
                let t = &self.transformer;
                need("transformer.d_model", t.d_model);
                need("transformer.num_heads", t.num_heads);
                need("transformer.num_layers", t.num_layers);
                need("transformer.feedforward_size", t.feedforward_size);
                if t.num_heads > 0 && !t.d_model.is_multiple_of(t.num_heads) {
                    return Err(ModelError::Input(format!(
                        "transformer.num_heads ({}) must divide transformer.d_model ({})",
                        t.num_heads, t.d_model
                    )));
                }
            }
            Architecture::Mlp => {
                for (i, &h) in self.mlp.hidden_sizes.iter().enumerate() {
                    need(&format!("mlp.hidden_sizes[{i}]"), h);
                }
            }
        }
        if zero.is_empty() {
            Ok(())
        } else {
            Err(ModelError::Input(format!(
                "must be positive: {}",
                zero.join(", ")
            )))
        }
    }

    /// The lowercase family name (`lstm`, `transformer`, `mlp`).
    pub fn family(&self) -> &'static str {
        match self.architecture {
            Architecture::Lstm => "lstm",
            Architecture::Transformer => "transformer",
            Architecture::Mlp => "mlp",
        }
    }
}

/// A network of one of the families.
#[derive(Debug)]
pub enum Net {
    /// Recurrent.
    Lstm(Lstm),
    /// Attention.
    Transformer(Transformer),
    /// Baseline over the flattened window.
    Mlp(Mlp),
}

impl Net {
    /// Creates the network's parameters under `root` with PyTorch's default initialisation.
    pub fn new(root: &nn::Path, spec: &NetSpec) -> Net {
        match spec.architecture {
            Architecture::Lstm => Net::Lstm(Lstm::new(root, spec)),
            Architecture::Transformer => Net::Transformer(Transformer::new(root, spec)),
            Architecture::Mlp => Net::Mlp(Mlp::new(root, spec)),
        }
    }

    /// Forward pass over `[batch, lookback, features]`; `train` turns dropout on.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let out = match self {
            Net::Lstm(n) => n.forward(xs, train),
            Net::Transformer(n) => n.forward(xs, train),
            Net::Mlp(n) => n.forward(xs, train),
        };
        if out.size().last() == Some(&1) {
            out.squeeze_dim(-1)
        } else {
            out
        }
    }
}

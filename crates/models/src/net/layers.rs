//! The two layers every network uses, initialised as PyTorch initialises them, with
//! PyTorch's parameter names (`weight`, `bias`).

use tch::{Tensor, nn};

/// PyTorch's `nn.Linear`: weight and bias uniform in ±1/√fan_in.
#[derive(Debug)]
pub struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    /// `nn.Linear(inputs, outputs)` under `p`.
    pub fn new(p: nn::Path, inputs: usize, outputs: usize) -> Linear {
        let bound = 1.0 / (inputs as f64).sqrt();
        let init = nn::Init::Uniform {
            lo: -bound,
            up: bound,
        };
        Linear {
            weight: p.var("weight", &[outputs as i64, inputs as i64], init),
            bias: p.var("bias", &[outputs as i64], init),
        }
    }

    /// `x Wᵀ + b` over the last dimension.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        xs.linear(&self.weight, Some(&self.bias))
    }
}

/// PyTorch's `nn.LayerNorm(size)`: ε = 1e-5, weight 1, bias 0.
#[derive(Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    size: i64,
}

impl LayerNorm {
    /// `nn.LayerNorm(size)` under `p`.
    pub fn new(p: nn::Path, size: usize) -> LayerNorm {
        LayerNorm {
            weight: p.var("weight", &[size as i64], nn::Init::Const(1.0)),
            bias: p.var("bias", &[size as i64], nn::Init::Const(0.0)),
            size: size as i64,
        }
    }

    /// Normalises the last dimension.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        xs.layer_norm(
            [self.size],
            Some(&self.weight),
            Some(&self.bias),
            1e-5,
            true,
        )
    }
}

//! qts's Adam, AdamW and gradient clipping against `torch.optim` and
//! `torch.nn.utils.clip_grad_norm_`: the same gradients for 12 steps give the same
//! parameters. Golden file: scripts/golden/torch_optim.py.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use qts_models::optim::{Adam, AdamConfig};
use qts_models::weights::read_safetensors;
use safetensors::SafeTensors;
use tch::{Kind, Tensor};

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    f64::try_from((a - b).abs().max()).unwrap()
}

#[test]
fn adam_adamw_and_clipping_match_pytorch_step_by_step() {
    // One thread: float32 sums in one order whatever the machine's load, so the measured
    // error is the error.
    tch::set_num_threads(1);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/optim.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let golden: BTreeMap<String, Tensor> = read_safetensors(&path, &bytes).unwrap();
    // The learning rates in float64, as PyTorch used them.
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let lrs: Vec<f64> = st
        .tensor("lr")
        .unwrap()
        .data()
        .chunks(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(lrs.len(), 12);
    let names = ["a", "b"];
    for (case, cfg) in [
        ("adam", AdamConfig::new(0.0, false)),
        ("adam_l2", AdamConfig::new(0.05, false)),
        ("adamw", AdamConfig::new(0.05, true)),
    ] {
        let params: Vec<(String, Tensor)> = names
            .iter()
            .map(|k| {
                let p = golden[&format!("p0.{k}")].copy().set_requires_grad(true);
                (k.to_string(), p)
            })
            .collect();
        let handles: Vec<Tensor> = params.iter().map(|(_, p)| p.shallow_clone()).collect();
        let mut opt = Adam::new(params, cfg);
        for (t, &lr) in lrs.iter().enumerate() {
            opt.zero_grad();
            // d/dp sum(p · g) = g: the step's gradient, exactly.
            let objective = names
                .iter()
                .zip(&handles)
                .map(|(k, p)| (p * &golden[&format!("grad.{t}.{k}")]).sum(Kind::Float))
                .fold(
                    Tensor::zeros([], (Kind::Float, tch::Device::Cpu)),
                    |a, b| a + b,
                );
            objective.backward();
            opt.clip_grad_norm(0.5);
            if t == 0 {
                for (k, p) in names.iter().zip(&handles) {
                    let want = &golden[&format!("{case}.clipped.0.{k}")];
                    let d = max_diff(&p.grad(), want);
                    assert!(
                        d <= 1e-7,
                        "{case}: clipped gradient of {k} differs by {d:e}"
                    );
                }
            }
            opt.step(lr);
        }
        for (k, p) in names.iter().zip(&handles) {
            let want = &golden[&format!("{case}.{k}")];
            let d = max_diff(&p.detach(), want);
            assert!(
                // 10× the largest difference measured (1.5e-8; 2026-12-02).
                d <= 1.5e-7,
                "{case}: {k} after 12 steps differs from PyTorch by {d:e}"
            );
        }
        assert_eq!(opt.steps(), 12);
    }
}

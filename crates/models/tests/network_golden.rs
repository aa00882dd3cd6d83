//! Our networks against PyTorch's modules (`nn.LSTM`, `nn.TransformerEncoder`, `nn.Linear`,
//! `nn.LayerNorm`) with the same weights and input: outputs and every parameter's gradient
//! agree to 10× the float32 error measured. Golden files: scripts/golden/torch_networks.py.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use qts_config::{Architecture, ModelConfig, Target};
use qts_models::net::{Net, NetSpec};
use qts_models::weights::{load_into, read_safetensors, variables};
use tch::{Kind, Reduction, Tensor, nn};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/networks")
}

fn config(case: &serde_json::Value) -> ModelConfig {
    let mut cfg = ModelConfig {
        architecture: match case["architecture"].as_str().unwrap() {
            "lstm" => Architecture::Lstm,
            "transformer" => Architecture::Transformer,
            _ => Architecture::Mlp,
        },
        ..ModelConfig::default()
    };
    if let Some(l) = case.get("lstm") {
        cfg.lstm = serde_json::from_value(l.clone()).unwrap();
    }
    if let Some(t) = case.get("transformer") {
        cfg.transformer = serde_json::from_value(t.clone()).unwrap();
    }
    if let Some(m) = case.get("mlp") {
        cfg.mlp = serde_json::from_value(m.clone()).unwrap();
    }
    cfg.data.lookback = case["lookback"].as_u64().unwrap() as usize;
    if case["outputs"].as_u64() == Some(2) {
        cfg.data.target = Target::Direction;
    }
    cfg
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    f64::try_from((a - b).abs().max()).unwrap()
}

#[test]
fn outputs_and_gradients_match_pytorch() {
    // One thread: float32 sums in one order whatever the machine's load, so the measured
    // error is the error.
    tch::set_num_threads(1);
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden_dir().join("cases.json")).unwrap())
            .unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let path = golden_dir().join(format!("{name}.safetensors"));
        let all = read_safetensors(&path, &std::fs::read(&path).unwrap()).unwrap();
        let (extra, weights): (BTreeMap<String, Tensor>, BTreeMap<String, Tensor>) =
            all.into_iter().partition(|(k, _)| k.starts_with("__"));
        let cfg = config(case);
        let spec = NetSpec::new(&cfg, case["n_in"].as_u64().unwrap() as usize).unwrap();
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let net = Net::new(&vs.root(), &spec);
        load_into(&vs, &weights, &path).unwrap();

        let x = &extra["__input"];
        let want = &extra["__output"];
        let got = tch::no_grad(|| net.forward(x, false));
        let d = max_abs_diff(&got, want);
        // 10× the largest difference measured (1.2e-7, float32; 2026-12-02).
        assert!(d <= 1.2e-6, "{name}: output differs from PyTorch by {d:e}");

        let out = net.forward(x, false);
        let y = &extra["__target"];
        let loss = if spec.outputs == 2 {
            out.cross_entropy_for_logits(&y.to_kind(Kind::Int64))
        } else {
            out.mse_loss(y, Reduction::Mean)
        };
        loss.backward();
        let vars = variables(&vs);
        assert_eq!(
            vars.len(),
            weights.len(),
            "{name}: every tensor is a parameter"
        );
        for (pname, var) in vars {
            let want = &extra[&format!("__grad.{pname}")];
            let g = var.grad();
            let scale = f64::try_from(want.abs().max()).unwrap().max(1e-3);
            let d = max_abs_diff(&g, want);
            assert!(
                // 10× the largest measured (3.0e-7 of the largest gradient).
                d <= 3e-6 * scale.max(1.0),
                "{name}: gradient of {pname} differs by {d:e} (largest {scale:e})"
            );
        }
    }
}

#[test]
fn weights_of_another_architecture_are_refused_naming_each_problem() {
    let path = golden_dir().join("lstm_2layer.safetensors");
    let all = read_safetensors(&path, &std::fs::read(&path).unwrap()).unwrap();
    let weights: BTreeMap<String, Tensor> = all
        .into_iter()
        .filter(|(k, _)| !k.starts_with("__"))
        .collect();
    let mut cfg = ModelConfig::default();
    cfg.lstm.hidden_size = 32; // the file has 16
    cfg.lstm.num_layers = 2;
    cfg.lstm.attention = true;
    let spec = NetSpec::new(&cfg, 5).unwrap();
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let _net = Net::new(&vs.root(), &spec);
    let e = load_into(&vs, &weights, &path).unwrap_err().to_string();
    assert!(e.contains("lstm_2layer.safetensors"), "{e}");
    assert!(
        e.contains("`lstm.weight_hh_l0` has shape [64, 16], the network needs [128, 32]"),
        "{e}"
    );
    assert!(e.contains("missing `attention.weight`"), "{e}");

    let mut cfg = ModelConfig {
        architecture: Architecture::Transformer,
        ..ModelConfig::default()
    };
    cfg.data.lookback = 12;
    let spec = NetSpec::new(&cfg, 5).unwrap();
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let _net = Net::new(&vs.root(), &spec);
    let e = load_into(&vs, &weights, &path).unwrap_err().to_string();
    assert!(e.contains("unexpected `lstm.weight_ih_l0`"), "{e}");
    assert!(
        e.contains("missing `encoder.layers.0.self_attn.in_proj_weight`"),
        "{e}"
    );
}

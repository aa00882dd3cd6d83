//! `qts models` as a user runs it: import PyTorch LSTM weights (safetensors), list, show,
//! compare, promote, and the errors for weights that do not fit.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{qts, repo};
use predicates::prelude::*;
use safetensors::tensor::{Dtype, TensorView};

/// An nn.LSTM(n_in, hidden, layers) + nn.Linear(hidden, 1) state dict as safetensors.
fn lstm_weights(path: &Path, n_in: usize, hidden: usize, layers: usize) {
    let mut shapes = Vec::new();
    for k in 0..layers {
        let inp = if k == 0 { n_in } else { hidden };
        shapes.push((format!("lstm.weight_ih_l{k}"), vec![4 * hidden, inp]));
        shapes.push((format!("lstm.weight_hh_l{k}"), vec![4 * hidden, hidden]));
        shapes.push((format!("lstm.bias_ih_l{k}"), vec![4 * hidden]));
        shapes.push((format!("lstm.bias_hh_l{k}"), vec![4 * hidden]));
    }
    shapes.push(("head.weight".into(), vec![1, hidden]));
    shapes.push(("head.bias".into(), vec![1]));
    let data: Vec<Vec<u8>> = shapes
        .iter()
        .map(|(_, s)| vec![0u8; 4 * s.iter().product::<usize>()])
        .collect();
    let views: Vec<(String, TensorView<'_>)> = shapes
        .iter()
        .zip(&data)
        .map(|((k, s), d)| {
            (
                k.clone(),
                TensorView::new(Dtype::F32, s.clone(), d).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn import_list_show_compare_promote() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("config/model_configs/lstm_default.yaml");
    lstm_weights(&dir.path().join("w.safetensors"), 20, 128, 2);
    let reg = ["--set", "registry.directory=reg"];
    for expected in ["mine@1", "mine@2"] {
        qts(dir.path())
            .args(reg)
            .args([
                "models",
                "import",
                "--safetensors",
                "w.safetensors",
                "--config",
            ])
            .arg(&config)
            .args(["--name", "mine"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "registered {expected} (LSTM, input size 20, hidden 128, 2 layers)"
            )));
    }
    assert!(dir.path().join("reg/mine/2/weights.safetensors").exists());
    assert!(dir.path().join("reg/mine/2/config.yaml").exists());
    qts(dir.path())
        .args(reg)
        .args(["models", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("mine"));
    qts(dir.path())
        .args(reg)
        .args(["models", "promote", "mine@1", "--alias", "production"])
        .assert()
        .success()
        .stdout(predicate::str::contains("mine@production → version 1"));
    let out = qts(dir.path())
        .args(reg)
        .args(["models", "show", "mine@production", "--json"])
        .output()
        .unwrap();
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(card["version"], 1);
    assert_eq!(card["input_size"], 20);
    assert_eq!(card["config"]["lstm"]["hidden_size"], 128);
    assert_eq!(card["source"], "import:safetensors");
    qts(dir.path())
        .args(reg)
        .args(["models", "compare", "mine@1", "mine@2"])
        .assert()
        .success();
    // Imported weights were never scored on a test split: no figures, not made-up ones.
    let out = qts(dir.path())
        .args(reg)
        .args(["models", "compare", "mine@1", "mine@2", "--json"])
        .output()
        .unwrap();
    let compared: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(compared["mine@1"], serde_json::json!({}), "{compared}");
    assert_eq!(compared["mine@1"], card["metrics"], "{compared}");
    assert_eq!(
        compared.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["mine@1", "mine@2"]
    );
    let out = qts(dir.path())
        .args(reg)
        .args(["models", "list", "--json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["versions"], serde_json::json!([1, 2]));
    assert_eq!(list[0]["aliases"]["production"], 1);
}

#[test]
fn weights_that_do_not_fit_are_refused_with_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("config/model_configs/lstm_default.yaml");
    lstm_weights(&dir.path().join("small.safetensors"), 5, 64, 1);
    std::fs::write(dir.path().join("junk.safetensors"), b"definitely not").unwrap();
    let reg = ["--set", "registry.directory=reg"];
    qts(dir.path())
        .args(reg)
        .args([
            "models",
            "import",
            "--safetensors",
            "small.safetensors",
            "--config",
        ])
        .arg(&config)
        .args(["--name", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "hidden size 64, the configuration lstm.hidden_size 128",
        ))
        .stderr(predicate::str::contains(
            "1 layers, the configuration lstm.num_layers 2",
        ));
    qts(dir.path())
        .args(reg)
        .args([
            "models",
            "import",
            "--safetensors",
            "junk.safetensors",
            "--config",
        ])
        .arg(&config)
        .args(["--name", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a safetensors file"));
    assert!(
        !dir.path().join("reg/x").exists(),
        "nothing registered from bad weights"
    );
    qts(dir.path())
        .args(reg)
        .args(["models", "show", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no model `nope`"));
}

//! A model walked forward (`qts walk-forward --model-config`) and a model's hyper-parameter
//! search (`qts optimize --model-config`), as a user runs them (through `qts`, which hands
//! them to `qts-torch`).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{qts, repo, sample};

/// Small settings so a debug build trains each fold in well under a second.
const SMALL: [&str; 10] = [
    "--set",
    "model.training.epochs=3",
    "--set",
    "model.training.warmup_epochs=1",
    "--set",
    "model.lstm.hidden_size=16",
    "--set",
    "model.data.lookback=20",
    "--set",
    "model.data.purge_gap=20",
];

fn model_yaml() -> String {
    repo()
        .join("config/model_configs/lstm_default.yaml")
        .display()
        .to_string()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn walk(dir: &Path, data: &Path, out: &str) -> serde_json::Value {
    json(
        &qts(dir)
            .args(SMALL)
            .args(["-q", "walk-forward", "--data"])
            .arg(data)
            .args(["--model-config", &model_yaml()])
            .args(["--train", "500", "--test", "250", "--json", "--out", out])
            .output()
            .unwrap(),
    )
}

fn equity(dir: &Path, out: &str) -> Vec<(String, f64)> {
    std::fs::read_to_string(dir.join(out).join("oos_equity.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (d, e) = l.split_once(',').unwrap();
            (d.to_string(), e.parse().unwrap())
        })
        .collect()
}

#[test]
fn a_model_walk_forward_window_is_its_fold_models_predictions_backtested() {
    let dir = tempfile::tempdir().unwrap();
    let goog = sample("goog_daily.csv");
    let v = walk(dir.path(), &goog, "wf");
    let windows = v["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 6);
    let rows = equity(dir.path(), "wf");
    assert_eq!(rows.len(), 6 * 250);
    let at = |d: &str| rows.iter().find(|(x, _)| x == d).unwrap().1;
    // Each fold's model is registered; its forecasts of the test window, predicted by
    // `qts predict` and traded by `qts backtest`, are the window.
    for k in [0, 2, 5] {
        let w = &windows[k];
        let model = w["params"]
            .as_str()
            .unwrap()
            .strip_prefix("model=")
            .unwrap();
        assert_eq!(model, format!("lstm_default-wf@{}", k + 1));
        let card: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!(
                "artifacts/models/lstm_default-wf/{}/model.json",
                k + 1
            )))
            .unwrap(),
        )
        .unwrap();
        // Trained on its train window only.
        assert_eq!(card["data"]["end"], w["train_end"], "window {}", k + 1);
        assert!(
            card["splits"]["test"]["end"].as_str().unwrap() <= w["train_end"].as_str().unwrap()
        );
        let (from, to) = (
            w["test_start"].as_str().unwrap(),
            w["test_end"].as_str().unwrap(),
        );
        let predictions = format!("p{k}.csv");
        qts(dir.path())
            .args(["-q", "predict", "--model", model, "--data"])
            .arg(&goog)
            .args(["--from", from, "--to", to, "--out", &predictions])
            .assert()
            .success();
        let cash = if k == 0 {
            100_000.0
        } else {
            at(windows[k - 1]["test_end"].as_str().unwrap())
        };
        let b = json(
            &qts(dir.path())
                .args([
                    "backtest",
                    "--strategy",
                    "signal",
                    "--json",
                    "--close-at-end",
                ])
                .arg("--data")
                .arg(&goog)
                .args(["--signals", &predictions, "--from", from, "--to", to])
                .args(["--cash", &cash.to_string()])
                .output()
                .unwrap(),
        );
        assert_eq!(b["in_sample"], false);
        // These settings trade in every window: the comparison is not of two flat accounts.
        assert!(b["num_trades"].as_u64().unwrap() > 0, "window {}", k + 1);
        let (got, want) = (b["final_equity"].as_f64().unwrap(), at(to));
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "window {}: {got} vs {want}",
            k + 1
        );
        assert_eq!(b["sharpe_ratio"], w["out_of_sample"], "window {}", k + 1);
    }
    // In sample: the fold model's forecasts of its own train window, traded.
    assert!(windows.iter().all(|w| w["in_sample"].as_f64().is_some()));
    assert!(v["walk_forward_efficiency"].as_f64().unwrap().is_finite());

    // No look-ahead: without the bars after the third test window, the first three windows
    // (their models, forecasts and equity) are the same.
    let text = std::fs::read_to_string(&goog).unwrap();
    let end = windows[2]["test_end"].as_str().unwrap();
    let cut: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with(&format!("{end},")))
        .collect();
    let kept = cut.len() + 1;
    let short = dir.path().join("goog_daily.csv");
    std::fs::write(
        &short,
        text.lines().take(kept + 1).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let s = walk(dir.path(), &short, "wf_short");
    let sw = s["windows"].as_array().unwrap();
    assert_eq!(sw.len(), 3);
    for k in 0..3 {
        for key in ["train_end", "test_end", "in_sample", "out_of_sample"] {
            assert_eq!(sw[k][key], windows[k][key], "window {} {key}", k + 1);
        }
    }
    let short_rows = equity(dir.path(), "wf_short");
    assert_eq!(short_rows[..], rows[..750]);
}

#[test]
fn a_model_walk_forward_refuses_what_does_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = qts(dir.path())
            .args(["walk-forward", "--data"])
            .arg(sample("goog_daily.csv"))
            .args(["--model-config", &model_yaml(), "--train", "500"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let t = ["--test", "250"];
    assert!(
        run(&[&t[..], &["--grid", "fast=5,10"]].concat())
            .contains("--grid searches a strategy's parameters")
    );
    assert!(run(&[&t[..], &["--strategy", "buy-and-hold"]].concat()).contains("takes no model"));
    assert!(
        run(&[&t[..], &["--maximize", "sharp_ratio"]].concat())
            .contains("--maximize sharp_ratio: not a metric")
    );
    assert!(run(&["--test", "5000"]).contains("longer than the data"));
    assert!(run(&["--test", "250", "--step", "0"]).contains("--step must be at least 1"));
    // Nothing was trained for any of them.
    assert!(!dir.path().join("artifacts/models").exists());
}

//! Learning-rate schedules against `torch.optim.lr_scheduler`, epoch by epoch.
//! Golden file: scripts/golden/torch_lr_schedules.py.

#![allow(clippy::unwrap_used)]

use qts_config::{Schedule, TrainingConfig};
use qts_models::schedule::LrSchedule;

#[test]
fn schedules_match_pytorch_step_by_step() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lr_schedules.json");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let losses: Vec<f64> = golden["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let cases = golden["cases"].as_array().unwrap();
    // What the golden script writes (scripts/golden/torch_lr_schedules.py): every schedule,
    // with and without warm-up, 40 epochs each. An empty or cut fixture must not pass.
    assert_eq!(cases.len(), 7, "cases in the fixture");
    let kinds: std::collections::BTreeSet<&str> = cases
        .iter()
        .map(|c| c["schedule"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["constant", "cosine", "reduce_on_plateau", "step"]
    );
    assert!(cases.iter().any(|c| c["warmup_epochs"].as_u64() > Some(0)));
    let mut epochs = 0;
    for case in cases {
        let get = |k: &str| case[k].as_f64();
        let schedule = match case["schedule"].as_str().unwrap() {
            "constant" => Schedule::Constant,
            "step" => Schedule::Step,
            "cosine" => Schedule::Cosine,
            _ => Schedule::ReduceOnPlateau,
        };
        let cfg = TrainingConfig {
            epochs: case["epochs"].as_u64().unwrap() as usize,
            learning_rate: get("lr").unwrap(),
            schedule,
            warmup_epochs: case["warmup_epochs"].as_u64().unwrap() as usize,
            step_size: get("step_size").map_or(1, |v| v as usize),
            gamma: get("gamma").unwrap_or(0.5),
            min_lr: get("min_lr").unwrap_or(0.0),
            plateau_patience: get("plateau_patience").map_or(0, |v| v as usize),
            ..TrainingConfig::default()
        };
        let mut s = LrSchedule::new(&cfg);
        for (e, want) in case["lrs"].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap();
            let got = s.lr();
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-12),
                "{} (warm-up {}), epoch {e}: qts {got}, PyTorch {want}",
                case["schedule"],
                cfg.warmup_epochs
            );
            s.step(Some(losses[e]));
            epochs += 1;
        }
    }
    assert_eq!(epochs, 7 * 40, "epochs compared");
}

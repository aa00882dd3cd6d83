//! `qts train`, `qts predict` and `qts models import --pytorch` as a user runs them, through
//! `qts` (which hands them to `qts-torch`).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{SMALL, qts, repo, sample};

fn golden(name: &str) -> std::path::PathBuf {
    repo()
        .join("crates/models/tests/golden/networks")
        .join(name)
}

fn csv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn train(dir: &Path, name: &str) -> String {
    let out = qts(dir)
        .args(SMALL)
        .args(["-q", "train", "--name", name, "--data"])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn train_then_predict_on_the_sample_data() {
    let dir = tempfile::tempdir().unwrap();
    let text = train(dir.path(), "goog");
    assert!(text.starts_with("registered goog@1 in "), "{text}");
    assert!(text.contains("test: mae "), "{text}");
    let version = dir.path().join("artifacts/models/goog/1");
    for f in [
        "weights.safetensors",
        "config.yaml",
        "run_config.yaml",
        "pipeline.json",
        "history.json",
        "member-1.safetensors",
        "model.json",
    ] {
        assert!(version.join(f).is_file(), "{f}");
    }
    let run = std::fs::read_to_string(version.join("run_config.yaml")).unwrap();
    assert!(
        run.starts_with("# fingerprint ") && run.contains("seed: 42"),
        "{run}"
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(version.join("model.json")).unwrap())
            .unwrap();
    assert_eq!(card["architecture"], "lstm");
    assert_eq!(card["data"]["symbols"][0], "goog_daily");
    for k in [
        "val_loss",
        "test_mse",
        "test_directional_accuracy",
        "epochs",
    ] {
        assert!(card["metrics"][k].is_number(), "{k}: {card}");
    }
    // Every figure has its baseline, and the intervals their empirical coverage.
    let m = |k: &str| {
        card["metrics"][k]
            .as_f64()
            .unwrap_or_else(|| panic!("{k}: {card}"))
    };
    for k in [
        "test_up_share",
        "val_up_share",
        "test_coverage_mc_dropout_90",
        "test_coverage_ensemble_90",
    ] {
        assert!((0.0..=1.0).contains(&m(k)), "{k}");
    }
    assert!(m("test_mae_zero") > 0.0 && m("test_mae_train_mean") > 0.0);
    assert!(m("test_rmse") >= m("test_mae"));
    assert!(m("test_ic_t").is_finite());
    // Epochs count from 1 everywhere: the card's best epoch is the one printed.
    assert!(m("best_epoch") >= 1.0);
    assert!(
        text.contains(&format!("best epoch {}:", m("best_epoch"))),
        "{text}"
    );
    assert!(text.contains("(share of up days "), "{text}");
    // The verdict against the naive forecasts says which way the test points (issue 35).
    let word = |p: f64, better: bool, what: &str| match (p < 0.05, better) {
        (true, true) => format!("significantly better than {what} (p = {p:.3})"),
        (true, false) => format!("significantly worse than {what} (p = {p:.3})"),
        _ => format!("not distinguishable from {what} (p = {p:.3})"),
    };
    for (p, better, what) in [
        (
            m("test_dm_p_zero"),
            m("test_mae") < m("test_mae_zero"),
            "the zero forecast",
        ),
        (
            m("test_dm_p_train_mean"),
            m("test_mae") < m("test_mae_train_mean"),
            "the training mean",
        ),
        (
            m("test_dm_p_always_up"),
            m("test_directional_accuracy") > m("test_up_share"),
            "always up",
        ),
    ] {
        assert!((0.0..=1.0).contains(&p), "{what}: {p}");
        assert!(text.contains(&word(p, better, what)), "{what}: {text}");
    }
    assert!(
        text.contains("verdict on test at 5% (Diebold–Mariano on absolute errors): the model is "),
        "{text}"
    );
    for c in ["test_coverage_mc_dropout_90", "test_coverage_ensemble_90"] {
        let off = (m(c) - 0.9).abs() > 0.05;
        let shown = format!("cover {:.1}% of test outcomes", 100.0 * m(c));
        assert_eq!(text.contains(&shown), off, "{c}: {text}");
    }
    assert!(
        text.contains("coverage of the 90% intervals on test: MC dropout "),
        "{text}"
    );
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(version.join("history.json")).unwrap())
            .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 3);

    // Same configuration, data and seed: the same weights.
    train(dir.path(), "goog_again");
    let again = dir
        .path()
        .join("artifacts/models/goog_again/1/weights.safetensors");
    assert!(
        std::fs::read(again).unwrap()
            == std::fs::read(version.join("weights.safetensors")).unwrap(),
        "training is deterministic"
    );

    let out = qts(dir.path())
        .args([
            "-q",
            "predict",
            "--model",
            "goog",
            "--from",
            "2013-01-02",
            "--data",
        ])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let rows = csv(&String::from_utf8_lossy(&out.get_output().stdout));
    assert_eq!(rows[0], ["date", "prediction", "split"]);
    assert_eq!(rows[1][0], "2013-01-02");
    // The model was tested on its last rows: these predictions are out of sample.
    assert!(rows[1..].iter().all(|r| r[2] == "test"), "{rows:?}");
    assert_eq!(rows.last().unwrap()[0], "2013-03-01");
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[1].parse::<f64>().unwrap().is_finite())
    );

    let file = dir.path().join("out/preds.csv");
    qts(dir.path())
        .args([
            "-q",
            "predict",
            "--model",
            "goog@1",
            "--ensemble",
            "--mc-dropout",
            "5",
        ])
        .arg("--data")
        .arg(sample("goog_daily.csv"))
        .arg("--out")
        .arg(&file)
        .assert()
        .success();
    let rows = csv(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(rows[0], ["date", "prediction", "lower", "upper", "split"]);
    for r in &rows[1..] {
        let v: Vec<f64> = r[1..4].iter().map(|x| x.parse().unwrap()).collect();
        assert!(v[1] <= v[0] && v[0] <= v[2], "{r:?}");
    }
    // The whole history: train, then validation, then test, in that order, at the card's dates.
    let card: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("artifacts/models/goog/1/model.json")).unwrap(),
    )
    .unwrap();
    let splits = &card["splits"];
    let order = ["train", "validation", "test"];
    let mut at = 0;
    for r in &rows[1..] {
        let k = order.iter().position(|s| *s == r[4]).unwrap();
        assert!(k >= at, "{} after {}", r[4], order[at]);
        at = k;
        let day = r[0].as_str();
        match r[4].as_str() {
            "train" => assert!(day < splits["validation"]["start"].as_str().unwrap()),
            "validation" => assert!(day < splits["test"]["start"].as_str().unwrap()),
            _ => assert!(day >= splits["test"]["start"].as_str().unwrap()),
        }
    }
    assert_eq!(rows[1][4], "train");
    assert_eq!(rows.last().unwrap()[4], "test");
}

#[test]
fn a_pytorch_state_dict_predicts_as_pytorch_did() {
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path())
        .args(["models", "import", "--name", "mine", "--pytorch"])
        .arg(golden("user_lstm.pt"))
        .arg("--config")
        .arg(golden("user_lstm.yaml"))
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "registered mine@1 (LSTM, input size 4, hidden 8, 2 layers)",
        ));
    let out = qts(dir.path())
        .args([
            "-q",
            "predict",
            "--model",
            "mine",
            "--inputs-as-is",
            "--data",
        ])
        .arg(golden("user_lstm_inputs.csv"))
        .assert()
        .success();
    let ours = csv(&String::from_utf8_lossy(&out.get_output().stdout));
    let theirs = csv(&std::fs::read_to_string(golden("user_lstm_predictions.csv")).unwrap());
    assert_eq!(
        ours.len(),
        22,
        "a prediction per row from the 20th on, plus the header"
    );
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours[1..].iter().zip(&theirs[1..]) {
        assert_eq!(a[0], b[0]);
        let (x, y): (f64, f64) = (a[1].parse().unwrap(), b[1].parse().unwrap());
        assert!((x - y).abs() <= 1e-5, "{}: qts {x}, PyTorch {y}", a[0]);
    }

    // Without --inputs-as-is an imported model has no pipeline to run.
    qts(dir.path())
        .args(["predict", "--model", "mine", "--data"])
        .arg(sample("goog_daily.csv"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("pass --inputs-as-is"));
}

#[test]
fn bad_input_is_exit_status_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = sample("goog_daily.csv");
    let fails = |args: &[&str], needle: &str| {
        let out = qts(d).args(args).assert().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    let g = goog.to_str().unwrap();
    fails(
        &["--set", "model.architecture=gru", "train", "--data", g],
        "model.architecture",
    );
    fails(
        &["--set", "model.lstm.hidden_size=0", "train", "--data", g],
        "model.lstm.hidden_size",
    );
    // 400 bars: after the indicators' warm-up, a 60-bar lookback and purge gaps leave
    // validation and test splits too short for one window.
    let short = d.join("short.csv");
    let text = std::fs::read_to_string(&goog).unwrap();
    std::fs::write(
        &short,
        text.lines().take(401).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    fails(
        &["train", "--data", short.to_str().unwrap()],
        "shorter than lookback",
    );

    // A bar whose high is below its low fails validation, as in `qts backtest`.
    let broken = d.join("broken.csv");
    let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
    rows[300] = {
        let f: Vec<&str> = rows[300].split(',').collect();
        format!("{},{},{},{},{},{}", f[0], f[1], f[3], f[2], f[4], f[5])
    };
    std::fs::write(&broken, rows.join("\n")).unwrap();
    fails(
        &["train", "--data", broken.to_str().unwrap()],
        "data validation failed",
    );

    let hidden16 = d.join("hidden16.yaml");
    std::fs::write(
        &hidden16,
        "architecture: lstm\nlstm:\n  hidden_size: 16\n  num_layers: 2\n",
    )
    .unwrap();
    let pt = golden("user_lstm.pt");
    fails(
        &[
            "models",
            "import",
            "--name",
            "x",
            "--pytorch",
            pt.to_str().unwrap(),
            "--config",
            hidden16.to_str().unwrap(),
        ],
        "hidden",
    );
    let junk = d.join("junk.pt");
    std::fs::write(&junk, b"not a zip").unwrap();
    fails(
        &[
            "models",
            "import",
            "--name",
            "x",
            "--pytorch",
            junk.to_str().unwrap(),
            "--config",
            golden("user_lstm.yaml").to_str().unwrap(),
        ],
        "not a state dict saved with torch.save",
    );

    qts(d)
        .args(["-q", "models", "import", "--name", "mine", "--pytorch"])
        .arg(&pt)
        .arg("--config")
        .arg(golden("user_lstm.yaml"))
        .assert()
        .success();
    let nan = d.join("nan.csv");
    let inputs = std::fs::read_to_string(golden("user_lstm_inputs.csv")).unwrap();
    let mut lines: Vec<String> = inputs.lines().map(str::to_string).collect();
    lines[5] = "2024-01-09,0.1,NaN,0.3,0.4".into();
    std::fs::write(&nan, lines.join("\n")).unwrap();
    fails(
        &[
            "predict",
            "--model",
            "mine",
            "--inputs-as-is",
            "--data",
            nan.to_str().unwrap(),
        ],
        "row 6 (2024-01-09) has no finite `ret_5`",
    );
    fails(
        &["predict", "--model", "mine", "--inputs-as-is", "--data", g],
        "the model takes 4 input columns",
    );
    fails(&["predict", "--model", "nosuch", "--data", g], "nosuch");
}

#[test]
fn qts_links_no_libtorch_and_qts_torch_does() {
    let needed = |exe: &str| {
        let out = std::process::Command::new("readelf")
            .args(["-d", exe])
            .output()
            .expect("readelf (binutils) is needed to read the executables' dynamic sections");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let qts = needed(env!("CARGO_BIN_EXE_qts"));
    assert!(qts.contains("libc.so"), "{qts}");
    assert!(!qts.contains("torch") && !qts.contains("c10"), "{qts}");
    let torch = needed(env!("CARGO_BIN_EXE_qts-torch"));
    assert!(torch.contains("libtorch_cpu.so"), "{torch}");
}

#[test]
fn every_shipped_model_configuration_trains() {
    let dir = tempfile::tempdir().unwrap();
    for (file, family) in [
        ("lstm_default.yaml", "lstm"),
        ("lstm_attention.yaml", "lstm"),
        ("transformer_default.yaml", "transformer"),
    ] {
        let config = repo().join("config/model_configs").join(file);
        let out = qts(dir.path())
            .args([
                "-q",
                "--set",
                "model.training.epochs=2",
                "--set",
                "model.training.warmup_epochs=1",
                "train",
                "--json",
                "--config",
            ])
            .arg(&config)
            .arg("--data")
            .arg(sample("goog_daily.csv"))
            .assert()
            .success();
        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(v["version"], 1, "{file}: {v}");
        let card = dir
            .path()
            .join("artifacts/models")
            .join(v["name"].as_str().unwrap())
            .join("1/model.json");
        let card: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(card).unwrap()).unwrap();
        assert_eq!(card["architecture"], family, "{file}");
    }
}

#[test]
fn several_symbols_train_one_pooled_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("prices");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(sample("goog_daily.csv"), data.join("GOOG.csv")).unwrap();
    // The S&P 500 over GOOG's years, so both symbols cover the split dates.
    let sp = std::fs::read_to_string(sample("sp500_daily.csv")).unwrap();
    let mut lines = sp.lines();
    let mut out = vec![lines.next().unwrap().to_string()];
    out.extend(
        lines
            .filter(|l| ("2004-08-19".."2013-03-02").contains(&&l[..10]))
            .map(str::to_string),
    );
    std::fs::write(data.join("SPX.csv"), out.join("\n")).unwrap();
    let local = format!("data.providers.local.directory={}", data.display());
    let out = qts(dir.path())
        .args(SMALL)
        .args([
            "-q", "--set", &local, "train", "--json", "--data", "GOOG,SPX",
        ])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let card = dir
        .path()
        .join("artifacts/models/lstm_default/1/model.json");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(card).unwrap()).unwrap();
    assert_eq!(
        card["data"]["symbols"],
        serde_json::json!(["GOOG", "SPX"]),
        "{v}"
    );
    // The pooled model predicts either symbol.
    qts(dir.path())
        .args([
            "-q",
            "--set",
            &local,
            "predict",
            "--model",
            "lstm_default",
            "--data",
            "SPX",
        ])
        .assert()
        .success()
        .stdout(predicates::str::starts_with("date,prediction"));
    qts(dir.path())
        .args(["--set", &local, "train", "--data", "GOOG,NOPE"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("NOPE"));
}

#[test]
fn seeds_make_an_ensemble_whose_spread_is_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .args(SMALL)
        .args(["-q", "train", "--json", "--seeds", "2", "--data"])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["ensemble_members"], 2, "{v}");
    let version = dir.path().join("artifacts/models/lstm_default/1");
    let a = std::fs::read(version.join("member-1.safetensors")).unwrap();
    let b = std::fs::read(version.join("member-2.safetensors")).unwrap();
    assert!(a != b, "the seeds give different networks");
    assert!(!version.join("member-3.safetensors").exists());
    let out = qts(dir.path())
        .args([
            "-q",
            "predict",
            "--model",
            "lstm_default",
            "--ensemble",
            "--level",
            "0.5",
        ])
        .args(["--from", "2013-02-01", "--data"])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let rows = csv(&String::from_utf8_lossy(&out.get_output().stdout));
    assert_eq!(rows[0], ["date", "prediction", "lower", "upper", "split"]);
    assert!(
        rows[1..].iter().any(|r| r[2] != r[3]),
        "two members disagree somewhere"
    );
}

#[test]
fn a_direction_model_predicts_the_probability_of_an_up_move() {
    let dir = tempfile::tempdir().unwrap();
    qts(dir.path())
        .args(SMALL)
        .args(["-q", "--set", "model.data.target=direction"])
        .args([
            "--set",
            "model.training.loss=cross_entropy",
            "train",
            "--data",
        ])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let card = dir
        .path()
        .join("artifacts/models/lstm_default/1/model.json");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(card).unwrap()).unwrap();
    let accuracy = card["metrics"]["test_directional_accuracy"]
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&accuracy), "{card}");
    assert!(
        card["metrics"].get("test_mse").is_none(),
        "no MSE for a classifier"
    );
    let out = qts(dir.path())
        .args(["-q", "predict", "--model", "lstm_default", "--data"])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let rows = csv(&String::from_utf8_lossy(&out.get_output().stdout));
    assert!(rows.len() > 1000);
    for r in &rows[1..] {
        let p: f64 = r[1].parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{r:?}");
    }
}

#[test]
fn decide_with_a_model_equals_the_signal_backtest_of_its_predictions() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), "goog");
    let day = "2013-02-22";
    let out = qts(dir.path())
        .args(SMALL)
        .args([
            "-q", "decide", "--model", "goog", "--json", "--as-of", day, "--data",
        ])
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["as_of"], day);
    assert_eq!(d["next_session"], "2013-02-25");
    assert!(d["strategy"].as_str().unwrap().starts_with("signal"), "{d}");
    // Only out-of-sample predictions trade: the run starts in the model's test split.
    let card: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("artifacts/models/goog/1/model.json")).unwrap(),
    )
    .unwrap();
    let test_start = card["splits"]["test"]["start"].as_str().unwrap();
    let from = d["traded_from"].as_str().unwrap();
    assert!(from >= test_start && from < day, "{from} vs {test_start}");
    let forecast = d["positions"][0]["forecast"]["expected"].as_f64().unwrap();
    assert!(forecast.is_finite());
    // The same model's predictions to that day, backtested with the signal strategy.
    qts(dir.path())
        .args([
            "-q", "predict", "--model", "goog", "--to", day, "--out", "p.csv", "--data",
        ])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let predictions = std::fs::read_to_string(dir.path().join("p.csv")).unwrap();
    let last = predictions.lines().last().unwrap();
    assert!(last.starts_with(day), "{last}");
    let predicted: f64 = last.split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(
        forecast, predicted,
        "the decision's forecast is the model's for {day}"
    );
    let bt = qts(dir.path())
        .args([
            "-q",
            "backtest",
            "--strategy",
            "signal",
            "--signals",
            "p.csv",
        ])
        .args(["--to", day, "--out", "bt", "--data"])
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap();
    assert!(
        bt.status.success(),
        "{}",
        String::from_utf8_lossy(&bt.stderr)
    );
    let equity = std::fs::read_to_string(dir.path().join("bt/equity.csv")).unwrap();
    let row = equity.lines().last().unwrap();
    assert!(row.starts_with(day), "{row}");
    let written: f64 = row.split(',').nth(1).unwrap().parse().unwrap();
    let decided = d["equity"].as_f64().unwrap();
    // serde_json's default float parser may be an ulp off the printed value.
    assert!(
        (decided - written).abs() <= 2.0 * f64::EPSILON * written,
        "{decided} vs {written}"
    );
    // A strategy that takes no model is refused.
    let out = qts(dir.path())
        .args([
            "decide",
            "--model",
            "goog",
            "--strategy",
            "sma-cross",
            "--as-of",
            day,
        ])
        .arg("--data")
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("takes no model"));
}

#[test]
fn resuming_a_finished_run_says_so_and_registers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), "goog");
    let out = qts(dir.path())
        .args(SMALL)
        .args(["-q", "train", "--resume", "--name", "goog", "--data"])
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "--resume: the run of this configuration and data already finished (epoch 3 of 3)"
        ),
        "{err}"
    );
    assert!(dir.path().join("artifacts/models/goog/1").is_dir());
    assert!(!dir.path().join("artifacts/models/goog/2").exists());
}

/// docs/migration.md's commands, run as written (`qts` on the PATH) in a scratch copy of the
/// repository's layout; the imported model predicts what PyTorch predicted.
#[test]
fn the_migration_guide_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for entry in ["crates", "examples", "config"] {
        std::os::unix::fs::symlink(repo().join(entry), d.join(entry)).unwrap();
    }
    let guide = std::fs::read_to_string(repo().join("docs/migration.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in guide.lines() {
        match (in_sh, line.trim()) {
            (false, "```sh") => in_sh = true,
            (true, "```") => in_sh = false,
            (true, l) if !l.is_empty() && !l.starts_with('#') => commands.push(l.to_string()),
            _ => {}
        }
    }
    assert_eq!(commands.len(), 7, "the guide's commands");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_qts"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for c in &commands {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(c)
            .current_dir(d)
            .env("PATH", &path)
            .env_remove("QTS_CONFIG_DIR")
            .env_remove("MLFLOW_TRACKING_URI")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{c}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let read = |p: &std::path::Path| -> Vec<(String, f64)> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].to_string(), c[1].parse().unwrap())
            })
            .collect()
    };
    let ours = read(&d.join("mine_predictions.csv"));
    let torch = read(&golden("user_lstm_predictions.csv"));
    assert_eq!(ours.len(), torch.len());
    for (a, b) in ours.iter().zip(&torch) {
        assert_eq!(a.0, b.0);
        assert!(
            (a.1 - b.1).abs() <= 1e-5,
            "{}: qts {}, PyTorch {}",
            a.0,
            a.1,
            b.1
        );
    }
    assert!(d.join("guide_predictions.csv").is_file());
}

/// numpy's linear quantile of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[test]
fn normalisation_target_and_optimizer_settings_are_the_ones_trained_with() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train_with = |name: &str, sets: &[&str]| {
        let mut cmd = qts(d);
        cmd.args(SMALL);
        for s in sets {
            cmd.args(["--set", s]);
        }
        cmd.args(["-q", "train", "--name", name, "--data"])
            .arg(sample("goog_daily.csv"))
            .assert()
            .success();
        d.join("artifacts/models").join(name).join("1")
    };
    let read_json = |p: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let robust = train_with(
        "robust",
        &[
            "model.data.normalization=robust",
            "model.data.target=horizon_return",
            "model.data.horizon=5",
        ],
    );
    let min_max = train_with("min_max", &["model.data.normalization=min_max"]);
    // The features as `qts features` writes them (the same data.features).
    qts(d)
        .args(["-q", "features"])
        .arg(sample("goog_daily.csv"))
        .args(["--out", "features.csv"])
        .assert()
        .success();
    let table = csv(&std::fs::read_to_string(d.join("features.csv")).unwrap());
    let card = read_json(robust.join("model.json"));
    let (start, end) = (
        card["splits"]["train"]["start"].as_str().unwrap(),
        card["splits"]["train"]["end"].as_str().unwrap(),
    );
    let train_rows: Vec<&Vec<String>> = table[1..]
        .iter()
        .filter(|r| r[0].as_str() >= start && r[0].as_str() <= end)
        .collect();
    assert!(
        train_rows.len() > 1000,
        "{} training rows",
        train_rows.len()
    );
    for (model, kind) in [(&robust, "robust"), (&min_max, "min_max")] {
        let pipeline = read_json(model.join("pipeline.json"));
        let names = pipeline["feature_names"].as_array().unwrap();
        let n = &pipeline["normalizer"];
        for (j, name) in names.iter().enumerate() {
            let col = table[0].iter().position(|c| c == name).unwrap();
            let mut x: Vec<f64> = train_rows.iter().map(|r| r[col].parse().unwrap()).collect();
            x.sort_by(f64::total_cmp);
            // Fitted on the training split only: robust is (x − median) / IQR, min_max
            // (x − min) / (max − min); a constant column keeps a scale of 1.
            let (shift, scale) = match kind {
                "robust" => (quantile(&x, 0.5), quantile(&x, 0.75) - quantile(&x, 0.25)),
                _ => (x[0], x[x.len() - 1] - x[0]),
            };
            let scale = if scale > 0.0 { scale } else { 1.0 };
            let (got_shift, got_scale) = (
                n["shift"][j].as_f64().unwrap(),
                n["scale"][j].as_f64().unwrap(),
            );
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
            assert!(
                close(got_shift, shift),
                "{kind} {name}: shift {got_shift} vs {shift}"
            );
            assert!(
                close(got_scale, scale),
                "{kind} {name}: scale {got_scale} vs {scale}"
            );
        }
    }
    // horizon_return with horizon 5: each test target is close[t + 5] / close[t] − 1.
    let bars = csv(&std::fs::read_to_string(sample("goog_daily.csv")).unwrap());
    let close_at: Vec<(String, f64)> = bars[1..]
        .iter()
        .map(|r| (r[0].clone(), r[4].parse().unwrap()))
        .collect();
    let preds = csv(&std::fs::read_to_string(robust.join("test_predictions.csv")).unwrap());
    assert_eq!(preds[0], ["date", "target", "prediction"]);
    assert!(preds.len() > 200);
    for r in &preds[1..] {
        let t = close_at.iter().position(|(d, _)| *d == r[0]).unwrap();
        let want = close_at[t + 5].1 / close_at[t].1 - 1.0;
        let got: f64 = r[1].parse().unwrap();
        // Targets are f32 in the dataset.
        assert!(
            (got - want).abs() <= 1e-6 * want.abs().max(1e-3),
            "{}: {got} vs {want}",
            r[0]
        );
    }
    // The last test target looks 5 bars ahead: none is dated in the data's last 5 bars.
    let last = &preds.last().unwrap()[0];
    let t = close_at.iter().position(|(d, _)| d == last).unwrap();
    assert_eq!(t, close_at.len() - 6);

    // The optimizer, the gradient clip and mixed precision are the ones configured, and each
    // changes the weights: Adam's L2 penalty and AdamW's decoupled decay differ once there is
    // a decay; a clip this small bounds every step.
    let weights = |p: &std::path::Path| std::fs::read(p.join("weights.safetensors")).unwrap();
    let adam = train_with("adam", &["model.training.weight_decay=0.01"]);
    let adamw = train_with(
        "adamw",
        &[
            "model.training.weight_decay=0.01",
            "model.training.optimizer=adamw",
        ],
    );
    let clipped = train_with(
        "clipped",
        &[
            "model.training.weight_decay=0.01",
            "model.training.gradient_clip_norm=0.0001",
            "model.training.mixed_precision=false",
        ],
    );
    assert_ne!(weights(&adam), weights(&adamw));
    assert_ne!(weights(&adam), weights(&clipped));
    let config = std::fs::read_to_string(clipped.join("config.yaml")).unwrap();
    for line in [
        "optimizer: adam\n",
        "gradient_clip_norm: 0.0001\n",
        "mixed_precision: false\n",
    ] {
        assert!(config.contains(line), "{line}: {config}");
    }
    assert!(
        std::fs::read_to_string(adamw.join("config.yaml"))
            .unwrap()
            .contains("optimizer: adamw\n")
    );
}

/// Ranks from 1, ties sharing their average rank.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            r[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    r
}

/// The card's test metrics recomputed from the model's `test_predictions.csv` (its targets and
/// forecasts, written in full precision), by their documented definitions.
fn check_test_metrics(version: &Path, threshold: f64) {
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(version.join("model.json")).unwrap())
            .unwrap();
    let rows = csv(&std::fs::read_to_string(version.join("test_predictions.csv")).unwrap());
    let (y, p): (Vec<f64>, Vec<f64>) = rows[1..]
        .iter()
        .map(|r| (r[1].parse::<f64>().unwrap(), r[2].parse::<f64>().unwrap()))
        .unzip();
    let n = y.len() as f64;
    let mean = |v: &mut dyn Iterator<Item = f64>| v.sum::<f64>() / n;
    let pearson = |a: &[f64], b: &[f64]| {
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    };
    let ic = pearson(&ranks(&p), &ranks(&y));
    let mut want = vec![
        (
            "test_mae",
            mean(&mut p.iter().zip(&y).map(|(a, b)| (a - b).abs())),
        ),
        (
            "test_rmse",
            mean(&mut p.iter().zip(&y).map(|(a, b)| (a - b).powi(2))).sqrt(),
        ),
        (
            "test_directional_accuracy",
            mean(
                &mut p
                    .iter()
                    .zip(&y)
                    .map(|(a, b)| f64::from(u8::from((*a > threshold) == (*b > threshold)))),
            ),
        ),
        (
            "test_mae_zero",
            mean(&mut y.iter().map(|b| (b - threshold).abs())),
        ),
        (
            "test_rmse_zero",
            mean(&mut y.iter().map(|b| (b - threshold).powi(2))).sqrt(),
        ),
        (
            "test_up_share",
            mean(&mut y.iter().map(|b| f64::from(u8::from(*b > threshold)))),
        ),
        ("test_ic", ic),
        ("test_ic_t", ic * ((n - 2.0) / (1.0 - ic * ic)).sqrt()),
    ];
    if threshold == 0.0 {
        want.push((
            "test_mse",
            mean(&mut p.iter().zip(&y).map(|(a, b)| (a - b).powi(2))),
        ));
    }
    for (key, w) in want {
        let got = card["metrics"][key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {card}"));
        assert!(
            (got - w).abs() <= 1e-12 * w.abs().max(1e-3),
            "{key}: card {got}, recomputed {w}"
        );
    }
}

#[test]
fn the_cards_test_metrics_are_those_of_its_test_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train(d, "goog");
    let version = d.join("artifacts/models/goog/1");
    check_test_metrics(&version, 0.0);
    // `qts predict` gives the test rows' forecasts again, and each row's split is `test`.
    let stored = csv(&std::fs::read_to_string(version.join("test_predictions.csv")).unwrap());
    let out = qts(d)
        .args(["-q", "predict", "--model", "goog", "--from"])
        .arg(&stored[1][0])
        .arg("--data")
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let predicted = csv(&String::from_utf8_lossy(&out.get_output().stdout));
    for s in &stored[1..] {
        let r = predicted
            .iter()
            .find(|r| r[0] == s[0])
            .unwrap_or_else(|| panic!("no prediction for {}", s[0]));
        let (a, b): (f64, f64) = (r[1].parse().unwrap(), s[2].parse().unwrap());
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1e-4),
            "{}: {a} vs {b}",
            s[0]
        );
        assert_eq!(r[2], "test", "{}", s[0]);
    }
    // A classifier's figures are judged at 0.5: its forecasts are probabilities of an up move.
    qts(d)
        .args(SMALL)
        .args(["-q", "--set", "model.data.target=direction"])
        .args(["--set", "model.training.loss=cross_entropy"])
        .args(["train", "--name", "updown", "--data"])
        .arg(sample("goog_daily.csv"))
        .assert()
        .success();
    let version = d.join("artifacts/models/updown/1");
    check_test_metrics(&version, 0.5);
    let targets = csv(&std::fs::read_to_string(version.join("test_predictions.csv")).unwrap());
    assert!(
        targets[1..].iter().all(|r| r[1] == "0" || r[1] == "1"),
        "{targets:?}"
    );
}

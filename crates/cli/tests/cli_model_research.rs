//! A model walked forward (`qts walk-forward --model-config`) and a model's hyper-parameter
//! search (`qts optimize --model-config`), as a user runs them (through `qts`, which hands
//! them to `qts-torch`).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{SMALL, json, qts, repo, sample};

fn model_yaml() -> String {
    repo()
        .join("config/model_configs/lstm_default.yaml")
        .display()
        .to_string()
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
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[1].parse().unwrap())
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

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn a_model_search_trains_registers_and_chooses_on_validation_only() {
    let dir = tempfile::tempdir().unwrap();
    let search = |extra: &[&str], out: &str| {
        json(
            &qts(dir.path())
                .args(SMALL)
                .args(["-q", "optimize", "--data"])
                .arg(sample("goog_daily.csv"))
                .args(["--model-config", &model_yaml(), "--json", "--out", out])
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let v = search(
        &[
            "--search",
            "lstm.hidden_size=8,16",
            "--search",
            "model.training.learning_rate=0.001,0.01",
            "--method",
            "grid",
        ],
        "grid",
    );
    assert_eq!(v["trials"], 4);
    assert_eq!(v["method"], "grid");
    assert_eq!(v["objective"]["metric"], "val_loss");
    let csv = rows(&std::fs::read_to_string(dir.path().join("grid/trials.csv")).unwrap());
    let col = |name: &str| csv[0].iter().position(|c| c == name).unwrap();
    assert_eq!(
        csv[0][..4],
        [
            "trial",
            "lstm.hidden_size",
            "training.learning_rate",
            "model"
        ]
    );
    assert_eq!(csv.len(), 5);
    // The grid in order, each trial registered with its own settings and metrics.
    let expected = [
        ("8", "0.001"),
        ("8", "0.01"),
        ("16", "0.001"),
        ("16", "0.01"),
    ];
    for (i, (hidden, lr)) in expected.iter().enumerate() {
        let row = &csv[i + 1];
        assert_eq!((row[1].as_str(), row[2].as_str()), (*hidden, *lr));
        assert_eq!(row[3], format!("lstm_default@{}", i + 1));
        let card: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!(
                "artifacts/models/lstm_default/{}/model.json",
                i + 1
            )))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(card["config"]["lstm"]["hidden_size"].to_string(), *hidden);
        assert_eq!(
            card["config"]["training"]["learning_rate"]
                .as_f64()
                .unwrap(),
            lr.parse::<f64>().unwrap()
        );
        let val: f64 = row[col("val_loss")].parse().unwrap();
        assert_eq!(card["metrics"]["val_loss"].as_f64().unwrap(), val);
    }
    // The best is the lowest validation loss, whatever the test split says.
    let val = |r: &Vec<String>| r[col("val_loss")].parse::<f64>().unwrap();
    let best = csv[1..]
        .iter()
        .min_by(|a, b| val(a).total_cmp(&val(b)))
        .unwrap();
    assert_eq!(v["best"]["model"].as_str().unwrap(), best[3]);
    assert_eq!(
        v["best"]["metrics"]["val_loss"].as_f64().unwrap(),
        val(best)
    );
    // A trial is the model `qts train` makes with the same settings.
    let trained = json(
        &qts(dir.path())
            .args(SMALL)
            .args([
                "--set",
                "model.lstm.hidden_size=8",
                "--set",
                "model.training.learning_rate=0.01",
            ])
            .args(["-q", "train", "--json", "--name", "check", "--data"])
            .arg(sample("goog_daily.csv"))
            .output()
            .unwrap(),
    );
    assert_eq!(
        trained["metrics"]["val_loss"].as_f64().unwrap(),
        val(&csv[2])
    );

    // Random search: seeded draws from the YAML's space narrowed by --search.
    let random = |out: &str| {
        search(
            &[
                "--search",
                "lstm.hidden_size=8,16",
                "--search",
                "training.learning_rate=log_uniform:0.0005:0.02",
                "--method",
                "random",
                "--trials",
                "2",
                "--seed",
                "11",
                "--maximize",
                "val_ic",
            ],
            out,
        )
    };
    let a = random("r1");
    let b = random("r2");
    assert_eq!(a["trials"], 2);
    assert_eq!(a["seed"], 11);
    assert_eq!(a["best"]["params"], b["best"]["params"]);
    assert_eq!(a["best"]["metrics"], b["best"]["metrics"]);
    let params = |out: &str| -> Vec<Vec<String>> {
        rows(&std::fs::read_to_string(dir.path().join(out).join("trials.csv")).unwrap())
            .into_iter()
            .map(|r| r[..3].to_vec())
            .collect()
    };
    assert_eq!(params("r1"), params("r2"));
    for r in &params("r1")[1..] {
        let lr: f64 = r[2].parse().unwrap();
        assert!((0.0005..=0.02).contains(&lr), "{lr}");
    }
}

#[test]
fn a_model_search_refuses_bad_spaces_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = qts(dir.path())
            .args(["optimize", "--data"])
            .arg(sample("goog_daily.csv"))
            .args(["--model-config", &model_yaml()])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let e = run(&["--search", "lstm.hiden_size=8,16"]);
    assert!(
        e.contains("model.search.space.lstm.hiden_size: is not a setting under `model`"),
        "{e}"
    );
    let e = run(&["--search", "lstm.dropout=uniform:0:0.5", "--method", "grid"]);
    assert!(
        e.contains("grid search takes `choice` parameters only"),
        "{e}"
    );
    let e = run(&["--search", "lstm.dropout=uniform:0.5:0.1"]);
    assert!(e.contains("model.search.space.lstm.dropout"), "{e}");
    let e = run(&["--search", "lstm.hidden_size=big,small", "--method", "grid"]);
    assert!(e.contains("lstm.hidden_size=big"), "{e}");
    let e = run(&["--minimize", "test_mae"]);
    assert!(e.contains("scored on its validation split"), "{e}");
    let e = run(&["--grid", "fast=5,10"]);
    assert!(e.contains("--grid searches a strategy's parameters"), "{e}");
    let e = run(&["--trials", "0", "--method", "random"]);
    assert!(e.contains("trials"), "{e}");
    assert!(!dir.path().join("artifacts/models").exists());
}

#[test]
fn experiments_compare_tests_two_training_runs_forecasts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, arch) in [("a", "lstm"), ("b", "mlp")] {
        let out = qts(d)
            .args(SMALL)
            .args(["--set", &format!("model.architecture={arch}")])
            .args(["-q", "train", "--name", name, "--data"])
            .arg(sample("goog_daily.csv"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let list = json(
        &qts(d)
            .args(["experiments", "list", "--json"])
            .output()
            .unwrap(),
    );
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let c = json(
        &qts(d)
            .args(["experiments", "compare", &ids[0], &ids[1], "--json"])
            .output()
            .unwrap(),
    );
    let errors = |m: &str| -> Vec<f64> {
        std::fs::read_to_string(d.join(format!("artifacts/models/{m}/1/test_predictions.csv")))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<f64> = l.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
                c[0] - c[1]
            })
            .collect()
    };
    let want = qts_stats::significance::diebold_mariano(
        &errors("b"),
        &errors("a"),
        1,
        qts_stats::significance::Loss::Squared,
    )
    .unwrap();
    let got = &c["forecast_significance"][0];
    assert_eq!(got["periods"], want.periods);
    assert_eq!(got["statistic"].as_f64().unwrap(), want.statistic);
    assert_eq!(got["p_value"].as_f64().unwrap(), want.p_value);
    let text = String::from_utf8(
        qts(d)
            .args(["experiments", "compare", &ids[0], &ids[1]])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(text.contains("Diebold–Mariano"), "{text}");
    // `models compare` of the same two: each model's figures are its card's, and its
    // Diebold–Mariano line the same test as the library's.
    let m = json(
        &qts(d)
            .args(["models", "compare", "a", "b", "--json"])
            .output()
            .unwrap(),
    );
    for name in ["a", "b"] {
        let card: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.join(format!("artifacts/models/{name}/1/model.json")))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(m[format!("{name}@1")], card["metrics"], "{name}");
    }
    let line = String::from_utf8(
        qts(d)
            .args(["models", "compare", "a", "b"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let dm = line
        .lines()
        .find(|l| l.starts_with("b@1 against a@1: Diebold–Mariano"))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        dm.contains(&format!("on {} common test forecasts", want.periods))
            && dm.contains(&format!("DM {:.3}", want.statistic))
            && dm.contains(&format!("p {:.4}", want.p_value)),
        "{dm} vs {want:?}"
    );
    // A training run re-runs to the same numbers (seeded, deterministic on the CPU).
    let r = json(
        &qts(d)
            .args(["reproduce", &ids[1], "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(r["command"], "train");
    assert_eq!(r["same"], true, "{r}");
    assert!(r["metrics"].as_array().unwrap().len() > 20);
}

#[test]
fn qts_run_goes_from_the_bars_to_a_tracked_decision() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = sample("goog_daily.csv");
    let out = qts(d)
        .args(SMALL)
        .args(["-q", "run", "--data"])
        .arg(&goog)
        .args([
            "--train", "500", "--test", "250", "--paths", "300", "--json",
        ])
        .output()
        .unwrap();
    let s = json(&out);
    assert_eq!(s["out_of_sample"]["windows"], 6);
    assert_eq!(s["out_of_sample"]["bars"], 1500);
    for who in ["model", "sma_cross", "buy_and_hold"] {
        for k in [
            "total_return",
            "sharpe_ratio",
            "max_drawdown",
            "final_equity",
        ] {
            assert!(s[who][k].as_f64().unwrap().is_finite(), "{who} {k}");
        }
    }
    // The baseline is buy-and-hold traded through the same six test windows (next-open entry,
    // costs, closed at each window's end): each window is `qts backtest --strategy
    // buy-and-hold` of it, from the equity the one before ended with.
    let days: Vec<String> = std::fs::read_to_string(&goog)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let mut cash = 100_000.0;
    for k in 0..6 {
        let (from, to) = (&days[500 + 250 * k], &days[500 + 250 * k + 249]);
        let b = json(
            &qts(d)
                .args([
                    "-q",
                    "backtest",
                    "--strategy",
                    "buy-and-hold",
                    "--close-at-end",
                ])
                .arg("--data")
                .arg(&goog)
                .args([
                    "--from",
                    from,
                    "--to",
                    to,
                    "--cash",
                    &cash.to_string(),
                    "--json",
                ])
                .output()
                .unwrap(),
        );
        cash = b["final_equity"].as_f64().unwrap();
    }
    let bh = s["buy_and_hold"]["final_equity"].as_f64().unwrap();
    assert!((bh - cash).abs() <= 1e-9 * cash, "{bh} vs {cash}");
    // The verdict follows from the numbers printed beside it.
    let beat = ["sma_cross", "buy_and_hold"].iter().all(|b| {
        s["model"]["total_return"].as_f64() > s[*b]["total_return"].as_f64()
            && s["model"]["sharpe_ratio"].as_f64() > s[*b]["sharpe_ratio"].as_f64()
    });
    assert_eq!(s["beat_both"], beat);
    let p = s["against_buy_and_hold"]["p_value"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    // Better, worse or not distinguishable, the way each test points (issue 35).
    let mut each = vec![];
    for (test, key) in [
        ("against_buy_and_hold", "against_buy_and_hold"),
        ("against_sma_cross", "against_sma_cross"),
    ] {
        let t = &s[test];
        let want = match t["p_value"].as_f64() {
            Some(p) if p < 0.05 && t["sharpe_a"].as_f64() > t["sharpe_b"].as_f64() => "better",
            Some(p) if p < 0.05 => "worse",
            _ => "not_distinguishable",
        };
        assert_eq!(s["verdict"][key], want, "{test}");
        each.push(want);
    }
    let overall = if each.contains(&"worse") {
        "worse"
    } else if each.iter().all(|v| *v == "better") {
        "better"
    } else {
        "not_distinguishable"
    };
    assert_eq!(s["verdict"]["overall"], overall);
    assert_ne!(
        s["settings"]["terms"]["buy_and_hold"], s["settings"]["terms"]["model"],
        "buy-and-hold holds the whole account, and the summary says so"
    );
    assert!(s["deflated_sharpe_ratio"].as_f64().is_some());
    // Tomorrow's decision is for the session after the last bar (Friday 2013-03-01).
    assert_eq!(s["decision"]["as_of"], "2013-03-01");
    assert_eq!(s["decision"]["next_session"], "2013-03-04");
    // The reports, self-contained, and the run tracked with the numbers of the summary.
    for f in [
        "report.html",
        "walk_forward.html",
        "monte_carlo.html",
        "data_quality.html",
    ] {
        let page = std::fs::read_to_string(d.join("artifacts/run").join(f)).unwrap();
        assert!(
            !page.contains("<script") && page.contains("<svg class=\"chart\""),
            "{f}"
        );
    }
    let page = std::fs::read_to_string(d.join("artifacts/run/report.html")).unwrap();
    assert!(
        page.contains("role=\"status\"><b>Verdict: "),
        "the page's banner"
    );
    assert!(
        page.contains("<td>terms</td>"),
        "each row's terms on the page"
    );
    // Buy-and-hold at the model's exposure beside the fully invested one, on the page too.
    assert!(
        s["buy_and_hold_at_exposure"]["total_return"]
            .as_f64()
            .unwrap()
            .is_finite()
    );
    assert!(page.contains("buy-and-hold at the model's exposure"));
    // The model's own tearsheet below the comparison: its drawdowns and months.
    assert!(page.contains("The model out of sample: drawdowns"));
    assert!(page.contains("aria-label=\"monthly returns\""));
    // One number per fact: the console, the JSON and the page of the same run say the same.
    let again = qts(d)
        .args(SMALL)
        .args(["-q", "run", "--data"])
        .arg(&goog)
        .args(["--train", "500", "--test", "250", "--paths", "300"])
        .args(["--out", "again"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let text = String::from_utf8(again.stdout).unwrap();
    let page = std::fs::read_to_string(d.join("again/report.html")).unwrap();
    let pct = |v: &serde_json::Value| format!("{:+.2}%", 100.0 * v.as_f64().unwrap());
    for who in ["model", "sma_cross", "buy_and_hold"] {
        for k in ["total_return", "cagr", "max_drawdown"] {
            let shown = pct(&s[who][k]);
            assert!(
                text.contains(&shown),
                "{who} {k} {shown} on the console: {text}"
            );
            assert!(page.contains(&shown), "{who} {k} {shown} on the page");
        }
        let sharpe = format!("{:.3}", s[who]["sharpe_ratio"].as_f64().unwrap());
        assert!(text.contains(&sharpe), "{who} Sharpe {sharpe}: {text}");
    }
    let sentence = text
        .lines()
        .find_map(|l| l.strip_prefix("Verdict: "))
        .and_then(|l| l.split_once(". ").map(|x| x.1))
        .unwrap();
    assert!(
        page.contains(sentence),
        "the banner says what the console says: {sentence}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("artifacts/run/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["model"], s["model"]);
    let list = json(
        &qts(d)
            .args(["experiments", "list", "--json"])
            .output()
            .unwrap(),
    );
    let run = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["run"]["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t[0] == "qts.command" && t[1] == "run")
        })
        .unwrap();
    let metric = run["run"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "model.total_return")
        .unwrap();
    assert_eq!(metric["value"], s["model"]["total_return"]);
}

/// AAPL, MSFT and KO of the wide file, 2010–2014, as a wide file in `dir`: MSFT listed on
/// 2011-01-03 (empty cells before), KO delisted after `ko_until` when given. With its dates.
fn three_stocks(dir: &Path, ko_until: Option<&str>) -> (std::path::PathBuf, Vec<String>) {
    let text = std::fs::read_to_string(sample("stocks20_daily_adjclose.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (a, m, k) = (col("AAPL"), col("MSFT"), col("KO"));
    let mut wide = String::from("date,AAPL,MSFT,KO\n");
    let mut days = Vec::new();
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        if c[0] < "2010-01-01" || c[0] > "2014-12-31" {
            continue;
        }
        let msft = if c[0] < "2011-01-03" { "" } else { c[m] };
        let ko = if ko_until.is_some_and(|u| c[0] > u) {
            ""
        } else {
            c[k]
        };
        wide.push_str(&format!("{},{},{msft},{ko}\n", c[0], c[a]));
        days.push(c[0].to_string());
    }
    let data = dir.join("three.csv");
    std::fs::write(&data, wide).unwrap();
    (data, days)
}

/// Three stocks of the wide file, 2010–2014, one listed in 2011: a model pooled over the
/// symbols of each train window, its forecasts of the test window ranked (top 1), stitched.
#[test]
fn a_universe_walks_forward_with_one_pooled_model_per_window_ranked() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = three_stocks(dir.path(), None);
    let v = json(
        &qts(dir.path())
            .args(SMALL)
            .args(["-q", "walk-forward", "--data"])
            .arg(&data)
            .args(["--model-config", &model_yaml()])
            .args(["--strategy", "rank", "--param", "top=1"])
            .args(["--train", "500", "--test", "250", "--json", "--out", "wf"])
            .output()
            .unwrap(),
    );
    let windows = v["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3, "{v}");
    for w in windows {
        assert!(w["params"].as_str().unwrap().starts_with("model="), "{w}");
    }
    // The stitched out-of-sample result traded: one name at a time, weekly.
    let oos = &v["out_of_sample"];
    assert!(oos["num_trades"].as_u64().unwrap() > 0, "{oos}");
    let equity = std::fs::read_to_string(dir.path().join("wf/oos_equity.csv")).unwrap();
    assert_eq!(equity.lines().count() - 1, 3 * 250);
    // Each window's forecasts ranked against the next day's returns, and the universe's
    // statistics over the windows stitched: the contributions add up to the total return.
    for w in windows {
        assert!(w["rank_ic"].as_f64().unwrap().abs() <= 1.0, "{w}");
    }
    let u = &v["universe"];
    let total: f64 = u["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    let want = oos["total_return"].as_f64().unwrap();
    assert!((total - want).abs() < 1e-9, "{total} vs {want}");
    assert!(u["rank_ic"]["dates"].as_u64().unwrap() > 600, "{u}");
}

/// The main job on a universe (issue 31): three stocks of the wide file, 2010–2014, MSFT listed
/// in 2011 and KO delisted in mid-2014: one model pooled per window, its forecasts ranked (top
/// 1), against the equal-weight universe traded through the same windows, with the universe's
/// statistics, every symbol in the decision, and the pages.
#[test]
fn qts_run_on_a_universe_ranks_a_pooled_model_against_the_equal_weight_universe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (data, days) = three_stocks(d, Some("2014-06-30"));
    let out = qts(d)
        .args(SMALL)
        .args(["-q", "run", "--data"])
        .arg(&data)
        .args(["--param", "top=1", "--train", "500", "--test", "250"])
        .args(["--paths", "200", "--json", "--benchmark"])
        .arg(sample("sp500_daily.csv"))
        .output()
        .unwrap();
    let s = json(&out);
    // The benchmark held over the out-of-sample days: its closes' ratio.
    let sp500 = std::fs::read_to_string(sample("sp500_daily.csv")).unwrap();
    let close_on = |day: &str| -> f64 {
        let line = sp500.lines().find(|l| l.starts_with(day)).unwrap();
        line.split(',').nth(4).unwrap().parse().unwrap()
    };
    let want = close_on(&days[1249]) / close_on(&days[500]) - 1.0;
    let got = s["benchmark"]["headline"]["total_return"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    assert!(s["benchmark"]["beta"].as_f64().unwrap().is_finite());
    assert_eq!(s["out_of_sample"]["windows"], 3, "{s}");
    let u = &s["universe"];
    assert_eq!(u["symbols"], serde_json::json!(["AAPL", "MSFT", "KO"]));
    assert!(
        u["strategy"].as_str().unwrap().starts_with("rank(top 1"),
        "{u}"
    );
    // The holding baseline is the equal-weight universe traded through the same three test
    // windows: each window is `qts backtest --strategy equal-weight` of it, from the equity the
    // one before ended with.
    let mut cash = 100_000.0;
    for w in 0..3 {
        let (from, to) = (&days[500 + 250 * w], &days[500 + 250 * w + 249]);
        let b = json(
            &qts(d)
                .args([
                    "-q",
                    "backtest",
                    "--strategy",
                    "equal-weight",
                    "--close-at-end",
                ])
                .arg("--data")
                .arg(&data)
                .args(["--from", from, "--to", to, "--cash", &cash.to_string()])
                .arg("--json")
                .output()
                .unwrap(),
        );
        cash = b["final_equity"].as_f64().unwrap();
    }
    let held = s["buy_and_hold"]["final_equity"].as_f64().unwrap();
    assert!((held - cash).abs() <= 1e-9 * cash, "{held} vs {cash}");
    // The model's portfolio out of sample: the contributions add up to its total return, one
    // name held at a time, the rank IC measured over the test windows' dates.
    let model = &u["model"];
    let total: f64 = model["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    let want = s["model"]["total_return"].as_f64().unwrap();
    assert!((total - want).abs() < 1e-9, "{total} vs {want}");
    assert!(model["mean_holdings"].as_f64().unwrap() <= 1.0 + 1e-12);
    assert_eq!(model["max_tradable"], 3);
    assert_eq!(model["holdings"].as_array().unwrap().len(), 750);
    let ic = &model["rank_ic"];
    assert!(ic["dates"].as_u64().unwrap() > 600, "{ic}");
    assert!(ic["mean"].as_f64().unwrap().abs() <= 1.0);
    assert!(
        s["verdict"].is_object()
            && s["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().contains("KO")),
        "the delisting is in the notes: {}",
        s["notes"]
    );
    // Tomorrow: a line for every symbol still listed (KO was delisted in June).
    assert_eq!(s["decision"]["as_of"], "2014-12-31");
    let positions: Vec<&str> = s["decision"]["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    assert!(
        positions.contains(&"AAPL") && positions.contains(&"MSFT"),
        "{positions:?}"
    );
    // The pages: the universe's quality a row per symbol, each window's rank IC.
    let run = d.join("artifacts/run");
    let quality = std::fs::read_to_string(run.join("data_quality.html")).unwrap();
    for symbol in ["AAPL", "MSFT", "KO"] {
        assert!(quality.contains(&format!("<td style=\"text-align:left\">{symbol}</td>")));
    }
    let walked = std::fs::read_to_string(run.join("walk_forward.html")).unwrap();
    assert!(walked.contains("Rank IC of each test window"));
    assert!(walked.contains("<h2>Universe</h2>"));
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        report.contains("the equal-weight universe"),
        "the banner names it"
    );
    assert!(report.contains("Names held and names tradable at each close (test windows)"));
    // A rank of one symbol is refused before any training.
    let one = qts(d)
        .args(["-q", "run", "--data"])
        .arg(sample("goog_daily.csv"))
        .args(["--strategy", "rank", "--out", "one"])
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&one.stderr).contains("ranks a universe"),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
}

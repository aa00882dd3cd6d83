//! Tracking against a real MLflow server (`mlflow server`, pinned, installed by
//! `scripts/test.sh`): a backtest appears in MLflow with its params, metrics, tags and
//! artifacts as a user would see them in the UI; with the server down the run is kept in the
//! local store and `qts experiments sync` sends it later. No mock stands in for MLflow.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{qts, sample};

fn mlflow() -> PathBuf {
    let path = std::env::var_os("QTS_MLFLOW").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/qts/mlflow-3.17.2/bin/mlflow")
        },
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "MLflow is not installed at {}: run scripts/test.sh (it installs mlflow==3.17.2), or set QTS_MLFLOW",
        path.display()
    );
    path
}

/// A real `mlflow server` on a free loopback port, over SQLite, stopped when dropped.
struct Server {
    child: Child,
    uri: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        use std::os::unix::process::CommandExt;
        // Its own process group: `mlflow server` runs uvicorn as a child, and stopping the
        // server must stop both (a killed parent alone leaves ~250 MB running).
        let child = Command::new(mlflow())
            .process_group(0)
            .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--workers", "1"])
            .arg("--backend-store-uri")
            .arg(format!("sqlite:///{}", dir.join("mlflow.db").display()))
            .arg("--artifacts-destination")
            .arg(dir.join("mlartifacts"))
            .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let uri = format!("http://127.0.0.1:{port}");
        let mut server = Server { child, uri };
        // Ready when it answers; a server that exits (a bad flag, a taken port) fails the test
        // at once with its status. The poll budget only keeps a hung start from hanging CI.
        for _ in 0..2_400 {
            if get(&format!("{}/health", server.uri)).is_some() {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("mlflow server exited before it was ready: {status}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("mlflow server never answered /health");
    }

    fn search(&self) -> Vec<serde_json::Value> {
        let v = post(
            &format!("{}/api/2.0/mlflow/experiments/search", self.uri),
            serde_json::json!({ "max_results": 100 }),
        );
        let ids: Vec<String> = v["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["experiment_id"].as_str().unwrap().to_string())
            .collect();
        let runs = post(
            &format!("{}/api/2.0/mlflow/runs/search", self.uri),
            serde_json::json!({ "experiment_ids": ids }),
        );
        runs["runs"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// Stops a child started in its own process group, and everything it started.
fn stop_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    for _ in 0..40 {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn get(url: &str) -> Option<String> {
    agent()
        .get(url)
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
}

fn post(url: &str, body: serde_json::Value) -> serde_json::Value {
    let text = agent()
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

const SECRET: &str = "fmp-secret-tracking-42";

fn backtest(dir: &Path, uri: &str) -> std::process::Output {
    qts(dir)
        .env("MLFLOW_TRACKING_URI", uri)
        .env("FMP_API_KEY", SECRET)
        .args(["backtest", "--data"])
        .arg(sample("goog_daily.csv"))
        .args([
            "--param", "fast=10", "--param", "slow=20", "--out", "run", "--json",
        ])
        .output()
        .unwrap()
}

#[test]
fn a_backtest_appears_in_mlflow_with_its_params_metrics_tags_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let out = backtest(dir.path(), &server.uri);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let runs = server.search();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run["info"]["status"], "FINISHED");
    assert_eq!(
        run["info"]["run_name"],
        "backtest sma-cross(10, 20) goog_daily"
    );
    let data = &run["data"];
    let metric = |k: &str| {
        data["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == k)
            .map(|m| m["value"].as_f64().unwrap())
            .unwrap_or_else(|| panic!("metric {k}"))
    };
    // The numbers MLflow shows are the result's, to the bit.
    for k in ["sharpe_ratio", "final_equity", "max_drawdown", "num_trades"] {
        assert_eq!(metric(k), stats[k].as_f64().unwrap(), "{k}");
    }
    let param = |k: &str| {
        data["params"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == k)
            .map(|p| p["value"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("param {k}"))
    };
    assert_eq!(param("run.strategy"), "sma-cross(10, 20)");
    assert_eq!(param("backtest.initial_capital"), "100000.0");
    assert_eq!(param("trading.rebalance"), "weekly");
    assert_eq!(param("data.providers.fmp.api_key"), "***");
    assert!(!run.to_string().contains(SECRET), "a key reached MLflow");
    assert!(
        data["params"].as_array().unwrap().len() > 100,
        "the whole config, batched"
    );
    let tag = |k: &str| {
        data["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == k)
            .map(|t| t["value"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("tag {k}"))
    };
    assert_eq!(tag("qts.command"), "backtest");
    assert_eq!(
        tag("qts.data_hash"),
        stats["stamp"]["data_hash"].as_str().unwrap()
    );
    assert_eq!(tag("qts.version"), env!("CARGO_PKG_VERSION"));
    // The files, through the server's artifact proxy.
    let run_id = run["info"]["run_id"].as_str().unwrap();
    let listed: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{}/api/2.0/mlflow/artifacts/list?run_id={run_id}",
            server.uri
        ))
        .unwrap(),
    )
    .unwrap();
    let mut files: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    files.sort_unstable();
    assert_eq!(
        files,
        ["config.yaml", "equity.csv", "stats.json", "trades.csv"]
    );
    // The effective configuration is logged with its secrets as ***.
    let config = get(&format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{}/config.yaml",
        server.uri,
        run["info"]["artifact_uri"]
            .as_str()
            .unwrap()
            .trim_start_matches("mlflow-artifacts:/")
    ))
    .unwrap();
    assert!(config.contains("initial_capital"), "{config}");
    assert!(!config.contains(SECRET));
    let equity = get(&format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{}/equity.csv",
        server.uri,
        run["info"]["artifact_uri"]
            .as_str()
            .unwrap()
            .trim_start_matches("mlflow-artifacts:/")
    ))
    .unwrap();
    assert_eq!(
        equity,
        std::fs::read_to_string(dir.path().join("run/equity.csv")).unwrap()
    );
    // The local store knows where it went.
    let list = qts(dir.path())
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args(["experiments", "list", "--json"])
        .output()
        .unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(stored[0]["sent"][0]["server_run_id"], run_id);
}

#[test]
fn with_the_server_down_nothing_is_lost_and_sync_sends_it_later() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: the server is down.
    let down = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let out = backtest(dir.path(), &down);
    assert!(out.status.success(), "the backtest itself succeeds");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not sent"), "{err}");
    let listed = qts(dir.path())
        .args(["experiments", "list", "--json"])
        .output()
        .unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(stored.as_array().unwrap().len(), 1);
    assert!(stored[0]["sent"].as_array().unwrap().is_empty());

    let server = Server::start(dir.path());
    assert!(server.search().is_empty());
    let sync = |uri: &str| {
        qts(dir.path())
            .env("MLFLOW_TRACKING_URI", uri)
            .args(["experiments", "sync", "--json"])
            .output()
            .unwrap()
    };
    let first = sync(&server.uri);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["sent"].as_array().unwrap().len(), 1);
    let runs = server.search();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["info"]["status"], "FINISHED");
    // Sending again sends nothing twice.
    let again: serde_json::Value = serde_json::from_slice(&sync(&server.uri).stdout).unwrap();
    assert_eq!(again["already"], 1);
    assert_eq!(server.search().len(), 1);
    // Without a server, sync says what it needs.
    let none = qts(dir.path())
        .env("MLFLOW_TRACKING_URI", "")
        .args(["experiments", "sync"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
}

#[test]
fn a_training_run_logs_every_epoch_at_its_step_and_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let out = qts(dir.path())
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args([
            "--set",
            "model.training.epochs=3",
            "--set",
            "model.training.warmup_epochs=1",
        ])
        .args([
            "--set",
            "model.lstm.hidden_size=8",
            "--set",
            "model.data.lookback=20",
        ])
        .args(["--set", "model.data.purge_gap=20"])
        .args(["-q", "train", "--name", "goog", "--data"])
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = server.search();
    assert_eq!(runs.len(), 1);
    let run_id = runs[0]["info"]["run_id"].as_str().unwrap();
    assert_eq!(runs[0]["info"]["run_name"], "train goog@1");
    let history: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{}/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=epoch.val_loss",
            server.uri
        ))
        .unwrap(),
    )
    .unwrap();
    let steps: Vec<i64> = history["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, [1, 2, 3]);
    let logged: Vec<f64> = history["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_f64().unwrap())
        .collect();
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("artifacts/models/goog/1/history.json")).unwrap(),
    )
    .unwrap();
    let written: Vec<f64> = file
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["val_loss"].as_f64().unwrap())
        .collect();
    assert_eq!(logged, written);
    let listed: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{}/api/2.0/mlflow/artifacts/list?run_id={run_id}&path=model",
            server.uri
        ))
        .unwrap(),
    )
    .unwrap();
    let files = listed["files"].to_string();
    assert!(
        files.contains("model/weights.safetensors") && files.contains("model/model.json"),
        "{files}"
    );

    // Promoted: registered in MLflow's registry too, the alias set there.
    let promote = qts(dir.path())
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args(["models", "promote", "goog@1", "--alias", "production"])
        .output()
        .unwrap();
    assert!(
        promote.status.success(),
        "{}",
        String::from_utf8_lossy(&promote.stderr)
    );
    assert!(String::from_utf8_lossy(&promote.stdout).contains("MLflow"));
    let alias: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{}/api/2.0/mlflow/registered-models/alias?name=goog&alias=production",
            server.uri
        ))
        .unwrap(),
    )
    .unwrap();
    let mv = &alias["model_version"];
    assert_eq!(mv["run_id"], run_id);
    assert!(mv["source"].as_str().unwrap().ends_with("/model"), "{mv}");
    assert!(mv["tags"].to_string().contains("qts.version"), "{mv}");
    // Promoting again reuses the version.
    let again = qts(dir.path())
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args(["models", "promote", "goog@1", "--alias", "staging"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let versions: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{}/api/2.0/mlflow/model-versions/search?filter=name%3D%27goog%27",
            server.uri
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(versions["model_versions"].as_array().unwrap().len(), 1);

    // Another machine with only the server: NAME@ALIAS loads from MLflow's registry, and
    // predicts what the local model predicts.
    let predict = |cwd: &std::path::Path, uri: Option<&str>| {
        let mut cmd = qts(cwd);
        if let Some(u) = uri {
            cmd.env("MLFLOW_TRACKING_URI", u);
        }
        let out = cmd
            .args(["-q", "predict", "--model", "goog@production", "--data"])
            .arg(sample("goog_daily.csv"))
            .args(["--from", "2013-01-02"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let here = predict(dir.path(), None);
    let elsewhere = tempfile::tempdir().unwrap();
    let none = qts(elsewhere.path())
        .args(["predict", "--model", "goog@production", "--data"])
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2), "no server, no such model");
    let there = predict(elsewhere.path(), Some(&server.uri));
    assert_eq!(there, here);
    assert!(here.lines().count() > 30);
    let fetched: serde_json::Value = serde_json::from_slice(
        &std::fs::read(elsewhere.path().join("artifacts/models/goog/1/model.json")).unwrap(),
    )
    .unwrap();
    assert!(
        fetched["source"]
            .as_str()
            .unwrap()
            .starts_with("mlflow:goog/")
    );
}

#[test]
fn compare_and_best_test_the_sharpe_difference_on_the_days_both_traded() {
    let dir = tempfile::tempdir().unwrap();
    let run = |params: &[&str], out: &str| {
        let o = qts(dir.path())
            .env("MLFLOW_TRACKING_URI", "")
            .args(["-q", "backtest", "--data"])
            .arg(sample("goog_daily.csv"))
            .args(params)
            .args(["--out", out])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["--param", "fast=10", "--param", "slow=20"], "a");
    run(&["--param", "fast=20", "--param", "slow=50"], "b");
    let listed = qts(dir.path())
        .args(["experiments", "list", "--json"])
        .output()
        .unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<String> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let out = qts(dir.path())
        .args(["experiments", "compare", &ids[0], &ids[1], "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let differing: Vec<&str> = c["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert_eq!(differing, ["run.strategy"]);
    // The same test by the library on the two equity curves.
    let r = |d: &str| {
        qts_data::io::read_returns(&dir.path().join(d).join("equity.csv"))
            .unwrap()
            .returns
    };
    let want = qts_stats::significance::sharpe_difference(&r("a"), &r("b")).unwrap();
    let got = &c["significance"][0];
    // serde_json's default float parser may be an ulp off the printed value.
    let near = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs();
    assert!(near(got["z"].as_f64().unwrap(), want.z), "{got}");
    assert!(
        near(got["p_value"].as_f64().unwrap(), want.p_value),
        "{got}"
    );
    assert_eq!(got["periods"], 2147);
    let best = qts(dir.path())
        .args(["experiments", "best", "--metric", "sharpe_ratio", "--json"])
        .output()
        .unwrap();
    let b: serde_json::Value = serde_json::from_slice(&best.stdout).unwrap();
    assert_eq!(
        b["best"],
        ids[0].as_str(),
        "10/20 has the higher Sharpe ratio"
    );
    assert!(b["sharpe_difference"]["p_value"].as_f64().unwrap() > 0.05);
    let none = qts(dir.path())
        .args(["experiments", "best", "--metric", "nope"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
}

#[test]
fn a_search_is_one_run_with_a_nested_run_per_trial_in_three_requests_each() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let out = qts(dir.path())
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args(["optimize", "--data"])
        .arg(sample("goog_daily.csv"))
        .args(["--grid", "fast=5:20:5", "--grid", "slow=30:60:10"])
        .args(["--maximize", "sharpe_ratio", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = server.search();
    assert_eq!(runs.len(), 10, "the search and its 9 trials");
    let tag = common::run_tag;
    let parent = runs
        .iter()
        .find(|r| tag(r, "qts.command").as_deref() == Some("optimize"))
        .unwrap();
    let parent_id = parent["info"]["run_id"].as_str().unwrap();
    let children: Vec<&serde_json::Value> = runs
        .iter()
        .filter(|r| tag(r, "mlflow.parentRunId").as_deref() == Some(parent_id))
        .collect();
    assert_eq!(children.len(), 9);
    // Each trial carries its parameters and its metric, as trials.csv has them.
    let best = report["best"]["metrics"]["sharpe_ratio"].as_f64().unwrap();
    let sharpes: Vec<f64> = children
        .iter()
        .map(|c| {
            c["data"]["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["key"] == "sharpe_ratio")
                .unwrap()["value"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(sharpes.contains(&best), "{sharpes:?} {best}");
    assert!(
        children
            .iter()
            .all(|c| c["data"]["params"].as_array().unwrap().len() == 2)
    );
    // Requests: the parent's (experiment, create, batches, artifact, end) and three per trial.
    let err = String::from_utf8_lossy(&out.stderr);
    let requests: usize = err
        .split("requests=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(requests <= 10 + 3 * 9, "{requests} requests");
    assert!(requests >= 3 * 9, "{requests} requests");
}

#[test]
fn a_walk_forward_is_one_run_with_a_nested_run_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let out = qts(dir.path())
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args(["walk-forward", "--data"])
        .arg(sample("goog_daily.csv"))
        .args(["--grid", "fast=5:20:5", "--grid", "slow=30:60:10"])
        .args([
            "--maximize",
            "sharpe_ratio",
            "--train",
            "500",
            "--test",
            "250",
        ])
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let windows = report["windows"].as_array().unwrap();
    let runs = server.search();
    assert_eq!(runs.len(), 1 + windows.len());
    let tag = common::run_tag;
    let metric = common::run_metric;
    let param = common::run_param;
    let parent = runs
        .iter()
        .find(|r| tag(r, "qts.command").as_deref() == Some("walk-forward"))
        .unwrap();
    assert_eq!(
        metric(parent, "oos_final_equity"),
        report["out_of_sample"]["final_equity"].as_f64()
    );
    let id = parent["info"]["run_id"].as_str().unwrap();
    for w in windows {
        let child = runs
            .iter()
            .find(|r| {
                tag(r, "mlflow.parentRunId").as_deref() == Some(id)
                    && tag(r, "qts.window") == Some(w["window"].to_string())
            })
            .unwrap();
        assert_eq!(param(child, "params").as_deref(), w["params"].as_str());
        assert_eq!(
            param(child, "test_start").as_deref(),
            w["test_start"].as_str()
        );
        assert_eq!(
            metric(child, "out_of_sample_sharpe_ratio"),
            w["out_of_sample"].as_f64()
        );
    }
}

#[test]
fn monte_carlo_and_paper_steps_are_runs_too() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let d = dir.path();
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(qts(d)
        .args(["-q", "backtest", "--data"])
        .arg(sample("goog_daily.csv"))
        .args(["--out", "run"])
        .output()
        .unwrap());
    let mc = ok(qts(d)
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args([
            "-q",
            "monte-carlo",
            "--run",
            "run",
            "--paths",
            "300",
            "--seed",
            "2",
        ])
        .arg("--json")
        .output()
        .unwrap());
    let mc: serde_json::Value = serde_json::from_slice(&mc.stdout).unwrap();
    ok(qts(d)
        .args(["-q", "paper", "init", "--cash", "100000", "--data"])
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap());
    let step = ok(qts(d)
        .env("MLFLOW_TRACKING_URI", &server.uri)
        .args([
            "-q",
            "paper",
            "step",
            "--offline",
            "--json",
            "--as-of",
            "2013-01-02",
        ])
        .output()
        .unwrap());
    let step: serde_json::Value = serde_json::from_slice(&step.stdout).unwrap();
    let runs = server.search();
    let by_command = |c: &str| {
        runs.iter()
            .find(|r| {
                r["data"]["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["key"] == "qts.command" && t["value"] == c)
            })
            .unwrap_or_else(|| panic!("no {c} run in {runs:?}"))
    };
    let metric = common::run_metric;
    let m = by_command("monte-carlo");
    assert_eq!(
        metric(m, "final_equity.lower"),
        mc["final_equity"]["lower"].as_f64()
    );
    assert_eq!(metric(m, "prob_loss"), mc["prob_loss"].as_f64());
    let p = by_command("paper step");
    assert_eq!(metric(p, "equity"), step["equity"].as_f64());
    assert_eq!(
        metric(p, "orders"),
        Some(step["decision"]["orders"].as_array().unwrap().len() as f64)
    );
}

#[test]
fn experiments_ui_serves_the_local_runs_in_mlflows_own_server() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = qts(d)
        .args(["-q", "backtest", "--data"])
        .arg(sample("goog_daily.csv"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut ui = Command::new(env!("CARGO_BIN_EXE_qts"))
        .current_dir(d)
        .env("QTS_MLFLOW", mlflow())
        .env_remove("MLFLOW_TRACKING_URI")
        .arg("-C")
        .arg(common::repo().join("config"))
        .args(["experiments", "ui", "--port", &port.to_string()])
        .args(["--dir", "ui-home"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let uri = format!("http://127.0.0.1:{port}");
    let server = Server {
        child: Command::new("true").spawn().unwrap(),
        uri: uri.clone(),
    };
    // What qts prints, read as it comes: it says where the UI is once the runs are sent,
    // which may be a moment after the server shows them.
    let (tx, printed) = std::sync::mpsc::channel();
    let stdout = ui.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    // The run arrives once the server is up and the store is sent.
    let mut runs = Vec::new();
    for _ in 0..2_400 {
        if get(&format!("{uri}/health")).is_some() {
            runs = server.search();
            if !runs.is_empty() {
                break;
            }
        }
        if let Some(status) = ui.try_wait().unwrap() {
            panic!("qts experiments ui exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let said = printed
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_default();
    // Stop qts and its server together.
    stop_group(&mut ui);
    assert_eq!(runs.len(), 1, "the stored backtest");
    assert!(
        runs[0]["info"]["run_name"]
            .as_str()
            .unwrap()
            .starts_with("backtest"),
        "{}",
        runs[0]
    );
    // The server's SQLite file is where --dir says, not at the default artifacts/mlflow.
    assert!(d.join("ui-home/mlflow.db").is_file());
    assert!(!d.join("artifacts/mlflow").exists());
    assert!(said.contains(&format!("MLflow UI: {uri}")), "{said}");
}

/// A server on loopback that answers every request `200 OK` with an HTML page (a proxy's
/// login page, a wrong port): not MLflow.
fn html_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 65536];
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = s.read(&mut buf);
            let body = "<html><body>Sign in</body></html>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    uri
}

#[test]
fn a_run_is_sent_only_with_a_receipt_and_a_half_sent_run_is_not_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Kept locally only.
    let out = backtest(d, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sync = |uri: &str| {
        qts(d)
            .env("MLFLOW_TRACKING_URI", uri)
            .args(["experiments", "sync", "--json"])
            .output()
            .unwrap()
    };
    let listed = || -> serde_json::Value {
        let out = qts(d)
            .args(["experiments", "list", "--json"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // A 200 that is not MLflow's answer is no receipt: the run stays unsent.
    let html = sync(&html_server());
    assert_eq!(html.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&html.stdout).unwrap();
    assert!(
        report["failed"][0][1]
            .as_str()
            .unwrap()
            .contains("not MLflow's JSON"),
        "{report}"
    );
    assert!(listed()[0]["sent"].as_array().unwrap().is_empty());
    // A send that fails half-way (an artifact gone after the run was created and logged)
    // leaves no run on the server.
    let server = Server::start(d);
    let id = listed()[0]["run_id"].as_str().unwrap().to_string();
    let artifacts = d.join("artifacts/runs").join(&id).join("artifacts");
    let one = std::fs::read_dir(&artifacts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_file())
        .unwrap();
    let bytes = std::fs::read(&one).unwrap();
    std::fs::remove_file(&one).unwrap();
    let half = sync(&server.uri);
    assert_eq!(
        half.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&half.stderr)
    );
    assert!(server.search().is_empty(), "{:?}", server.search());
    // Once it can be sent whole, it is there once, finished.
    std::fs::write(&one, bytes).unwrap();
    let whole = sync(&server.uri);
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let runs = server.search();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["info"]["status"], "FINISHED");
    assert_eq!(listed()[0]["sent"].as_array().unwrap().len(), 1);
}

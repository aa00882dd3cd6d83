//! `qts experiments list|show|sync`: the local run store, and sending it to a server.

use std::io::Write as _;

use anyhow::anyhow;
use comfy_table::Table;
use qts_tracking::{RunStore, StoredRun};

use super::setup::{load_config, start_logging};
use crate::cli::{ExperimentsCommand, GlobalArgs, SectionFiles};
use crate::failure::Failure;

fn out(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(v).map_err(|e| Failure::Runtime(e.into()))? + "\n")
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Runs `qts experiments …`.
pub fn run(global: &GlobalArgs, command: &ExperimentsCommand) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config.mlflow;
    let store = RunStore::new(&cfg.local_store);
    let failure = |e: qts_tracking::TrackingError| match e {
        qts_tracking::TrackingError::UnknownRun(_) | qts_tracking::TrackingError::NoServer => {
            Failure::Input(e.into())
        }
        other => Failure::Runtime(other.into()),
    };
    match command {
        ExperimentsCommand::List { json: as_json } => {
            let runs = store.list().map_err(failure)?;
            if *as_json {
                return out(&json(&runs)?);
            }
            let mut t = Table::new();
            t.set_header(vec![
                "run",
                "started",
                "experiment",
                "name",
                "status",
                "sent to",
            ]);
            for r in &runs {
                t.add_row(vec![
                    r.run_id.clone(),
                    when(r.run.start_time),
                    r.run.experiment.clone(),
                    r.run.name.clone(),
                    r.run.status.clone(),
                    r.sent
                        .iter()
                        .map(|s| s.uri.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]);
            }
            out(&format!(
                "{} run(s) in {}\n{t}\n",
                runs.len(),
                cfg.local_store
            ))
        }
        ExperimentsCommand::Show { run, json: as_json } => {
            // `latest`: the newest run, so a script needs no id (run ids start with digits).
            let r = if run == "latest" {
                let mut runs = store.list().map_err(failure)?;
                runs.pop().ok_or_else(|| {
                    Failure::Input(anyhow!("no run in {} to show", cfg.local_store))
                })?
            } else {
                store.load(run).map_err(failure)?
            };
            if *as_json {
                return out(&json(&r)?);
            }
            let mut text = format!(
                "{} · {} · {} · {} .. {}\n",
                r.run_id,
                r.run.name,
                r.run.status,
                when(r.run.start_time),
                when(r.run.end_time)
            );
            let mut t = Table::new();
            t.set_header(vec!["metric", "step", "value"]);
            for m in &r.run.metrics {
                t.add_row(vec![
                    m.key.clone(),
                    m.step.to_string(),
                    format!("{:.6}", m.value),
                ]);
            }
            text.push_str(&format!("{t}\n"));
            for (k, v) in &r.run.tags {
                text.push_str(&format!("tag {k} = {v}\n"));
            }
            text.push_str(&format!(
                "{} params; artifacts: {}\n",
                r.run.params.len(),
                r.run
                    .artifacts
                    .iter()
                    .map(|a| a.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            out(&text)
        }
        ExperimentsCommand::Compare {
            runs,
            json: as_json,
        } => {
            let stored = runs
                .iter()
                .map(|r| store.load(r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(failure)?;
            let c = compare(&stored)?;
            if *as_json {
                return out(&json(&c)?);
            }
            out(&render_compare(&c))
        }
        ExperimentsCommand::Best {
            metric,
            json: as_json,
        } => {
            let all = store.list().map_err(failure)?;
            let mut ranked: Vec<(&StoredRun, f64)> = all
                .iter()
                .filter_map(|r| last_metric(r, metric).map(|v| (r, v)))
                .collect();
            if ranked.is_empty() {
                return Err(Failure::Input(anyhow!(
                    "no stored run has the metric `{metric}`"
                )));
            }
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let lead = match ranked.get(1) {
                Some((second, _)) => Some(sharpe_test(ranked[0].0, second)?),
                None => None,
            };
            let best = serde_json::json!({
                "metric": metric,
                "best": ranked[0].0.run_id,
                "name": ranked[0].0.run.name,
                "value": ranked[0].1,
                "runner_up": ranked.get(1).map(|r| r.0.run_id.clone()),
                "runner_up_value": ranked.get(1).map(|r| r.1),
                "sharpe_difference": lead,
            });
            if *as_json {
                return out(&json(&best)?);
            }
            let verdict = match &lead {
                Some(Some(d)) if d.p_value < 0.05 => format!(
                    "its Sharpe ratio is significantly different from the runner-up's (z {:.2}, p {:.3}, {} days)",
                    d.z, d.p_value, d.periods
                ),
                Some(Some(d)) => format!(
                    "its lead is not significant: the Sharpe ratios do not differ at 5% (z {:.2}, p {:.3}, {} days)",
                    d.z, d.p_value, d.periods
                ),
                Some(None) => "no equity curves in common to test the lead".into(),
                None => "the only run with this metric".into(),
            };
            out(&format!(
                "best by {metric}: {} ({}) = {:.6}; {verdict}\n",
                ranked[0].0.run_id, ranked[0].0.run.name, ranked[0].1
            ))
        }
        ExperimentsCommand::Ui { dir, port } => ui(&loaded.config, dir, *port),
        ExperimentsCommand::Sync { json: as_json } => {
            let report = qts_tracking::sync(cfg).map_err(failure)?;
            if *as_json {
                out(&json(&report)?)?;
            } else {
                out(&format!(
                    "sent {} run(s) to {}; {} already there; {} failed\n",
                    report.sent.len(),
                    cfg.tracking_uri,
                    report.already,
                    report.failed.len()
                ))?;
                for (id, why) in &report.failed {
                    out(&format!("  {id}: {why}\n"))?;
                }
            }
            if report.failed.is_empty() {
                Ok(())
            } else {
                Err(Failure::Runtime(anyhow!(
                    "{} run(s) could not be sent; they stay in {}",
                    report.failed.len(),
                    cfg.local_store
                )))
            }
        }
    }
}

/// A metric's last logged value (step 0 metrics have one).
fn last_metric(r: &StoredRun, key: &str) -> Option<f64> {
    r.run
        .metrics
        .iter()
        .rev()
        .find(|m| m.key == key)
        .map(|m| m.value)
}

/// A run's daily returns by day, from its stored `equity.csv`.
fn returns_of(r: &StoredRun) -> Result<Option<Vec<(chrono::NaiveDate, f64)>>, Failure> {
    let path = r.folder.join("artifacts/equity.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let series = qts_data::io::read_returns(&path)?;
    Ok(Some(
        series
            .time
            .iter()
            .map(|t| t.date())
            .zip(series.returns)
            .collect(),
    ))
}

/// The Jobson–Korkie–Memmel test of `a` against `b` on the days both have.
fn sharpe_test(
    a: &StoredRun,
    b: &StoredRun,
) -> Result<Option<qts_stats::significance::SharpeDifference>, Failure> {
    let (Some(ra), Some(rb)) = (returns_of(a)?, returns_of(b)?) else {
        return Ok(None);
    };
    let by_day: std::collections::HashMap<_, _> = rb.into_iter().collect();
    let (x, y): (Vec<f64>, Vec<f64>) = ra
        .iter()
        .filter_map(|(d, r)| by_day.get(d).map(|s| (*r, *s)))
        .unzip();
    Ok(qts_stats::significance::sharpe_difference(&x, &y).ok())
}

/// Runs side by side.
#[derive(serde::Serialize)]
struct Comparison {
    runs: Vec<String>,
    names: Vec<String>,
    /// Params whose values differ, with each run's value.
    params: Vec<(String, Vec<Option<String>>)>,
    /// Every metric, with each run's value.
    metrics: Vec<(String, Vec<Option<f64>>)>,
    /// Each later run's Sharpe difference from the first.
    significance: Vec<Option<qts_stats::significance::SharpeDifference>>,
    /// For training runs: each later model's Diebold–Mariano test against the first's, on the
    /// test forecasts both made of the same days (squared error, h = 1).
    forecast_significance: Vec<Option<qts_stats::significance::ForecastDifference>>,
}

/// Each later training run's Diebold–Mariano test against the first's, on the test
/// forecasts both stored (`model/test_predictions.csv`; h = 1).
fn forecast_test(
    a: &StoredRun,
    b: &StoredRun,
) -> Option<qts_stats::significance::ForecastDifference> {
    use qts_stats::significance::forecasts::{compare_forecasts, parse_test_forecasts};
    let read = |r: &StoredRun| {
        let path = r.folder.join("artifacts/model/test_predictions.csv");
        parse_test_forecasts(&std::fs::read_to_string(path).ok()?)
            .ok()
            .flatten()
    };
    compare_forecasts(&read(a)?, &read(b)?, 1)
}

fn compare(runs: &[StoredRun]) -> Result<Comparison, Failure> {
    let mut param_keys: Vec<String> = runs
        .iter()
        .flat_map(|r| r.run.params.iter().map(|(k, _)| k.clone()))
        .collect();
    param_keys.sort();
    param_keys.dedup();
    let params = param_keys
        .into_iter()
        .filter_map(|k| {
            let values: Vec<Option<String>> = runs
                .iter()
                .map(|r| {
                    r.run
                        .params
                        .iter()
                        .find(|(p, _)| *p == k)
                        .map(|p| p.1.clone())
                })
                .collect();
            values
                .windows(2)
                .any(|w| w[0] != w[1])
                .then_some((k, values))
        })
        .collect();
    let mut metric_keys: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.run
                .metrics
                .iter()
                .filter(|m| m.step == 0)
                .map(|m| m.key.clone())
        })
        .collect();
    metric_keys.sort();
    metric_keys.dedup();
    let metrics = metric_keys
        .into_iter()
        .map(|k| {
            let v = runs.iter().map(|r| last_metric(r, &k)).collect();
            (k, v)
        })
        .collect();
    let significance = runs[1..]
        .iter()
        .map(|r| sharpe_test(&runs[0], r))
        .collect::<Result<_, _>>()?;
    let forecast_significance = runs[1..]
        .iter()
        .map(|r| forecast_test(&runs[0], r))
        .collect();
    Ok(Comparison {
        runs: runs.iter().map(|r| r.run_id.clone()).collect(),
        names: runs.iter().map(|r| r.run.name.clone()).collect(),
        params,
        metrics,
        significance,
        forecast_significance,
    })
}

fn render_compare(c: &Comparison) -> String {
    let mut header = vec!["".to_string()];
    header.extend(c.names.iter().cloned());
    let mut t = Table::new();
    t.set_header(header.clone());
    for (k, v) in &c.params {
        let mut row = vec![k.clone()];
        row.extend(v.iter().map(|x| x.clone().unwrap_or_else(|| "-".into())));
        t.add_row(row);
    }
    let mut m = Table::new();
    m.set_header(header);
    for (k, v) in &c.metrics {
        let mut row = vec![k.clone()];
        row.extend(
            v.iter()
                .map(|x| x.map_or("-".into(), |x| format!("{x:.6}"))),
        );
        m.add_row(row);
    }
    let mut text = format!("Params that differ:\n{t}\nMetrics:\n{m}\n");
    if c.forecast_significance.iter().any(Option::is_some) {
        text.push_str(
            "Forecasts against the first run's (Diebold–Mariano, squared error, test days both forecast):\n",
        );
        for (name, d) in c.names[1..].iter().zip(&c.forecast_significance) {
            match d {
                Some(d) => text.push_str(&format!(
                    "  {name}: mean loss {:.6e} vs {:.6e}, DM {:.3}, p {:.4} over {} forecasts ({})\n",
                    d.mean_loss_a,
                    d.mean_loss_b,
                    d.statistic,
                    d.p_value,
                    d.periods,
                    if d.p_value < 0.05 {
                        "significant at 5%"
                    } else {
                        "not significant at 5%"
                    }
                )),
                None => text.push_str(&format!("  {name}: no test forecasts in common\n")),
            }
        }
    }
    text.push_str("Sharpe ratio against the first run (Jobson–Korkie–Memmel, days both traded):\n");
    for (name, s) in c.names[1..].iter().zip(&c.significance) {
        match s {
            Some(d) => text.push_str(&format!(
                "  {name}: z {:.3}, p {:.4} over {} days ({})\n",
                d.z,
                d.p_value,
                d.periods,
                if d.p_value < 0.05 {
                    "significant at 5%"
                } else {
                    "not significant at 5%"
                }
            )),
            None => text.push_str(&format!("  {name}: no equity curve in common\n")),
        }
    }
    text
}

/// The MLflow executable: `$QTS_MLFLOW`, the pinned venv of `scripts/mlflow-env.sh`, or
/// `mlflow` on the PATH.
fn mlflow_executable() -> Result<std::path::PathBuf, Failure> {
    if let Some(p) = std::env::var_os("QTS_MLFLOW") {
        return Ok(p.into());
    }
    let pinned = std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
        .join(".cache/qts/mlflow-3.17.2/bin/mlflow");
    if pinned.is_file() {
        return Ok(pinned);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("mlflow"))
            .find(|p| p.is_file())
    });
    on_path.ok_or_else(|| {
        Failure::Input(anyhow!(
            "MLflow is not installed: run `source scripts/mlflow-env.sh` (it installs mlflow==3.17.2 in ~/.cache/qts), or set QTS_MLFLOW to an mlflow executable"
        ))
    })
}

/// Runs `qts experiments ui`.
fn ui(cfg: &qts_config::QtsConfig, dir: &std::path::Path, port: u16) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Runtime(anyhow!("{}: {e}", dir.display())))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| Failure::Runtime(anyhow!("{}: {e}", dir.display())))?;
    let exe = mlflow_executable()?;
    let mut child = std::process::Command::new(&exe)
        .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--workers", "1"])
        .arg("--backend-store-uri")
        .arg(format!("sqlite:///{}", dir.join("mlflow.db").display()))
        .arg("--artifacts-destination")
        .arg(dir.join("artifacts"))
        .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| Failure::Runtime(anyhow!("{}: {e}", exe.display())))?;
    let uri = format!("http://127.0.0.1:{port}");
    let mut m = cfg.mlflow.clone();
    m.tracking_uri = uri.clone();
    let client = qts_tracking::Client::new(&m);
    // Ready when it answers /health; a server that exits (a taken port) is reported at once.
    let started = std::time::Instant::now();
    loop {
        if client.ready() {
            break;
        }
        if let Some(status) = child.try_wait().map_err(|e| Failure::Runtime(e.into()))? {
            return Err(Failure::Runtime(anyhow!(
                "mlflow server exited before it was ready ({status}); is port {port} taken? (--port N)"
            )));
        }
        if started.elapsed() > std::time::Duration::from_secs(180) {
            let _ = child.kill();
            return Err(Failure::Runtime(anyhow!(
                "mlflow server did not answer on {uri} within 180 s"
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let report = qts_tracking::sync(&m).map_err(|e| Failure::Runtime(e.into()));
    match &report {
        Ok(r) => eprintln!(
            "sent {} run(s) from {} ({} already there, {} failed)",
            r.sent.len(),
            cfg.mlflow.local_store,
            r.already,
            r.failed.len()
        ),
        Err(e) => eprintln!("warning: the runs could not be sent: {e:?}"),
    }
    println!(
        "MLflow UI: {uri} (database {}; Ctrl-C stops it)",
        dir.join("mlflow.db").display()
    );
    let status = child.wait().map_err(|e| Failure::Runtime(e.into()))?;
    tracing::info!(%status, "mlflow server stopped");
    Ok(())
}

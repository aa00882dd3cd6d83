//! Monitoring: the checks after each step (`monitoring` in `base_config.yaml`) and the
//! delivery of their alerts: a JSON line in `monitoring.alert_log`, a warning in the log, and
//! a POST to `monitoring.webhook_url` when one is set.
//!
//! Delivery is bounded: every attempt shares one deadline (`webhook_timeout_seconds`), so a
//! dead receiver never holds a step longer than that, and the URL (a secret: webhook URLs carry
//! their token) is never written anywhere; messages name its host only.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::settings::MonitoringConfig;
use qts_backtest::decide::Decision;
use serde::Serialize;

use crate::error::PaperError;

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The close it is about.
    pub day: String,
    /// `drawdown`, `daily_loss`, `stale_data` or `invalid_data`.
    pub kind: String,
    /// What happened, in words.
    pub message: String,
    /// The measured value, when there is one.
    pub value: Option<f64>,
    /// The configured threshold it crossed.
    pub threshold: Option<f64>,
}

/// The alerts of a step that was applied (nothing when monitoring is off).
pub fn check(decision: &Decision, day_return: f64, cfg: &MonitoringConfig) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if !cfg.enabled {
        return alerts;
    }
    if decision.drawdown <= -cfg.drawdown_alert {
        alerts.push(Alert {
            day: decision.as_of.clone(),
            kind: "drawdown".into(),
            message: format!(
                "drawdown {:.2}% from the peak passes the {:.2}% alert (equity {:.2})",
                -100.0 * decision.drawdown,
                100.0 * cfg.drawdown_alert,
                decision.equity
            ),
            value: Some(decision.drawdown),
            threshold: Some(-cfg.drawdown_alert),
        });
    }
    if day_return <= -cfg.daily_loss_alert {
        alerts.push(Alert {
            day: decision.as_of.clone(),
            kind: "daily_loss".into(),
            message: format!(
                "one-day loss {:.2}% passes the {:.2}% alert (equity {:.2})",
                -100.0 * day_return,
                100.0 * cfg.daily_loss_alert,
                decision.equity
            ),
            value: Some(day_return),
            threshold: Some(-cfg.daily_loss_alert),
        });
    }
    alerts
}

/// A model's live record against its validation figures, from the forecasts it followed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRecord {
    /// Forecasts judged (the window, or fewer early on).
    pub decisions: usize,
    /// Share of them on the right side of zero.
    pub live_accuracy: f64,
    /// The same share over the model's validation rows.
    pub validation_accuracy: f64,
    /// Share of outcomes inside the forecast interval (when the forecasts have one).
    pub live_coverage: Option<f64>,
    /// The same over the validation rows.
    pub validation_coverage: Option<f64>,
}

/// The live record of the forecasts in `signals` (aligned to `close`) over the last `window`
/// bars before `last` from `first` on, whose next close is known by `last`; `None` without
/// validation rows to compare with or before `window` forecasts were judged.
pub fn model_record(
    signals: &qts_backtest::strategy::SignalSeries,
    close: &[f64],
    first: usize,
    last: usize,
    window: usize,
) -> Option<ModelRecord> {
    let split = signals.split.as_ref()?;
    let judged = |rows: &mut dyn Iterator<Item = usize>| -> (usize, f64, Option<f64>) {
        let (mut n, mut hits, mut inside, mut with_interval) = (0usize, 0usize, 0usize, 0usize);
        for t in rows {
            let p = signals.prediction[t];
            if !p.is_finite() || t + 1 >= close.len() {
                continue;
            }
            let r = close[t + 1] / close[t] - 1.0;
            n += 1;
            hits += usize::from((p > 0.0) == (r > 0.0));
            if let (Some(lo), Some(hi)) = (&signals.lower, &signals.upper)
                && lo[t].is_finite()
                && hi[t].is_finite()
            {
                with_interval += 1;
                inside += usize::from(lo[t] <= r && r <= hi[t]);
            }
        }
        let coverage = (with_interval > 0).then(|| inside as f64 / with_interval as f64);
        (n, hits as f64 / n.max(1) as f64, coverage)
    };
    let (nv, validation_accuracy, validation_coverage) =
        judged(&mut (0..close.len()).filter(|&t| split[t] == "validation"));
    if nv == 0 || window == 0 {
        return None;
    }
    // The last `window` forecasts whose outcome is known at `last` (forecast at t, outcome t+1).
    let mut recent: Vec<usize> = (first..last)
        .rev()
        .filter(|&t| signals.prediction[t].is_finite())
        .take(window)
        .collect();
    recent.reverse();
    let (n, live_accuracy, live_coverage) = judged(&mut recent.into_iter());
    (n >= window).then_some(ModelRecord {
        decisions: n,
        live_accuracy,
        validation_accuracy,
        live_coverage,
        validation_coverage,
    })
}

/// The alerts of a model's live record: accuracy or coverage below the validation figure.
pub fn model_alerts(record: &ModelRecord, day: &str, cfg: &MonitoringConfig) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if !cfg.enabled {
        return alerts;
    }
    if record.live_accuracy < record.validation_accuracy {
        alerts.push(Alert {
            day: day.to_string(),
            kind: "model_accuracy".into(),
            message: format!(
                "the model's last {} forecasts were right {:.1}% of the time, below its {:.1}% on validation",
                record.decisions,
                100.0 * record.live_accuracy,
                100.0 * record.validation_accuracy
            ),
            value: Some(record.live_accuracy),
            threshold: Some(record.validation_accuracy),
        });
    }
    if let (Some(live), Some(val)) = (record.live_coverage, record.validation_coverage)
        && live < val
    {
        alerts.push(Alert {
            day: day.to_string(),
            kind: "model_coverage".into(),
            message: format!(
                "the model's intervals held {:.1}% of the last {} outcomes, below their {:.1}% on validation",
                100.0 * live,
                record.decisions,
                100.0 * val
            ),
            value: Some(live),
            threshold: Some(val),
        });
    }
    alerts
}

/// The alert of a step refused for its data (stale or invalid), if it is one; `day` is the
/// day asked for.
pub fn alert_for(error: &PaperError, day: &str, cfg: &MonitoringConfig) -> Option<Alert> {
    if !cfg.enabled {
        return None;
    }
    let kind = match error {
        PaperError::Backtest(qts_backtest::BacktestError::Stale { .. }) => "stale_data",
        PaperError::Data(qts_data::DataError::Invalid { .. })
        | PaperError::Backtest(qts_backtest::BacktestError::Data(qts_data::DataError::Invalid {
            ..
        })) => "invalid_data",
        _ => return None,
    };
    Some(Alert {
        day: day.to_string(),
        kind: kind.into(),
        message: format!("step refused: {error}"),
        value: None,
        threshold: None,
    })
}

/// What became of one alert's delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The alert's kind.
    pub kind: String,
    /// Whether the webhook took it (false also when no webhook is set).
    pub delivered: bool,
    /// Attempts made.
    pub attempts: u32,
    /// Why it was not delivered, if it was not.
    pub error: Option<String>,
}

/// Logs, appends and posts `alerts`.
///
/// # Errors
/// [`PaperError::Write`] when the alert log cannot be appended to (the webhook's failures are
/// reported in the [`Delivery`], not as errors: a step is not undone by a dead receiver).
pub fn deliver(alerts: &[Alert], cfg: &MonitoringConfig) -> Result<Vec<Delivery>, PaperError> {
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    append_log(Path::new(&cfg.alert_log), alerts)?;
    let deadline = Instant::now() + Duration::from_secs_f64(cfg.webhook_timeout_seconds);
    let url = cfg.webhook_url.expose();
    let mut out = Vec::new();
    for a in alerts {
        tracing::warn!(kind = %a.kind, day = %a.day, "alert: {}", a.message);
        if url.is_empty() {
            out.push(Delivery {
                kind: a.kind.clone(),
                delivered: false,
                attempts: 0,
                error: None,
            });
            continue;
        }
        let d = post(url, a, cfg.webhook_attempts, deadline);
        match &d.error {
            Some(e) => tracing::warn!(
                host = %qts_core::url::host(url),
                attempts = d.attempts,
                "alert not delivered to the webhook: {e}"
            ),
            None => {
                tracing::info!(host = %qts_core::url::host(url), attempts = d.attempts, "alert delivered")
            }
        }
        out.push(d);
    }
    Ok(out)
}

fn append_log(path: &Path, alerts: &[Alert]) -> Result<(), PaperError> {
    let err = |source| PaperError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut text = String::new();
    for a in alerts {
        text.push_str(&serde_json::to_string(a).unwrap_or_default());
        text.push('\n');
    }
    // One write of whole lines in append mode: readers never see half a line.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(err)
}

/// Posts one alert (Slack-compatible: a `text` field, the alert beside it), retrying 5xx, 429
/// and connection failures until `attempts` or the deadline.
fn post(url: &str, alert: &Alert, attempts: u32, deadline: Instant) -> Delivery {
    let body = serde_json::json!({
        "text": format!("qts alert ({}, {}): {}", alert.kind, alert.day, alert.message),
        "alert": alert,
    })
    .to_string();
    let mut tried = 0;
    let mut last_error = String::from("no time left before the deadline");
    let mut pause = Duration::from_millis(200);
    while tried < attempts {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        tried += 1;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(left))
            .http_status_as_error(false)
            .build()
            .into();
        let retry = match agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
        {
            Ok(r) if r.status().is_success() => {
                return Delivery {
                    kind: alert.kind.clone(),
                    delivered: true,
                    attempts: tried,
                    error: None,
                };
            }
            Ok(r) => {
                let s = r.status().as_u16();
                last_error = format!("HTTP {s}");
                s == 429 || s >= 500
            }
            // The error's text may quote the URL: only its kind is kept.
            Err(e) => {
                last_error = describe(&e);
                true
            }
        };
        if !retry {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if tried < attempts && left > pause {
            std::thread::sleep(pause);
            pause *= 2;
        } else if tried < attempts {
            break;
        }
    }
    Delivery {
        kind: alert.kind.clone(),
        delivered: false,
        attempts: tried,
        error: Some(last_error),
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        ureq::Error::Io(io) => format!("I/O error ({:?})", io.kind()),
        _ => "request failed".into(),
    }
}

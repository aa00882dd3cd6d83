//! Tracked runs as a person reads them in a terminal: the store's list, one run, runs side by
//! side, the best by a metric.

use comfy_table::Table;
use qts_stats::significance::{LEVEL, level_text};
use qts_tracking::StoredRun;
use qts_tracking::compare::{Best, Comparison};

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn significant(p: f64) -> String {
    format!(
        "{}significant at {}",
        if p < LEVEL { "" } else { "not " },
        level_text(LEVEL)
    )
}

/// The runs of the store in `store`.
pub fn list(runs: &[StoredRun], store: &str) -> String {
    let mut t = Table::new();
    t.set_header(vec![
        "run",
        "started",
        "experiment",
        "name",
        "status",
        "sent to",
    ]);
    for r in runs {
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
    format!("{} run(s) in {store}\n{t}\n", runs.len())
}

/// One run: its name, status and span, metrics, tags, params and artifacts.
pub fn show(r: &StoredRun) -> String {
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
    text
}

/// Runs side by side: the params that differ, every metric, the tests against the first.
pub fn compare(c: &Comparison) -> String {
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
    let later = c.names.get(1..).unwrap_or_default();
    let mut text = format!("Params that differ:\n{t}\nMetrics:\n{m}\n");
    if c.forecast_significance.iter().any(Option::is_some) {
        text.push_str(
            "Forecasts against the first run's (Diebold–Mariano, squared error, test days both forecast):\n",
        );
        for (name, d) in later.iter().zip(&c.forecast_significance) {
            match d {
                Some(d) => text.push_str(&format!(
                    "  {name}: mean loss {:.6e} vs {:.6e}, DM {:.3}, p {:.4} over {} forecasts ({})\n",
                    d.mean_loss_a,
                    d.mean_loss_b,
                    d.statistic,
                    d.p_value,
                    d.periods,
                    significant(d.p_value)
                )),
                None => text.push_str(&format!("  {name}: no test forecasts in common\n")),
            }
        }
    }
    text.push_str("Sharpe ratio against the first run (Jobson–Korkie–Memmel, days both traded):\n");
    for (name, s) in later.iter().zip(&c.significance) {
        match s {
            Some(d) => text.push_str(&format!(
                "  {name}: z {:.3}, p {:.4} over {} days ({})\n",
                d.z,
                d.p_value,
                d.periods,
                significant(d.p_value)
            )),
            None => text.push_str(&format!("  {name}: no equity curve in common\n")),
        }
    }
    text
}

/// The best run by a metric, and whether its lead over the runner-up is significant.
pub fn best(b: &Best) -> String {
    let verdict = match &b.sharpe_difference {
        Some(Some(d)) if d.p_value < LEVEL => format!(
            "its Sharpe ratio is significantly different from the runner-up's (z {:.2}, p {:.3}, {} days)",
            d.z, d.p_value, d.periods
        ),
        Some(Some(d)) => format!(
            "its lead is not significant: the Sharpe ratios do not differ at {} (z {:.2}, p {:.3}, {} days)",
            level_text(LEVEL),
            d.z,
            d.p_value,
            d.periods
        ),
        Some(None) => "no equity curves in common to test the lead".into(),
        None => "the only run with this metric".into(),
    };
    format!(
        "best by {}: {} ({}) = {:.6}; {verdict}\n",
        b.metric, b.best, b.name, b.value
    )
}

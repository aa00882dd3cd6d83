//! `qts metrics`: the return metrics of any daily series.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use chrono::NaiveDateTime;
use comfy_table::Table;
use qts_backtest::metrics::{Metrics, MetricsConfig, return_metrics, simple_returns};
use qts_core::logging::RunContext;
use qts_data::io::{Format, read_bars, read_csv_table};

use super::setup::{load_config, start_logging};
use crate::cli::{GlobalArgs, MetricsArgs, SectionFiles};
use crate::failure::Failure;

/// A dated return series: the returns and the date each one ends on.
pub struct Series {
    /// Dates.
    pub time: Vec<NaiveDateTime>,
    /// Simple returns.
    pub returns: Vec<f64>,
}

/// Reads `date,return`, or `date,close|equity|adj_close` (simple returns are taken), or a
/// Parquet bar file's closes.
pub fn load_series(path: &Path) -> Result<Series, Failure> {
    let from_levels = |time: Vec<NaiveDateTime>, levels: Vec<f64>| Series {
        returns: simple_returns(&levels),
        time: time.into_iter().skip(1).collect(),
    };
    if Format::of(path)? == Format::Parquet {
        let bars = read_bars(path)?;
        return Ok(from_levels(bars.time, bars.close));
    }
    let table = read_csv_table(path)?;
    if table.time.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Failure::Input(anyhow!(
            "{}: dates must be unique and ascending",
            path.display()
        )));
    }
    let series = if let Some(r) = table.column("return") {
        Series {
            returns: r.to_vec(),
            time: table.time.clone(),
        }
    } else if let Some(c) = ["close", "equity", "adj_close"]
        .iter()
        .find_map(|n| table.column(n))
    {
        from_levels(table.time.clone(), c.to_vec())
    } else {
        return Err(Failure::Input(anyhow!(
            "{}: needs a `return` column, or a `close` or `equity` column; found {}",
            path.display(),
            table.names().join(",")
        )));
    };
    if let Some(i) = series.returns.iter().position(|r| !r.is_finite()) {
        return Err(Failure::Input(anyhow!(
            "{}: the return ending {} is missing or not finite; fill or drop that row",
            path.display(),
            series.time[i].date()
        )));
    }
    Ok(series)
}

/// The benchmark's returns on each of `time`'s dates, as simple returns between those dates.
pub fn align_benchmark(
    time: &[NaiveDateTime],
    bench: &Series,
    path: &Path,
) -> Result<Vec<f64>, Failure> {
    time.iter()
        .map(|t| {
            bench
                .time
                .binary_search(t)
                .map(|i| bench.returns[i])
                .map_err(|_| {
                    Failure::Input(anyhow!(
                        "{}: no benchmark return for {}",
                        path.display(),
                        t.date()
                    ))
                })
        })
        .collect()
}

/// Prints metrics as a table or JSON.
pub fn print(m: &Metrics, json: Option<serde_json::Value>) -> Result<(), Failure> {
    let text = match json {
        Some(v) => serde_json::to_string_pretty(&v).map_err(|e| Failure::Runtime(e.into()))? + "\n",
        None => {
            let mut t = Table::new();
            t.set_header(vec!["metric", "value"]);
            for (k, v) in m {
                let shown = match v {
                    qts_backtest::metrics::Value::Count(c) => c.to_string(),
                    qts_backtest::metrics::Value::Number(x) if x.is_finite() => format!("{x:.6}"),
                    _ => "n/a".into(),
                };
                t.add_row(vec![k.to_string(), shown]);
            }
            format!("{t}\n")
        }
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

/// Runs `qts metrics`.
pub fn run(global: &GlobalArgs, args: &MetricsArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let span = RunContext::new("metrics").span();
    let _run = span.enter();
    let m_cfg = &loaded.config.backtest.metrics;
    let cfg = MetricsConfig {
        periods_per_year: f64::from(args.periods.unwrap_or(m_cfg.periods_per_year)),
        risk_free_annual: args.risk_free.unwrap_or(m_cfg.risk_free_rate),
        var_confidence: m_cfg.var_confidence,
    };
    if cfg.periods_per_year <= 0.0 || cfg.risk_free_annual <= -1.0 || cfg.risk_free_annual.is_nan()
    {
        return Err(Failure::Input(anyhow!(
            "--periods must be positive and --risk-free above -1"
        )));
    }
    let series = load_series(&args.returns)?;
    if series.returns.len() < 2 {
        return Err(Failure::Input(anyhow!(
            "{}: fewer than two returns",
            args.returns.display()
        )));
    }
    let bench = match &args.benchmark {
        Some(p) => Some(align_benchmark(&series.time, &load_series(p)?, p)?),
        None => None,
    };
    let m = return_metrics(&series.returns, bench.as_deref(), &cfg);
    let json = args.json.then(|| {
        let mut v = serde_json::to_value(&m).unwrap_or_default();
        v["periods"] = series.returns.len().into();
        v["first"] = series.time[0].date().to_string().into();
        v["last"] = series.time[series.time.len() - 1].date().to_string().into();
        v
    });
    print(&m, json)
}

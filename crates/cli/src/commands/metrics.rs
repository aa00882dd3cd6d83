//! `qts metrics`: the return metrics of any daily series.

use anyhow::anyhow;
use comfy_table::Table;
use qts_core::logging::RunContext;
use qts_data::io::read_returns;
use qts_stats::metrics::{Value, align_benchmark, return_metrics};

use crate::cli::{GlobalArgs, MetricsArgs, SectionFiles};
use crate::failure::Failure;
use crate::setup::{load_config, start_logging};

/// Prints metrics as a table or JSON.
pub fn print(m: &[(&'static str, Value)], json: Option<serde_json::Value>) -> Result<(), Failure> {
    let text = match json {
        Some(v) => serde_json::to_string_pretty(&v).map_err(|e| Failure::Runtime(e.into()))? + "\n",
        None => {
            let mut t = Table::new();
            t.set_header(vec!["metric", "value"]);
            for (k, v) in m {
                let shown = match v {
                    Value::Count(c) => c.to_string(),
                    Value::Number(x) if x.is_finite() => format!("{x:.6}"),
                    _ => "n/a".into(),
                };
                t.add_row(vec![k.to_string(), shown]);
            }
            format!("{t}\n")
        }
    };
    crate::output::print(&text)
}

/// Runs `qts metrics`.
pub fn run(global: &GlobalArgs, args: &MetricsArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let span = RunContext::new("metrics").span();
    let _run = span.enter();
    let mut cfg = loaded.config.backtest.metrics.to_stats();
    if let Some(p) = args.periods {
        cfg.periods_per_year = f64::from(p);
    }
    if let Some(r) = args.risk_free {
        cfg.risk_free_annual = r;
    }
    if cfg.periods_per_year <= 0.0 || cfg.risk_free_annual <= -1.0 || cfg.risk_free_annual.is_nan()
    {
        return Err(Failure::Input(anyhow!(
            "--periods must be positive and --risk-free above -1"
        )));
    }
    let series = read_returns(&args.returns)?;
    if series.returns.len() < 2 {
        return Err(Failure::Input(anyhow!(
            "{}: fewer than two returns",
            args.returns.display()
        )));
    }
    let bench = match &args.benchmark {
        Some(p) => {
            let b = read_returns(p)?;
            Some(align_benchmark(
                &series.time,
                &b.time,
                &b.returns,
                &p.display().to_string(),
            )?)
        }
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
    let shown: Vec<_> = m.iter().map(|(k, v)| (k.key(), *v)).collect();
    print(&shown, json)
}

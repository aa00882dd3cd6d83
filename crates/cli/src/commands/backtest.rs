//! `qts backtest`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;
use qts_backtest::engine::{EngineConfig, check_bars, run as run_engine};
use qts_backtest::metrics::MetricsConfig;
use qts_backtest::strategy::{
    BuyAndHold, RegimeFilter, SignalSeries, SignalStrategy, SmaCross, Strategy,
};
use qts_backtest::summary::summarize;
use qts_backtest::{BacktestError, BacktestResult};
use qts_core::config::QtsConfig;
use qts_core::logging::RunContext;
use qts_data::BarSeries;
use qts_data::io::{read_bars, read_csv_table};
use qts_data::validate::Summary;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::metrics::{align_benchmark, load_series, print};
use super::setup::{load_config, start_logging};
use crate::cli::{BacktestArgs, ExecutionArg, GlobalArgs, SectionFiles};
use crate::failure::Failure;

/// Runs `qts backtest`.
pub fn run(global: &GlobalArgs, args: &BacktestArgs) -> Result<(), Failure> {
    // --cash and --commission are overrides like any --set: validated with the rest.
    let mut global_with = global.clone();
    if let Some(cash) = args.cash {
        global_with
            .overrides
            .push(format!("backtest.initial_capital={cash}"));
    }
    if let Some(c) = args.commission {
        global_with
            .overrides
            .push("backtest.costs.commission_model=percent".into());
        global_with
            .overrides
            .push(format!("backtest.costs.commission_rate={c}"));
    }
    let files = SectionFiles {
        backtest: args.config.clone(),
        ..SectionFiles::default()
    };
    let loaded = load_config(&global_with, &files)?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;

    let mut bars = Vec::new();
    let mut validation = Summary::default();
    let mut data_hash = Sha256::new();
    for path in &args.data {
        let b = read_bars(path)?;
        let s = super::data::require_valid(path, &b, cfg)?;
        validation.errors += s.errors;
        validation.warnings += s.warnings;
        validation.infos += s.infos;
        data_hash.update(std::fs::read(path).map_err(|e| Failure::Runtime(e.into()))?);
        bars.push(b);
    }
    check_bars(&bars)?;
    let symbol = bars
        .iter()
        .map(|b| b.symbol.clone())
        .collect::<Vec<_>>()
        .join(",");
    let span = RunContext::new("backtest").symbol(symbol).span();
    let _run = span.enter();

    let mut strategy = build_strategy(args, cfg, &bars)?;
    let mut engine = EngineConfig::from_config(cfg);
    if args.execution == ExecutionArg::BacktestingPy {
        engine = engine.backtesting_py();
    }
    let started = std::time::Instant::now();
    let result = run_engine(&bars, strategy.as_mut(), &engine)?;
    let m_cfg = MetricsConfig {
        periods_per_year: f64::from(cfg.backtest.metrics.periods_per_year),
        risk_free_annual: cfg.backtest.metrics.risk_free_rate,
        var_confidence: cfg.backtest.metrics.var_confidence,
    };
    let bench = match &args.benchmark {
        Some(p) => Some(align_benchmark(&result.time[1..], &load_series(p)?, p)?),
        None => None,
    };
    let metrics = summarize(&result, &bars[0].close, bench.as_deref(), &m_cfg);
    tracing::info!(
        trades = result.trades.len(),
        micros = started.elapsed().as_micros() as u64,
        "backtest finished"
    );

    let mut object = serde_json::to_value(&metrics).map_err(|e| Failure::Runtime(e.into()))?;
    object["strategy"] = result.strategy.clone().into();
    object["execution"] = serde_json::to_value(engine.execution).unwrap_or_default();
    object["symbols"] = json!(result.symbols);
    object["start"] = json!(result.time.first().map(|t| t.date().to_string()));
    object["end"] = json!(result.time.last().map(|t| t.date().to_string()));
    object["open_positions"] = json!(result.open_positions);
    object["validation"] = json!(validation);
    object["stamp"] = json!({
        "qts_version": env!("CARGO_PKG_VERSION"),
        "data_hash": hex(&data_hash.finalize()),
        "config_hash": loaded.config.fingerprint(),
        "files": args.data.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    });
    if let Some(dir) = &args.out {
        write_outputs(dir, &result, &object)?;
    }
    let shown = filter_report(&metrics, &cfg.backtest.metrics.report);
    print(&shown, args.json.then_some(object))?;
    if let Some(dir) = &args.out
        && !args.json
    {
        println!(
            "wrote stats.json, trades.csv and equity.csv to {}",
            dir.display()
        );
    }
    Ok(())
}

fn filter_report(
    m: &qts_backtest::metrics::Metrics,
    report: &[String],
) -> qts_backtest::metrics::Metrics {
    if report.is_empty() {
        return m.clone();
    }
    m.iter()
        .filter(|(k, _)| report.iter().any(|r| r == *k))
        .map(|(k, v)| (*k, *v))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn parse_params(args: &BacktestArgs) -> Result<Vec<(String, String)>, Failure> {
    args.params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    Failure::Input(anyhow!("--param {p}: expected KEY=VALUE, e.g. fast=10"))
                })
        })
        .collect()
}

fn build_strategy(
    args: &BacktestArgs,
    cfg: &QtsConfig,
    bars: &[BarSeries],
) -> Result<Box<dyn Strategy>, Failure> {
    let params = parse_params(args)?;
    let name = args.strategy.as_str();
    let bad = |param: &str, reason: String| {
        Failure::Input(
            BacktestError::Parameter {
                strategy: name.into(),
                param: param.into(),
                reason,
            }
            .into(),
        )
    };
    let allowed: &[&str] = match name {
        "sma-cross" => &["fast", "slow"],
        "buy-and-hold" => &[],
        "signal" => &["long_above", "short_below"],
        other => return Err(BacktestError::UnknownStrategy(other.into()).into()),
    };
    for (k, _) in &params {
        if !allowed.contains(&k.as_str()) {
            let known = if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            };
            return Err(bad(k, format!("unknown parameter (known: {known})")));
        }
    }
    let get = |k: &str| {
        params
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let int = |k: &str, default: usize| -> Result<usize, Failure> {
        get(k).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| bad(k, format!("`{v}` is not a whole number")))
        })
    };
    let real = |k: &str, default: f64| -> Result<f64, Failure> {
        get(k).map_or(Ok(default), |v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| !x.is_nan())
                .ok_or_else(|| bad(k, format!("`{v}` is not a number")))
        })
    };
    let inner: Box<dyn Strategy> = match name {
        "sma-cross" => Box::new(SmaCross::new(int("fast", 10)?, int("slow", 20)?)?),
        "buy-and-hold" => Box::new(BuyAndHold::default()),
        _ => {
            let Some(path) = &args.signals else {
                return Err(Failure::Input(anyhow!(
                    "--strategy signal needs --signals FILE (date,prediction[,lower,upper])"
                )));
            };
            if bars.len() != 1 {
                return Err(Failure::Input(anyhow!(
                    "--strategy signal trades one symbol: give one --data file"
                )));
            }
            let series = load_signals(path, &bars[0])?;
            Box::new(SignalStrategy::new(
                series,
                real("long_above", 0.0)?,
                real("short_below", f64::NEG_INFINITY)?,
            )?)
        }
    };
    let rf = &cfg.backtest.regime_filter;
    Ok(if rf.enabled {
        Box::new(RegimeFilter::new(inner, rf.ma, rf.period))
    } else {
        inner
    })
}

fn load_signals(path: &Path, bars: &BarSeries) -> Result<SignalSeries, Failure> {
    let t = read_csv_table(path)?;
    let Some(pred) = t.column("prediction") else {
        return Err(Failure::Input(anyhow!(
            "{}: needs a `prediction` column (and optionally `lower`, `upper`); found {}",
            path.display(),
            t.names().join(",")
        )));
    };
    let (lo, hi) = (t.column("lower"), t.column("upper"));
    let rows: Vec<_> = (0..t.time.len())
        .map(|i| (t.time[i], pred[i], lo.map(|c| c[i]), hi.map(|c| c[i])))
        .collect();
    Ok(SignalSeries::align(&bars.time, &rows))
}

fn write_outputs(dir: &Path, r: &BacktestResult, stats: &serde_json::Value) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Runtime(anyhow!("{}: {e}", dir.display())))?;
    let write = |name: &str, text: String| -> Result<(), Failure> {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| Failure::Runtime(anyhow!("{}: cannot write: {e}", path.display())))
    };
    write(
        "stats.json",
        serde_json::to_string_pretty(stats).map_err(|e| Failure::Runtime(e.into()))? + "\n",
    )?;
    let mut trades = String::from(
        "entry_time,exit_time,side,size,entry_price,exit_price,pnl,return,commission,duration_days\n",
    );
    for t in &r.trades {
        let _ = writeln!(
            trades,
            "{},{},{},{},{},{},{},{},{},{}",
            t.entry_time.date(),
            t.exit_time.date(),
            t.side,
            t.size,
            t.entry_price,
            t.exit_price,
            t.pnl,
            t.ret,
            t.commission,
            t.duration_days
        );
    }
    write("trades.csv", trades)?;
    let mut equity = String::from("date,equity,cash,drawdown\n");
    for i in 0..r.time.len() {
        let _ = writeln!(
            equity,
            "{},{},{},{}",
            r.time[i].date(),
            r.equity[i],
            r.cash[i],
            r.drawdown[i]
        );
    }
    write("equity.csv", equity)
}

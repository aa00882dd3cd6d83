//! `qts monte-carlo`: flags → [`qts_stats::monte_carlo::simulate`] → table or JSON.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use comfy_table::Table;
use qts_core::logging::RunContext;
use qts_data::io::read_returns;
use qts_stats::monte_carlo::{Interval, Method, Request, simulate};

use super::setup::{load_config, start_logging};
use crate::cli::{GlobalArgs, MonteCarloArgs, MonteCarloMethod, SectionFiles};
use crate::failure::Failure;

/// The `trades` sample of a result folder: `trades.csv`'s entries and P&Ls against
/// `equity.csv` ([`qts_stats::monte_carlo::trade_sample`]).
fn trade_returns(dir: &Path, periods: usize, per_year: f64) -> Result<(Vec<f64>, f64), Failure> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path)
            .map_err(|e| Failure::Input(anyhow!("{}: cannot read: {e}", path.display())))
            .map(|t| (path, t))
    };
    let (epath, equity) = read("equity.csv")?;
    let by_date: Vec<(chrono::NaiveDate, f64)> = equity
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cells = l.split(',');
            Some((cells.next()?.parse().ok()?, cells.next()?.parse().ok()?))
        })
        .collect();
    let (tpath, trades) = read("trades.csv")?;
    let mut lines = trades.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            Failure::Input(anyhow!(
                "{}: no `{name}` column (a trades.csv of `qts backtest --out`)",
                tpath.display()
            ))
        })
    };
    let (entry, pnl) = (col("entry_time")?, col("pnl")?);
    let rows: Vec<(usize, &str)> = lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let entries: Vec<_> = rows
        .iter()
        .map(|(_, l)| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells.get(entry).and_then(|d| d.trim().parse().ok()),
                cells.get(pnl).and_then(|v| v.trim().parse::<f64>().ok()),
            )
        })
        .collect();
    qts_stats::monte_carlo::trade_sample(&entries, &by_date, periods, per_year).map_err(|k| {
        Failure::Input(anyhow!(
            "{}:{}: the trade's pnl is not a number, or its entry date is not in {}",
            tpath.display(),
            rows[k].0 + 2,
            epath.display()
        ))
    })
}

/// Runs `qts monte-carlo`.
pub fn run(global: &GlobalArgs, args: &MonteCarloArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let span = RunContext::new("monte-carlo").span();
    let _run = span.enter();
    let cfg = &loaded.config;
    let periods = f64::from(cfg.backtest.metrics.periods_per_year);
    let equity_file = match (&args.returns, &args.run) {
        (Some(f), _) => f.clone(),
        (None, Some(dir)) => {
            qts_core::fs::check_result_dir(dir)
                .map_err(|e| Failure::Input(anyhow!("--run {e}")))?;
            dir.join("equity.csv")
        }
        (None, None) => return Err(Failure::Input(anyhow!("give --returns FILE or --run DIR"))),
    };
    let returns = read_returns(&equity_file)?.returns;
    let mc = &cfg.backtest.monte_carlo;
    let method = args
        .method
        .map_or(mc.method, MonteCarloMethod::into)
        .with_block_size(args.block_size.unwrap_or(mc.block_size));
    let trades = method == Method::Trades;
    let (sample, periods_per_year) = if trades {
        let Some(dir) = &args.run else {
            return Err(Failure::Input(anyhow!(
                "--method trades needs --run DIR (the trades.csv of `qts backtest --out`)"
            )));
        };
        trade_returns(dir, returns.len(), periods)?
    } else {
        (returns, periods)
    };
    let report = simulate(&Request {
        sample: &sample,
        periods_per_year,
        method,
        paths: args.paths.unwrap_or(mc.simulations),
        seed: args.seed.unwrap_or(cfg.reproducibility.seed),
        horizon: args.horizon,
        level: args.level.unwrap_or(mc.confidence),
        drawdown: args.drawdown,
        initial: cfg.backtest.initial_capital,
    })?;
    let start_ms = super::track::now_ms();
    let mut json = serde_json::to_value(&report).map_err(|e| Failure::Runtime(e.into()))?;
    json["source"] = serde_json::Value::String(if trades {
        format!(
            "the trades of {}",
            args.run.as_deref().unwrap_or(Path::new("?")).display()
        )
    } else {
        equity_file.display().to_string()
    });
    let pretty =
        serde_json::to_string_pretty(&json).map_err(|e| Failure::Runtime(e.into()))? + "\n";
    // The files read, hashed, so `qts reproduce` can tell whether they changed.
    let mut read = vec![equity_file.clone()];
    if trades && let Some(dir) = &args.run {
        read.push(dir.join("trades.csv"));
    }
    let mut bytes = Vec::new();
    for f in &read {
        bytes
            .extend(std::fs::read(f).map_err(|e| Failure::Input(anyhow!("{}: {e}", f.display())))?);
    }
    let data = super::track::data_tags(
        &qts_core::hex::sha256(&bytes),
        &read
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>(),
    );
    super::track::monte_carlo(&loaded, &report, &json, data, start_ms)?;
    if let Some(dir) = &args.out {
        super::backtest::write_result(dir, &[("monte_carlo.json", pretty.as_bytes())])?;
    }
    if let Some(path) = &args.report {
        super::report::write_page(path, &qts_report::html::monte_carlo_page(&json))?;
    }
    let text = if args.json {
        pretty
    } else {
        let mut t = Table::new();
        t.set_header(vec![
            "metric".to_string(),
            "mean".into(),
            format!("{:.1}% lower", report.level * 100.0),
            "median".into(),
            "upper".into(),
        ]);
        let rows: [(&str, &Interval); 6] = [
            ("final_equity", &report.final_equity),
            ("cagr", &report.cagr),
            ("mean_return", &report.mean_return),
            ("sharpe_ratio", &report.sharpe_ratio),
            ("max_drawdown", &report.max_drawdown),
            ("annual_volatility", &report.annual_volatility),
        ];
        for (k, i) in rows {
            t.add_row(vec![
                k.to_string(),
                format!("{:.6}", i.mean),
                format!("{:.6}", i.lower),
                format!("{:.6}", i.median),
                format!("{:.6}", i.upper),
            ]);
        }
        format!(
            "{} paths of {} periods ({} resampling, seed {})\n{t}\nprobability of a loss {:.4}; of a drawdown beyond {:.0}% {:.4}\n",
            report.paths,
            report.horizon,
            report.method,
            report.seed,
            report.prob_loss,
            report.drawdown_threshold * 100.0,
            report.prob_drawdown_beyond
        )
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

//! `qts report RUN_DIR` and `qts backtest --report FILE`: a result → the HTML page of
//! [`qts_backtest::html`].

use std::path::Path;

use anyhow::anyhow;
use chrono::NaiveDate;
use qts_backtest::BacktestReport;
use qts_backtest::html::{RunData, TradeRow, backtest_page};

use super::setup::{load_config, start_logging};
use crate::cli::{GlobalArgs, ReportArgs, SectionFiles};
use crate::failure::Failure;

/// The page's data from a report just computed.
pub fn from_report(r: &BacktestReport, stats: &serde_json::Value) -> RunData {
    RunData {
        stats: stats.clone(),
        days: r.result.time.iter().map(|t| t.date()).collect(),
        equity: r.result.equity.clone(),
        drawdown: r.result.drawdown.clone(),
        buy_and_hold: r.buy_and_hold_equity.clone(),
        trades: r
            .result
            .trades
            .iter()
            .map(|t| TradeRow {
                entry: t.entry_time.date(),
                exit: t.exit_time.date(),
                ret: t.ret,
            })
            .collect(),
    }
}

/// Writes the page atomically and says where, last.
pub fn write_page(path: &Path, page: &str) -> Result<(), Failure> {
    qts_core::fs::write_atomic(path, page.as_bytes())
        .map_err(|e| Failure::Runtime(anyhow!("{}: cannot write: {e}", path.display())))?;
    eprintln!(
        "report: {} ({} KB)",
        path.display(),
        page.len().div_ceil(1024)
    );
    Ok(())
}

fn bad(path: &Path, row: usize, what: &str) -> Failure {
    Failure::Input(anyhow!("{}:{row}: {what}", path.display()))
}

/// The page's data from a result folder.
pub fn from_dir(dir: &Path) -> Result<RunData, Failure> {
    qts_core::fs::check_result_dir(dir).map_err(|e| Failure::Input(anyhow!("{e}")))?;
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| Failure::Input(anyhow!("{}: {e}", dir.join(name).display())))
    };
    let stats: serde_json::Value = serde_json::from_str(&read("stats.json")?)
        .map_err(|e| Failure::Input(anyhow!("{}: {e}", dir.join("stats.json").display())))?;
    let mut d = RunData {
        stats,
        ..RunData::default()
    };
    let path = dir.join("equity.csv");
    let text = read("equity.csv")?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n);
    let (Some(e), Some(dd)) = (col("equity"), col("drawdown")) else {
        return Err(bad(&path, 1, "needs equity and drawdown columns"));
    };
    let bh = col("buy_and_hold");
    for (i, line) in lines.enumerate() {
        let c: Vec<&str> = line.split(',').collect();
        let num = |k: usize| c.get(k).and_then(|x| x.parse::<f64>().ok());
        let day = c.first().and_then(|x| x.parse::<NaiveDate>().ok());
        let (Some(day), Some(eq), Some(dr)) = (day, num(e), num(dd)) else {
            return Err(bad(
                &path,
                i + 2,
                "a row that is not date,equity,…,drawdown",
            ));
        };
        d.days.push(day);
        d.equity.push(eq);
        d.drawdown.push(dr);
        if let Some(b) = bh.and_then(num) {
            d.buy_and_hold.push(b);
        }
    }
    let path = dir.join("trades.csv");
    let text = read("trades.csv")?;
    for (i, line) in text.lines().enumerate().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        match (
            c.first().and_then(|x| x.parse().ok()),
            c.get(1).and_then(|x| x.parse().ok()),
            c.get(7).and_then(|x| x.parse::<f64>().ok()),
        ) {
            (Some(entry), Some(exit), Some(ret)) => d.trades.push(TradeRow { entry, exit, ret }),
            _ => return Err(bad(&path, i + 1, "a row that is not a trade")),
        }
    }
    Ok(d)
}

/// Runs `qts report`.
pub fn run(global: &GlobalArgs, args: &ReportArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let data = from_dir(&args.run)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run.join("report.html"));
    write_page(&out, &backtest_page(&data))
}

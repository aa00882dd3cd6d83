//! `qts report RUN_DIR` and `qts backtest --report FILE`: a result → the HTML page of
//! [`qts_report::html`].

use std::path::Path;

use anyhow::anyhow;
use chrono::NaiveDate;
use qts_backtest::BacktestReport;
use qts_report::html::{RunData, TradeRow, backtest_page};

use super::setup::{load_config, start_logging};
use crate::cli::{GlobalArgs, ReportArgs, SectionFiles};
use crate::failure::Failure;

/// The page's data from a report just computed ([`RunData::of_report`]).
pub fn from_report(r: &BacktestReport, stats: &serde_json::Value) -> RunData {
    RunData::of_report(r, stats)
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
    let (bh, cash, close) = (col("buy_and_hold"), col("cash"), col("price"));
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
        if let Some(c) = cash.and_then(num) {
            d.cash.push(c);
        }
        if let Some(c) = close.and_then(num) {
            d.close.push(c);
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
            (Some(entry), Some(exit), Some(ret)) => d.trades.push(TradeRow {
                entry,
                exit,
                ret,
                side: c.get(2).map_or(String::new(), |s| s.to_string()),
            }),
            _ => return Err(bad(&path, i + 1, "a row that is not a trade")),
        }
    }
    Ok(d)
}

fn read_json(dir: &Path, name: &str) -> Result<serde_json::Value, Failure> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::Input(anyhow!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Failure::Input(anyhow!("{}: {e}", path.display())))
}

/// The page of any result folder, by what it holds.
pub fn page_of(dir: &Path) -> Result<String, Failure> {
    qts_core::fs::check_result_dir(dir).map_err(|e| Failure::Input(anyhow!("{e}")))?;
    if dir.join("stats.json").is_file() {
        return Ok(backtest_page(&from_dir(dir)?));
    }
    if dir.join("walk_forward.json").is_file() {
        let summary = read_json(dir, "walk_forward.json")?;
        let path = dir.join("oos_equity.csv");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::Input(anyhow!("{}: {e}", path.display())))?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            let num = |k: usize| c.get(k).and_then(|x| x.parse::<f64>().ok());
            match (c.first().and_then(|d| d.parse().ok()), num(1)) {
                (Some(d), Some(e)) => rows.push((d, e, num(2).unwrap_or(f64::NAN))),
                _ => {
                    return Err(bad(
                        &path,
                        i + 1,
                        "a row that is not date,equity[,buy_and_hold]",
                    ));
                }
            }
        }
        return Ok(qts_report::html::walk_forward_page(&summary, &rows));
    }
    if dir.join("optimize.json").is_file() {
        let summary = read_json(dir, "optimize.json")?;
        let path = dir.join("trials.csv");
        let trials = std::fs::read_to_string(&path)
            .map_err(|e| Failure::Input(anyhow!("{}: {e}", path.display())))?;
        return Ok(qts_report::html::optimize_page(&summary, &trials));
    }
    if dir.join("monte_carlo.json").is_file() {
        return Ok(qts_report::html::monte_carlo_page(&read_json(
            dir,
            "monte_carlo.json",
        )?));
    }
    Err(Failure::Input(anyhow!(
        "{}: not a result folder qts draws (no stats.json, walk_forward.json, optimize.json or monte_carlo.json)",
        dir.display()
    )))
}

/// Runs `qts report`.
pub fn run(global: &GlobalArgs, args: &ReportArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let page = page_of(&args.run)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run.join("report.html"));
    write_page(&out, &page)
}

/// Runs `qts compare`.
pub fn compare(global: &GlobalArgs, args: &crate::cli::CompareArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let mut runs = Vec::new();
    for dir in &args.runs {
        let d = from_dir(dir)?;
        runs.push(qts_stats::compare::RunSeries {
            name: dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            stats: d.stats,
            days: d.days,
            equity: d.equity,
        });
    }
    let c = qts_stats::compare::compare(&runs)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("compare.html"));
    if args.json {
        let text = serde_json::to_string_pretty(&c).map_err(|e| Failure::Runtime(e.into()))?;
        println!("{text}");
    } else {
        let mut t = comfy_table::Table::new();
        t.set_header(vec![
            "run",
            "span",
            "total return",
            "Sharpe",
            "max drawdown",
            "vs first: z",
            "p-value",
        ]);
        let pct = |v: &serde_json::Value| {
            v.as_f64()
                .map_or("-".into(), |x| format!("{:+.2}%", 100.0 * x))
        };
        for (r, d) in runs.iter().zip(&c.against_first) {
            t.add_row(vec![
                r.name.clone(),
                format!(
                    "{} .. {}",
                    r.stats["start"].as_str().unwrap_or("?"),
                    r.stats["end"].as_str().unwrap_or("?")
                ),
                pct(&r.stats["total_return"]),
                r.stats["sharpe_ratio"]
                    .as_f64()
                    .map_or("-".into(), |x| format!("{x:.3}")),
                pct(&r.stats["max_drawdown"]),
                d.map_or("-".into(), |d| format!("{:.3}", d.z)),
                d.map_or("-".into(), |d| format!("{:.4}", d.p_value)),
            ]);
        }
        println!(
            "{t}\ncompared on the {} days all runs traded ({} .. {}); Jobson–Korkie–Memmel test of each Sharpe ratio against {}'s",
            c.periods, c.common.0, c.common.1, runs[0].name
        );
    }
    write_page(&out, &qts_report::html::compare_page(&runs, &c))
}

//! The result-folder format, written and read here only: `stats.json`, `trades.csv` and
//! `equity.csv` of a backtest, `walk_forward.json`, `windows.csv` and `oos_equity.csv` of a
//! walk-forward, `optimize.json` and `trials.csv` of a search, `monte_carlo.json` of a Monte
//! Carlo, each folder written as one unit with its manifest last
//! ([`qts_core::fs::write_result_dir`]). The CSV files are read back through `Deserialize`
//! types ([`TradeRecord`], [`EquityRecord`]), by column name, never by position: `qts report`,
//! `qts compare` and `qts monte-carlo --run` read a folder the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use qts_backtest::BacktestReport;
use qts_backtest::strategy::registry::ParamValue;
use qts_research::optimize::OptimizeReport;
use qts_stats::metrics::{Metric, Metrics};
use qts_stats::monte_carlo::Histogram;
use serde::{Deserialize, Serialize};

use crate::html::{RunData, TradeRow, backtest_page};

/// Every file a result folder may hold, its manifest included: what a command reading the
/// folder must never write over.
pub const FILES: [&str; 11] = [
    qts_core::fs::MANIFEST,
    "stats.json",
    "trades.csv",
    "equity.csv",
    "walk_forward.json",
    "windows.csv",
    "oos_equity.csv",
    "optimize.json",
    "trials.csv",
    "trial_returns.csv",
    "monte_carlo.json",
];

/// Why a result folder cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The folder is incomplete (no manifest, or files that differ from it).
    #[error("{0}")]
    Incomplete(String),
    /// A file that is not a regular file of the folder, or too large, or not text.
    #[error("{0}")]
    Refused(String),
    /// A JSON file is not what the folder's kind writes.
    #[error("{path}: not the JSON qts writes")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A CSV row is not what the folder's kind writes.
    #[error("{path}:{row}: {reason}")]
    Row {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        row: usize,
        /// What is wrong.
        reason: String,
    },
    /// A folder of no kind qts draws.
    #[error(
        "{0}: not a result folder qts draws (no stats.json, walk_forward.json, optimize.json or monte_carlo.json)"
    )]
    Unknown(PathBuf),
}

/// `stats.json` as the pages read it: a backtest's metrics (every other key), what was run
/// and its buy-and-hold beside it; the rules, the validation and the stamp as written.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Stats {
    /// Strategy and parameters.
    pub strategy: String,
    /// Execution rules (`default`, `backtesting-py`).
    pub execution: String,
    /// Symbols traded.
    pub symbols: Vec<String>,
    /// First bar's date.
    pub start: Option<String>,
    /// Last bar's date.
    pub end: Option<String>,
    /// Positions open at the end.
    #[serde(default)]
    pub open_positions: Vec<(String, f64)>,
    /// Validation findings tolerated, as written.
    #[serde(default)]
    pub validation: serde_json::Value,
    /// The rules in force, as written.
    #[serde(default)]
    pub settings: serde_json::Value,
    /// Buy-and-hold's metrics over the same span.
    #[serde(default)]
    pub buy_and_hold: Metrics,
    /// Whether in-sample predictions were traded.
    #[serde(default)]
    pub in_sample: bool,
    /// Cash dividends received (absent from results written before they were paid).
    #[serde(default)]
    pub dividend_income: f64,
    /// What shaped the result.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Provenance, as written.
    #[serde(default)]
    pub stamp: serde_json::Value,
    /// A universe's statistics (several symbols).
    #[serde(default)]
    pub universe: Option<qts_backtest::universe::UniverseStats>,
    /// Every metric (the file's other keys; one that is not a metric is an error).
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl Stats {
    /// The stats of a backtest just computed (what its `stats.json` reads back as).
    pub fn of(r: &BacktestReport) -> Stats {
        Stats {
            strategy: r.strategy.clone(),
            execution: r.execution.to_string(),
            symbols: r.symbols.clone(),
            start: r.start.clone(),
            end: r.end.clone(),
            open_positions: r.open_positions.clone(),
            validation: serde_json::to_value(r.validation).unwrap_or_default(),
            settings: serde_json::to_value(&r.settings).unwrap_or_default(),
            buy_and_hold: r.buy_and_hold.clone(),
            in_sample: r.in_sample,
            dividend_income: r.dividend_income,
            notes: r.notes.clone(),
            stamp: serde_json::to_value(&r.stamp).unwrap_or_default(),
            universe: r.universe.clone(),
            metrics: r.metrics.clone(),
        }
    }
}

/// A row of `trades.csv`: one closed trade (the one trades schema of a result folder).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TradeRecord {
    /// Entry day.
    pub entry_time: NaiveDate,
    /// Exit day.
    pub exit_time: NaiveDate,
    /// `long` or `short` (any other text is refused, naming the line).
    pub side: qts_backtest::portfolio::TradeSide,
    /// Shares.
    pub size: f64,
    /// Entry price.
    pub entry_price: f64,
    /// Exit price.
    pub exit_price: f64,
    /// Profit and loss after commissions.
    pub pnl: f64,
    /// Return after commissions.
    #[serde(rename = "return")]
    pub ret: f64,
    /// Commissions paid.
    pub commission: f64,
    /// Days held.
    pub duration_days: f64,
}

/// A row of `equity.csv`: the account at a close.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EquityRecord {
    /// The day.
    pub date: NaiveDate,
    /// Equity.
    pub equity: f64,
    /// Cash (absent from files written before it was recorded).
    #[serde(default)]
    pub cash: Option<f64>,
    /// Drawdown from the running peak (≤ 0).
    pub drawdown: f64,
    /// Buy-and-hold's equity from the same start.
    #[serde(default)]
    pub buy_and_hold: Option<f64>,
    /// The first symbol's close.
    #[serde(default)]
    pub price: Option<f64>,
}

/// A row of `oos_equity.csv`: the stitched out-of-sample equity of a walk-forward.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OosEquityRecord {
    /// The day.
    pub date: NaiveDate,
    /// Equity.
    pub equity: f64,
    /// Buy-and-hold's equity.
    #[serde(default)]
    pub buy_and_hold: Option<f64>,
}

/// `optimize.json`: a search's report ([`OptimizeReport`] as `--json` prints it) with the
/// data it ran on and, when PBO was computed, the histogram of λ over the CSCV combinations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizeSummary {
    /// The best trial.
    pub best: BestTrial,
    /// Trials backtested.
    pub trials: usize,
    /// Grid points the strategy's constraints refused.
    pub skipped: usize,
    /// The metric maximised.
    pub maximize: Metric,
    /// `grid` or `random`.
    pub method: String,
    /// DSR of the trial with the best full-sample Sharpe ratio, over all trials.
    pub deflated_sharpe_ratio: Option<f64>,
    /// PBO by CSCV over the trials' returns.
    pub probability_of_backtest_overfitting: Option<f64>,
    /// Why a statistic is `null`, if one is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The data the search ran on.
    pub data: String,
    /// λ of the CSCV combinations, binned (PBO is the share ≤ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<Histogram>,
}

/// The best trial of `optimize.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestTrial {
    /// Its parameters by name (`null`: a value that is not finite, e.g. `-inf`).
    pub params: BTreeMap<String, Option<ParamValue>>,
    /// Every metric.
    pub metrics: Metrics,
}

impl OptimizeSummary {
    /// The summary of `report`, a search on `data`.
    pub fn of(report: &OptimizeReport, data: &str) -> OptimizeSummary {
        OptimizeSummary {
            best: BestTrial {
                params: report
                    .best
                    .params
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), Some(v.clone())))
                    .collect(),
                metrics: report.best.metrics.clone(),
            },
            trials: report.trials,
            skipped: report.skipped,
            maximize: report.maximize,
            method: report.method.to_string(),
            deflated_sharpe_ratio: report.deflated_sharpe_ratio,
            probability_of_backtest_overfitting: report.probability_of_backtest_overfitting,
            notes: report.notes.clone(),
            data: data.to_string(),
            lambda: (!report.logits.is_empty())
                .then(|| Histogram::of(report.logits.iter().copied())),
        }
    }
}

/// A row of `trials.csv`: every parameter and metric by its column's name (`None`: an empty
/// cell, a metric that is not a number).
pub type TrialRecord = BTreeMap<String, Option<f64>>;

/// The rows `trials.csv` holds for `report`'s trials.
pub fn trial_records(report: &OptimizeReport) -> Vec<TrialRecord> {
    report
        .all
        .iter()
        .map(|t| {
            let params = t
                .params
                .iter()
                .map(|(k, v)| ((*k).to_string(), Some(v.as_f64())));
            let metrics = t.metrics.iter().map(|(m, v)| {
                let v = v.as_f64();
                (m.key().to_string(), v.is_finite().then_some(v))
            });
            params.chain(metrics).collect()
        })
        .collect()
}

/// The text of the folder's file `path`: a regular file of the folder, read within
/// [`qts_core::fs::MAX_RESULT_FILE_BYTES`].
fn read(path: &Path) -> Result<String, FolderError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = qts_core::fs::read_result_file(dir, &name, qts_core::fs::MAX_RESULT_FILE_BYTES)
        .map_err(FolderError::Refused)?;
    String::from_utf8(bytes)
        .map_err(|_| FolderError::Refused(format!("{}: not UTF-8 text", path.display())))
}

/// The rows of the CSV file at `path` as `T`, by column name; a row that is not a `T` is an
/// error naming its line.
///
/// # Errors
/// [`FolderError`] for an unreadable file or a row that does not fit.
pub fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, FolderError> {
    let text = read(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| FolderError::Row {
                path: path.to_path_buf(),
                row: e.position().map_or(i + 2, |p| p.line() as usize),
                reason: match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
                    _ => e.to_string(),
                },
            })
        })
        .collect()
}

/// `walk_forward.json`: the walk-forward's report, what was walked forward, and on which data.
#[derive(Debug, Clone, Deserialize)]
pub struct DescribedWalk {
    /// The report.
    #[serde(flatten)]
    pub report: qts_research::walk_forward::WalkForwardReport,
    /// What was walked forward.
    pub what: String,
    /// The data it ran on.
    pub data: String,
}

/// The JSON file at `path` as a `T`.
///
/// # Errors
/// [`FolderError`] for an unreadable file or one that is not a `T`'s JSON.
pub fn read_typed<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, FolderError> {
    serde_json::from_str(&read(path)?).map_err(|source| FolderError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks that `dir` is a complete result folder ([`qts_core::fs::check_result_dir`]).
///
/// # Errors
/// [`FolderError::Incomplete`] naming what is missing.
pub fn check(dir: &Path) -> Result<(), FolderError> {
    qts_core::fs::check_result_dir(dir).map_err(FolderError::Incomplete)
}

/// `stats.json`, `trades.csv` and `equity.csv` of a backtest, as `--out` writes them
/// (`stats` is the report's JSON).
pub fn backtest_files(
    report: &BacktestReport,
    stats: &serde_json::Value,
) -> Vec<(&'static str, String)> {
    let stats = serde_json::to_string_pretty(stats).unwrap_or_default() + "\n";
    vec![
        ("stats.json", stats),
        ("trades.csv", report.trades_csv()),
        ("equity.csv", report.equity_csv()),
    ]
}

/// `trials.csv` and `optimize.json` of a search (`summary`: [`OptimizeSummary::of`] the
/// report), and `trial_returns.csv` when asked.
pub fn optimize_files(
    report: &OptimizeReport,
    summary: &OptimizeSummary,
    returns: bool,
) -> Vec<(&'static str, String)> {
    let mut files = vec![
        ("trials.csv", report.trials_csv()),
        (
            "optimize.json",
            serde_json::to_string_pretty(summary).unwrap_or_default() + "\n",
        ),
    ];
    if returns {
        files.push(("trial_returns.csv", report.trial_returns_csv()));
    }
    files
}

/// `windows.csv`, `oos_equity.csv` and `walk_forward.json` of a walk-forward (`described`:
/// [`qts_research::walk_forward::WalkForwardReport::described`]).
pub fn walk_forward_files(
    report: &qts_research::walk_forward::WalkForwardReport,
    described: &serde_json::Value,
) -> Vec<(&'static str, String)> {
    vec![
        ("windows.csv", report.windows_csv()),
        ("oos_equity.csv", report.oos_equity_csv()),
        (
            "walk_forward.json",
            serde_json::to_string_pretty(described).unwrap_or_default() + "\n",
        ),
    ]
}

/// `monte_carlo.json` of a Monte Carlo.
pub fn monte_carlo_files(report: &qts_stats::monte_carlo::Report) -> Vec<(&'static str, String)> {
    vec![(
        "monte_carlo.json",
        serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
    )]
}

/// Writes a result's files into `dir` as one unit, its manifest last.
///
/// # Errors
/// The OS error of a write.
pub fn write(dir: &Path, files: &[(&str, String)]) -> std::io::Result<()> {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
    qts_core::fs::write_result_dir(dir, &bytes)
}

/// A backtest folder's page data: its `stats.json`, `equity.csv` and `trades.csv`.
///
/// # Errors
/// [`FolderError`] for an incomplete folder or a file that is not what a backtest writes.
pub fn read_backtest(dir: &Path) -> Result<RunData, FolderError> {
    check(dir)?;
    let stats: Stats = read_typed(&dir.join("stats.json"))?;
    let equity: Vec<EquityRecord> = read_csv(&dir.join("equity.csv"))?;
    let trades: Vec<TradeRecord> = read_csv(&dir.join("trades.csv"))?;
    // A column is drawn only when every row has it (files of older versions lack some).
    let all = |f: &dyn Fn(&EquityRecord) -> Option<f64>| -> Vec<f64> {
        equity
            .iter()
            .map(f)
            .collect::<Option<Vec<f64>>>()
            .unwrap_or_default()
    };
    Ok(RunData {
        stats,
        days: equity.iter().map(|r| r.date).collect(),
        equity: equity.iter().map(|r| r.equity).collect(),
        drawdown: equity.iter().map(|r| r.drawdown).collect(),
        buy_and_hold: all(&|r| r.buy_and_hold),
        cash: all(&|r| r.cash),
        close: all(&|r| r.price),
        trades: trades
            .into_iter()
            .map(|t| TradeRow {
                entry: t.entry_time,
                exit: t.exit_time,
                ret: t.ret,
                side: t.side,
            })
            .collect(),
    })
}

/// Backtest folders as the comparison of runs reads them: each one's name (its folder's),
/// days and equity, and its `stats.json`.
///
/// # Errors
/// [`FolderError`] for a folder that is not a complete backtest's.
pub fn compared_runs(dirs: &[PathBuf]) -> Result<Vec<crate::html::ComparedRun>, FolderError> {
    dirs.iter()
        .map(|dir| {
            let d = read_backtest(dir)?;
            Ok(crate::html::ComparedRun {
                series: qts_stats::compare::RunSeries {
                    name: dir.file_name().map_or_else(
                        || dir.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                    days: d.days,
                    equity: d.equity,
                },
                stats: d.stats,
            })
        })
        .collect()
}

/// The page of any result folder, by what it holds.
///
/// # Errors
/// [`FolderError`] for an incomplete folder, a file that does not fit, or a folder of no
/// kind qts draws.
pub fn page_of(dir: &Path) -> Result<String, FolderError> {
    check(dir)?;
    if dir.join("stats.json").is_file() {
        return Ok(backtest_page(&read_backtest(dir)?));
    }
    if dir.join("walk_forward.json").is_file() {
        let walk: DescribedWalk = read_typed(&dir.join("walk_forward.json"))?;
        let rows: Vec<OosEquityRecord> = read_csv(&dir.join("oos_equity.csv"))?;
        let rows: Vec<crate::html::EquityRow> = rows
            .into_iter()
            .map(|r| (r.date, r.equity, r.buy_and_hold.unwrap_or(f64::NAN)))
            .collect();
        return Ok(crate::html::walk_forward_page(
            &walk.report,
            &walk.what,
            &walk.data,
            &rows,
        ));
    }
    if dir.join("optimize.json").is_file() {
        let summary: OptimizeSummary = read_typed(&dir.join("optimize.json"))?;
        let trials: Vec<TrialRecord> = read_csv(&dir.join("trials.csv"))?;
        return Ok(crate::html::optimize_page(&summary, &trials));
    }
    if dir.join("monte_carlo.json").is_file() {
        return Ok(crate::html::monte_carlo_page(&read_typed(
            &dir.join("monte_carlo.json"),
        )?));
    }
    Err(FolderError::Unknown(dir.to_path_buf()))
}

/// The sample of Monte Carlo's `trades` method from a backtest folder: each trade's P&L over
/// the equity at its entry ([`qts_stats::monte_carlo::trade_sample`]), and the trades a year
/// over the run's `periods` returns.
///
/// # Errors
/// [`FolderError`] for a folder that is not a backtest's, or a trade whose entry day has no
/// equity.
pub fn trade_sample(
    dir: &Path,
    periods: usize,
    per_year: f64,
) -> Result<(Vec<f64>, f64), FolderError> {
    let (epath, tpath) = (dir.join("equity.csv"), dir.join("trades.csv"));
    let equity: Vec<EquityRecord> = read_csv(&epath)?;
    let trades: Vec<TradeRecord> = read_csv(&tpath)?;
    let by_date: Vec<(NaiveDate, f64)> = equity.iter().map(|r| (r.date, r.equity)).collect();
    let entries: Vec<_> = trades
        .iter()
        .map(|t| (Some(t.entry_time), Some(t.pnl)))
        .collect();
    qts_stats::monte_carlo::trade_sample(&entries, &by_date, periods, per_year).map_err(|k| {
        FolderError::Row {
            path: tpath.clone(),
            row: k + 2,
            reason: format!(
                "the trade's pnl is not a number, or its entry date is not in {}",
                epath.display()
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // A search of a whole-number and a real parameter, one of whose values is not finite, with
    // a metric that is not a number, a count, a note and the λ histogram.
    const OPTIMIZE_JSON: &str = r#"{
  "best": {
    "params": {
      "fast": 5,
      "slow": 20,
      "stop": null,
      "weight": 0.5
    },
    "metrics": {
      "num_trades": 12,
      "sharpe_ratio": 0.81,
      "sortino_ratio": null
    }
  },
  "trials": 4,
  "skipped": 1,
  "maximize": "sharpe_ratio",
  "method": "grid",
  "deflated_sharpe_ratio": 0.42,
  "probability_of_backtest_overfitting": null,
  "notes": [
    "PBO needs more trials"
  ],
  "data": "GOOG.csv",
  "lambda": {
    "low": -1.5,
    "high": 2.0,
    "counts": [
      3,
      0,
      5
    ]
  }
}"#;

    const TRIALS_CSV: &str = "fast,slow,stop,weight,num_trades,sharpe_ratio,sortino_ratio\n\
        5,20,-inf,0.5,12,0.81,\n\
        5,30,-inf,0.5,9,0.2,\n\
        10,20,-inf,0.5,7,-0.3,\n\
        10,30,-inf,0.5,4,,\n";

    #[test]
    fn optimize_json_reads_back_as_written() {
        let summary: OptimizeSummary = serde_json::from_str(OPTIMIZE_JSON).unwrap();
        assert_eq!(summary.best.params["fast"], Some(ParamValue::Int(5)));
        assert_eq!(summary.best.params["weight"], Some(ParamValue::Real(0.5)));
        assert_eq!(summary.best.params["stop"], None);
        assert_eq!(
            serde_json::to_string_pretty(&summary).unwrap(),
            OPTIMIZE_JSON
        );
    }

    #[test]
    fn the_optimize_page_maps_the_two_searched_parameters() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("opt");
        qts_core::fs::write_result_dir(
            &dir,
            &[
                ("optimize.json", OPTIMIZE_JSON.as_bytes()),
                ("trials.csv", TRIALS_CSV.as_bytes()),
            ],
        )
        .unwrap();
        let page = page_of(&dir).unwrap();
        assert!(
            page.contains("Best: fast=5, slow=20, stop=null, weight=0.5 with sharpe_ratio 0.810")
        );
        assert!(page.contains("probability of backtest overfitting n/a"));
        assert!(page.contains("<h2>sharpe_ratio over fast × slow</h2>"));
        // Three trials have a Sharpe ratio; the fourth's cell is blank.
        assert_eq!(page.matches("<rect class=\"cell\"").count(), 3);
        assert!(page.contains("<title>the best: fast=5, slow=20</title>"));
        assert!(page.contains("λ of each combination"));
        assert!(
            !page.contains("&quot;lambda&quot;"),
            "the settings leave λ out"
        );
    }

    #[test]
    fn a_parameter_named_like_markup_is_escaped_on_the_page() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("opt");
        let json = OPTIMIZE_JSON.replace("\"fast\"", "\"<i>fast\"");
        let csv = TRIALS_CSV.replacen("fast", "<i>fast", 1);
        qts_core::fs::write_result_dir(
            &dir,
            &[
                ("optimize.json", json.as_bytes()),
                ("trials.csv", csv.as_bytes()),
            ],
        )
        .unwrap();
        let page = page_of(&dir).unwrap();
        assert!(page.contains("&lt;i&gt;fast × slow"), "the map is drawn");
        assert!(!page.contains("<i>"));
    }

    #[test]
    fn a_trial_that_is_not_a_number_names_its_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("opt");
        qts_core::fs::write_result_dir(
            &dir,
            &[
                ("optimize.json", OPTIMIZE_JSON.as_bytes()),
                ("trials.csv", b"fast,slow\n5,20\n5,x\n"),
            ],
        )
        .unwrap();
        let err = page_of(&dir).unwrap_err().to_string();
        assert!(
            err.ends_with("trials.csv:3: field 1: invalid float literal"),
            "{err}"
        );
    }
}

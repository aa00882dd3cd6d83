//! `qts overfitting`: flags → [`qts_stats::overfitting::overfitting`] → table or JSON.

use comfy_table::Table;
use qts_core::logging::RunContext;
use qts_data::io::read_csv_table_with;
use qts_stats::overfitting::{TrialMatrix, overfitting};

use crate::cli::{GlobalArgs, OverfittingArgs, SectionFiles};
use crate::failure::Failure;
use crate::setup::{load_config, start_logging};

/// Runs `qts overfitting`.
pub fn run(global: &GlobalArgs, args: &OverfittingArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let span = RunContext::new("overfitting").span();
    let _run = span.enter();
    let source = args.trial_returns.display().to_string();
    let table = read_csv_table_with(&args.trial_returns, &loaded.config.data.limits)?;
    let matrix = TrialMatrix::from_columns(&table.columns, &table.time, &source)?;
    let report = overfitting(&matrix.trials(), args.pbo_splits, &loaded.config.budget)?;
    let text = if args.json {
        serde_json::to_string_pretty(&report).map_err(|e| Failure::Runtime(e.into()))? + "\n"
    } else {
        let mut t = Table::new();
        t.set_header(vec!["statistic", "value"]);
        let rows = [
            ("trials", report.trials.to_string()),
            (
                "rows (used by PBO)",
                format!("{} ({})", report.rows, report.rows_used),
            ),
            ("best trial", report.best_trial.clone()),
            (
                "its Sharpe ratio, per period",
                format!("{:.6}", report.best_sharpe),
            ),
            (
                "expected maximum Sharpe ratio of this many trials by luck",
                format!("{:.6}", report.expected_max_sharpe),
            ),
            (
                "deflated Sharpe ratio",
                format!("{:.4}", report.deflated_sharpe_ratio),
            ),
            (
                "probability of backtest overfitting",
                format!(
                    "{:.4} ({} splits, {} combinations)",
                    report.probability_of_backtest_overfitting, report.splits, report.combinations
                ),
            ),
            (
                "probability of an out-of-sample loss",
                format!("{:.4}", report.probability_of_oos_loss),
            ),
        ];
        for (k, v) in rows {
            t.add_row(vec![k.to_string(), v]);
        }
        format!("{t}\n")
    };
    crate::output::print(&text)
}

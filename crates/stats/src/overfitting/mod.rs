//! Overfitting statistics of Bailey and López de Prado, on per-period returns:
//!
//! - the probabilistic Sharpe ratio (PSR) and the minimum track record length (MinTRL),
//!   "The Sharpe Ratio Efficient Frontier" (2012), eqs. (11)–(12) and (14);
//! - the deflated Sharpe ratio (DSR) of the best of N trials, "The Deflated Sharpe Ratio"
//!   (2014), eqs. (2)–(3);
//! - the probability of backtest overfitting (PBO) by combinatorially symmetric
//!   cross-validation (CSCV), "The Probability of Backtest Overfitting" (2015), §2.
//!
//! Conventions (as the papers and `docs/overfitting.md`): the Sharpe ratio is per period (not
//! annualised) with the sample standard deviation (ddof = 1); skewness γ3 and kurtosis γ4 are
//! population moments, γ4 not excess (scipy's `skew(bias=True)`, `kurtosis(fisher=False,
//! bias=True)`).

mod dsr;
mod pbo;
mod psr;

pub use dsr::{Deflated, deflated_sharpe_ratio, expected_max_sharpe};
pub use pbo::{Overfitting, check_budget, probability_of_backtest_overfitting};
pub use psr::{
    min_track_record_length, moments, norm_cdf, norm_ppf, probabilistic_sharpe_ratio, psr_of,
    sharpe,
};

use serde::Serialize;

use crate::StatsError;

/// Trial returns read from a file: `date` and one column of per-period returns per trial.
#[derive(Debug, Clone)]
pub struct TrialMatrix {
    /// Trial names (the column headers).
    pub names: Vec<String>,
    /// One column per trial.
    pub returns: Vec<Vec<f64>>,
}

impl TrialMatrix {
    /// The trials of a table read from `source`: one column of returns per trial, named,
    /// on the dates `time`.
    ///
    /// # Errors
    /// [`StatsError::Input`] naming the file, and the row and column of a return that is
    /// missing or not finite.
    pub fn from_columns(
        columns: &[(String, Vec<f64>)],
        time: &[chrono::NaiveDateTime],
        source: &str,
    ) -> Result<Self, StatsError> {
        for (name, col) in columns {
            if let Some(i) = col.iter().position(|x| !x.is_finite()) {
                return Err(StatsError::Input {
                    path: source.into(),
                    reason: format!(
                        "row {} ({}): trial `{name}` has no finite return; fill or drop that row",
                        i + 2,
                        time.get(i)
                            .map_or_else(|| "?".into(), |t| t.date().to_string())
                    ),
                });
            }
        }
        Ok(TrialMatrix {
            names: columns.iter().map(|(n, _)| n.clone()).collect(),
            returns: columns.iter().map(|(_, c)| c.clone()).collect(),
        })
    }

    /// The trials as [`Trials`].
    pub fn trials(&self) -> Trials<'_> {
        Trials {
            names: &self.names,
            returns: &self.returns,
        }
    }
}

/// Trial returns as columns of one period grid.
#[derive(Debug, Clone)]
pub struct Trials<'a> {
    /// Trial names (e.g. `fast=5;slow=10`).
    pub names: &'a [String],
    /// One column of per-period returns per trial, all of the same length.
    pub returns: &'a [Vec<f64>],
}

/// DSR and PBO of a set of trials, as `qts overfitting --json` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverfittingReport {
    /// DSR of the trial with the best full-sample Sharpe ratio.
    pub deflated_sharpe_ratio: f64,
    /// PBO by CSCV.
    pub probability_of_backtest_overfitting: f64,
    /// Trials.
    pub trials: usize,
    /// Rows of the matrix (DSR uses them all).
    pub rows: usize,
    /// Rows PBO used.
    pub rows_used: usize,
    /// The share of CSCV combinations whose in-sample best loses out of sample.
    pub probability_of_oos_loss: f64,
    /// The best trial's name.
    pub best_trial: String,
    /// Its per-period Sharpe ratio.
    pub best_sharpe: f64,
    /// SR0.
    pub expected_max_sharpe: f64,
    /// Variance of the trials' Sharpe ratios.
    pub sharpe_variance: f64,
    /// Row blocks.
    pub splits: usize,
    /// CSCV combinations.
    pub combinations: usize,
    /// λ of each combination (the distribution PBO is the share ≤ 0 of).
    pub logits: Vec<f64>,
}

/// DSR and PBO of `trials` with `splits` CSCV blocks, planned within `budget`.
///
/// # Errors
/// As [`deflated_sharpe_ratio`] and [`probability_of_backtest_overfitting`].
pub fn overfitting(
    trials: &Trials<'_>,
    splits: usize,
    budget: &qts_core::budget::Budget,
) -> Result<OverfittingReport, StatsError> {
    let d = deflated_sharpe_ratio(trials)?;
    let p = probability_of_backtest_overfitting(trials, splits, budget)?;
    Ok(OverfittingReport {
        deflated_sharpe_ratio: d.deflated_sharpe_ratio,
        probability_of_backtest_overfitting: p.probability_of_backtest_overfitting,
        trials: trials.returns.len(),
        rows: trials.returns.first().map_or(0, Vec::len),
        rows_used: p.rows_used,
        probability_of_oos_loss: p.probability_of_oos_loss,
        best_trial: d.best_trial,
        best_sharpe: d.best_sharpe,
        expected_max_sharpe: d.expected_max_sharpe,
        sharpe_variance: d.sharpe_variance,
        splits: p.splits,
        combinations: p.combinations,
        logits: p.logits,
    })
}

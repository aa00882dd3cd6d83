//! `budget`: what one call may take, checked before anything is allocated. A count-like
//! parameter (Monte Carlo paths and horizon, grid sizes, PBO splits, walk-forward windows)
//! becomes an estimate of the memory and of the steps of work it implies; an estimate over
//! the budget is refused naming the parameter, the estimate and the limit's key, so a typo
//! (`--paths 1000000000`) ends in a message instead of `memory allocation failed` or a
//! machine that stops answering. Estimates are in `f64`: a product of counts never overflows.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use crate::config::{Checks, Validate};

/// `budget`: the memory and the work one call may plan for. The defaults are far above any
/// daily research job (a 10,000-path Monte Carlo of ten years is 2.5·10⁷ steps and ~20 MB).
#[derive(Debug, Clone, Copy, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    /// Bytes a call may plan to hold at once.
    #[default(8 << 30)]
    pub max_memory_bytes: u64,
    /// Elementary steps a call may plan (a bar of one backtest, a draw of one path, a trial of
    /// one CSCV combination).
    #[default(1_000_000_000_000)]
    pub max_steps: u64,
}

impl Validate for Budget {
    fn validate(&self, at: &str, c: &mut Checks) {
        c.positive(at, "max_memory_bytes", self.max_memory_bytes);
        c.positive(at, "max_steps", self.max_steps);
    }
}

/// A plan over the budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{what} needs about {needed} {unit}, over the limit of {limit} set by budget.{key} (raise it with --set budget.{key}=N if the machine has it)"
)]
pub struct OverBudget {
    /// The parameter whose value makes the plan too large.
    pub parameter: &'static str,
    /// What was planned, with the counts (`20000000 paths of 2520 periods`).
    pub what: String,
    /// The estimate, as text.
    pub needed: String,
    /// `bytes` or `steps`.
    pub unit: &'static str,
    /// The limit.
    pub limit: u64,
    /// The key under `budget`.
    pub key: &'static str,
}

impl Budget {
    /// Checks the plan `what` that `parameter` sets: `bytes` held at once and `steps` of
    /// work.
    ///
    /// # Errors
    /// [`OverBudget`] for the first estimate over its limit.
    pub fn check(
        &self,
        parameter: &'static str,
        what: impl FnOnce() -> String,
        bytes: f64,
        steps: f64,
    ) -> Result<(), OverBudget> {
        let over = |needed: f64, limit: u64| needed.is_nan() || needed > limit as f64;
        let (needed, unit, limit, key) = if over(bytes, self.max_memory_bytes) {
            (bytes, "bytes", self.max_memory_bytes, "max_memory_bytes")
        } else if over(steps, self.max_steps) {
            (steps, "steps", self.max_steps, "max_steps")
        } else {
            return Ok(());
        };
        Err(OverBudget {
            parameter,
            what: what(),
            needed: count(needed),
            unit,
            limit,
            key,
        })
    }
}

/// A count or an estimate as text: whole below 10¹⁵, else in scientific notation (`1.0e20`).
pub fn count(x: f64) -> String {
    if x < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_over_either_limit_is_refused_naming_it() {
        let b = Budget {
            max_memory_bytes: 1000,
            max_steps: 50,
        };
        assert_eq!(b.check("paths", || "x".into(), 1000.0, 50.0), Ok(()));
        let e = b
            .check("paths", || "3 paths".into(), 1001.0, 1.0)
            .unwrap_err();
        assert_eq!(e.parameter, "paths");
        assert_eq!(
            e.to_string(),
            "3 paths needs about 1001 bytes, over the limit of 1000 set by budget.max_memory_bytes (raise it with --set budget.max_memory_bytes=N if the machine has it)"
        );
        let e = b.check("grid", || "g".into(), 1.0, 1e30).unwrap_err();
        assert_eq!((e.key, e.needed.as_str()), ("max_steps", "1.0e30"));
        // A plan whose estimate is not a number is refused too.
        assert!(b.check("grid", || "g".into(), f64::NAN, 1.0).is_err());
    }
}

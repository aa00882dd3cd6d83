//! Moving-average crossover: long when the fast SMA crosses above the slow one, short (or flat
//! where shorting is off) when it crosses below.

use qts_data::features::kernels::sma;

use super::{Action, Context, Strategy, crossed_above};
use crate::error::BacktestError;

/// SMA crossover on closes.
#[derive(Debug)]
pub struct SmaCross {
    fast: usize,
    slow: usize,
}

impl SmaCross {
    /// A crossover of `fast` and `slow` periods.
    ///
    /// # Errors
    /// [`BacktestError::Parameter`] unless `1 ≤ fast < slow`.
    pub fn new(fast: usize, slow: usize) -> Result<SmaCross, BacktestError> {
        let bad = |param: &str, reason: String| BacktestError::Parameter {
            strategy: "sma-cross".into(),
            param: param.into(),
            reason,
        };
        if fast == 0 {
            return Err(bad("fast", "must be at least 1".into()));
        }
        if fast >= slow {
            return Err(bad(
                "fast",
                format!("must be less than slow ({slow}), got {fast}"),
            ));
        }
        Ok(SmaCross { fast, slow })
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> String {
        format!("sma-cross({}, {})", self.fast, self.slow)
    }

    fn warmup(&self) -> usize {
        self.slow
    }

    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        let mut out = Vec::new();
        for symbol in 0..ctx.symbols() {
            // Only the last two values matter: compute them from the tail, never the future.
            let close = ctx.close(symbol);
            let tail = &close[close.len().saturating_sub(self.slow + 1)..];
            let (f, s) = (sma(tail, self.fast), sma(tail, self.slow));
            let strength = if crossed_above(&f, &s) {
                1.0
            } else if crossed_above(&s, &f) {
                -1.0
            } else {
                continue;
            };
            out.push(Action::Target {
                symbol,
                strength,
                forecast: None,
            });
        }
        out
    }
}

//! Moving-average crossover: long when the fast SMA crosses above the slow one, short (or flat
//! where shorting is off) when it crosses below.

use qts_data::features::running::RunningSma;

use super::{Action, Context, Strategy};
use crate::error::BacktestError;

/// SMA crossover on closes.
#[derive(Debug)]
pub struct SmaCross {
    fast: usize,
    slow: usize,
    state: Vec<(RunningSma, RunningSma)>,
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
        Ok(SmaCross {
            fast,
            slow,
            state: Vec::new(),
        })
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
        if self.state.is_empty() {
            self.state =
                vec![(RunningSma::new(self.fast), RunningSma::new(self.slow)); ctx.symbols()];
        }
        let mut out = Vec::new();
        for (symbol, (f, s)) in self.state.iter_mut().enumerate() {
            let close = ctx.close(symbol);
            // Catch up to this bar (the first call comes after the warm-up).
            let (fast, slow) = (f.update(close), s.update(close));
            let (f_prev, s_prev) = (f.previous(), s.previous());
            let strength = if f_prev < s_prev && fast > slow {
                1.0
            } else if s_prev < f_prev && slow > fast {
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

//! Moving-average crossover: long when the fast SMA crosses above the slow one, short (or flat
//! where shorting is off) when it crosses below.

use super::{Action, Context, Strategy};
use crate::error::BacktestError;

/// A simple moving average fed one close at a time, with the same running sum (and so the
/// same values, bit for bit) as `qts_data::features::kernels::sma` over the whole column.
#[derive(Debug, Clone, Default)]
struct RunningSma {
    period: usize,
    total: f64,
    seen: usize,
    prev: f64,
    last: f64,
}

impl RunningSma {
    fn new(period: usize) -> Self {
        RunningSma {
            period,
            prev: f64::NAN,
            last: f64::NAN,
            ..RunningSma::default()
        }
    }

    /// Feeds close `t`; `closes` holds every close up to `t`.
    fn push(&mut self, closes: &[f64]) {
        let t = self.seen;
        self.seen += 1;
        self.prev = self.last;
        self.total += closes[t];
        if t + 1 >= self.period {
            self.last = self.total / self.period as f64;
            self.total -= closes[t + 1 - self.period];
        }
    }
}

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
            while f.seen < close.len() {
                f.push(close);
                s.push(close);
            }
            let strength = if f.prev < s.prev && f.last > s.last {
                1.0
            } else if s.prev < f.prev && s.last > f.last {
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

#[cfg(test)]
mod tests {
    use super::*;
    use qts_data::features::kernels::sma;

    #[test]
    fn the_running_average_equals_the_kernel_bit_for_bit() {
        let x: Vec<f64> = (0..500)
            .map(|i| 100.0 + (i as f64 * 0.37).sin() * 7.3)
            .collect();
        let want = sma(&x, 20);
        let mut r = RunningSma::new(20);
        for t in 0..x.len() {
            r.push(&x[..=t]);
            assert_eq!(r.last.to_bits(), want[t].to_bits(), "{t}");
        }
    }
}

//! A regime filter around any strategy: long targets count only while the close is above its
//! moving average; below it the symbol is held flat. Short targets pass through.

use qts_core::config::MaKind;
use qts_data::features::kernels::sma;

use super::{Action, Context, Strategy};

/// Wraps a strategy with a price-above-moving-average filter.
pub struct RegimeFilter {
    inner: Box<dyn Strategy>,
    kind: MaKind,
    period: usize,
    /// The inner strategy's standing target per symbol.
    wanted: Vec<Option<Action>>,
    /// The strength last passed on per symbol.
    passed: Vec<Option<f64>>,
    /// Per-symbol EMA state, fed one close a bar (recomputing the whole column each bar would
    /// make the filter quadratic in the number of bars).
    emas: Vec<RunningEma>,
}

/// An EMA fed one value at a time, equal bit for bit to `kernels::ema` over the whole column.
#[derive(Debug, Clone, Default)]
struct RunningEma {
    period: usize,
    seen: usize,
    sum: f64,
    value: f64,
}

impl RunningEma {
    fn new(period: usize) -> Self {
        RunningEma {
            period: period.max(1),
            value: f64::NAN,
            ..RunningEma::default()
        }
    }

    /// Catches up with `closes` (every close up to now) and returns the current average.
    fn update(&mut self, closes: &[f64]) -> f64 {
        let k = 2.0 / (self.period as f64 + 1.0);
        for &x in &closes[self.seen..] {
            if self.seen < self.period {
                self.sum += x;
                if self.seen + 1 == self.period {
                    self.value = self.sum / self.period as f64;
                }
            } else {
                self.value = self.value * (1.0 - k) + x * k;
            }
            self.seen += 1;
        }
        self.value
    }
}

impl RegimeFilter {
    /// Filters `inner` with a `kind` average of `period` bars.
    pub fn new(inner: Box<dyn Strategy>, kind: MaKind, period: usize) -> RegimeFilter {
        RegimeFilter {
            inner,
            kind,
            period,
            wanted: Vec::new(),
            passed: Vec::new(),
            emas: Vec::new(),
        }
    }
}

impl Strategy for RegimeFilter {
    fn name(&self) -> String {
        format!(
            "{} | regime({:?} {})",
            self.inner.name(),
            self.kind,
            self.period
        )
    }

    fn warmup(&self) -> usize {
        self.inner.warmup().max(self.period.saturating_sub(1))
    }

    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        let n = ctx.symbols();
        self.wanted.resize(n, None);
        self.passed.resize(n, None);
        self.emas.resize(n, RunningEma::new(self.period));
        let mut out = Vec::new();
        for a in self.inner.on_bar(ctx) {
            match &a {
                Action::Target { symbol, .. } => {
                    self.wanted[*symbol] = Some(a.clone());
                    // A fresh decision is passed on even if equal to the last (it may
                    // re-enter after a stop).
                    self.passed[*symbol] = None;
                }
                Action::Order { .. } => out.push(a),
            }
        }
        for symbol in 0..n {
            let Some(Action::Target {
                strength, forecast, ..
            }) = self.wanted[symbol].clone()
            else {
                continue;
            };
            let close = ctx.close(symbol);
            let ma = match self.kind {
                MaKind::Sma => {
                    let tail = &close[close.len().saturating_sub(self.period)..];
                    sma(tail, self.period).last().copied().unwrap_or(f64::NAN)
                }
                MaKind::Ema => self.emas[symbol].update(close),
            };
            let bullish = close.last().is_some_and(|c| *c > ma);
            let effective = if strength > 0.0 && !bullish {
                0.0
            } else {
                strength
            };
            if self.passed[symbol] != Some(effective) {
                self.passed[symbol] = Some(effective);
                out.push(Action::Target {
                    symbol,
                    strength: effective,
                    forecast,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qts_data::features::kernels::ema;

    #[test]
    fn the_running_ema_equals_the_kernel_bit_for_bit() {
        let x: Vec<f64> = (0..300)
            .map(|i| 50.0 + (i as f64 * 0.21).cos() * 4.0)
            .collect();
        let want = ema(&x, 20);
        let mut r = RunningEma::new(20);
        for t in 0..x.len() {
            let got = r.update(&x[..=t]);
            assert_eq!(got.to_bits(), want[t].to_bits(), "{t}");
        }
    }
}

//! A regime filter around any strategy: long targets count only while the close is above its
//! moving average; below it the symbol is held flat. Short targets pass through.

use crate::settings::MaKind;
use qts_data::features::kernels::sma;
use qts_data::features::running::RunningEma;

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

    fn sizes(&self) -> bool {
        self.inner.sizes()
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

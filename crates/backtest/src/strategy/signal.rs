//! Predictions as positions: a column of forecasts (from a model or a file), one per bar,
//! turned into long / flat / short targets by thresholds.

use chrono::NaiveDateTime;

use super::{Action, Context, Forecast, Strategy};
use crate::error::BacktestError;

/// A forecast column aligned to the bars' timestamps (NaN where there is none).
#[derive(Debug, Clone, Default)]
pub struct SignalSeries {
    /// Predicted next return per bar.
    pub prediction: Vec<f64>,
    /// Lower bound of the forecast interval, if given.
    pub lower: Option<Vec<f64>>,
    /// Upper bound, if given.
    pub upper: Option<Vec<f64>>,
}

impl SignalSeries {
    /// The `prediction` (and optional `lower`, `upper`) columns of a signals table read from
    /// `path`, aligned to `bars_time`.
    ///
    /// # Errors
    /// [`BacktestError::Input`] naming the file when it has no `prediction` column.
    pub fn from_table(
        table: &qts_data::io::Table,
        bars_time: &[NaiveDateTime],
        path: &str,
    ) -> Result<SignalSeries, BacktestError> {
        let Some(pred) = table.column("prediction") else {
            return Err(BacktestError::Input {
                path: path.to_string(),
                reason: format!(
                    "needs a `prediction` column (and optionally `lower`, `upper`); found {}",
                    table.names().join(",")
                ),
            });
        };
        let (lo, hi) = (table.column("lower"), table.column("upper"));
        let rows: Vec<_> = (0..table.time.len())
            .map(|i| (table.time[i], pred[i], lo.map(|c| c[i]), hi.map(|c| c[i])))
            .collect();
        Ok(SignalSeries::align(bars_time, &rows))
    }

    /// Aligns `(time, prediction, lower, upper)` rows to `bars_time`; bars without a row get NaN.
    pub fn align(
        bars_time: &[NaiveDateTime],
        rows: &[(NaiveDateTime, f64, Option<f64>, Option<f64>)],
    ) -> SignalSeries {
        let mut s = SignalSeries {
            prediction: vec![f64::NAN; bars_time.len()],
            lower: rows
                .iter()
                .any(|r| r.2.is_some())
                .then(|| vec![f64::NAN; bars_time.len()]),
            upper: rows
                .iter()
                .any(|r| r.3.is_some())
                .then(|| vec![f64::NAN; bars_time.len()]),
        };
        for (t, p, lo, hi) in rows {
            if let Ok(i) = bars_time.binary_search(t) {
                s.prediction[i] = *p;
                if let (Some(v), Some(col)) = (lo, s.lower.as_mut()) {
                    col[i] = *v;
                }
                if let (Some(v), Some(col)) = (hi, s.upper.as_mut()) {
                    col[i] = *v;
                }
            }
        }
        s
    }
}

/// Long above `long_above`, short below `short_below`, flat between.
#[derive(Debug)]
pub struct SignalStrategy {
    signal: SignalSeries,
    long_above: f64,
    short_below: f64,
}

impl SignalStrategy {
    /// A strategy over one symbol's forecast column.
    ///
    /// # Errors
    /// [`BacktestError::Parameter`] when `short_below > long_above`.
    pub fn new(
        signal: SignalSeries,
        long_above: f64,
        short_below: f64,
    ) -> Result<Self, BacktestError> {
        if short_below > long_above {
            return Err(BacktestError::Parameter {
                strategy: "signal".into(),
                param: "short_below".into(),
                reason: format!("must not exceed long_above ({long_above}), got {short_below}"),
            });
        }
        Ok(SignalStrategy {
            signal,
            long_above,
            short_below,
        })
    }
}

impl Strategy for SignalStrategy {
    fn name(&self) -> String {
        format!(
            "signal(long > {}, short < {})",
            self.long_above, self.short_below
        )
    }

    fn warmup(&self) -> usize {
        0
    }

    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        let t = ctx.t();
        let p = self.signal.prediction.get(t).copied().unwrap_or(f64::NAN);
        if p.is_nan() {
            return Vec::new();
        }
        let strength = if p > self.long_above {
            1.0
        } else if p < self.short_below {
            -1.0
        } else {
            0.0
        };
        let at = |c: &Option<Vec<f64>>| {
            c.as_ref()
                .and_then(|c| c.get(t).copied())
                .filter(|v| v.is_finite())
        };
        let forecast = Forecast {
            expected: p,
            lower: at(&self.signal.lower),
            upper: at(&self.signal.upper),
        };
        vec![Action::Target {
            symbol: 0,
            strength,
            forecast: Some(forecast),
        }]
    }
}

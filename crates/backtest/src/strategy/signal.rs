//! Predictions as positions: a column of forecasts (from a model or a file), one per bar,
//! turned into long / flat / short targets by thresholds.

use chrono::NaiveDateTime;

use super::{Action, Context, Forecast, Strategy};
use crate::error::BacktestError;

/// Forecasts aligned to the bars' timestamps (NaN where there is none): one column for one
/// symbol, or one per symbol of a universe (read from the long format
/// `date,symbol,prediction[,lower,upper][,split]`), stored bar by bar: the value of bar `t`
/// and symbol `s` is at `t × width + s`.
#[derive(Debug, Clone, Default)]
pub struct SignalSeries {
    /// The symbols, in the market's order, when read from the long format (empty: one
    /// unnamed column, the one-symbol format).
    pub symbols: Vec<String>,
    /// Predicted next return per bar (and symbol).
    pub prediction: Vec<f64>,
    /// Lower bound of the forecast interval, if given.
    pub lower: Option<Vec<f64>>,
    /// Upper bound, if given.
    pub upper: Option<Vec<f64>>,
    /// The model split each prediction's window ends in (`train`, `validation`, `test`,
    /// `unseen`; empty where there is no row), when the file says (`qts predict` writes it).
    pub split: Option<Vec<String>>,
}

/// The split labels a predictions file may carry.
pub const SPLITS: &[&str] = &["train", "validation", "test", "unseen"];

fn in_sample(label: &str) -> bool {
    label == "train" || label == "validation"
}

impl SignalSeries {
    /// Symbols per bar: 1 for the one-symbol format.
    pub fn width(&self) -> usize {
        self.symbols.len().max(1)
    }

    /// The prediction of bar `t` for symbol `s` (NaN where there is none).
    pub fn at(&self, t: usize, s: usize) -> f64 {
        self.prediction
            .get(t * self.width() + s)
            .copied()
            .unwrap_or(f64::NAN)
    }

    /// The forecast of bar `t` for symbol `s`, with its interval where the file gives one.
    pub fn forecast(&self, t: usize, s: usize) -> Option<Forecast> {
        let i = t * self.width() + s;
        let p = self.prediction.get(i).copied().filter(|p| !p.is_nan())?;
        let at = |c: &Option<Vec<f64>>| {
            c.as_ref()
                .and_then(|c| c.get(i).copied())
                .filter(|v| v.is_finite())
        };
        Some(Forecast {
            expected: p,
            lower: at(&self.lower),
            upper: at(&self.upper),
        })
    }

    /// The predictions of a long-format table (`date,symbol,prediction[,lower,upper][,split]`)
    /// for the market's `symbols` on `bars_time`, and a note naming the file's symbols that
    /// are not in the market (ignored).
    ///
    /// # Errors
    /// [`BacktestError::Input`] naming the file for a missing column, a non-finite
    /// prediction, a bad split label, a date and symbol given twice, or no row for any of the
    /// market's symbols on its dates.
    pub fn from_long_table(
        table: &qts_data::io::Table,
        bars_time: &[NaiveDateTime],
        symbols: &[&str],
        path: &str,
    ) -> Result<(SignalSeries, Option<String>), BacktestError> {
        let bad = |reason: String| BacktestError::Input {
            path: path.to_string(),
            reason,
        };
        let (Some(pred), Some(names)) = (table.column("prediction"), table.label("symbol")) else {
            return Err(bad(format!(
                "needs `date`, `symbol` and `prediction` columns (and optionally `lower`, `upper`, `split`); found {}",
                table.names().join(",")
            )));
        };
        let split = table.label("split");
        let (lo, hi) = (table.column("lower"), table.column("upper"));
        let w = symbols.len();
        let n = bars_time.len();
        let cells = n
            .checked_mul(w)
            .ok_or_else(|| bad("too many bars × symbols".into()))?;
        let mut out = SignalSeries {
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
            prediction: vec![f64::NAN; cells],
            lower: lo.map(|_| vec![f64::NAN; cells]),
            upper: hi.map(|_| vec![f64::NAN; cells]),
            split: split.map(|_| vec![String::new(); cells]),
        };
        let mut unknown: Vec<&str> = Vec::new();
        let mut matched = 0usize;
        for i in 0..table.time.len() {
            let day = table.time[i].date();
            // A data row's line in the file: the header is line 1.
            let row = i + 2;
            let name = names[i].as_str();
            if !pred[i].is_finite() {
                return Err(bad(format!(
                    "row {row}: the prediction of {name} on {day} is `{}`: every row needs a finite prediction (drop the row instead)",
                    pred[i]
                )));
            }
            if let Some(labels) = split
                && !SPLITS.contains(&labels[i].as_str())
            {
                return Err(bad(format!(
                    "row {row}: the split of {name} on {day} is `{}`; expected one of {}",
                    labels[i],
                    SPLITS.join(", ")
                )));
            }
            let Some(s) = symbols.iter().position(|x| *x == name) else {
                if !unknown.contains(&name) {
                    unknown.push(name);
                }
                continue;
            };
            let Ok(t) = bars_time.binary_search(&table.time[i]) else {
                continue;
            };
            let cell = t * w + s;
            if !out.prediction[cell].is_nan() {
                return Err(bad(format!(
                    "row {row}: {name} on {day} is given twice: one prediction per date and symbol"
                )));
            }
            out.prediction[cell] = pred[i];
            if let (Some(col), Some(v)) = (out.lower.as_mut(), lo) {
                col[cell] = v[i];
            }
            if let (Some(col), Some(v)) = (out.upper.as_mut(), hi) {
                col[cell] = v[i];
            }
            if let (Some(col), Some(v)) = (out.split.as_mut(), split) {
                col[cell] = v[i].clone();
            }
            matched += 1;
        }
        if matched == 0 {
            return Err(bad(format!(
                "no row for a symbol of the data ({}) on its dates",
                symbols.join(", ")
            )));
        }
        let note = (!unknown.is_empty()).then(|| {
            let shown: Vec<&str> = unknown.iter().take(10).copied().collect();
            format!(
                "{path}: {} symbol(s) not in the data were ignored: {}{}",
                unknown.len(),
                shown.join(", "),
                if unknown.len() > 10 { ", …" } else { "" }
            )
        });
        Ok((out, note))
    }

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
        let bad = |reason: String| BacktestError::Input {
            path: path.to_string(),
            reason,
        };
        if let Some(i) = pred.iter().position(|p| !p.is_finite()) {
            return Err(bad(format!(
                "the prediction of {} is `{}`: every row needs a finite prediction (drop the row instead)",
                table.time[i].date(),
                pred[i]
            )));
        }
        let split = table.label("split");
        if let Some(labels) = split
            && let Some(i) = labels.iter().position(|l| !SPLITS.contains(&l.as_str()))
        {
            return Err(bad(format!(
                "the split of {} is `{}`; expected one of {}",
                table.time[i].date(),
                labels[i],
                SPLITS.join(", ")
            )));
        }
        let (lo, hi) = (table.column("lower"), table.column("upper"));
        let rows: Vec<_> = (0..table.time.len())
            .map(|i| (table.time[i], pred[i], lo.map(|c| c[i]), hi.map(|c| c[i])))
            .collect();
        let mut s = SignalSeries::align(bars_time, &rows);
        if !s.prediction.iter().any(|p| p.is_finite()) {
            return Err(bad(format!(
                "no date in common with the bars ({} .. {} in the file, {} .. {} in the bars)",
                table
                    .time
                    .first()
                    .map_or("none".into(), |t| t.date().to_string()),
                table
                    .time
                    .last()
                    .map_or("none".into(), |t| t.date().to_string()),
                bars_time
                    .first()
                    .map_or("none".into(), |t| t.date().to_string()),
                bars_time
                    .last()
                    .map_or("none".into(), |t| t.date().to_string()),
            )));
        }
        if let Some(labels) = split {
            let mut aligned = vec![String::new(); bars_time.len()];
            for (t, l) in table.time.iter().zip(labels) {
                if let Ok(i) = bars_time.binary_search(t) {
                    aligned[i] = l.clone();
                }
            }
            s.split = Some(aligned);
        }
        Ok(s)
    }

    /// Predictions (with a value) that fall in the model's training or validation split.
    pub fn in_sample_rows(&self) -> usize {
        self.split.as_ref().map_or(0, |labels| {
            labels
                .iter()
                .zip(&self.prediction)
                .filter(|(l, p)| p.is_finite() && in_sample(l))
                .count()
        })
    }

    /// Drops the in-sample predictions (they become "no forecast"): what a signal backtest
    /// trades by default.
    pub fn out_of_sample(mut self) -> SignalSeries {
        if let Some(labels) = &self.split {
            for (p, l) in self.prediction.iter_mut().zip(labels) {
                if in_sample(l) {
                    *p = f64::NAN;
                }
            }
        }
        self
    }

    /// The first and last bar with a prediction (for any symbol).
    pub fn span(&self) -> Option<(usize, usize)> {
        let first = self.prediction.iter().position(|p| p.is_finite())?;
        let last = self.prediction.iter().rposition(|p| p.is_finite())?;
        Some((first / self.width(), last / self.width()))
    }

    /// Aligns `(time, prediction, lower, upper)` rows to `bars_time`; bars without a row get NaN.
    pub fn align(
        bars_time: &[NaiveDateTime],
        rows: &[(NaiveDateTime, f64, Option<f64>, Option<f64>)],
    ) -> SignalSeries {
        let mut s = SignalSeries {
            symbols: Vec::new(),
            prediction: vec![f64::NAN; bars_time.len()],
            lower: rows
                .iter()
                .any(|r| r.2.is_some())
                .then(|| vec![f64::NAN; bars_time.len()]),
            upper: rows
                .iter()
                .any(|r| r.3.is_some())
                .then(|| vec![f64::NAN; bars_time.len()]),
            split: None,
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

/// Long above `long_above`, short below `short_below`, flat between: each symbol by its own
/// forecast.
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
    fn forecasts(&self) -> Option<&SignalSeries> {
        Some(&self.signal)
    }

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
        (0..self.signal.width().min(ctx.symbols()))
            .filter_map(|symbol| {
                let forecast = self.signal.forecast(t, symbol)?;
                let p = forecast.expected;
                let strength = if p > self.long_above {
                    1.0
                } else if p < self.short_below {
                    -1.0
                } else {
                    0.0
                };
                Some(Action::Target {
                    symbol,
                    strength,
                    forecast: Some(forecast),
                })
            })
            .collect()
    }
}

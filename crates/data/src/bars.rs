//! A symbol's bars as columns: the shape every kernel reads without copying.

use chrono::NaiveDateTime;

use crate::error::DataError;

/// The largest price or volume qts computes with: above it the features' running sums and
/// squares (a 200-bar average, a variance) overflow to infinity and would come out empty. No
/// market quotes within many orders of magnitude of it; validation reports such bars.
pub const MAX_VALUE: f64 = 1e100;

/// Bars of one symbol, oldest first, one column per field. Timestamps are naive (exchange
/// local time); daily bars sit at midnight.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarSeries {
    /// Symbol or file stem.
    pub symbol: String,
    /// Bar timestamps.
    pub time: Vec<NaiveDateTime>,
    /// Opening prices.
    pub open: Vec<f64>,
    /// Highest prices.
    pub high: Vec<f64>,
    /// Lowest prices.
    pub low: Vec<f64>,
    /// Closing prices.
    pub close: Vec<f64>,
    /// Traded volume.
    pub volume: Vec<f64>,
    /// Split- and dividend-adjusted close, when the source has it.
    pub adj_close: Option<Vec<f64>>,
    /// 1-based source line of each bar, for messages (empty when not from a file).
    pub source_rows: Vec<usize>,
    /// Splits and dividends by ex-date, oldest first, still to apply on the series' price
    /// basis ([`crate::actions`]); empty when there are none or the basis holds them.
    pub actions: Vec<crate::actions::CorporateAction>,
}

impl BarSeries {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Checks that every column has one value per timestamp.
    ///
    /// # Errors
    /// [`DataError::Length`] naming the first column of the wrong length.
    pub fn check_lengths(&self) -> Result<(), DataError> {
        let n = self.len();
        let mut columns = vec![
            ("open", self.open.len()),
            ("high", self.high.len()),
            ("low", self.low.len()),
            ("close", self.close.len()),
            ("volume", self.volume.len()),
        ];
        if let Some(adj) = &self.adj_close {
            columns.push(("adj_close", adj.len()));
        }
        for (column, got) in columns {
            if got != n {
                return Err(DataError::Length {
                    column: column.into(),
                    got,
                    expected: n,
                });
            }
        }
        Ok(())
    }

    /// The source line of bar `i` (or its 1-based position when not from a file).
    pub fn row(&self, i: usize) -> usize {
        self.source_rows.get(i).copied().unwrap_or(i + 1)
    }

    /// The bars up to and including day `last` (later bars dropped): what a decision taken at
    /// `last`'s close may read.
    pub fn through(&self, last: chrono::NaiveDate) -> BarSeries {
        let n = self.time.partition_point(|t| t.date() <= last);
        BarSeries {
            symbol: self.symbol.clone(),
            time: self.time[..n].to_vec(),
            open: self.open[..n.min(self.open.len())].to_vec(),
            high: self.high[..n.min(self.high.len())].to_vec(),
            low: self.low[..n.min(self.low.len())].to_vec(),
            close: self.close[..n.min(self.close.len())].to_vec(),
            volume: self.volume[..n.min(self.volume.len())].to_vec(),
            adj_close: self
                .adj_close
                .as_ref()
                .map(|a| a[..n.min(a.len())].to_vec()),
            source_rows: self.source_rows[..n.min(self.source_rows.len())].to_vec(),
            // An action after the last bar is not known at its close.
            actions: self
                .actions
                .iter()
                .filter(|a| a.date <= last)
                .copied()
                .collect(),
        }
    }

    /// Whether every timestamp is at midnight (daily or coarser bars).
    pub fn is_daily(&self) -> bool {
        self.time.iter().all(|t| t.time() == chrono::NaiveTime::MIN)
    }

    /// Checks what every computation assumes: timestamps strictly increasing, prices finite
    /// and positive, `low ≤ open, close ≤ high`, volume finite and ≥ 0.
    ///
    /// # Errors
    /// [`DataError::Unusable`] with the first violation and its row.
    pub fn check_usable(&self) -> Result<(), DataError> {
        self.check_lengths()?;
        let fail = |i: usize, problem: String| DataError::Unusable {
            source_name: self.symbol.clone(),
            problem: format!("row {}: {problem}", self.row(i)),
        };
        if self.is_empty() {
            return Err(DataError::Unusable {
                source_name: self.symbol.clone(),
                problem: "no bars".into(),
            });
        }
        // One branch-light pass over zipped columns decides; only data that fails it is walked
        // again to name the first problem (this runs before every backtest).
        let prices_ok = self
            .open
            .iter()
            .zip(&self.high)
            .zip(&self.low)
            .zip(&self.close)
            .zip(&self.volume)
            .all(|((((&o, &h), &l), &c), &v)| {
                let positive = o > 0.0 && h > 0.0 && l > 0.0 && c > 0.0;
                let finite = o.is_finite() && h.is_finite() && l.is_finite() && c.is_finite();
                let bounded = o.max(h).max(l).max(c).max(v) <= MAX_VALUE;
                positive
                    & finite
                    & bounded
                    & (l <= o.min(c))
                    & (h >= o.max(c))
                    & v.is_finite()
                    & (v >= 0.0)
            });
        if prices_ok && self.time.windows(2).all(|w| w[0] < w[1]) {
            return Ok(());
        }
        for i in 0..self.len() {
            if i > 0 && self.time[i] <= self.time[i - 1] {
                let what = if self.time[i] == self.time[i - 1] {
                    "duplicate"
                } else {
                    "out-of-order"
                };
                return Err(fail(i, format!("{what} timestamp {}", self.time[i])));
            }
            let prices = [
                ("open", self.open[i]),
                ("high", self.high[i]),
                ("low", self.low[i]),
                ("close", self.close[i]),
            ];
            for (name, p) in prices {
                if !p.is_finite() || p <= 0.0 {
                    return Err(fail(
                        i,
                        format!("{name} is {p}; prices must be positive numbers"),
                    ));
                }
            }
            let (o, h, l, c) = (self.open[i], self.high[i], self.low[i], self.close[i]);
            let v = self.volume[i];
            if let Some((name, x)) = [
                ("open", o),
                ("high", h),
                ("low", l),
                ("close", c),
                ("volume", v),
            ]
            .into_iter()
            .find(|(_, x)| *x > MAX_VALUE)
            {
                return Err(fail(
                    i,
                    format!(
                        "{name} is {x:e}, above 1e100: the features' sums and squares would overflow"
                    ),
                ));
            }
            if l > o.min(c) || h < o.max(c) {
                return Err(fail(
                    i,
                    format!("inconsistent bar: open {o}, high {h}, low {l}, close {c}"),
                ));
            }
            let v = self.volume[i];
            if !v.is_finite() || v < 0.0 {
                return Err(fail(i, format!("volume is {v}; it must be 0 or more")));
            }
        }
        Ok(())
    }

    /// The bars as a table with the bar-file columns (`open`, `high`, `low`, `close`,
    /// `volume`, `adj_close` when present, and `dividend` and `split` when the bars carry
    /// actions: each on its ex-date's row, 0 where none), ready for [`crate::io::write_table`].
    pub fn to_table(&self) -> crate::io::Table {
        let mut columns = vec![
            ("open".to_string(), self.open.clone()),
            ("high".to_string(), self.high.clone()),
            ("low".to_string(), self.low.clone()),
            ("close".to_string(), self.close.clone()),
            ("volume".to_string(), self.volume.clone()),
        ];
        if let Some(adj) = &self.adj_close {
            columns.push(("adj_close".to_string(), adj.clone()));
        }
        if !self.actions.is_empty() {
            // On the row of the ex-date itself: an action between bars is kept on the next.
            let mut dividend = vec![0.0; self.len()];
            let mut split = vec![0.0; self.len()];
            for a in &self.actions {
                let at = self.time.partition_point(|t| t.date() < a.date);
                if at >= self.len() {
                    continue;
                }
                match a.kind {
                    crate::actions::ActionKind::Dividend => dividend[at] += a.value,
                    crate::actions::ActionKind::Split => {
                        split[at] = if split[at] == 0.0 {
                            a.value
                        } else {
                            split[at] * a.value
                        }
                    }
                }
            }
            columns.push(("dividend".to_string(), dividend));
            columns.push(("split".to_string(), split));
        }
        crate::io::Table {
            time: self.time.clone(),
            columns,
            labels: Vec::new(),
        }
    }

    /// The bars with open, high, low and close scaled by `adj_close / close` and volume by its
    /// inverse, so that returns include splits and dividends and traded value is unchanged.
    /// Without an `adj_close` column the bars are returned as they are.
    pub fn adjusted(&self) -> BarSeries {
        let Some(adj) = &self.adj_close else {
            return self.clone();
        };
        let factor: Vec<f64> = adj.iter().zip(&self.close).map(|(a, c)| a / c).collect();
        let scale = |col: &[f64]| col.iter().zip(&factor).map(|(x, f)| x * f).collect();
        BarSeries {
            symbol: self.symbol.clone(),
            time: self.time.clone(),
            open: scale(&self.open),
            high: scale(&self.high),
            low: scale(&self.low),
            close: adj.clone(),
            volume: self
                .volume
                .iter()
                .zip(&factor)
                .map(|(v, f)| v / f)
                .collect(),
            adj_close: Some(adj.clone()),
            source_rows: self.source_rows.clone(),
            // The adjusted close holds every split and dividend.
            actions: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn two_bars() -> BarSeries {
        BarSeries {
            symbol: "T".into(),
            time: vec![day(2020, 1, 2), day(2020, 1, 3)],
            open: vec![10.0, 20.0],
            high: vec![12.0, 22.0],
            low: vec![9.0, 19.0],
            close: vec![11.0, 21.0],
            volume: vec![100.0, 200.0],
            adj_close: Some(vec![5.5, 21.0]),
            source_rows: vec![2, 3],
            actions: Vec::new(),
        }
    }

    #[test]
    fn adjustment_scales_all_prices_and_keeps_traded_value() {
        let adj = two_bars().adjusted();
        assert_eq!(adj.open[0], 5.0);
        assert_eq!(adj.high[0], 6.0);
        assert_eq!(adj.low[0], 4.5);
        assert_eq!(adj.close[0], 5.5);
        assert_eq!(adj.volume[0], 200.0);
        assert_eq!(adj.open[1], 20.0);
        assert_eq!(adj.close[0] * adj.volume[0], 11.0 * 100.0);
    }

    #[test]
    fn unusable_bars_name_their_row() {
        let mut b = two_bars();
        assert!(b.check_usable().is_ok());
        b.time[1] = b.time[0];
        let e = b.check_usable().unwrap_err().to_string();
        assert!(e.contains("row 3: duplicate timestamp"), "{e}");
        let mut b = two_bars();
        b.low[1] = f64::NAN;
        let e = b.check_usable().unwrap_err().to_string();
        assert!(e.contains("row 3: low is NaN"), "{e}");
        let mut b = two_bars();
        b.high[0] = 10.5;
        let e = b.check_usable().unwrap_err().to_string();
        assert!(e.contains("row 2: inconsistent bar"), "{e}");
    }
}

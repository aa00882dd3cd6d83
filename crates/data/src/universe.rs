//! A universe of symbols with their own histories on one calendar.
//!
//! Real stocks never share their dates: one lists in 2004, another is delisted in 2009, a third
//! misses a day its exchange halted it. [`union_calendar`] puts every series on the union of
//! their dates; a date a symbol has no bar on holds NaN in its price columns (and volume). That
//! is the one convention every consumer reads ([`has_bar`]): before a symbol's first bar it is
//! not in the universe, after its last bar (a delisting, when the calendar goes on) it is gone,
//! and a missing day inside its history is a day it cannot be traded.

use chrono::NaiveDateTime;

use crate::bars::BarSeries;
use crate::error::DataError;

/// Whether series `b` has a bar at `t` (on a union calendar a missing bar's close is NaN).
pub fn has_bar(b: &BarSeries, t: usize) -> bool {
    b.close.get(t).is_some_and(|c| !c.is_nan())
}

/// Whether some bar of `b` is missing (NaN close): a series on a union calendar.
pub fn is_ragged(b: &BarSeries) -> bool {
    b.close.iter().any(|c| c.is_nan())
}

/// Where a symbol's history sits on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    /// Index of its first bar.
    pub first: usize,
    /// Index of its last bar.
    pub last: usize,
    /// Dates inside `first..=last` it has no bar on.
    pub missing: usize,
}

impl Listing {
    /// The listing of `b` (None when it has no bar at all).
    pub fn of(b: &BarSeries) -> Option<Listing> {
        let first = b.close.iter().position(|c| !c.is_nan())?;
        let last = b.close.iter().rposition(|c| !c.is_nan())?;
        let missing = b.close[first..=last].iter().filter(|c| c.is_nan()).count();
        Some(Listing {
            first,
            last,
            missing,
        })
    }
}

/// Checks that every missing bar of `b` is missing whole: a NaN close with NaN open, high
/// and low (a lone NaN price is a broken bar, not a day without one).
///
/// # Errors
/// [`DataError::Unusable`] naming the row.
pub fn check_missing(b: &BarSeries) -> Result<(), DataError> {
    b.check_lengths()?;
    for t in (0..b.len()).filter(|&t| !has_bar(b, t)) {
        for (name, v) in [("open", b.open[t]), ("high", b.high[t]), ("low", b.low[t])] {
            if !v.is_nan() {
                return Err(DataError::Unusable {
                    source_name: b.symbol.clone(),
                    problem: format!(
                        "row {}: close is NaN but {name} is {v}; prices must be positive numbers (a date without a bar has NaN in every price)",
                        b.row(t)
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The bars of `b` that are present (the rows of its own file), for checks and kernels that
/// read a series without holes.
pub fn present(b: &BarSeries) -> BarSeries {
    if !is_ragged(b) {
        return b.clone();
    }
    let keep: Vec<usize> = (0..b.len()).filter(|&t| has_bar(b, t)).collect();
    let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    BarSeries {
        symbol: b.symbol.clone(),
        time: keep.iter().map(|&i| b.time[i]).collect(),
        open: pick(&b.open),
        high: pick(&b.high),
        low: pick(&b.low),
        close: pick(&b.close),
        volume: pick(&b.volume),
        adj_close: b.adj_close.as_deref().map(pick),
        source_rows: keep
            .iter()
            .map(|&i| b.source_rows.get(i).copied().unwrap_or(i + 1))
            .collect(),
        actions: b.actions.clone(),
    }
}

/// `kernel` over the present bars of `b`, its values put back on the calendar: NaN before the
/// first bar, and a missing day inside or after the history carries the last value (what was
/// known at that date).
pub fn on_present(b: &BarSeries, kernel: impl Fn(&BarSeries) -> Vec<f64>) -> Vec<f64> {
    if !is_ragged(b) {
        return kernel(b);
    }
    let values = kernel(&present(b));
    let mut out = vec![f64::NAN; b.len()];
    let mut k = 0;
    let mut last = f64::NAN;
    for (t, o) in out.iter_mut().enumerate() {
        if has_bar(b, t) {
            last = values.get(k).copied().unwrap_or(f64::NAN);
            k += 1;
            *o = last;
        } else if k > 0 {
            *o = last;
        }
    }
    out
}

/// Each close carried over the missing days after it (NaN before the first bar): the price a
/// position is marked at.
pub fn carried_closes(b: &BarSeries) -> Vec<f64> {
    let mut last = f64::NAN;
    b.close
        .iter()
        .map(|&c| {
            if !c.is_nan() {
                last = c;
            }
            last
        })
        .collect()
}

/// Puts every series on the union of their dates (see the module comment). Series that
/// already share their dates are returned as they are.
///
/// # Errors
/// [`DataError::Unusable`] when two series have the same symbol, or a series' timestamps are
/// not strictly increasing (check each series first).
pub fn union_calendar(series: Vec<BarSeries>) -> Result<Vec<BarSeries>, DataError> {
    for (i, s) in series.iter().enumerate() {
        if series[..i].iter().any(|o| o.symbol == s.symbol) {
            return Err(DataError::Unusable {
                source_name: s.symbol.clone(),
                problem: "given twice: every symbol of a universe must be distinct".into(),
            });
        }
        if let Some(w) = s.time.windows(2).position(|w| w[0] >= w[1]) {
            return Err(DataError::Unusable {
                source_name: s.symbol.clone(),
                problem: format!(
                    "row {}: timestamps must increase ({} then {})",
                    s.row(w + 1),
                    s.time[w],
                    s.time[w + 1]
                ),
            });
        }
    }
    let Some(first) = series.first() else {
        return Ok(series);
    };
    if series.iter().all(|s| s.time == first.time) {
        return Ok(series);
    }
    let mut time: Vec<NaiveDateTime> = series.iter().flat_map(|s| s.time.iter().copied()).collect();
    time.sort_unstable();
    time.dedup();
    Ok(series
        .into_iter()
        .map(|s| {
            let n = time.len();
            let mut out = BarSeries {
                symbol: s.symbol.clone(),
                time: time.clone(),
                open: vec![f64::NAN; n],
                high: vec![f64::NAN; n],
                low: vec![f64::NAN; n],
                close: vec![f64::NAN; n],
                volume: vec![f64::NAN; n],
                adj_close: s.adj_close.as_ref().map(|_| vec![f64::NAN; n]),
                source_rows: vec![0; n],
                actions: s.actions.clone(),
            };
            // Both are sorted: one merge pass.
            let mut j = 0;
            for (i, t) in s.time.iter().enumerate() {
                while time[j] < *t {
                    j += 1;
                }
                out.open[j] = s.open[i];
                out.high[j] = s.high[i];
                out.low[j] = s.low[i];
                out.close[j] = s.close[i];
                out.volume[j] = s.volume[i];
                if let (Some(a), Some(src)) = (out.adj_close.as_mut(), s.adj_close.as_ref()) {
                    a[j] = src[i];
                }
                out.source_rows[j] = s.row(i);
            }
            out
        })
        .collect())
}

/// What a result on a ragged universe states: the list is the one given, who listed late, who
/// left early, who misses days (empty when every series shares the calendar).
pub fn notes(bars: &[BarSeries]) -> Vec<String> {
    if !bars.iter().any(is_ragged) {
        return Vec::new();
    }
    let time = &bars[0].time;
    let day = |i: usize| time[i].date().to_string();
    let (mut late, mut gone, mut holes) = (Vec::new(), Vec::new(), Vec::new());
    for b in bars {
        let Some(l) = Listing::of(b) else { continue };
        if l.first > 0 {
            late.push(format!("{} from {}", b.symbol, day(l.first)));
        }
        if l.last + 1 < time.len() {
            gone.push(format!("{} after {}", b.symbol, day(l.last)));
        }
        if l.missing > 0 {
            holes.push(format!("{} ({})", b.symbol, l.missing));
        }
    }
    let mut out = vec![format!(
        "a universe of {} symbols on the union of their dates ({} .. {}): the universe is the list given, so survivorship bias is the user's to judge; a symbol is traded only on dates it has a bar",
        bars.len(),
        day(0),
        day(time.len() - 1)
    )];
    if !late.is_empty() {
        out.push(format!("listed later: {}", late.join(", ")));
    }
    if !gone.is_empty() {
        out.push(format!(
            "no bars after their last (a position is closed at its last close on the first close without its bar, reason `delisted`): {}",
            gone.join(", ")
        ));
    }
    if !holes.is_empty() {
        out.push(format!(
            "days missing inside the history (held at the last close, not traded): {}",
            holes.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(symbol: &str, days: &[u32], close: &[f64]) -> BarSeries {
        let time = days
            .iter()
            .map(|d| {
                chrono::NaiveDate::from_ymd_opt(2024, 1, *d)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
            })
            .collect();
        BarSeries {
            symbol: symbol.into(),
            time,
            open: close.to_vec(),
            high: close.to_vec(),
            low: close.to_vec(),
            close: close.to_vec(),
            volume: vec![1.0; close.len()],
            adj_close: None,
            source_rows: (2..close.len() + 2).collect(),
            actions: Vec::new(),
        }
    }

    #[test]
    fn symbols_keep_their_histories_on_the_union_of_dates() {
        let a = series("A", &[2, 3, 4, 5], &[1.0, 2.0, 3.0, 4.0]);
        // B lists on the 3rd, misses the 4th; C leaves after the 3rd.
        let b = series("B", &[3, 5], &[10.0, 11.0]);
        let c = series("C", &[2, 3], &[5.0, 6.0]);
        let u = union_calendar(vec![a, b, c]).unwrap();
        assert!(u.iter().all(|s| s.len() == 4 && s.time == u[0].time));
        assert!(u[1].close[0].is_nan() && u[1].close[2].is_nan());
        assert_eq!(u[1].close[3], 11.0);
        assert_eq!(u[1].source_rows[3], 3);
        assert_eq!(
            Listing::of(&u[1]),
            Some(Listing {
                first: 1,
                last: 3,
                missing: 1
            })
        );
        assert_eq!(carried_closes(&u[1])[2], 10.0);
        assert!(carried_closes(&u[1])[0].is_nan());
        assert_eq!(carried_closes(&u[2])[3], 6.0);
        assert_eq!(present(&u[1]).close, vec![10.0, 11.0]);
        // A kernel over the present bars, carried over the holes.
        let sums = on_present(&u[1], |p| vec![p.close[0], p.close[0] + p.close[1]]);
        assert!(sums[0].is_nan());
        assert_eq!(&sums[1..], &[10.0, 10.0, 21.0]);
        let notes = notes(&u).join("\n");
        assert!(notes.contains("B from 2024-01-03"), "{notes}");
        assert!(notes.contains("C after 2024-01-03"), "{notes}");
        assert!(notes.contains("B (1)"), "{notes}");
    }

    #[test]
    fn shared_dates_stay_as_they_are_and_duplicates_are_refused() {
        let a = series("A", &[2, 3], &[1.0, 2.0]);
        let b = series("B", &[2, 3], &[3.0, 4.0]);
        let u = union_calendar(vec![a.clone(), b]).unwrap();
        assert_eq!(u[0], a);
        assert!(notes(&u).is_empty());
        let e = union_calendar(vec![a.clone(), a]).unwrap_err().to_string();
        assert!(e.contains("given twice"), "{e}");
    }
}

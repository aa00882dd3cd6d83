//! Dated return series: `date,return` files, or levels (`close`, `equity`, `adj_close`) turned
//! into simple returns, or a Parquet bar file's closes.

use std::path::Path;

use chrono::NaiveDateTime;

use super::{Format, read_bars, read_csv_table};
use crate::error::DataError;

/// Returns and the date each one ends on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReturnSeries {
    /// Dates, ascending.
    pub time: Vec<NaiveDateTime>,
    /// Simple returns.
    pub returns: Vec<f64>,
}

pub use qts_core::stats::simple_returns;

/// Reads `date,return`, or `date,close|equity|adj_close` (simple returns are taken), or a
/// Parquet bar file's closes.
///
/// # Errors
/// [`DataError`] naming the file: unreadable, no usable column, dates not ascending, or a
/// return that is missing or not finite (with its date).
pub fn read_returns(path: &Path) -> Result<ReturnSeries, DataError> {
    let from_levels = |time: Vec<NaiveDateTime>, levels: Vec<f64>| ReturnSeries {
        returns: simple_returns(&levels),
        time: time.into_iter().skip(1).collect(),
    };
    let content = |reason: String| DataError::Content {
        path: path.display().to_string(),
        reason,
    };
    if Format::of(path)? == Format::Parquet {
        let bars = read_bars(path)?;
        return Ok(from_levels(bars.time, bars.close));
    }
    let table = read_csv_table(path)?;
    if table.time.windows(2).any(|w| w[1] <= w[0]) {
        return Err(content("dates must be unique and ascending".into()));
    }
    let series = if let Some(r) = table.column("return") {
        ReturnSeries {
            returns: r.to_vec(),
            time: table.time.clone(),
        }
    } else if let Some(c) = ["close", "equity", "adj_close"]
        .iter()
        .find_map(|n| table.column(n))
    {
        from_levels(table.time.clone(), c.to_vec())
    } else {
        return Err(content(format!(
            "needs a `return` column, or a `close` or `equity` column; found {}",
            table.names().join(",")
        )));
    };
    if let Some(i) = series.returns.iter().position(|r| !r.is_finite()) {
        return Err(content(format!(
            "the return ending {} is missing or not finite; fill or drop that row",
            series.time[i].date()
        )));
    }
    Ok(series)
}

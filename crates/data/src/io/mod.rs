//! Reading bars from and writing tables to CSV and Parquet files.

mod csv;
mod parquet;
mod table;

use std::path::Path;

use crate::bars::BarSeries;
use crate::error::DataError;

pub use self::csv::{parse_number, parse_time, read_csv, read_csv_table};
pub use self::parquet::{
    read_parquet, read_parquet_metadata, write_parquet, write_parquet_with_metadata,
};
pub use self::table::{Table, write_csv, write_table};

/// File formats qts reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated text with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format a file's extension names.
    ///
    /// # Errors
    /// [`DataError::UnsupportedFormat`] for any other extension.
    pub fn of(path: &Path) -> Result<Format, DataError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            _ => Err(DataError::UnsupportedFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Reads bars from a CSV or Parquet file with columns `date,open,high,low,close,volume`
/// (optional `adj_close`; header names are case-insensitive). Values are read as they are:
/// unsorted dates, duplicates, NaN or negative prices are left for validation to report
/// ([`BarSeries::check_usable`] refuses them before a computation).
///
/// # Errors
/// [`DataError`] naming the file, and the row and column where a value does not parse.
pub fn read_bars(path: &Path) -> Result<BarSeries, DataError> {
    match Format::of(path)? {
        Format::Csv => read_csv(path),
        Format::Parquet => read_parquet(path),
    }
}

/// The canonical name of a bar column from a header cell, if it is one.
pub(crate) fn bar_column(header: &str) -> Option<&'static str> {
    let key: String = header
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .collect();
    Some(match key.as_str() {
        "date" | "datetime" | "timestamp" | "time" => "date",
        "open" => "open",
        "high" => "high",
        "low" => "low",
        "close" => "close",
        "volume" => "volume",
        "adjclose" | "adjustedclose" => "adj_close",
        _ => return None,
    })
}

/// The symbol a file's stem suggests (`data/AAPL.csv` → `AAPL`).
pub(crate) fn symbol_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) const REQUIRED: [&str; 6] = ["date", "open", "high", "low", "close", "volume"];

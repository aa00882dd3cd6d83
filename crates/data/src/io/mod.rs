//! Reading bars from and writing tables to CSV and Parquet files.

mod csv;
pub mod limits;
mod parquet;
mod returns;
mod table;

use std::path::Path;

use crate::settings::{Layout, ReadLimits};

use crate::bars::BarSeries;
use crate::error::DataError;

pub use self::csv::{
    parse_csv, parse_csv_as, parse_csv_table, parse_csv_table_with, parse_csv_wide, parse_csv_with,
    parse_number, parse_time, read_csv, read_csv_table, read_csv_table_with,
};
pub use self::parquet::{
    parse_parquet, parse_parquet_with, read_parquet, read_parquet_metadata, write_parquet,
    write_parquet_with_metadata,
};
pub use self::returns::{ReturnSeries, read_returns, simple_returns};
pub use self::table::{TEXT_COLUMNS, Table, write_csv, write_table};

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
    read_bars_with(path, &ReadLimits::default())
}

/// [`read_bars`] under the configured `data.limits`.
///
/// # Errors
/// As [`read_bars`], and [`DataError::Limit`] for a file over a cap.
pub fn read_bars_with(path: &Path, limits: &ReadLimits) -> Result<BarSeries, DataError> {
    read_bars_as(path, limits, &Layout::default())
}

/// [`read_bars_with`] for CSV files laid out as `layout` says
/// (`data.providers.local.columns`, `date_format`).
///
/// # Errors
/// As [`read_bars_with`].
pub fn read_bars_as(
    path: &Path,
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<BarSeries, DataError> {
    Ok(read_one_hashed(path, limits, layout)?.0)
}

/// [`read_bars_as`] and the SHA-256 (hex) of the file's bytes.
///
/// # Errors
/// As [`read_bars_as`].
pub fn read_one_hashed(
    path: &Path,
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<(BarSeries, String), DataError> {
    let (mut all, hash) = read_all_hashed_as(&[path], limits, layout)?;
    if all.len() > 1 {
        return Err(DataError::Content {
            path: path.display().to_string(),
            reason: format!(
                "a wide file of {} symbols' closes ({}…), where one series is read: give it to a command that trades several (`qts backtest --data`), or one file per symbol",
                all.len(),
                all[0].symbol
            ),
        });
    }
    Ok((all.remove(0), hash))
}

/// [`read_bars`], and the SHA-256 (hex) of the bytes the bars were parsed from: the file is
/// read once for both, so the hash stamped on a result is that of the data it used.
///
/// # Errors
/// As [`read_bars`].
pub fn read_bars_hashed(path: &Path) -> Result<(BarSeries, String), DataError> {
    let (mut all, hash) = read_all_hashed(&[path])?;
    Ok((all.remove(0), hash))
}

/// Bars of several files, and one SHA-256 (hex) over their bytes in order; each file is
/// read once.
///
/// # Errors
/// As [`read_bars`], for the first file that fails.
pub fn read_all_hashed(paths: &[impl AsRef<Path>]) -> Result<(Vec<BarSeries>, String), DataError> {
    read_all_hashed_with(paths, &ReadLimits::default())
}

/// [`read_all_hashed`] under the configured `data.limits`.
///
/// # Errors
/// As [`read_all_hashed`], and [`DataError::Limit`] for a file over a cap.
pub fn read_all_hashed_with(
    paths: &[impl AsRef<Path>],
    limits: &ReadLimits,
) -> Result<(Vec<BarSeries>, String), DataError> {
    read_all_hashed_as(paths, limits, &Layout::default())
}

/// [`read_all_hashed_with`] for CSV files laid out as `layout` says.
///
/// # Errors
/// As [`read_all_hashed_with`].
pub fn read_all_hashed_as(
    paths: &[impl AsRef<Path>],
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<(Vec<BarSeries>, String), DataError> {
    let (all, hash) = read_all_sourced(paths, limits, layout)?;
    Ok((all.into_iter().map(|(b, _)| b).collect(), hash))
}

/// [`read_all_hashed_as`], each series with the file it came from: a wide file of closes
/// gives one series per symbol column.
///
/// # Errors
/// As [`read_all_hashed_as`].
pub fn read_all_sourced(
    paths: &[impl AsRef<Path>],
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<(Vec<(BarSeries, std::path::PathBuf)>, String), DataError> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut all = Vec::with_capacity(paths.len());
    for path in paths {
        let path = path.as_ref();
        Format::of(path)?;
        let bytes = limits::read_file(path, limits)?;
        hasher.update(&bytes);
        all.extend(
            parse_file(path, bytes, limits, layout)?
                .into_iter()
                .map(|b| (b, path.to_path_buf())),
        );
    }
    Ok((all, qts_core::hex::encode(&hasher.finalize())))
}

/// The series of one file: one, or one per symbol of a wide CSV file of closes.
pub fn parse_file(
    path: &Path,
    bytes: Vec<u8>,
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<Vec<BarSeries>, DataError> {
    if Format::of(path)? == Format::Csv
        && let Some(wide) = parse_csv_wide(path, &bytes, limits, layout)?
    {
        return Ok(wide);
    }
    Ok(vec![parse_bytes(path, bytes, limits, layout)?])
}

/// Bars from the bytes of the file at `path` (its extension says the format).
pub(crate) fn parse_bytes(
    path: &Path,
    bytes: Vec<u8>,
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<BarSeries, DataError> {
    match Format::of(path)? {
        Format::Csv => parse_csv_as(path, &bytes, limits, layout),
        Format::Parquet => parse_parquet_with(path, bytes.into(), limits),
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
        // yfinance's `Dividends`, Alpha Vantage's `dividend_amount`.
        "dividend" | "dividends" | "dividendamount" => "dividend",
        // yfinance's `Stock Splits` (0 = none), Alpha Vantage's `split_coefficient` (1 = none).
        "split" | "splits" | "stocksplits" | "splitcoefficient" => "split",
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

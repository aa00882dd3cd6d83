//! A time-indexed table of `f64` columns (features, predictions) and its CSV/Parquet writers.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDateTime;

use super::Format;
use crate::error::DataError;

/// Columns of `f64` sharing one time index; NaN means "no value" (a warm-up row).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Row timestamps.
    pub time: Vec<NaiveDateTime>,
    /// Named columns, each as long as `time`.
    pub columns: Vec<(String, Vec<f64>)>,
    /// Named text columns (the [`TEXT_COLUMNS`], e.g. a prediction's `split`), each as long
    /// as `time`; written after the numeric columns.
    pub labels: Vec<(String, Vec<String>)>,
}

/// Columns read as text rather than numbers.
pub const TEXT_COLUMNS: &[&str] = &["split", "symbol"];

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The text column called `name`.
    pub fn label(&self, name: &str) -> Option<&[String]> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Column names in order (numeric, then text).
    pub fn names(&self) -> Vec<&str> {
        self.columns
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.labels.iter().map(|(n, _)| n.as_str()))
            .collect()
    }

    /// The rows from `first` on (all columns cut alike).
    pub fn rows_from(&self, first: usize) -> Table {
        let first = first.min(self.time.len());
        Table {
            time: self.time[first..].to_vec(),
            columns: self
                .columns
                .iter()
                .map(|(n, v)| (n.clone(), v[first..].to_vec()))
                .collect(),
            labels: self
                .labels
                .iter()
                .map(|(n, v)| (n.clone(), v[first..].to_vec()))
                .collect(),
        }
    }

    pub(crate) fn is_daily(&self) -> bool {
        self.time.iter().all(|t| t.time() == chrono::NaiveTime::MIN)
    }
}

/// Writes `table` as CSV or Parquet (by extension), atomically: a temporary file beside the
/// target is renamed over it, so a reader never sees half a file.
///
/// # Errors
/// [`DataError::Write`] or [`DataError::UnsupportedFormat`].
pub fn write_table(table: &Table, path: &Path) -> Result<(), DataError> {
    match Format::of(path)? {
        Format::Csv => write_csv(table, path),
        Format::Parquet => super::write_parquet(table, path),
    }
}

/// Writes CSV: `date` then each column; NaN cells are empty; daily tables print dates only.
///
/// # Errors
/// [`DataError::Write`].
pub fn write_csv(table: &Table, path: &Path) -> Result<(), DataError> {
    atomic_write(path, |out| {
        let daily = table.is_daily();
        let mut line = String::from("date");
        for name in table.names() {
            line.push(',');
            line.push_str(name);
        }
        writeln!(out, "{line}")?;
        for (i, t) in table.time.iter().enumerate() {
            line.clear();
            if daily {
                line.push_str(&t.format("%Y-%m-%d").to_string());
            } else {
                line.push_str(&t.format("%Y-%m-%d %H:%M:%S").to_string());
            }
            for (_, col) in &table.columns {
                line.push(',');
                let v = col[i];
                if v.is_finite() {
                    // f64's Display is the shortest text that reads back to the same value.
                    use std::fmt::Write as _;
                    let _ = write!(line, "{v}");
                }
            }
            for (_, col) in &table.labels {
                line.push(',');
                line.push_str(&col[i]);
            }
            writeln!(out, "{line}")?;
        }
        Ok(())
    })
}

/// Runs `write` into a temporary file next to `path`, then renames it over `path`
/// ([`qts_core::fs::write_atomic_with`]).
pub(crate) fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut qts_core::fs::AtomicWriter) -> std::io::Result<()>,
) -> Result<(), DataError> {
    qts_core::fs::write_atomic_with(path, write).map_err(|e| DataError::Write {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

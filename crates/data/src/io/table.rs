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
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Column names in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
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
        for (name, _) in &table.columns {
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
            writeln!(out, "{line}")?;
        }
        Ok(())
    })
}

/// Runs `write` into a temporary file next to `path`, then renames it over `path`.
pub(crate) fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), DataError> {
    let fail = |e: std::io::Error| DataError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()?;
        out.get_ref().sync_all()
    });
    if let Err(e) = result.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

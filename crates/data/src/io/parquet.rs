//! Parquet bars and tables, through arrow-rs: files pandas and polars open as they are.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::settings::ReadLimits;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, Date32Array, Float64Array, RecordBatch, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::table::{Table, atomic_write};
use super::{REQUIRED, bar_column, symbol_of};
use crate::bars::BarSeries;
use crate::error::DataError;

const EPOCH_DAYS_CE: i32 = 719_163;

/// Reads bars from a Parquet file (see [`super::read_bars`]). The date column may be a
/// Date32/Date64, a Timestamp of any unit, or ISO text; prices any integer or float type.
///
/// # Errors
/// [`DataError`] naming the file, and the row and column of a value that cannot be used.
pub fn read_parquet(path: &Path) -> Result<BarSeries, DataError> {
    let limits = ReadLimits::default();
    parse_parquet_with(
        path,
        super::limits::read_file(path, &limits)?.into(),
        &limits,
    )
}

/// Parses the bytes of a Parquet bar file read from `path` (named in errors); see
/// [`read_parquet`].
///
/// # Errors
/// As [`read_parquet`].
pub fn parse_parquet(path: &Path, bytes: bytes::Bytes) -> Result<BarSeries, DataError> {
    parse_parquet_with(path, bytes, &ReadLimits::default())
}

/// [`parse_parquet`] under the configured `data.limits`: the rows and columns the file's
/// footer declares are checked before any column is decoded.
///
/// # Errors
/// As [`read_parquet`], and [`DataError::Limit`] for a file over a cap.
pub fn parse_parquet_with(
    path: &Path,
    bytes: bytes::Bytes,
    caps: &ReadLimits,
) -> Result<BarSeries, DataError> {
    let read_err = |reason: String| DataError::Read {
        path: path.to_path_buf(),
        source: reason.into(),
    };
    let show = path.display();
    super::limits::check(
        &show,
        bytes.len() as u64,
        "bytes",
        "max_bytes",
        caps.max_bytes,
    )?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| read_err(format!("not a readable Parquet file ({e})")))?;
    let meta = builder.metadata().file_metadata();
    // The footer's total and its row groups' sum: a file could understate one of them.
    let groups: i64 = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows().max(0))
        .fold(0i64, i64::saturating_add);
    let rows = u64::try_from(meta.num_rows().max(groups)).unwrap_or(u64::MAX);
    super::limits::check(&show, rows, "rows", "max_rows", caps.max_rows)?;
    let columns = meta.schema_descr().num_columns() as u64;
    super::limits::check(&show, columns, "columns", "max_columns", caps.max_columns)?;
    let reader = builder
        .build()
        .map_err(|e| read_err(format!("not a readable Parquet file ({e})")))?;
    let mut bars = BarSeries {
        symbol: symbol_of(path),
        ..BarSeries::default()
    };
    let mut adj: Vec<f64> = Vec::new();
    let mut has_adj = false;
    let mut offset = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| read_err(e.to_string()))?;
        let schema = batch.schema();
        let find = |name: &str| {
            schema
                .fields()
                .iter()
                .position(|f| bar_column(f.name()) == Some(name))
                .map(|i| batch.column(i).clone())
        };
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|n| find(n).is_none())
            .collect();
        if !missing.is_empty() {
            let found: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(DataError::MissingColumns {
                path: path.to_path_buf(),
                missing: missing.join(","),
                found: found.join(","),
            });
        }
        let col = |name: &str| find(name).ok_or_else(|| read_err(format!("no `{name}` column")));
        let bad = |column: &str, row: usize, reason: String| DataError::BadValue {
            path: path.to_path_buf(),
            row: offset + row + 1,
            column: column.into(),
            reason,
        };
        bars.time
            .extend(times(&col("date")?, |row, r| bad("date", row, r))?);
        for (name, target) in [
            ("open", &mut bars.open),
            ("high", &mut bars.high),
            ("low", &mut bars.low),
            ("close", &mut bars.close),
            ("volume", &mut bars.volume),
        ] {
            target.extend(numbers(&col(name)?, |r| bad(name, 0, r))?);
        }
        if let Some(a) = find("adj_close") {
            has_adj = true;
            adj.extend(numbers(&a, |r| bad("adj_close", 0, r))?);
        }
        let first = bars.time.len() - batch.num_rows();
        for (name, kind) in crate::actions::ActionKind::COLUMNS {
            let Some(a) = find(name) else { continue };
            for (row, x) in numbers(&a, |r| bad(name, 0, r))?.into_iter().enumerate() {
                if let Some(value) = kind.cell(x).map_err(|m| bad(name, row, m))? {
                    bars.actions.push(crate::actions::CorporateAction {
                        date: bars.time[first + row].date(),
                        kind,
                        value,
                    });
                }
            }
        }
        offset += batch.num_rows();
    }
    if bars.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    bars.adj_close = has_adj.then_some(adj);
    bars.actions.sort_by_key(|a| a.date);
    Ok(bars)
}

fn numbers(array: &ArrayRef, bad: impl Fn(String) -> DataError) -> Result<Vec<f64>, DataError> {
    let n = array.len();
    let get = |i: usize, v: f64| if array.is_null(i) { f64::NAN } else { v };
    Ok(match array.data_type() {
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            (0..n).map(|i| get(i, a.value(i))).collect()
        }
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            (0..n).map(|i| get(i, f64::from(a.value(i)))).collect()
        }
        DataType::Int64 => {
            let a = array.as_primitive::<Int64Type>();
            (0..n).map(|i| get(i, a.value(i) as f64)).collect()
        }
        DataType::Int32 => {
            let a = array.as_primitive::<Int32Type>();
            (0..n).map(|i| get(i, f64::from(a.value(i)))).collect()
        }
        DataType::UInt64 => {
            let a = array.as_primitive::<UInt64Type>();
            (0..n).map(|i| get(i, a.value(i) as f64)).collect()
        }
        other => return Err(bad(format!("has type {other}, expected a number"))),
    })
}

fn times(
    array: &ArrayRef,
    bad: impl Fn(usize, String) -> DataError,
) -> Result<Vec<NaiveDateTime>, DataError> {
    let n = array.len();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0);
    let from_nanos = |ns: i64| DateTime::from_timestamp_nanos(ns).naive_utc();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if array.is_null(i) {
            return Err(bad(i, "is empty".into()));
        }
        let t = match array.data_type() {
            DataType::Date32 => {
                let days = array.as_primitive::<Date32Type>().value(i);
                NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_CE).and_then(midnight)
            }
            DataType::Date64 => {
                let ms = array.as_primitive::<Date64Type>().value(i);
                DateTime::from_timestamp_millis(ms).map(|d| d.naive_utc())
            }
            DataType::Timestamp(unit, _) => Some(match unit {
                TimeUnit::Second => {
                    from_nanos(array.as_primitive::<TimestampSecondType>().value(i) * 1_000_000_000)
                }
                TimeUnit::Millisecond => from_nanos(
                    array.as_primitive::<TimestampMillisecondType>().value(i) * 1_000_000,
                ),
                TimeUnit::Microsecond => {
                    from_nanos(array.as_primitive::<TimestampMicrosecondType>().value(i) * 1_000)
                }
                TimeUnit::Nanosecond => {
                    from_nanos(array.as_primitive::<TimestampNanosecondType>().value(i))
                }
            }),
            DataType::Utf8 => super::parse_time(array.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => super::parse_time(array.as_string::<i64>().value(i)),
            other => return Err(bad(i, format!("has type {other}, expected a date"))),
        };
        out.push(t.ok_or_else(|| bad(i, "is not a valid date".into()))?);
    }
    Ok(out)
}

/// Writes a table as Parquet: `date` (Date32 for daily rows, else a millisecond timestamp)
/// and one nullable Float64 column per series (NaN becomes null). Zstd-compressed, atomic.
///
/// # Errors
/// [`DataError::Write`].
pub fn write_parquet(table: &Table, path: &Path) -> Result<(), DataError> {
    write_parquet_with_metadata(table, path, BTreeMap::new())
}

/// The file's key-value metadata (empty when it has none).
///
/// # Errors
/// [`DataError::Read`] when the file is not readable Parquet.
pub fn read_parquet_metadata(path: &Path) -> Result<BTreeMap<String, String>, DataError> {
    let read_err = |reason: String| DataError::Read {
        path: path.to_path_buf(),
        source: reason.into(),
    };
    let file = std::fs::File::open(path).map_err(|e| read_err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| read_err(format!("not a readable Parquet file ({e})")))?;
    Ok(builder
        .schema()
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

/// [`write_parquet`] with key-value metadata stored in the file's schema.
///
/// # Errors
/// [`DataError::Write`].
pub fn write_parquet_with_metadata(
    table: &Table,
    path: &Path,
    metadata: BTreeMap<String, String>,
) -> Result<(), DataError> {
    let fail = |reason: String| DataError::Write {
        path: path.to_path_buf(),
        source: reason.into(),
    };
    let (date_field, dates): (Field, ArrayRef) = if table.is_daily() {
        let days = table
            .time
            .iter()
            .map(|t| t.date().num_days_from_ce() - EPOCH_DAYS_CE);
        let array = Date32Array::from_iter_values(days);
        (Field::new("date", DataType::Date32, false), Arc::new(array))
    } else {
        let ms = table.time.iter().map(|t| t.and_utc().timestamp_millis());
        let array = TimestampMillisecondArray::from_iter_values(ms);
        let ty = DataType::Timestamp(TimeUnit::Millisecond, None);
        (Field::new("date", ty, false), Arc::new(array))
    };
    let mut fields = vec![date_field];
    let mut arrays = vec![dates];
    for (name, values) in &table.columns {
        fields.push(Field::new(name, DataType::Float64, true));
        let array: Float64Array = values.iter().map(|v| v.is_finite().then_some(*v)).collect();
        arrays.push(Arc::new(array));
    }
    for (name, values) in &table.labels {
        fields.push(Field::new(name, DataType::Utf8, false));
        let array = arrow_array::StringArray::from_iter_values(values);
        arrays.push(Arc::new(array));
    }
    let schema = Arc::new(Schema::new(fields).with_metadata(metadata));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| fail(e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut error = None;
    atomic_write(path, |out| {
        let result = ArrowWriter::try_new(out, schema, Some(props)).and_then(|mut w| {
            w.write(&batch)?;
            w.close().map(|_| ())
        });
        result.map_err(|e| {
            error = Some(e.to_string());
            std::io::Error::other("parquet")
        })
    })
    .map_err(|e| match error.take() {
        Some(reason) => fail(reason),
        None => e,
    })
}

use chrono::Datelike;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_trip_through_parquet_with_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let day = |d| {
            NaiveDate::from_ymd_opt(2020, 1, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
        };
        let table = Table {
            time: vec![day(2), day(3)],
            columns: vec![
                ("open".into(), vec![1.0, 2.0]),
                ("high".into(), vec![2.0, 3.0]),
                ("low".into(), vec![0.5, 1.5]),
                ("close".into(), vec![1.5, f64::NAN]),
                ("volume".into(), vec![10.0, 20.0]),
            ],
            labels: Vec::new(),
        };
        write_parquet(&table, &path).unwrap();
        let bars = read_parquet(&path).unwrap();
        assert_eq!(bars.time, table.time);
        assert_eq!(bars.open, vec![1.0, 2.0]);
        assert_eq!(bars.close[0], 1.5);
        assert!(bars.close[1].is_nan(), "null reads back as NaN");
        assert_eq!(bars.symbol, "t");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.parquet");
        std::fs::write(&path, b"PAR1 not really").unwrap();
        let e = read_parquet(&path).unwrap_err().to_string();
        assert!(
            e.contains("bad.parquet: cannot read: not a readable Parquet file"),
            "{e}"
        );
    }
}

//! Arrow record batches to and from the library's plain types, for the Python extensions
//! (`qts._qts` and `qts_torch._native`): both read and write tables the same way.
//!
//! The Python half hands over tables already normalised (a naive `time` column of
//! `timestamp[us]`, `float64` values, text as `string`), so this side only checks and copies;
//! every refusal names the source, the column and the row.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, NaiveDateTime};
use qts_data::BarSeries;

/// The time column's name in every table that crosses the boundary.
pub const TIME: &str = "time";

/// Why a table cannot be read: the source, the column and the row are in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TableError(pub String);

/// The columns of a table, its batches side by side.
pub struct Columns {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    source: String,
}

impl Columns {
    /// The batches of a table read from `source` (named in errors).
    pub fn new(batches: Vec<RecordBatch>, schema: SchemaRef, source: &str) -> Columns {
        Columns {
            batches,
            schema,
            source: source.to_string(),
        }
    }

    /// Rows over all batches.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Whether a column is there.
    pub fn has(&self, name: &str) -> bool {
        self.schema.field_with_name(name).is_ok()
    }

    /// Column names in order.
    pub fn names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn arrays(&self, name: &str) -> Result<Vec<ArrayRef>, TableError> {
        let index = self.schema.index_of(name).map_err(|_| {
            TableError(format!(
                "{}: no `{name}` column (columns: {})",
                self.source,
                self.names().join(", ")
            ))
        })?;
        Ok(self
            .batches
            .iter()
            .map(|b| b.column(index).clone())
            .collect())
    }

    /// The naive `time` column.
    pub fn time(&self) -> Result<Vec<NaiveDateTime>, TableError> {
        let mut out = Vec::with_capacity(self.rows());
        for array in self.arrays(TIME)? {
            let Some(values) = array.as_primitive_opt::<TimestampMicrosecondType>() else {
                return Err(TableError(format!(
                    "{}: column `{TIME}` is {}, expected naive timestamp[us]",
                    self.source,
                    array.data_type()
                )));
            };
            for i in 0..values.len() {
                let row = out.len();
                if values.is_null(i) {
                    return Err(TableError(format!(
                        "{}: row {row}: `{TIME}` is missing",
                        self.source
                    )));
                }
                let t = DateTime::from_timestamp_micros(values.value(i)).ok_or_else(|| {
                    TableError(format!(
                        "{}: row {row}: `{TIME}` is out of range",
                        self.source
                    ))
                })?;
                out.push(t.naive_utc());
            }
        }
        Ok(out)
    }

    /// A `float64` column; a null is NaN (what the library reads as "no value", and what
    /// validation names with its row).
    pub fn float(&self, name: &str) -> Result<Vec<f64>, TableError> {
        let mut out = Vec::with_capacity(self.rows());
        for array in self.arrays(name)? {
            let Some(values) = array.as_primitive_opt::<Float64Type>() else {
                return Err(TableError(format!(
                    "{}: column `{name}` is {}, expected float64",
                    self.source,
                    array.data_type()
                )));
            };
            out.extend((0..values.len()).map(|i| {
                if values.is_null(i) {
                    f64::NAN
                } else {
                    values.value(i)
                }
            }));
        }
        Ok(out)
    }

    /// A text column; a null is the empty string.
    pub fn text(&self, name: &str) -> Result<Vec<String>, TableError> {
        let mut out = Vec::with_capacity(self.rows());
        for array in self.arrays(name)? {
            let Some(values) = array.as_string_opt::<i32>() else {
                return Err(TableError(format!(
                    "{}: column `{name}` is {}, expected string",
                    self.source,
                    array.data_type()
                )));
            };
            out.extend((0..values.len()).map(|i| {
                if values.is_null(i) {
                    String::new()
                } else {
                    values.value(i).to_string()
                }
            }));
        }
        Ok(out)
    }

    /// One symbol's bars: `time`, `open`, `high`, `low`, `close`, `volume` [, `adj_close`];
    /// rows numbered from 0 (as `DataFrame.iloc` counts them).
    pub fn bars(&self, symbol: &str) -> Result<BarSeries, TableError> {
        let time = self.time()?;
        let rows = time.len();
        let adj_close = if self.has("adj_close") {
            Some(self.float("adj_close")?)
        } else {
            None
        };
        let series = BarSeries {
            symbol: symbol.to_string(),
            open: self.float("open")?,
            high: self.float("high")?,
            low: self.float("low")?,
            close: self.float("close")?,
            volume: self.float("volume")?,
            adj_close,
            source_rows: (0..rows).collect(),
            actions: self.actions(&time)?,
            time,
        };
        series
            .check_lengths()
            .map_err(|e| TableError(e.to_string()))?;
        Ok(series)
    }

    /// The `dividend` and `split` columns' actions (cash per share, new shares per old share,
    /// on the ex-date's row; 0, 1 for a split, or NaN where none), when the frame has them.
    fn actions(
        &self,
        time: &[chrono::NaiveDateTime],
    ) -> Result<Vec<qts_data::actions::CorporateAction>, TableError> {
        use qts_data::actions::{ActionKind, CorporateAction};
        let mut out = Vec::new();
        for (column, kind) in ActionKind::COLUMNS {
            if !self.has(column) {
                continue;
            }
            for (row, (t, v)) in time.iter().zip(self.float(column)?).enumerate() {
                let value = kind
                    .cell(v)
                    .map_err(|m| TableError(format!("row {row}, column `{column}`: {m}")))?;
                if let Some(value) = value {
                    out.push(CorporateAction {
                        date: t.date(),
                        kind,
                        value,
                    });
                }
            }
        }
        out.sort_by_key(|a| a.date);
        Ok(out)
    }

    /// A library table: the `float64` columns as numbers, the library's text columns
    /// (`split`) as text.
    pub fn table(&self) -> Result<qts_data::io::Table, TableError> {
        let mut out = qts_data::io::Table {
            time: self.time()?,
            ..Default::default()
        };
        for name in self.names() {
            if name == TIME {
                continue;
            }
            if qts_data::io::TEXT_COLUMNS.contains(&name.as_str()) {
                let values = self.text(&name)?;
                out.labels.push((name, values));
            } else {
                let values = self.float(&name)?;
                out.columns.push((name, values));
            }
        }
        Ok(out)
    }
}

/// SHA-256 (hex) of bars' values, each to the bit, row by row in a fixed order: the same
/// values give the same stamp, whichever frame library held them.
pub fn values_hash(series: &BarSeries) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut row = Vec::with_capacity(56);
    for i in 0..series.len() {
        row.clear();
        row.extend(series.time[i].and_utc().timestamp_micros().to_le_bytes());
        for column in [
            &series.open,
            &series.high,
            &series.low,
            &series.close,
            &series.volume,
        ] {
            row.extend(column[i].to_bits().to_le_bytes());
        }
        if let Some(adj) = &series.adj_close {
            row.extend(adj[i].to_bits().to_le_bytes());
        }
        hasher.update(&row);
    }
    qts_core::hex::encode(&hasher.finalize())
}

/// The data hash stamped on a result of several symbols' bars ([`qts_core::hex::combined`]).
pub use qts_core::hex::combined as combined_hash;

/// Builds a record batch column by column.
#[derive(Default)]
pub struct Batch {
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

impl Batch {
    /// A naive `timestamp[us]` column.
    pub fn time(mut self, name: &str, values: &[NaiveDateTime]) -> Batch {
        let mut b = TimestampMicrosecondBuilder::with_capacity(values.len());
        for t in values {
            b.append_value(t.and_utc().timestamp_micros());
        }
        self.fields.push(Field::new(
            name,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ));
        self.columns.push(Arc::new(b.finish()));
        self
    }

    /// A `float64` column.
    pub fn float(mut self, name: &str, values: impl IntoIterator<Item = f64>) -> Batch {
        let mut b = Float64Builder::new();
        for v in values {
            b.append_value(v);
        }
        self.fields.push(Field::new(name, DataType::Float64, false));
        self.columns.push(Arc::new(b.finish()));
        self
    }

    /// A `string` column.
    pub fn text<S: AsRef<str>>(mut self, name: &str, values: impl IntoIterator<Item = S>) -> Batch {
        let mut b = StringBuilder::new();
        for v in values {
            b.append_value(v.as_ref());
        }
        self.fields.push(Field::new(name, DataType::Utf8, false));
        self.columns.push(Arc::new(b.finish()));
        self
    }

    /// The batch and its schema.
    ///
    /// # Errors
    /// [`TableError`] when the columns' lengths differ (a bug of the caller).
    pub fn finish(self) -> Result<(RecordBatch, SchemaRef), TableError> {
        let schema = Arc::new(Schema::new(self.fields));
        let batch = RecordBatch::try_new(schema.clone(), self.columns)
            .map_err(|e| TableError(format!("cannot build an Arrow table: {e}")))?;
        Ok((batch, schema))
    }
}

/// Bars as a batch: `time`, `open`, `high`, `low`, `close`, `volume` [, `adj_close`].
pub fn bars_batch(s: &BarSeries) -> Batch {
    if !s.actions.is_empty() {
        // The bar file's columns, `dividend` and `split` on each ex-date's row (0 where none):
        // what a frame given back to qts is read with.
        return table_batch(&s.to_table());
    }
    let b = Batch::default()
        .time(TIME, &s.time)
        .float("open", s.open.iter().copied())
        .float("high", s.high.iter().copied())
        .float("low", s.low.iter().copied())
        .float("close", s.close.iter().copied())
        .float("volume", s.volume.iter().copied());
    match &s.adj_close {
        Some(adj) => b.float("adj_close", adj.iter().copied()),
        None => b,
    }
}

/// A library table (time, numeric columns, text columns) as a batch.
pub fn table_batch(t: &qts_data::io::Table) -> Batch {
    let mut b = Batch::default().time(TIME, &t.time);
    for (name, values) in &t.columns {
        b = b.float(name, values.iter().copied());
    }
    for (name, values) in &t.labels {
        b = b.text(name, values);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> BarSeries {
        let day = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2024, 1, d)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default()
        };
        BarSeries {
            symbol: "X".into(),
            time: vec![day(2), day(3)],
            open: vec![1.0, 2.0],
            high: vec![1.5, 2.5],
            low: vec![0.5, 1.5],
            close: vec![1.25, 2.25],
            volume: vec![10.0, 20.0],
            adj_close: None,
            source_rows: vec![0, 1],
            actions: Vec::new(),
        }
    }

    #[test]
    fn bars_survive_a_batch_and_keep_their_hash() -> Result<(), TableError> {
        let original = bars();
        let (batch, schema) = bars_batch(&original).finish()?;
        let back = Columns::new(vec![batch], schema, "frame").bars("X")?;
        assert_eq!(back, original);
        assert_eq!(values_hash(&back), values_hash(&original));
        let mut moved = original.clone();
        moved.close[1] = 2.2500000000000004;
        assert_ne!(values_hash(&moved), values_hash(&original));
        Ok(())
    }

    #[test]
    fn a_missing_or_mistyped_column_is_named() -> Result<(), TableError> {
        let (batch, schema) = Batch::default()
            .time(TIME, &bars().time)
            .text("close", ["a", "b"])
            .finish()?;
        let c = Columns::new(vec![batch], schema, "frame");
        assert_eq!(
            c.bars("X").err().map(|e| e.0),
            Some("frame: no `open` column (columns: time, close)".into())
        );
        assert_eq!(
            c.float("close").err().map(|e| e.0),
            Some("frame: column `close` is Utf8, expected float64".into())
        );
        Ok(())
    }
}

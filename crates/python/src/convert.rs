//! Arrow record batches to and from the library's plain types.
//!
//! The Python half hands over tables already normalised (a naive `time` column of
//! `timestamp[us]`, `float64` values, text as `string`), so this side only checks and copies;
//! every refusal names the column and the row.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_pyarrow::Table;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, NaiveDateTime};
use pyo3::PyResult;

use crate::errors::DataError;

/// The time column's name in every table that crosses the boundary.
pub(crate) const TIME: &str = "time";

/// One column of a table, the batches joined.
pub(crate) struct Columns {
    batches: Vec<RecordBatch>,
    schema: Arc<Schema>,
    source: String,
}

impl Columns {
    pub(crate) fn new(table: Table, source: &str) -> Columns {
        let (batches, schema) = table.into_inner();
        Columns {
            batches,
            schema,
            source: source.to_string(),
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.schema.field_with_name(name).is_ok()
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn arrays(&self, name: &str) -> PyResult<Vec<ArrayRef>> {
        let index = self.schema.index_of(name).map_err(|_| {
            DataError::new_err(format!(
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
    pub(crate) fn time(&self) -> PyResult<Vec<NaiveDateTime>> {
        let mut out = Vec::with_capacity(self.rows());
        for array in self.arrays(TIME)? {
            let Some(values) = array.as_primitive_opt::<TimestampMicrosecondType>() else {
                return Err(DataError::new_err(format!(
                    "{}: column `{TIME}` is {}, expected naive timestamp[us]",
                    self.source,
                    array.data_type()
                )));
            };
            for i in 0..values.len() {
                let row = out.len();
                if values.is_null(i) {
                    return Err(DataError::new_err(format!(
                        "{}: row {row}: `{TIME}` is missing",
                        self.source
                    )));
                }
                let t = DateTime::from_timestamp_micros(values.value(i)).ok_or_else(|| {
                    DataError::new_err(format!(
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
    pub(crate) fn float(&self, name: &str) -> PyResult<Vec<f64>> {
        let mut out = Vec::with_capacity(self.rows());
        for array in self.arrays(name)? {
            let Some(values) = array.as_primitive_opt::<arrow_array::types::Float64Type>() else {
                return Err(DataError::new_err(format!(
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
    pub(crate) fn text(&self, name: &str) -> PyResult<Vec<String>> {
        let mut out = Vec::with_capacity(self.rows());
        for array in self.arrays(name)? {
            let Some(values) = array.as_string_opt::<i32>() else {
                return Err(DataError::new_err(format!(
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
}

/// Builds a record batch column by column.
#[derive(Default)]
pub(crate) struct Batch {
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

impl Batch {
    pub(crate) fn time(mut self, name: &str, values: &[NaiveDateTime]) -> Batch {
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

    pub(crate) fn float(mut self, name: &str, values: impl IntoIterator<Item = f64>) -> Batch {
        let mut b = Float64Builder::new();
        for v in values {
            b.append_value(v);
        }
        self.fields.push(Field::new(name, DataType::Float64, false));
        self.columns.push(Arc::new(b.finish()));
        self
    }

    pub(crate) fn text<S: AsRef<str>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = S>,
    ) -> Batch {
        let mut b = StringBuilder::new();
        for v in values {
            b.append_value(v.as_ref());
        }
        self.fields.push(Field::new(name, DataType::Utf8, false));
        self.columns.push(Arc::new(b.finish()));
        self
    }

    pub(crate) fn finish(self) -> PyResult<Table> {
        let schema = Arc::new(Schema::new(self.fields));
        let batch = RecordBatch::try_new(schema.clone(), self.columns)
            .map_err(|e| crate::errors::other(format!("cannot build an Arrow table: {e}")))?;
        Table::try_new(vec![batch], schema)
            .map_err(|e| crate::errors::other(format!("cannot build an Arrow table: {e}")))
    }
}

/// A library table (time, numeric columns, text columns) as Arrow.
pub(crate) fn table(t: &qts_data::io::Table) -> PyResult<Table> {
    let mut b = Batch::default().time(TIME, &t.time);
    for (name, values) in &t.columns {
        b = b.float(name, values.iter().copied());
    }
    for (name, values) in &t.labels {
        b = b.text(name, values);
    }
    b.finish()
}

/// An Arrow table with a `time` column as a library table: the other `float64` columns as
/// numbers, the library's text columns (`split`) as text.
pub(crate) fn from_table(columns: &Columns) -> PyResult<qts_data::io::Table> {
    let mut out = qts_data::io::Table {
        time: columns.time()?,
        ..Default::default()
    };
    for name in columns.names() {
        if name == TIME {
            continue;
        }
        if qts_data::io::TEXT_COLUMNS.contains(&name.as_str()) {
            let values = columns.text(&name)?;
            out.labels.push((name, values));
        } else {
            let values = columns.float(&name)?;
            out.columns.push((name, values));
        }
    }
    Ok(out)
}

//! pyarrow tables in and out, through [`qts_arrow`] (shared with the model extension).

use arrow_pyarrow::{PyArrowType, Table};
use pyo3::PyResult;
use qts_arrow::{Batch, Columns, TableError};

use crate::errors::DataError;

/// A table's refusal as [`DataError`].
pub(crate) fn refused(e: TableError) -> pyo3::PyErr {
    DataError::new_err(e.0)
}

/// The columns of a pyarrow table read from `source`.
pub(crate) fn columns(table: PyArrowType<Table>, source: &str) -> Columns {
    let (batches, schema) = table.0.into_inner();
    Columns::new(batches, schema, source)
}

/// A built batch as a pyarrow table.
pub(crate) fn to_py(batch: Batch) -> PyResult<PyArrowType<Table>> {
    let (batch, schema) = batch.finish().map_err(|e| crate::errors::other(e.0))?;
    Table::try_new(vec![batch], schema)
        .map(PyArrowType)
        .map_err(|e| crate::errors::other(format!("cannot build an Arrow table: {e}")))
}

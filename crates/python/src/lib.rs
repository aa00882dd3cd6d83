//! `qts._qts`, the native half of the `qts` Python package.
//!
//! Each function here is one call into the library crates, the same ones the `qts` command
//! makes, so a notebook and the CLI cannot give different numbers. Tables cross the boundary
//! as Arrow record batches (the Arrow C data interface, through pyarrow); the Python half
//! (`python/qts/`) turns pandas and polars frames into them and back.
//!
//! The model functions (train, predict) need libtorch and are not in this module: it links
//! the torch-free crates only, as `qts` does.

use pyo3::prelude::*;

mod api;
mod backtest;
mod errors;
mod interrupt;
mod research;
mod tables;

/// The module `qts._qts`.
#[pymodule]
fn _qts(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    api::register(m)?;
    backtest::register(m)?;
    research::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

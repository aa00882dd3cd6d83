//! The data path: the whole normalised feature matrix goes to the device once; a batch is a
//! gather of its windows there (`index_select` of `end − lookback + 1 ..= end` rows), so no
//! window is copied on the host and no batch crosses the bus but its indices.

use tch::{Device, Kind, Tensor};

use crate::error::ModelError;

/// Plain data in: a row-major matrix of normalised features.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// `rows × width` values, row-major.
    pub values: &'a [f32],
    /// Features per row.
    pub width: usize,
    /// Rows per window.
    pub lookback: usize,
}

impl Series<'_> {
    /// Rows in the matrix.
    pub fn rows(&self) -> usize {
        self.values.len() / self.width.max(1)
    }

    /// Checks the shape, and that every window ending at `ends` fits and is finite.
    ///
    /// # Errors
    /// [`ModelError::Input`] naming the first bad row.
    pub fn check(&self, ends: &[usize]) -> Result<(), ModelError> {
        if self.width == 0 || !self.values.len().is_multiple_of(self.width) {
            return Err(ModelError::Input(format!(
                "{} values do not make rows of {} features",
                self.values.len(),
                self.width
            )));
        }
        let rows = self.rows();
        if let Some(&e) = ends.iter().find(|&&e| e + 1 < self.lookback || e >= rows) {
            return Err(ModelError::Input(format!(
                "no full {}-row window ends at row {e} of {rows}",
                self.lookback
            )));
        }
        if let Some(i) = self.values.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::Input(format!(
                "feature {} of row {} is not finite",
                i % self.width,
                i / self.width
            )));
        }
        Ok(())
    }
}

/// A series resident on a device.
#[derive(Debug)]
pub struct DeviceSeries {
    values: Tensor,
    offsets: Tensor,
    width: i64,
}

impl DeviceSeries {
    /// Uploads `series` to `device`.
    pub fn new(series: &Series, device: Device) -> DeviceSeries {
        let lookback = series.lookback as i64;
        DeviceSeries {
            values: Tensor::from_slice(series.values)
                .view([-1, series.width as i64])
                .to_device(device),
            offsets: Tensor::arange_start(1 - lookback, 1, (Kind::Int64, device)),
            width: series.width as i64,
        }
    }

    /// Windows `[batch, lookback, width]` ending at the rows in `ends` (an int64 tensor on
    /// the same device).
    pub fn windows(&self, ends: &Tensor) -> Tensor {
        let rows = ends.unsqueeze(1) + self.offsets.unsqueeze(0);
        let (b, l) = (rows.size()[0], rows.size()[1]);
        self.values
            .index_select(0, &rows.view([-1]))
            .view([b, l, self.width])
    }
}

/// Row indices as an int64 tensor on `device`.
pub fn index_tensor(rows: &[usize], device: Device) -> Tensor {
    let v: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    Tensor::from_slice(&v).to_device(device)
}

/// A tensor's values on the host as f64, flattened (one copy back from the device).
///
/// # Errors
/// [`ModelError::Torch`] when the copy fails.
pub fn host(t: &Tensor) -> Result<Vec<f64>, ModelError> {
    let t = t
        .to_device(Device::Cpu)
        .to_kind(Kind::Double)
        .contiguous()
        .view([-1]);
    Ok(Vec::<f64>::try_from(&t)?)
}

//! A `state_dict` saved by `torch.save(model.state_dict(), FILE)`, read by libtorch's own
//! unpickler, and turned into safetensors bytes with the same names, so it goes through the
//! same checks and the same registry files as a safetensors import.

use std::path::Path;

use crate::error::ModelError;
use crate::weights;

/// Reads the tensors of a `.pt` state dict and returns them as float32 safetensors.
///
/// # Errors
/// [`ModelError::Format`] naming the file when libtorch cannot read it as a state dict.
pub fn pt_to_safetensors(path: &Path) -> Result<Vec<u8>, ModelError> {
    if !path.exists() {
        return Err(ModelError::Io {
            path: path.to_path_buf(),
            reason: "no such file".into(),
        });
    }
    let named = tch::Tensor::loadz_multi(path).map_err(|e| ModelError::Format {
        path: path.to_path_buf(),
        reason: format!(
            "not a PyTorch state dict saved with torch.save(model.state_dict(), …): {}",
            first_line(&e.to_string())
        ),
    })?;
    if named.is_empty() {
        return Err(ModelError::Format {
            path: path.to_path_buf(),
            reason: "holds no tensors".into(),
        });
    }
    let mut named = named;
    named.sort_by(|a, b| a.0.cmp(&b.0));
    weights::to_safetensors(&named)
}

// libtorch appends a C++ backtrace to its messages; the first line says what went wrong.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

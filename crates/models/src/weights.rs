//! Named tensors to and from safetensors bytes (float32, PyTorch's names), with every missing,
//! unexpected or mis-shaped tensor named when they do not fit a network.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::SafeTensors;
use safetensors::tensor::Dtype;
use tch::{Kind, Tensor, nn};

use crate::error::ModelError;

/// Serialises `tensors` (any device, any float kind) as float32 safetensors.
///
/// # Errors
/// [`ModelError::Torch`] when a tensor cannot be copied to the host.
pub fn to_safetensors(tensors: &[(String, Tensor)]) -> Result<Vec<u8>, ModelError> {
    let mut host: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, t) in tensors {
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let flat = t
            .detach()
            .to_device(tch::Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous()
            .view([-1]);
        let values = Vec::<f32>::try_from(&flat)?;
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        host.push((name.clone(), shape, bytes));
    }
    // Serialising the views can only fail on an inconsistent shape: an encoding error, not
    // libtorch's.
    crate::import::f32_safetensors(&host).map_err(|e| ModelError::Encode {
        what: "weights (safetensors)",
        source: e.into(),
    })
}

/// The variables of a var store, by name, sorted.
pub fn variables(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Reads float32 (or float64/float16/bfloat16) tensors from safetensors bytes.
///
/// # Errors
/// [`ModelError::Format`] naming `path` when the bytes are not safetensors or a dtype is not
/// a float.
pub fn read_safetensors(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, Tensor>, ModelError> {
    let format = |source: String| ModelError::Format {
        path: path.to_path_buf(),
        source: source.into(),
    };
    let st = SafeTensors::deserialize(bytes).map_err(|e| ModelError::Format {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let kind = match view.dtype() {
            Dtype::F32 => Kind::Float,
            Dtype::F64 => Kind::Double,
            Dtype::F16 => Kind::Half,
            Dtype::BF16 => Kind::BFloat16,
            other => return Err(format(format!("`{name}` is {other:?}, not a float tensor"))),
        };
        // The header's dimensions are checked by safetensors only through their product with
        // the data's length: a zero beside 2^63 passes, and would reach libtorch as negative.
        let shape: Vec<i64> = view
            .shape()
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<Result<_, _>>()
            .map_err(|_| {
                format(format!(
                    "`{name}` has a dimension beyond 2^63 ({:?})",
                    view.shape()
                ))
            })?;
        let t = Tensor::f_from_data_size(view.data(), &shape, kind)?;
        out.insert(name, t.to_kind(Kind::Float));
    }
    Ok(out)
}

/// Copies `tensors` into the var store's variables. Every variable must be present with its
/// shape and nothing else may be: otherwise the error lists each problem (the sign of a
/// checkpoint from another architecture).
///
/// # Errors
/// [`ModelError::Weights`] naming `path` and every problem.
pub fn load_into(
    vs: &nn::VarStore,
    tensors: &BTreeMap<String, Tensor>,
    path: &Path,
) -> Result<(), ModelError> {
    let vars = variables(vs);
    let mut problems = Vec::new();
    for (name, var) in &vars {
        match tensors.get(name) {
            None => problems.push(format!("missing `{name}` {:?}", var.size())),
            Some(t) if t.size() != var.size() => problems.push(format!(
                "`{name}` has shape {:?}, the network needs {:?}",
                t.size(),
                var.size()
            )),
            Some(_) => {}
        }
    }
    for name in tensors.keys() {
        if !vars.iter().any(|(n, _)| n == name) {
            problems.push(format!("unexpected `{name}`"));
        }
    }
    if !problems.is_empty() {
        return Err(ModelError::Weights {
            path: path.to_path_buf(),
            problems: problems.join("; "),
        });
    }
    tch::no_grad(|| -> Result<(), ModelError> {
        for (name, mut var) in vars {
            if let Some(src) = tensors.get(&name) {
                var.f_copy_(&src.to_device(var.device()).to_kind(var.kind()))?;
            }
        }
        Ok(())
    })
}

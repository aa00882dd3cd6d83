//! Weights from PyTorch. The user's current model is
//! `self.lstm = nn.LSTM(n_in, hidden, layers, batch_first=True[, bidirectional=…])` and
//! `self.head = nn.Linear(hidden × directions, 1)`; its `state_dict` saved as safetensors
//! (`safetensors.torch.save_file(model.state_dict(), FILE)`) has, for each layer `k` and, when
//! bidirectional, the `_reverse` direction:
//!
//! | key | shape |
//! |---|---|
//! | `lstm.weight_ih_l{k}` | `[4·hidden, n_in]` (layer 0) or `[4·hidden, hidden·directions]` |
//! | `lstm.weight_hh_l{k}` | `[4·hidden, hidden]` |
//! | `lstm.bias_ih_l{k}`, `lstm.bias_hh_l{k}` | `[4·hidden]` |
//! | `head.weight` | `[1, hidden·directions]` |
//! | `head.bias` | `[1]` |
//!
//! The input size is read from `lstm.weight_ih_l0`; hidden size, layers and directions must
//! agree with the configuration, and every missing, unexpected or mis-shaped key is named.

use std::collections::BTreeMap;
use std::path::Path;

use crate::settings::LstmConfig;
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};

use crate::error::ModelError;

/// What the checked weights describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LstmShape {
    /// Input features per step.
    pub input_size: usize,
    /// Hidden units.
    pub hidden_size: usize,
    /// Layers.
    pub num_layers: usize,
    /// Whether bidirectional.
    pub bidirectional: bool,
}

/// Serialises named float32 tensors given as `(name, shape, little-endian bytes)`.
///
/// # Errors
/// The name of a tensor whose bytes do not fit its shape, or the serialiser's message.
pub fn f32_safetensors(tensors: &[(String, Vec<usize>, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (n.clone(), v))
                .map_err(|e| format!("`{n}`: {e}"))
        })
        .collect::<Result<_, _>>()?;
    safetensors::serialize(views, None).map_err(|e| e.to_string())
}

/// Checks an LSTM + linear-head state dict in safetensors `bytes` against `cfg`.
///
/// # Errors
/// [`ModelError::Format`] for a file that is not safetensors; [`ModelError::Weights`] listing
/// every problem otherwise.
pub fn check_lstm_safetensors(
    path: &Path,
    bytes: &[u8],
    cfg: &LstmConfig,
) -> Result<LstmShape, ModelError> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| ModelError::Format {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let shapes: BTreeMap<String, Vec<usize>> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec()))
        .collect();
    let fail = |problems: Vec<String>| ModelError::Weights {
        path: path.to_path_buf(),
        problems: problems.join("; "),
    };
    let Some(first) = shapes.get("lstm.weight_ih_l0") else {
        return Err(fail(vec![
            "missing key `lstm.weight_ih_l0` (is this an nn.LSTM named `lstm`?)".into(),
        ]));
    };
    let [gates, input_size] = first.as_slice() else {
        return Err(fail(vec![format!(
            "`lstm.weight_ih_l0` has shape {first:?}, expected [4*hidden, n_in]"
        )]));
    };
    let hidden = gates / 4;
    let layers = (0..)
        .take_while(|k| shapes.contains_key(&format!("lstm.weight_ih_l{k}")))
        .count();
    let bidirectional = shapes.contains_key("lstm.weight_ih_l0_reverse");
    let mut problems = Vec::new();
    if gates % 4 != 0 {
        problems.push(format!(
            "`lstm.weight_ih_l0` has {gates} rows, not a multiple of 4"
        ));
    }
    if hidden != cfg.hidden_size {
        problems.push(format!(
            "the weights have hidden size {hidden}, the configuration lstm.hidden_size {}",
            cfg.hidden_size
        ));
    }
    if layers != cfg.num_layers {
        problems.push(format!(
            "the weights have {layers} layers, the configuration lstm.num_layers {}",
            cfg.num_layers
        ));
    }
    if bidirectional != cfg.bidirectional {
        problems.push(format!(
            "the weights are {}directional, the configuration lstm.bidirectional is {}",
            if bidirectional { "bi" } else { "uni" },
            cfg.bidirectional
        ));
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    let dirs = if bidirectional { 2 } else { 1 };
    let mut expected: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for k in 0..layers {
        let inp = if k == 0 { *input_size } else { hidden * dirs };
        for suffix in if bidirectional {
            vec!["", "_reverse"]
        } else {
            vec![""]
        } {
            expected.insert(
                format!("lstm.weight_ih_l{k}{suffix}"),
                vec![4 * hidden, inp],
            );
            expected.insert(
                format!("lstm.weight_hh_l{k}{suffix}"),
                vec![4 * hidden, hidden],
            );
            expected.insert(format!("lstm.bias_ih_l{k}{suffix}"), vec![4 * hidden]);
            expected.insert(format!("lstm.bias_hh_l{k}{suffix}"), vec![4 * hidden]);
        }
    }
    expected.insert("head.weight".into(), vec![1, hidden * dirs]);
    expected.insert("head.bias".into(), vec![1]);
    for (key, want) in &expected {
        match shapes.get(key) {
            None => problems.push(format!("missing key `{key}` (shape {want:?})")),
            Some(got) if got != want => {
                problems.push(format!("`{key}` has shape {got:?}, expected {want:?}"))
            }
            _ => {}
        }
    }
    for key in shapes.keys().filter(|k| !expected.contains_key(*k)) {
        problems.push(format!("unexpected key `{key}`"));
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(LstmShape {
        input_size: *input_size,
        hidden_size: hidden,
        num_layers: layers,
        bidirectional,
    })
}

/// The largest weights file qts reads: 4 GiB of float32 is a billion parameters, far above
/// any network qts trains or imports; a larger file is refused before it is read.
pub const MAX_WEIGHTS_BYTES: u64 = 4 << 30;

/// The bytes of a weights file (safetensors, or a `torch.save` archive), refused before
/// reading when larger than [`MAX_WEIGHTS_BYTES`].
///
/// # Errors
/// [`ModelError::Io`] naming the file, or [`ModelError::Format`] for one over the cap.
pub fn read_weights(path: &Path) -> Result<Vec<u8>, ModelError> {
    let read = qts_core::fs::read_capped(path, MAX_WEIGHTS_BYTES).map_err(|e| ModelError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    read.map_err(|len| too_large(path, len))
}

/// Refuses a weights file of `len` bytes over [`MAX_WEIGHTS_BYTES`].
///
/// # Errors
/// [`ModelError::Format`] naming the file and the cap.
pub fn check_weights_size(path: &Path, len: u64) -> Result<(), ModelError> {
    if len > MAX_WEIGHTS_BYTES {
        return Err(too_large(path, len));
    }
    Ok(())
}

fn too_large(path: &Path, len: u64) -> ModelError {
    ModelError::Format {
        path: path.to_path_buf(),
        source: format!(
            "{len} bytes, more than the {MAX_WEIGHTS_BYTES} bytes (4 GiB) qts reads as weights"
        )
        .into(),
    }
}

/// Registers weights trained elsewhere: `bytes` (an LSTM state dict as safetensors, read
/// from `weights`) are checked against `model` and registered as `name`, with the model
/// configuration beside them; `source` names the original format (`safetensors`, `pytorch`).
/// `config_file` names the configuration in errors.
///
/// # Errors
/// [`ModelError::Input`] for a non-LSTM configuration; the weight checks' and the registry's
/// errors as they come.
pub fn register_import(
    registry: &crate::Registry,
    weights: &Path,
    bytes: &[u8],
    source: &str,
    model: &crate::settings::ModelConfig,
    config_file: &Path,
    name: &str,
) -> Result<(crate::ModelCard, LstmShape), ModelError> {
    if model.architecture != crate::settings::Architecture::Lstm {
        return Err(ModelError::Input(format!(
            "{}: model.architecture is {:?}; only LSTM weights can be imported so far",
            config_file.display(),
            model.architecture
        )));
    }
    let shape = check_lstm_safetensors(weights, bytes, &model.lstm)?;
    let encode = |what: &'static str| {
        move |e: &dyn std::fmt::Display| ModelError::Encode {
            what,
            source: e.to_string().into(),
        }
    };
    let config_yaml = qts_core::config::to_yaml(model).map_err(|e| encode("config.yaml")(&e))?;
    let card = crate::ModelCard {
        splits: None,
        name: name.to_string(),
        version: 0,
        created_at: String::new(),
        architecture: "lstm".into(),
        input_size: shape.input_size,
        config: serde_json::to_value(model).map_err(|e| encode("model.json")(&e))?,
        data: None,
        metrics: BTreeMap::new(),
        training_seconds: None,
        git_commit: qts_core::provenance::git_commit(),
        source: format!("import:{source}"),
        files: Vec::new(),
    };
    let card = registry.register(
        card,
        &[
            ("weights.safetensors", bytes),
            ("config.yaml", config_yaml.as_bytes()),
        ],
    )?;
    tracing::info!(name, version = card.version, "model registered");
    Ok((card, shape))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use safetensors::tensor::{Dtype, TensorView};

    /// A zero-filled f32 state dict with the given (key, shape) entries, as safetensors bytes.
    pub fn state_dict(entries: &[(&str, Vec<usize>)]) -> Vec<u8> {
        let data: Vec<Vec<u8>> = entries
            .iter()
            .map(|(_, s)| vec![0u8; 4 * s.iter().product::<usize>()])
            .collect();
        let views: Vec<(String, TensorView<'_>)> = entries
            .iter()
            .zip(&data)
            .map(|((k, s), d)| {
                (
                    k.to_string(),
                    TensorView::new(Dtype::F32, s.clone(), d).unwrap(),
                )
            })
            .collect();
        safetensors::serialize(views, None).unwrap()
    }

    pub fn lstm_entries(n_in: usize, h: usize, layers: usize) -> Vec<(String, Vec<usize>)> {
        let mut e = Vec::new();
        for k in 0..layers {
            let inp = if k == 0 { n_in } else { h };
            e.push((format!("lstm.weight_ih_l{k}"), vec![4 * h, inp]));
            e.push((format!("lstm.weight_hh_l{k}"), vec![4 * h, h]));
            e.push((format!("lstm.bias_ih_l{k}"), vec![4 * h]));
            e.push((format!("lstm.bias_hh_l{k}"), vec![4 * h]));
        }
        e.push(("head.weight".into(), vec![1, h]));
        e.push(("head.bias".into(), vec![1]));
        e
    }

    fn bytes(e: &[(String, Vec<usize>)]) -> Vec<u8> {
        let refs: Vec<(&str, Vec<usize>)> =
            e.iter().map(|(k, s)| (k.as_str(), s.clone())).collect();
        state_dict(&refs)
    }

    fn cfg(h: usize, layers: usize) -> LstmConfig {
        LstmConfig {
            hidden_size: h,
            num_layers: layers,
            ..LstmConfig::default()
        }
    }

    #[test]
    fn a_matching_state_dict_gives_its_input_size() {
        let b = bytes(&lstm_entries(7, 16, 2));
        let s = check_lstm_safetensors(Path::new("w.safetensors"), &b, &cfg(16, 2)).unwrap();
        assert_eq!(
            s,
            LstmShape {
                input_size: 7,
                hidden_size: 16,
                num_layers: 2,
                bidirectional: false
            }
        );
    }

    #[test]
    fn mismatches_name_the_setting_and_the_keys() {
        let b = bytes(&lstm_entries(7, 16, 2));
        let e = check_lstm_safetensors(Path::new("w.safetensors"), &b, &cfg(32, 3))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("hidden size 16, the configuration lstm.hidden_size 32"),
            "{e}"
        );
        assert!(
            e.contains("2 layers, the configuration lstm.num_layers 3"),
            "{e}"
        );
        let mut entries = lstm_entries(7, 16, 2);
        entries.retain(|(k, _)| k != "head.bias");
        entries[1].1 = vec![64, 15];
        entries.push(("extra.weight".into(), vec![1]));
        let e = check_lstm_safetensors(Path::new("w.safetensors"), &bytes(&entries), &cfg(16, 2))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing key `head.bias`"), "{e}");
        assert!(
            e.contains("`lstm.weight_hh_l0` has shape [64, 15], expected [64, 16]"),
            "{e}"
        );
        assert!(e.contains("unexpected key `extra.weight`"), "{e}");
        let e = check_lstm_safetensors(Path::new("w.bin"), b"not safetensors", &cfg(16, 2))
            .unwrap_err();
        assert!(
            e.to_string().starts_with("w.bin: not a safetensors file"),
            "{e}"
        );
    }
}

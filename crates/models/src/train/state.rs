//! What a checkpoint holds besides the weights: the run state and the optimiser's moments.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use super::EpochLog;
use crate::error::ModelError;
use crate::optim::Adam;
use crate::weights;

/// `state.json`: where the run is and everything logged so far.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RunState {
    pub(super) epoch: usize,
    pub(super) optimizer_steps: i64,
    pub(super) loss_scale: f64,
    pub(super) good_steps: u32,
    pub(super) history: Vec<EpochLog>,
}

/// A checkpoint file's bytes.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|e| ModelError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

/// Loads a checkpoint's weights into `vs` and moments into `opt`; returns its run state.
pub(super) fn restore(
    dir: &Path,
    vs: &nn::VarStore,
    opt: &mut Adam,
) -> Result<RunState, ModelError> {
    let wpath = dir.join("weights.safetensors");
    weights::load_into(
        vs,
        &weights::read_safetensors(&wpath, &read(&wpath)?)?,
        &wpath,
    )?;
    let spath = dir.join("state.json");
    let state: RunState = serde_json::from_slice(&read(&spath)?).map_err(|e| ModelError::Io {
        path: spath.clone(),
        source: format!("corrupt run state ({e})").into(),
    })?;
    let opath = dir.join("optimizer.safetensors");
    let moments: BTreeMap<String, Tensor> = weights::read_safetensors(&opath, &read(&opath)?)?;
    opt.restore(&moments, state.optimizer_steps)
        .map_err(|reason| ModelError::Io {
            path: opath,
            source: reason.into(),
        })?;
    Ok(state)
}

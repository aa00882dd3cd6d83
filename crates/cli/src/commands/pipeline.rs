//! What turns bars into a model's inputs, saved with the model (`pipeline.json`) so that
//! `qts predict` feeds new data exactly as training did: the feature set, the column order,
//! the normaliser fitted on the training split, price adjustment and the window length.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use qts_core::config::{FeatureSpec, QtsConfig, Target};
use qts_data::BarSeries;
use qts_data::dataset::Normalizer;
use qts_data::io::read_bars;
use qts_data::validate::drop_duplicates;
use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// The inputs of a trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// `data.features` at training time.
    pub features: FeatureSpec,
    /// Feature columns in the network's input order.
    pub feature_names: Vec<String>,
    /// Fitted on the training split.
    pub normalizer: Normalizer,
    /// Whether prices were adjusted (`--adjust`).
    pub adjust: bool,
    /// Rows per window.
    pub lookback: usize,
    /// What the network predicts.
    pub target: Target,
}

/// The pipeline file's name in a registry version.
pub const FILE: &str = "pipeline.json";

/// Bars from a file or a symbol (see [`super::data::resolve`]), duplicates dropped, adjusted
/// when asked.
pub fn load_bars(
    input: &str,
    config: &QtsConfig,
    adjust: bool,
) -> Result<(BarSeries, PathBuf), Failure> {
    let path = super::data::resolve(input, config)?;
    let bars = read_bars(&path)?;
    let (bars, removed) = drop_duplicates(&bars);
    if removed > 0 {
        tracing::warn!(
            removed,
            "dropped duplicate timestamps, keeping the last bar of each"
        );
    }
    if !adjust {
        return Ok((bars, path));
    }
    if bars.adj_close.is_none() {
        return Err(Failure::Input(anyhow!(
            "{}: --adjust needs an adj_close column",
            path.display()
        )));
    }
    Ok((bars.adjusted(), path))
}

/// Reads a registry file as text.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::Runtime(anyhow!("{}: {e}", path.display())))
}

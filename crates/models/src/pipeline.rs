//! What turns bars into a model's inputs, saved with the model (`pipeline.json`) so that
//! `qts predict` feeds new data exactly as training did: the feature set, the column order,
//! the normaliser fitted on the training split, price adjustment and the window length.

use std::path::Path;

use chrono::NaiveDateTime;
use qts_data::BarSeries;
use qts_data::dataset::{Normalizer, model_inputs};
use qts_data::features::compute;
use qts_data::settings::{FeatureSpec, Target};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

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
    /// The price basis the bars were read on (`data.adjustment`) when not `--adjust`; absent
    /// from models trained before it was recorded.
    #[serde(default)]
    pub basis: Option<qts_data::actions::Basis>,
    /// Rows per window.
    pub lookback: usize,
    /// What the network predicts.
    pub target: Target,
}

/// The pipeline file's name in a registry version.
pub const FILE: &str = "pipeline.json";

impl Pipeline {
    /// The pipeline saved in a registry version's directory; `None` for a model imported
    /// without one.
    ///
    /// # Errors
    /// [`ModelError::Io`] for an unreadable or malformed file.
    pub fn read(version_dir: &Path) -> Result<Option<Pipeline>, ModelError> {
        let path = version_dir.join(FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let io = |source: crate::error::Cause| ModelError::Io {
            path: path.clone(),
            source,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| io(e.into()))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| io(e.into()))
    }

    /// Refuses to feed the model prices on another basis than it was trained on.
    ///
    /// # Errors
    /// A message naming both bases and the flag that fixes it.
    pub fn check_basis(&self, current: qts_data::actions::Basis) -> Result<(), String> {
        match self.basis {
            Some(trained) if !self.adjust && trained != current => Err(format!(
                "the model was trained on {trained} prices ({}) and data.adjustment is {current}: give --adjustment {trained}",
                trained.describe()
            )),
            _ => Ok(()),
        }
    }

    /// The network's inputs for `bars`: the saved features, checked to be the columns the
    /// model was trained on, normalised with the training split's statistics. Returns the
    /// rows' timestamps and the row-major values.
    ///
    /// # Errors
    /// [`ModelError::Data`] from the features, [`ModelError::Input`] when the feature columns
    /// differ from the model's.
    pub fn inputs(&self, bars: &BarSeries) -> Result<(Vec<NaiveDateTime>, Vec<f32>), ModelError> {
        let table = compute(bars, &self.features)?;
        let names: Vec<&str> = table.names();
        if names != self.feature_names {
            return Err(ModelError::Input(format!(
                "the features computed now ({}) are not those the model was trained on ({})",
                names.join(", "),
                self.feature_names.join(", ")
            )));
        }
        Ok(model_inputs(&table, &self.normalizer)?)
    }
}

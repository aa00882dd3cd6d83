//! The prediction use case: a registered model over prepared inputs (a bar file through the
//! model's [`crate::pipeline::Pipeline`], or the network's raw input columns), for the rows
//! in a date range, with an interval from MC dropout or the checkpoint ensemble. `qts
//! predict`, `qts decide` and Python call this.

use std::path::PathBuf;

use crate::settings::{ComputeConfig, ModelConfig};
use chrono::{NaiveDate, NaiveDateTime};
use qts_data::io::Table;

use crate::batches::Series;
use crate::error::ModelError;
use crate::infer::{PredictOptions, Predictor};
use crate::net::NetSpec;
use crate::registry::{ModelCard, Registry};

/// Rows of inputs: their timestamps and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// One timestamp a row.
    pub time: Vec<NaiveDateTime>,
    /// `time.len() × width` values.
    pub values: Vec<f32>,
}

/// The columns of a table (read from `source`) as the network's raw inputs, unchanged and
/// in order.
///
/// # Errors
/// [`ModelError::Input`] for a column count other than `width` or a value that is not finite
/// (naming the file line, date and column).
pub fn raw_inputs(table: &Table, width: usize, source: &str) -> Result<Inputs, ModelError> {
    if table.columns.len() != width {
        return Err(ModelError::Input(format!(
            "{source}: the model takes {width} input columns, the file has {} after `date` ({})",
            table.columns.len(),
            table.names().join(", ")
        )));
    }
    let mut values = Vec::with_capacity(table.time.len() * width);
    for r in 0..table.time.len() {
        for (name, col) in &table.columns {
            let v = col[r];
            if !v.is_finite() {
                return Err(ModelError::Input(format!(
                    "{source}: row {} ({}) has no finite `{name}`",
                    r + 2,
                    table.time[r].date()
                )));
            }
            values.push(v as f32);
        }
    }
    Ok(Inputs {
        time: table.time.clone(),
        values,
    })
}

/// How to predict.
#[derive(Debug, Clone)]
pub struct ForecastRequest<'a> {
    /// The registry holding the model.
    pub registry: &'a Registry,
    /// The model's card.
    pub card: &'a ModelCard,
    /// Its saved configuration.
    pub model: &'a ModelConfig,
    /// Devices.
    pub compute: &'a ComputeConfig,
    /// Only windows ending on or after this date.
    pub from: Option<NaiveDate>,
    /// Only windows ending on or before this date.
    pub to: Option<NaiveDate>,
    /// Average the checkpoint ensemble saved with the model.
    pub ensemble: bool,
    /// MC-dropout passes for the interval (0: none).
    pub mc_samples: usize,
    /// Interval coverage.
    pub level: f64,
    /// Seed of the dropout masks.
    pub seed: u64,
    /// The data's name, for messages.
    pub data_name: &'a str,
}

/// Predicts every window of `inputs` whose last row is in the range: a table of
/// `prediction` (and `lower`, `upper` with an interval), one row per window end.
///
/// # Errors
/// [`ModelError::Input`] when no window ends in the range or the model has no ensemble;
/// [`ModelError::Io`] for unreadable weights; libtorch errors as they come.
pub fn forecast(req: &ForecastRequest<'_>, inputs: &Inputs) -> Result<Table, ModelError> {
    let card = req.card;
    let spec = NetSpec::new(req.model, card.input_size)?;
    let lookback = spec.lookback;
    let time = &inputs.time;
    let in_range = |t: &NaiveDateTime| {
        req.from.is_none_or(|f| t.date() >= f) && req.to.is_none_or(|e| t.date() <= e)
    };
    let ends: Vec<usize> = (lookback.saturating_sub(1)..time.len())
        .filter(|&r| in_range(&time[r]))
        .collect();
    if ends.is_empty() {
        return Err(ModelError::Input(format!(
            "{}: {} usable rows, the model needs {lookback} for its first window{}",
            req.data_name,
            time.len(),
            if req.from.is_some() || req.to.is_some() {
                " (inside --from/--to)"
            } else {
                ""
            }
        )));
    }
    let mut member_files = vec!["weights.safetensors".to_string()];
    if req.ensemble {
        member_files = card
            .files
            .iter()
            .filter(|f| f.starts_with("member-"))
            .cloned()
            .collect();
        if member_files.is_empty() {
            return Err(ModelError::Input(format!(
                "{}@{} has no checkpoint ensemble (it was not trained by qts train)",
                card.name, card.version
            )));
        }
    }
    let dir = req.registry.version_dir(&card.name, card.version);
    let members: Vec<(PathBuf, Vec<u8>)> = member_files
        .iter()
        .map(|f| {
            let path = dir.join(f);
            crate::import::read_weights(&path).map(|bytes| (path.clone(), bytes))
        })
        .collect::<Result<_, _>>()?;
    let refs: Vec<(&std::path::Path, &[u8])> = members
        .iter()
        .map(|(p, b)| (p.as_path(), b.as_slice()))
        .collect();
    let predictor = Predictor::new(spec, &refs, req.compute)?;
    let series = Series {
        values: &inputs.values,
        width: card.input_size,
        lookback,
    };
    let opts = PredictOptions {
        mc_samples: req.mc_samples,
        level: req.level,
        seed: req.seed,
        ..PredictOptions::default()
    };
    let p = predictor.predict(&series, &ends, &opts)?;
    let mut out = Table {
        time: ends.iter().map(|&r| time[r]).collect(),
        columns: vec![("prediction".into(), p.mean)],
        labels: Vec::new(),
    };
    if let Some((lo, hi)) = p.interval {
        out.columns.push(("lower".into(), lo));
        out.columns.push(("upper".into(), hi));
    }
    // Which split each prediction's window ends in, so a backtest can refuse in-sample rows.
    if let Some(splits) = &req.card.splits {
        let labels = out
            .time
            .iter()
            .map(|t| splits.label(t.date()).to_string())
            .collect();
        out.labels.push(("split".into(), labels));
    }
    tracing::info!(rows = out.time.len(), members = refs.len(), "predicted");
    Ok(out)
}

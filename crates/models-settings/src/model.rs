//! `model_configs/*.yaml`: network, data windows, training and the hyper-parameter search
//! space. Loaded under the `model` key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, Validate, join};

use super::{ModelDataConfig, Target};

/// Network family.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Architecture {
    /// Recurrent LSTM.
    Lstm,
    /// Transformer encoder.
    Transformer,
    /// Multi-layer perceptron baseline over the flattened window.
    Mlp,
}

/// `model`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Registry name of the model.
    #[default("lstm_default")]
    pub name: String,
    /// Network family; its section below is used.
    #[default(Architecture::Lstm)]
    pub architecture: Architecture,
    /// LSTM settings.
    pub lstm: LstmConfig,
    /// Transformer settings.
    pub transformer: TransformerConfig,
    /// MLP settings.
    pub mlp: MlpConfig,
    /// Inputs, target and splits.
    pub data: ModelDataConfig,
    /// Optimisation.
    pub training: TrainingConfig,
    /// Hyper-parameter search.
    pub search: SearchConfig,
}

/// `model.lstm`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LstmConfig {
    /// Hidden units per layer and direction.
    #[default(128)]
    pub hidden_size: usize,
    /// Stacked layers.
    #[default(2)]
    pub num_layers: usize,
    /// Dropout between layers and before the head.
    #[default(0.2)]
    pub dropout: f64,
    /// Read the window in both directions.
    #[default(false)]
    pub bidirectional: bool,
    /// Attention pooling over time instead of the last hidden state.
    #[default(false)]
    pub attention: bool,
    /// Layer normalisation of the pooled state.
    #[default(false)]
    pub layer_norm: bool,
}

/// `model.transformer`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerConfig {
    /// Model width.
    #[default(64)]
    pub d_model: usize,
    /// Attention heads (must divide `d_model`).
    #[default(4)]
    pub num_heads: usize,
    /// Encoder layers.
    #[default(2)]
    pub num_layers: usize,
    /// Feed-forward width.
    #[default(256)]
    pub feedforward_size: usize,
    /// Dropout.
    #[default(0.1)]
    pub dropout: f64,
}

/// `model.mlp`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Width of each hidden layer.
    #[default(vec![128, 64])]
    pub hidden_sizes: Vec<usize>,
    /// Dropout.
    #[default(0.1)]
    pub dropout: f64,
}

/// Training loss.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Loss {
    /// Mean squared error.
    Mse,
    /// Huber (smooth L1), robust to return outliers.
    Huber,
    /// Cross-entropy (for `direction`).
    CrossEntropy,
}

/// Optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Adam.
    Adam,
    /// Adam with decoupled weight decay.
    Adamw,
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Constant.
    Constant,
    /// Multiply by `gamma` every `step_size` epochs.
    Step,
    /// Cosine annealing to `min_lr` over the epochs.
    Cosine,
    /// Multiply by `gamma` after `plateau_patience` epochs without improvement.
    ReduceOnPlateau,
}

/// `model.training`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Most epochs.
    #[default(100)]
    pub epochs: usize,
    /// Windows per batch.
    #[default(64)]
    pub batch_size: usize,
    /// Loss.
    #[default(Loss::Mse)]
    pub loss: Loss,
    /// Optimiser.
    #[default(Optimizer::Adam)]
    pub optimizer: Optimizer,
    /// Peak learning rate.
    #[default(1e-3)]
    pub learning_rate: f64,
    /// L2 (Adam) or decoupled (AdamW) weight decay.
    #[default(0.0)]
    pub weight_decay: f64,
    /// Learning-rate schedule after warm-up.
    #[default(Schedule::Cosine)]
    pub schedule: Schedule,
    /// Epochs of linear warm-up from `learning_rate / (warmup_epochs + 1)` to `learning_rate`
    /// (PyTorch `LinearLR`), before the schedule starts.
    #[default(3)]
    pub warmup_epochs: usize,
    /// Epochs between decays (`step`).
    #[default(20)]
    pub step_size: usize,
    /// Decay factor (`step`, `reduce_on_plateau`).
    #[default(0.5)]
    pub gamma: f64,
    /// Floor of the learning rate (`cosine`, `reduce_on_plateau`).
    #[default(1e-5)]
    pub min_lr: f64,
    /// Epochs without improvement before a decay (`reduce_on_plateau`).
    #[default(5)]
    pub plateau_patience: usize,
    /// Clip the global gradient norm to this (0 disables).
    #[default(1.0)]
    pub gradient_clip_norm: f64,
    /// Mixed precision on CUDA.
    #[default(true)]
    pub mixed_precision: bool,
    /// Early stopping on validation loss.
    pub early_stopping: EarlyStopping,
    /// Checkpoints.
    pub checkpoints: Checkpoints,
}

/// `model.training.early_stopping`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStopping {
    /// Whether training stops early.
    #[default(true)]
    pub enabled: bool,
    /// Epochs without an improvement of at least `min_delta`.
    #[default(10)]
    pub patience: usize,
    /// Smallest decrease of validation loss that counts.
    #[default(1e-6)]
    pub min_delta: f64,
}

/// `model.training.checkpoints`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Checkpoints {
    /// Directory of the run's checkpoints.
    #[default("artifacts/checkpoints")]
    pub directory: String,
    /// The best k by validation loss are kept, plus the last.
    #[default(3)]
    pub keep_top_k: usize,
}

/// How search trials are drawn.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum SearchMethod {
    /// Every combination (choices only).
    Grid,
    /// Seeded random draws.
    Random,
}

/// One searched hyper-parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParam {
    /// `choice`, `uniform`, `log_uniform` or `int_uniform`.
    #[serde(rename = "type")]
    pub kind: SearchKind,
    /// Candidates (`choice`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<serde_json::Value>,
    /// Lower bound (ranges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// Upper bound (ranges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
}

/// Distribution of a searched parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// One of `values`.
    Choice,
    /// Uniform in `[low, high]`.
    Uniform,
    /// Log-uniform in `[low, high]`.
    LogUniform,
    /// Uniform integer in `[low, high]`.
    IntUniform,
}

/// `model.search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Grid or random.
    pub method: SearchMethod,
    /// Trials (random).
    pub trials: usize,
    /// Searched parameters by their key path under `model` (e.g. `lstm.hidden_size`).
    pub space: BTreeMap<String, SearchParam>,
}

impl Default for SearchConfig {
    fn default() -> Self {
        let choice = |values: Vec<serde_json::Value>| SearchParam {
            kind: SearchKind::Choice,
            values,
            low: None,
            high: None,
        };
        let range = |kind, low, high| SearchParam {
            kind,
            values: Vec::new(),
            low: Some(low),
            high: Some(high),
        };
        let space = BTreeMap::from([
            (
                "lstm.hidden_size".into(),
                choice(vec![64.into(), 128.into(), 256.into()]),
            ),
            (
                "lstm.num_layers".into(),
                range(SearchKind::IntUniform, 1.0, 3.0),
            ),
            ("lstm.dropout".into(), range(SearchKind::Uniform, 0.0, 0.5)),
            (
                "training.learning_rate".into(),
                range(SearchKind::LogUniform, 1e-4, 1e-2),
            ),
            (
                "training.batch_size".into(),
                choice(vec![32.into(), 64.into(), 128.into()]),
            ),
        ]);
        SearchConfig {
            method: SearchMethod::Random,
            trials: 50,
            space,
        }
    }
}

impl Validate for ModelConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch))
        {
            let msg = "must be letters, digits, `_`, `-` or `.` (it names a registry folder)";
            c.fail(at, "name", msg);
        }
        let k = join(at, "lstm");
        c.positive(&k, "hidden_size", self.lstm.hidden_size);
        c.positive(&k, "num_layers", self.lstm.num_layers);
        dropout(c, &k, self.lstm.dropout);

        let k = join(at, "transformer");
        let t = &self.transformer;
        c.positive(&k, "d_model", t.d_model);
        c.positive(&k, "num_heads", t.num_heads);
        c.positive(&k, "num_layers", t.num_layers);
        c.positive(&k, "feedforward_size", t.feedforward_size);
        dropout(c, &k, t.dropout);
        if t.num_heads > 0 && !t.d_model.is_multiple_of(t.num_heads) {
            let msg = format!("must divide d_model ({}), got {}", t.d_model, t.num_heads);
            c.fail(&k, "num_heads", msg);
        }

        let k = join(at, "mlp");
        for (i, &h) in self.mlp.hidden_sizes.iter().enumerate() {
            c.positive(&k, &format!("hidden_sizes[{i}]"), h);
        }
        dropout(c, &k, self.mlp.dropout);

        self.validate_data(at, c);
        self.validate_training(at, c);
        self.validate_search(at, c);
    }
}

fn dropout(c: &mut Checks, at: &str, p: f64) {
    if !(0.0..1.0).contains(&p) {
        c.fail(at, "dropout", format!("must be in [0, 1), got {p}"));
    }
}

impl ModelConfig {
    fn validate_data(&self, at: &str, c: &mut Checks) {
        let k = join(at, "data");
        let d = &self.data;
        c.positive(&k, "lookback", d.lookback);
        c.positive(&k, "horizon", d.horizon);
        c.positive_fraction(&k, "train_fraction", d.train_fraction);
        c.fraction(&k, "validation_fraction", d.validation_fraction);
        if d.train_fraction + d.validation_fraction >= 1.0 {
            let msg = format!(
                "train_fraction + validation_fraction must leave a test split, got {} + {}",
                d.train_fraction, d.validation_fraction
            );
            c.fail(&k, "validation_fraction", msg);
        }
        if d.purge_gap < d.lookback {
            let msg = format!(
                "must be at least data.lookback ({}) so no window spans two splits, got {}",
                d.lookback, d.purge_gap
            );
            c.fail(&k, "purge_gap", msg);
        }
        let classifying = d.target == Target::Direction;
        if classifying != (self.training.loss == Loss::CrossEntropy) {
            let msg = "the `direction` target needs loss `cross_entropy`, and only it does";
            c.fail(&join(at, "training"), "loss", msg);
        }
    }

    fn validate_training(&self, at: &str, c: &mut Checks) {
        let k = join(at, "training");
        let t = &self.training;
        c.positive(&k, "epochs", t.epochs);
        c.positive(&k, "batch_size", t.batch_size);
        c.positive(&k, "learning_rate", t.learning_rate);
        c.non_negative(&k, "weight_decay", t.weight_decay);
        c.positive(&k, "step_size", t.step_size);
        c.positive_fraction(&k, "gamma", t.gamma);
        c.non_negative(&k, "min_lr", t.min_lr);
        if t.min_lr > t.learning_rate {
            c.less_than(&k, ("min_lr", t.min_lr), ("learning_rate", t.learning_rate));
        }
        c.non_negative(&k, "gradient_clip_norm", t.gradient_clip_norm);
        if t.warmup_epochs >= t.epochs {
            // Most often met as `--set model.training.epochs=2` on a file with a longer
            // warm-up: say how to fix both.
            c.fail(
                &k,
                "warmup_epochs",
                format!(
                    "must be less than {k}.epochs ({}), got {}: lower it too, e.g. --set {k}.warmup_epochs={}",
                    t.epochs,
                    t.warmup_epochs,
                    t.epochs.saturating_sub(1)
                ),
            );
        }
        c.non_negative(&k, "early_stopping.min_delta", t.early_stopping.min_delta);
        c.positive(&k, "checkpoints.keep_top_k", t.checkpoints.keep_top_k);
    }

    fn validate_search(&self, at: &str, c: &mut Checks) {
        let k = join(at, "search");
        c.positive(&k, "trials", self.search.trials);
        // A searched key must name a real setting, so a typo is caught before 50 trials run.
        let defaults = serde_json::to_value(ModelConfig::default()).unwrap_or_default();
        for (name, p) in &self.search.space {
            let key = join(&join(&k, "space"), name);
            let key = key.as_str();
            if name
                .split('.')
                .try_fold(&defaults, |v, seg| v.get(seg))
                .is_none()
            {
                c.fail(key, "", "is not a setting under `model`");
            }
            match p.kind {
                SearchKind::Choice if p.values.is_empty() => c.fail(key, "values", "is empty"),
                SearchKind::Choice => {}
                _ => search_range(c, key, p, self.search.method),
            }
        }
    }
}

fn search_range(c: &mut Checks, key: &str, p: &SearchParam, method: SearchMethod) {
    let (Some(low), Some(high)) = (p.low, p.high) else {
        c.fail(key, "", "a range needs `low` and `high`");
        return;
    };
    c.less_than(key, ("low", low), ("high", high));
    if p.kind == SearchKind::LogUniform && low <= 0.0 {
        c.fail(key, "low", "must be greater than 0 for log_uniform");
    }
    if method == SearchMethod::Grid {
        c.fail(key, "type", "grid search takes `choice` parameters only");
    }
}

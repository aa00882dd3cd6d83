//! A model's hyper-parameter search: the trials drawn from the search space declared in the
//! model YAML (`model.search`), each trained, registered and scored on its validation split
//! only, so the test split stays an untouched estimate of the chosen model. Random search
//! draws `trials` seeded points; grid search takes every combination of `choice` values.
//! `qts optimize --model-config` and Python call [`search`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::settings::{ModelConfig, SearchConfig, SearchKind, SearchMethod, SearchParam};
use qts_core::config::{Checks, Validate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value;

use crate::error::ModelError;

/// One trial's settings: searched key (under `model`) → value.
pub type Point = BTreeMap<String, Value>;

/// Parses `--search KEY=SPACE`: `a,b,c` (a choice), `uniform:LOW:HIGH`,
/// `log_uniform:LOW:HIGH` or `int_uniform:LOW:HIGH`. `KEY` may start with `model.`.
///
/// # Errors
/// [`ModelError::Input`] naming the flag.
pub fn parse_param(spec: &str) -> Result<(String, SearchParam), ModelError> {
    let bad = |why: &str| ModelError::Input(format!("--search {spec}: {why}"));
    let (key, space) = spec
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=a,b,c or KEY=uniform|log_uniform|int_uniform:LOW:HIGH"))?;
    let key = key.trim();
    let key = key.strip_prefix("model.").unwrap_or(key);
    if key.is_empty() {
        return Err(bad("no key"));
    }
    let parts: Vec<&str> = space.split(':').map(str::trim).collect();
    let kind = match parts[0] {
        "uniform" => Some(SearchKind::Uniform),
        "log_uniform" => Some(SearchKind::LogUniform),
        "int_uniform" => Some(SearchKind::IntUniform),
        _ => None,
    };
    let param = match (kind, &parts[..]) {
        (Some(kind), [_, low, high]) => {
            let num = |s: &str| {
                s.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(&format!("`{s}` is not a number")))
            };
            SearchParam {
                kind,
                values: Vec::new(),
                low: Some(num(low)?),
                high: Some(num(high)?),
            }
        }
        (Some(_), _) => return Err(bad("a range is KIND:LOW:HIGH")),
        (None, _) => {
            let values: Vec<Value> = space
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.into())))
                .collect();
            if values.is_empty() {
                return Err(bad("no values"));
            }
            SearchParam {
                kind: SearchKind::Choice,
                values,
                low: None,
                high: None,
            }
        }
    };
    Ok((key.to_string(), param))
}

/// The most trials one model search trains: each is a training, so more is a typo, and the
/// points are refused before any is built.
pub const MAX_TRIALS: usize = 100_000;

/// The trials of `space`: every combination of its choices (grid; the first key varies
/// slowest), or `space.trials` seeded random draws.
///
/// # Errors
/// [`ModelError::Input`] for an empty space, a grid over a range, or more than
/// [`MAX_TRIALS`] trials (counted before any point is built).
pub fn points(space: &SearchConfig, seed: u64) -> Result<Vec<Point>, ModelError> {
    if space.space.is_empty() {
        return Err(ModelError::Input(
            "the search space is empty: declare model.search.space in the model YAML or pass --search KEY=…"
                .into(),
        ));
    }
    let planned = match space.method {
        SearchMethod::Grid => space
            .space
            .values()
            .map(|p| p.values.len().max(1) as f64)
            .product::<f64>(),
        SearchMethod::Random => space.trials as f64,
    };
    if planned > MAX_TRIALS as f64 {
        return Err(ModelError::Input(format!(
            "the search would train {} models, more than the {MAX_TRIALS} a search trains: {}",
            qts_core::budget::count(planned),
            match space.method {
                SearchMethod::Grid => "give fewer values in model.search.space (or --search)",
                SearchMethod::Random => "give fewer --trials",
            }
        )));
    }
    match space.method {
        SearchMethod::Grid => {
            let mut out = vec![Point::new()];
            for (key, p) in &space.space {
                if p.kind != SearchKind::Choice {
                    return Err(ModelError::Input(format!(
                        "model.search.space.{key}: grid search takes `choice` parameters only"
                    )));
                }
                out = out
                    .into_iter()
                    .flat_map(|pt| {
                        p.values.iter().map(move |v| {
                            let mut pt = pt.clone();
                            pt.insert(key.clone(), v.clone());
                            pt
                        })
                    })
                    .collect();
            }
            Ok(out)
        }
        SearchMethod::Random => {
            if space.trials == 0 {
                return Err(ModelError::Input("--trials must be at least 1".into()));
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            Ok((0..space.trials)
                .map(|_| {
                    space
                        .space
                        .iter()
                        .map(|(k, p)| (k.clone(), draw(p, &mut rng)))
                        .collect()
                })
                .collect())
        }
    }
}

fn draw(p: &SearchParam, rng: &mut ChaCha8Rng) -> Value {
    let (low, high) = (p.low.unwrap_or(0.0), p.high.unwrap_or(0.0));
    match p.kind {
        SearchKind::Choice => p.values[rng.random_range(0..p.values.len())].clone(),
        SearchKind::Uniform => Value::from(low + (high - low) * rng.random::<f64>()),
        SearchKind::LogUniform => {
            Value::from((low.ln() + (high.ln() - low.ln()) * rng.random::<f64>()).exp())
        }
        SearchKind::IntUniform => {
            Value::from(rng.random_range(low.ceil() as i64..=high.floor() as i64))
        }
    }
}

/// `model` with a trial's settings, checked like a loaded configuration.
///
/// # Errors
/// [`ModelError::Input`] naming the key for a setting that does not exist, a value of the
/// wrong type or one the checks refuse.
pub fn apply(model: &ModelConfig, point: &Point) -> Result<ModelConfig, ModelError> {
    let mut tree = serde_json::to_value(model).map_err(|e| ModelError::Input(e.to_string()))?;
    for (key, value) in point {
        let mut node = &mut tree;
        for seg in key.split('.') {
            node = node.get_mut(seg).ok_or_else(|| {
                ModelError::Input(format!("model.{key}: not a setting under `model`"))
            })?;
        }
        *node = value.clone();
    }
    let out: ModelConfig = serde_json::from_value(tree).map_err(|e| ModelError::Setting {
        what: label(point),
        source: e,
    })?;
    let mut checks = Checks::default();
    out.validate("model", &mut checks);
    let problems = checks.into_problems();
    if let Some((key, why)) = problems.first() {
        return Err(ModelError::Input(format!("{}: {key} {why}", label(point))));
    }
    Ok(out)
}

/// A point as `training.learning_rate=0.001;lstm.hidden_size=64`.
pub fn label(point: &Point) -> String {
    point
        .iter()
        .map(|(k, v)| format!("{k}={}", text(v)))
        .collect::<Vec<_>>()
        .join(";")
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Which way a validation metric is better.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Objective {
    /// A metric of [`crate::fit::TrainReport::metrics`] starting `val_`.
    pub metric: String,
    /// Higher is better.
    pub maximize: bool,
}

impl Objective {
    /// `--maximize`/`--minimize`; val_loss minimised by default.
    ///
    /// # Errors
    /// [`ModelError::Input`] for a metric that is not a validation metric (a test metric
    /// would choose the model on the split that is meant to judge it).
    pub fn new(maximize: Option<&str>, minimize: Option<&str>) -> Result<Objective, ModelError> {
        let (metric, max) = match (maximize, minimize) {
            (Some(m), _) => (m, true),
            (None, Some(m)) => (m, false),
            (None, None) => ("val_loss", false),
        };
        const VALIDATION: &[&str] = &["val_loss", "val_mae", "val_directional_accuracy", "val_ic"];
        if !VALIDATION.contains(&metric) {
            return Err(ModelError::Input(format!(
                "--{} {metric}: a model search is scored on its validation split; use one of {} \
                 (test metrics are reported for the chosen model, never used to choose it)",
                if max { "maximize" } else { "minimize" },
                VALIDATION.join(", ")
            )));
        }
        Ok(Objective {
            metric: metric.to_string(),
            maximize: max,
        })
    }

    /// Whether `a` is strictly better than `b` (NaN never is).
    pub fn better(&self, a: f64, b: f64) -> bool {
        if b.is_nan() {
            return !a.is_nan();
        }
        if self.maximize { a > b } else { a < b }
    }
}

/// One trained trial.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// 1-based, in draw order.
    pub trial: usize,
    /// The searched settings.
    pub params: Point,
    /// The registered model, `NAME@VERSION`.
    pub model: String,
    /// Its validation and test metrics (as `qts train` reports them).
    pub metrics: BTreeMap<String, f64>,
}

/// The search, as `qts optimize --model-config --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    /// The best trial by the objective (the first of equals).
    pub best: Trial,
    /// Trials trained.
    pub trials: usize,
    /// The metric and its direction.
    pub objective: Objective,
    /// `grid` or `random`, and the seed of a random search.
    pub method: String,
    /// Seed of the draws (random search).
    pub seed: Option<u64>,
    /// Every trial.
    #[serde(skip)]
    pub all: Vec<Trial>,
}

impl SearchReport {
    /// The best of `all` by `objective`.
    ///
    /// # Errors
    /// [`ModelError::Input`] when there is no trial.
    pub fn new(
        all: Vec<Trial>,
        objective: Objective,
        space: &SearchConfig,
        seed: u64,
    ) -> Result<SearchReport, ModelError> {
        let score = |t: &Trial| {
            t.metrics
                .get(&objective.metric)
                .copied()
                .unwrap_or(f64::NAN)
        };
        let mut best: Option<&Trial> = None;
        for t in &all {
            if best.is_none_or(|b| objective.better(score(t), score(b))) {
                best = Some(t);
            }
        }
        let best = best
            .cloned()
            .ok_or_else(|| ModelError::Input("no trial was trained".into()))?;
        let random = space.method == SearchMethod::Random;
        Ok(SearchReport {
            best,
            trials: all.len(),
            objective,
            method: if random { "random" } else { "grid" }.into(),
            seed: random.then_some(seed),
            all,
        })
    }

    /// `trials.csv`: `trial`, the searched keys, `model`, then every metric.
    pub fn trials_csv(&self) -> String {
        let keys: Vec<&String> = self.best.params.keys().collect();
        let metrics: std::collections::BTreeSet<&String> =
            self.all.iter().flat_map(|t| t.metrics.keys()).collect();
        let mut out = String::from("trial");
        for k in &keys {
            let _ = write!(out, ",{k}");
        }
        out.push_str(",model");
        for m in &metrics {
            let _ = write!(out, ",{m}");
        }
        out.push('\n');
        for t in &self.all {
            let _ = write!(out, "{}", t.trial);
            for k in &keys {
                let _ = write!(out, ",{}", t.params.get(*k).map(text).unwrap_or_default());
            }
            let _ = write!(out, ",{}", t.model);
            for m in &metrics {
                match t.metrics.get(*m) {
                    Some(v) => {
                        let _ = write!(out, ",{v}");
                    }
                    None => out.push(','),
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Trains every trial of `space` on `base`'s data, each registered under `base.name`, and
/// picks the best on the validation split. `progress` hears each finished trial.
///
/// # Errors
/// As [`points`], [`apply`] (every trial is checked before the first is trained) and
/// [`crate::fit::train_model`].
#[cfg(feature = "torch")]
pub fn search(
    base: &crate::fit::TrainRequest<'_>,
    space: &SearchConfig,
    seed: u64,
    objective: Objective,
    progress: &mut dyn FnMut(&Trial, usize),
) -> Result<SearchReport, ModelError> {
    let draws = points(space, seed)?;
    let models = draws
        .iter()
        .map(|p| apply(base.config.model(), p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut all = Vec::with_capacity(draws.len());
    for (i, (point, model)) in draws.into_iter().zip(models).enumerate() {
        let config = base.config.with_model(model);
        tracing::info!(trial = i + 1, of = all.capacity(), params = %label(&point), "trial");
        let report = crate::fit::train_model(
            &crate::fit::TrainRequest {
                config: &*config,
                ..base.clone()
            },
            &mut (),
        )?;
        let trial = Trial {
            trial: i + 1,
            params: point,
            model: format!("{}@{}", report.name, report.version),
            metrics: report.metrics,
        };
        progress(&trial, i + 1);
        all.push(trial);
    }
    SearchReport::new(all, objective, space, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_search_flags_parse_into_the_yaml_kinds() {
        let (k, p) = parse_param("model.training.learning_rate=log_uniform:0.0001:0.01").unwrap();
        assert_eq!(k, "training.learning_rate");
        assert_eq!(p.kind, SearchKind::LogUniform);
        assert_eq!((p.low, p.high), (Some(1e-4), Some(1e-2)));
        let (k, p) = parse_param("lstm.hidden_size=16, 32").unwrap();
        assert_eq!(k, "lstm.hidden_size");
        assert_eq!(p.values, vec![Value::from(16), Value::from(32)]);
        let (_, p) = parse_param("training.schedule=cosine,constant").unwrap();
        assert_eq!(
            p.values,
            vec![Value::from("cosine"), Value::from("constant")]
        );
        let e = parse_param("lstm.dropout=uniform:0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a range is KIND:LOW:HIGH"), "{e}");
        let e = parse_param("lstm.dropout").unwrap_err().to_string();
        assert!(e.contains("expected KEY="), "{e}");
    }

    #[test]
    fn test_points_are_seeded_within_their_ranges_and_grids_are_products() {
        let space = SearchConfig {
            trials: 200,
            ..SearchConfig::default()
        };
        let a = points(&space, 7).unwrap();
        assert_eq!(a, points(&space, 7).unwrap());
        assert_ne!(a, points(&space, 8).unwrap());
        for p in &a {
            let lr = p["training.learning_rate"].as_f64().unwrap();
            assert!((1e-4..=1e-2).contains(&lr));
            let layers = p["lstm.num_layers"].as_i64().unwrap();
            assert!((1..=3).contains(&layers));
            let d = p["lstm.dropout"].as_f64().unwrap();
            assert!((0.0..0.5).contains(&d));
        }
        // Log-uniform: about half the draws below the geometric mean (1e-3).
        let below = a
            .iter()
            .filter(|p| p["training.learning_rate"].as_f64().unwrap() < 1e-3)
            .count();
        assert!((70..=130).contains(&below), "{below}");
        // Every integer of the range is drawn.
        for n in 1..=3 {
            assert!(a.iter().any(|p| p["lstm.num_layers"] == n));
        }
        let grid = SearchConfig {
            method: SearchMethod::Grid,
            trials: 1,
            space: BTreeMap::from([
                ("lstm.hidden_size".into(), parse_param("a=8,16").unwrap().1),
                (
                    "training.batch_size".into(),
                    parse_param("a=32,64,128").unwrap().1,
                ),
            ]),
        };
        let mut huge = grid.clone();
        huge.trials = usize::MAX;
        huge.method = SearchMethod::Random;
        let e = points(&huge, 0).unwrap_err().to_string();
        assert!(
            e.contains("would train 1.8e19 models, more than the 100000"),
            "{e}"
        );
        let g = points(&grid, 0).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(label(&g[0]), "lstm.hidden_size=8;training.batch_size=32");
        assert_eq!(label(&g[5]), "lstm.hidden_size=16;training.batch_size=128");
        let mut bad = grid.clone();
        bad.space.insert(
            "lstm.dropout".into(),
            parse_param("a=uniform:0:0.5").unwrap().1,
        );
        assert!(
            points(&bad, 0)
                .unwrap_err()
                .to_string()
                .contains("`choice` parameters only")
        );
    }

    #[test]
    fn test_a_point_is_applied_and_checked_like_a_config() {
        let base = ModelConfig::default();
        let p = Point::from([
            ("lstm.hidden_size".into(), Value::from(32)),
            ("training.learning_rate".into(), Value::from(0.01)),
        ]);
        let m = apply(&base, &p).unwrap();
        assert_eq!(m.lstm.hidden_size, 32);
        assert_eq!(m.training.learning_rate, 0.01);
        assert_eq!(m.lstm.num_layers, base.lstm.num_layers);
        let typo = Point::from([("lstm.hiden_size".into(), Value::from(32))]);
        let e = apply(&base, &typo).unwrap_err().to_string();
        assert!(e.contains("model.lstm.hiden_size: not a setting"), "{e}");
        let wrong = Point::from([("lstm.hidden_size".into(), Value::from("big"))]);
        let e = apply(&base, &wrong).unwrap_err().to_string();

        assert!(
            e.contains("lstm.hidden_size=big: invalid type: string \"big\", expected usize"),
            "{e}"
        );
        let refused = Point::from([("lstm.dropout".into(), Value::from(1.5))]);
        let e = apply(&base, &refused).unwrap_err().to_string();
        assert!(e.contains("model.lstm.dropout"), "{e}");
    }

    #[test]
    fn test_the_objective_is_a_validation_metric_and_nan_never_wins() {
        let o = Objective::new(None, None).unwrap();
        assert_eq!((o.metric.as_str(), o.maximize), ("val_loss", false));
        assert!(o.better(0.1, 0.2) && !o.better(0.2, 0.1) && !o.better(f64::NAN, 0.2));
        assert!(o.better(0.3, f64::NAN));
        let o = Objective::new(Some("val_ic"), None).unwrap();
        assert!(o.better(0.2, 0.1));
        let e = Objective::new(Some("test_ic"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("scored on its validation split"), "{e}");
    }
}

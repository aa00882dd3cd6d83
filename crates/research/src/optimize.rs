//! Parameter search: one strategy backtested at every point of a grid (or a seeded random
//! sample of it) on the same market, in parallel, with the deflated Sharpe ratio and the
//! probability of backtest overfitting of the whole search beside the best point. The
//! result is the same whatever the thread count: trials run in parallel but are kept in grid
//! order, and the best is the first point with the highest value, as backtesting.py's
//! `Backtest.optimize` picks it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use qts_backtest::settings::RegimeFilterConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use qts_backtest::BacktestError;

use crate::error::ResearchError;
use crate::progress::Progress;
use qts_backtest::report::{Market, Settings, Stamp, backtest};
use qts_backtest::strategy::registry::{Inputs, ParamValue, Params};
use qts_backtest::strategy::{Registry, SignalSeries};
use qts_stats::metrics::{Metric, Metrics, simple_returns};
use qts_stats::overfitting::{Trials, deflated_sharpe_ratio, probability_of_backtest_overfitting};
use strum::IntoEnumIterator;

/// One searched parameter and its values, from `NAME=START:STOP:STEP` (Python's `range`:
/// START, START+STEP, … below STOP) or `NAME=a,b,c`.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The parameter.
    pub name: String,
    /// Its values, as text the strategy's parameter parser reads.
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `--grid NAME=…`.
    ///
    /// # Errors
    /// [`ResearchError::Parameter`] (`grid`) for a missing `=`, a bad range or an empty list.
    pub fn parse(spec: &str) -> Result<Axis, ResearchError> {
        let bad = |reason: &str| ResearchError::parameter("grid", format!("{spec}: {reason}"));
        let (name, values) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=START:STOP:STEP or NAME=a,b,c"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("no parameter name"));
        }
        let values: Vec<String> = if values.contains(':') {
            let parts: Vec<&str> = values.split(':').map(str::trim).collect();
            let [start, stop, step] = parts[..] else {
                return Err(bad("a range is START:STOP:STEP"));
            };
            let num = |s: &str| {
                s.parse::<i64>()
                    .map_err(|_| bad(&format!("`{s}` is not a whole number")))
            };
            let (start, stop, step) = (num(start)?, num(stop)?, num(step)?);
            if step == 0 {
                return Err(bad("the step is 0"));
            }
            // Counted before anything is built, in i128: no range overflows.
            let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
            let span = if step > 0 { stop - start } else { start - stop };
            let count = if span > 0 {
                (span + step.abs() - 1) / step.abs()
            } else {
                0
            };
            if count > MAX_AXIS_VALUES as i128 {
                return Err(bad(&format!(
                    "gives {count} values; an axis takes at most {MAX_AXIS_VALUES}"
                )));
            }
            (0..count).map(|i| (start + i * step).to_string()).collect()
        } else {
            values
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        if values.is_empty() {
            return Err(bad("no values"));
        }
        Ok(Axis {
            name: name.to_string(),
            values,
        })
    }
}

/// The most values one `--grid` axis takes (a range is expanded to its values).
pub const MAX_AXIS_VALUES: usize = 1_000_000;

/// The metric to maximise, `name` parsed: a metric of a backtest that needs no benchmark.
///
/// # Errors
/// [`ResearchError::Parameter`] (`maximize`) listing the known metrics.
pub fn check_metric(name: &str) -> Result<Metric, ResearchError> {
    match name.parse::<Metric>() {
        Ok(m) if !m.needs_benchmark() => Ok(m),
        _ => {
            let known: Vec<&str> = Metric::iter()
                .filter(|m| !m.needs_benchmark())
                .map(Metric::key)
                .collect();
            Err(ResearchError::parameter(
                "maximize",
                format!(
                    "{name}: not a metric of a backtest; known: {}",
                    known.join(", ")
                ),
            ))
        }
    }
}

/// How the grid is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Every point.
    Grid,
    /// `trials` distinct points drawn with `seed` (all of them when the grid is smaller).
    Random {
        /// Points drawn.
        trials: usize,
        /// Seed.
        seed: u64,
    },
}

impl Method {
    /// A random search of `trials` points (100 when not given) drawn with `seed` (`default_seed`,
    /// the configuration's, when not given).
    pub fn random(trials: Option<usize>, seed: Option<u64>, default_seed: u64) -> Method {
        Method::Random {
            trials: trials.unwrap_or(100),
            seed: seed.unwrap_or(default_seed),
        }
    }

    /// The points this method backtests over `axes` (before constraints skip any).
    pub fn points(&self, axes: &[Axis]) -> usize {
        let all = axes
            .iter()
            .fold(1usize, |n, a| n.saturating_mul(a.values.len()));
        match self {
            Method::Grid => all,
            Method::Random { trials, .. } => (*trials).min(all),
        }
    }
}

/// What to search.
pub struct OptimizeRequest<'a> {
    /// The market every trial trades.
    pub market: &'a Market,
    /// The strategies.
    pub registry: &'a Registry,
    /// The strategy searched.
    pub strategy: &'a str,
    /// Searched parameters; the first varies slowest.
    pub axes: &'a [Axis],
    /// Parameters held fixed (`--param`).
    pub fixed: &'a [(String, String)],
    /// Predictions, for the signal strategy.
    pub signals: Option<&'a SignalSeries>,
    /// The regime filter setting.
    pub regime: &'a RegimeFilterConfig,
    /// Backtest settings (execution, costs, window).
    pub settings: &'a Settings,
    /// The metric to maximise.
    pub maximize: Metric,
    /// Grid or random.
    pub method: Method,
    /// CSCV blocks for PBO.
    pub pbo_splits: usize,
    /// Whether to compute DSR and PBO of the search (a walk-forward's inner searches skip
    /// them).
    pub overfitting: bool,
    /// The stamp every trial's report carries.
    pub stamp: Stamp,
    /// What the search may plan to take (`budget`): its points × bars are checked before any
    /// is built.
    pub budget: qts_core::budget::Budget,
}

/// One backtested point.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// Its parameters (searched and fixed, with defaults), by name.
    pub params: BTreeMap<&'static str, ParamValue>,
    /// Every metric.
    pub metrics: Metrics,
    /// The searched parameters as `fast=5;slow=10`.
    #[serde(skip)]
    pub label: String,
    /// Per-bar strategy returns over the window.
    #[serde(skip)]
    pub returns: Vec<f64>,
}

/// The search's outcome, as `qts optimize --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct OptimizeReport {
    /// The best trial.
    pub best: Trial,
    /// Trials backtested.
    pub trials: usize,
    /// Grid points the strategy's constraints refused (e.g. `fast ≥ slow`).
    pub skipped: usize,
    /// The metric maximised.
    pub maximize: Metric,
    /// `grid` or `random`.
    pub method: &'static str,
    /// DSR of the trial with the best full-sample Sharpe ratio, over all trials (`null`
    /// with fewer than two trials).
    pub deflated_sharpe_ratio: Option<f64>,
    /// PBO by CSCV over the trials' returns (`null` when the trials are too few or too short
    /// for the blocks).
    pub probability_of_backtest_overfitting: Option<f64>,
    /// Why a statistic is `null`, if one is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Every trial, in grid order.
    #[serde(skip)]
    pub all: Vec<Trial>,
    /// The dates of the returns.
    #[serde(skip)]
    pub dates: Vec<String>,
    /// λ of every CSCV combination (PBO is the share ≤ 0), when PBO was computed.
    #[serde(skip)]
    pub logits: Vec<f64>,
}

impl OptimizeReport {
    /// `trials.csv`: parameter columns, then every metric (empty where not a number).
    pub fn trials_csv(&self) -> String {
        let params: Vec<&str> = self.best.params.keys().copied().collect();
        let metrics: Vec<&str> = self.best.metrics.keys().map(|m| m.key()).collect();
        let mut out = params
            .iter()
            .chain(&metrics)
            .copied()
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for t in &self.all {
            let mut cells: Vec<String> = params
                .iter()
                .map(|p| t.params.get(p).map_or(String::new(), ParamValue::text))
                .collect();
            cells.extend(metrics.iter().map(|m| {
                let v = t.metrics.get(*m).map_or(f64::NAN, |v| v.as_f64());
                if v.is_finite() {
                    v.to_string()
                } else {
                    String::new()
                }
            }));
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// `trial_returns.csv`: `date`, then one column of per-bar returns per trial.
    pub fn trial_returns_csv(&self) -> String {
        let mut out = String::from("date");
        for t in &self.all {
            out.push(',');
            out.push_str(&t.label);
        }
        out.push('\n');
        for (i, d) in self.dates.iter().enumerate() {
            out.push_str(d);
            for t in &self.all {
                let _ = write!(out, ",{}", t.returns[i]);
            }
            out.push('\n');
        }
        out
    }
}

/// The `index`-th point of the grid, first axis slowest (as `itertools.product`).
fn point_at(axes: &[Axis], mut index: usize) -> Vec<(String, String)> {
    let mut point: Vec<(String, String)> = axes
        .iter()
        .rev()
        .map(|axis| {
            let n = axis.values.len();
            let value = axis.values[index % n].clone();
            index /= n;
            (axis.name.clone(), value)
        })
        .collect();
    point.reverse();
    point
}

/// The indices of the points `method` backtests, in grid order, after checking the plan
/// against `budget` (`bars` each): a random search draws its points without building the
/// grid.
fn plan(
    axes: &[Axis],
    method: Method,
    bars: usize,
    budget: &qts_core::budget::Budget,
) -> Result<Vec<usize>, ResearchError> {
    let total = axes.iter().map(|a| a.values.len() as f64).product::<f64>();
    let (parameter, planned) = match method {
        Method::Grid => ("grid", total),
        Method::Random { trials, .. } => ("trials", (trials as f64).min(total)),
    };
    let bars = bars as f64;
    // Each point keeps its per-bar returns (twice: the trial and the overfitting matrix) and
    // its metrics; each backtests every bar.
    budget
        .check(
            parameter,
            || {
                format!(
                    "{} backtests of {bars:.0} bars",
                    qts_core::budget::count(planned)
                )
            },
            planned * (16.0 * bars + 2048.0),
            planned * bars,
        )
        .map_err(|e| {
            ResearchError::parameter(parameter, format!("is too large for this machine: {e}"))
        })?;
    let Some(total) = (total < usize::MAX as f64).then_some(total as usize) else {
        return Err(ResearchError::parameter(
            "grid",
            format!("has {total:.1e} points, more than can be numbered"),
        ));
    };
    Ok(match method {
        Method::Grid => (0..total).collect(),
        Method::Random { trials, seed } => {
            // A seeded sample, then back into grid order so ties resolve as in a grid search.
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut drawn = rand::seq::index::sample(&mut rng, total, trials.min(total)).into_vec();
            drawn.sort_unstable();
            drawn
        }
    })
}

/// Searches `req`'s grid; `progress` hears each trial (from any thread) and can stop the
/// search between trials.
///
/// # Errors
/// [`ResearchError::Parameter`] for an empty grid, a grid whose every point the strategy
/// refuses, an unknown metric or no trials; a parameter the strategy does not take, as
/// [`Registry::params`] says; a backtest's own errors; [`ResearchError::Cancelled`].
pub fn optimize(
    req: &OptimizeRequest<'_>,
    progress: &dyn Progress,
) -> Result<OptimizeReport, ResearchError> {
    if req.axes.is_empty() {
        return Err(ResearchError::parameter(
            "grid",
            "is empty: give at least one NAME=START:STOP:STEP or NAME=a,b,c",
        ));
    }
    if let Method::Random { trials: 0, .. } = req.method {
        return Err(ResearchError::parameter(
            "trials",
            "must be at least 1, got 0",
        ));
    }
    let bars = req.market.bars().first().map_or(0, |b| b.time.len());
    let planned = plan(req.axes, req.method, bars, &req.budget)?;
    if req.overfitting {
        qts_stats::overfitting::check_budget(req.pbo_splits, planned.len(), &req.budget)?;
    }
    let grid: Vec<Vec<(String, String)>> =
        planned.into_iter().map(|i| point_at(req.axes, i)).collect();
    // Parse every point first: an unknown parameter or a value of the wrong kind is an error.
    let parsed: Vec<(Params, String)> = grid
        .iter()
        .map(|point| {
            let mut all = req.fixed.to_vec();
            all.extend(point.iter().cloned());
            let label = point
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";");
            Ok((req.registry.params(req.strategy, &all)?, label))
        })
        .collect::<Result<_, ResearchError>>()?;
    // Then every point in parallel: a point the strategy's own constraints refuse (e.g.
    // fast >= slow) is skipped, not an error.
    let outcomes: Vec<Option<Trial>> = parsed
        .par_iter()
        .map(|(params, label)| {
            if progress.cancelled() {
                return Err(ResearchError::Cancelled);
            }
            let mut inputs = Inputs {
                symbols: req.market.bars().len(),
                signals: req.signals.cloned(),
            };
            let mut strategy = match req.registry.build_parsed(params, &mut inputs, req.regime) {
                Ok(s) => s,
                Err(BacktestError::Parameter { .. }) => {
                    progress.step();
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            let report = backtest(
                req.market,
                strategy.as_mut(),
                req.settings,
                None,
                req.stamp.clone(),
            )?;
            progress.step();
            Ok(Some(Trial {
                params: params.values().iter().cloned().collect(),
                returns: simple_returns(&report.result.equity),
                metrics: report.metrics,
                label: label.clone(),
            }))
        })
        .collect::<Result<_, ResearchError>>()?;
    let skipped = outcomes.iter().filter(|t| t.is_none()).count();
    let all: Vec<Trial> = outcomes.into_iter().flatten().collect();
    if all.is_empty() {
        return Err(ResearchError::parameter(
            "grid",
            format!(
                "every one of the {} grid points breaks a constraint of `{}`",
                grid.len(),
                req.strategy
            ),
        ));
    }
    let score = |t: &Trial| {
        t.metrics
            .get(&req.maximize)
            .map_or(f64::NAN, |v| v.as_f64())
    };
    let best = all
        .iter()
        .filter(|t| !score(t).is_nan())
        .fold(None, |b: Option<&Trial>, t| match b {
            Some(b) if score(b) >= score(t) => Some(b),
            _ => Some(t),
        })
        .unwrap_or(&all[0])
        .clone();
    let names: Vec<String> = all.iter().map(|t| t.label.clone()).collect();
    let columns: Vec<Vec<f64>> = all.iter().map(|t| t.returns.clone()).collect();
    let trials = Trials {
        names: &names,
        returns: &columns,
    };
    let mut notes = Vec::new();
    let (mut dsr, mut pbo, mut logits) = (None, None, Vec::new());
    if req.overfitting {
        match deflated_sharpe_ratio(&trials) {
            Ok(d) => dsr = Some(d.deflated_sharpe_ratio),
            Err(e) => notes.push(format!("deflated_sharpe_ratio: {e}")),
        }
        match probability_of_backtest_overfitting(&trials, req.pbo_splits, &req.budget) {
            Ok(p) => {
                pbo = Some(p.probability_of_backtest_overfitting);
                logits = p.logits;
            }
            Err(e) => notes.push(format!("probability_of_backtest_overfitting: {e}")),
        }
    }
    let time = &req.market.bars()[0].time;
    let (from, until) = if req.settings.window == qts_backtest::report::Window::default() {
        (0, time.len())
    } else {
        req.settings.window.bars(time)?
    };
    Ok(OptimizeReport {
        best,
        trials: all.len(),
        skipped,
        maximize: req.maximize,
        method: match req.method {
            Method::Grid => "grid",
            Method::Random { .. } => "random",
        },
        deflated_sharpe_ratio: dsr,
        probability_of_backtest_overfitting: pbo,
        notes,
        dates: time[from + 1..until]
            .iter()
            .map(|t| t.date().to_string())
            .collect(),
        all,
        logits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_pythons_and_lists_are_kept() {
        let a = Axis::parse("fast=5:20:5").unwrap();
        assert_eq!(a.name, "fast");
        assert_eq!(a.values, ["5", "10", "15"]);
        assert_eq!(Axis::parse("slow=30,50").unwrap().values, ["30", "50"]);
        assert_eq!(Axis::parse("x=10:0:-5").unwrap().values, ["10", "5"]);
        let e = Axis::parse("fast=5:20:0").unwrap_err().to_string();
        assert_eq!(e, "grid fast=5:20:0: the step is 0");
        let e = Axis::parse("fast=20:5:5").unwrap_err().to_string();
        assert_eq!(e, "grid fast=20:5:5: no values");
        let e = Axis::parse("fast").unwrap_err().to_string();
        assert!(e.contains("expected NAME=START:STOP:STEP"), "{e}");
    }

    #[test]
    fn the_first_axis_varies_slowest() {
        let axes = [
            Axis::parse("a=1,2").unwrap(),
            Axis::parse("b=3,4,5").unwrap(),
        ];
        let budget = qts_core::budget::Budget::default();
        let planned = plan(&axes, Method::Grid, 10, &budget).unwrap();
        let p: Vec<_> = planned.into_iter().map(|i| point_at(&axes, i)).collect();
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], [("a".into(), "1".into()), ("b".into(), "3".into())]);
        assert_eq!(p[3], [("a".into(), "2".into()), ("b".into(), "3".into())]);
        assert_eq!(p[5], [("a".into(), "2".into()), ("b".into(), "5".into())]);
    }

    #[test]
    fn a_grid_too_large_is_refused_before_it_is_built_and_a_random_search_never_builds_it() {
        let budget = qts_core::budget::Budget::default();
        // Ten axes of 100 values: 10^20 points, more than a usize numbers.
        let axes: Vec<Axis> = (0..10)
            .map(|k| Axis::parse(&format!("p{k}=0:100:1")).unwrap())
            .collect();
        let e = plan(&axes, Method::Grid, 2520, &budget)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("grid is too large for this machine: 1.0e20 backtests of 2520 bars needs about 4.2e24 bytes"), "{e}");
        let e = plan(
            &axes,
            Method::Random {
                trials: 10,
                seed: 1,
            },
            2520,
            &budget,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("more than can be numbered"), "{e}");
        // 10^8 points, 10 drawn: no grid is built, the same ten for the same seed.
        let axes = &axes[..4];
        let draw = |seed| plan(axes, Method::Random { trials: 10, seed }, 2520, &budget).unwrap();
        let a = draw(7);
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a[9] < 100_000_000);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        // A range is counted before it is expanded, without overflow.
        let e = Axis::parse("x=0:9223372036854775807:1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("gives 9223372036854775807 values; an axis takes at most 1000000"),
            "{e}"
        );
        let e = Axis::parse("x=-9223372036854775808:9223372036854775807:1").unwrap_err();
        assert!(
            e.to_string().contains("gives 18446744073709551615 values"),
            "{e}"
        );
    }
}

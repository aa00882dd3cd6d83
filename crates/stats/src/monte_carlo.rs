//! Monte Carlo confidence intervals of a strategy's metrics: many equity paths resampled from
//! its returns — i.i.d. bootstrap, the stationary block bootstrap of Politis & Romano (1994,
//! geometric block lengths of mean B, wrapping around), a bootstrap of trade returns — or
//! drawn from a normal or Student-t distribution fitted to them. Each path's numbers are a
//! function of `(seed, path)` alone (ChaCha8, one stream per path), so the result is the
//! same whatever the thread count.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StudentT};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::StatsError;
use qts_core::stats;

/// How Monte Carlo paths are drawn (`backtest.monte_carlo.method`, `--method` of `qts monte-carlo`).
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
#[strum(serialize_all = "kebab-case")]
pub enum ResampleMethod {
    /// i.i.d. bootstrap of the returns.
    Iid,
    /// Stationary block bootstrap of the returns (keeps volatility clustering).
    #[serde(alias = "block_bootstrap")]
    #[strum(to_string = "block", serialize = "block_bootstrap")]
    Block,
    /// Bootstrap of a run's trade returns.
    Trades,
    /// A normal fitted to the returns.
    Normal,
    /// A Student-t fitted to the returns.
    #[serde(alias = "student-t")]
    #[strum(to_string = "student-t", serialize = "student_t")]
    StudentT,
}

impl ResampleMethod {
    /// The statistics crate's method, with the block bootstrap's mean `block_size`.
    pub fn with_block_size(self, block_size: usize) -> Method {
        match self {
            ResampleMethod::Iid => Method::Iid,
            ResampleMethod::Block => Method::Block { size: block_size },
            ResampleMethod::Trades => Method::Trades,
            ResampleMethod::Normal => Method::Normal,
            ResampleMethod::StudentT => Method::StudentT,
        }
    }
}

/// How paths are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Returns drawn with replacement, one at a time.
    Iid,
    /// Stationary block bootstrap with mean block length `size`.
    Block {
        /// Mean block length (bars).
        size: usize,
    },
    /// Trade returns drawn with replacement.
    Trades,
    /// Normal with the returns' mean and standard deviation.
    Normal,
    /// Student-t with the returns' mean and standard deviation, its degrees of freedom from
    /// their excess kurtosis (ν = 4 + 6/κ; a normal when κ ≤ 0).
    StudentT,
}

impl Method {
    /// The kind of draw, without its block size.
    pub fn kind(&self) -> ResampleMethod {
        match self {
            Method::Iid => ResampleMethod::Iid,
            Method::Block { .. } => ResampleMethod::Block,
            Method::Trades => ResampleMethod::Trades,
            Method::Normal => ResampleMethod::Normal,
            Method::StudentT => ResampleMethod::StudentT,
        }
    }

    /// The method's name, as the report and the flags spell it.
    pub fn name(&self) -> &'static str {
        self.kind().into()
    }
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The sample: per-period returns (or, for [`Method::Trades`], trade returns).
    pub sample: &'a [f64],
    /// Periods (bars or trades) a year, for CAGR, Sharpe and volatility.
    pub periods_per_year: f64,
    /// How paths are drawn.
    pub method: Method,
    /// Paths.
    pub paths: usize,
    /// Seed.
    pub seed: u64,
    /// Periods per path (the sample's length when `None`).
    pub horizon: Option<usize>,
    /// Interval coverage, e.g. 0.95.
    pub level: f64,
    /// The drawdown whose probability of being exceeded is reported (0.2: a 20% fall).
    pub drawdown: f64,
    /// Starting equity of each path.
    pub initial: f64,
    /// What the simulation may plan to take (`budget`): paths × horizon is checked against
    /// it before any path is drawn.
    pub budget: qts_core::budget::Budget,
}

/// The sample of the `trades` method: each trade's P&L over the equity at the close of its
/// entry day (`entries`: entry day and P&L, in order; `equity`: the run's equity by day), and
/// the trades a year over the run's `periods` returns — what a strategy sized as a fraction of
/// its equity compounds, where raw lot returns would overstate it.
///
/// # Errors
/// The index of the first trade whose P&L is not finite, or whose entry day has no positive
/// equity.
pub fn trade_sample(
    entries: &[(Option<chrono::NaiveDate>, Option<f64>)],
    equity: &[(chrono::NaiveDate, f64)],
    periods: usize,
    periods_per_year: f64,
) -> Result<(Vec<f64>, f64), usize> {
    let by_day: std::collections::HashMap<chrono::NaiveDate, f64> =
        equity.iter().copied().collect();
    let sample = entries
        .iter()
        .enumerate()
        .map(|(i, (day, pnl))| {
            let e = day.and_then(|d| by_day.get(&d).copied());
            match (pnl, e) {
                (Some(p), Some(e)) if p.is_finite() && e > 0.0 => Ok(p / e),
                _ => Err(i),
            }
        })
        .collect::<Result<Vec<f64>, usize>>()?;
    let years = periods as f64 / periods_per_year;
    let per_year = sample.len() as f64 / years;
    Ok((sample, per_year))
}

/// A percentile interval and the mean of a metric over the paths.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Interval {
    /// Mean over the paths.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub mean: f64,
    /// The `(1 − level)/2` quantile.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub lower: f64,
    /// The median.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub median: f64,
    /// The `(1 + level)/2` quantile.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub upper: f64,
}

/// The fitted distribution of the parametric methods.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Mean return per period.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub mean: f64,
    /// Standard deviation (ddof = 1).
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub std: f64,
    /// Student-t degrees of freedom (absent for the normal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
}

/// The simulation's outcome, as `qts monte-carlo --json` prints it (and `monte_carlo.json` is
/// read back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `iid`, `block`, `trades`, `normal` or `student-t`.
    #[serde(with = "crate::serde_nan::names")]
    pub method: ResampleMethod,
    /// Paths.
    pub paths: usize,
    /// Periods per path.
    pub horizon: usize,
    /// Interval coverage.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub level: f64,
    /// Seed.
    pub seed: u64,
    /// Each path's starting equity.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub initial_equity: f64,
    /// Final equity.
    pub final_equity: Interval,
    /// Compound annual growth rate.
    pub cagr: Interval,
    /// Mean return per period.
    pub mean_return: Interval,
    /// Annualised Sharpe ratio (risk-free 0).
    pub sharpe_ratio: Interval,
    /// Maximum drawdown (negative).
    pub max_drawdown: Interval,
    /// Annualised volatility.
    pub annual_volatility: Interval,
    /// Share of paths ending below the starting equity.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub prob_loss: f64,
    /// Share of paths whose drawdown passes `drawdown_threshold`.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub prob_drawdown_beyond: f64,
    /// The drawdown threshold.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub drawdown_threshold: f64,
    /// The distribution fitted (parametric methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fitted: Option<Fit>,
    /// Quantile bands of the equity over the horizon (the report's fan chart).
    pub fan: Fan,
    /// The distributions of final equity, CAGR, Sharpe ratio and max drawdown.
    pub histograms: Histograms,
    /// What the sample is (a file, a run's trades), when the caller says ([`Report::of`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

impl Report {
    /// The report with `source` saying what the sample is.
    pub fn of(self, source: impl Into<String>) -> Report {
        Report {
            source: source.into(),
            ..self
        }
    }

    /// Each metric's interval under its public key, in the order the report lists them.
    pub fn intervals(&self) -> [(&'static str, &Interval); 6] {
        [
            ("final_equity", &self.final_equity),
            ("cagr", &self.cagr),
            ("mean_return", &self.mean_return),
            ("sharpe_ratio", &self.sharpe_ratio),
            ("max_drawdown", &self.max_drawdown),
            ("annual_volatility", &self.annual_volatility),
        ]
    }
}

/// One path's numbers.
struct PathStats {
    /// Equity at each of the fan's steps.
    marks: Vec<f64>,
    final_equity: f64,
    cagr: f64,
    mean: f64,
    sharpe: f64,
    max_drawdown: f64,
    volatility: f64,
}

enum Draw {
    Resample(Vec<f64>),
    Block(Vec<f64>, f64),
    Normal(f64, f64),
    StudentT(f64, f64, StudentT<f64>),
}

/// Runs the simulation.
///
/// # Errors
/// [`StatsError::Parameter`] naming the parameter (no paths, a level or drawdown outside
/// (0, 1), a block size of 0, a horizon of 0); [`StatsError::Insufficient`] for fewer than two
/// sample values or a non-finite one.
pub fn simulate(req: &Request<'_>) -> Result<Report, StatsError> {
    let bad = |m: String| Err(StatsError::Insufficient(m));
    let param = |name: &'static str, m: String| Err(StatsError::parameter(name, m));
    if req.paths == 0 {
        return param("paths", "must be at least 1, got 0".into());
    }
    if req.sample.len() < 2 {
        return bad(format!(
            "the sample has {} value(s); Monte Carlo needs at least 2",
            req.sample.len()
        ));
    }
    if let Some(i) = req.sample.iter().position(|x| !x.is_finite()) {
        return bad(format!("sample value {} is not finite", i + 1));
    }
    if !(req.level > 0.0 && req.level < 1.0) {
        return param(
            "level",
            format!("must be between 0 and 1, got {}", req.level),
        );
    }
    if !(req.drawdown > 0.0 && req.drawdown < 1.0) {
        return param(
            "drawdown",
            format!("must be between 0 and 1, got {}", req.drawdown),
        );
    }
    let horizon = req.horizon.unwrap_or(req.sample.len());
    if horizon == 0 {
        return param("horizon", "must be at least 1, got 0".into());
    }
    // The plan, before anything is allocated: each worker holds one path's draws, each path
    // keeps its statistics and its fan marks.
    let (p, h) = (req.paths as f64, horizon as f64);
    let workers = rayon::current_num_threads() as f64;
    let per_path = 8.0 * (h.min(FAN_STEPS as f64) + 1.0) + 96.0;
    req.budget
        .check(
            "horizon",
            || format!("a path of {horizon} periods on each of {workers} workers"),
            8.0 * h * workers,
            h,
        )
        .map_err(|e| StatsError::parameter("horizon", format!("{horizon} is too large: {e}")))?;
    req.budget
        .check(
            "paths",
            || format!("{} paths of {horizon} periods", req.paths),
            p * per_path + 8.0 * h * workers,
            p * h,
        )
        .map_err(|e| StatsError::parameter("paths", format!("{} is too large: {e}", req.paths)))?;
    let (mean, std) = (stats::mean(req.sample), stats::std(req.sample, 1));
    let mut fitted = None;
    let draw = match req.method {
        Method::Iid | Method::Trades => Draw::Resample(req.sample.to_vec()),
        Method::Block { size } => {
            if size == 0 {
                return param("block_size", "must be at least 1, got 0".into());
            }
            Draw::Block(req.sample.to_vec(), 1.0 / size as f64)
        }
        Method::Normal => {
            fitted = Some(Fit {
                mean,
                std,
                df: None,
            });
            Draw::Normal(mean, std)
        }
        Method::StudentT => {
            let excess = stats::kurtosis(req.sample);
            if excess > 0.0 {
                let df = 4.0 + 6.0 / excess;
                fitted = Some(Fit {
                    mean,
                    std,
                    df: Some(df),
                });
                let t = StudentT::new(df).map_err(|e| {
                    StatsError::Insufficient(format!("cannot fit a Student-t (df {df}): {e}"))
                })?;
                Draw::StudentT(mean, std * ((df - 2.0) / df).sqrt(), t)
            } else {
                fitted = Some(Fit {
                    mean,
                    std,
                    df: None,
                });
                Draw::Normal(mean, std)
            }
        }
    };
    let years = horizon as f64 / req.periods_per_year;
    // The fan's steps: at most FAN_STEPS + 1 evenly spread periods, the start and end included.
    let steps: Vec<usize> = {
        let k = horizon.min(FAN_STEPS);
        let mut v: Vec<usize> = (0..=k).map(|i| i * horizon / k).collect();
        v.dedup();
        v
    };
    let paths: Vec<PathStats> = (0..req.paths)
        .into_par_iter()
        .map(|k| {
            let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
            rng.set_stream(k as u64);
            let mut r = Vec::with_capacity(horizon);
            match &draw {
                Draw::Resample(s) => {
                    r.extend((0..horizon).map(|_| s[rng.random_range(0..s.len())]));
                }
                Draw::Block(s, p) => {
                    let mut i = rng.random_range(0..s.len());
                    for _ in 0..horizon {
                        r.push(s[i]);
                        i = if rng.random::<f64>() < *p {
                            rng.random_range(0..s.len())
                        } else {
                            (i + 1) % s.len()
                        };
                    }
                }
                Draw::Normal(m, sd) => {
                    r.extend((0..horizon).map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        m + sd * z
                    }));
                }
                Draw::StudentT(m, scale, t) => {
                    r.extend((0..horizon).map(|_| m + scale * t.sample(&mut rng)));
                }
            }
            path_stats(&r, req.initial, years, req.periods_per_year, &steps)
        })
        .collect();
    let interval = |f: &dyn Fn(&PathStats) -> f64| {
        let mut v: Vec<f64> = paths.iter().map(f).filter(|x| !x.is_nan()).collect();
        v.sort_unstable_by(f64::total_cmp);
        Interval {
            mean: stats::mean(&v),
            lower: stats::quantile_sorted(&v, (1.0 - req.level) / 2.0),
            median: stats::quantile_sorted(&v, 0.5),
            upper: stats::quantile_sorted(&v, (1.0 + req.level) / 2.0),
        }
    };
    let n = paths.len() as f64;
    Ok(Report {
        method: req.method.kind(),
        paths: req.paths,
        horizon,
        level: req.level,
        seed: req.seed,
        initial_equity: req.initial,
        final_equity: interval(&|p| p.final_equity),
        cagr: interval(&|p| p.cagr),
        mean_return: interval(&|p| p.mean),
        sharpe_ratio: interval(&|p| p.sharpe),
        max_drawdown: interval(&|p| p.max_drawdown),
        annual_volatility: interval(&|p| p.volatility),
        prob_loss: paths
            .iter()
            .filter(|p| p.final_equity < req.initial)
            .count() as f64
            / n,
        prob_drawdown_beyond: paths
            .iter()
            .filter(|p| p.max_drawdown <= -req.drawdown)
            .count() as f64
            / n,
        drawdown_threshold: req.drawdown,
        fitted,
        fan: fan(&paths, &steps),
        histograms: Histograms {
            final_equity: Histogram::of(paths.iter().map(|p| p.final_equity)),
            cagr: Histogram::of(paths.iter().map(|p| p.cagr)),
            sharpe_ratio: Histogram::of(paths.iter().map(|p| p.sharpe)),
            max_drawdown: Histogram::of(paths.iter().map(|p| p.max_drawdown)),
        },
        source: String::new(),
    })
}

/// Steps of the fan chart.
pub const FAN_STEPS: usize = 200;

/// The quantiles of the paths' equity at each of `steps`.
fn fan(paths: &[PathStats], steps: &[usize]) -> Fan {
    let mut bands = vec![Vec::with_capacity(steps.len()); FAN_QUANTILES.len()];
    let mut column = Vec::with_capacity(paths.len());
    for k in 0..steps.len() {
        column.clear();
        column.extend(paths.iter().map(|p| p.marks[k]));
        column.sort_unstable_by(f64::total_cmp);
        for (band, q) in bands.iter_mut().zip(FAN_QUANTILES) {
            band.push(stats::quantile_sorted(&column, q));
        }
    }
    Fan {
        steps: steps.to_vec(),
        quantiles: FAN_QUANTILES.to_vec(),
        bands,
    }
}

/// The quantiles drawn as the fan's bands.
pub const FAN_QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Quantile bands of the paths' equity over the horizon (the fan chart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fan {
    /// Periods from the start (0 = the starting equity).
    pub steps: Vec<usize>,
    /// The quantiles, e.g. 0.05 … 0.95.
    #[serde(deserialize_with = "crate::serde_nan::vec_f64_or_nan")]
    pub quantiles: Vec<f64>,
    /// `bands[q][k]`: quantile `q` of the equity at `steps[k]`.
    #[serde(deserialize_with = "crate::serde_nan::vecs_f64_or_nan")]
    pub bands: Vec<Vec<f64>>,
}

/// Equal-width bins of a metric over the paths (NaN left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Left edge of the first bin.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub low: f64,
    /// Right edge of the last bin.
    #[serde(deserialize_with = "crate::serde_nan::f64_or_nan")]
    pub high: f64,
    /// Paths in each of the bins.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Bins of the histograms.
    pub const BINS: usize = 40;

    /// The bins of the finite `values`.
    pub fn of(values: impl Iterator<Item = f64>) -> Histogram {
        let v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                (l.min(*x), h.max(*x))
            });
        let mut counts = vec![0u64; Self::BINS];
        if v.is_empty() {
            return Histogram {
                low: 0.0,
                high: 0.0,
                counts,
            };
        }
        for x in &v {
            let k = if hi > lo {
                (((x - lo) / (hi - lo)) * Self::BINS as f64).floor() as usize
            } else {
                0
            };
            counts[k.min(Self::BINS - 1)] += 1;
        }
        Histogram {
            low: lo,
            high: hi,
            counts,
        }
    }
}

/// The distributions of four metrics over the paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histograms {
    /// Final equity.
    pub final_equity: Histogram,
    /// CAGR.
    pub cagr: Histogram,
    /// Annualised Sharpe ratio.
    pub sharpe_ratio: Histogram,
    /// Maximum drawdown.
    pub max_drawdown: Histogram,
}

fn path_stats(r: &[f64], initial: f64, years: f64, periods: f64, steps: &[usize]) -> PathStats {
    let (mut equity, mut peak, mut mdd) = (initial, initial, 0.0f64);
    let mut marks = Vec::with_capacity(steps.len());
    let mut next = steps.iter().peekable();
    if next.peek() == Some(&&0) {
        marks.push(initial);
        next.next();
    }
    for (i, &x) in r.iter().enumerate() {
        equity *= 1.0 + x;
        peak = peak.max(equity);
        mdd = mdd.min(equity / peak - 1.0);
        if next.peek() == Some(&&(i + 1)) {
            marks.push(equity);
            next.next();
        }
    }
    let (m, sd) = (stats::mean(r), stats::std(r, 1));
    PathStats {
        marks,
        final_equity: equity,
        cagr: (equity / initial).powf(1.0 / years) - 1.0,
        mean: m,
        sharpe: if sd > 0.0 {
            m / sd * periods.sqrt()
        } else {
            f64::NAN
        },
        max_drawdown: mdd,
        volatility: sd * periods.sqrt(),
    }
}

#[cfg(test)]
mod names {
    use super::*;
    use strum::VariantNames;

    #[test]
    fn one_name_table_reads_every_spelling_and_writes_the_flags() {
        assert_eq!(
            ResampleMethod::VARIANTS,
            ["iid", "block", "trades", "normal", "student-t"]
        );
        for (text, want) in [
            ("student-t", ResampleMethod::StudentT),
            ("student_t", ResampleMethod::StudentT),
            ("block_bootstrap", ResampleMethod::Block),
        ] {
            assert_eq!(text.parse::<ResampleMethod>().ok(), Some(want), "{text}");
        }
        assert!("bootstrap".parse::<ResampleMethod>().is_err());
        assert_eq!(Method::Block { size: 5 }.name(), "block");
        assert_eq!(Method::StudentT.name(), "student-t");
        assert_eq!(ResampleMethod::StudentT.to_string(), "student-t");
    }
}

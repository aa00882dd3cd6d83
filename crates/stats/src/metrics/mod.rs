//! Performance metrics: 30+ numbers from an equity curve, a trade list and optionally a
//! benchmark. Each metric is a small pure function ([`returns`], [`trades`]);
//! [`return_metrics`] and [`trade_metrics`] gather them under their public JSON keys
//! (empyrical's names where empyrical has the metric). Ratios and returns are fractions, not percent.

mod metric;
pub mod returns;
pub use qts_core::stats;
pub mod trades;

pub use metric::{Group, Metric, Unit};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::StatsError;

pub use trades::TradeOutcome;

/// Inputs that are not the return series itself.
#[derive(Debug, Clone, Copy)]
pub struct MetricsConfig {
    /// Periods a year (252 for daily bars).
    pub periods_per_year: f64,
    /// Annual risk-free rate; converted to `(1 + R)^(1/periods) − 1` per period.
    pub risk_free_annual: f64,
    /// Confidence of VaR and CVaR (0.95: the 5% tail).
    pub var_confidence: f64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            periods_per_year: 252.0,
            risk_free_annual: 0.0,
            var_confidence: 0.95,
        }
    }
}

impl MetricsConfig {
    /// The risk-free return per period.
    pub fn risk_free_per_period(&self) -> f64 {
        (1.0 + self.risk_free_annual).powf(1.0 / self.periods_per_year) - 1.0
    }
}

/// A metric's value: a number, or a count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A real number; NaN and infinities serialise as `null`.
    Number(#[serde(serialize_with = "finite_or_null")] f64),
    /// A count.
    Count(u64),
}

fn finite_or_null<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

// Read back as written: an integer is a count, a number a number, `null` (a value that was not
// finite) NaN.
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, a count or null")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Count(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Number(v))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Number(f64::NAN))
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Number(f64::NAN))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl std::fmt::Display for Value {
    /// As the JSON writes it: a count as an integer, a number with Rust's shortest form,
    /// `null` when it is not finite.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Count(c) => write!(f, "{c}"),
            Value::Number(x) if x.is_finite() => write!(f, "{}", serde_json::Value::from(*x)),
            Value::Number(_) => f.write_str("null"),
        }
    }
}

impl Value {
    /// The value as f64.
    pub fn as_f64(&self) -> f64 {
        match self {
            Value::Number(v) => *v,
            Value::Count(c) => *c as f64,
        }
    }
}

/// Metrics by name, in their keys' order (the JSON's).
pub type Metrics = BTreeMap<Metric, Value>;

/// The return-based metrics of `r` (and against `bench` when given, aligned period by period).
///
/// Each metric is defined by its function in [`returns`]; this computes them all together in
/// two passes over the returns (sums and the drawdown path, then the centred moments) plus a
/// selection for the quantiles, with every sum taken in the same order as the definition so
/// the values are the same bit for bit (`tests` below check it).
pub fn return_metrics(r: &[f64], bench: Option<&[f64]>, cfg: &MetricsConfig) -> Metrics {
    let p = cfg.periods_per_year;
    let rf = cfg.risk_free_per_period();
    let cutoff = 1.0 - cfg.var_confidence;
    let n = |v: f64| Value::Number(v);
    let len = r.len();
    let nf = len as f64;
    let nan = f64::NAN;

    // Pass 1: sums, the wealth path and its drawdowns, cumulative log returns.
    let mut growth = 1.0;
    // Sums start at −0.0, as `Iterator::sum` does (an empty sum is −0.0).
    let mut sum = -0.0;
    let mut sum_ex = -0.0;
    let mut constant_ex = true;
    let first_ex = r.first().map_or(0.0, |x| x - rf);
    let mut downside_ss = -0.0;
    let (mut up, mut down) = (-0.0, -0.0);
    let (mut wealth, mut peak) = (100.0, 100.0f64);
    let mut mdd = 0.0f64;
    let (mut run, mut longest) = (0usize, 0usize);
    let (mut deepest, mut depth_sum, mut depths) = (0.0f64, -0.0, 0usize);
    let mut ulcer_ss = -0.0;
    let mut log_acc = 0.0;
    let mut cum_sum = -0.0;
    let mut cum = Vec::with_capacity(len);
    let (mut best, mut worst) = (f64::NEG_INFINITY, f64::INFINITY);
    for &x in r {
        growth *= 1.0 + x;
        sum += x;
        let ex = x - rf;
        sum_ex += ex;
        constant_ex &= ex == first_ex;
        downside_ss += ex.min(0.0).powi(2);
        if ex > 0.0 {
            up += ex;
        } else if ex < 0.0 {
            down += ex;
        }
        wealth *= 1.0 + x;
        peak = peak.max(wealth);
        let d = (wealth - peak) / peak;
        mdd = mdd.min(d);
        run = if d < 0.0 { run + 1 } else { 0 };
        longest = longest.max(run);
        if d < 0.0 {
            deepest = deepest.min(d);
        } else if deepest < 0.0 {
            depth_sum += deepest;
            depths += 1;
            deepest = 0.0;
        }
        ulcer_ss += d * d;
        best = best.max(x);
        worst = worst.min(x);
    }
    if deepest < 0.0 {
        depth_sum += deepest;
        depths += 1;
    }
    // Cumulative log returns in a loop of their own: the call to `ln_1p` would make the loop
    // above spill its dozen accumulators every period.
    for &x in r {
        log_acc += x.ln_1p();
        cum_sum += log_acc;
        cum.push(log_acc);
    }

    // Pass 2: centred sums (variance, skew, kurtosis, the line through cumulative logs).
    let mean = sum / nf;
    let mean_ex = sum_ex / nf;
    let (mut ss, mut ss_ex, mut m3, mut m4) = (-0.0, -0.0, -0.0, -0.0);
    let t_mean = (0..len).map(|i| i as f64).sum::<f64>() / nf;
    let cum_mean = cum_sum / nf;
    let (mut sxy, mut sxx, mut syy) = (-0.0, -0.0, -0.0);
    for (i, (&x, &log_acc)) in r.iter().zip(&cum).enumerate() {
        let c = x - mean;
        ss += c * c;
        m3 += c.powi(3);
        m4 += c.powi(4);
        let e = (x - rf) - mean_ex;
        ss_ex += e * e;
        let (a, b) = (i as f64 - t_mean, log_acc - cum_mean);
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    let std1 = if len > 1 {
        (ss / (nf - 1.0)).sqrt()
    } else {
        nan
    };
    let m2 = ss / nf;
    let (m3, m4) = (m3 / nf, m4 / nf);

    let total = if len == 0 { nan } else { growth - 1.0 };
    let annual = if len == 0 {
        nan
    } else {
        (1.0 + total).powf(1.0 / (nf / p)) - 1.0
    };
    let two = len >= 2;
    let downside = if len == 0 {
        nan
    } else {
        (downside_ss / nf).sqrt() * p.sqrt()
    };
    let sharpe = if two {
        let sd = if constant_ex {
            0.0
        } else {
            (ss_ex / (nf - 1.0)).sqrt()
        };
        mean_ex / sd * p.sqrt()
    } else {
        nan
    };
    let max_dd = if len == 0 { nan } else { mdd };
    let calmar = if max_dd.is_nan() || max_dd >= 0.0 {
        nan
    } else {
        let v = annual / max_dd.abs();
        if v.is_infinite() { nan } else { v }
    };
    let skew = if len < 3 {
        nan
    } else if m2 == 0.0 {
        0.0
    } else {
        m3 / m2.powf(1.5) * (nf * (nf - 1.0)).sqrt() / (nf - 2.0)
    };
    let kurtosis = if len < 4 {
        nan
    } else if m2 == 0.0 {
        0.0
    } else {
        let g2 = m4 / (m2 * m2) - 3.0;
        ((nf + 1.0) * g2 + 6.0) * (nf - 1.0) / ((nf - 2.0) * (nf - 3.0))
    };

    let mut m = Metrics::new();
    m.insert(Metric::TotalReturn, n(total));
    m.insert(Metric::AnnualReturn, n(annual));
    m.insert(Metric::Cagr, n(annual));
    m.insert(Metric::AnnualVolatility, n(std1 * p.sqrt()));
    m.insert(Metric::SharpeRatio, n(sharpe));
    m.insert(
        Metric::SortinoRatio,
        n(if two { mean_ex * p / downside } else { nan }),
    );
    m.insert(Metric::DownsideRisk, n(downside));
    m.insert(Metric::CalmarRatio, n(calmar));
    m.insert(
        Metric::OmegaRatio,
        n(if two && -down > 0.0 { up / -down } else { nan }),
    );
    m.insert(Metric::MaxDrawdown, n(max_dd));
    m.insert(Metric::MaxDrawdownDuration, Value::Count(longest as u64));
    m.insert(
        Metric::AverageDrawdown,
        n(if depths == 0 {
            0.0
        } else {
            depth_sum / depths as f64
        }),
    );
    m.insert(
        Metric::UlcerIndex,
        n(if two {
            (ulcer_ss / (nf - 1.0)).sqrt()
        } else {
            nan
        }),
    );
    let q = Quantiles::new(r, &[100.0 * cutoff, 5.0, 95.0], cutoff);
    m.insert(Metric::ValueAtRisk, n(q.percentile(100.0 * cutoff)));
    m.insert(Metric::ConditionalValueAtRisk, n(q.cvar(cutoff)));
    m.insert(Metric::Skew, n(skew));
    m.insert(Metric::Kurtosis, n(kurtosis));
    m.insert(
        Metric::TailRatio,
        n(if len == 0 {
            nan
        } else {
            q.percentile(95.0).abs() / q.percentile(5.0).abs()
        }),
    );
    m.insert(
        Metric::StabilityOfTimeseries,
        n(if two {
            (sxy / (sxx * syy).sqrt()).powi(2)
        } else {
            nan
        }),
    );
    // Bailey & López de Prado's PSR and MinTRL against SR* = 0: the per-period Sharpe ratio
    // (ddof = 1) and population moments, from the same sums.
    let sr = if two && std1 > 0.0 { mean / std1 } else { nan };
    let (g3, g4) = (m3 / m2.powf(1.5), m4 / (m2 * m2));
    m.insert(
        Metric::ProbabilisticSharpeRatio,
        n(if two {
            crate::overfitting::psr_of(sr, 0.0, len, g3, g4)
        } else {
            nan
        }),
    );
    m.insert(
        Metric::MinTrackRecordLength,
        n(if two && sr > 0.0 {
            1.0 + (1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr)
                * (crate::overfitting::norm_ppf(0.95) / sr).powi(2)
        } else {
            nan
        }),
    );
    m.insert(Metric::BestDay, n(if len == 0 { nan } else { best }));
    m.insert(Metric::WorstDay, n(if len == 0 { nan } else { worst }));
    if let Some(b) = bench {
        use returns::{alpha, beta, information_ratio};
        m.insert(Metric::Alpha, n(alpha(r, b, rf, p)));
        m.insert(Metric::Beta, n(beta(r, b, rf)));
        m.insert(Metric::InformationRatio, n(information_ratio(r, b)));
    }
    m
}

/// The order statistics the quantile metrics read (VaR, CVaR, the tail ratio's 5th and 95th
/// percentiles): only the two tails are ordered, each kept in a bounded heap in one pass, so
/// every answer is the value a full sort would give without sorting all the returns.
struct Quantiles {
    n: usize,
    /// The smallest values, ascending.
    low: Vec<f64>,
    /// The largest values, ascending; they are order statistics `n − high.len()` onwards.
    high: Vec<f64>,
}

/// An `f64` ordered by `total_cmp`, for the heaps.
#[derive(PartialEq)]
struct Total(f64);

impl Eq for Total {}

impl PartialOrd for Total {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Total {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The interpolation points of numpy's linear percentile `q` of `n` values.
fn percentile_points(n: usize, q: f64) -> (usize, usize, f64) {
    let pos = q / 100.0 * (n - 1) as f64;
    let lo = pos.floor() as usize;
    (lo, pos.ceil() as usize, pos - lo as f64)
}

impl Quantiles {
    /// Keeps what the percentiles `qs` and the CVaR at `cutoff` need.
    fn new(r: &[f64], qs: &[f64], cutoff: f64) -> Self {
        let n = r.len();
        if n == 0 {
            return Quantiles {
                n,
                low: Vec::new(),
                high: Vec::new(),
            };
        }
        let mut need_low = ((n - 1) as f64 * cutoff) as usize + 1;
        let mut first_high = n;
        for &q in qs {
            let (lo, hi, _) = percentile_points(n, q);
            if q <= 50.0 {
                need_low = need_low.max(hi + 1);
            } else {
                first_high = first_high.min(lo);
            }
        }
        if need_low + (n - first_high) >= n / 2 {
            // The tails cover much of the data: a sort is as cheap.
            let mut low = r.to_vec();
            low.sort_unstable_by(f64::total_cmp);
            return Quantiles {
                n,
                low,
                high: Vec::new(),
            };
        }
        Quantiles {
            n,
            low: smallest(r, need_low),
            high: largest(r, n - first_high),
        }
    }

    /// The `k`-th smallest value.
    fn kth(&self, k: usize) -> f64 {
        if k < self.low.len() {
            self.low[k]
        } else {
            let first = self.n - self.high.len();
            self.high
                .get(k.wrapping_sub(first))
                .copied()
                .unwrap_or(f64::NAN)
        }
    }

    /// [`stats::percentile_sorted`] of the sorted values.
    fn percentile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let (lo, hi, frac) = percentile_points(self.n, q);
        let low = self.kth(lo);
        if frac == 0.0 {
            low
        } else {
            low + (self.kth(hi) - low) * frac
        }
    }

    /// [`returns::cvar_sorted`] of the sorted values.
    fn cvar(&self, cutoff: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let k = ((self.n - 1) as f64 * cutoff) as usize;
        stats::mean(&self.low[..=k])
    }
}

/// The `k` smallest values of `r`, ascending.
fn smallest(r: &[f64], k: usize) -> Vec<f64> {
    let (head, rest) = r.split_at(k.min(r.len()));
    let mut heap: std::collections::BinaryHeap<Total> = head.iter().map(|&x| Total(x)).collect();
    for &x in rest {
        if let Some(mut top) = heap.peek_mut()
            && x.total_cmp(&top.0).is_lt()
        {
            *top = Total(x);
        }
    }
    heap.into_sorted_vec().into_iter().map(|t| t.0).collect()
}

/// The `k` largest values of `r`, ascending.
fn largest(r: &[f64], k: usize) -> Vec<f64> {
    use std::cmp::Reverse;
    let (head, rest) = r.split_at(k.min(r.len()));
    let mut heap: std::collections::BinaryHeap<Reverse<Total>> =
        head.iter().map(|&x| Reverse(Total(x))).collect();
    for &x in rest {
        if let Some(mut top) = heap.peek_mut()
            && x.total_cmp(&top.0.0).is_gt()
        {
            *top = Reverse(Total(x));
        }
    }
    let mut out: Vec<f64> = heap.into_iter().map(|t| t.0.0).collect();
    out.sort_unstable_by(f64::total_cmp);
    out
}

/// The trade-based metrics.
pub fn trade_metrics(t: &[TradeOutcome]) -> Metrics {
    use trades::*;
    let n = |v: f64| Value::Number(v);
    let mut m = Metrics::new();
    let rets: Vec<f64> = t.iter().map(|x| x.ret).collect();
    m.insert(Metric::NumTrades, Value::Count(t.len() as u64));
    m.insert(Metric::WinRate, n(win_rate(t)));
    m.insert(
        Metric::BestTrade,
        n(rets.iter().copied().fold(f64::NAN, f64::max)),
    );
    m.insert(
        Metric::WorstTrade,
        n(rets.iter().copied().fold(f64::NAN, f64::min)),
    );
    m.insert(Metric::AvgTrade, n(avg_trade(t)));
    m.insert(Metric::AvgWin, n(avg_win(t)));
    m.insert(Metric::AvgLoss, n(avg_loss(t)));
    m.insert(Metric::PayoffRatio, n(payoff_ratio(t)));
    m.insert(Metric::ProfitFactor, n(profit_factor(t)));
    m.insert(Metric::Expectancy, n(expectancy(t)));
    m.insert(Metric::Sqn, n(sqn(t)));
    m.insert(Metric::KellyCriterion, n(kelly_criterion(t)));
    let (w, l) = max_consecutive(t);
    m.insert(Metric::MaxConsecutiveWins, Value::Count(w as u64));
    m.insert(Metric::MaxConsecutiveLosses, Value::Count(l as u64));
    m.insert(Metric::AvgTradeDuration, n(avg_trade_duration(t)));
    m
}

pub use qts_core::stats::simple_returns;

/// The benchmark's returns on each of `time`'s dates, from a benchmark series of returns
/// `returns` ending on `dates` (ascending); `source` names the benchmark in the error.
///
/// # Errors
/// [`StatsError::Input`] naming the first date the benchmark lacks.
pub fn align_benchmark(
    time: &[chrono::NaiveDateTime],
    dates: &[chrono::NaiveDateTime],
    returns: &[f64],
    source: &str,
) -> Result<Vec<f64>, StatsError> {
    time.iter()
        .map(|t| {
            dates
                .binary_search(t)
                .map(|i| returns[i])
                .map_err(|_| StatsError::Input {
                    path: source.to_string(),
                    reason: format!("no benchmark return for {}", t.date()),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric of [`return_metrics`] from its own definition in [`returns`] and [`stats`].
    fn by_definition(r: &[f64], cfg: &MetricsConfig) -> Vec<(&'static str, f64)> {
        use returns::*;
        let (p, rf, cutoff) = (
            cfg.periods_per_year,
            cfg.risk_free_per_period(),
            1.0 - cfg.var_confidence,
        );
        let mut sorted = r.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        vec![
            ("total_return", total_return(r)),
            ("annual_return", annual_return(r, p)),
            ("annual_volatility", annual_volatility(r, p)),
            ("sharpe_ratio", sharpe_ratio(r, rf, p)),
            ("sortino_ratio", sortino_ratio(r, rf, p)),
            ("downside_risk", downside_risk(r, rf, p)),
            ("calmar_ratio", calmar_ratio(r, p)),
            ("omega_ratio", omega_ratio(r, rf)),
            ("max_drawdown", max_drawdown(r)),
            ("max_drawdown_duration", max_drawdown_duration(r) as f64),
            ("average_drawdown", average_drawdown(r)),
            ("ulcer_index", ulcer_index(r)),
            ("value_at_risk", value_at_risk(r, cutoff)),
            (
                "conditional_value_at_risk",
                conditional_value_at_risk(r, cutoff),
            ),
            ("skew", stats::skew(r)),
            ("kurtosis", stats::kurtosis(r)),
            ("tail_ratio", tail_ratio(r)),
            ("stability_of_timeseries", stability_of_timeseries(r)),
            (
                "probabilistic_sharpe_ratio",
                crate::overfitting::probabilistic_sharpe_ratio(r, 0.0),
            ),
            (
                "min_track_record_length",
                crate::overfitting::min_track_record_length(r, 0.0, 0.95),
            ),
            ("best_day", sorted.last().copied().unwrap_or(f64::NAN)),
            ("worst_day", sorted.first().copied().unwrap_or(f64::NAN)),
        ]
    }

    #[test]
    fn the_fused_passes_equal_each_definition_bit_for_bit() {
        let wave: Vec<f64> = (0..2_000)
            .map(|i| 0.012 * (i as f64 * 0.37).sin() + 0.004 * (i as f64 * 1.91).cos() + 0.0003)
            .collect();
        let cases: Vec<Vec<f64>> = vec![
            wave,
            vec![],
            vec![0.01],
            vec![0.01, -0.02],
            vec![0.01, -0.02, 0.03],
            vec![0.0; 10],
            vec![-0.01, -0.02, 0.05, -0.01, 0.0, 0.02],
        ];
        for rf in [0.0, 0.02] {
            let cfg = MetricsConfig {
                risk_free_annual: rf,
                ..MetricsConfig::default()
            };
            for r in &cases {
                let got = return_metrics(r, None, &cfg);
                let want = by_definition(r, &cfg);
                assert_eq!(got.len(), want.len() + 1, "cagr is annual_return again");
                for (k, v) in want {
                    let g = got[k].as_f64();
                    assert!(
                        g.to_bits() == v.to_bits() || (g.is_nan() && v.is_nan()),
                        "{k} of {} returns (rf {rf}): fused {g:e}, definition {v:e}",
                        r.len()
                    );
                }
            }
        }
    }
}

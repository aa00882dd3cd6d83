//! Metrics of a return series, defined as empyrical defines them (the JSON keys are
//! empyrical's function names) so that they agree with it to rounding; `tests/empyrical_golden.rs`
//! checks each on real data.
//!
//! `returns` are simple per-period returns without NaN; `periods` is the number of periods a
//! year (explicit, never a bare 252); `rf` is the risk-free return per period. Degenerate
//! inputs give NaN, as in empyrical (for example a Sharpe ratio of fewer than two returns).

use super::stats::{correlation, mean, percentile, percentile_sorted, std};

/// Compounded return over the whole series.
pub fn total_return(r: &[f64]) -> f64 {
    if r.is_empty() {
        return f64::NAN;
    }
    r.iter().fold(1.0, |acc, x| acc * (1.0 + x)) - 1.0
}

/// Geometric annual return (empyrical `annual_return`, also `cagr`).
pub fn annual_return(r: &[f64], periods: f64) -> f64 {
    if r.is_empty() {
        return f64::NAN;
    }
    let years = r.len() as f64 / periods;
    (1.0 + total_return(r)).powf(1.0 / years) - 1.0
}

/// Standard deviation (n − 1) × √periods.
pub fn annual_volatility(r: &[f64], periods: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    std(r, 1) * periods.sqrt()
}

fn excess(r: &[f64], rf: f64) -> Vec<f64> {
    r.iter().map(|x| x - rf).collect()
}

/// Mean excess return over its standard deviation, × √periods; 0-dispersion gives ±inf/NaN
/// as in empyrical.
pub fn sharpe_ratio(r: &[f64], rf: f64, periods: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let x = excess(r, rf);
    let constant = x.iter().all(|v| *v == x[0]);
    let sd = if constant { 0.0 } else { std(&x, 1) };
    mean(&x) / sd * periods.sqrt()
}

/// √(mean of squared shortfalls below `required`) × √periods.
pub fn downside_risk(r: &[f64], required: f64, periods: f64) -> f64 {
    if r.is_empty() {
        return f64::NAN;
    }
    let sq: Vec<f64> = r.iter().map(|x| (x - required).min(0.0).powi(2)).collect();
    mean(&sq).sqrt() * periods.sqrt()
}

/// Annualised mean excess return over the downside risk.
pub fn sortino_ratio(r: &[f64], required: f64, periods: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    mean(&excess(r, required)) * periods / downside_risk(r, required, periods)
}

/// Drawdown of each period's wealth from its running peak, anchored at a starting wealth of
/// 100 (so a loss on the first day is a drawdown).
pub fn drawdowns(r: &[f64]) -> Vec<f64> {
    let mut wealth = 100.0;
    let mut peak = 100.0f64;
    r.iter()
        .map(|x| {
            wealth *= 1.0 + x;
            peak = peak.max(wealth);
            (wealth - peak) / peak
        })
        .collect()
}

/// The deepest drawdown (negative, as empyrical).
pub fn max_drawdown(r: &[f64]) -> f64 {
    max_drawdown_of(&drawdowns(r))
}

/// The deepest of a drawdown series; NaN when empty.
pub fn max_drawdown_of(dd: &[f64]) -> f64 {
    if dd.is_empty() {
        return f64::NAN;
    }
    dd.iter().copied().fold(0.0, f64::min)
}

/// Annual return over |max drawdown|; NaN without a drawdown.
pub fn calmar_ratio(r: &[f64], periods: f64) -> f64 {
    calmar_from(r, max_drawdown(r), periods)
}

/// [`calmar_ratio`] with the max drawdown already known.
pub fn calmar_from(r: &[f64], dd: f64, periods: f64) -> f64 {
    if dd.is_nan() || dd >= 0.0 {
        return f64::NAN;
    }
    let v = annual_return(r, periods) / dd.abs();
    if v.is_infinite() { f64::NAN } else { v }
}

/// Probability-weighted gains over losses relative to `rf` per period (empyrical
/// `omega_ratio` with a required return of 0).
pub fn omega_ratio(r: &[f64], rf: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let x = excess(r, rf);
    let up: f64 = x.iter().filter(|v| **v > 0.0).sum();
    let down: f64 = -x.iter().filter(|v| **v < 0.0).sum::<f64>();
    if down > 0.0 { up / down } else { f64::NAN }
}

/// The 5th percentile of returns (historical VaR at 95%, a negative number).
pub fn value_at_risk(r: &[f64], cutoff: f64) -> f64 {
    percentile(r, 100.0 * cutoff)
}

/// Mean of the returns at or below the cutoff index (historical CVaR / expected shortfall).
pub fn conditional_value_at_risk(r: &[f64], cutoff: f64) -> f64 {
    let mut s = r.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    cvar_sorted(&s, cutoff)
}

/// [`conditional_value_at_risk`] of returns sorted ascending.
pub fn cvar_sorted(s: &[f64], cutoff: f64) -> f64 {
    if s.is_empty() {
        return f64::NAN;
    }
    let k = ((s.len() - 1) as f64 * cutoff) as usize;
    mean(&s[..=k])
}

/// |95th percentile| / |5th percentile|.
pub fn tail_ratio(r: &[f64]) -> f64 {
    let mut s = r.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    tail_ratio_sorted(&s)
}

/// [`tail_ratio`] of returns sorted ascending.
pub fn tail_ratio_sorted(s: &[f64]) -> f64 {
    if s.is_empty() {
        return f64::NAN;
    }
    percentile_sorted(s, 95.0).abs() / percentile_sorted(s, 5.0).abs()
}

/// R² of a straight line fitted to cumulative log returns.
pub fn stability_of_timeseries(r: &[f64]) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let mut acc = 0.0;
    let cum: Vec<f64> = r
        .iter()
        .map(|x| {
            acc += x.ln_1p();
            acc
        })
        .collect();
    let t: Vec<f64> = (0..cum.len()).map(|i| i as f64).collect();
    correlation(&t, &cum).powi(2)
}

/// OLS slope of excess returns on excess benchmark returns.
pub fn beta(r: &[f64], bench: &[f64], rf: f64) -> f64 {
    if r.is_empty() || bench.len() < 2 || r.len() != bench.len() {
        return f64::NAN;
    }
    // empyrical regresses raw returns on the centred benchmark; rf cancels in the slope.
    let _ = rf;
    let mb = mean(bench);
    let resid: Vec<f64> = bench.iter().map(|b| b - mb).collect();
    let cov = mean(&resid.iter().zip(r).map(|(x, y)| x * y).collect::<Vec<_>>());
    let var = mean(&resid.iter().map(|x| x * x).collect::<Vec<_>>());
    if var < 1e-30 { f64::NAN } else { cov / var }
}

/// Annualised (compounded) mean of `r − rf − β (bench − rf)`.
pub fn alpha(r: &[f64], bench: &[f64], rf: f64, periods: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let b = beta(r, bench, rf);
    let series: Vec<f64> = r
        .iter()
        .zip(bench)
        .map(|(x, m)| (x - rf) - b * (m - rf))
        .collect();
    (1.0 + mean(&series)).powf(periods) - 1.0
}

/// Mean active return over its standard deviation (tracking error, n − 1), per period as
/// quantstats computes it (0 when the tracking error is 0).
pub fn information_ratio(r: &[f64], bench: &[f64]) -> f64 {
    if r.len() < 2 || r.len() != bench.len() {
        return f64::NAN;
    }
    let active: Vec<f64> = r.iter().zip(bench).map(|(x, b)| x - b).collect();
    let sd = std(&active, 1);
    if sd == 0.0 { 0.0 } else { mean(&active) / sd }
}

/// Ulcer index as quantstats computes it: `√(Σ drawdown² / (n − 1))`, drawdowns as fractions.
pub fn ulcer_index(r: &[f64]) -> f64 {
    ulcer_of(&drawdowns(r))
}

/// [`ulcer_index`] of a drawdown series.
pub fn ulcer_of(dd: &[f64]) -> f64 {
    if dd.len() < 2 {
        return f64::NAN;
    }
    (dd.iter().map(|d| d * d).sum::<f64>() / (dd.len() - 1) as f64).sqrt()
}

/// Drawdown periods: the mean depth of each distinct drawdown (from a peak to its recovery
/// or the end), negative; 0 when there is none.
pub fn average_drawdown(r: &[f64]) -> f64 {
    average_drawdown_of(&drawdowns(r))
}

/// [`average_drawdown`] of a drawdown series.
pub fn average_drawdown_of(dd: &[f64]) -> f64 {
    let mut depths = Vec::new();
    let mut deepest = 0.0f64;
    for &d in dd {
        if d < 0.0 {
            deepest = deepest.min(d);
        } else if deepest < 0.0 {
            depths.push(deepest);
            deepest = 0.0;
        }
    }
    if deepest < 0.0 {
        depths.push(deepest);
    }
    if depths.is_empty() {
        0.0
    } else {
        mean(&depths)
    }
}

/// The longest run of periods spent below a previous peak.
pub fn max_drawdown_duration(r: &[f64]) -> usize {
    max_drawdown_duration_of(&drawdowns(r))
}

/// [`max_drawdown_duration`] of a drawdown series.
pub fn max_drawdown_duration_of(dd: &[f64]) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for &d in dd {
        run = if d < 0.0 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

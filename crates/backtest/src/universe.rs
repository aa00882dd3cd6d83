//! What a backtest of several symbols reports besides its metrics (`universe` in the JSON):
//! how many symbols were tradable, how many were held, the turnover of each rebalance, each
//! symbol's contribution to the return, and — when forecasts drove it — the cross-sectional
//! rank IC of the forecasts (Qlib's IC / ICIR) and the hit rate of the top bucket.

use serde::{Deserialize, Serialize};

use crate::engine::BacktestResult;
use crate::strategy::SignalSeries;
use qts_data::BarSeries;
use qts_stats::cross_section::{RankIc, average_ranks, pearson, ranks_and_order};

/// The universe section of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UniverseStats {
    /// Symbols in the universe.
    pub symbols: usize,
    /// Fewest symbols tradable at a close of the result.
    pub min_tradable: usize,
    /// Most symbols tradable at a close.
    pub max_tradable: usize,
    /// Average number of positions held at a close.
    pub mean_holdings: f64,
    /// Rebalances that traded (closes with at least one rebalance fill).
    pub rebalances: usize,
    /// Average traded value of a rebalance over the equity before it (one-way: buys and
    /// sells added, so a full rotation is 2).
    pub turnover_per_rebalance: f64,
    /// Each symbol's P&L over the starting equity (fills at their prices, commissions, the
    /// open position at the last close): they add up to the total return.
    pub contributions: Vec<Contribution>,
    /// The forecasts' rank IC against the next bar's returns, over the result's span
    /// (absent without forecasts).
    pub rank_ic: Option<RankIc>,
    /// Fraction of dates on which the top fifth of the forecasts (at least one name) beat the
    /// average next return of the names ranked.
    pub top_bucket_hit_rate: Option<f64>,
    /// The rank IC of each date (for `rank_ic.csv`).
    #[serde(skip)]
    pub ic_by_date: Vec<(chrono::NaiveDate, f64)>,
    /// Positions held at each close of the result.
    #[serde(default)]
    pub holdings: Vec<usize>,
    /// Symbols tradable at each close of the result (a bar there, not delisted).
    #[serde(default)]
    pub tradable: Vec<usize>,
    /// Each symbol's weight (position value over equity, negative short) at every
    /// `weight_step`-th close of the result from its first: the most held ones by mean
    /// absolute weight, then the rest added up as `(others)` (absent when stitched).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<SymbolWeights>,
    /// Closes between two samples of `weights`.
    #[serde(default)]
    pub weight_step: usize,
}

/// One symbol's weights over time ([`UniverseStats::weights`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolWeights {
    /// Symbol, or `(others)`.
    pub symbol: String,
    /// Position value over equity at each sampled close.
    pub weights: Vec<f64>,
}

/// Most closes sampled for [`UniverseStats::weights`].
pub const MAX_WEIGHT_SAMPLES: usize = 250;

/// Symbols named in [`UniverseStats::weights`] (the rest are `(others)`).
pub const NAMED_WEIGHTS: usize = 12;

/// One symbol's share of the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Symbol.
    pub symbol: String,
    /// P&L over the starting equity.
    #[serde(deserialize_with = "qts_stats::serde_nan::f64_or_nan")]
    pub contribution: f64,
}

/// The universe section of `result` over `bars`, with `signals` when forecasts drove it.
pub fn universe_stats(
    result: &BacktestResult,
    bars: &[BarSeries],
    signals: Option<&SignalSeries>,
) -> UniverseStats {
    let first = result.first_bar;
    let n = result.equity.len();
    let k = bars.len();
    // Positions per close: the fills replayed.
    let mut held = vec![0.0_f64; k];
    let mut open = 0usize;
    let mut holdings = Vec::with_capacity(n);
    let mut fills = result.fills.iter().peekable();
    let by_name: std::collections::HashMap<&str, usize> = result
        .symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let index = |symbol: &str| by_name.get(symbol).copied();
    let mut flows = vec![0.0; k];
    let mut traded_at: Vec<(usize, f64)> = Vec::new();
    let step = n.div_ceil(MAX_WEIGHT_SAMPLES).max(1);
    let mut sampled: Vec<Vec<f64>> = vec![Vec::with_capacity(n / step + 1); k];
    for t in first..first + n {
        while let Some(f) = fills.next_if(|f| f.bar <= t) {
            if let Some(s) = index(&f.symbol) {
                let was = held[s].abs() > 1e-12;
                held[s] += f.size;
                flows[s] -= f.size * f.price + f.commission;
                match (was, held[s].abs() > 1e-12) {
                    (false, true) => open += 1,
                    (true, false) => open -= 1,
                    _ => {}
                }
            }
            if f.reason == crate::order::Reason::Rebalance {
                match traded_at.last_mut() {
                    Some((bar, value)) if *bar == f.bar => *value += (f.size * f.price).abs(),
                    _ => traded_at.push((f.bar, (f.size * f.price).abs())),
                }
            }
        }
        holdings.push(open);
        if (t - first).is_multiple_of(step) {
            // Position values at this close (a symbol without a bar today at its last close).
            let equity = result.equity[t - first];
            for (s, h) in held.iter().enumerate() {
                let w = if *h == 0.0 {
                    0.0
                } else {
                    let close = &bars[s].close[..=t.min(bars[s].len().saturating_sub(1))];
                    let mark = close.iter().rev().find(|c| !c.is_nan()).copied();
                    mark.map_or(0.0, |c| h * c / equity)
                };
                sampled[s].push(w);
            }
        }
    }
    let last = first + n.saturating_sub(1);
    let start = result.equity.first().copied().unwrap_or(f64::NAN);
    let contributions = bars
        .iter()
        .enumerate()
        .map(|(s, b)| {
            // The last close at or before the result's end (a delisted symbol holds nothing).
            let mark = b.close[..=last.min(b.len().saturating_sub(1))]
                .iter()
                .rev()
                .find(|c| !c.is_nan())
                .copied()
                .unwrap_or(f64::NAN);
            let open = if held[s] == 0.0 { 0.0 } else { held[s] * mark };
            Contribution {
                symbol: b.symbol.clone(),
                contribution: (flows[s] + open) / start,
            }
        })
        .collect();
    // Turnover: traded value at a rebalance over the equity at the close before its fills.
    let turnovers: Vec<f64> = traded_at
        .iter()
        .filter_map(|&(bar, value)| {
            let before = bar.checked_sub(1).filter(|&b| b >= first)?;
            Some(value / result.equity[before - first])
        })
        .collect();
    let weights = named_weights(bars, sampled);
    let mut stats = UniverseStats {
        symbols: k,
        min_tradable: result.listed.iter().copied().min().unwrap_or(0),
        max_tradable: result.listed.iter().copied().max().unwrap_or(0),
        mean_holdings: holdings.iter().sum::<usize>() as f64 / holdings.len().max(1) as f64,
        rebalances: turnovers.len(),
        turnover_per_rebalance: if turnovers.is_empty() {
            0.0
        } else {
            turnovers.iter().sum::<f64>() / turnovers.len() as f64
        },
        contributions,
        rank_ic: None,
        top_bucket_hit_rate: None,
        ic_by_date: Vec::new(),
        holdings,
        tradable: result.listed.clone(),
        weights,
        weight_step: step,
    };
    if let Some(signals) = signals {
        stats.add_forecasts(bars, signals, first, first + n);
    }
    stats
}

impl UniverseStats {
    /// Adds what forecasts tell over bars `from..until`: the rank IC of each date, its
    /// summary, and the top fifth's hit rate (the rest of the section is the trading's).
    pub fn add_forecasts(
        &mut self,
        bars: &[BarSeries],
        signals: &SignalSeries,
        from: usize,
        until: usize,
    ) {
        let (ic_by_date, hits) = rank_ic(bars, signals, from, until);
        self.rank_ic = RankIc::of(&ic_by_date.iter().map(|x| x.1).collect::<Vec<_>>());
        self.top_bucket_hit_rate = (!hits.is_empty())
            .then(|| hits.iter().filter(|&&h| h).count() as f64 / hits.len() as f64);
        self.ic_by_date = ic_by_date;
    }
}

impl UniverseStats {
    /// Results traded one after another (a walk-forward's test windows, each starting from the
    /// equity the one before ended with) as one section: `parts` holds each one's section and
    /// its starting equity, `initial` the first one's. Holdings, tradable counts and the rank
    /// IC of each date run on; contributions are P&L over `initial`, so they still add up to
    /// the total return; turnover is averaged over every rebalance, the hit rate over every
    /// date. `None` without parts.
    pub fn stitch(parts: &[(UniverseStats, f64)], initial: f64) -> Option<UniverseStats> {
        let (first, _) = parts.first()?;
        let mut contributions: Vec<Contribution> = first
            .contributions
            .iter()
            .map(|c| Contribution {
                symbol: c.symbol.clone(),
                contribution: 0.0,
            })
            .collect();
        let (mut holdings, mut tradable, mut ic_by_date) = (Vec::new(), Vec::new(), Vec::new());
        let (mut rebalances, mut traded, mut hits, mut dated) = (0, 0.0, 0.0, 0usize);
        for (u, start) in parts {
            for (sum, c) in contributions.iter_mut().zip(&u.contributions) {
                sum.contribution += c.contribution * start / initial;
            }
            holdings.extend_from_slice(&u.holdings);
            tradable.extend_from_slice(&u.tradable);
            ic_by_date.extend_from_slice(&u.ic_by_date);
            rebalances += u.rebalances;
            traded += u.turnover_per_rebalance * u.rebalances as f64;
            if let Some(rate) = u.top_bucket_hit_rate {
                // The count of hits the rate was measured from.
                hits += (rate * u.ic_by_date.len() as f64).round();
                dated += u.ic_by_date.len();
            }
        }
        Some(UniverseStats {
            symbols: first.symbols,
            min_tradable: parts.iter().map(|p| p.0.min_tradable).min().unwrap_or(0),
            max_tradable: parts.iter().map(|p| p.0.max_tradable).max().unwrap_or(0),
            mean_holdings: holdings.iter().sum::<usize>() as f64 / holdings.len().max(1) as f64,
            rebalances,
            turnover_per_rebalance: if rebalances == 0 {
                0.0
            } else {
                traded / rebalances as f64
            },
            contributions,
            rank_ic: RankIc::of(&ic_by_date.iter().map(|x| x.1).collect::<Vec<_>>()),
            top_bucket_hit_rate: (dated > 0).then(|| hits / dated as f64),
            ic_by_date,
            holdings,
            tradable,
            weights: Vec::new(),
            weight_step: 0,
        })
    }
}

/// The [`NAMED_WEIGHTS`] symbols of largest mean absolute weight (ties: the universe's order),
/// in the universe's order, then `(others)` when more were held; none when nothing was held.
fn named_weights(bars: &[BarSeries], sampled: Vec<Vec<f64>>) -> Vec<SymbolWeights> {
    let size: Vec<f64> = sampled
        .iter()
        .map(|w| w.iter().map(|x| x.abs()).sum::<f64>())
        .collect();
    let mut order: Vec<usize> = (0..sampled.len()).filter(|&s| size[s] > 0.0).collect();
    if order.is_empty() {
        return Vec::new();
    }
    order.sort_by(|&a, &b| size[b].total_cmp(&size[a]).then(a.cmp(&b)));
    let rest = order.split_off(order.len().min(NAMED_WEIGHTS));
    order.sort_unstable();
    let len = sampled[order[0]].len();
    let mut out: Vec<SymbolWeights> = order
        .iter()
        .map(|&s| SymbolWeights {
            symbol: bars[s].symbol.clone(),
            weights: sampled[s].clone(),
        })
        .collect();
    if !rest.is_empty() {
        let mut others = vec![0.0; len];
        for &s in &rest {
            for (o, w) in others.iter_mut().zip(&sampled[s]) {
                *o += w;
            }
        }
        out.push(SymbolWeights {
            symbol: "(others)".into(),
            weights: others,
        });
    }
    out
}

/// The rank IC of each date in `from..until` (forecasts at the close against the next bar's
/// returns of the names with a bar at both; at least 3 names), and whether the top fifth beat
/// the average.
pub fn rank_ic(
    bars: &[BarSeries],
    signals: &SignalSeries,
    from: usize,
    until: usize,
) -> (Vec<(chrono::NaiveDate, f64)>, Vec<bool>) {
    use rayon::prelude::*;
    let Some(time) = bars.first().map(|b| &b.time) else {
        return (Vec::new(), Vec::new());
    };
    let end = until.min(time.len()).saturating_sub(1);
    // Each date on its own (in parallel; collected in date order, so the result does not
    // depend on the threads).
    let per_date: Vec<Option<(chrono::NaiveDate, f64, bool)>> = (from.min(end)..end)
        .into_par_iter()
        .map(|t| {
            let mut f = Vec::with_capacity(bars.len());
            let mut r = Vec::with_capacity(bars.len());
            for (s, b) in bars.iter().enumerate() {
                let p = signals.at(t, s);
                let (c0, c1) = (b.close[t], b.close[t + 1]);
                if p.is_finite() && c0.is_finite() && c1.is_finite() {
                    f.push(p);
                    r.push(c1 / c0 - 1.0);
                }
            }
            if f.len() < 3 {
                return None;
            }
            let (ranks, order) = ranks_and_order(&f);
            let ic = pearson(&ranks, &average_ranks(&r));
            if !ic.is_finite() {
                return None;
            }
            // The top fifth by forecast (ties: the universe's order).
            let bucket = (f.len() / 5).max(1);
            let top = order[..bucket].iter().map(|&i| r[i]).sum::<f64>() / bucket as f64;
            let all = r.iter().sum::<f64>() / r.len() as f64;
            Some((time[t].date(), ic, top > all))
        })
        .collect();
    per_date
        .into_iter()
        .flatten()
        .map(|(d, ic, hit)| ((d, ic), hit))
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(
        contributions: &[f64],
        rebalances: usize,
        turnover: f64,
        ics: &[f64],
        hit: f64,
    ) -> UniverseStats {
        let day = |k: usize| chrono::NaiveDate::from_ymd_opt(2020, 1, 1 + k as u32).unwrap();
        UniverseStats {
            symbols: contributions.len(),
            min_tradable: 1,
            max_tradable: 2,
            mean_holdings: 0.0,
            rebalances,
            turnover_per_rebalance: turnover,
            contributions: contributions
                .iter()
                .enumerate()
                .map(|(i, &c)| Contribution {
                    symbol: format!("S{i}"),
                    contribution: c,
                })
                .collect(),
            rank_ic: RankIc::of(ics),
            top_bucket_hit_rate: Some(hit),
            ic_by_date: ics.iter().enumerate().map(|(k, &x)| (day(k), x)).collect(),
            holdings: vec![1, 2],
            tradable: vec![2, 2],
            weights: Vec::new(),
            weight_step: 1,
        }
    }

    #[test]
    fn stitched_windows_add_contributions_over_the_first_equity_and_weigh_by_count() {
        // Window 1 from 100 made +10% (S0 +6%, S1 +4%); window 2 from 110 made -10% of 110.
        let a = part(&[0.06, 0.04], 2, 0.5, &[0.1, 0.3], 0.5);
        let b = part(&[-0.05, -0.05], 6, 0.1, &[0.2, -0.2, 0.0, 0.4], 0.75);
        let u = UniverseStats::stitch(&[(a, 100.0), (b, 110.0)], 100.0).unwrap();
        let c: Vec<f64> = u.contributions.iter().map(|c| c.contribution).collect();
        assert!((c[0] - (0.06 - 0.055)).abs() < 1e-15 && (c[1] - (0.04 - 0.055)).abs() < 1e-15);
        // Total: 100 → 110 → 99, -1%: the contributions add up to it.
        assert!((c.iter().sum::<f64>() + 0.01).abs() < 1e-15);
        assert_eq!(u.rebalances, 8);
        assert!((u.turnover_per_rebalance - (2.0 * 0.5 + 6.0 * 0.1) / 8.0).abs() < 1e-15);
        // Hits: 1 of 2, then 3 of 4 dates.
        assert_eq!(u.top_bucket_hit_rate, Some(4.0 / 6.0));
        assert_eq!(u.rank_ic.unwrap().dates, 6);
        assert_eq!(u.holdings, vec![1, 2, 1, 2]);
        assert_eq!(u.mean_holdings, 1.5);
        assert!(UniverseStats::stitch(&[], 100.0).is_none());
    }
}

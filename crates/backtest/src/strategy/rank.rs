//! A portfolio of the best-ranked names: at each rebalance, the symbols of a universe ranked by
//! their forecasts, long the `top` best and short the `bottom` worst, weighted equally, by
//! forecast or by inverse volatility — Qlib's `TopkDropoutStrategy` when `drop` limits how many
//! holdings are replaced at once.
//!
//! The rules, in order, at a close whose next bar executes a rebalance ([`Context::rebalance`];
//! between rebalances the targets stand):
//!
//! 1. *Eligible*: a name with a bar at this close (not delisted) and a forecast for it; with
//!    `weighting=inverse_vol`, also a volatility (the sample standard deviation of its last
//!    `lookback` daily log returns, over the bars it has). A name held without a bar here keeps
//!    its position and standing target; the ranking is among the names that have a bar.
//! 2. *Long candidates*: eligible names forecast at or above `min_forecast`; with
//!    `interval=skip`, not those whose interval straddles zero (`lower < 0 < upper`). Ranked by
//!    forecast, best first; ties by the symbol's order in the universe.
//! 3. *Longs*: the first `top` candidates. With a finite `drop` (TopkDropout): held longs that
//!    are no longer candidates are sold; of the rest (`last`, ranked), the `drop` worst of
//!    `last` and the best `drop + top − |last|` new candidates together are sold; the best new
//!    candidates fill the places left (`top − |last| + sold`).
//! 4. *Shorts*: the `bottom` worst eligible names not long (ranked worst first; `interval=skip`
//!    drops straddling ones too).
//! 5. *Weights*: longs share `|longs| / top` of equity (shorts `|shorts| / bottom`): equally,
//!    in proportion to the positive forecast (`forecast`; equally when none is positive), or to
//!    the inverse volatility (`inverse_vol`). With `interval=shrink` each weight is multiplied
//!    by `|mid| / (|mid| + half width)` of its interval. Every other name with a bar gets 0.
//!
//! The weights are the targets' strengths, and the engine trades them as weights of equity
//! ([`Strategy::sizes`]): the configured sizer is skipped, the account limits (position cap,
//! gross exposure, shorts allowed or not), stops, breaker, costs and schedule apply.

use super::{Action, Context, Forecast, SignalSeries, Strategy};
use crate::error::BacktestError;
use crate::sizing::interval_factor;

/// How the selected names share the book.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::EnumString, strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum Weighting {
    /// Each name `1 / top` (shorts `1 / bottom`).
    Equal,
    /// In proportion to the forecast's size in the traded direction.
    Forecast,
    /// In proportion to the inverse of the name's daily volatility.
    InverseVol,
}

/// What a forecast interval that straddles zero does to a name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::EnumString, strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum IntervalRule {
    /// Nothing: the point forecast ranks.
    Ignore,
    /// The name is not traded while its interval straddles zero.
    Skip,
    /// Its weight shrinks with the interval's width ([`interval_factor`]).
    Shrink,
}

/// The `weighting` parameter's words (the first is the default).
pub const WEIGHTINGS: &[&str] = <Weighting as strum::VariantNames>::VARIANTS;
/// The `interval` parameter's words (the first is the default).
pub const INTERVAL_RULES: &[&str] = <IntervalRule as strum::VariantNames>::VARIANTS;

/// The rank strategy's parameters (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankRules {
    /// Names held long.
    pub top: usize,
    /// Names held short.
    pub bottom: usize,
    /// How they share the book.
    pub weighting: Weighting,
    /// At most this many long holdings replaced per rebalance (infinite: no limit).
    pub drop: f64,
    /// No long below this forecast.
    pub min_forecast: f64,
    /// What an interval straddling zero does.
    pub interval: IntervalRule,
    /// Daily returns behind `inverse_vol`.
    pub lookback: usize,
}

/// See the module comment.
#[derive(Debug)]
pub struct Rank {
    signal: SignalSeries,
    rules: RankRules,
    /// The long names of the last rebalance.
    longs: Vec<usize>,
    /// Buffers kept between rebalances.
    scored: Vec<(usize, f64)>,
}

impl Rank {
    /// A rank strategy over a universe's forecasts.
    ///
    /// # Errors
    /// [`BacktestError::Parameter`] naming the parameter for `top` and `bottom` both 0, a
    /// `drop` that is negative or not whole, a NaN `min_forecast` or a `lookback` under 2.
    pub fn new(signal: SignalSeries, rules: RankRules) -> Result<Rank, BacktestError> {
        let bad = |param: &str, reason: String| BacktestError::Parameter {
            strategy: "rank".into(),
            param: param.into(),
            reason,
        };
        if rules.top == 0 && rules.bottom == 0 {
            return Err(bad(
                "top",
                "top and bottom are both 0: nothing would be held".into(),
            ));
        }
        if rules.drop.is_nan()
            || rules.drop < 0.0
            || (rules.drop.is_finite() && rules.drop.fract() != 0.0)
        {
            return Err(bad(
                "drop",
                format!(
                    "must be a whole number of holdings, 0 or more (inf: no limit), got {}",
                    rules.drop
                ),
            ));
        }
        if rules.min_forecast.is_nan() {
            return Err(bad("min_forecast", "must be a number".into()));
        }
        if rules.lookback < 2 {
            return Err(bad(
                "lookback",
                format!(
                    "needs at least 2 returns for a volatility, got {}",
                    rules.lookback
                ),
            ));
        }
        Ok(Rank {
            signal,
            rules,
            longs: Vec::new(),
            scored: Vec::new(),
        })
    }

    /// The sample standard deviation of the last `lookback` daily log returns of `symbol`
    /// over the bars it has up to this close (NaN when fewer).
    fn volatility(&self, ctx: &Context<'_>, symbol: usize) -> f64 {
        let n = self.rules.lookback;
        let mut closes = ctx.close(symbol).iter().rev().filter(|c| !c.is_nan());
        let mut returns = Vec::with_capacity(n);
        let Some(mut later) = closes.next().copied() else {
            return f64::NAN;
        };
        for &c in closes.take(n) {
            returns.push((later / c).ln());
            later = c;
        }
        if returns.len() < n {
            return f64::NAN;
        }
        let mean = returns.iter().sum::<f64>() / n as f64;
        let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        var.sqrt()
    }

    /// Longs by TopkDropout (`drop` finite) or the first `top` candidates; `ranked` is best
    /// first.
    fn choose_longs(&self, ranked: &[usize], held: &[usize]) -> Vec<usize> {
        let top = self.rules.top;
        if !self.rules.drop.is_finite() {
            return ranked.iter().take(top).copied().collect();
        }
        let drop = self.rules.drop as usize;
        let rank_of = |s: usize| ranked.iter().position(|&x| x == s);
        // Held names still candidates, best first (the others are sold whatever `drop` says).
        let mut last: Vec<usize> = held
            .iter()
            .copied()
            .filter(|&s| rank_of(s).is_some())
            .collect();
        last.sort_by_key(|&s| rank_of(s));
        let fresh: Vec<usize> = ranked
            .iter()
            .copied()
            .filter(|s| !last.contains(s))
            .take((drop + top).saturating_sub(last.len()))
            .collect();
        let mut comb: Vec<usize> = last.iter().chain(&fresh).copied().collect();
        comb.sort_by_key(|&s| rank_of(s));
        let worst = &comb[comb.len().saturating_sub(drop)..];
        let sold: Vec<usize> = last
            .iter()
            .copied()
            .filter(|s| drop > 0 && worst.contains(s))
            .collect();
        let places = (sold.len() + top).saturating_sub(last.len());
        let mut longs: Vec<usize> = last.into_iter().filter(|s| !sold.contains(s)).collect();
        longs.extend(fresh.into_iter().take(places));
        longs.sort_by_key(|&s| rank_of(s));
        longs
    }

    /// Weights of `names` (signed by `side`) sharing `names.len() / slots` of equity.
    fn weights(
        &self,
        ctx: &Context<'_>,
        names: &[usize],
        slots: usize,
        side: f64,
        forecasts: &[Option<Forecast>],
    ) -> Vec<(usize, f64)> {
        if names.is_empty() || slots == 0 {
            return Vec::new();
        }
        let book = names.len() as f64 / slots as f64;
        let raw: Vec<f64> = match self.rules.weighting {
            Weighting::Equal => vec![1.0; names.len()],
            Weighting::Forecast => {
                let sizes: Vec<f64> = names
                    .iter()
                    .map(|&s| forecasts[s].map_or(0.0, |f| (side * f.expected).max(0.0)))
                    .collect();
                if sizes.iter().sum::<f64>() > 0.0 {
                    sizes
                } else {
                    vec![1.0; names.len()]
                }
            }
            Weighting::InverseVol => names
                .iter()
                .map(|&s| 1.0 / self.volatility(ctx, s))
                .collect(),
        };
        let total: f64 = raw.iter().sum();
        names
            .iter()
            .zip(raw)
            .map(|(&s, r)| {
                let mut w = side * book * r / total;
                if self.rules.interval == IntervalRule::Shrink {
                    w *= interval_factor(forecasts[s]);
                }
                (s, w)
            })
            .collect()
    }
}

fn straddles(f: &Forecast) -> bool {
    matches!((f.lower, f.upper), (Some(lo), Some(hi)) if lo < 0.0 && hi > 0.0)
}

impl Strategy for Rank {
    fn forecasts(&self) -> Option<&SignalSeries> {
        Some(&self.signal)
    }

    fn name(&self) -> String {
        let r = &self.rules;
        let mut name = format!("rank(top {}", r.top);
        if r.bottom > 0 {
            name.push_str(&format!(", bottom {}", r.bottom));
        }
        name.push_str(&format!(", {}", r.weighting));
        if r.drop.is_finite() {
            name.push_str(&format!(", drop {}", r.drop));
        }
        if r.min_forecast.is_finite() {
            name.push_str(&format!(", min {}", r.min_forecast));
        }
        if r.interval != IntervalRule::Ignore {
            name.push_str(&format!(", interval {}", r.interval));
        }
        name.push(')');
        name
    }

    fn warmup(&self) -> usize {
        0
    }

    fn sizes(&self) -> bool {
        true
    }

    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        if !ctx.rebalance() {
            return Vec::new();
        }
        let t = ctx.t();
        let n = ctx.symbols().min(self.signal.width());
        let forecasts: Vec<Option<Forecast>> = (0..n)
            .map(|s| {
                let f = self.signal.forecast(t, s).filter(|_| ctx.tradable(s))?;
                let vol_ok = self.rules.weighting != Weighting::InverseVol || {
                    let v = self.volatility(ctx, s);
                    v.is_finite() && v > 0.0
                };
                vol_ok.then_some(f)
            })
            .collect();
        let skip = |f: &Forecast| self.rules.interval == IntervalRule::Skip && straddles(f);
        // Candidates, best first (ties: the universe's order).
        self.scored.clear();
        self.scored.extend(
            forecasts
                .iter()
                .enumerate()
                .filter_map(|(s, f)| f.map(|f| (s, f)))
                .filter(|(_, f)| f.expected >= self.rules.min_forecast && !skip(f))
                .map(|(s, f)| (s, f.expected)),
        );
        let best_first =
            |a: &(usize, f64), b: &(usize, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if self.rules.drop.is_finite() || self.rules.top >= self.scored.len() {
            self.scored.sort_unstable_by(best_first);
        } else if self.rules.top > 0 {
            // Only the first `top` are read: select them, then order them (the same names and
            // order as a full sort, the order being total).
            self.scored
                .select_nth_unstable_by(self.rules.top - 1, best_first);
            self.scored[..self.rules.top].sort_unstable_by(best_first);
        }
        let ranked: Vec<usize> = self.scored.iter().map(|x| x.0).collect();
        // Held names without a bar here are left as they stand.
        let held: Vec<usize> = self
            .longs
            .iter()
            .copied()
            .filter(|&s| s < n && ctx.tradable(s))
            .collect();
        let longs = self.choose_longs(&ranked, &held);
        let shorts: Vec<usize> = if self.rules.bottom == 0 {
            Vec::new()
        } else {
            let mut worst: Vec<(usize, f64)> = forecasts
                .iter()
                .enumerate()
                .filter_map(|(s, f)| f.map(|f| (s, f)))
                .filter(|(s, f)| !longs.contains(s) && !skip(f))
                .map(|(s, f)| (s, f.expected))
                .collect();
            worst.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            worst.iter().take(self.rules.bottom).map(|x| x.0).collect()
        };
        let mut weight = vec![0.0; n];
        for (s, w) in self
            .weights(ctx, &longs, self.rules.top, 1.0, &forecasts)
            .into_iter()
            .chain(self.weights(ctx, &shorts, self.rules.bottom, -1.0, &forecasts))
        {
            weight[s] = w;
        }
        // The longs without a bar here stay in the book.
        let mut book = longs;
        book.extend(
            self.longs
                .iter()
                .copied()
                .filter(|&s| s < n && !ctx.tradable(s)),
        );
        self.longs = book;
        (0..n)
            .filter(|&s| ctx.tradable(s))
            .map(|s| Action::Target {
                symbol: s,
                strength: weight[s],
                forecast: forecasts[s],
            })
            .collect()
    }
}

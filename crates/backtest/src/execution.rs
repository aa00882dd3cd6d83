//! Execution rules: how a strategy's standing targets become orders. The engine's bar loop is
//! the same for every set of rules; what differs is behind [`Rules`], chosen once when the
//! engine starts:
//!
//! - [`QtsRules`]: on a rebalancing bar (not during the breaker's cool-down), the configured
//!   sizer turns targets into weights, the account limits cap them, and the difference to the
//!   held shares becomes day market orders, sells first; buys are cut to the cash (plus
//!   margin) the account has; market orders may fill at the deciding close.
//! - [`BacktestingPyRules`]: backtesting.py's `position.close(); buy()` on every new target —
//!   close what is held and go all in, at the next open, no cash cap beyond the all-in size.

use crate::settings::SizingMethod;

use crate::engine::EngineConfig;
use crate::order::{OrderKind, Reason, TimeInForce};
use crate::portfolio::Portfolio;
use crate::sizing::{self, Input};
use crate::strategy::Forecast;

/// How a pending order's size is decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Size {
    /// Exactly these signed shares.
    Shares(f64),
    /// Close the whole position (at fill time).
    Close,
    /// backtesting.py's all-in order in the given direction (sized at fill time).
    AllIn(f64),
}

/// An order the engine is asked to place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OrderRequest {
    /// Symbol index.
    pub symbol: usize,
    /// Size rule.
    pub size: Size,
    /// Price rule.
    pub kind: OrderKind,
    /// Lifetime.
    pub tif: TimeInForce,
    /// Why.
    pub reason: Reason,
}

impl OrderRequest {
    /// A market order.
    pub fn market(symbol: usize, size: Size, tif: TimeInForce, reason: Reason) -> Self {
        OrderRequest {
            symbol,
            size,
            kind: OrderKind::Market,
            tif,
            reason,
        }
    }
}

/// A standing target: signed strength and the forecast behind it.
pub(crate) type Target = Option<(f64, Option<Forecast>)>;

/// What the rules see when they decide, after bar `t`'s close.
pub(crate) struct Desk<'a> {
    /// Settings.
    pub cfg: &'a EngineConfig,
    /// The account.
    pub portfolio: &'a Portfolio,
    /// Each symbol's close at `t`.
    pub closes: &'a [f64],
    /// Each symbol's daily volatility known at each close (empty unless the rules read it).
    pub vol: &'a [Vec<f64>],
    /// The bar whose volatility is current.
    pub vol_bar: usize,
    /// Standing targets.
    pub targets: &'a [Target],
    /// Symbols flattened by a protective exit since their last target.
    pub stopped: &'a [bool],
    /// Symbols whose target is new this bar.
    pub fresh: &'a [bool],
    /// Symbols that may be traded at this close (a bar here, not delisted); the others keep
    /// what they hold.
    pub tradable: &'a [bool],
    /// Whether the targets' strengths are weights of equity (the strategy sizes).
    pub strategy_sizes: bool,
    /// Cash plus positions at `t`'s close.
    pub equity: f64,
}

/// A set of execution rules.
pub(crate) trait Rules {
    /// Whether the close of a bar is a decision point: `any_fresh` when some symbol got a
    /// new target, `rebalance_next` when the next bar may execute a rebalance, `cooling`
    /// while the breaker's cool-down runs. Only at a decision point are orders planned (and
    /// may market orders fill at the deciding close).
    fn decides(&self, any_fresh: bool, rebalance_next: bool, cooling: bool) -> bool;

    /// Appends the orders a decision point places.
    fn plan(&mut self, desk: &Desk<'_>, orders: &mut Vec<OrderRequest>);

    /// Whether the rules size by volatility (so the engine computes it).
    fn reads_volatility(&self, cfg: &EngineConfig) -> bool;

    /// Whether a buy is cut to the cash (and margin) the account has.
    fn caps_buys_to_cash(&self) -> bool;

    /// Whether `fill_price: close` applies (else every market order fills at the next open).
    fn may_fill_at_close(&self) -> bool;
}

/// The rules of a configuration.
pub(crate) fn rules_for(cfg: &EngineConfig) -> Box<dyn Rules> {
    match cfg.execution {
        crate::engine::Execution::Default => Box::new(QtsRules::default()),
        crate::engine::Execution::BacktestingPy => Box::new(BacktestingPyRules),
    }
}

/// qts's rules (see the module comment). Keeps its buffers between decisions, so a
/// rebalance allocates nothing once the first one has run.
#[derive(Default)]
pub(crate) struct QtsRules {
    inputs: Vec<Input>,
    deltas: Vec<(usize, f64)>,
}

impl Rules for QtsRules {
    fn decides(&self, _: bool, rebalance_next: bool, cooling: bool) -> bool {
        rebalance_next && !cooling
    }

    fn plan(&mut self, d: &Desk<'_>, orders: &mut Vec<OrderRequest>) {
        let n = d.targets.len();
        self.inputs.clear();
        self.inputs.extend((0..n).map(|s| {
            let (strength, forecast) = match d.targets[s] {
                Some((x, f)) if !d.stopped[s] => (x, f),
                _ => (0.0, None),
            };
            Input {
                strength,
                forecast,
                daily_vol: d.vol[s].get(d.vol_bar).copied().unwrap_or(f64::NAN),
            }
        }));
        let mut w = if d.strategy_sizes {
            self.inputs.iter().map(|i| i.strength).collect()
        } else {
            sizing::weights(&self.inputs, &d.cfg.sizing, d.cfg.periods_per_year)
        };
        sizing::cap(&mut w, &d.cfg.limits, d.cfg.allow_short);
        // Sells before buys, so a rotation frees cash before it is spent.
        self.deltas.clear();
        self.deltas.extend(
            (0..n)
                .filter(|&s| {
                    d.tradable[s] && (d.targets[s].is_some() || d.portfolio.position(s) != 0.0)
                })
                .map(|s| {
                    let want = round_shares(d.cfg, w[s] * d.equity / d.closes[s]);
                    (s, want - d.portfolio.position(s))
                })
                .filter(|(_, delta)| delta.abs() > 1e-9),
        );
        self.deltas.sort_by(|a, b| a.1.total_cmp(&b.1));
        orders.extend(self.deltas.iter().map(|&(s, delta)| {
            OrderRequest::market(s, Size::Shares(delta), TimeInForce::Day, Reason::Rebalance)
        }));
    }

    fn reads_volatility(&self, cfg: &EngineConfig) -> bool {
        // A strategy that chooses its weights skips the sizer.
        cfg.sizing.method != SizingMethod::FixedFractional && !cfg.strategy_weights
    }

    fn caps_buys_to_cash(&self) -> bool {
        true
    }

    fn may_fill_at_close(&self) -> bool {
        true
    }
}

/// backtesting.py's rules (see the module comment).
pub(crate) struct BacktestingPyRules;

impl Rules for BacktestingPyRules {
    fn decides(&self, any_fresh: bool, _: bool, _: bool) -> bool {
        any_fresh
    }

    fn plan(&mut self, d: &Desk<'_>, orders: &mut Vec<OrderRequest>) {
        for s in (0..d.targets.len()).filter(|&s| d.fresh[s]) {
            let strength = d.targets[s].map_or(0.0, |x| x.0);
            if d.portfolio.position(s) != 0.0 {
                orders.push(OrderRequest::market(
                    s,
                    Size::Close,
                    TimeInForce::Gtc,
                    Reason::Rebalance,
                ));
            }
            if strength != 0.0 {
                orders.push(OrderRequest::market(
                    s,
                    Size::AllIn(strength.signum()),
                    TimeInForce::Gtc,
                    Reason::Rebalance,
                ));
            }
        }
    }

    fn reads_volatility(&self, _: &EngineConfig) -> bool {
        false
    }

    fn caps_buys_to_cash(&self) -> bool {
        false
    }

    fn may_fill_at_close(&self) -> bool {
        false
    }
}

/// Whole shares unless fractional shares are on.
pub(crate) fn round_shares(cfg: &EngineConfig, x: f64) -> f64 {
    if cfg.fractional_shares { x } else { x.trunc() }
}

//! The terminal summary of a backtest, as a person reads it: a header that says what was run
//! (strategy, symbols, span, costs, rules, in- or out-of-sample), the metrics grouped, with
//! percentages as percentages and buy-and-hold of the same span beside them, and one line that
//! says the result in words. The JSON keeps its keys and plain fractions; this is only how the
//! numbers are shown.

mod decision;
mod research;
mod run;
pub mod runs;

pub use decision::{decision, paper_status, paper_step};
pub use research::{compare, monte_carlo, optimize, walk_forward};
pub use run::run;

use std::fmt::Write as _;

use qts_backtest::settings::{CommissionModel, SizingMethod, SlippageModel};

use qts_backtest::BacktestReport;
use qts_stats::metrics::{Group, Metric, Metrics, Unit, Value};
use strum::IntoEnumIterator;

/// The metrics of each group, in the report's order (the order [`Metric`] declares them).
pub(crate) fn groups() -> impl Iterator<Item = (Group, Vec<Metric>)> {
    Group::iter().map(|g| (g, Metric::iter().filter(|m| m.group() == g).collect()))
}

pub(crate) fn show(v: Option<&Value>, unit: Unit) -> String {
    match v {
        None => String::new(),
        Some(Value::Count(c)) => c.to_string(),
        Some(Value::Number(x)) => in_unit(*x, unit),
    }
}

/// A metric's value as shown in its unit ("n/a" when not finite).
pub(crate) fn in_unit(x: f64, unit: Unit) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    match unit {
        Unit::Percent => format!("{:+.2}%", 100.0 * x),
        Unit::Share => format!("{:.2}%", 100.0 * x),
        Unit::Ratio => format!("{x:.3}"),
        Unit::Money => format!("{x:.2}"),
        Unit::Whole => format!("{x:.0}"),
    }
}

fn number(m: &Metrics, key: &str) -> Option<f64> {
    match m.get(key) {
        Some(Value::Number(x)) if x.is_finite() => Some(*x),
        Some(Value::Count(c)) => Some(*c as f64),
        _ => None,
    }
}

/// The header: what was run, on what, under which rules.
fn header(r: &BacktestReport) -> String {
    let s = &r.settings;
    let c = &s.costs;
    let commission = match c.commission_model {
        CommissionModel::Percent => format!("{}% of value", 100.0 * c.commission_rate),
        CommissionModel::PerShare => format!(
            "{} a share (min {})",
            c.commission_per_share, c.commission_minimum
        ),
        CommissionModel::Fixed => format!("{} an order", c.commission_fixed),
    };
    let slippage = match c.slippage_model {
        SlippageModel::None => "none".to_string(),
        SlippageModel::FixedBps => format!("{} bps", c.slippage_bps),
        SlippageModel::VolatilityScaled => {
            format!("{} × daily volatility", c.slippage_volatility_fraction)
        }
    };
    let sizing = match s.sizing.method {
        _ if s.strategy_weights => "weights chosen by the strategy".to_string(),
        SizingMethod::FixedFractional => {
            format!("fixed fraction {}%", 100.0 * s.sizing.fixed_fraction)
        }
        SizingMethod::VolatilityScaled => format!(
            "volatility-scaled to {}% a year",
            100.0 * s.sizing.target_volatility
        ),
        SizingMethod::Kelly => format!("Kelly × {}", s.sizing.kelly_fraction),
        SizingMethod::RiskParity => "risk parity".into(),
    };
    let st = &s.stops;
    let mut stops = Vec::new();
    if st.stop_loss.enabled {
        stops.push(format!("stop-loss {}%", 100.0 * st.stop_loss.pct));
    }
    if st.trailing_stop.enabled {
        stops.push(format!("trailing {}%", 100.0 * st.trailing_stop.pct));
    }
    if st.atr_stop.enabled {
        stops.push(format!(
            "ATR({}) × {}",
            st.atr_stop.period, st.atr_stop.multiple
        ));
    }
    if st.take_profit.enabled {
        stops.push(format!("take-profit {}%", 100.0 * st.take_profit.pct));
    }
    let breaker = if st.circuit_breaker.enabled {
        format!(
            "breaker at {}% drawdown ({} days off)",
            100.0 * st.circuit_breaker.max_drawdown,
            st.circuit_breaker.cooldown_days
        )
    } else {
        "no breaker".into()
    };
    let rebalance = match s.rebalance {
        qts_backtest::settings::Frequency::Weekly => {
            format!("weekly rebalance ({:?})", s.rebalance_weekday).to_lowercase()
        }
        qts_backtest::settings::Frequency::Signal => "rebalance on a new target only".into(),
        f => format!("{f:?} rebalance").to_lowercase(),
    };
    let bars = number(&r.metrics, "num_bars").unwrap_or(0.0);
    let mut out = format!(
        "{} on {} · {} .. {} ({bars:.0} bars) · {}\n",
        r.strategy,
        r.symbols.join(", "),
        r.start.as_deref().unwrap_or("?"),
        r.end.as_deref().unwrap_or("?"),
        if r.in_sample {
            "IN-SAMPLE"
        } else {
            "not in-sample"
        },
    );
    let _ = writeln!(
        out,
        "costs: commission {commission}, slippage {slippage} · {} execution, fills at the {}",
        match r.execution {
            qts_backtest::Execution::Default => "qts",
            qts_backtest::Execution::BacktestingPy => "backtesting.py",
        },
        match s.fill_price {
            qts_backtest::settings::FillPrice::NextOpen => "next open",
            qts_backtest::settings::FillPrice::Close => "signal's close",
        }
    );
    let _ = writeln!(
        out,
        "rules: {sizing}, position cap {}%, {}, {breaker}, {rebalance}",
        100.0 * s.limits.max_position_fraction,
        if stops.is_empty() {
            "no stops".to_string()
        } else {
            stops.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "prices: {}{} · buy & hold: {}",
        s.price_basis.describe(),
        if s.dividends || s.price_basis == qts_data::actions::Basis::TotalReturn {
            ""
        } else {
            ", dividends off (backtest.dividends: false)"
        },
        if s.dividends || s.price_basis == qts_data::actions::Basis::TotalReturn {
            "total return"
        } else {
            "price return"
        }
    );
    if r.dividend_income != 0.0 {
        let _ = writeln!(
            out,
            "dividends received: {:.2} ({:.2}% of the starting equity; in the equity above)",
            r.dividend_income,
            100.0 * r.dividend_income / r.result.equity.first().copied().unwrap_or(f64::NAN)
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The summary of `r`: the header, the metrics named in `only` (all when empty) grouped, the
/// strategy beside buy-and-hold of the same span, and the result in words.
pub fn summary(r: &BacktestReport, only: &[String]) -> String {
    let mut out = header(r);
    let width = 28;
    let _ = writeln!(
        out,
        "\n{:<width$} {:>14} {:>14}",
        "", "strategy", "buy & hold"
    );
    let row = |out: &mut String, m: Metric| {
        let _ = writeln!(
            out,
            "  {:<w$} {:>14} {:>14}",
            m.label(),
            show(r.metrics.get(&m), m.unit()),
            show(r.buy_and_hold.get(&m), m.unit()),
            w = width - 2
        );
    };
    if only.is_empty() {
        for (group, metrics) in groups() {
            let _ = writeln!(out, "{}", group.label());
            for m in metrics.into_iter().filter(|m| r.metrics.contains_key(m)) {
                row(&mut out, m);
            }
        }
    } else {
        // The user's list, in the user's order.
        for m in only
            .iter()
            .filter_map(|k| r.metrics.get_key_value(k.as_str()))
        {
            row(&mut out, *m.0);
        }
    }
    if let Some(u) = &r.universe {
        out.push_str(&universe(u));
    }
    let _ = writeln!(out, "\n{}", verdict(r));
    out
}

/// The universe section of a summary: tradable and held names, turnover, the rank IC, the
/// contributions.
pub fn universe(u: &qts_backtest::universe::UniverseStats) -> String {
    let mut out = String::new();
    let width = 28;
    let _ = writeln!(
        out,
        "Universe ({} symbols; {}..{} tradable a day)",
        u.symbols, u.min_tradable, u.max_tradable
    );
    let _ = writeln!(
        out,
        "  {:<width$} {:>14.2}",
        "holdings (average)", u.mean_holdings
    );
    let _ = writeln!(
        out,
        "  {:<width$} {:>13.1}% ({} rebalances)",
        "turnover a rebalance",
        100.0 * u.turnover_per_rebalance,
        u.rebalances
    );
    if let Some(ic) = &u.rank_ic {
        let _ = writeln!(
            out,
            "  {:<width$} {:>14.4} (t {:.2}, ICIR {:.3}, {} dates)",
            "rank IC (mean)", ic.mean, ic.t_stat, ic.icir, ic.dates
        );
    }
    if let Some(h) = u.top_bucket_hit_rate {
        let _ = writeln!(
            out,
            "  {:<width$} {:>13.1}%",
            "top fifth beat the average",
            100.0 * h
        );
    }
    let mut by: Vec<_> = u.contributions.iter().collect();
    by.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    let shown: Vec<String> = by
        .iter()
        .take(10)
        .map(|c| format!("{} {:+.1}%", c.symbol, 100.0 * c.contribution))
        .collect();
    let _ = writeln!(
        out,
        "  contributions: {}{}",
        shown.join(", "),
        if by.len() > 10 { ", …" } else { "" }
    );
    out
}

/// One line that says the result in words.
pub fn verdict(r: &BacktestReport) -> String {
    let (Some(ours), Some(theirs)) = (
        number(&r.metrics, "total_return"),
        number(&r.buy_and_hold, "total_return"),
    ) else {
        return "No return to compare.".into();
    };
    let points = 100.0 * (ours - theirs);
    let word = if points >= 0.0 { "Beat" } else { "Trailed" };
    let sharpe = match (
        number(&r.metrics, "sharpe_ratio"),
        number(&r.buy_and_hold, "sharpe_ratio"),
    ) {
        (Some(a), Some(b)) => format!("; Sharpe {a:.2} vs {b:.2}"),
        _ => String::new(),
    };
    let drawdown = match (
        number(&r.metrics, "max_drawdown"),
        number(&r.buy_and_hold, "max_drawdown"),
    ) {
        (Some(a), Some(b)) => format!("; max drawdown {:.1}% vs {:.1}%", 100.0 * a, 100.0 * b),
        _ => String::new(),
    };
    format!(
        "{word} buy-and-hold by {:.1} points ({:+.1}% vs {:+.1}%){sharpe}{drawdown}{}.",
        points.abs(),
        100.0 * ours,
        100.0 * theirs,
        if r.in_sample { " — IN-SAMPLE" } else { "" }
    )
}

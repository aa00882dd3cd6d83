//! The terminal summary of a backtest, as a person reads it: a header that says what was run
//! (strategy, symbols, span, costs, rules, in- or out-of-sample), the metrics grouped, with
//! percentages as percentages and buy-and-hold of the same span beside them, and one line that
//! says the result in words. The JSON keeps its keys and plain fractions; this is only how the
//! numbers are shown.

use std::fmt::Write as _;

use qts_backtest::settings::{CommissionModel, SizingMethod, SlippageModel};

use qts_backtest::BacktestReport;
use qts_stats::metrics::{Metrics, Value};

/// How a metric's value is shown.
#[derive(Clone, Copy)]
pub(crate) enum Unit {
    /// A signed fraction shown as a percentage (a return).
    Percent,
    /// A share or a level shown as a percentage, unsigned.
    Share,
    /// A plain ratio.
    Ratio,
    /// Money.
    Money,
    /// A count or a number of bars or days.
    Whole,
}

/// A metric's key, label and unit.
pub(crate) type Row = (&'static str, &'static str, Unit);

/// The metric groups, in order; each metric with its label and unit.
pub(crate) const GROUPS: &[(&str, &[Row])] = &[
    (
        "Returns",
        &[
            ("total_return", "total return", Unit::Percent),
            ("cagr", "CAGR", Unit::Percent),
            ("annual_return", "annual return (mean)", Unit::Percent),
            ("best_day", "best day", Unit::Percent),
            ("worst_day", "worst day", Unit::Percent),
            ("final_equity", "final equity", Unit::Money),
            (
                "buy_and_hold_return",
                "buy & hold from 1st signal",
                Unit::Percent,
            ),
        ],
    ),
    (
        "Risk",
        &[
            ("annual_volatility", "annual volatility", Unit::Share),
            ("max_drawdown", "max drawdown", Unit::Percent),
            ("max_drawdown_duration", "max drawdown bars", Unit::Whole),
            ("average_drawdown", "average drawdown", Unit::Percent),
            ("ulcer_index", "ulcer index", Unit::Share),
            ("value_at_risk", "value at risk (daily)", Unit::Percent),
            ("conditional_value_at_risk", "CVaR (daily)", Unit::Percent),
            ("downside_risk", "downside risk", Unit::Share),
            ("skew", "skew", Unit::Ratio),
            ("kurtosis", "kurtosis", Unit::Ratio),
            ("tail_ratio", "tail ratio", Unit::Ratio),
            ("beta", "beta", Unit::Ratio),
        ],
    ),
    (
        "Risk-adjusted",
        &[
            ("sharpe_ratio", "Sharpe", Unit::Ratio),
            ("sortino_ratio", "Sortino", Unit::Ratio),
            ("calmar_ratio", "Calmar", Unit::Ratio),
            ("omega_ratio", "Omega", Unit::Ratio),
            ("stability_of_timeseries", "stability", Unit::Ratio),
            ("alpha", "alpha", Unit::Percent),
            ("information_ratio", "information ratio", Unit::Ratio),
            ("probabilistic_sharpe_ratio", "P(Sharpe > 0)", Unit::Share),
            (
                "min_track_record_length",
                "min track record (bars)",
                Unit::Whole,
            ),
        ],
    ),
    (
        "Trades",
        &[
            ("num_trades", "trades", Unit::Whole),
            ("win_rate", "win rate", Unit::Share),
            ("best_trade", "best trade", Unit::Percent),
            ("worst_trade", "worst trade", Unit::Percent),
            ("avg_trade", "average trade (geometric)", Unit::Percent),
            ("expectancy", "expectancy", Unit::Percent),
            ("avg_win", "average win", Unit::Percent),
            ("avg_loss", "average loss", Unit::Percent),
            ("payoff_ratio", "payoff ratio", Unit::Ratio),
            ("profit_factor", "profit factor", Unit::Ratio),
            ("sqn", "SQN", Unit::Ratio),
            ("kelly_criterion", "Kelly fraction", Unit::Percent),
            ("max_consecutive_wins", "most wins in a row", Unit::Whole),
            (
                "max_consecutive_losses",
                "most losses in a row",
                Unit::Whole,
            ),
            ("avg_trade_duration", "average days held", Unit::Ratio),
            ("exposure_time", "time in the market", Unit::Share),
            ("num_bars", "bars", Unit::Whole),
        ],
    ),
    (
        "Costs",
        &[
            ("total_costs", "commission + slippage", Unit::Money),
            ("total_commission", "commission", Unit::Money),
            ("turnover", "turnover (× equity a year)", Unit::Ratio),
        ],
    ),
];

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
    let row = |out: &mut String, key: &str| {
        let (label, unit) = GROUPS
            .iter()
            .flat_map(|(_, m)| m.iter())
            .find(|(k, ..)| *k == key)
            .map_or((key, Unit::Ratio), |(_, l, u)| (*l, *u));
        let _ = writeln!(
            out,
            "  {:<w$} {:>14} {:>14}",
            label,
            show(r.metrics.get(key), unit),
            show(r.buy_and_hold.get(key), unit),
            w = width - 2
        );
    };
    if only.is_empty() {
        for (group, metrics) in GROUPS {
            let _ = writeln!(out, "{group}");
            for (key, ..) in metrics.iter().filter(|(k, ..)| r.metrics.contains_key(k)) {
                row(&mut out, key);
            }
        }
    } else {
        // The user's list, in the user's order.
        for key in only.iter().filter(|k| r.metrics.contains_key(k.as_str())) {
            row(&mut out, key);
        }
    }
    let _ = writeln!(out, "\n{}", verdict(r));
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

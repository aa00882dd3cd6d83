//! A decision and a paper account as a person reads them in a terminal.

use comfy_table::Table;
use qts_backtest::decide::Decision;
use qts_paper::{Status, StepReport};

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "-".into(), f)
}

/// The decision: what it is based on, the positions, the orders.
pub fn decision(d: &Decision) -> String {
    let mut out = format!(
        "Decision at the close of {} for the session of {} ({})\n\
         {} · traded since {} · {} · equity {} · cash {} · drawdown {}{}\n",
        d.as_of,
        d.next_session,
        if d.rebalance_day {
            "a rebalance day"
        } else {
            "not a rebalance day: only stops and the breaker act"
        },
        d.strategy,
        d.traded_from,
        if d.account == "holdings" {
            "for the holdings given"
        } else {
            "the strategy's own account"
        },
        money(d.equity),
        money(d.cash),
        if d.drawdown.is_finite() {
            format!("{:.2}%", 100.0 * d.drawdown)
        } else {
            "n/a".into()
        },
        if d.cooling_down {
            " · breaker cooling down"
        } else {
            ""
        },
    );
    for note in &d.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    let mut t = Table::new();
    t.set_header(vec![
        "symbol",
        "shares",
        "close",
        "weight",
        "target shares",
        "target",
        "forecast [interval]",
        "stop",
        "take-profit",
    ]);
    for p in &d.positions {
        t.add_row(vec![
            p.symbol.clone(),
            p.shares.to_string(),
            money(p.close),
            format!("{:.1}%", 100.0 * p.weight),
            p.target_shares.to_string(),
            opt(p.target_strength, |x| format!("{x:+.2}")),
            p.forecast.map_or_else(
                || "-".into(),
                |f| match (f.lower, f.upper) {
                    (Some(l), Some(u)) => {
                        format!(
                            "{:+.3}% [{:+.3}%, {:+.3}%]",
                            100.0 * f.expected,
                            100.0 * l,
                            100.0 * u
                        )
                    }
                    _ => format!("{:+.3}%", 100.0 * f.expected),
                },
            ),
            p.stop.as_ref().map_or_else(
                || "-".into(),
                |s| format!("{} ({})", money(s.price), s.rule),
            ),
            opt(p.take_profit, money),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    for z in &d.sizing {
        out.push_str(&sizing_line(z));
    }
    if d.orders.is_empty() {
        out.push_str(&format!(
            "No orders for {}: hold.{}\n",
            d.next_session,
            d.next_rebalance.as_ref().map_or(String::new(), |r| format!(
                " The next rebalance day is {r}."
            ))
        ));
    } else {
        let mut t = Table::new();
        t.set_header(vec![
            "symbol", "side", "shares", "type", "limit", "stop", "tif", "reason", "decided",
        ]);
        for o in &d.orders {
            t.add_row(vec![
                o.symbol.clone(),
                o.side.clone(),
                o.shares.to_string(),
                o.order_type.clone(),
                opt(o.limit, money),
                opt(o.stop, money),
                o.time_in_force.clone(),
                o.reason.clone(),
                o.decided.clone(),
            ]);
        }
        out.push_str(&format!(
            "Orders for the open of {}:\n{t}\n",
            d.next_session
        ));
    }
    out
}

/// A paper step of the account in `database`: the day, the fills, the alerts, the decision.
pub fn paper_step(database: &str, report: &StepReport) -> String {
    let mut text = format!(
        "Stepped {database} to {}: equity {:.2} ({:+.2}% on the day, P&L {:+.2} since it opened)\n",
        report.day,
        report.equity,
        100.0 * report.day_return,
        report.pnl
    );
    if report.fills.is_empty() {
        text.push_str("No fills since the last step.\n");
    } else {
        let mut t = Table::new();
        t.set_header(vec![
            "day",
            "symbol",
            "shares",
            "price",
            "commission",
            "reason",
        ]);
        for f in &report.fills {
            t.add_row(vec![
                f.day.clone(),
                f.symbol.clone(),
                f.shares.to_string(),
                format!("{:.4}", f.price),
                format!("{:.2}", f.commission),
                f.reason.clone(),
            ]);
        }
        text.push_str(&format!("Fills:\n{t}\n"));
    }
    for a in &report.alerts {
        text.push_str(&format!("ALERT {}: {}\n", a.kind, a.message));
    }
    text.push_str(&decision(&report.decision));
    text
}

/// One target's sizing in words: strength → the method's weight → the interval's shrink →
/// the caps → shares at the close.
fn sizing_line(z: &qts_backtest::decide::SizingLine) -> String {
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let method = match z.annual_volatility {
        Some(v) => format!("{} at {} volatility a year", z.method, pct(v)),
        None => z.method.clone(),
    };
    let shrunk = z.sized * z.interval_factor;
    let mut text = format!(
        "sizing {}: strength {:+.2} → {method}: {} of equity",
        z.symbol,
        z.strength,
        pct(z.sized)
    );
    if z.interval_factor != 1.0 {
        text.push_str(&format!(
            " → × {:.2} for the forecast interval: {}",
            z.interval_factor,
            pct(shrunk)
        ));
    }
    if (z.weight - shrunk).abs() > 1e-12 {
        text.push_str(&format!(
            " → capped (at most {} a position, the gross limit, no shorts unless allowed): {}",
            pct(z.cap),
            pct(z.weight)
        ));
    }
    text.push_str(&format!(
        " → {} of {:.2} at the close {:.2} = {} shares\n",
        pct(z.weight),
        z.equity,
        z.close,
        z.shares
    ));
    text
}

/// A paper account's status: what it follows, its equity, positions and open orders.
pub fn paper_status(s: &Status) -> String {
    let mut text = format!(
        "Paper account {} · follows {} {} · opened with {:.2}\n\
         last step {} ({} steps) · equity {:.2} · cash {:.2} · P&L {:+.2} ({:+.2}%) · drawdown {:.2}% from a peak of {:.2} · alerts {}\n",
        s.database,
        s.strategy,
        s.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        s.initial_cash,
        s.last_day.as_deref().unwrap_or("none yet"),
        s.steps,
        s.equity,
        s.cash,
        s.pnl,
        100.0 * s.total_return,
        100.0 * s.drawdown,
        s.peak_equity,
        s.alerts
    );
    let mut t = Table::new();
    t.set_header(vec![
        "symbol",
        "shares",
        "avg entry",
        "close",
        "value",
        "unrealized P&L",
    ]);
    for p in &s.positions {
        t.add_row(vec![
            p.symbol.clone(),
            p.shares.to_string(),
            p.avg_entry.map_or("-".into(), |x| format!("{x:.4}")),
            format!("{:.2}", p.close),
            format!("{:.2}", p.value),
            format!("{:+.2}", p.unrealized_pnl),
        ]);
    }
    text.push_str(&format!("{t}\n"));
    if s.open_orders.is_empty() {
        text.push_str("No open orders.\n");
    } else {
        let mut t = Table::new();
        t.set_header(vec![
            "symbol", "side", "shares", "type", "tif", "reason", "decided",
        ]);
        for o in &s.open_orders {
            t.add_row(vec![
                o.symbol.clone(),
                o.side.clone(),
                o.shares.to_string(),
                o.order_type.clone(),
                o.time_in_force.clone(),
                o.reason.clone(),
                o.decided.clone(),
            ]);
        }
        text.push_str(&format!("Open orders:\n{t}\n"));
    }
    text
}

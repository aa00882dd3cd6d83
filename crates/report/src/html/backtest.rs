//! The backtest report: equity against buy-and-hold, drawdowns, monthly and yearly returns,
//! rolling Sharpe ratio and volatility, return distributions, trades on the price, exposure,
//! every metric, the rules and the provenance.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use qts_stats::metrics::Metrics;

use super::{
    Frame, STYLE, color, compact, esc, fmt, histogram, legend, log_prices, log_ticks, ticks,
};
use crate::folder::Stats;
use qts_stats::metrics::Unit;

/// A closed trade as the report reads it from `trades.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRow {
    /// Entry day.
    pub entry: NaiveDate,
    /// Exit day.
    pub exit: NaiveDate,
    /// Return after commissions.
    pub ret: f64,
    /// `long` or `short`.
    pub side: qts_backtest::portfolio::TradeSide,
}

/// What a backtest report draws: a run folder's `stats.json`, `equity.csv`, `trades.csv`.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    /// `stats.json`.
    pub stats: Stats,
    /// Days of the equity curve.
    pub days: Vec<NaiveDate>,
    /// Equity at each close.
    pub equity: Vec<f64>,
    /// Drawdown at each close (≤ 0).
    pub drawdown: Vec<f64>,
    /// Buy-and-hold's equity from the same start (empty when the file has none).
    pub buy_and_hold: Vec<f64>,
    /// Cash at each close (empty when the file has none).
    pub cash: Vec<f64>,
    /// The first symbol's close at each close (empty when the file has none).
    pub close: Vec<f64>,
    /// Closed trades.
    pub trades: Vec<TradeRow>,
}

/// Trades listed at most this many on a page (the rest are in `trades.csv`).
const TRADES_LISTED: usize = 500;

/// The closed trades as a table: the five best and five worst, then every trade in order
/// (the first [`TRADES_LISTED`]), each with its side, days, return after commissions.
fn trade_table(trades: &[TradeRow]) -> String {
    if trades.is_empty() {
        return String::new();
    }
    let row = |k: usize, t: &TradeRow| {
        format!(
            "<tr><td>{k}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style=\"color:{}\">{:+.2}%</td></tr>",
            esc(&t.side.to_string()),
            t.entry,
            t.exit,
            (t.exit - t.entry).num_days(),
            if t.ret >= 0.0 { "#2e8b57" } else { "#c0392b" },
            100.0 * t.ret
        )
    };
    let head = "<table><tr><th>#</th><th>side</th><th>entry</th><th>exit</th><th>days</th><th>return</th></tr>";
    let mut ranked: Vec<(usize, &TradeRow)> = trades.iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.ret.total_cmp(&a.1.ret));
    let mut out = format!(
        "<h2>Trades ({} closed; return after commissions)</h2><div class=\"groups\"><div><b>best five</b>{head}",
        trades.len()
    );
    for (k, t) in ranked.iter().take(5) {
        out.push_str(&row(k + 1, t));
    }
    out.push_str("</table></div><div><b>worst five</b>");
    out.push_str(head);
    for (k, t) in ranked.iter().rev().take(5) {
        out.push_str(&row(k + 1, t));
    }
    out.push_str("</table></div></div><details><summary>every trade, sortable</summary>");
    out.push_str(&sortable_trades(trades, head, &row));
    if trades.len() > TRADES_LISTED {
        out.push_str(&format!(
            "<p>{TRADES_LISTED} listed in each order; the other {} are in trades.csv</p>",
            trades.len() - TRADES_LISTED
        ));
    }
    out.push_str("</details>");
    out
}

/// The orders the trade table can be read in: an id, its label, and the trades' order.
#[allow(clippy::type_complexity)]
const TRADE_ORDERS: [(&str, &str, fn(&TradeRow, &TradeRow) -> std::cmp::Ordering); 6] = [
    ("order", "in order", |_, _| std::cmp::Ordering::Equal),
    ("best", "return, best first", |a, b| b.ret.total_cmp(&a.ret)),
    ("worst", "return, worst first", |a, b| {
        a.ret.total_cmp(&b.ret)
    }),
    ("longest", "days held, longest first", |a, b| {
        (b.exit - b.entry).cmp(&(a.exit - a.entry))
    }),
    ("shortest", "days held, shortest first", |a, b| {
        (a.exit - a.entry).cmp(&(b.exit - b.entry))
    }),
    ("side", "side", |a, b| {
        a.side.to_string().cmp(&b.side.to_string())
    }),
];

/// The trades as one table that sorts without a script (the pages run none): a radio button
/// per order, each order rendered once as a `tbody` that CSS shows while its button is checked.
/// Each row keeps the trade's number in order; ties keep the order of the trades.
fn sortable_trades(
    trades: &[TradeRow],
    head: &str,
    row: &dyn Fn(usize, &TradeRow) -> String,
) -> String {
    let mut out = String::from("<div class=\"sortable\"><span>sort by</span>");
    for (k, (id, label, _)) in TRADE_ORDERS.iter().enumerate() {
        out.push_str(&format!(
            "<input type=\"radio\" name=\"trade-order\" id=\"trades-{id}\"{}><label for=\"trades-{id}\">{label}</label>",
            if k == 0 { " checked" } else { "" }
        ));
    }
    // The header row (a `thead`: a bare row would be put in a body, hidden), then one body per
    // order.
    out.push_str(&head.replacen("<table><tr>", "<table><thead><tr>", 1));
    out.push_str("</thead>");
    for (id, _, order) in TRADE_ORDERS {
        let mut listed: Vec<(usize, &TradeRow)> = trades.iter().enumerate().collect();
        listed.sort_by(|a, b| order(a.1, b.1));
        out.push_str(&format!("<tbody class=\"trades-{id}\">"));
        for (k, t) in listed.into_iter().take(TRADES_LISTED) {
            out.push_str(&row(k + 1, t));
        }
        out.push_str("</tbody>");
    }
    out.push_str("</table></div>");
    out
}

/// Each metric's definition, as docs/backtest.md gives it (a test keeps the two the same):
/// [`Metric::definition`], for the metrics that have one.
#[cfg(test)]
fn definitions() -> Vec<(&'static str, &'static str)> {
    use qts_stats::metrics::Metric;
    use strum::IntoEnumIterator;
    Metric::iter()
        .filter(|m| !m.definition().is_empty())
        .map(|m| (m.key(), m.definition()))
        .collect()
}

/// Equity against buy-and-hold, on a log scale.
fn equity_chart(d: &RunData, log: bool) -> String {
    let scale = |v: &[f64]| {
        v.iter()
            .map(|x| if log { x.max(1e-9).ln() } else { *x })
            .collect::<Vec<_>>()
    };
    let (a, b) = (scale(&d.equity), scale(&d.buy_and_hold));
    let all = a.iter().chain(&b).copied().filter(|x| x.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
        (l.min(x), h.max(x))
    });
    let f = Frame::new(d.equity.len(), lo, hi);
    let mut out = String::new();
    f.open(
        &mut out,
        if log {
            "equity against buy-and-hold, log scale"
        } else {
            "equity against buy-and-hold, linear scale"
        },
    );
    f.axes(
        &mut out,
        &if log {
            log_ticks(lo, hi, compact)
        } else {
            ticks(lo, hi, compact)
        },
        &d.days,
    );
    if !b.is_empty() {
        f.line(&mut out, &b, "#9aa3b2", "buy and hold");
    }
    f.line(&mut out, &a, "#3868d8", "strategy");
    f.hover(
        &mut out,
        &d.days,
        &[("strategy", &d.equity), ("buy and hold", &d.buy_and_hold)],
        &|v| format!("{v:.2}"),
    );
    out.push_str("</svg>");
    out
}

/// The five deepest drawdown periods: (start, trough, end) indices.
fn worst_drawdowns(dd: &[f64]) -> Vec<(usize, usize, usize)> {
    let mut periods = Vec::new();
    let mut i = 0;
    while i < dd.len() {
        if dd[i] < 0.0 {
            let start = i;
            let mut trough = i;
            while i < dd.len() && dd[i] < 0.0 {
                if dd[i] < dd[trough] {
                    trough = i;
                }
                i += 1;
            }
            periods.push((start, trough, i - 1));
        }
        i += 1;
    }
    periods.sort_by(|a, b| dd[a.1].total_cmp(&dd[b.1]));
    periods.truncate(5);
    periods
}

fn drawdown_chart(d: &RunData) -> String {
    let lo = d.drawdown.iter().copied().fold(0.0, f64::min).min(-1e-6);
    let f = Frame::new(d.drawdown.len(), lo, 0.0);
    let mut out = String::new();
    f.open(&mut out, "underwater: drawdown from the running peak");
    for (k, (s, t, e)) in worst_drawdowns(&d.drawdown).iter().enumerate() {
        let _ = write!(
            out,
            "<rect class=\"worst\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f7d9d6\" opacity=\"0.6\"><title>#{} {:.1}% from {} to {}</title></rect>",
            f.x(*s),
            f.top,
            (f.x(*e) - f.x(*s)).max(1.0),
            f.h - f.top - 28.0,
            k + 1,
            100.0 * d.drawdown[*t],
            d.days[*s],
            d.days[*e]
        );
    }
    f.axes(&mut out, &ticks(lo, 0.0, super::percent), &d.days);
    f.line(&mut out, &d.drawdown, "#c0392b", "drawdown");
    f.hover(&mut out, &d.days, &[("drawdown", &d.drawdown)], &|v| {
        format!("{:.2}%", 100.0 * v)
    });
    out.push_str("</svg>");
    out
}

/// Returns compounded per key (a month or a year) from an equity curve.
fn period_returns(
    days: &[NaiveDate],
    equity: &[f64],
    key: impl Fn(NaiveDate) -> (i32, u32),
) -> Vec<((i32, u32), f64)> {
    let mut out: Vec<((i32, u32), f64)> = Vec::new();
    for i in 1..equity.len().min(days.len()) {
        let r = equity[i] / equity[i - 1] - 1.0;
        let k = key(days[i]);
        match out.last_mut() {
            Some((last, acc)) if *last == k => *acc = (1.0 + *acc) * (1.0 + r) - 1.0,
            _ => out.push((k, r)),
        }
    }
    out
}

fn monthly_heatmap(d: &RunData) -> String {
    let months = period_returns(&d.days, &d.equity, |t| (t.year(), t.month()));
    let years: Vec<i32> = {
        let mut y: Vec<i32> = months.iter().map(|((y, _), _)| *y).collect();
        y.dedup();
        y
    };
    let scale = months.iter().map(|(_, r)| r.abs()).fold(0.01, f64::max);
    let (cw, ch) = (72.0, 22.0);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {:.0} {:.0}\" width=\"100%\" role=\"img\" aria-label=\"monthly returns\" xmlns=\"http://www.w3.org/2000/svg\">",
        60.0 + 12.0 * cw,
        24.0 + ch * years.len() as f64
    );
    for (m, name) in [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .enumerate()
    {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"16\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6475\">{name}</text>",
            60.0 + cw * (m as f64 + 0.5)
        );
    }
    for (row, y) in years.iter().enumerate() {
        let top = 24.0 + ch * row as f64;
        let _ = write!(
            out,
            "<text x=\"50\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6475\">{y}</text>",
            top + 15.0
        );
        for ((yy, m), r) in months.iter().filter(|((yy, _), _)| yy == y) {
            let x = 60.0 + cw * f64::from(m - 1);
            let _ = write!(
                out,
                "<rect class=\"cell\" x=\"{x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{yy}-{m:02}: {:+.2}%</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{:+.1}</text>",
                cw - 2.0,
                ch - 2.0,
                color(*r, scale),
                100.0 * r,
                x + cw / 2.0,
                top + 14.0,
                100.0 * r
            );
        }
    }
    out.push_str("</svg>");
    // The colour scale: cells show the month's return in percent, deepest at ±`scale`.
    out.push_str("<div class=\"sub heat-legend\">each cell: the month's return in %; colour:");
    for k in -4..=4 {
        let r = scale * f64::from(k) / 4.0;
        let _ = write!(
            out,
            " <span style=\"display:inline-block;min-width:44px;text-align:center;background:{}\">{:+.1}%</span>",
            color(r, scale),
            100.0 * r
        );
    }
    out.push_str("</div>");
    out
}

fn yearly_bars(d: &RunData) -> String {
    let ours = period_returns(&d.days, &d.equity, |t| (t.year(), 0));
    let theirs = period_returns(&d.days, &d.buy_and_hold, |t| (t.year(), 0));
    let all = ours.iter().chain(&theirs).map(|(_, r)| *r);
    let (lo, hi) = all.fold((0.0f64, 0.0f64), |(l, h), x| (l.min(x), h.max(x)));
    let f = Frame::new(ours.len() + 1, lo, hi.max(lo + 1e-6));
    let mut out = String::new();
    f.open(&mut out, "yearly returns against buy-and-hold");
    f.axes(&mut out, &ticks(lo, hi, super::percent), &[]);
    let slot = (f.w - f.left - 10.0) / ours.len().max(1) as f64;
    for (i, ((y, _), r)) in ours.iter().enumerate() {
        let x = f.left + slot * i as f64;
        let mut bar = |r: f64, dx: f64, color: &str, who: &str| {
            let (a, b) = (f.y(r.max(0.0)), f.y(r.min(0.0)));
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{a:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{y} {who}: {:+.2}%</title></rect>",
                x + dx,
                slot * 0.38,
                (b - a).max(0.5),
                100.0 * r
            );
        };
        bar(*r, slot * 0.1, "#3868d8", "strategy");
        if let Some((_, t)) = theirs.iter().find(|(k, _)| k.0 == *y) {
            bar(*t, slot * 0.5, "#9aa3b2", "buy and hold");
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6475\">{y}</text>",
            x + slot / 2.0,
            f.h - 8.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Rolling annualised Sharpe ratio over `window` returns.
fn rolling_sharpe(equity: &[f64], window: usize, periods: f64) -> Vec<f64> {
    let r: Vec<f64> = equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let mut out = vec![f64::NAN; equity.len()];
    for t in window..=r.len() {
        let s = &r[t - window..t];
        let m = qts_core::stats::mean(s);
        let sd = qts_core::stats::std(s, 1);
        if sd > 0.0 {
            out[t] = m / sd * periods.sqrt();
        }
    }
    out
}

fn sharpe_chart(d: &RunData, periods: f64) -> String {
    let s = rolling_sharpe(&d.equity, 126, periods);
    let b = if d.buy_and_hold.is_empty() {
        Vec::new()
    } else {
        rolling_sharpe(&d.buy_and_hold, 126, periods)
    };
    let finite = s.iter().chain(&b).copied().filter(|x| x.is_finite());
    let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(l, h), x| (l.min(x), h.max(x)));
    let f = Frame::new(d.equity.len(), lo, hi.max(lo + 1e-6));
    let mut out = String::new();
    f.open(&mut out, "rolling six-month Sharpe ratio");
    f.axes(&mut out, &ticks(lo, hi, |v| format!("{v:.1}")), &d.days);
    if !b.is_empty() {
        f.line(&mut out, &b, "#9aa3b2", "buy and hold");
    }
    f.line(&mut out, &s, "#3868d8", "strategy");
    out.push_str("</svg>");
    out
}

/// Rolling annualised volatility over `window` returns.
fn rolling_volatility(equity: &[f64], window: usize, periods: f64) -> Vec<f64> {
    let r: Vec<f64> = equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let mut out = vec![f64::NAN; equity.len()];
    for t in window..=r.len() {
        out[t] = qts_core::stats::std(&r[t - window..t], 1) * periods.sqrt();
    }
    out
}

fn volatility_chart(d: &RunData, periods: f64) -> String {
    let s = rolling_volatility(&d.equity, 126, periods);
    let b = if d.buy_and_hold.is_empty() {
        Vec::new()
    } else {
        rolling_volatility(&d.buy_and_hold, 126, periods)
    };
    let hi = s
        .iter()
        .chain(&b)
        .copied()
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max);
    let f = Frame::new(d.equity.len(), 0.0, hi.max(1e-6));
    let mut out = String::new();
    f.open(&mut out, "rolling six-month volatility");
    f.axes(&mut out, &ticks(0.0, hi, super::percent), &d.days);
    if !b.is_empty() {
        f.line(&mut out, &b, "#9aa3b2", "buy and hold");
    }
    f.line(&mut out, &s, "#3868d8", "strategy");
    out.push_str("</svg>");
    out
}

/// Net exposure: the market value of the positions over the equity, at each close.
fn exposure_chart(d: &RunData) -> String {
    if d.cash.len() != d.equity.len() {
        return String::new();
    }
    let x: Vec<f64> = d
        .equity
        .iter()
        .zip(&d.cash)
        .map(|(e, c)| if *e > 0.0 { (e - c) / e } else { f64::NAN })
        .collect();
    let finite = x.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let f = Frame::new(x.len(), lo, hi.max(lo + 1e-6));
    let mut out = String::new();
    f.open(&mut out, "net exposure");
    f.axes(&mut out, &ticks(lo, hi, super::percent), &d.days);
    f.line(&mut out, &x, "#2e8b57", "net exposure");
    out.push_str("</svg>");
    out
}

/// The first symbol's close (log scale) with every trade's entry (▲ long, ▼ short) and exit
/// (●, green for a gain, red for a loss).
fn trades_chart(d: &RunData) -> String {
    if d.close.len() != d.days.len() || d.close.iter().all(|c| !c.is_finite()) {
        return String::new();
    }
    let (logs, lo, hi) = log_prices(&d.close);
    let f = Frame::new(d.days.len(), lo, hi);
    let mut out = String::new();
    f.open(&mut out, "trades on the price");
    f.axes(&mut out, &log_ticks(lo, hi, compact), &d.days);
    f.line(&mut out, &logs, "#9aa3b2", "close");
    let at = |day: NaiveDate| d.days.binary_search(&day).ok();
    for t in &d.trades {
        if let Some(i) = at(t.entry) {
            let (x, y) = (f.x(i), f.y(logs[i]));
            let (pts, color) = if t.side == "short" {
                (
                    format!(
                        "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                        x - 4.0,
                        y - 9.0,
                        x + 4.0,
                        y - 9.0,
                        x,
                        y - 2.0
                    ),
                    "#c0392b",
                )
            } else {
                (
                    format!(
                        "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                        x - 4.0,
                        y + 9.0,
                        x + 4.0,
                        y + 9.0,
                        x,
                        y + 2.0
                    ),
                    "#2e8b57",
                )
            };
            let _ = write!(
                out,
                "<polygon class=\"entry\" points=\"{pts}\" fill=\"{color}\"><title>{} entry {}</title></polygon>",
                t.side, t.entry
            );
        }
        if let Some(i) = at(t.exit) {
            let _ = write!(
                out,
                "<circle class=\"exit\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"><title>exit {}: {:+.2}%</title></circle>",
                f.x(i),
                f.y(logs[i]),
                if t.ret >= 0.0 { "#2e8b57" } else { "#c0392b" },
                t.exit,
                100.0 * t.ret
            );
        }
    }
    out.push_str("</svg>");
    out
}

impl RunData {
    /// The page's data from a report just computed.
    pub fn of_report(r: &qts_backtest::BacktestReport) -> RunData {
        RunData {
            stats: Stats::of(r),
            days: r.result.time.iter().map(|t| t.date()).collect(),
            equity: r.result.equity.clone(),
            drawdown: r.result.drawdown.clone(),
            buy_and_hold: r.buy_and_hold_equity.clone(),
            cash: r.result.cash.clone(),
            close: r.first_close.clone(),
            trades: r
                .result
                .trades
                .iter()
                .map(|t| TradeRow {
                    entry: t.entry_time.date(),
                    exit: t.exit_time.date(),
                    ret: t.ret,
                    side: t.side,
                })
                .collect(),
        }
    }
}

/// The report page.
pub fn backtest_page(d: &RunData) -> String {
    let s = &d.stats;
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    let symbols = s.symbols.join(", ");
    let in_sample = s.in_sample;
    // Daily bars: the rolling Sharpe ratio is annualised over 252 sessions.
    let periods = 252.0;
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>qts backtest: {}</title><style>{STYLE}</style></head><body>",
        esc(&s.strategy)
    );
    let _ = write!(
        out,
        "<h1>{} on {}</h1><div class=\"sub\">{} .. {} · {} execution · {}</div>",
        esc(&s.strategy),
        esc(&symbols),
        esc(&or_unknown(&s.start)),
        esc(&or_unknown(&s.end)),
        esc(&s.execution),
        if in_sample {
            "<b class=\"note\">IN-SAMPLE</b>"
        } else {
            "not in-sample"
        }
    );
    for n in &s.notes {
        let _ = write!(out, "<div class=\"note\">note: {}</div>", esc(n));
    }
    let value = |m: &Metrics, k: &str| m.get(k).map(|v| v.as_f64()).filter(|x| x.is_finite());
    let (ours, theirs) = (
        value(&s.metrics, "total_return"),
        value(&s.buy_and_hold, "total_return"),
    );
    if let (Some(a), Some(b)) = (ours, theirs) {
        let _ = write!(
            out,
            "<div class=\"verdict\">{} buy-and-hold by {:.1} points ({:+.1}% vs {:+.1}%); Sharpe {} vs {}.</div>",
            if a >= b { "Beat" } else { "Trailed" },
            100.0 * (a - b).abs(),
            100.0 * a,
            100.0 * b,
            fmt(s.metrics.get("sharpe_ratio"), Unit::Ratio),
            fmt(s.buy_and_hold.get("sharpe_ratio"), Unit::Ratio)
        );
    }
    out.push_str("<h2>Equity against buy-and-hold (log scale; tick for linear)</h2>");
    out.push_str(&legend(&[
        ("#3868d8", "strategy"),
        ("#9aa3b2", "buy and hold"),
    ]));
    // The scale toggles without a script: a checkbox and sibling selectors in the style.
    out.push_str("<input type=\"checkbox\" id=\"linear\" class=\"toggle\"><label for=\"linear\" class=\"sub\"> linear scale</label><div class=\"log\">");
    out.push_str(&equity_chart(d, true));
    out.push_str("</div><div class=\"lin\">");
    out.push_str(&equity_chart(d, false));
    out.push_str("</div>");
    out.push_str("<h2>Drawdown (the five worst periods shaded)</h2>");
    out.push_str(&drawdown_chart(d));
    out.push_str("<h2>Monthly returns (%)</h2>");
    out.push_str(&monthly_heatmap(d));
    out.push_str("<h2>Yearly returns</h2>");
    out.push_str(&legend(&[
        ("#3868d8", "strategy"),
        ("#9aa3b2", "buy and hold"),
    ]));
    out.push_str(&yearly_bars(d));
    out.push_str("<h2>Rolling six-month Sharpe ratio</h2>");
    out.push_str(&sharpe_chart(d, periods));
    out.push_str("<h2>Rolling six-month volatility</h2>");
    out.push_str(&volatility_chart(d, periods));
    let trades = trades_chart(d);
    if !trades.is_empty() {
        out.push_str("<h2>Trades on the price (▲ long and ▼ short entries, ● exits: green a gain, red a loss)</h2>");
        out.push_str(&trades);
    }
    let exposure = exposure_chart(d);
    if !exposure.is_empty() {
        out.push_str("<h2>Net exposure (positions' market value over equity)</h2>");
        out.push_str(&exposure);
    }
    out.push_str(&trade_table(&d.trades));
    out.push_str("<h2>Distributions</h2>");
    let daily: Vec<f64> = d.equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    out.push_str(&histogram(&daily, "daily returns", "#3868d8"));
    let trades: Vec<f64> = d.trades.iter().map(|t| t.ret).collect();
    out.push_str(&histogram(&trades, "trade returns", "#6b4fbb"));
    out.push_str("<h2>Metrics</h2><div class=\"groups\">");
    for (group, metrics) in crate::render::groups() {
        let _ = write!(
            out,
            "<table><tr><th>{}</th><th>strategy</th><th>buy &amp; hold</th></tr>",
            group.label()
        );
        for m in metrics {
            let key = m.key();
            let Some(v) = s.metrics.get(&m) else {
                continue;
            };
            let _ = write!(
                out,
                "<tr title=\"{key}: {}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(m.definition()),
                esc(m.label()),
                fmt(Some(v), m.unit()),
                s.buy_and_hold
                    .get(&m)
                    .map_or(String::new(), |v| fmt(Some(v), m.unit()))
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</div>");
    if let Some(u) = &s.universe {
        out.push_str(&universe_section(u));
        let held = holdings_chart(d, u);
        if !held.is_empty() {
            out.push_str("<h2>Names held and names tradable at each close</h2>");
            out.push_str(&legend(&[("#3868d8", "held"), ("#9aa3b2", "tradable")]));
            out.push_str(&held);
        }
        out.push_str(&weights_map(d, u));
    }
    let terms = serde_json::from_value::<qts_backtest::engine::ActiveSettings>(s.settings.clone())
        .map_or_else(|_| String::new(), |a| format!("<p>{}</p>", esc(&a.terms())));
    let _ = write!(
        out,
        "<h2>Rules</h2>{terms}{}<h2>Validation</h2><p>{}</p><h2>Provenance</h2>{}",
        super::settings_table(&s.settings),
        esc(&format!("validation: {}", s.validation)),
        super::settings_table(&s.stamp)
    );
    out.push_str("</body></html>\n");
    out
}

/// The model's own sections on `qts run`'s page: its stitched out-of-sample equity's
/// drawdowns (the five worst shaded), its monthly returns, and a universe's holdings and
/// statistics.
pub(crate) fn model_tearsheet(
    days: &[NaiveDate],
    equity: &[f64],
    universe: Option<&qts_backtest::universe::UniverseStats>,
) -> String {
    let n = days.len().min(equity.len());
    if n < 2 {
        return String::new();
    }
    let mut peak = f64::NEG_INFINITY;
    let drawdown = equity[..n]
        .iter()
        .map(|e| {
            peak = peak.max(*e);
            e / peak - 1.0
        })
        .collect();
    let d = RunData {
        days: days[..n].to_vec(),
        equity: equity[..n].to_vec(),
        drawdown,
        ..RunData::default()
    };
    let mut out =
        String::from("<h2>The model out of sample: drawdowns (the five worst shaded)</h2>");
    out.push_str(&drawdown_chart(&d));
    out.push_str("<h2>The model's monthly returns (out of sample)</h2>");
    out.push_str(&monthly_heatmap(&d));
    if let Some(u) = universe {
        out.push_str(&universe_section(u));
        let held = holdings_chart(&d, u);
        if !held.is_empty() {
            out.push_str("<h2>Names held and names tradable at each close (test windows)</h2>");
            out.push_str(&legend(&[("#3868d8", "held"), ("#9aa3b2", "tradable")]));
            out.push_str(&held);
        }
    }
    out
}

/// The number of positions held and of symbols tradable at each close (a universe).
fn holdings_chart(d: &RunData, u: &qts_backtest::universe::UniverseStats) -> String {
    let n = d.days.len();
    if n < 2 || u.holdings.len() != n || u.tradable.len() != n {
        return String::new();
    }
    let held: Vec<f64> = u.holdings.iter().map(|&x| x as f64).collect();
    let tradable: Vec<f64> = u.tradable.iter().map(|&x| x as f64).collect();
    let hi = tradable.iter().chain(&held).copied().fold(1.0, f64::max);
    let f = Frame::new(n, 0.0, hi);
    let mut out = String::new();
    f.open(&mut out, "names held and tradable");
    f.axes(&mut out, &ticks(0.0, hi, |v| format!("{v:.0}")), &d.days);
    f.line(&mut out, &tradable, "#9aa3b2", "tradable");
    f.line(&mut out, &held, "#3868d8", "held");
    out.push_str("</svg>");
    out
}

/// The weights of the most held names over time, a row each and a cell per sampled close
/// (green long, red short, darker heavier), `(others)` last; nothing when none was held.
fn weights_map(d: &RunData, u: &qts_backtest::universe::UniverseStats) -> String {
    let Some(first) = u.weights.first() else {
        return String::new();
    };
    let cols = first.weights.len();
    if cols == 0 || u.weight_step == 0 {
        return String::new();
    }
    // The scale of the names (the others added up would pale them all).
    let scale = u
        .weights
        .iter()
        .filter(|w| w.symbol != "(others)")
        .flat_map(|w| w.weights.iter())
        .map(|x| x.abs())
        .filter(|x| x.is_finite())
        .fold(0.0_f64, f64::max);
    let (left, cell_h, width) = (90.0, 16.0, 1020.0);
    let cell_w = (width - left - 10.0) / cols as f64;
    let height = cell_h * u.weights.len() as f64 + 24.0;
    let mut out = format!(
        "<h2>Weights of the most held names</h2><div class=\"sub\">position value over equity at every {} close(s); green long, red short, darkest at {} of equity or more</div><svg class=\"chart\" viewBox=\"0 0 {width} {height:.0}\" width=\"100%\" role=\"img\" aria-label=\"weights over time\" xmlns=\"http://www.w3.org/2000/svg\">",
        u.weight_step,
        super::percent(scale),
    );
    for (row, w) in u.weights.iter().enumerate() {
        let y = row as f64 * cell_h;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6475\">{}</text>",
            left - 6.0,
            y + cell_h - 4.0,
            esc(&w.symbol)
        );
        for (i, x) in w.weights.iter().enumerate() {
            if *x == 0.0 || !x.is_finite() {
                continue;
            }
            let day = d
                .days
                .get(i * u.weight_step)
                .map_or(String::new(), ToString::to_string);
            let _ = write!(
                out,
                "<rect x=\"{:.2}\" y=\"{y:.1}\" width=\"{:.2}\" height=\"{:.1}\" fill=\"{}\"><title>{} {day}: {}</title></rect>",
                left + i as f64 * cell_w,
                cell_w + 0.05,
                cell_h - 2.0,
                super::color(*x, scale.max(1e-12)),
                esc(&w.symbol),
                super::percent(*x)
            );
        }
    }
    let mut last_year = None;
    for i in 0..cols {
        if let Some(day) = d.days.get(i * u.weight_step) {
            let year = chrono::Datelike::year(day);
            if last_year.is_some_and(|y| y != year) {
                let _ = write!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6475\">{year}</text>",
                    left + i as f64 * cell_w,
                    height - 6.0
                );
            }
            last_year = Some(year);
        }
    }
    out.push_str("</svg>");
    out
}

/// A universe's statistics: names tradable and held, turnover, the rank IC, and each symbol's
/// contribution to the return as a bar (no script: widths in the style).
pub(crate) fn universe_section(u: &qts_backtest::universe::UniverseStats) -> String {
    let mut out = String::from("<h2>Universe</h2><table>");
    let row = |out: &mut String, label: &str, value: String| {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(label),
            esc(&value)
        );
    };
    row(&mut out, "symbols", u.symbols.to_string());
    row(
        &mut out,
        "tradable a day",
        format!("{} .. {}", u.min_tradable, u.max_tradable),
    );
    row(
        &mut out,
        "holdings (average)",
        format!("{:.2}", u.mean_holdings),
    );
    row(
        &mut out,
        "turnover a rebalance",
        format!(
            "{:.1}% ({} rebalances)",
            100.0 * u.turnover_per_rebalance,
            u.rebalances
        ),
    );
    if let Some(ic) = &u.rank_ic {
        row(
            &mut out,
            "rank IC (mean, Spearman against the next day's returns)",
            format!(
                "{:.4} (std {:.4}, t {:.2}, ICIR {:.3}, {} dates)",
                ic.mean, ic.std, ic.t_stat, ic.icir, ic.dates
            ),
        );
    }
    if let Some(h) = u.top_bucket_hit_rate {
        row(
            &mut out,
            "top fifth of the forecasts beat the average",
            format!("{:.1}% of dates", 100.0 * h),
        );
    }
    out.push_str("</table><h2>Each symbol's contribution to the return</h2><table>");
    let mut by: Vec<_> = u.contributions.iter().collect();
    by.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    let widest = by
        .iter()
        .map(|c| c.contribution.abs())
        .filter(|x| x.is_finite())
        .fold(0.0_f64, f64::max);
    for c in by {
        let width = if widest > 0.0 && c.contribution.is_finite() {
            100.0 * c.contribution.abs() / widest
        } else {
            0.0
        };
        let colour = if c.contribution >= 0.0 {
            "#2e9e5b"
        } else {
            "#d2453b"
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{:+.2}%</td><td style=\"width:50%\"><div style=\"background:{colour};height:0.8em;width:{width:.1}%\"></div></td></tr>",
            esc(&c.symbol),
            100.0 * c.contribution
        );
    }
    out.push_str("</table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trade_table_lists_every_order_sorted_and_the_style_shows_each() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let trade = |entry: u32, exit: u32, ret: f64, side| TradeRow {
            entry: day(entry),
            exit: day(exit),
            ret,
            side,
        };
        use qts_backtest::portfolio::TradeSide::{Long, Short};
        let trades = [
            trade(2, 5, 0.01, Long),
            trade(8, 20, -0.03, Short),
            trade(22, 23, 0.05, Long),
        ];
        let html = sortable_trades(&trades, "<table><tr><th>#</th></tr>", &|k, t| {
            format!("<tr><td>{k}</td><td>{}</td></tr>", t.ret)
        });
        // Each body lists the trades' numbers in its order.
        let numbers = |id: &str| -> Vec<String> {
            let body = html
                .split(&format!("<tbody class=\"trades-{id}\">"))
                .nth(1)
                .unwrap();
            let body = &body[..body.find("</tbody>").unwrap()];
            body.split("<tr><td>")
                .skip(1)
                .map(|r| r[..r.find('<').unwrap()].to_string())
                .collect()
        };
        for (id, expected) in [
            ("order", ["1", "2", "3"]),
            ("best", ["3", "1", "2"]),
            ("worst", ["2", "1", "3"]),
            ("longest", ["2", "1", "3"]),
            ("shortest", ["3", "1", "2"]),
            ("side", ["1", "3", "2"]),
        ] {
            assert_eq!(numbers(id), expected, "{id}");
        }
        assert!(
            html.contains("<thead><tr><th>#</th></tr></thead>"),
            "{html}"
        );
        assert_eq!(html.matches(" checked>").count(), 1);
        // The page's style shows each order's body while its button is checked.
        for (id, _, _) in TRADE_ORDERS {
            assert!(
                crate::html::STYLE
                    .contains(&format!("#trades-{id}:checked~table tbody.trades-{id}")),
                "{id}"
            );
        }
    }

    #[test]
    fn every_definition_is_the_documented_one() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/backtest.md"),
        )
        .unwrap()
        .replace("\\|", "|")
        .replace('`', "");
        let definitions = definitions();
        assert!(definitions.len() >= 40, "{}", definitions.len());
        for (key, text) in &definitions {
            let documented = docs
                .replace("[overfitting.md](overfitting.md)", "overfitting.md")
                .lines()
                .filter(|l| {
                    l.split(" | ")
                        .next()
                        .is_some_and(|c| c.trim_start_matches("| ").split(", ").any(|k| k == *key))
                })
                .any(|row| row.contains(text));
            assert!(
                documented,
                "{key}: {text:?} is not its row in docs/backtest.md"
            );
        }
    }

    #[test]
    fn the_worst_drawdowns_are_deepest_first() {
        let dd = [0.0, -0.1, -0.3, 0.0, -0.05, 0.0, -0.5, -0.2, 0.0];
        assert_eq!(worst_drawdowns(&dd), [(6, 6, 7), (1, 2, 2), (4, 4, 4)]);
    }
}

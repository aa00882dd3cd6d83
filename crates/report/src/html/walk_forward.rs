//! The walk-forward report: the windows on a timeline, the metric in and out of sample per
//! window, the stitched out-of-sample equity against buy-and-hold, the chosen parameters over
//! time, the walk-forward efficiency, and the search's DSR and PBO with the λ histogram.

use std::fmt::Write as _;

use chrono::NaiveDate;
use qts_research::walk_forward::{WalkForwardReport, WindowResult};
use qts_stats::metrics::Metrics;

use super::{Frame, binned, esc, legend, page, table, ticks};

/// One row of `oos_equity.csv`: the day, the equity, buy-and-hold's equity.
pub type EquityRow = (NaiveDate, f64, f64);

fn day(v: &str) -> Option<NaiveDate> {
    v.parse().ok()
}

/// Train (grey) and test (blue) spans of every window on one date axis.
fn timeline(windows: &[WindowResult]) -> String {
    let spans: Vec<(NaiveDate, NaiveDate, NaiveDate, NaiveDate)> = windows
        .iter()
        .filter_map(|w| {
            Some((
                day(&w.train_start)?,
                day(&w.train_end)?,
                day(&w.test_start)?,
                day(&w.test_end)?,
            ))
        })
        .collect();
    let (Some(first), Some(last)) = (
        spans.iter().map(|s| s.0).min(),
        spans.iter().map(|s| s.3).max(),
    ) else {
        return String::new();
    };
    let total = (last - first).num_days().max(1) as f64;
    let (w, row) = (1020.0, 12.0);
    let h = 30.0 + row * spans.len() as f64;
    let x = |d: NaiveDate| 64.0 + (w - 74.0) * (d - first).num_days() as f64 / total;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"windows on a timeline\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (k, (a, b, c, d)) in spans.iter().enumerate() {
        let y = 4.0 + row * k as f64;
        let _ = write!(
            out,
            "<text x=\"56\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#5a6475\">{}</text>\
             <rect class=\"train\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#c9ced8\"><title>window {}: train {a} .. {b}</title></rect>\
             <rect class=\"test\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#3868d8\"><title>window {}: test {c} .. {d}</title></rect>",
            y + 9.0,
            k + 1,
            x(*a),
            (x(*b) - x(*a)).max(1.0),
            row - 3.0,
            k + 1,
            x(*c),
            (x(*d) - x(*c)).max(1.0),
            row - 3.0,
            k + 1,
        );
    }
    let _ = write!(
        out,
        "<text x=\"64\" y=\"{:.1}\" font-size=\"11\" fill=\"#5a6475\">{first}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6475\">{last}</text></svg>",
        h - 6.0,
        w - 10.0,
        h - 6.0
    );
    out
}

/// The maximised metric in and out of sample, window by window.
fn metric_bars(windows: &[WindowResult], metric: &str) -> String {
    let vals: Vec<(f64, f64)> = windows
        .iter()
        .map(|w| {
            (
                w.in_sample.unwrap_or(f64::NAN),
                w.out_of_sample.unwrap_or(f64::NAN),
            )
        })
        .collect();
    let finite = vals
        .iter()
        .flat_map(|(a, b)| [*a, *b])
        .filter(|x| x.is_finite());
    let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(l, h), x| (l.min(x), h.max(x)));
    let f = Frame::new(vals.len() + 1, lo, hi.max(lo + 1e-9));
    let mut out = String::new();
    f.open(&mut out, &format!("{metric} in and out of sample"));
    f.axes(&mut out, &ticks(lo, hi, |v| format!("{v:.2}")), &[]);
    let slot = (f.w - f.left - 10.0) / vals.len().max(1) as f64;
    for (i, (a, b)) in vals.iter().enumerate() {
        let x0 = f.left + slot * i as f64;
        for (v, dx, color, who) in [
            (*a, 0.1, "#9aa3b2", "in sample"),
            (*b, 0.5, "#3868d8", "out of sample"),
        ] {
            if !v.is_finite() {
                continue;
            }
            let (top, bottom) = (f.y(v.max(0.0)), f.y(v.min(0.0)));
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>window {} {who}: {v:.4}</title></rect>",
                x0 + slot * dx,
                slot * 0.38,
                (bottom - top).max(0.5),
                i + 1
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5a6475\">{}</text>",
            x0 + slot / 2.0,
            f.h - 8.0,
            i + 1
        );
    }
    out.push_str("</svg>");
    out
}

fn equity_chart(rows: &[EquityRow]) -> String {
    let days: Vec<NaiveDate> = rows.iter().map(|r| r.0).collect();
    let (a, b): (Vec<f64>, Vec<f64>) = rows.iter().map(|r| (r.1, r.2)).unzip();
    let all = a.iter().chain(&b).copied().filter(|x| x.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
        (l.min(x), h.max(x))
    });
    if !lo.is_finite() {
        return String::new();
    }
    let f = Frame::new(rows.len(), lo, hi);
    let mut out = String::new();
    f.open(
        &mut out,
        "stitched out-of-sample equity against buy-and-hold",
    );
    f.axes(&mut out, &ticks(lo, hi, super::compact), &days);
    f.line(&mut out, &b, "#9aa3b2", "buy and hold");
    f.line(&mut out, &a, "#3868d8", "walk-forward, out of sample");
    f.hover(
        &mut out,
        &days,
        &[("out of sample", &a), ("buy and hold", &b)],
        &|v| format!("{v:.2}"),
    );
    out.push_str("</svg>");
    out
}

/// Numeric chosen parameters as step lines, one chart each (a model's name is not drawn).
fn params_chart(windows: &[WindowResult]) -> String {
    let parsed: Vec<Vec<(String, String)>> = windows
        .iter()
        .map(|w| {
            w.params
                .split(';')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    let Some(first) = parsed.first() else {
        return String::new();
    };
    let mut out = String::new();
    let colors = ["#3868d8", "#c0392b", "#2e8b57", "#6b4fbb", "#b8860b"];
    let mut drawn = Vec::new();
    let mut series = Vec::new();
    for (name, _) in first {
        let v: Vec<f64> = parsed
            .iter()
            .map(|p| {
                p.iter()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        let distinct = v
            .iter()
            .filter(|x| x.is_finite())
            .any(|x| v.iter().any(|y| y.is_finite() && y != x));
        if v.iter().all(|x| x.is_finite()) && distinct {
            series.push((name.clone(), v));
        }
    }
    if series.is_empty() {
        return out;
    }
    let (lo, hi) = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(x), h.max(x))
        });
    let f = Frame::new(windows.len(), lo, hi);
    f.open(&mut out, "chosen parameters by window");
    f.axes(&mut out, &ticks(lo, hi, |v| format!("{v:.0}")), &[]);
    for (k, (name, v)) in series.iter().enumerate() {
        let c = colors[k % colors.len()];
        f.line(&mut out, v, c, name);
        drawn.push((c, name.as_str()));
    }
    out.push_str("</svg>");
    legend(&drawn) + &out
}

/// The mean rank IC of each test window's forecasts as a bar each side of zero (no script:
/// widths in the style).
fn ic_by_window(windows: &[WindowResult]) -> String {
    let widest = windows
        .iter()
        .filter_map(|w| w.rank_ic)
        .filter(|x| x.is_finite())
        .fold(0.0_f64, |a, x| a.max(x.abs()));
    let mut out = String::from(
        "<h2>Rank IC of each test window</h2><div class=\"sub\">mean over the window's dates of Spearman's correlation between the forecasts at a close and the next day's returns, across the symbols with a bar at both</div><table>",
    );
    for w in windows {
        let ic = w.rank_ic.filter(|x| x.is_finite());
        let width = match ic {
            Some(x) if widest > 0.0 => 50.0 * x.abs() / widest,
            _ => 0.0,
        };
        let (colour, side) = match ic {
            Some(x) if x < 0.0 => ("#d2453b", format!("margin-left:{:.1}%", 50.0 - width)),
            _ => ("#2e9e5b", "margin-left:50%".to_string()),
        };
        let _ = write!(
            out,
            "<tr><td>window {} ({} .. {})</td><td>{}</td><td style=\"width:50%\"><div style=\"background:{colour};height:0.8em;width:{width:.1}%;{side}\"></div></td></tr>",
            w.window,
            esc(&w.test_start),
            esc(&w.test_end),
            num(ic)
        );
    }
    out.push_str("</table>");
    out
}

/// A number with three decimals, `n/a` when there is none (or it is not finite).
fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("n/a".to_string(), |x| format!("{x:.3}"))
}

/// A fraction as a signed percentage, `n/a` when there is none.
fn pct(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("n/a".to_string(), |x| format!("{:+.1}%", 100.0 * x))
}

/// A metric of `m` as the JSON shows it (`null` when absent).
fn shown(m: &Metrics, key: &str) -> String {
    m.get(key).map_or("null".to_string(), ToString::to_string)
}

/// The report page of a walk-forward: its report, what was walked forward, on which data,
/// and its stitched equity (`walk_forward.json` and `oos_equity.csv` of a folder).
pub fn walk_forward_page(
    s: &WalkForwardReport,
    what: &str,
    data: &str,
    equity: &[EquityRow],
) -> String {
    let windows = &s.windows;
    let metric = s.maximize.key();
    let (first, last) = (
        equity.first().map(|r| r.0.to_string()).unwrap_or_default(),
        equity.last().map(|r| r.0.to_string()).unwrap_or_default(),
    );
    let (o, b) = (&s.out_of_sample, &s.buy_and_hold);
    let get = |m: &Metrics, k: &str| m.get(k).map(|v| v.as_f64());
    let mut body = format!(
        "<h1>Walk-forward of {}</h1><div class=\"sub\">{} windows · out of sample {first} .. {last} ({} bars) · each window chosen by {metric} on its train window only · data: {}</div>",
        esc(what),
        windows.len(),
        shown(o, "num_bars"),
        esc(data),
    );
    let _ = write!(
        body,
        "<div class=\"verdict\">Out of sample: {} total return against the price's own {} over the same days (held throughout, no costs: not a traded buy-and-hold); Sharpe {} vs {}; max drawdown {} vs {}; {} trades. Walk-forward efficiency {}.</div>",
        pct(get(o, "total_return")),
        pct(get(b, "total_return")),
        num(get(o, "sharpe_ratio")),
        num(get(b, "sharpe_ratio")),
        pct(get(o, "max_drawdown")),
        pct(get(b, "max_drawdown")),
        shown(o, "num_trades"),
        num(s.walk_forward_efficiency),
    );
    body.push_str("<h2>Windows (grey: train, blue: test)</h2>");
    body.push_str(&timeline(windows));
    body.push_str("<h2>Stitched out-of-sample equity</h2>");
    body.push_str(&legend(&[
        ("#3868d8", "walk-forward, out of sample"),
        ("#9aa3b2", "the price, held the same days (no costs)"),
    ]));
    body.push_str(&equity_chart(equity));
    let _ = write!(body, "<h2>{} in and out of sample</h2>", esc(metric));
    body.push_str(&legend(&[
        ("#9aa3b2", "in sample (train window)"),
        ("#3868d8", "out of sample (test window)"),
    ]));
    body.push_str(&metric_bars(windows, metric));
    let chosen = params_chart(windows);
    if !chosen.is_empty() {
        body.push_str("<h2>Chosen parameters over time</h2>");
        body.push_str(&chosen);
    }
    if let Some(ov) = &s.overfitting {
        let _ = write!(
            body,
            "<h2>Overfitting of the search</h2><div class=\"sub\">the whole grid ({} trials) over the out-of-sample span {} .. {}: deflated Sharpe ratio {}, probability of backtest overfitting {}</div>",
            ov.trials,
            esc(&ov.span.0),
            esc(&ov.span.1),
            num(ov.deflated_sharpe_ratio),
            num(ov.probability_of_backtest_overfitting),
        );
        if let Some(l) = &ov.lambda {
            body.push_str(&binned(
                "λ over the CSCV combinations (PBO: the share ≤ 0)",
                (l.low, l.high, &l.counts),
                &[(0.0, "λ = 0")],
                &|v| format!("{v:.2}"),
                "#6b4fbb",
            ));
        }
    }
    let ranked = windows.iter().any(|w| w.rank_ic.is_some());
    if ranked {
        body.push_str(&ic_by_window(windows));
    }
    if let Some(u) = &s.universe {
        body.push_str(&super::backtest::universe_section(u));
    }
    body.push_str("<h2>Every window</h2>");
    let mut rows = vec![vec![
        "window".to_string(),
        "train".into(),
        "test".into(),
        "chosen".into(),
        format!("{metric} in sample"),
        "out of sample".into(),
    ]];
    if ranked {
        rows[0].push("rank IC".into());
    }
    for w in windows {
        rows.push(vec![
            w.window.to_string(),
            format!("{} .. {}", w.train_start, w.train_end),
            format!("{} .. {}", w.test_start, w.test_end),
            w.params.clone(),
            num(w.in_sample),
            num(w.out_of_sample),
        ]);
        if ranked && let Some(row) = rows.last_mut() {
            row.push(num(w.rank_ic));
        }
    }
    body.push_str(&table(&rows));
    page("qts walk-forward", &body)
}

/// The page of a walk-forward just computed: `what` was walked forward, on `data`.
pub fn walk_forward_report_page(report: &WalkForwardReport, what: &str, data: &str) -> String {
    let rows: Vec<EquityRow> = report
        .oos_equity
        .iter()
        .filter_map(|(d, e, b)| Some((d.parse().ok()?, *e, *b)))
        .collect();
    walk_forward_page(report, what, data, &rows)
}

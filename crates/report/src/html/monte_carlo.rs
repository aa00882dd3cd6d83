//! The Monte Carlo report: the fan of equity paths (quantile bands), the distributions of
//! final equity, CAGR, Sharpe ratio and max drawdown with their intervals, and the settings.

use std::fmt::Write as _;

use qts_stats::monte_carlo::{Fan, Histogram, Interval, Report};

use super::{Frame, binned, esc, page, table, ticks};

fn pct(v: f64) -> String {
    format!("{:+.1}%", 100.0 * v)
}

fn money(v: f64) -> String {
    super::compact(v)
}

/// The fan chart: the 5–95% and 25–75% bands of the paths' equity and their median.
fn fan_chart(fan: &Fan, start: f64) -> String {
    let (bands, steps) = (&fan.bands, &fan.steps);
    let mut out = String::new();
    // A band with a value that is not finite (written as null) is not drawn.
    if bands.len() != 5
        || steps.is_empty()
        || bands
            .iter()
            .any(|b| b.len() != steps.len() || b.iter().any(|x| !x.is_finite()))
    {
        return out;
    }
    let lo = bands[0].iter().copied().fold(start, f64::min);
    let hi = bands[4].iter().copied().fold(start, f64::max);
    let f = Frame::new(steps.len(), lo, hi);
    f.open(&mut out, "fan of equity paths");
    f.axes(&mut out, &ticks(lo, hi, money), &[]);
    let area = |out: &mut String, a: &[f64], b: &[f64], fill: &str, name: &str| {
        let mut pts = String::new();
        for (i, v) in a.iter().enumerate() {
            let _ = write!(pts, "{:.1},{:.1} ", f.x(i), f.y(*v));
        }
        for (i, v) in b.iter().enumerate().rev() {
            let _ = write!(pts, "{:.1},{:.1} ", f.x(i), f.y(*v));
        }
        let _ = write!(
            out,
            "<polygon class=\"band\" fill=\"{fill}\" points=\"{}\"><title>{}</title></polygon>",
            pts.trim_end(),
            esc(name)
        );
    };
    area(
        &mut out,
        &bands[0],
        &bands[4],
        "#dce6fa",
        "5% .. 95% of paths",
    );
    area(
        &mut out,
        &bands[1],
        &bands[3],
        "#a9c0f0",
        "25% .. 75% of paths",
    );
    let y = f.y(start);
    let _ = write!(
        out,
        "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#5a6475\" stroke-dasharray=\"4 3\"><title>starting equity</title></line>",
        f.left,
        f.w - 10.0
    );
    f.line(&mut out, &bands[2], "#3868d8", "median path");
    let last = steps[steps.len() - 1];
    for (i, s) in steps.iter().enumerate() {
        if i == 0 || i + 1 == steps.len() || i == steps.len() / 2 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6475\">step {s}</text>",
                f.x(i),
                f.h - 8.0
            );
        }
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6475\">periods (of {last})</text>",
        f.w - 10.0,
        f.h - 20.0
    );
    out.push_str("</svg>");
    out
}

/// The report page of a `qts monte-carlo` result (or of its `monte_carlo.json`).
pub fn monte_carlo_page(r: &Report) -> String {
    let start = r.initial_equity;
    let mut body = format!(
        "<h1>Monte Carlo: {} paths, method {}</h1><div class=\"sub\">{} periods a path · seed {} · {:.0}% intervals · from equity {} · sample: {}</div>",
        r.paths,
        esc(r.method.into()),
        r.horizon,
        r.seed,
        100.0 * r.level,
        money(start),
        esc(if r.source.is_empty() {
            "the returns given"
        } else {
            &r.source
        }),
    );
    if let Some(fit) = &r.fitted {
        let _ = write!(
            body,
            "<div class=\"sub\">fitted: mean {:.6}, std {:.6}{}</div>",
            fit.mean,
            fit.std,
            fit.df
                .map_or(String::new(), |df| format!(", Student-t df {df:.2}"))
        );
    }
    let fe = &r.final_equity;
    let _ = write!(
        body,
        "<div class=\"verdict\">Final equity {} in {:.0}% of paths (median {}); a loss in {:.1}% of paths, a drawdown beyond {:.0}% in {:.1}%.</div>",
        format_args!("{} .. {}", money(fe.lower), money(fe.upper)),
        100.0 * r.level,
        money(fe.median),
        100.0 * r.prob_loss,
        100.0 * r.drawdown_threshold,
        100.0 * r.prob_drawdown_beyond,
    );
    body.push_str("<h2>Equity paths (bands of 5–95% and 25–75%, the median line)</h2>");
    body.push_str(&fan_chart(&r.fan, start));
    body.push_str("<h2>Intervals</h2>");
    let mut rows = vec![vec![
        "metric".to_string(),
        "mean".into(),
        "lower".into(),
        "median".into(),
        "upper".into(),
    ]];
    type Fmt = fn(f64) -> String;
    let h = &r.histograms;
    let metrics: [(&str, &Interval, Option<&Histogram>, Fmt); 6] = [
        (
            "final equity",
            &r.final_equity,
            Some(&h.final_equity),
            money,
        ),
        ("CAGR", &r.cagr, Some(&h.cagr), pct),
        ("mean return a period", &r.mean_return, None, |v| {
            format!("{:+.4}%", 100.0 * v)
        }),
        (
            "Sharpe ratio (annualised)",
            &r.sharpe_ratio,
            Some(&h.sharpe_ratio),
            |v| format!("{v:.3}"),
        ),
        ("max drawdown", &r.max_drawdown, Some(&h.max_drawdown), pct),
        ("annual volatility", &r.annual_volatility, None, pct),
    ];
    for (name, i, _, f) in &metrics {
        rows.push(vec![
            name.to_string(),
            f(i.mean),
            f(i.lower),
            f(i.median),
            f(i.upper),
        ]);
    }
    body.push_str(&table(&rows));
    body.push_str("<h2>Distributions over the paths (dashed: the interval's ends)</h2>");
    for (name, i, hist, f) in &metrics {
        let Some(hist) = hist else { continue };
        body.push_str(&binned(
            name,
            (hist.low, hist.high, &hist.counts),
            &[(i.lower, "lower"), (i.upper, "upper")],
            f,
            "#3868d8",
        ));
    }
    body.push_str("<h2>Settings</h2>");
    let mut settings = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = settings.as_object_mut() {
        o.remove("fan");
        o.remove("histograms");
    }
    body.push_str(&super::settings_table(&settings));
    page("qts Monte Carlo", &body)
}

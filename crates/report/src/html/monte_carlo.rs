//! The Monte Carlo report: the fan of equity paths (quantile bands), the distributions of
//! final equity, CAGR, Sharpe ratio and max drawdown with their intervals, and the settings.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Frame, binned, esc, page, table, ticks};

fn pct(v: f64) -> String {
    format!("{:+.1}%", 100.0 * v)
}

fn money(v: f64) -> String {
    format!("{v:.0}")
}

/// The fan chart: the 5–95% and 25–75% bands of the paths' equity and their median.
fn fan_chart(fan: &Value, start: f64) -> String {
    let bands: Vec<Vec<f64>> = fan["bands"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|q| {
                    q.as_array()
                        .map(|v| v.iter().filter_map(Value::as_f64).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    let steps: Vec<u64> = fan["steps"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let mut out = String::new();
    if bands.len() != 5 || steps.is_empty() || bands.iter().any(|b| b.len() != steps.len()) {
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
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6475\">{s}</text>",
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

/// The report page of a `qts monte-carlo` result (its JSON).
pub fn monte_carlo_page(r: &Value) -> String {
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let start = num(&r["initial_equity"]);
    let mut body = format!(
        "<h1>Monte Carlo: {} paths, method {}</h1><div class=\"sub\">{} periods a path · seed {} · {:.0}% intervals · from equity {} · sample: {}</div>",
        r["paths"],
        esc(r["method"].as_str().unwrap_or("?")),
        r["horizon"],
        r["seed"],
        100.0 * num(&r["level"]),
        money(start),
        esc(r["source"].as_str().unwrap_or("the returns given")),
    );
    if let Some(fit) = r.get("fitted").filter(|f| f.is_object()) {
        let _ = write!(
            body,
            "<div class=\"sub\">fitted: mean {:.6}, std {:.6}{}</div>",
            num(&fit["mean"]),
            num(&fit["std"]),
            fit["df"]
                .as_f64()
                .map_or(String::new(), |df| format!(", Student-t df {df:.2}"))
        );
    }
    let fe = &r["final_equity"];
    let _ = write!(
        body,
        "<div class=\"verdict\">Final equity {} in {:.0}% of paths (median {}); a loss in {:.1}% of paths, a drawdown beyond {:.0}% in {:.1}%.</div>",
        format_args!(
            "{} .. {}",
            money(num(&fe["lower"])),
            money(num(&fe["upper"]))
        ),
        100.0 * num(&r["level"]),
        money(num(&fe["median"])),
        100.0 * num(&r["prob_loss"]),
        100.0 * num(&r["drawdown_threshold"]),
        100.0 * num(&r["prob_drawdown_beyond"]),
    );
    body.push_str("<h2>Equity paths (bands of 5–95% and 25–75%, the median line)</h2>");
    body.push_str(&fan_chart(&r["fan"], start));
    body.push_str("<h2>Intervals</h2>");
    let mut rows = vec![vec![
        "metric".to_string(),
        "mean".into(),
        "lower".into(),
        "median".into(),
        "upper".into(),
    ]];
    type Fmt = fn(f64) -> String;
    let metrics: [(&str, &str, Fmt); 6] = [
        ("final_equity", "final equity", money),
        ("cagr", "CAGR", pct),
        ("mean_return", "mean return a period", |v| {
            format!("{:+.4}%", 100.0 * v)
        }),
        ("sharpe_ratio", "Sharpe ratio (annualised)", |v| {
            format!("{v:.3}")
        }),
        ("max_drawdown", "max drawdown", pct),
        ("annual_volatility", "annual volatility", pct),
    ];
    for (key, name, f) in metrics {
        let i = &r[key];
        rows.push(vec![
            name.to_string(),
            f(num(&i["mean"])),
            f(num(&i["lower"])),
            f(num(&i["median"])),
            f(num(&i["upper"])),
        ]);
    }
    body.push_str(&table(&rows));
    body.push_str("<h2>Distributions over the paths (dashed: the interval's ends)</h2>");
    for (key, name, f) in [metrics[0], metrics[1], metrics[3], metrics[4]] {
        let h = &r["histograms"][key];
        let counts: Vec<u64> = h["counts"]
            .as_array()
            .map(|c| c.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        body.push_str(&binned(
            name,
            (num(&h["low"]), num(&h["high"]), &counts),
            &[
                (num(&r[key]["lower"]), "lower"),
                (num(&r[key]["upper"]), "upper"),
            ],
            &f,
            "#3868d8",
        ));
    }
    body.push_str("<h2>Settings</h2><pre>");
    let mut settings = r.clone();
    if let Some(o) = settings.as_object_mut() {
        o.remove("fan");
        o.remove("histograms");
    }
    body.push_str(&esc(
        &serde_json::to_string_pretty(&settings).unwrap_or_default()
    ));
    body.push_str("</pre>");
    page("qts Monte Carlo", &body)
}

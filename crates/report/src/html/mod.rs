//! The HTML reports: one self-contained page per result (no script, font or image from
//! elsewhere: it opens offline and prints), its charts inline SVG drawn here. Hand-written SVG
//! rather than a plotting crate: lines, bars, bands and cells are a few hundred lines, and the
//! pages stay small and dependency-free. Long series are decimated for drawing only (at most
//! [`MAX_POINTS`] a line); every number shown comes from the full data.

mod backtest;
mod compare;
mod data_quality;
mod models;
mod monte_carlo;
mod walk_forward;

pub use backtest::{RunData, TradeRow, backtest_page};
pub use compare::{Banner, ComparedRun, compare_page, optimize_page, run_page, series_of};
pub use data_quality::{data_quality_page, universe_quality_page};
pub use models::{ModelColumn, models_page};
pub use monte_carlo::monte_carlo_page;
pub use walk_forward::{EquityRow, walk_forward_page, walk_forward_report_page};

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

use qts_stats::metrics::Unit;

/// The most points a drawn line has.
pub const MAX_POINTS: usize = 1500;

/// The most hover strips a line chart has (`Frame::hover`).
pub const HOVER_STRIPS: usize = 200;

pub(crate) const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}\
.sub{color:#5a6475}.verdict{font-size:16px;margin:12px 0;padding:10px 12px;background:#f3f6fb;border-left:4px solid #3868d8}.verdict.better{border-left-color:#2e8b57;background:#f0f8f3}.verdict.worse{border-left-color:#c0392b;background:#fbf1f0}\
table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right}th{text-align:left;color:#5a6475;font-weight:600}\
td:first-child{text-align:left}table.settings td.value{text-align:left;font-family:ui-monospace,monospace;word-break:break-all}.groups{display:flex;flex-wrap:wrap;gap:24px}.groups table{min-width:320px}\
svg{display:block;margin:8px 0}pre{background:#f6f7f9;padding:10px;overflow:auto;font-size:12px}\
.note{color:#8a5300}.lin{display:none}#linear:checked~.log{display:none}#linear:checked~.lin{display:block}\
.sortable input{position:absolute;opacity:0}.sortable span{margin-right:8px;color:#5a6475}.sortable label{cursor:pointer;display:inline-block;padding:2px 8px;margin:0 4px 6px 0;border:1px solid #ccd3de;border-radius:4px}.sortable input:checked+label{background:#e8eef8;border-color:#3868d8}.sortable tbody{display:none}#trades-order:checked~table tbody.trades-order,#trades-best:checked~table tbody.trades-best,#trades-worst:checked~table tbody.trades-worst,#trades-longest:checked~table tbody.trades-longest,#trades-shortest:checked~table tbody.trades-shortest,#trades-side:checked~table tbody.trades-side{display:table-row-group}\
@media print{body{margin:0}h2{break-after:avoid}svg{break-inside:avoid}}";

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Settings as a person reads them: one row per setting (`sizing.target_volatility | 0.15`),
/// nested objects flattened with dots, lists of plain values joined; every key and value
/// escaped (a result folder is untrusted input).
pub(crate) fn settings_table(value: &serde_json::Value) -> String {
    fn rows(v: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
        use serde_json::Value as J;
        match v {
            J::Object(map) if !map.is_empty() => {
                for (k, x) in map {
                    let key = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    rows(x, &key, out);
                }
            }
            J::Array(items) if items.iter().all(|x| !x.is_object() && !x.is_array()) => {
                let text: Vec<String> = items.iter().map(plain).collect();
                out.push((at.to_string(), text.join(", ")));
            }
            other => out.push((at.to_string(), plain(other))),
        }
    }
    fn plain(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "-".into(),
            other => other.to_string(),
        }
    }
    let mut out = Vec::new();
    rows(value, "", &mut out);
    let mut html = String::from("<table class=\"settings\">");
    for (k, v) in out {
        html.push_str(&format!(
            "<tr><td>{}</td><td class=\"value\">{}</td></tr>",
            esc(&k),
            esc(&v)
        ));
    }
    html.push_str("</table>");
    html
}

pub(crate) fn fmt(v: Option<&qts_stats::metrics::Value>, unit: Unit) -> String {
    crate::render::in_unit(v.map_or(f64::NAN, |v| v.as_f64()), unit)
}

/// Indices of at most `MAX_POINTS` points spread over `n` (first and last kept).
pub(crate) fn decimate(n: usize) -> Vec<usize> {
    if n <= MAX_POINTS {
        return (0..n).collect();
    }
    let step = (n - 1) as f64 / (MAX_POINTS - 1) as f64;
    (0..MAX_POINTS)
        .map(|i| ((i as f64 * step).round() as usize).min(n - 1))
        .collect()
}

/// A chart's frame: the plotting area and axis mapping.
pub(crate) struct Frame {
    pub(crate) w: f64,
    pub(crate) h: f64,
    pub(crate) left: f64,
    pub(crate) top: f64,
    pub(crate) y0: f64,
    pub(crate) y1: f64,
    pub(crate) n: usize,
}

impl Frame {
    pub(crate) fn new(n: usize, lo: f64, hi: f64) -> Frame {
        let (y0, y1) = if (hi - lo).abs() < 1e-12 {
            (lo - 1.0, hi + 1.0)
        } else {
            (lo, hi)
        };
        Frame {
            w: 1020.0,
            h: 240.0,
            left: 64.0,
            top: 12.0,
            y0,
            y1,
            n: n.max(2),
        }
    }
    pub(crate) fn x(&self, i: usize) -> f64 {
        self.left + (self.w - self.left - 10.0) * i as f64 / (self.n - 1) as f64
    }
    pub(crate) fn y(&self, v: f64) -> f64 {
        self.top + (self.h - self.top - 28.0) * (1.0 - (v - self.y0) / (self.y1 - self.y0))
    }
    pub(crate) fn open(&self, out: &mut String, title: &str) {
        let _ = write!(
            out,
            "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
            self.w,
            self.h,
            esc(title)
        );
    }
    /// Horizontal grid lines with labels at `ticks`, and year labels along the bottom.
    pub(crate) fn axes(&self, out: &mut String, ticks: &[(f64, String)], days: &[NaiveDate]) {
        for (v, label) in ticks {
            let y = self.y(*v);
            let _ = write!(
                out,
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e7ee\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6475\">{}</text>",
                self.left,
                self.w - 10.0,
                self.left - 6.0,
                y + 4.0,
                esc(label)
            );
        }
        let mut last_year = None;
        for (i, d) in days.iter().enumerate() {
            if last_year != Some(d.year()) {
                if last_year.is_some() {
                    let x = self.x(i);
                    let _ = write!(
                        out,
                        "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6475\">{}</text>",
                        self.h - 8.0,
                        d.year()
                    );
                }
                last_year = Some(d.year());
            }
        }
    }
    /// Hover values without a script: up to [`HOVER_STRIPS`] transparent strips across the
    /// plot, each over the days nearest it, whose tooltip (an SVG `<title>`) gives the day and
    /// each series' value there, as `label` writes it (the values as they are, not as drawn:
    /// a log-scale line's hover reads money).
    pub(crate) fn hover(
        &self,
        out: &mut String,
        days: &[NaiveDate],
        series: &[(&str, &[f64])],
        label: &dyn Fn(f64) -> String,
    ) {
        let n = days.len();
        if n == 0 {
            return;
        }
        let strips = n.min(HOVER_STRIPS);
        let at = |k: usize| {
            if strips == 1 {
                0
            } else {
                (k * (n - 1) + (strips - 1) / 2) / (strips - 1)
            }
        };
        let (top, height) = (self.top, self.h - self.top - 28.0);
        for k in 0..strips {
            let i = at(k);
            let edge = |j: usize| self.x(j);
            let left = if k == 0 {
                self.left
            } else {
                (edge(at(k - 1)) + edge(i)) / 2.0
            };
            let right = if k + 1 == strips {
                self.w - 10.0
            } else {
                (edge(i) + edge(at(k + 1))) / 2.0
            };
            let mut text = days[i].to_string();
            for (name, values) in series {
                if let Some(v) = values.get(i).filter(|v| v.is_finite()) {
                    let _ = write!(text, " · {}: {}", name, label(*v));
                }
            }
            let _ = write!(
                out,
                "<rect class=\"hover\" x=\"{left:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"#000\" fill-opacity=\"0\"><title>{}</title></rect>",
                (right - left).max(0.5),
                esc(&text)
            );
        }
    }

    pub(crate) fn line(&self, out: &mut String, values: &[f64], color: &str, name: &str) {
        let mut pts = String::new();
        for i in decimate(values.len()) {
            if values[i].is_finite() {
                let _ = write!(pts, "{:.1},{:.1} ", self.x(i), self.y(values[i]));
            }
        }
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"><title>{}</title></polyline>",
            pts.trim_end(),
            esc(name)
        );
    }
}

/// A round step that cuts `span` into about four: 1, 2, 2.5 or 5 times a power of ten.
fn nice_step(span: f64) -> f64 {
    let raw = span / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|m| *m >= norm - 1e-12)
        .unwrap_or(10.0)
        * mag
}

/// Axis ticks at round values between `lo` and `hi` (a linear axis), each labelled by `label`.
pub(crate) fn ticks(lo: f64, hi: f64, label: impl Fn(f64) -> String) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![(lo, label(lo))];
    }
    let step = nice_step(hi - lo);
    let first = (lo / step).ceil();
    (0..12)
        .map(|k| (first + f64::from(k)) * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        // -0 reads as 0.
        .map(|v| (v, label(if v.abs() < step * 1e-9 { 0.0 } else { v })))
        .collect()
}

/// Ticks of a log axis (values are logarithms): round values of the real scale between
/// `exp(lo)` and `exp(hi)`, placed at their logarithms, each labelled by `label` of the real
/// value.
pub(crate) fn log_ticks(lo: f64, hi: f64, label: impl Fn(f64) -> String) -> Vec<(f64, String)> {
    let (a, b) = (lo.exp(), hi.exp());
    if !(a.is_finite() && b.is_finite()) || b <= a {
        return ticks(lo, hi, |v| label(v.exp()));
    }
    let values: Vec<f64> = if b / a > 20.0 {
        // Wide ranges: 1, 2 and 5 times the powers of ten.
        let mut out = Vec::new();
        let mut p = 10f64.powf(a.log10().floor());
        while p <= b && out.len() < 30 {
            for m in [1.0, 2.0, 5.0] {
                let v = m * p;
                if v >= a && v <= b {
                    out.push(v);
                }
            }
            p *= 10.0;
        }
        if out.len() > 6 {
            out.retain(|v| {
                (v.log10().fract()).abs() < 1e-9 || (v.log10().fract() - 1.0).abs() < 1e-9
            });
        }
        out
    } else {
        ticks(a, b, |v| v.to_string())
            .into_iter()
            .map(|t| t.0)
            .collect()
    };
    values.into_iter().map(|v| (v.ln(), label(v))).collect()
}

/// A fraction as an axis percentage: `-7.5%`, `20%`.
pub(crate) fn percent(v: f64) -> String {
    let s = format!("{:.1}", 100.0 * v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{}%", if s == "-0" { "0" } else { s })
}

/// A number short enough for an axis: `374k`, `1.25M`, `0.85`, `12`.
pub(crate) fn compact(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e9 {
        format!("{}B", trim(format!("{:.2}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        trim(format!("{v:.2}"))
    }
}

pub(crate) fn legend(items: &[(&str, &str)]) -> String {
    let mut out = String::from("<div class=\"sub\">");
    for (color, name) in items {
        let _ = write!(
            out,
            "<span style=\"color:{color}\">&#9632;</span> {} &nbsp; ",
            esc(name)
        );
    }
    out.push_str("</div>");
    out
}

/// A diverging colour: green for `r > 0`, red below, paler towards 0 (`scale` is full).
pub(crate) fn color(r: f64, scale: f64) -> String {
    let t = (r / scale).clamp(-1.0, 1.0);
    let (r0, g0, b0) = if t >= 0.0 {
        (46, 139, 87)
    } else {
        (192, 57, 43)
    };
    let a = t.abs();
    let mix = |c: i32| (255.0 + (f64::from(c) - 255.0) * a).round() as i32;
    format!("rgb({},{},{})", mix(r0), mix(g0), mix(b0))
}

pub(crate) fn histogram(values: &[f64], title: &str, color: &str) -> String {
    let bins = 40;
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(*x), h.max(*x))
        });
    let mut counts = vec![0usize; bins];
    if hi > lo {
        for x in &finite {
            let k = (((x - lo) / (hi - lo)) * bins as f64).floor() as usize;
            counts[k.min(bins - 1)] += 1;
        }
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (w, h) = (500.0, 180.0);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"49%\" style=\"display:inline-block\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"8\" y=\"14\" font-size=\"12\" fill=\"#5a6475\">{} ({} values, {:+.2}% .. {:+.2}%)</text>",
        esc(title),
        esc(title),
        finite.len(),
        100.0 * lo.min(0.0),
        100.0 * hi.max(0.0)
    );
    let bw = (w - 20.0) / bins as f64;
    for (k, c) in counts.iter().enumerate() {
        let bh = (h - 40.0) * *c as f64 / top;
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{c}</title></rect>",
            10.0 + bw * k as f64,
            h - 20.0 - bh,
            (bw - 1.0).max(0.5)
        );
    }
    out.push_str("</svg>");
    out
}

/// Prices on a log scale (a price at or below zero as a tiny one) and the finite range of
/// them: what a price chart draws.
pub(crate) fn log_prices(close: &[f64]) -> (Vec<f64>, f64, f64) {
    let logs: Vec<f64> = close.iter().map(|c| c.max(1e-9).ln()).collect();
    let (lo, hi) = logs
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(x), h.max(x))
        });
    (logs, lo, hi)
}

/// A histogram of precomputed equal-width bins over `[low, high]`, with vertical marks
/// (an interval's ends, a threshold) at values; `label` formats the axis values.
pub(crate) fn binned(
    title: &str,
    (low, high, counts): (f64, f64, &[u64]),
    marks: &[(f64, &str)],
    label: &dyn Fn(f64) -> String,
    color: &str,
) -> String {
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (w, h) = (500.0, 200.0);
    let total: u64 = counts.iter().sum();
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"49%\" style=\"display:inline-block\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"8\" y=\"14\" font-size=\"12\" fill=\"#5a6475\">{} ({total} values)</text>",
        esc(title),
        esc(title),
    );
    let span = (high - low).max(1e-300);
    let x = |v: f64| 10.0 + (w - 20.0) * (v - low) / span;
    let bw = (w - 20.0) / counts.len().max(1) as f64;
    for (k, c) in counts.iter().enumerate() {
        let bh = (h - 50.0) * *c as f64 / top;
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{} .. {}: {c}</title></rect>",
            10.0 + bw * k as f64,
            h - 30.0 - bh,
            (bw - 1.0).max(0.5),
            esc(&label(low + span * k as f64 / counts.len() as f64)),
            esc(&label(low + span * (k + 1) as f64 / counts.len() as f64)),
        );
    }
    for (v, name) in marks {
        if v.is_finite() && *v >= low && *v <= high {
            let _ = write!(
                out,
                "<line class=\"mark\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"20\" y2=\"{1:.1}\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"><title>{2}: {3}</title></line>",
                x(*v),
                h - 30.0,
                esc(name),
                esc(&label(*v))
            );
        }
    }
    for (v, anchor) in [(low, "start"), (high, "end")] {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#5a6475\">{}</text>",
            x(v),
            h - 14.0,
            esc(&label(v))
        );
    }
    out.push_str("</svg>");
    out
}

/// A table of rows of cells, the first row the header.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>");
    for (i, row) in rows.iter().enumerate() {
        out.push_str("<tr>");
        for c in row {
            let tag = if i == 0 { "th" } else { "td" };
            let _ = write!(out, "<{tag}>{}</{tag}>", esc(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// A whole page: `<head>` with the style, `body`, and the closing tags.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_labelled_at_round_values() {
        let t = ticks(93_412.0, 374_320.0, compact);
        let labels: Vec<&str> = t.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(labels, ["100k", "200k", "300k"]);
        let t = ticks(-0.37, 0.0, |v| format!("{:.0}%", 100.0 * v));
        assert_eq!(
            t.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
            ["-30%", "-20%", "-10%", "0%"]
        );
        // A log axis: round real values placed at their logarithms.
        let t = log_ticks(100_000f64.ln(), 1_900_000f64.ln(), compact);
        assert!(t.iter().any(|x| x.1 == "1M"), "{t:?}");
        for (y, label) in &t {
            assert!(
                *y >= 100_000f64.ln() - 1e-9 && *y <= 1_900_000f64.ln() + 1e-9,
                "{label}"
            );
        }
        assert_eq!(compact(1_250_000.0), "1.25M");
        assert_eq!(compact(0.85), "0.85");
        assert_eq!(compact(12.0), "12");
        assert_eq!(percent(-0.075), "-7.5%");
        assert_eq!(percent(0.2), "20%");
    }

    #[test]
    fn settings_read_as_rows_escaped() {
        let v = serde_json::json!({
            "sizing": {"method": "volatility_scaled", "target_volatility": 0.15},
            "symbols": ["A", "B"],
            "note": "<script>x</script>",
            "none": null
        });
        let t = settings_table(&v);
        assert!(
            t.contains("<tr><td>sizing.method</td><td class=\"value\">volatility_scaled</td></tr>"),
            "{t}"
        );
        assert!(
            t.contains("<td>sizing.target_volatility</td><td class=\"value\">0.15</td>"),
            "{t}"
        );
        assert!(t.contains("<td class=\"value\">A, B</td>"), "{t}");
        assert!(
            t.contains("&lt;script&gt;") && !t.contains("<script>"),
            "{t}"
        );
        assert!(t.contains("<td>none</td><td class=\"value\">-</td>"), "{t}");
    }

    #[test]
    fn decimation_keeps_the_ends() {
        let idx = decimate(10_000);
        assert_eq!(idx.len(), MAX_POINTS);
        assert_eq!((idx[0], idx[MAX_POINTS - 1]), (0, 9_999));
    }
}

//! The data-quality report of `qts data validate FILE --report FILE.html`: the price (log scale)
//! and volume with every finding marked on its day, the findings table, and a calendar of the
//! NYSE trading days with and without a bar.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use qts_data::BarSeries;
use qts_data::validate::Report;

use super::{Frame, compact, esc, legend, log_ticks, page, ticks};

/// Colour of each check's marks.
fn check_color(check: &str) -> &'static str {
    match check {
        "outliers_zscore" => "#c0392b",
        "outliers_iqr" => "#e67e22",
        "splits" => "#6b4fbb",
        "price_consistency" => "#b8860b",
        "duplicates" | "order" => "#1b9aaa",
        "non_trading_days" => "#2e8b57",
        _ => "#5a6475",
    }
}

/// The report page of `bars` (read from `source`) and their validation `report`.
pub fn data_quality_page(source: &str, bars: &BarSeries, report: &Report) -> String {
    let days: Vec<NaiveDate> = bars.time.iter().map(|t| t.date()).collect();
    // Source row → bar index, to put a finding's rows on the chart.
    let index: BTreeMap<usize, usize> = (0..bars.len()).map(|i| (bars.row(i), i)).collect();
    let s = report.summary();
    let range = match (report.first, report.last) {
        (Some(a), Some(b)) => format!("{} .. {}", a.date(), b.date()),
        _ => "-".into(),
    };
    let mut body = format!(
        "<h1>Data quality: {}</h1><div class=\"sub\">{} bars · {range} · {} errors, {} warnings, {} infos</div>",
        esc(source),
        report.bars,
        s.errors,
        s.warnings,
        s.infos
    );
    let _ = write!(
        body,
        "<div class=\"verdict\">{}</div>",
        if report.findings.is_empty() {
            "Every check passed.".to_string()
        } else {
            format!(
                "{} finding(s); the worst is {}.",
                report.findings.len(),
                report
                    .worst()
                    .map_or("none".to_string(), |w| format!("{w:?}").to_lowercase())
            )
        }
    );
    // Price, log scale, with marks.
    let (logs, lo, hi) = super::log_prices(&bars.close);
    let mut marked = Vec::new();
    if lo.is_finite() {
        body.push_str("<h2>Close (log scale) with the findings marked</h2>");
        let f = Frame::new(bars.len(), lo, hi);
        let mut svg = String::new();
        f.open(&mut svg, "close with findings");
        f.axes(&mut svg, &log_ticks(lo, hi, compact), &days);
        f.line(&mut svg, &logs, "#3868d8", "close");
        for finding in &report.findings {
            let check = finding.check.to_string();
            let c = check_color(&check);
            let mut any = false;
            for row in &finding.all_rows {
                if let Some(&i) = index.get(row) {
                    any = true;
                    let _ = write!(
                        svg,
                        "<circle class=\"finding\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\"><title>{check}: row {row}, {}</title></circle>",
                        f.x(i),
                        f.y(logs[i]),
                        days[i]
                    );
                }
            }
            for d in &finding.days {
                let i = days
                    .partition_point(|x| x < d)
                    .min(bars.len().saturating_sub(1));
                any = true;
                let _ = write!(
                    svg,
                    "<line class=\"finding\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"{c}\" opacity=\"0.5\"><title>{check}: no bar on {d}</title></line>",
                    f.x(i),
                    f.h - 40.0,
                    f.h - 28.0
                );
            }
            if any && !marked.iter().any(|(_, n): &(&str, String)| *n == check) {
                marked.push((c, check));
            }
        }
        svg.push_str("</svg>");
        let items: Vec<(&str, &str)> = marked.iter().map(|(c, n)| (*c, n.as_str())).collect();
        if !items.is_empty() {
            body.push_str(&legend(&items));
        }
        body.push_str(&svg);
        // Volume.
        let top = bars.volume.iter().copied().fold(0.0, f64::max);
        body.push_str("<h2>Volume</h2>");
        let f = Frame::new(bars.len(), 0.0, top.max(1.0));
        let mut svg = String::new();
        f.open(&mut svg, "volume");
        f.axes(&mut svg, &ticks(0.0, top, |v| format!("{:.2e}", v)), &days);
        f.line(&mut svg, &bars.volume, "#9aa3b2", "volume");
        svg.push_str("</svg>");
        body.push_str(&svg);
    }
    body.push_str("<h2>Findings</h2>");
    if report.findings.is_empty() {
        body.push_str("<div class=\"sub\">none: every check passed</div>");
    } else {
        body.push_str(
            "<table><tr><th>severity</th><th>check</th><th>count</th><th>finding</th></tr>",
        );
        for f in &report.findings {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
                f.severity,
                f.check,
                f.count,
                esc(&f.message)
            );
        }
        body.push_str("</table>");
    }
    body.push_str(&calendar(&days, report));
    page(&format!("qts data quality: {source}"), &body)
}

/// Each year a row of weeks (columns) × weekdays: a bar (green), a missing trading day (red).
fn calendar(days: &[NaiveDate], report: &Report) -> String {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return String::new();
    };
    let missing: Vec<NaiveDate> = report
        .findings
        .iter()
        .flat_map(|f| f.days.iter().copied())
        .collect();
    let (cell, gap) = (9.0, 2.0);
    let years: Vec<i32> = (first.year()..=last.year()).collect();
    let year_h = 5.0 * (cell + gap) + 14.0;
    let mut out = format!(
        "<h2>Trading days: with a bar (green) and missing (red)</h2><div class=\"sub\">{2} missing NYSE trading days</div><svg class=\"chart\" viewBox=\"0 0 {0:.0} {1:.0}\" width=\"{0:.0}\" role=\"img\" aria-label=\"missing-days calendar\" xmlns=\"http://www.w3.org/2000/svg\">",
        50.0 + 54.0 * (cell + gap),
        year_h * years.len() as f64,
        missing.len(),
    );
    let put = |out: &mut String, d: NaiveDate, fill: &str, what: &str| {
        let row = years.iter().position(|y| *y == d.year()).unwrap_or(0) as f64;
        let wd = d.weekday().num_days_from_monday();
        if wd > 4 {
            return;
        }
        let jan1 = NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d);
        let week = (d.ordinal0() + jan1.weekday().num_days_from_monday()) / 7;
        let _ = write!(
            out,
            "<rect class=\"{what}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"{fill}\"><title>{d}: {what}</title></rect>",
            50.0 + f64::from(week) * (cell + gap),
            row * year_h + 12.0 + f64::from(wd) * (cell + gap)
        );
    };
    for (k, y) in years.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"40\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6475\">{y}</text>",
            k as f64 * year_h + 12.0 + 2.5 * (cell + gap)
        );
    }
    for d in days {
        put(&mut out, *d, "#b7dfc4", "bar");
    }
    for d in &missing {
        put(&mut out, *d, "#c0392b", "missing");
    }
    out.push_str("</svg>");
    out
}

/// The data-quality page of a universe (`source` naming its files): a row per symbol — its
/// bars, first and last day, findings by severity, the worst — then every finding, symbol by
/// symbol. `reports` holds each symbol's validation of the bars it has.
pub fn universe_quality_page(source: &str, reports: &[Report]) -> String {
    let (mut errors, mut warnings) = (0, 0);
    let mut rows = String::new();
    for r in reports {
        let s = r.summary();
        errors += s.errors;
        warnings += s.warnings;
        let day =
            |t: Option<chrono::NaiveDateTime>| t.map_or("-".to_string(), |t| t.date().to_string());
        let _ = write!(
            rows,
            "<tr><td style=\"text-align:left\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.source),
            r.bars,
            day(r.first),
            day(r.last),
            s.errors,
            s.warnings,
            s.infos,
            r.worst()
                .map_or("none".to_string(), |w| format!("{w:?}").to_lowercase())
        );
    }
    let mut body = format!(
        "<h1>Data quality: {}</h1><div class=\"sub\">{} symbols · {errors} errors, {warnings} warnings · each symbol validated on the bars it has (before its first bar and after its last it is not in the universe)</div>",
        esc(source),
        reports.len()
    );
    body.push_str("<h2>Symbols</h2><table><tr><th>symbol</th><th>bars</th><th>first</th><th>last</th><th>errors</th><th>warnings</th><th>infos</th><th>worst</th></tr>");
    body.push_str(&rows);
    body.push_str("</table><h2>Findings</h2>");
    if reports.iter().all(|r| r.findings.is_empty()) {
        body.push_str("<div class=\"sub\">none: every check passed for every symbol</div>");
    } else {
        body.push_str("<table><tr><th>symbol</th><th>severity</th><th>check</th><th>count</th><th>finding</th></tr>");
        for r in reports {
            for f in &r.findings {
                let _ = write!(
                    body,
                    "<tr><td style=\"text-align:left\">{}</td><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
                    esc(&r.source),
                    f.severity,
                    f.check,
                    f.count,
                    esc(&f.message)
                );
            }
        }
        body.push_str("</table>");
    }
    page(&format!("qts data quality: {source}"), &body)
}

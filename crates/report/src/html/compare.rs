//! The comparison dashboard (several backtests: equity together, metrics side by side with the
//! best marked, the correlation of their daily returns, each Sharpe ratio tested against the
//! first's) and the optimisation page (the metric over two parameters as a heatmap, the λ
//! histogram of its PBO).

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Frame, binned, color, compact, esc, legend, log_ticks, page};
use crate::folder::{OptimizeSummary, Stats, TrialRecord};
use qts_stats::compare::{Comparison, RunSeries};
use qts_stats::metrics::{Metric, Value as MetricValue};
use qts_stats::significance::Verdict;

/// A run on the comparison page: its equity curve and its `stats.json`.
#[derive(Debug, Clone)]
pub struct ComparedRun {
    /// The curve the comparison aligns.
    pub series: RunSeries,
    /// What the page shows of it.
    pub stats: Stats,
}

const COLORS: [&str; 8] = [
    "#3868d8", "#c0392b", "#2e8b57", "#6b4fbb", "#b8860b", "#1b9aaa", "#8e44ad", "#5a6475",
];

/// Headline metrics of the dashboard: the metric, its short label here, whether higher is
/// better, whether it shows as a percentage.
const HEADLINE: [(Metric, &str, bool, bool); 12] = [
    (Metric::TotalReturn, "total return", true, true),
    (Metric::Cagr, "CAGR", true, true),
    (Metric::AnnualVolatility, "annual volatility", false, true),
    (Metric::SharpeRatio, "Sharpe", true, false),
    (Metric::SortinoRatio, "Sortino", true, false),
    (Metric::CalmarRatio, "Calmar", true, false),
    (Metric::MaxDrawdown, "max drawdown", true, true),
    (Metric::ProbabilisticSharpeRatio, "PSR", true, false),
    (Metric::WinRate, "win rate", true, true),
    (Metric::ProfitFactor, "profit factor", true, false),
    (Metric::ExposureTime, "time in the market", true, true),
    (Metric::NumTrades, "trades", true, false),
];

/// Equity curves as growth of 1 on one date axis.
fn equity_chart(runs: &[RunSeries]) -> String {
    let mut days: Vec<NaiveDate> = runs.iter().flat_map(|r| r.days.iter().copied()).collect();
    days.sort_unstable();
    days.dedup();
    let lines: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| {
            let start = r.equity.first().copied().unwrap_or(1.0);
            let mut out = vec![f64::NAN; days.len()];
            for (d, e) in r.days.iter().zip(&r.equity) {
                if let Ok(i) = days.binary_search(d) {
                    out[i] = (e / start).max(1e-9).ln();
                }
            }
            out
        })
        .collect();
    let all = lines.iter().flatten().copied().filter(|x| x.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
        (l.min(x), h.max(x))
    });
    if !lo.is_finite() {
        return String::new();
    }
    let f = Frame::new(days.len(), lo, hi);
    let mut out = String::new();
    f.open(&mut out, "equity curves, growth of 1, log scale");
    f.axes(&mut out, &log_ticks(lo, hi, compact), &days);
    for (k, (r, l)) in runs.iter().zip(&lines).enumerate() {
        f.line(&mut out, l, COLORS[k % COLORS.len()], &r.name);
    }
    // Hover: each run's growth of 1 (the lines are its logarithm).
    let growth: Vec<Vec<f64>> = lines
        .iter()
        .map(|l| l.iter().map(|x| x.exp()).collect())
        .collect();
    let named: Vec<(&str, &[f64])> = runs
        .iter()
        .zip(&growth)
        .map(|(r, g)| (r.name.as_str(), g.as_slice()))
        .collect();
    f.hover(&mut out, &days, &named, &|v| format!("{v:.3}"));
    out.push_str("</svg>");
    out
}

/// A metric's value, finite, or `None`.
fn finite(v: Option<&MetricValue>) -> Option<f64> {
    v.map(MetricValue::as_f64).filter(|x| x.is_finite())
}

fn cell(v: Option<&MetricValue>, percent: bool) -> String {
    match (v, finite(v)) {
        (_, Some(x)) if percent => format!("{:+.2}%", 100.0 * x),
        (Some(MetricValue::Count(_)), Some(x)) => format!("{x:.0}"),
        (_, Some(x)) => format!("{x:.3}"),
        (_, None) => "-".into(),
    }
}

/// The curves of `compared`, in order: what [`qts_stats::compare::compare`] aligns.
pub fn series_of(compared: &[ComparedRun]) -> Vec<RunSeries> {
    compared.iter().map(|r| r.series.clone()).collect()
}

/// A verdict shown above a page's numbers: the side it points to (its colour) and its words.
#[derive(Debug, Clone)]
pub struct Banner {
    /// Better, worse or not distinguishable.
    pub verdict: Verdict,
    /// The sentence.
    pub text: String,
}

impl Banner {
    /// The banner as HTML (the text escaped).
    pub fn html(&self) -> String {
        let (class, word) = match self.verdict {
            Verdict::Better => ("verdict better", "Better"),
            Verdict::Worse => ("verdict worse", "Worse"),
            Verdict::NotDistinguishable => ("verdict even", "Not distinguishable"),
        };
        format!(
            "<div class=\"{class}\" role=\"status\"><b>Verdict: {word}.</b> {}</div>",
            esc(&self.text)
        )
    }
}

/// The terms a run traded under, from its `stats.json` settings (`-` when they are not there).
fn terms(stats: &Stats) -> String {
    serde_json::from_value::<qts_backtest::engine::ActiveSettings>(stats.settings.clone())
        .map_or_else(|_| "-".into(), |s| s.terms())
}

/// The price basis a run read its bars on, from its settings (`-` when they are not there).
fn prices(stats: &Stats) -> String {
    serde_json::from_value::<qts_backtest::engine::ActiveSettings>(stats.settings.clone())
        .map_or_else(
            |_| "-".into(),
            |s| {
                let cash = s.dividends || s.price_basis == qts_data::actions::Basis::TotalReturn;
                format!(
                    "{}{}",
                    s.price_basis.describe(),
                    if cash {
                        ""
                    } else {
                        ", dividends off (backtest.dividends: false)"
                    }
                )
            },
        )
}

/// The comparison dashboard of `compared` (the first is the reference of the tests), under
/// `banner` when there is a verdict to show.
pub fn compare_page(compared: &[ComparedRun], c: &Comparison, banner: Option<&Banner>) -> String {
    page("qts comparison", &compare_body(compared, c, banner))
}

/// `qts run`'s page: the comparison of the model (first) with its baselines under the verdict's
/// `banner`, then the model's own tearsheet — its drawdowns and monthly returns out of sample,
/// and a universe's holdings and statistics.
pub fn run_page(
    compared: &[ComparedRun],
    c: &Comparison,
    banner: Option<&Banner>,
    universe: Option<&qts_backtest::universe::UniverseStats>,
) -> String {
    let mut body = compare_body(compared, c, banner);
    if let Some(model) = series_of(compared).first() {
        body.push_str(&super::backtest::model_tearsheet(
            &model.days,
            &model.equity,
            universe,
        ));
    }
    page("qts run", &body)
}

fn compare_body(compared: &[ComparedRun], c: &Comparison, banner: Option<&Banner>) -> String {
    let runs = series_of(compared);
    let runs = runs.as_slice();
    let mut body = format!(
        "<h1>{} backtests compared</h1><div class=\"sub\">returns compared on the {} days all of them traded: {} .. {} · the first run is the reference of the Sharpe tests</div>",
        runs.len(),
        c.periods,
        esc(&c.common.0),
        esc(&c.common.1)
    );
    if let Some(b) = banner {
        body.push_str(&b.html());
    }
    let items: Vec<(&str, &str)> = runs
        .iter()
        .enumerate()
        .map(|(k, r)| (COLORS[k % COLORS.len()], r.name.as_str()))
        .collect();
    body.push_str("<h2>Equity (growth of 1 from each run's start, log scale)</h2>");
    body.push_str(&legend(&items));
    body.push_str(&equity_chart(runs));
    body.push_str("<h2>Metrics (the best of each row in bold)</h2><table><tr><th>metric</th>");
    for r in runs {
        let _ = write!(body, "<th>{}</th>", esc(&r.name));
    }
    body.push_str("</tr>");
    for (metric, label, higher, percent) in HEADLINE {
        let key = metric.key();
        let values: Vec<Option<f64>> = compared
            .iter()
            .map(|r| finite(r.stats.metrics.get(&metric)))
            .collect();
        if values.iter().all(Option::is_none) {
            continue;
        }
        let best = values
            .iter()
            .flatten()
            .copied()
            .filter(|x| x.is_finite())
            .reduce(|a, b| if (b > a) == higher { b } else { a });
        let _ = write!(body, "<tr title=\"{key}\"><td>{label}</td>");
        for (r, v) in compared.iter().zip(&values) {
            let text = cell(r.stats.metrics.get(&metric), percent);
            if metric != Metric::NumTrades && v.is_some() && *v == best {
                let _ = write!(body, "<td class=\"best\"><b>{text}</b></td>");
            } else {
                let _ = write!(body, "<td>{text}</td>");
            }
        }
        body.push_str("</tr>");
    }
    body.push_str("<tr><td>span</td>");
    for r in compared {
        let _ = write!(
            body,
            "<td>{} .. {}</td>",
            esc(r.stats.start.as_deref().unwrap_or("?")),
            esc(r.stats.end.as_deref().unwrap_or("?"))
        );
    }
    body.push_str("</tr><tr><td>strategy</td>");
    for r in compared {
        let _ = write!(body, "<td>{}</td>", esc(&r.stats.strategy));
    }
    body.push_str("</tr><tr><td>terms</td>");
    for r in compared {
        let _ = write!(body, "<td>{}</td>", esc(&terms(&r.stats)));
    }
    body.push_str("</tr><tr><td>prices</td>");
    for r in compared {
        let _ = write!(body, "<td>{}</td>", esc(&prices(&r.stats)));
    }
    body.push_str("</tr><tr><td>in-sample</td>");
    for r in compared {
        let _ = write!(
            body,
            "<td>{}</td>",
            if r.stats.in_sample { "IN-SAMPLE" } else { "no" }
        );
    }
    body.push_str("</tr></table>");
    body.push_str("<h2>Correlation of daily returns</h2><svg class=\"chart\" role=\"img\" aria-label=\"correlation matrix\" xmlns=\"http://www.w3.org/2000/svg\"");
    let n = runs.len();
    let cellw = 90.0;
    let _ = write!(
        body,
        " viewBox=\"0 0 {:.0} {:.0}\" width=\"{:.0}\">",
        160.0 + cellw * n as f64,
        30.0 + 26.0 * n as f64,
        160.0 + cellw * n as f64
    );
    for (i, row) in c.correlation.iter().enumerate() {
        let y = 24.0 + 26.0 * i as f64;
        let _ = write!(
            body,
            "<text x=\"150\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            y + 16.0,
            esc(&runs[i].name)
        );
        for (j, v) in row.iter().enumerate() {
            let x = 160.0 + cellw * j as f64;
            let _ = write!(
                body,
                "<rect class=\"cell\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"24\" fill=\"{}\"><title>{} vs {}: {v:.3}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{v:.2}</text>",
                cellw - 2.0,
                color(*v, 1.0),
                esc(&runs[i].name),
                esc(&runs[j].name),
                x + cellw / 2.0,
                y + 16.0
            );
        }
    }
    for (j, r) in runs.iter().enumerate() {
        let _ = write!(
            body,
            "<text x=\"{:.1}\" y=\"16\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            160.0 + cellw * (j as f64 + 0.5),
            esc(&r.name)
        );
    }
    body.push_str("</svg>");
    let _ = write!(
        body,
        "<h2>Is the difference of Sharpe ratios significant?</h2><div class=\"sub\">Jobson–Korkie test with Memmel's correction on the {} common daily returns, each run against {} (per-period Sharpe ratios; two-sided p-value)</div><table><tr><th>run</th><th>Sharpe (per period)</th><th>reference's</th><th>correlation</th><th>z</th><th>p-value</th><th>verdict at {}</th></tr>",
        c.periods,
        esc(&runs[0].name),
        qts_stats::significance::level_text(qts_stats::significance::LEVEL)
    );
    for (r, d) in runs.iter().zip(&c.against_first).skip(1) {
        match d {
            Some(d) => {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.3}</td><td>{:.3}</td><td>{:.4}</td><td>{}</td></tr>",
                    esc(&r.name),
                    d.sharpe_a,
                    d.sharpe_b,
                    d.correlation,
                    d.z,
                    d.p_value,
                    qts_stats::significance::verdict(
                        d.p_value,
                        d.sharpe_a > d.sharpe_b,
                        qts_stats::significance::LEVEL
                    )
                );
            }
            None => {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td colspan=\"6\">not computable (constant returns)</td></tr>",
                    esc(&r.name)
                );
            }
        }
    }
    body.push_str("</table>");
    body
}

/// The optimisation page: `summary` is `optimize.json`, `trials` the rows of `trials.csv`.
pub fn optimize_page(summary: &OptimizeSummary, trials: &[TrialRecord]) -> String {
    let metric = summary.maximize.key();
    let params = &summary.best.params;
    let value = |r: &TrialRecord, p: &str| r.get(p).copied().flatten();
    // The searched parameters: those that take more than one value.
    let searched: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|p| {
            let mut v: Vec<f64> = trials.iter().filter_map(|r| value(r, p)).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v.len() > 1
        })
        .collect();
    let num = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.3}"));
    let best_at = |p: &str| params.get(p).and_then(|v| v.as_ref()).map(|v| v.as_f64());
    let best_label = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_ref().map_or("null".to_string(), |v| v.text())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let best_score = finite(summary.best.metrics.get(&summary.maximize));
    let mut body = format!(
        "<h1>Parameter search: {} trials, {metric} maximised</h1><div class=\"sub\">{} · data: {}</div><div class=\"verdict\">Best: {} with {metric} {}. Deflated Sharpe ratio {}, probability of backtest overfitting {} (a high PBO means the in-sample best is often below the median out of sample).</div>",
        summary.trials,
        esc(&summary.method),
        esc(&summary.data),
        esc(&best_label),
        num(best_score),
        num(summary.deflated_sharpe_ratio),
        num(summary.probability_of_backtest_overfitting),
    );
    if let (Some(&py), Some(&px)) = (searched.first(), searched.get(1)) {
        // Other searched parameters are held at the best trial's values.
        let fixed: Vec<(&str, Option<f64>)> =
            searched[2..].iter().map(|p| (*p, best_at(p))).collect();
        let keep: Vec<&TrialRecord> = trials
            .iter()
            .filter(|r| fixed.iter().all(|(p, v)| value(r, p) == *v))
            .collect();
        let values = |p: &str| {
            let mut v: Vec<f64> = keep.iter().filter_map(|r| value(r, p)).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let (ys, xs) = (values(py), values(px));
        let score = |r: &TrialRecord| value(r, metric);
        // The parameters' names as the page shows them (a folder's text is escaped).
        let (ny, nx) = (esc(py), esc(px));
        let finite: Vec<f64> = keep.iter().filter_map(|r| score(r)).collect();
        let mid = if finite.is_empty() {
            0.0
        } else {
            let mut s = finite.clone();
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        };
        let scale = finite.iter().map(|v| (v - mid).abs()).fold(1e-12, f64::max);
        let (cw, ch) = (
            (940.0 / xs.len().max(1) as f64).clamp(4.0, 60.0),
            (420.0 / ys.len().max(1) as f64).clamp(3.0, 24.0),
        );
        let _ = write!(
            body,
            "<h2>{metric} over {ny} × {nx}{}</h2><div class=\"sub\">green above the median trial, red below; outlined: the best; blank: a point the strategy refused</div><svg class=\"chart\" viewBox=\"0 0 {:.0} {:.0}\" width=\"100%\" role=\"img\" aria-label=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\">",
            if fixed.is_empty() {
                String::new()
            } else {
                " (other parameters at the best's values)".into()
            },
            70.0 + cw * xs.len() as f64,
            44.0 + ch * ys.len() as f64
        );
        let ix = |v: f64| xs.iter().position(|x| *x == v);
        let iy = |v: f64| ys.iter().position(|y| *y == v);
        let (bx, by) = (best_at(px).and_then(ix), best_at(py).and_then(iy));
        for r in &keep {
            let (Some(x), Some(y), Some(s)) = (
                value(r, px).and_then(ix),
                value(r, py).and_then(iy),
                score(r),
            ) else {
                continue;
            };
            let _ = write!(
                body,
                "<rect class=\"cell\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{ny}={}, {nx}={}: {s:.4}</title></rect>",
                60.0 + cw * x as f64,
                10.0 + ch * y as f64,
                (cw - 1.0).max(1.0),
                (ch - 1.0).max(1.0),
                color(s - mid, scale),
                ys[y],
                xs[x]
            );
        }
        if let (Some(x), Some(y)) = (bx, by) {
            let _ = write!(
                body,
                "<rect class=\"best\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#1d2330\" stroke-width=\"2\"><title>the best: {ny}={}, {nx}={}</title></rect>",
                60.0 + cw * x as f64,
                10.0 + ch * y as f64,
                (cw - 1.0).max(1.0),
                (ch - 1.0).max(1.0),
                ys[y],
                xs[x]
            );
        }
        let _ = write!(
            body,
            "<text x=\"12\" y=\"{:.1}\" font-size=\"11\" fill=\"#5a6475\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{ny}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#5a6475\" text-anchor=\"middle\">{nx}</text>",
            10.0 + ch * ys.len() as f64 / 2.0,
            10.0 + ch * ys.len() as f64 / 2.0,
            60.0 + cw * xs.len() as f64 / 2.0,
            37.0 + ch * ys.len() as f64
        );
        for (k, y) in ys.iter().enumerate() {
            if ys.len() <= 30 || k % (ys.len() / 15).max(1) == 0 {
                let _ = write!(
                    body,
                    "<text x=\"54\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#5a6475\">{y}</text>",
                    10.0 + ch * (k as f64 + 0.7)
                );
            }
        }
        for (k, x) in xs.iter().enumerate() {
            if xs.len() <= 30 || k % (xs.len() / 15).max(1) == 0 {
                let _ = write!(
                    body,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5a6475\">{x}</text>",
                    60.0 + cw * (k as f64 + 0.5),
                    24.0 + ch * ys.len() as f64
                );
            }
        }
        body.push_str("</svg>");
    }
    if let Some(l) = &summary.lambda {
        body.push_str("<h2>Overfitting: λ over the CSCV combinations</h2>");
        body.push_str(&binned(
            "λ of each combination (PBO: the share ≤ 0)",
            (l.low, l.high, &l.counts),
            &[(0.0, "λ = 0")],
            &|v| format!("{v:.2}"),
            "#6b4fbb",
        ));
    }
    body.push_str("<h2>Settings</h2>");
    let settings = OptimizeSummary {
        lambda: None,
        ..summary.clone()
    };
    body.push_str(&super::settings_table(
        &serde_json::to_value(&settings).unwrap_or_default(),
    ));
    page("qts parameter search", &body)
}

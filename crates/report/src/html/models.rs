//! The model comparison page of `qts models compare --report`: training curves from each
//! model's `history.json`, validation and test metrics side by side with the best marked and
//! the naive baselines beside them, and the coverage of the prediction intervals against their
//! nominal 90%.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Frame, esc, legend, page, ticks};

const COLORS: [&str; 6] = [
    "#3868d8", "#c0392b", "#2e8b57", "#6b4fbb", "#b8860b", "#1b9aaa",
];

/// One registered model as the page draws it.
#[derive(Debug, Clone, Default)]
pub struct ModelColumn {
    /// `NAME@VERSION`.
    pub name: String,
    /// Network family.
    pub architecture: String,
    /// What it was trained on, e.g. `goog_daily 2004-08-19 .. 2013-03-01`.
    pub data: String,
    /// Its train / validation / test dates, as text.
    pub splits: String,
    /// The card's metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Per epoch: (training loss, validation loss).
    pub history: Vec<(f64, f64)>,
}

/// Which way each compared metric is better (`None`: closest to a target, for coverage).
fn better(key: &str) -> Option<bool> {
    if key.contains("coverage") {
        None
    } else {
        Some(key.contains("accuracy") || key.ends_with("_ic") || key.ends_with("ic_t"))
    }
}

/// Losses per epoch, log scale; solid training, dashed validation.
fn curves(models: &[ModelColumn]) -> String {
    let all = models
        .iter()
        .flat_map(|m| m.history.iter().flat_map(|(a, b)| [*a, *b]))
        .filter(|x| x.is_finite() && *x > 0.0)
        .map(f64::ln);
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
        (l.min(x), h.max(x))
    });
    let epochs = models.iter().map(|m| m.history.len()).max().unwrap_or(0);
    if !lo.is_finite() || epochs < 1 {
        return String::new();
    }
    let f = Frame::new(epochs, lo, hi);
    let mut out = String::new();
    f.open(&mut out, "training curves");
    f.axes(
        &mut out,
        &ticks(lo, hi, |v| format!("{:.2e}", v.exp())),
        &[],
    );
    for (k, m) in models.iter().enumerate() {
        let c = COLORS[k % COLORS.len()];
        let log = |v: f64| if v > 0.0 { v.ln() } else { f64::NAN };
        let train: Vec<f64> = m.history.iter().map(|h| log(h.0)).collect();
        let val: Vec<f64> = m.history.iter().map(|h| log(h.1)).collect();
        f.line(&mut out, &train, c, &format!("{} training loss", m.name));
        let mut dashed = String::new();
        f.line(&mut dashed, &val, c, &format!("{} validation loss", m.name));
        out.push_str(&dashed.replacen("<polyline ", "<polyline stroke-dasharray=\"5 3\" ", 1));
    }
    for (e, anchor) in [
        (1, "start"),
        (epochs.div_ceil(2), "middle"),
        (epochs, "end"),
    ] {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#5a6475\">epoch {e}</text>",
            f.x(e - 1),
            f.h - 8.0
        );
    }
    out.push_str("</svg>");
    out
}

/// The page comparing `models`; `tests` holds each model's Diebold–Mariano test against the
/// first (`None` for the first, or where there is nothing in common to test).
pub fn models_page(
    models: &[ModelColumn],
    tests: &[(String, Option<qts_stats::significance::ForecastDifference>)],
) -> String {
    let mut body = format!(
        "<h1>{} models compared</h1><div class=\"sub\">validation metrics chose each model's epoch; test metrics are of rows no choice saw</div>",
        models.len()
    );
    let items: Vec<(&str, &str)> = models
        .iter()
        .enumerate()
        .map(|(k, m)| (COLORS[k % COLORS.len()], m.name.as_str()))
        .collect();
    body.push_str(
        "<h2>Training curves (solid: training loss, dashed: validation loss; log scale)</h2>",
    );
    body.push_str(&legend(&items));
    body.push_str(&curves(models));
    body.push_str("<h2>Metrics (the best of each row in bold; coverage: closest to 90%)</h2><table><tr><th>metric</th>");
    for m in models {
        let _ = write!(body, "<th>{}</th>", esc(&m.name));
    }
    body.push_str("</tr>");
    for (label, f) in [
        (
            "architecture",
            &(|m: &ModelColumn| m.architecture.clone()) as &dyn Fn(&ModelColumn) -> String,
        ),
        ("data", &|m: &ModelColumn| m.data.clone()),
        ("splits", &|m: &ModelColumn| m.splits.clone()),
    ] {
        let _ = write!(body, "<tr><td>{label}</td>");
        for m in models {
            let _ = write!(body, "<td>{}</td>", esc(&f(m)));
        }
        body.push_str("</tr>");
    }
    let mut keys: Vec<&String> = models.iter().flat_map(|m| m.metrics.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let values: Vec<Option<f64>> = models
            .iter()
            .map(|m| m.metrics.get(key).copied().filter(|v| v.is_finite()))
            .collect();
        let best = match better(key) {
            _ if key.contains("zero") || key.contains("train_mean") || key.contains("up_share") => {
                None
            }
            Some(higher) => values
                .iter()
                .flatten()
                .copied()
                .reduce(|a, b| if (b > a) == higher { b } else { a }),
            None => values.iter().flatten().copied().reduce(|a, b| {
                if (b - 0.9).abs() < (a - 0.9).abs() {
                    b
                } else {
                    a
                }
            }),
        };
        let _ = write!(body, "<tr><td>{}</td>", esc(key));
        for v in &values {
            match v {
                Some(x) if Some(*x) == best && models.len() > 1 => {
                    let _ = write!(body, "<td class=\"best\"><b>{x:.6}</b></td>");
                }
                Some(x) => {
                    let _ = write!(body, "<td>{x:.6}</td>");
                }
                None => body.push_str("<td>-</td>"),
            }
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    // Coverage of the 90% intervals, as bars against the nominal level.
    let rows: Vec<(&str, f64, &str)> = models
        .iter()
        .enumerate()
        .flat_map(|(k, m)| {
            [
                ("test_coverage_mc_dropout_90", "MC dropout"),
                ("test_coverage_ensemble_90", "ensemble"),
            ]
            .into_iter()
            .filter_map(move |(key, what)| {
                m.metrics
                    .get(key)
                    .map(|v| (what, *v, COLORS[k % COLORS.len()]))
            })
        })
        .collect();
    if !rows.is_empty() {
        body.push_str("<h2>Coverage of the 90% prediction intervals on the test split</h2>");
        let (w, rh) = (700.0, 22.0);
        let h = 20.0 + rh * rows.len() as f64;
        let _ = write!(
            body,
            "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" role=\"img\" aria-label=\"interval coverage\" xmlns=\"http://www.w3.org/2000/svg\">"
        );
        let x = |v: f64| 200.0 + (w - 220.0) * v.clamp(0.0, 1.0);
        let names: Vec<&str> = models
            .iter()
            .flat_map(|m| {
                ["test_coverage_mc_dropout_90", "test_coverage_ensemble_90"]
                    .into_iter()
                    .filter(|k| m.metrics.contains_key(*k))
                    .map(|_| m.name.as_str())
            })
            .collect();
        for (i, ((what, v, c), name)) in rows.iter().zip(&names).enumerate() {
            let y = 4.0 + rh * i as f64;
            let _ = write!(
                body,
                "<text x=\"192\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{} · {what}</text><rect class=\"bar\" x=\"200\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{c}\"><title>{:.1}%</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{:.1}%</text>",
                y + 14.0,
                esc(name),
                x(*v) - 200.0,
                rh - 6.0,
                100.0 * v,
                x(*v) + 4.0,
                y + 14.0,
                100.0 * v
            );
        }
        let _ = write!(
            body,
            "<line class=\"mark\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{h:.1}\" stroke=\"#1d2330\" stroke-dasharray=\"4 3\"><title>nominal 90%</title></line></svg>",
            x(0.9)
        );
    }
    if tests.len() > 1 {
        let _ = write!(
            body,
            "<h2>Are the forecasts significantly different?</h2><div class=\"sub\">Diebold–Mariano test on the test days both models forecast, squared error, each against {} (negative: lower loss than it; Harvey–Leybourne–Newbold corrected, p from t(T − 1))</div><table><tr><th>model</th><th>forecasts</th><th>mean loss</th><th>reference's</th><th>DM</th><th>corrected</th><th>p-value</th><th>verdict at {}</th></tr>",
            esc(&tests[0].0),
            qts_stats::significance::level_text(qts_stats::significance::LEVEL)
        );
        for (name, d) in &tests[1..] {
            match d {
                Some(d) => {
                    let _ = write!(
                        body,
                        "<tr><td>{}</td><td>{}</td><td>{:.4e}</td><td>{:.4e}</td><td>{:.3}</td><td>{:.3}</td><td>{:.4}</td><td>{}</td></tr>",
                        esc(name),
                        d.periods,
                        d.mean_loss_a,
                        d.mean_loss_b,
                        d.statistic,
                        d.corrected,
                        d.p_value,
                        qts_stats::significance::verdict(
                            d.p_value,
                            d.statistic < 0.0,
                            qts_stats::significance::LEVEL
                        )
                    );
                }
                None => {
                    let _ = write!(
                        body,
                        "<tr><td>{}</td><td colspan=\"7\">no test forecasts in common</td></tr>",
                        esc(name)
                    );
                }
            }
        }
        body.push_str("</table>");
    }
    page("qts model comparison", &body)
}

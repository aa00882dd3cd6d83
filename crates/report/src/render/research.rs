//! A search, a walk-forward, a Monte Carlo and a comparison of runs as a person reads them in
//! a terminal.

use comfy_table::Table;
use qts_research::optimize::OptimizeReport;
use qts_research::walk_forward::WalkForwardReport;
use qts_stats::compare::Comparison;
use qts_stats::metrics::Metric;

use crate::html::ComparedRun;
use qts_stats::monte_carlo::Report;

/// A search of `strategy`: the trials, the best parameters and their metric, the deflated
/// Sharpe ratio and the probability of backtest overfitting, and the notes.
pub fn optimize(report: &OptimizeReport, strategy: &str) -> String {
    let show = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.4}"));
    let params: Vec<String> = report
        .best
        .params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.text()))
        .collect();
    let best = report
        .best
        .metrics
        .get(report.maximize.key())
        .map_or(f64::NAN, |v| v.as_f64());
    let mut t = Table::new();
    for (k, v) in [
        ("strategy", strategy.to_string()),
        (
            "trials",
            format!(
                "{} ({} search, {} grid points refused by the strategy)",
                report.trials, report.method, report.skipped
            ),
        ),
        ("best parameters", params.join(", ")),
        (report.maximize.key(), format!("{best:.6}")),
        ("deflated Sharpe ratio", show(report.deflated_sharpe_ratio)),
        (
            "probability of backtest overfitting",
            show(report.probability_of_backtest_overfitting),
        ),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    let mut text = format!("{t}\n");
    for n in &report.notes {
        text.push_str(&format!("note: {n}\n"));
    }
    text
}

/// A walk-forward: each window's spans, choice and metric in and out of sample, then the
/// stitched out-of-sample line.
pub fn walk_forward(report: &WalkForwardReport) -> String {
    use qts_stats::metrics::Metric;
    let num = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.4}"));
    let unit = report.maximize.unit();
    let chosen = |v: Option<f64>| v.map_or("n/a".to_string(), |x| super::in_unit(x, unit));
    let mut t = Table::new();
    t.set_header(vec![
        "window".to_string(),
        "train".into(),
        "test (out of sample)".into(),
        "parameters".into(),
        format!("{} in sample", report.maximize),
        "out of sample".into(),
    ]);
    for w in &report.windows {
        t.add_row(vec![
            w.window.to_string(),
            format!("{} .. {}", w.train_start, w.train_end),
            format!("{} .. {}", w.test_start, w.test_end),
            w.params.clone(),
            chosen(w.in_sample),
            chosen(w.out_of_sample),
        ]);
    }
    let m = |k: Metric| {
        report
            .out_of_sample
            .get(k.key())
            .map_or("n/a".into(), |v| super::in_unit(v.as_f64(), k.unit()))
    };
    format!(
        "{t}\nstitched out of sample: total return {}, Sharpe {}, max drawdown {}, {} trades; \
         walk-forward efficiency {}\n",
        m(Metric::TotalReturn),
        m(Metric::SharpeRatio),
        m(Metric::MaxDrawdown),
        report
            .out_of_sample
            .get("num_trades")
            .map_or(0.0, |v| v.as_f64()),
        num(report.walk_forward_efficiency)
    )
}

/// A Monte Carlo: each metric's mean and interval, then the probabilities.
pub fn monte_carlo(report: &Report) -> String {
    let mut t = Table::new();
    t.set_header(vec![
        "metric".to_string(),
        "mean".into(),
        format!("{:.1}% lower", report.level * 100.0),
        "median".into(),
        "upper".into(),
    ]);
    for (k, i) in report.intervals() {
        t.add_row(vec![
            k.to_string(),
            format!("{:.6}", i.mean),
            format!("{:.6}", i.lower),
            format!("{:.6}", i.median),
            format!("{:.6}", i.upper),
        ]);
    }
    format!(
        "{} paths of {} periods ({} resampling, seed {})\n{t}\nprobability of a loss {:.4}; of a drawdown beyond {:.0}% {:.4}\n",
        report.paths,
        report.horizon,
        report.method,
        report.seed,
        report.prob_loss,
        report.drawdown_threshold * 100.0,
        report.prob_drawdown_beyond
    )
}

/// Runs compared: each run's span and headline numbers with its test against the first.
pub fn compare(runs: &[ComparedRun], c: &Comparison) -> String {
    let mut t = Table::new();
    t.set_header(vec![
        "run",
        "span",
        "total return",
        "Sharpe",
        "max drawdown",
        "vs first: z",
        "p-value",
    ]);
    for (r, d) in runs.iter().zip(&c.against_first) {
        let value = |m: Metric| {
            r.stats
                .metrics
                .get(&m)
                .map(qts_stats::metrics::Value::as_f64)
                .filter(|x| x.is_finite())
        };
        let pct = |m: Metric| value(m).map_or("-".into(), |x| format!("{:+.2}%", 100.0 * x));
        t.add_row(vec![
            r.series.name.clone(),
            format!(
                "{} .. {}",
                r.stats.start.as_deref().unwrap_or("?"),
                r.stats.end.as_deref().unwrap_or("?")
            ),
            pct(Metric::TotalReturn),
            value(Metric::SharpeRatio).map_or("-".into(), |x| format!("{x:.3}")),
            pct(Metric::MaxDrawdown),
            d.map_or("-".into(), |d| format!("{:.3}", d.z)),
            d.map_or("-".into(), |d| format!("{:.4}", d.p_value)),
        ]);
    }
    format!(
        "{t}\ncompared on the {} days all runs traded ({} .. {}); Jobson–Korkie–Memmel test of each Sharpe ratio against {}'s\n",
        c.periods,
        c.common.0,
        c.common.1,
        runs.first().map_or("?", |r| r.series.name.as_str())
    )
}

//! The main job's summary as a person reads it in a terminal: the three candidates out of
//! sample, the verdicts, the deflation, the Monte Carlo, the decision and the pages.

use comfy_table::Table;
use qts_backtest::decide::Decision;
use qts_research::summary::RunReport;
use qts_research::walk_forward::WalkForwardReport;
use qts_stats::significance::Verdict;

/// The line naming the price basis, what buy-and-hold's return is, and the cash dividends the
/// model and the SMA crossover received.
fn prices(s: &RunReport) -> String {
    let total =
        s.settings.dividends || s.settings.price_basis == qts_data::actions::Basis::TotalReturn;
    let mut line = format!(
        "Prices: {}{} · buy-and-hold: {}.",
        s.settings.price_basis.describe(),
        if total {
            ""
        } else {
            ", dividends off (backtest.dividends: false)"
        },
        if total {
            "total return"
        } else {
            "price return"
        }
    );
    if let (Some(m), Some(c)) = (s.model.dividend_income, s.sma_cross.dividend_income)
        && (m != 0.0 || c != 0.0)
    {
        line.push_str(&format!(
            " Dividends received out of sample: {m:.2} by the model, {c:.2} by the SMA crossover (in their equity)."
        ));
    }
    line.push('\n');
    line
}

/// `qts run`'s summary of `s`, with the three walks (model, SMA crossover, buy-and-hold) and
/// the decision.
pub fn run(s: &RunReport, walks: [&WalkForwardReport; 3], decision: &Decision) -> String {
    let o = &s.out_of_sample;
    let mut t = Table::new();
    t.set_header(vec![
        "out of sample",
        "total return",
        "CAGR",
        "Sharpe",
        "max drawdown",
        "trades",
    ]);
    let pct = |v: f64| format!("{:+.2}%", 100.0 * v);
    let holding = if s.universe.is_some() {
        "equal-weight universe"
    } else {
        "buy-and-hold"
    };
    for (name, w) in ["model (retrained per window)", "SMA crossover", holding]
        .iter()
        .zip(walks)
    {
        let v = |k: &str| w.out_of_sample.get(k).map_or(f64::NAN, |v| v.as_f64());
        t.add_row(vec![
            name.to_string(),
            pct(v("total_return")),
            pct(v("cagr")),
            format!("{:.3}", v("sharpe_ratio")),
            pct(v("max_drawdown")),
            format!("{:.0}", v("num_trades")),
        ]);
    }
    if let Some(h) = &s.buy_and_hold_at_exposure {
        let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
        t.add_row(vec![
            format!("{holding} at the model's exposure"),
            pct(v(h.total_return)),
            pct(v(h.cagr)),
            format!("{:.3}", v(h.sharpe_ratio)),
            pct(v(h.max_drawdown)),
            "-".to_string(),
        ]);
    }
    if let Some(b) = &s.benchmark {
        let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
        let h = &b.headline;
        t.add_row(vec![
            format!("benchmark ({})", b.name),
            pct(v(h.total_return)),
            pct(v(h.cagr)),
            format!("{:.3}", v(h.sharpe_ratio)),
            pct(v(h.max_drawdown)),
            "-".to_string(),
        ]);
    }
    let num = |v: Option<f64>| {
        v.filter(|x| !x.is_nan())
            .map_or("n/a".into(), |x| format!("{x:.3}"))
    };
    let fe = &s.monte_carlo.final_equity;
    let shown = |p: &std::path::Path| p.display().to_string();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    format!(
        "qts run on {} · out of sample {} .. {} ({} windows of {} bars, each model trained on the {} bars before) · {} epochs\n{t}\n\
         {}{}Terms: the model traded {}; the SMA crossover {}; {holding} {}. Each starts every test window in cash and closes at its end, paying costs.{}\n\
         Verdict: {}. {}\n\
         On the point estimates the model {} both baselines (a higher total return and Sharpe ratio than each).\n\
         Deflated Sharpe ratio of the model for the {} candidates compared: {}; walk-forward efficiency {}.\n\
         Monte Carlo (block bootstrap, {} paths): final equity {} .. {} at 95%, a loss in {:.1}% of paths.\n{}\n{}\n\
         Reports: {} (the model against its baselines), {}, {}, {}\n",
        s.data,
        opt(&o.start),
        opt(&o.end),
        o.windows,
        o.test_bars,
        o.train_bars,
        s.settings.epochs,
        prices(s),
        s.universe.as_ref().map_or(String::new(), universe),
        s.settings.terms.model,
        if s.settings.terms.sma_cross == s.settings.terms.model {
            "the same".to_string()
        } else {
            s.settings.terms.sma_cross.clone()
        },
        if s.settings.terms.buy_and_hold == s.settings.terms.model {
            format!("the same ({})", s.settings.terms.buy_and_hold)
        } else {
            format!("held {}", s.settings.terms.buy_and_hold)
        },
        s.benchmark.as_ref().map_or(String::new(), |b| {
            let p = b
                .against
                .as_ref()
                .filter(|d| d.p_value.is_finite())
                .map_or("no test".to_string(), |d| format!("p = {:.3}", d.p_value));
            let n = |x: Option<f64>| x.map_or("n/a".to_string(), |x| format!("{x:.3}"));
            format!(
                " Against the benchmark (held over the same days, no costs; not in the verdict): alpha {}, beta {}, information ratio {}, Sharpe ratios compared: {p}.",
                n(b.alpha),
                n(b.beta),
                n(b.information_ratio)
            )
        }) + &s.buy_and_hold_at_exposure.as_ref().map_or(String::new(), |_| {
            let p = s
                .against_buy_and_hold_at_exposure
                .as_ref()
                .filter(|d| d.p_value.is_finite())
                .map_or("no test".to_string(), |d| format!("p = {:.3}", d.p_value));
            format!(
                " The row \"{holding} at the model's exposure\" holds {holding} only as invested as the model was (its net exposure at the close before): the model against it, {p}; not in the verdict."
            )
        }),
        match s.verdict.overall {
            Verdict::Better => "BETTER than both baselines",
            Verdict::Worse => "WORSE than a baseline",
            Verdict::NotDistinguishable => "not distinguishable from its baselines",
        },
        s.verdict.sentence_against(
            s.holding_name(),
            s.against_buy_and_hold.as_ref(),
            s.against_sma_cross.as_ref()
        ),
        if s.beat_both { "beat" } else { "did not beat" },
        s.candidates,
        num(s.deflated_sharpe_ratio),
        num(s.walk_forward_efficiency),
        s.monte_carlo.paths,
        num(Some(fe.lower)),
        num(Some(fe.upper)),
        100.0 * s.monte_carlo.prob_loss,
        s.notes
            .iter()
            .map(|n| format!("Note: {n}\n"))
            .collect::<String>(),
        super::decision(decision).trim_end(),
        shown(&s.reports.report),
        shown(&s.reports.walk_forward),
        shown(&s.reports.monte_carlo),
        shown(&s.reports.data_quality),
    )
}

/// A universe's lines: what traded it, its baselines, and its statistics out of sample.
fn universe(u: &qts_research::summary::RunUniverse) -> String {
    let m = &u.model;
    let ic = m
        .rank_ic
        .as_ref()
        .map_or("no rank IC (too few dates or names)".to_string(), |ic| {
            format!(
                "rank IC {:+.4} (std {:.4}, t = {:.2}, ICIR {:.3}) over {} dates",
                ic.mean, ic.std, ic.t_stat, ic.icir, ic.dates
            )
        });
    let mut best: Vec<_> = m.contributions.iter().collect();
    best.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    let show = |c: &&qts_backtest::universe::Contribution| {
        format!("{} {:+.2}%", c.symbol, 100.0 * c.contribution)
    };
    format!(
        "Universe: {} symbols ({}), traded by {}; out of sample: {ic}; top fifth beat the average on {}; {:.1} names held on average, {}..{} tradable; turnover {:.2} per rebalance over {} rebalances.\nContributions: {}.\nBaselines: equal-weight = {}; SMA crossover = {}.\n",
        u.symbols.len(),
        if u.symbols.len() > 8 {
            format!("{}, …", u.symbols[..8].join(", "))
        } else {
            u.symbols.join(", ")
        },
        u.strategy,
        m.top_bucket_hit_rate
            .map_or("n/a".to_string(), |h| format!("{:.1}% of dates", 100.0 * h)),
        m.mean_holdings,
        m.min_tradable,
        m.max_tradable,
        m.turnover_per_rebalance,
        m.rebalances,
        if best.len() > 6 {
            format!(
                "best {}; worst {}",
                best.iter().take(3).map(show).collect::<Vec<_>>().join(", "),
                best.iter()
                    .rev()
                    .take(3)
                    .map(show)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            best.iter().map(show).collect::<Vec<_>>().join(", ")
        },
        u.buy_and_hold,
        u.sma_cross,
    )
}

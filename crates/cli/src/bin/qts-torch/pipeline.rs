//! `qts run`: the main job, end to end, on one data file (the bundled sample by default).
//! Validate the bars; walk the model forward (retrained on every train window, its forecasts of
//! the next window traded by the signal strategy under `backtest_config.yaml`'s sizing, stops,
//! breaker and weekly rebalancing); trade the same windows with buy-and-hold and the SMA
//! crossover; test the model's Sharpe ratio against each baseline's (Jobson–Korkie–Memmel);
//! deflate it for the three candidates compared; bootstrap its out-of-sample returns; write the
//! reports; track the run; and decide the next session with the latest model. Every stage is
//! the library use case the single commands call.

use std::io::Write;
use std::time::Instant;

use anyhow::anyhow;
use comfy_table::Table;
use qts_backtest::strategy::SignalSeries;
use qts_backtest::walk_forward::{Fold, Schedule, Span, WalkForwardReport, walk};
use qts_backtest::{DecideRequest, decide};
use qts_core::logging::RunContext;
use qts_models::Registry;
use qts_stats::compare::{RunSeries, compare};
use qts_stats::metrics::{Metrics, simple_returns};
use qts_stats::monte_carlo::{Method, Request, simulate};
use qts_stats::overfitting::{Trials, deflated_sharpe_ratio, probabilistic_sharpe_ratio};
use qts_stats::significance::{SharpeDifference, sharpe_difference};
use serde_json::{Value, json};

use qts_cli::cli::{ExecutionArg, GlobalArgs, PipelineArgs, RunArgs};
use qts_cli::commands::backtest::{apply_overlays, prepare_with_model};
use qts_cli::commands::decide::{build_with_signals, render};
use qts_cli::commands::optimize::progress_bar;
use qts_cli::commands::report::write_page;
use qts_cli::failure::Failure;

use crate::walk_forward::Folds;

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow!("{e}"))
}

/// A walk's stitched out-of-sample equity as the comparison page reads it.
fn series(name: &str, strategy: &str, w: &WalkForwardReport) -> RunSeries {
    let mut stats = serde_json::to_value(&w.out_of_sample).unwrap_or(Value::Null);
    if let Some(o) = stats.as_object_mut() {
        o.insert("strategy".into(), strategy.into());
        o.insert(
            "start".into(),
            w.oos_equity
                .first()
                .map_or("".into(), |r| r.0.clone())
                .into(),
        );
        o.insert(
            "end".into(),
            w.oos_equity
                .last()
                .map_or("".into(), |r| r.0.clone())
                .into(),
        );
        o.insert("in_sample".into(), false.into());
    }
    RunSeries {
        name: name.to_string(),
        stats,
        days: w
            .oos_equity
            .iter()
            .filter_map(|r| r.0.parse().ok())
            .collect(),
        equity: w.oos_equity.iter().map(|r| r.1).collect(),
    }
}

fn headline(m: &Metrics) -> Value {
    let get = |k: &str| m.get(k).map(|v| v.as_f64());
    json!({
        "total_return": get("total_return"),
        "cagr": get("cagr"),
        "sharpe_ratio": get("sharpe_ratio"),
        "max_drawdown": get("max_drawdown"),
        "annual_volatility": get("annual_volatility"),
        "num_trades": get("num_trades"),
        "final_equity": get("final_equity"),
    })
}

/// Runs `qts run`.
pub fn run(global: &GlobalArgs, args: &PipelineArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let fetched;
    let data = match &args.symbols {
        Some(symbol) => {
            // Fresh bars into the cache, then the cached file is the data.
            let loaded = qts_cli::commands::setup::load_config(
                global,
                &qts_cli::cli::SectionFiles::default(),
            )?;
            let cfg = &loaded.config;
            let today = chrono::Local::now().date_naive();
            let from = args.history_from.unwrap_or_else(|| {
                today
                    .checked_sub_months(chrono::Months::new(240))
                    .unwrap_or(today)
            });
            qts_cli::commands::decide::refresh(
                cfg,
                std::slice::from_ref(symbol),
                today,
                Some(from),
            )?;
            fetched = qts_data::locate::resolve(symbol, cfg)?;
            &fetched
        }
        None => &args.data,
    };
    if !data.is_file() {
        return Err(Failure::Input(anyhow!(
            "{}: no such file (qts run reads the bundled sample from the repository root by default; --data FILE for another)",
            data.display()
        )));
    }
    // Defaults that finish in minutes on a laptop, each yielding to the user's own --set.
    let mut g = global.clone();
    let checkpoints = args.out.join("checkpoints");
    for (key, value) in [
        ("model.training.epochs", "10".to_string()),
        ("model.training.warmup_epochs", "1".to_string()),
        (
            "model.training.checkpoints.directory",
            checkpoints.display().to_string(),
        ),
    ] {
        if !global
            .overrides
            .iter()
            .any(|o| o.starts_with(&format!("{key}=")))
        {
            g.overrides.insert(0, format!("{key}={value}"));
        }
    }
    let run_args = RunArgs {
        data: vec![data.clone()],
        strategy: "signal".into(),
        params: Vec::new(),
        signals: None,
        cash: None,
        commission: None,
        execution: ExecutionArg::Default,
        config: None,
        from: None,
        to: None,
        allow_in_sample: false,
        overlays: false,
    };
    let stage = |n: usize, what: &str| {
        if global.quiet == 0 && !args.json {
            eprintln!("[{n}/7] {what}");
        }
    };
    stage(1, "validating the data");
    let p = prepare_with_model(&g, &run_args, "run", None)?;
    let _guard = &p.guard;
    let cfg = &p.loaded.config;
    let bars = &p.market.bars()[0];
    let span = RunContext::new("run")
        .model_type(format!("{:?}", cfg.model.architecture).to_lowercase())
        .symbol(bars.symbol.clone())
        .span();
    let _run = span.enter();
    let n = bars.len();
    let last_day = bars.time[n - 1].date();
    let quality = qts_data::validate::validate(bars, &cfg.validation, &cfg.data.quality, last_day);
    std::fs::create_dir_all(&args.out)
        .map_err(|e| runtime(format!("{}: {e}", args.out.display())))?;
    let source = data.display().to_string();
    let page = |name: &str| args.out.join(name);
    write_page(
        &page("data_quality.html"),
        &qts_report::html::data_quality_page(&source, bars, &quality),
    )?;

    let schedule = Schedule::from_config(
        &cfg.backtest.walk_forward,
        args.train,
        args.test,
        None,
        false,
    );
    stage(
        2,
        "walking the model forward (a model trained on each window)",
    );
    let folds = Folds {
        p: &p,
        name: format!("{}-run", cfg.model.name),
        source: source.clone(),
        maximize: "sharpe_ratio",
        registry: Registry::new(&cfg.registry.directory),
    };
    let bar = progress_bar(
        "model walk-forward [{bar:30}] {pos}/{len} windows {elapsed}",
        global.quiet > 0 || args.json,
    );
    let quiet = |f: &mut dyn FnMut()| bar.suspend(f);
    let mut forecasts = Vec::new();
    let model = walk(
        &p.market,
        &p.settings,
        &schedule,
        "sharpe_ratio",
        &p.stamp,
        &mut |s: Span| {
            let (fold, rows) = folds.fold(s, &quiet)?;
            forecasts.extend(rows);
            Ok::<Fold, Failure>(fold)
        },
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    let model = model?;

    stage(3, "the same windows for buy-and-hold and the SMA crossover");
    let sma_name = build_with_signals(cfg, "sma-cross", &[], None, &p.market)?.name();
    let sma = walk(
        &p.market,
        &p.settings,
        &schedule,
        "sharpe_ratio",
        &p.stamp,
        &mut |_| {
            Ok::<Fold, Failure>(Fold {
                strategy: build_with_signals(cfg, "sma-cross", &[], None, &p.market)?,
                label: sma_name.clone(),
                in_sample: None,
                in_sample_annual_return: f64::NAN,
            })
        },
        &|_, _| {},
    )?;
    let mut hold_settings = p.settings.clone();
    apply_overlays(&mut hold_settings, "buy-and-hold", false)?;
    let hold = walk(
        &p.market,
        &hold_settings,
        &schedule,
        "sharpe_ratio",
        &p.stamp,
        &mut |_| {
            Ok::<Fold, Failure>(Fold {
                strategy: build_with_signals(cfg, "buy-and-hold", &[], None, &p.market)?,
                label: "buy-and-hold".into(),
                in_sample: None,
                in_sample_annual_return: f64::NAN,
            })
        },
        &|_, _| {},
    )?;

    stage(4, "testing the lead and deflating the Sharpe ratio");
    let returns = |w: &WalkForwardReport| {
        simple_returns(&w.oos_equity.iter().map(|r| r.1).collect::<Vec<_>>())
    };
    let (rm, rs, rh) = (returns(&model), returns(&sma), returns(&hold));
    let vs_hold: Option<SharpeDifference> = sharpe_difference(&rm, &rh).ok();
    let vs_sma: Option<SharpeDifference> = sharpe_difference(&rm, &rs).ok();
    let names = vec![
        "model".to_string(),
        "sma_cross".to_string(),
        "buy_and_hold".to_string(),
    ];
    let columns = vec![rm.clone(), rs.clone(), rh.clone()];
    let deflated = deflated_sharpe_ratio(&Trials {
        names: &names,
        returns: &columns,
    })
    .ok();
    let model_dsr = deflated
        .as_ref()
        .map(|d| probabilistic_sharpe_ratio(&rm, d.expected_max_sharpe));
    let value =
        |w: &WalkForwardReport, k: &str| w.out_of_sample.get(k).map_or(f64::NAN, |v| v.as_f64());
    let beat = |other: &WalkForwardReport| {
        value(&model, "total_return") > value(other, "total_return")
            && value(&model, "sharpe_ratio") > value(other, "sharpe_ratio")
    };
    let beat_both = beat(&sma) && beat(&hold);
    let significant = [vs_hold, vs_sma]
        .iter()
        .all(|d| d.is_some_and(|d| d.p_value < 0.05 && d.sharpe_a > d.sharpe_b));

    stage(5, "Monte Carlo of the model's out-of-sample returns");
    let periods = f64::from(cfg.backtest.metrics.periods_per_year);
    let mc = simulate(&Request {
        sample: &rm,
        periods_per_year: periods,
        method: Method::Block {
            size: cfg.backtest.monte_carlo.block_size,
        },
        paths: args.paths,
        seed: cfg.reproducibility.seed,
        horizon: None,
        level: cfg.backtest.monte_carlo.confidence,
        drawdown: 0.2,
        initial: cfg.backtest.initial_capital,
    })?;

    stage(6, "deciding the next session with the latest model");
    // The latest model: trained on the last train window, up to the last bar; its forecast of
    // the last bar is out of sample (that bar's next return is not known). Days after the last
    // complete test window and before the last bar have no out-of-sample forecast.
    let quiet_now = |f: &mut dyn FnMut()| f();
    let (latest, live) =
        folds.train_and_forecast("latest", (n - schedule.train, n - 1), n - 1, &quiet_now)?;
    let mut rows: Vec<_> = forecasts
        .iter()
        .map(|(t, v)| (*t, *v, None, None))
        .collect();
    if let Some((t, v)) = live.last() {
        rows.push((*t, *v, None, None));
    }
    let first_test = model
        .windows
        .first()
        .and_then(|w| w.test_start.parse().ok());
    let mut strategy = build_with_signals(
        cfg,
        "signal",
        &[],
        Some(SignalSeries::align(&bars.time, &rows)),
        &p.market,
    )?;
    let decision = decide(
        &p.market,
        strategy.as_mut(),
        &p.settings,
        &DecideRequest {
            as_of: last_day,
            trade_from: first_test,
            stale_after_days: cfg.monitoring.stale_data_alert_days,
        },
        p.stamp.clone(),
    )?;

    stage(7, "writing the reports and tracking the run");
    let three = [
        series(
            "model (walk-forward)",
            &format!("{} retrained per window", cfg.model.name),
            &model,
        ),
        series("sma-cross", &sma_name, &sma),
        series("buy-and-hold", "buy-and-hold", &hold),
    ];
    let c = compare(&three)?;
    write_page(
        &page("report.html"),
        &qts_report::html::compare_page(&three, &c),
    )?;
    let what = format!("the model {} retrained on each window", cfg.model.name);
    let wf_json = qts_cli::commands::walk_forward::described(&model, &what, &source)?;
    write_page(
        &page("walk_forward.html"),
        &qts_cli::commands::walk_forward::page(&model, &wf_json),
    )?;
    let mut mc_json = serde_json::to_value(&mc).map_err(runtime)?;
    mc_json["source"] = "the model's stitched out-of-sample daily returns".into();
    write_page(
        &page("monte_carlo.html"),
        &qts_report::html::monte_carlo_page(&mc_json),
    )?;
    let summary = json!({
        "data": source,
        "out_of_sample": {
            "start": model.oos_equity.first().map(|r| r.0.clone()),
            "end": model.oos_equity.last().map(|r| r.0.clone()),
            "bars": model.oos_equity.len(),
            "windows": model.windows.len(),
            "train_bars": schedule.train,
            "test_bars": schedule.test,
        },
        "model": headline(&model.out_of_sample),
        "sma_cross": headline(&sma.out_of_sample),
        "buy_and_hold": headline(&hold.out_of_sample),
        "walk_forward_efficiency": model.walk_forward_efficiency,
        "beat_both": beat_both,
        "lead_significant": significant,
        "against_buy_and_hold": vs_hold,
        "against_sma_cross": vs_sma,
        "deflated_sharpe_ratio": model_dsr,
        "candidates": 3,
        "expected_max_sharpe": deflated.as_ref().map(|d| d.expected_max_sharpe),
        "monte_carlo": {
            "paths": mc.paths,
            "final_equity": mc.final_equity,
            "sharpe_ratio": mc.sharpe_ratio,
            "max_drawdown": mc.max_drawdown,
            "prob_loss": mc.prob_loss,
        },
        "latest_model": format!("{}@{}", latest.name, latest.version),
        "decision": {
            "as_of": decision.as_of,
            "next_session": decision.next_session,
            "equity": decision.equity,
            "orders": decision.orders,
            "positions": decision.positions,
        },
        "settings": {
            "epochs": cfg.model.training.epochs,
            "architecture": format!("{:?}", cfg.model.architecture).to_lowercase(),
            "rebalance": format!("{:?}", cfg.trading.rebalance).to_lowercase(),
        },
        "reports": {
            "report": page("report.html"),
            "walk_forward": page("walk_forward.html"),
            "monte_carlo": page("monte_carlo.html"),
            "data_quality": page("data_quality.html"),
        },
        "seconds": started.elapsed().as_secs_f64(),
    });
    let text = serde_json::to_string_pretty(&summary).map_err(runtime)? + "\n";
    qts_core::fs::write_atomic(&page("summary.json"), text.as_bytes())
        .map_err(|e| runtime(format!("{}: {e}", page("summary.json").display())))?;
    track(&p.loaded, &summary, &page("report.html"), &p.stamp)?;
    let out = if args.json {
        text
    } else {
        terminal(&summary, &[&model, &sma, &hold], &decision)
    };
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(runtime)
}

fn terminal(
    s: &Value,
    walks: &[&WalkForwardReport; 3],
    decision: &qts_backtest::Decision,
) -> String {
    let o = &s["out_of_sample"];
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
    for (name, w) in [
        "model (retrained per window)",
        "SMA crossover",
        "buy-and-hold",
    ]
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
    let p = |k: &str| {
        s[k]["p_value"]
            .as_f64()
            .map_or("n/a".into(), |p| format!("{p:.3}"))
    };
    let num = |v: &Value| v.as_f64().map_or("n/a".into(), |x| format!("{x:.3}"));
    let fe = &s["monte_carlo"]["final_equity"];
    format!(
        "qts run on {} · out of sample {} .. {} ({} windows of {} bars, each model trained on the {} bars before) · {} epochs\n{t}\n\
         The model {} both baselines out of sample; its lead is {} (Sharpe difference p = {} against buy-and-hold, {} against the SMA crossover; Jobson–Korkie–Memmel).\n\
         Deflated Sharpe ratio of the model for the 3 candidates compared: {}; walk-forward efficiency {}.\n\
         Monte Carlo (block bootstrap, {} paths): final equity {} .. {} at 95%, a loss in {:.1}% of paths.\n\n{}\n\
         Reports: {} (the three compared), {}, {}, {}\n",
        s["data"].as_str().unwrap_or("?"),
        o["start"].as_str().unwrap_or("?"),
        o["end"].as_str().unwrap_or("?"),
        o["windows"],
        o["test_bars"],
        o["train_bars"],
        s["settings"]["epochs"],
        if s["beat_both"].as_bool() == Some(true) {
            "beat"
        } else {
            "did not beat"
        },
        if s["lead_significant"].as_bool() == Some(true) {
            "significant at 5%"
        } else {
            "not significant at 5%"
        },
        p("against_buy_and_hold"),
        p("against_sma_cross"),
        num(&s["deflated_sharpe_ratio"]),
        num(&s["walk_forward_efficiency"]),
        s["monte_carlo"]["paths"],
        num(&fe["lower"]),
        num(&fe["upper"]),
        100.0 * s["monte_carlo"]["prob_loss"].as_f64().unwrap_or(f64::NAN),
        render(decision).trim_end(),
        s["reports"]["report"].as_str().unwrap_or(""),
        s["reports"]["walk_forward"].as_str().unwrap_or(""),
        s["reports"]["monte_carlo"].as_str().unwrap_or(""),
        s["reports"]["data_quality"].as_str().unwrap_or(""),
    )
}

/// The run, tracked: the headline numbers of the three as metrics, the summary and the report
/// as artifacts.
fn track(
    loaded: &qts_config::Loaded,
    s: &Value,
    report: &std::path::Path,
    stamp: &qts_backtest::report::Stamp,
) -> Result<(), Failure> {
    use qts_cli::commands::track::{data_tags, finish, new_run, now_ms};
    let mut run = new_run(loaded, "run", "run: model vs baselines".into(), now_ms());
    for who in ["model", "sma_cross", "buy_and_hold"] {
        if let Some(m) = s[who].as_object() {
            for (k, v) in m {
                if let Some(x) = v.as_f64() {
                    run.metric(&format!("{who}.{k}"), x);
                }
            }
        }
    }
    for k in ["deflated_sharpe_ratio", "walk_forward_efficiency"] {
        if let Some(x) = s[k].as_f64() {
            run.metric(k, x);
        }
    }
    for k in ["against_buy_and_hold", "against_sma_cross"] {
        if let Some(x) = s[k]["p_value"].as_f64() {
            run.metric(&format!("{k}.p_value"), x);
        }
    }
    run.tags.extend(data_tags(&stamp.data_hash, &stamp.files));
    run.inline.push((
        "summary.json".into(),
        (serde_json::to_string_pretty(s).unwrap_or_default() + "\n").into_bytes(),
    ));
    if let Ok(page) = std::fs::read(report) {
        run.inline.push(("report.html".into(), page));
    }
    finish(loaded, run).map(|_| ())
}

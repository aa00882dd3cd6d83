//! The main job, end to end, on one symbol's bars or a universe's: validate them; walk the
//! model forward (retrained on every train window — pooled over a universe's symbols — its
//! forecasts of the next window traded by the signal strategy, or ranked by `rank` for a
//! universe, under `backtest_config.yaml`'s sizing, stops, breaker and rebalancing); trade the
//! same windows with buy-and-hold (a universe: in equal weights, rebalanced on the same
//! schedule) and the SMA crossover; test the model's Sharpe ratio against
//! each baseline's (Jobson–Korkie–Memmel); deflate it for the candidates compared; bootstrap
//! its out-of-sample returns; write the reports; track the run; and decide the next session
//! with the latest model. Every stage is the library use case the single commands call;
//! `qts run` and `qts_torch.run` call this.

use std::path::{Path, PathBuf};

use qts_backtest::decide::Decision;
use qts_backtest::strategy::SignalSeries;
use qts_core::logging::RunContext;
use qts_models::Registry;
use qts_report::folder::Stats;
use qts_report::html::{
    Banner, ComparedRun, data_quality_page, monte_carlo_page, run_page, series_of,
    universe_quality_page,
};
use qts_research::session::Session;
use qts_research::summary::{
    DecisionSummary, Headline, MonteCarloSummary, OutOfSample, Reports, RunBenchmark, RunReport,
    RunSettings, RunUniverse, Terms,
};
use qts_research::track::{Tracker, data_tags};
use qts_research::verdict::{RunVerdict, beats, deflate, lead_significant};
use qts_research::walk_forward::{Fold, Schedule, Span, WalkForwardReport, walk};
use qts_research::{Progress, ResearchError};
use qts_stats::compare::{RunSeries, compare};
use qts_stats::metrics::{Metric, simple_returns};
use qts_stats::monte_carlo::{Method, Request, simulate};
use qts_stats::significance::{LEVEL, sharpe_difference};

use crate::error::JobError;
use crate::folds::Folds;

/// Stages of the main job, as [`Progress::stage`] hears them.
pub const STAGES: usize = 7;

/// The settings `qts run` finishes in minutes with on a laptop, as `--set` overrides, each
/// dropped where the user's own `overrides` set the key: 10 epochs with 1 of warm-up, and
/// checkpoints under `out`. Both front ends load the configuration with these first.
pub fn quick_overrides(out: &Path, overrides: &[String]) -> Vec<String> {
    let checkpoints = out.join("checkpoints");
    let mut all: Vec<String> = [
        ("model.training.epochs", "10".to_string()),
        ("model.training.warmup_epochs", "1".to_string()),
        (
            "model.training.checkpoints.directory",
            checkpoints.display().to_string(),
        ),
    ]
    .into_iter()
    .filter(|(key, _)| !overrides.iter().any(|o| o.starts_with(&format!("{key}="))))
    .map(|(key, value)| format!("{key}={value}"))
    .collect();
    all.extend(overrides.iter().cloned());
    all
}

/// What trades the model's forecasts in the main job (and a model's walk-forward): `asked` (`signal` or `rank`), or by
/// default `signal` for one symbol and `rank` for a universe (a wide file is known to be one
/// only once read, so the session is opened with `asked` or `signal` and set here).
///
/// # Errors
/// [`JobError`] for another strategy, or `rank` of one symbol.
pub fn choose_strategy(session: &mut Session, asked: Option<&str>) -> Result<(), JobError> {
    if let Some(name) = asked.filter(|n| !matches!(*n, "rank" | "signal")) {
        return Err(JobError::input(format!(
            "strategy `{name}`: a model's forecasts are traded by `signal` (one symbol) or `rank` (a universe)"
        )));
    }
    let several = session.market.bars().len() > 1;
    match asked {
        None if several => {
            session.strategy = "rank".into();
            session.settings.overlays_for("rank", false)?;
        }
        Some("rank") if !several => {
            return Err(JobError::input(
                "strategy `rank` ranks a universe: give several symbols (--symbols A,B,…, --universe FILE, a wide file or several --data)",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The main job, as asked.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the pages, `summary.json` and the checkpoints go.
    pub out: PathBuf,
    /// Bars each model trains on (`backtest.walk_forward.train_days` when `None`).
    pub train: Option<usize>,
    /// Bars of each test window (`backtest.walk_forward.test_days` when `None`).
    pub test: Option<usize>,
    /// Monte Carlo paths.
    pub paths: usize,
    /// A benchmark's returns and its name (`--benchmark FILE`): shown beside the baselines,
    /// with the model's alpha, beta and information ratio against it.
    pub benchmark: Option<(qts_data::io::ReturnSeries, String)>,
}

/// What the main job gives: its report (`summary.json`), the three walks and the decision.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// `summary.json`.
    pub report: RunReport,
    /// The model's walk-forward.
    pub model: WalkForwardReport,
    /// The SMA crossover's, on the same windows.
    pub sma_cross: WalkForwardReport,
    /// Buy-and-hold's.
    pub buy_and_hold: WalkForwardReport,
    /// The decision for the next session.
    pub decision: Decision,
}

impl RunOutcome {
    /// The three walks in the order the summary lists them.
    pub fn walks(&self) -> [&WalkForwardReport; 3] {
        [&self.model, &self.sma_cross, &self.buy_and_hold]
    }
}

/// A walk's stitched out-of-sample equity as the comparison page reads it.
fn series(
    name: &str,
    strategy: &str,
    w: &WalkForwardReport,
    settings: &qts_backtest::engine::ActiveSettings,
) -> ComparedRun {
    ComparedRun {
        series: RunSeries {
            name: name.to_string(),
            days: w
                .oos_equity
                .iter()
                .filter_map(|r| r.0.parse().ok())
                .collect(),
            equity: w.oos_equity.iter().map(|r| r.1).collect(),
        },
        stats: Stats {
            strategy: strategy.to_string(),
            start: w.oos_equity.first().map(|r| r.0.clone()),
            end: w.oos_equity.last().map(|r| r.0.clone()),
            in_sample: false,
            metrics: w.out_of_sample.clone(),
            settings: serde_json::to_value(settings).unwrap_or_default(),
            ..Stats::default()
        },
    }
}

/// An equity curve over the model's out-of-sample days compounded from `initial` by
/// `returns` (one a day after the first), and its metrics with the final equity and total
/// return, as a walk's are.
fn compounded(
    model: &WalkForwardReport,
    returns: &[f64],
    initial: f64,
    settings: &qts_stats::metrics::MetricsConfig,
) -> (Vec<(String, f64)>, qts_stats::metrics::Metrics) {
    use qts_stats::metrics::{Value, return_metrics};
    let mut e = initial;
    let mut equity = Vec::with_capacity(returns.len() + 1);
    for (k, day) in model.oos_equity.iter().take(returns.len() + 1).enumerate() {
        if k > 0 {
            e *= 1.0 + returns[k - 1];
        }
        equity.push((day.0.clone(), e));
    }
    let mut metrics = return_metrics(returns, None, settings);
    metrics.insert(Metric::FinalEquity, Value::Number(e));
    metrics.insert(Metric::TotalReturn, Value::Number(e / initial - 1.0));
    (equity, metrics)
}

/// The holding baseline at the model's exposure: each day the holding's return (its stitched
/// out-of-sample equity's) times the model's net exposure at the close before, from the same
/// starting equity — what holding would have made invested only as much as the model was.
/// Its equity by day and its metrics.
fn at_exposure(
    model: &WalkForwardReport,
    hold: &WalkForwardReport,
    initial: f64,
    settings: &qts_stats::metrics::MetricsConfig,
) -> (Vec<(String, f64)>, qts_stats::metrics::Metrics) {
    let n = model
        .oos_equity
        .len()
        .min(hold.oos_equity.len())
        .min(model.oos_exposure.len());
    let returns: Vec<f64> = (1..n)
        .map(|t| {
            let (before, now) = (hold.oos_equity[t - 1].1, hold.oos_equity[t].1);
            let r = if before != 0.0 {
                now / before - 1.0
            } else {
                0.0
            };
            model.oos_exposure[t - 1] * r
        })
        .collect();
    compounded(model, &returns, initial, settings)
}

/// A benchmark over the model's out-of-sample days: its equity by day (held from the same
/// start, no costs), its metrics, and the model's metrics against it.
type OverBenchmark = (
    Vec<(String, f64)>,
    qts_stats::metrics::Metrics,
    qts_stats::metrics::Metrics,
);

/// [`OverBenchmark`] of `series` (named `name`): alpha, beta and information ratio among the
/// model's metrics against it.
///
/// # Errors
/// [`ResearchError`] naming a day the benchmark has no return for.
fn benchmark_over(
    model: &WalkForwardReport,
    (series, name): &(qts_data::io::ReturnSeries, String),
    initial: f64,
    settings: &qts_stats::metrics::MetricsConfig,
) -> Result<OverBenchmark, ResearchError> {
    let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN);
    let days: Vec<chrono::NaiveDateTime> = model
        .oos_equity
        .iter()
        .filter_map(|r| r.0.parse().ok())
        .map(midnight)
        .collect();
    let dates: Vec<chrono::NaiveDateTime> =
        series.time.iter().map(|t| midnight(t.date())).collect();
    let returns = qts_stats::metrics::align_benchmark(
        days.get(1..).unwrap_or_default(),
        &dates,
        &series.returns,
        name,
    )?;
    let (equity, held) = compounded(model, &returns, initial, settings);
    let model_returns = simple_returns(&model.oos_equity.iter().map(|r| r.1).collect::<Vec<_>>());
    let against = qts_stats::metrics::return_metrics(&model_returns, Some(&returns), settings);
    Ok((equity, held, against))
}

/// Why the out-of-sample span ends before the data does, and how the decision's equity relates
/// to the out-of-sample equity: one continuous account replayed over the same forecasts.
fn run_notes(
    model: &WalkForwardReport,
    bars_after: usize,
    test_bars: usize,
    last_day: &str,
    decision_equity: f64,
) -> Vec<String> {
    let mut notes = Vec::new();
    let (Some(first), Some(last)) = (model.oos_equity.first(), model.oos_equity.last()) else {
        return notes;
    };
    if bars_after > 0 {
        notes.push(format!(
            "The out-of-sample span ends on {}: the {bars_after} bars after it, to {last_day}, are fewer than a test window ({test_bars} bars), so no model was tested on them and no number above includes them.",
            last.0
        ));
    }
    notes.push(format!(
        "The decision's equity ({decision_equity:.2} at the close of {last_day}) is the model's forecasts replayed as one account from {}: positions carried across windows (the walk-forward closes them at each window's end, ending at {:.2} on {}){}.",
        first.0,
        last.1,
        last.0,
        if bars_after > 0 {
            ", then through the bars after the last window on that window's model's forecasts (trained before them: out of sample), the last bar's from the latest model"
        } else {
            ""
        }
    ));
    notes
}

fn write(path: &Path, page: &str) -> Result<(), JobError> {
    qts_report::write_page(path, page).map_err(|source| {
        ResearchError::Write {
            path: path.display().to_string(),
            source,
        }
        .into()
    })
}

/// Runs the main job on `session` (one symbol and the signal strategy, or a universe and
/// `rank` — or `signal` — with the session's parameters; its configuration's model section is
/// the model walked forward), `source` naming the data.
///
/// # Errors
/// [`JobError`]: a universe asked to trade another strategy, windows that do not fit the data, a training failure, a
/// page that cannot be written, [`ResearchError::Cancelled`].
pub fn run(
    session: &Session,
    source: &str,
    options: &RunOptions,
    progress: &dyn Progress,
    tracker: &Tracker<'_>,
) -> Result<RunOutcome, JobError> {
    let started = std::time::Instant::now();
    let cfg = session.config();
    let all = session.market.bars();
    // A universe: the model pooled over its symbols per window, its forecasts ranked; the
    // equal-weight universe is the holding baseline.
    let universe = all.len() > 1;
    if universe && !matches!(session.strategy.as_str(), "rank" | "signal") {
        return Err(JobError::input(format!(
            "a universe's forecasts are traded by `rank` (or `signal`), not `{}`",
            session.strategy
        )));
    }
    progress.stage(1, STAGES, "validating the data");
    let bars = &all[0];
    let span = RunContext::new("run")
        .model_type(cfg.model.architecture.to_string())
        .symbol(if universe {
            format!("{} symbols", all.len())
        } else {
            bars.symbol.clone()
        })
        .span();
    let _run = span.enter();
    let n = bars.len();
    let last_day = bars.time[n - 1].date();
    std::fs::create_dir_all(&options.out).map_err(|source| ResearchError::Write {
        path: options.out.display().to_string(),
        source,
    })?;
    let page = |name: &str| options.out.join(name);
    let validate = |b: &qts_data::BarSeries| {
        qts_data::validate::validate(b, &cfg.validation, &cfg.data.quality, last_day)
    };
    let quality_page = if universe {
        // Each symbol on the bars it has.
        let reports: Vec<_> = all
            .iter()
            .map(|b| validate(&qts_data::universe::present(b)))
            .collect();
        universe_quality_page(source, &reports)
    } else {
        data_quality_page(source, bars, &validate(bars))
    };
    write(&page("data_quality.html"), &quality_page)?;

    let schedule = Schedule::from_config(
        &cfg.backtest.walk_forward,
        options.train,
        options.test,
        None,
        false,
    );
    progress.stage(
        2,
        STAGES,
        "walking the model forward (a model trained on each window)",
    );
    let folds = Folds {
        session,
        name: format!("{}-run", cfg.model.name),
        source: source.to_string(),
        maximize: Metric::SharpeRatio,
        registry: Registry::new(&cfg.registry.directory),
        progress,
    };
    let last_window = qts_research::walk_forward::windows(n, &schedule)?.len();
    let mut forecasts = vec![Vec::new(); all.len()];
    let model = walk(
        &session.market,
        &session.settings,
        &schedule,
        Metric::SharpeRatio,
        &session.stamp,
        &mut |s: Span| {
            // The last window's model also forecasts the bars after its test window (too few
            // for another window): out of sample for them, they carry the decision's account
            // to the last bar.
            let to = if s.window == last_window {
                n - 1
            } else {
                s.test.1
            };
            let (fold, rows) = folds.fold_to(s, to)?;
            for (each, window) in forecasts.iter_mut().zip(rows) {
                each.extend(window);
            }
            Ok::<Fold, JobError>(fold)
        },
        progress,
    )?;

    progress.stage(
        3,
        STAGES,
        "the same windows for buy-and-hold and the SMA crossover",
    );
    let sma_name = session.build("sma-cross", &[], None)?.name();
    let baseline = |name: &str, label: &str, settings: &qts_backtest::report::Settings| {
        walk(
            &session.market,
            settings,
            &schedule,
            Metric::SharpeRatio,
            &session.stamp,
            &mut |_| {
                Ok::<Fold, ResearchError>(Fold {
                    strategy: session.build(name, &[], None)?,
                    label: label.to_string(),
                    in_sample: None,
                    in_sample_annual_return: f64::NAN,
                })
            },
            &(),
        )
    };
    // The SMA crossover sized as configured (a universe's model sets its own weights); the
    // holding: buy-and-hold, or a universe in equal weights rebalanced on the model's schedule.
    let mut sma_settings = session.settings.clone();
    sma_settings.overlays_for("sma-cross", false)?;
    let sma = baseline("sma-cross", &sma_name, &sma_settings)?;
    let holding = if universe {
        "equal-weight"
    } else {
        "buy-and-hold"
    };
    let mut hold_settings = session.settings.clone();
    hold_settings.overlays_for(holding, false)?;
    let hold = baseline(holding, holding, &hold_settings)?;

    let (exposed, exposed_metrics) = at_exposure(
        &model,
        &hold,
        cfg.backtest.initial_capital,
        &session.settings.metrics,
    );
    let bench = options
        .benchmark
        .as_ref()
        .map(|b| {
            benchmark_over(
                &model,
                b,
                cfg.backtest.initial_capital,
                &session.settings.metrics,
            )
            .map(|x| (b.1.clone(), x))
        })
        .transpose()?;
    progress.stage(4, STAGES, "testing the lead and deflating the Sharpe ratio");
    let returns = |w: &WalkForwardReport| {
        simple_returns(&w.oos_equity.iter().map(|r| r.1).collect::<Vec<_>>())
    };
    let (rm, rs, rh) = (returns(&model), returns(&sma), returns(&hold));
    let vs_hold = sharpe_difference(&rm, &rh).ok();
    let vs_sma = sharpe_difference(&rm, &rs).ok();
    let vs_bench = bench.as_ref().and_then(|(_, (equity, _, _))| {
        sharpe_difference(
            &rm,
            &simple_returns(&equity.iter().map(|x| x.1).collect::<Vec<_>>()),
        )
        .ok()
    });
    let vs_exposed = sharpe_difference(
        &rm,
        &simple_returns(&exposed.iter().map(|x| x.1).collect::<Vec<_>>()),
    )
    .ok();
    let names = vec![
        "model".to_string(),
        "sma_cross".to_string(),
        "buy_and_hold".to_string(),
    ];
    let deflation = deflate(&names, &[rm.clone(), rs, rh]);
    let beat_both = beats(&model.out_of_sample, &sma.out_of_sample)
        && beats(&model.out_of_sample, &hold.out_of_sample);
    let significant = lead_significant(&[vs_hold, vs_sma], LEVEL);
    let verdict = RunVerdict::of(vs_hold.as_ref(), vs_sma.as_ref(), LEVEL);
    let active = session.settings.engine.active();
    let sma_active = sma_settings.engine.active();
    let hold_active = hold_settings.engine.active();

    progress.stage(
        5,
        STAGES,
        "Monte Carlo of the model's out-of-sample returns",
    );
    let mc = simulate(&Request {
        sample: &rm,
        periods_per_year: f64::from(cfg.backtest.metrics.periods_per_year),
        method: Method::Block {
            size: cfg.backtest.monte_carlo.block_size,
        },
        paths: options.paths,
        seed: cfg.reproducibility.seed,
        horizon: None,
        level: cfg.backtest.monte_carlo.confidence,
        drawdown: 0.2,
        initial: cfg.backtest.initial_capital,
        budget: cfg.budget,
    })?
    .of("the model's stitched out-of-sample daily returns");

    progress.stage(6, STAGES, "deciding the next session with the latest model");
    // The latest model: trained on the last train window, up to the last bar; its forecast of
    // the last bar is out of sample (that bar's next return is not known). Days after the last
    // complete test window and before the last bar have no out-of-sample forecast.
    let (latest, live) = Folds {
        progress: &(),
        ..folds
    }
    .train_and_forecast_all("latest", (n - schedule.train, n - 1), n - 1)?;
    let first_test = model
        .windows
        .first()
        .and_then(|w| w.test_start.parse().ok());
    let mut strategy = if universe {
        // Every symbol's out-of-sample forecasts, and the latest model's of the last bar for
        // the symbols that have one (its earlier ones are of its own train window).
        let w = all.len();
        let mut prediction = vec![f64::NAN; n * w];
        for (s, (tested, latest)) in forecasts.iter().zip(&live).enumerate() {
            let last = latest.last().filter(|(t, _)| *t == bars.time[n - 1]);
            for (t, v) in tested.iter().chain(last) {
                if let Ok(i) = bars.time.binary_search(t) {
                    prediction[i * w + s] = *v;
                }
            }
        }
        let panel = SignalSeries {
            symbols: all.iter().map(|b| b.symbol.clone()).collect(),
            prediction,
            ..SignalSeries::default()
        };
        session.build(&session.strategy, &session.params, Some(panel))?
    } else {
        let latest = live.first().and_then(|l| l.last());
        // The latest model's forecast of the last bar replaces the last window's.
        let mut rows: Vec<_> = forecasts[0]
            .iter()
            .filter(|(t, _)| latest.is_none_or(|l| l.0 != *t))
            .map(|(t, v)| (*t, *v, None, None))
            .collect();
        if let Some((t, v)) = latest {
            rows.push((*t, *v, None, None));
        }
        session.build("signal", &[], Some(SignalSeries::align(&bars.time, &rows)))?
    };
    let traded = strategy.name();
    let decision = session.decide_at(strategy.as_mut(), last_day, first_test)?;

    let oos_end = model.oos_equity.last().map(|r| r.0.clone());
    let bars_after = oos_end
        .as_deref()
        .and_then(|e| bars.time.iter().rposition(|t| t.date().to_string() == e))
        .map_or(0, |i| n - 1 - i);
    let mut notes = session.market.notes().to_vec();
    notes.extend(run_notes(
        &model,
        bars_after,
        schedule.test,
        &last_day.to_string(),
        decision.equity,
    ));
    progress.stage(7, STAGES, "writing the reports and tracking the run");
    let mut compared = vec![
        series(
            "model (walk-forward)",
            &format!("{} retrained per window", cfg.model.name),
            &model,
            &active,
        ),
        series("sma-cross", &sma_name, &sma, &sma_active),
        series(holding, holding, &hold, &hold_active),
        ComparedRun {
            series: RunSeries {
                name: format!("{holding} at the model's exposure"),
                days: exposed.iter().filter_map(|r| r.0.parse().ok()).collect(),
                equity: exposed.iter().map(|r| r.1).collect(),
            },
            stats: Stats {
                strategy: format!(
                    "{holding}'s daily return times the model's net exposure at the close before"
                ),
                start: exposed.first().map(|r| r.0.clone()),
                end: exposed.last().map(|r| r.0.clone()),
                in_sample: false,
                metrics: exposed_metrics.clone(),
                ..Stats::default()
            },
        },
    ];
    if let Some((name, (equity, metrics, _))) = &bench {
        compared.push(ComparedRun {
            series: RunSeries {
                name: format!("benchmark ({name})"),
                days: equity.iter().filter_map(|r| r.0.parse().ok()).collect(),
                equity: equity.iter().map(|r| r.1).collect(),
            },
            stats: Stats {
                strategy: format!("{name}, held over the same days (no costs)"),
                start: equity.first().map(|r| r.0.clone()),
                end: equity.last().map(|r| r.0.clone()),
                in_sample: false,
                metrics: metrics.clone(),
                ..Stats::default()
            },
        });
    }
    let c = compare(&series_of(&compared))?;
    let run_universe = universe.then(|| RunUniverse {
        symbols: all.iter().map(|b| b.symbol.clone()).collect(),
        strategy: traded.clone(),
        buy_and_hold: format!(
            "equal weights of the symbols tradable at each rebalance ({}), under the model's costs and limits",
            cfg.trading.rebalance
        ),
        sma_cross: "the SMA crossover on each symbol, sized as backtest_config.yaml sizes".into(),
        model: model.universe.clone().unwrap_or_else(|| empty_universe(all.len())),
    });
    let hold_title = if universe {
        "the equal-weight universe"
    } else {
        "buy-and-hold"
    };
    let banner = Banner {
        verdict: verdict.overall,
        text: verdict.sentence_against(hold_title, vs_hold.as_ref(), vs_sma.as_ref()),
    };
    write(
        &page("report.html"),
        &run_page(&compared, &c, Some(&banner), model.universe.as_ref()),
    )?;
    let what = if universe {
        format!(
            "the model {} pooled over {} symbols, retrained on each window, its forecasts traded by {traded}",
            cfg.model.name,
            all.len()
        )
    } else {
        format!("the model {} retrained on each window", cfg.model.name)
    };
    write(
        &page("walk_forward.html"),
        &qts_report::html::walk_forward_report_page(&model, &what, source),
    )?;
    write(&page("monte_carlo.html"), &monte_carlo_page(&mc))?;
    write(&page("oos_equity.csv"), &model.oos_equity_csv())?;
    // Cash dividends are in a candidate's equity on raw and split prices with
    // `backtest.dividends` on; on total-return prices they are in the prices.
    let paid = active.dividends && active.price_basis != qts_data::actions::Basis::TotalReturn;
    let report = RunReport {
        data: source.to_string(),
        out_of_sample: OutOfSample {
            start: model.oos_equity.first().map(|r| r.0.clone()),
            end: model.oos_equity.last().map(|r| r.0.clone()),
            bars: model.oos_equity.len(),
            windows: model.windows.len(),
            train_bars: schedule.train,
            test_bars: schedule.test,
            data_end: Some(last_day.to_string()),
            bars_after,
        },
        model: Headline::of_walk(&model, paid),
        sma_cross: Headline::of_walk(&sma, paid),
        buy_and_hold: Headline::of(&hold.out_of_sample),
        buy_and_hold_at_exposure: Some(Headline::of(&exposed_metrics)),
        against_buy_and_hold_at_exposure: vs_exposed,
        benchmark: bench.as_ref().map(|(name, (_, held, against))| {
            let get = |m: &qts_stats::metrics::Metrics, k: &str| {
                m.get(k).map(|v| v.as_f64()).filter(|x| x.is_finite())
            };
            RunBenchmark {
                name: name.clone(),
                headline: Headline::of(held),
                alpha: get(against, "alpha"),
                beta: get(against, "beta"),
                information_ratio: get(against, "information_ratio"),
                against: vs_bench,
            }
        }),
        walk_forward_efficiency: model.walk_forward_efficiency,
        beat_both,
        lead_significant: significant,
        verdict,
        against_buy_and_hold: vs_hold,
        against_sma_cross: vs_sma,
        deflated_sharpe_ratio: deflation.map(|d| d.deflated_sharpe_ratio),
        candidates: names.len(),
        expected_max_sharpe: deflation.map(|d| d.expected_max_sharpe),
        monte_carlo: MonteCarloSummary {
            paths: mc.paths,
            final_equity: mc.final_equity,
            sharpe_ratio: mc.sharpe_ratio,
            max_drawdown: mc.max_drawdown,
            prob_loss: mc.prob_loss,
        },
        latest_model: format!("{}@{}", latest.name, latest.version),
        decision: DecisionSummary::of(&decision),
        notes,
        settings: RunSettings {
            epochs: cfg.model.training.epochs,
            architecture: cfg.model.architecture.to_string(),
            rebalance: cfg.trading.rebalance.to_string(),
            price_basis: active.price_basis,
            dividends: active.dividends,
            terms: Terms {
                model: active.terms(),
                sma_cross: sma_active.terms(),
                buy_and_hold: hold_active.terms(),
            },
        },
        reports: Reports {
            report: page("report.html"),
            walk_forward: page("walk_forward.html"),
            monte_carlo: page("monte_carlo.html"),
            data_quality: page("data_quality.html"),
            oos_equity: page("oos_equity.csv"),
        },
        seconds: started.elapsed().as_secs_f64(),
        universe: run_universe,
    };
    let text = summary_json(&report);
    let summary = page("summary.json");
    qts_core::fs::write_atomic(&summary, text.as_bytes()).map_err(|source| {
        ResearchError::Write {
            path: summary.display().to_string(),
            source,
        }
    })?;
    track(tracker, &report, &text, &page("report.html"), session)?;
    Ok(RunOutcome {
        report,
        model,
        sma_cross: sma,
        buy_and_hold: hold,
        decision,
    })
}

/// The section of a universe whose walk traded nothing (no window produced one).
fn empty_universe(symbols: usize) -> qts_backtest::universe::UniverseStats {
    qts_backtest::universe::UniverseStats {
        symbols,
        min_tradable: 0,
        max_tradable: 0,
        mean_holdings: 0.0,
        rebalances: 0,
        turnover_per_rebalance: 0.0,
        contributions: Vec::new(),
        rank_ic: None,
        top_bucket_hit_rate: None,
        ic_by_date: Vec::new(),
        holdings: Vec::new(),
        tradable: Vec::new(),
        weights: Vec::new(),
        weight_step: 0,
    }
}

/// `summary.json`'s text: the report, pretty, with a final newline (as `--json` prints it).
pub fn summary_json(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// The run, tracked: the headline numbers of the three as metrics, the summary and the report
/// as artifacts.
fn track(
    tracker: &Tracker<'_>,
    r: &RunReport,
    summary: &str,
    report: &Path,
    session: &Session,
) -> Result<(), JobError> {
    if !tracker.enabled() {
        return Ok(());
    }
    let mut run = tracker.new_run("run", "run: model vs baselines".into());
    for (who, h) in [
        ("model", &r.model),
        ("sma_cross", &r.sma_cross),
        ("buy_and_hold", &r.buy_and_hold),
    ] {
        for (k, v) in [
            ("total_return", h.total_return),
            ("cagr", h.cagr),
            ("sharpe_ratio", h.sharpe_ratio),
            ("max_drawdown", h.max_drawdown),
            ("annual_volatility", h.annual_volatility),
            ("num_trades", h.num_trades),
            ("final_equity", h.final_equity),
        ] {
            if let Some(x) = v {
                run.metric(&format!("{who}.{k}"), x);
            }
        }
    }
    if let Some(x) = r.deflated_sharpe_ratio {
        run.metric("deflated_sharpe_ratio", x);
    }
    if let Some(x) = r.walk_forward_efficiency {
        run.metric("walk_forward_efficiency", x);
    }
    if let Some(u) = &r.universe {
        let m = &u.model;
        run.metric("universe.mean_holdings", m.mean_holdings);
        run.metric("universe.turnover_per_rebalance", m.turnover_per_rebalance);
        if let Some(ic) = &m.rank_ic {
            run.metric("universe.rank_ic.mean", ic.mean);
            run.metric("universe.rank_ic.t_stat", ic.t_stat);
        }
        if let Some(x) = m.top_bucket_hit_rate {
            run.metric("universe.top_bucket_hit_rate", x);
        }
    }
    for (k, d) in [
        ("against_buy_and_hold", &r.against_buy_and_hold),
        ("against_sma_cross", &r.against_sma_cross),
    ] {
        if let Some(d) = d
            && !d.p_value.is_nan()
        {
            run.metric(&format!("{k}.p_value"), d.p_value);
        }
    }
    run.tags
        .extend(data_tags(&session.stamp.data_hash, &session.stamp.files));
    run.inline
        .push(("summary.json".into(), summary.as_bytes().to_vec()));
    if let Ok(page) = std::fs::read(report) {
        run.inline.push(("report.html".into(), page));
    }
    tracker.finish(run)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walked(equity: &[f64], exposure: &[f64]) -> WalkForwardReport {
        let mut w: WalkForwardReport = serde_json::from_value(serde_json::json!({
            "windows": [], "out_of_sample": {}, "walk_forward_efficiency": null,
            "maximize": "sharpe_ratio", "buy_and_hold": {}
        }))
        .unwrap();
        w.oos_equity = equity
            .iter()
            .enumerate()
            .map(|(k, e)| (format!("2020-01-{:02}", k + 1), *e, f64::NAN))
            .collect();
        w.oos_exposure = exposure.to_vec();
        w
    }

    #[test]
    fn the_holding_at_the_models_exposure_earns_its_return_times_yesterdays_exposure() {
        let model = walked(&[100.0, 100.0, 100.0, 100.0], &[0.5, 1.0, -0.5, 0.0]);
        let hold = walked(&[200.0, 220.0, 198.0, 297.0], &[1.0; 4]);
        let cfg = qts_stats::metrics::MetricsConfig::default();
        let (equity, metrics) = at_exposure(&model, &hold, 1000.0, &cfg);
        // +10% at half, −10% fully in, +50% half short: 1000 → 1050 → 945 → 708.75.
        let want = [1000.0, 1050.0, 945.0, 708.75];
        for ((day, e), w) in equity.iter().zip(want) {
            assert!((e - w).abs() < 1e-9, "{day}: {e} vs {w}");
        }
        let total = metrics.get("total_return").unwrap().as_f64();
        assert!((total - (708.75 / 1000.0 - 1.0)).abs() < 1e-12);
    }
}

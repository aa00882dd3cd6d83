//! Walk-forward analysis of a strategy: on each train window the parameter search picks the
//! best point, which then trades the test window that follows, out of sample. Test windows
//! tile the out-of-sample period without overlap; each starts flat with the equity the
//! previous one ended with (its positions closed at its last close), so the stitched
//! out-of-sample equity is one account's. Every window is a backtest with the window rule of
//! [`qts_backtest::report::Window`]: its result equals `qts backtest --from test_start --to test_end
//! --cash <its starting equity> --close-at-end` with its parameters.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

fn nan() -> f64 {
    f64::NAN
}

use crate::error::ResearchError;
use crate::optimize::{OptimizeRequest, optimize};
use crate::progress::{Progress, StopOnly};
use qts_backtest::report::{Market, Settings, Stamp, Window, backtest};
use qts_backtest::strategy::registry::Inputs;
use qts_stats::metrics::{Metric, Metrics, Value, return_metrics, simple_returns};

/// Window lengths, in bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Bars in each train window.
    pub train: usize,
    /// Bars in each test window.
    pub test: usize,
    /// Bars between the starts of consecutive test windows (at least `test`).
    pub step: usize,
    /// Train windows all start at the first bar (growing) instead of rolling.
    pub anchored: bool,
}

impl Schedule {
    /// `backtest.walk_forward`'s windows, with what the caller gave in its place (flags,
    /// arguments). The step follows an explicit `test` when none is given: `--test 63` alone
    /// tiles 63-bar windows back to back, as it always has. `anchored` is either's.
    pub fn from_config(
        cfg: &qts_backtest::settings::WalkForwardConfig,
        train: Option<usize>,
        test: Option<usize>,
        step: Option<usize>,
        anchored: bool,
    ) -> Schedule {
        Schedule {
            train: train.unwrap_or(cfg.train_days),
            test: test.unwrap_or(cfg.test_days),
            step: step.or(test).unwrap_or(cfg.step_days),
            anchored: anchored || cfg.anchored,
        }
    }
}

/// One window's outcome, a row of `windows.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowResult {
    /// 1-based.
    pub window: usize,
    /// First train day.
    pub train_start: String,
    /// Last train day.
    pub train_end: String,
    /// First test day.
    pub test_start: String,
    /// Last test day.
    pub test_end: String,
    /// The chosen parameters, as `fast=10;slow=40`.
    pub params: String,
    /// The maximised metric in sample (the train window's best).
    pub in_sample: Option<f64>,
    /// The same metric out of sample (the test window).
    pub out_of_sample: Option<f64>,
    /// The in-sample annual return of the chosen parameters.
    #[serde(skip, default = "nan")]
    pub in_sample_annual_return: f64,
    /// A universe traded on forecasts: the mean rank IC of the window's forecasts against the
    /// next bar's returns (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_ic: Option<f64>,
}

/// The analysis, as `qts walk-forward --json` prints it (and `walk_forward.json` is read back).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalkForwardReport {
    /// Every window.
    pub windows: Vec<WindowResult>,
    /// Every metric of the stitched out-of-sample equity (returns, trades counted over all
    /// windows, final equity).
    pub out_of_sample: Metrics,
    /// Annualised out-of-sample return over the mean annualised in-sample return of the
    /// chosen parameters (Pardo's walk-forward efficiency); `null` when the latter is 0.
    pub walk_forward_efficiency: Option<f64>,
    /// The metric maximised.
    pub maximize: Metric,
    /// The baseline beside it: the return metrics of holding the symbols over the same
    /// out-of-sample days, no costs.
    pub buy_and_hold: Metrics,
    /// The search's overfitting over the out-of-sample span (a strategy's walk-forward): the
    /// whole grid backtested there, its DSR and PBO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overfitting: Option<SpanOverfitting>,
    /// A universe: holdings, turnover, contributions and the forecasts' rank IC over the test
    /// windows stitched (contributions over the starting equity; absent for one symbol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub universe: Option<qts_backtest::universe::UniverseStats>,
    /// The stitched out-of-sample equity: (date, equity, buy-and-hold's equity).
    #[serde(skip)]
    pub oos_equity: Vec<(String, f64, f64)>,
    /// Cash dividends the out-of-sample positions received (paid, when short), summed over
    /// the test windows: in the equity, on `raw` and `split` prices with
    /// `backtest.dividends` on; 0 on `total_return` prices, where they are in the prices.
    #[serde(default)]
    pub dividend_income: f64,
    /// The net exposure at each close of `oos_equity`: positions' value over equity
    /// (`1 − cash / equity`; negative net short).
    #[serde(skip)]
    pub oos_exposure: Vec<f64>,
}

/// DSR and PBO of the grid over the out-of-sample span.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpanOverfitting {
    /// Trials backtested.
    pub trials: usize,
    /// First and last day of the span.
    pub span: (String, String),
    /// DSR of the trial with the best Sharpe ratio over the span.
    pub deflated_sharpe_ratio: Option<f64>,
    /// PBO by CSCV.
    pub probability_of_backtest_overfitting: Option<f64>,
    /// The distribution of λ over the CSCV combinations.
    pub lambda: Option<qts_stats::monte_carlo::Histogram>,
}

impl WalkForwardReport {
    /// `windows.csv`.
    pub fn windows_csv(&self) -> String {
        let mut out = String::from(
            "window,train_start,train_end,test_start,test_end,params,in_sample,out_of_sample\n",
        );
        let num = |v: Option<f64>| {
            v.filter(|x| x.is_finite())
                .map_or(String::new(), |x| x.to_string())
        };
        for w in &self.windows {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                w.window,
                w.train_start,
                w.train_end,
                w.test_start,
                w.test_end,
                w.params,
                num(w.in_sample),
                num(w.out_of_sample)
            );
        }
        out
    }

    /// What a walk-forward's files and page say of it: its JSON with `what` was walked
    /// forward and on which `data`.
    pub fn described(&self, what: &str, data: &str) -> serde_json::Value {
        let mut json = serde_json::to_value(self).unwrap_or_default();
        json["what"] = serde_json::Value::String(what.to_string());
        json["data"] = serde_json::Value::String(data.to_string());
        json
    }

    /// `oos_equity.csv`: each out-of-sample close's equity, buy-and-hold's, and the net
    /// exposure (positions' value over equity) at that close.
    pub fn oos_equity_csv(&self) -> String {
        let mut out = String::from("date,equity,buy_and_hold,exposure\n");
        for (i, (d, e, b)) in self.oos_equity.iter().enumerate() {
            out.push_str(d);
            out.push(',');
            qts_core::text::push_f64(&mut out, *e);
            out.push(',');
            qts_core::text::push_f64(&mut out, *b);
            out.push(',');
            qts_core::text::push_f64(
                &mut out,
                self.oos_exposure.get(i).copied().unwrap_or(f64::NAN),
            );
            out.push('\n');
        }
        out
    }
}

/// The (train start, train end, test start, test end) bars of each window, ends included.
///
/// # Errors
/// [`ResearchError::Parameter`] naming the window's length (`train`, `test`, `step`) that is
/// zero or too short, a step shorter than the test window, or windows longer than the data.
pub fn windows(n: usize, s: &Schedule) -> Result<Vec<(usize, usize, usize, usize)>, ResearchError> {
    let bad = ResearchError::parameter;
    for (name, bars) in [("train", s.train), ("test", s.test)] {
        if bars < 2 {
            return Err(bad(name, format!("must be at least 2 bars, got {bars}")));
        }
    }
    if s.step == 0 {
        return Err(bad("step", "must be at least 1 bar, got 0".into()));
    }
    if s.step < s.test {
        return Err(bad(
            "step",
            format!(
                "{} is shorter than the test window of {} bars: test windows would overlap",
                s.step, s.test
            ),
        ));
    }
    if s.train.saturating_add(s.test) > n {
        return Err(bad(
            "train",
            format!(
                "{} plus a test window of {} bars is longer than the data ({n} bars)",
                s.train, s.test
            ),
        ));
    }
    // Windows fit in the data, so there are at most n / step + 1 of them; the arithmetic is
    // checked, as a step near `usize::MAX` would otherwise wrap.
    let mut out = Vec::with_capacity(n / s.step + 1);
    let mut next = Some(s.train);
    while let Some(test_start) = next {
        let Some(end) = test_start.checked_add(s.test).filter(|end| *end <= n) else {
            break;
        };
        let train_start = if s.anchored { 0 } else { test_start - s.train };
        out.push((train_start, test_start - 1, test_start, end - 1));
        next = test_start.checked_add(s.step);
    }
    Ok(out)
}

/// The bars of one window, ends included (indices into the market's bars).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// 1-based window number.
    pub window: usize,
    /// First and last train bar.
    pub train: (usize, usize),
    /// First and last test bar.
    pub test: (usize, usize),
}

/// What trades a test window, chosen from its train window only.
pub struct Fold {
    /// The strategy that trades the test window.
    pub strategy: Box<dyn qts_backtest::strategy::Strategy>,
    /// What was chosen, as the `params` column shows it (`fast=10;slow=40`, `model=NAME@3`).
    pub label: String,
    /// The maximised metric in sample.
    pub in_sample: Option<f64>,
    /// The in-sample annual return of the choice (for the walk-forward efficiency).
    pub in_sample_annual_return: f64,
}

/// Walks `search` forward over `schedule`'s windows; `progress` hears each finished window
/// and can stop the walk between windows.
///
/// # Errors
/// As [`windows`] and [`optimize`].
pub fn walk_forward(
    search: &OptimizeRequest<'_>,
    schedule: &Schedule,
    progress: &dyn Progress,
) -> Result<WalkForwardReport, ResearchError> {
    let bars = search.market.bars();
    let time = &bars[0].time;
    let day = |i: usize| time[i].date();
    let mut choose = |span: Span| -> Result<Fold, ResearchError> {
        let (a, b) = span.train;
        let train = Settings {
            window: Window {
                from: Some(day(a)),
                to: Some(day(b)),
            },
            ..search.settings.clone()
        };
        let found = optimize(
            &OptimizeRequest {
                settings: &train,
                stamp: search.stamp.clone(),
                overfitting: false,
                ..*search
            },
            &StopOnly(progress),
        )?;
        let best = &found.best;
        let params: Vec<(String, String)> = best
            .params
            .iter()
            .map(|(k, v)| (k.to_string(), v.text()))
            .collect();
        let mut inputs = Inputs {
            symbols: bars.len(),
            signals: search.signals.cloned(),
        };
        let strategy =
            search
                .registry
                .build(search.strategy, &params, &mut inputs, search.regime)?;
        Ok(Fold {
            strategy,
            label: best_label(&best.params),
            in_sample: best.metrics.get(&search.maximize).map(Value::as_f64),
            in_sample_annual_return: best
                .metrics
                .get(&Metric::AnnualReturn)
                .map_or(f64::NAN, |v| v.as_f64()),
        })
    };
    let mut report = walk(
        search.market,
        search.settings,
        schedule,
        search.maximize,
        &search.stamp,
        &mut choose,
        progress,
    )?;
    // How much the search itself overfits, over the days traded out of sample: the whole grid
    // backtested on that span, its DSR and PBO (what the report's λ histogram draws).
    if let (Some(first), Some(last)) = (report.windows.first(), report.windows.last()) {
        let span = Settings {
            window: Window {
                from: first.test_start.parse().ok(),
                to: last.test_end.parse().ok(),
            },
            ..search.settings.clone()
        };
        let all = optimize(
            &OptimizeRequest {
                settings: &span,
                stamp: search.stamp.clone(),
                overfitting: true,
                ..*search
            },
            &StopOnly(progress),
        )?;
        report.overfitting = Some(SpanOverfitting {
            trials: all.trials,
            span: (first.test_start.clone(), last.test_end.clone()),
            deflated_sharpe_ratio: all.deflated_sharpe_ratio,
            probability_of_backtest_overfitting: all.probability_of_backtest_overfitting,
            lambda: (!all.logits.is_empty())
                .then(|| qts_stats::monte_carlo::Histogram::of(all.logits.iter().copied())),
        });
    }
    Ok(report)
}

/// The walk itself, whatever chooses each window's strategy: `choose` sees a window's bars
/// and must use only its train bars (a strategy search, or a model trained on them); the
/// choice then trades the test window from the equity the previous window ended with, flat,
/// its positions closed at the window's last close.
///
/// # Errors
/// As [`windows`], the backtests, and whatever `choose` returns;
/// [`ResearchError::Cancelled`] when `progress` asks to stop.
pub fn walk<E: From<ResearchError>>(
    market: &Market,
    settings: &Settings,
    schedule: &Schedule,
    maximize: Metric,
    stamp: &Stamp,
    choose: &mut dyn FnMut(Span) -> Result<Fold, E>,
    progress: &dyn Progress,
) -> Result<WalkForwardReport, E> {
    let time = &market.bars()[0].time;
    let spans = windows(time.len(), schedule)?;
    let day = |i: usize| time[i].date();
    let mut cash = settings.engine.initial_capital;
    let mut rows = Vec::with_capacity(spans.len());
    let mut stitched: Vec<(String, f64, f64)> = Vec::new();
    let mut exposure: Vec<f64> = Vec::new();
    let mut trades = 0u64;
    let mut dividend_income = 0.0;
    let mut holding = cash;
    // A universe's sections, each with the equity its window started from.
    let mut sections = Vec::new();
    progress.at(0, spans.len());
    for (k, &(a, b, c, d)) in spans.iter().enumerate() {
        if progress.cancelled() {
            return Err(ResearchError::Cancelled.into());
        }
        let mut fold = choose(Span {
            window: k + 1,
            train: (a, b),
            test: (c, d),
        })?;
        let mut test = Settings {
            window: Window {
                from: Some(day(c)),
                to: Some(day(d)),
            },
            ..settings.clone()
        };
        test.engine.initial_capital = cash;
        test.engine.close_at_end = true;
        let mut report = backtest(market, fold.strategy.as_mut(), &test, None, stamp.clone())
            .map_err(ResearchError::from)?;
        let r = &report.result;
        let mut rank_ic = None;
        if let Some(mut section) = report.universe.take() {
            if let Some(forecasts) = fold.strategy.forecasts() {
                section.add_forecasts(
                    market.bars(),
                    forecasts,
                    r.first_bar,
                    r.first_bar + r.equity.len(),
                );
                rank_ic = section.rank_ic.as_ref().map(|ic| ic.mean);
            }
            sections.push((section, cash));
        }
        // Buy-and-hold continues from where it ended the window before.
        let scale = holding / cash;
        stitched.extend(
            r.time
                .iter()
                .zip(&r.equity)
                .zip(&report.buy_and_hold_equity)
                .map(|((t, e), h)| (t.date().to_string(), *e, h * scale)),
        );
        exposure.extend(
            r.cash
                .iter()
                .zip(&r.equity)
                .map(|(c, e)| if *e != 0.0 { 1.0 - c / e } else { 0.0 }),
        );
        holding = stitched.last().map_or(holding, |s| s.2);
        cash = r.equity.last().copied().unwrap_or(cash);
        trades += r.trades.len() as u64;
        dividend_income += report.dividend_income;
        rows.push(WindowResult {
            window: k + 1,
            train_start: day(a).to_string(),
            train_end: day(b).to_string(),
            test_start: day(c).to_string(),
            test_end: day(d).to_string(),
            params: fold.label,
            in_sample: fold.in_sample,
            out_of_sample: report.metrics.get(&maximize).map(Value::as_f64),
            in_sample_annual_return: fold.in_sample_annual_return,
            rank_ic,
        });
        progress.at(k + 1, spans.len());
    }
    let equity: Vec<f64> = stitched.iter().map(|s| s.1).collect();
    let held: Vec<f64> = stitched.iter().map(|s| s.2).collect();
    let mut out_of_sample = return_metrics(&simple_returns(&equity), None, &settings.metrics);
    let first = settings.engine.initial_capital;
    let last = equity.last().copied().unwrap_or(first);
    out_of_sample.insert(Metric::FinalEquity, Value::Number(last));
    out_of_sample.insert(Metric::TotalReturn, Value::Number(last / first - 1.0));
    out_of_sample.insert(Metric::NumTrades, Value::Count(trades));
    out_of_sample.insert(Metric::NumBars, Value::Count(equity.len() as u64));
    let is_annual = rows.iter().map(|w| w.in_sample_annual_return).sum::<f64>() / rows.len() as f64;
    let oos_annual = out_of_sample
        .get(&Metric::AnnualReturn)
        .map_or(f64::NAN, |v| v.as_f64());
    Ok(WalkForwardReport {
        windows: rows,
        walk_forward_efficiency: (is_annual != 0.0 && is_annual.is_finite())
            .then(|| oos_annual / is_annual),
        out_of_sample,
        maximize,
        buy_and_hold: return_metrics(&simple_returns(&held), None, &settings.metrics),
        overfitting: None,
        universe: qts_backtest::universe::UniverseStats::stitch(
            &sections,
            settings.engine.initial_capital,
        ),
        oos_equity: stitched,
        oos_exposure: exposure,
        dividend_income,
    })
}

/// `fast=10;slow=40` of a trial's parameters.
fn best_label(
    params: &std::collections::BTreeMap<&'static str, qts_backtest::strategy::registry::ParamValue>,
) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.text()))
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_fills_in_what_is_not_given() {
        let cfg = qts_backtest::settings::WalkForwardConfig {
            train_days: 500,
            test_days: 100,
            step_days: 120,
            anchored: false,
        };
        let s =
            |train, test, step, anchored| Schedule::from_config(&cfg, train, test, step, anchored);
        let of = |train, test, step, anchored| Schedule {
            train,
            test,
            step,
            anchored,
        };
        assert_eq!(s(None, None, None, false), of(500, 100, 120, false));
        assert_eq!(s(Some(300), None, None, true), of(300, 100, 120, true));
        // An explicit test window without a step tiles back to back, as `--test` always did.
        assert_eq!(s(None, Some(60), None, false), of(500, 60, 60, false));
        assert_eq!(s(None, Some(60), Some(90), false), of(500, 60, 90, false));
        let anchored = qts_backtest::settings::WalkForwardConfig {
            anchored: true,
            ..cfg
        };
        assert!(Schedule::from_config(&anchored, None, None, None, false).anchored);
    }

    #[test]
    fn test_windows_tile_and_train_windows_roll_or_anchor() {
        let s = Schedule {
            train: 100,
            test: 50,
            step: 50,
            anchored: false,
        };
        let w = windows(320, &s).unwrap();
        assert_eq!(
            w,
            [
                (0, 99, 100, 149),
                (50, 149, 150, 199),
                (100, 199, 200, 249),
                (150, 249, 250, 299)
            ]
        );
        let w = windows(
            320,
            &Schedule {
                anchored: true,
                ..s
            },
        )
        .unwrap();
        assert_eq!(w[3], (0, 249, 250, 299));
        let e = windows(120, &s).unwrap_err().to_string();
        assert_eq!(
            e,
            "train 100 plus a test window of 50 bars is longer than the data (120 bars)"
        );
        let e = windows(320, &Schedule { step: 0, ..s })
            .unwrap_err()
            .to_string();
        assert_eq!(e, "step must be at least 1 bar, got 0");
        let e = windows(320, &Schedule { step: 10, ..s })
            .unwrap_err()
            .to_string();
        assert!(e.contains("test windows would overlap"), "{e}");
    }

    #[test]
    fn windows_near_usize_max_are_an_error_or_one_window_never_a_panic() {
        let s = Schedule {
            train: 100,
            test: 50,
            step: 50,
            anchored: false,
        };
        let e = windows(
            320,
            &Schedule {
                train: usize::MAX - 1,
                ..s
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("longer than the data"), "{e}");
        let e = windows(
            320,
            &Schedule {
                test: usize::MAX,
                step: usize::MAX,
                ..s
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("longer than the data"), "{e}");
        let w = windows(
            320,
            &Schedule {
                step: usize::MAX,
                test: 50,
                ..s
            },
        )
        .unwrap();
        assert_eq!(w, [(0, 99, 100, 149)]);
    }
}

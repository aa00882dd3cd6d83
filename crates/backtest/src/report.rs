//! The backtest use case: checked bars, a strategy and settings in, a [`BacktestReport`] out.
//! The report *is* the JSON contract of `qts backtest --json` and `stats.json` (every metric,
//! then the run's description and its provenance stamp); the CLI, `qts run`, the research
//! tools and Python all produce it here, so they cannot drift apart.

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveDateTime};
use qts_core::text::{push_date, push_f64};
use qts_data::io::ReturnSeries;
use qts_data::validate::{CheckedBars, Summary};
use serde::Serialize;

use crate::engine::{BacktestResult, EngineConfig, Execution, check_aligned, run_checked};
use crate::error::BacktestError;
use crate::metrics::{Metrics, MetricsConfig, align_benchmark};
use crate::strategy::Strategy;
use crate::summary::summarize;

/// Bars that passed validation, one series per symbol, all on one calendar (a symbol without a
/// bar at a date holds NaN there: see [`qts_data::universe`]).
#[derive(Debug, Clone)]
pub struct Market {
    bars: Vec<qts_data::BarSeries>,
    validation: Summary,
    notes: Vec<String>,
}

impl Market {
    /// Puts the series on one calendar (the union of their dates, when they differ: see
    /// [`qts_data::universe`]) and adds up their validation findings.
    ///
    /// # Errors
    /// [`BacktestError::Config`] for none, [`BacktestError::Data`] for a symbol given twice.
    pub fn new(checked: Vec<CheckedBars>) -> Result<Market, BacktestError> {
        let mut validation = Summary::default();
        let mut found = Vec::new();
        let bars: Vec<_> = checked
            .into_iter()
            .map(|c| {
                let s = c.summary();
                validation.errors += s.errors;
                validation.warnings += s.warnings;
                validation.infos += s.infos;
                found.push((c.symbol.clone(), c.notes().to_vec()));
                c.into_inner()
            })
            .collect();
        let mut notes = validation_notes(found);
        // Symbols with their own histories trade on the union of their dates.
        let bars = qts_data::universe::union_calendar(bars)?;
        check_aligned(&bars)?;
        notes.extend(qts_data::universe::notes(&bars));
        Ok(Market {
            bars,
            validation,
            notes,
        })
    }

    /// What validation found that every result on these bars states (gaps traded across,
    /// outliers, suspected splits, closes only).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The series.
    pub fn bars(&self) -> &[qts_data::BarSeries] {
        &self.bars
    }

    /// The findings tolerated by validation, over every series.
    pub fn validation(&self) -> Summary {
        self.validation
    }
}

/// The validation findings every result states: each as it is for a few symbols; for a
/// universe, one line per check naming the symbols it was found in (`qts data validate`
/// shows each).
fn validation_notes(found: Vec<(String, Vec<String>)>) -> Vec<String> {
    let symbols = found.len();
    if symbols <= 3 {
        return found.into_iter().flat_map(|(_, n)| n).collect();
    }
    // (check, symbols, first detail), in the order first seen.
    let mut groups: Vec<(String, Vec<String>, String)> = Vec::new();
    let mut other = Vec::new();
    for (symbol, notes) in found {
        for note in notes {
            let prefix = format!("{symbol}: data validation, ");
            let Some((check, detail)) = note
                .strip_prefix(&prefix)
                .and_then(|rest| rest.split_once(": "))
            else {
                other.push(note);
                continue;
            };
            match groups.iter_mut().find(|g| g.0 == check) {
                Some(g) => g.1.push(symbol.clone()),
                None => groups.push((check.to_string(), vec![symbol.clone()], detail.to_string())),
            }
        }
    }
    let mut out: Vec<String> = groups
        .into_iter()
        .map(|(check, names, detail)| {
            let mut shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
            if names.len() > 8 {
                shown.push("…");
            }
            let detail: String = if detail.chars().count() > 160 {
                detail.chars().take(160).chain("…".chars()).collect()
            } else {
                detail
            };
            format!(
                "data validation, {check} in {} of {symbols} symbols ({}); {}: {detail} (`qts data validate` lists each)",
                names.len(),
                shown.join(", "),
                names[0]
            )
        })
        .collect();
    out.extend(other);
    out
}

/// Where the numbers of a report came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamp {
    /// The qts that computed them.
    pub qts_version: String,
    /// SHA-256 of the data files' bytes, in order.
    pub data_hash: String,
    /// The configuration's fingerprint.
    pub config_hash: String,
    /// The data files, as given.
    pub files: Vec<String>,
    /// The configuration files read, with the SHA-256 of each (none: built-in defaults).
    pub config_files: Vec<ConfigFile>,
}

/// A configuration file behind a result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigFile {
    /// The file, as read.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

impl ConfigFile {
    /// The configuration files read, each with the SHA-256 of its bytes (empty when a file
    /// can no longer be read).
    pub fn of_files(files: &[std::path::PathBuf]) -> Vec<ConfigFile> {
        files
            .iter()
            .map(|p| ConfigFile {
                path: p.display().to_string(),
                sha256: std::fs::read(p)
                    .map(|b| qts_core::hex::sha256(&b))
                    .unwrap_or_default(),
            })
            .collect()
    }
}

impl Stamp {
    /// A stamp of this qts version.
    pub fn new(data_hash: String, config_hash: String, files: Vec<String>) -> Stamp {
        Stamp {
            qts_version: env!("CARGO_PKG_VERSION").to_string(),
            data_hash,
            config_hash,
            files,
            config_files: Vec::new(),
        }
    }

    /// The stamp with the configuration files read.
    pub fn with_config_files(mut self, files: Vec<ConfigFile>) -> Stamp {
        self.config_files = files;
        self
    }
}

/// A benchmark to compare against, and its name for errors.
#[derive(Debug, Clone, Copy)]
pub struct Benchmark<'a> {
    /// Its returns.
    pub series: &'a ReturnSeries,
    /// A file name or symbol.
    pub source: &'a str,
}

/// The span a backtest trades: bars before `from` warm up indicators and the strategy's state
/// (no trades, equity flat at the starting cash); bars after `to` are never read; metrics cover
/// the window only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// First day traded (the first bar's day when `None`).
    pub from: Option<NaiveDate>,
    /// Last day traded (the last bar's day when `None`).
    pub to: Option<NaiveDate>,
}

impl Window {
    /// The window's bars in `time`: the first bar traded and one past the last.
    ///
    /// # Errors
    /// [`BacktestError::Window`] when the dates are reversed or the window holds fewer than
    /// two bars.
    pub fn bars(&self, time: &[NaiveDateTime]) -> Result<(usize, usize), BacktestError> {
        let bad = |reason: String| BacktestError::Window(reason);
        if let (Some(f), Some(t)) = (self.from, self.to)
            && f > t
        {
            return Err(bad(format!("--from {f} is after --to {t}")));
        }
        let start = self
            .from
            .map_or(0, |f| time.partition_point(|x| x.date() < f));
        let end = self
            .to
            .map_or(time.len(), |t| time.partition_point(|x| x.date() <= t));
        if end <= start + 1 {
            let span = match (time.first(), time.last()) {
                (Some(a), Some(b)) => format!("{} .. {}", a.date(), b.date()),
                _ => "none".into(),
            };
            let asked = format!(
                "{} .. {}",
                self.from.map_or("start".into(), |d| d.to_string()),
                self.to.map_or("end".into(), |d| d.to_string())
            );
            return Err(bad(format!(
                "the window {asked} holds {} bar(s) of the data ({span}); a backtest needs at least 2",
                end.saturating_sub(start)
            )));
        }
        Ok((start, end))
    }
}

/// Everything a backtest needs besides the market and the strategy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Execution, costs, sizing, risk.
    pub engine: EngineConfig,
    /// Annualisation, risk-free rate, VaR level.
    pub metrics: MetricsConfig,
    /// The span traded.
    pub window: Window,
}

impl Settings {
    /// The settings of a loaded configuration, under `execution`'s rules.
    pub fn from_config(
        cfg: &dyn crate::settings::BacktestSettings,
        execution: Execution,
    ) -> Settings {
        let engine = EngineConfig::from_config(cfg);
        Settings {
            engine: match execution {
                Execution::Default => engine,
                Execution::BacktestingPy => engine.backtesting_py(),
            },
            metrics: cfg.backtest().metrics.to_stats(),
            window: Window::default(),
        }
    }
}

// The conversion lives beside its use, not in the settings module, which only declares.
impl crate::settings::MetricsConfig {
    /// `backtest.metrics` as the statistics crate takes it.
    pub fn to_stats(&self) -> MetricsConfig {
        MetricsConfig {
            periods_per_year: f64::from(self.periods_per_year),
            risk_free_annual: self.risk_free_rate,
            var_confidence: self.var_confidence,
        }
    }
}

/// The outcome of a backtest with its metrics and provenance.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestReport {
    /// Every metric, under its public key.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Strategy and parameters.
    pub strategy: String,
    /// Execution rules.
    pub execution: Execution,
    /// Symbols traded.
    pub symbols: Vec<String>,
    /// First bar's date.
    pub start: Option<String>,
    /// Last bar's date.
    pub end: Option<String>,
    /// Positions still open at the end (symbol, signed shares).
    pub open_positions: Vec<(String, f64)>,
    /// Validation findings tolerated.
    pub validation: Summary,
    /// The rules in force: sizer, caps, stops, breaker, rebalance rule, costs.
    pub settings: crate::engine::ActiveSettings,
    /// The baseline beside it: the return metrics of holding the symbols over the same span
    /// (equal weights rebalanced daily; for one symbol, the holding), no costs.
    pub buy_and_hold: Metrics,
    /// The holding's equity at each close, from the same starting equity (`equity.csv`).
    #[serde(skip)]
    pub buy_and_hold_equity: Vec<f64>,
    /// Cash dividends received over the span (negative: paid on shorts), already in the
    /// equity; 0 on total-return prices, where they are in the price.
    pub dividend_income: f64,
    /// The first symbol's close at each close of the equity curve (`equity.csv`, the
    /// report's price chart).
    #[serde(skip)]
    pub first_close: Vec<f64>,
    /// Whether any number comes from trading predictions of the model's own training or
    /// validation rows (`--allow-in-sample`): such a result is not a test of the model.
    pub in_sample: bool,
    /// Several symbols: tradable and held per close, turnover per rebalance, each symbol's
    /// contribution, and the forecasts' rank IC when forecasts drove it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub universe: Option<crate::universe::UniverseStats>,
    /// What shaped the result that its reader should know (the span chosen, rows dropped).
    pub notes: Vec<String>,
    /// Provenance.
    pub stamp: Stamp,
    /// The equity curve, trades, fills and orders behind the numbers (written as CSV files,
    /// not part of the JSON).
    #[serde(skip)]
    pub result: BacktestResult,
}

/// Runs `strategy` over `market` and measures it.
///
/// # Errors
/// [`BacktestError`] when the benchmark lacks a date of the equity curve.
pub fn backtest(
    market: &Market,
    strategy: &mut dyn Strategy,
    settings: &Settings,
    benchmark: Option<Benchmark<'_>>,
    stamp: Stamp,
) -> Result<BacktestReport, BacktestError> {
    let bars = market.bars();
    let result = if settings.window == Window::default() {
        run_checked(bars, strategy, &settings.engine)?
    } else {
        let (from, until) = settings.window.bars(&bars[0].time)?;
        let engine = EngineConfig {
            trade_from: from,
            trade_until: until,
            ..settings.engine.clone()
        };
        run_checked(bars, strategy, &engine)?
    };
    let bench = match benchmark {
        Some(b) => Some(align_benchmark(
            result.time.get(1..).unwrap_or_default(),
            &b.series.time,
            &b.series.returns,
            b.source,
        )?),
        None => None,
    };
    let metrics = summarize(&result, &bars[0].close, bench.as_deref(), &settings.metrics);
    let holding = holding_returns(
        bars,
        result.first_bar,
        result.equity.len(),
        settings.engine.dividends,
    );
    let buy_and_hold =
        crate::metrics::return_metrics(&holding, bench.as_deref(), &settings.metrics);
    let start_equity = result
        .equity
        .first()
        .copied()
        .unwrap_or(settings.engine.initial_capital);
    let mut buy_and_hold_equity = Vec::with_capacity(result.equity.len());
    buy_and_hold_equity.push(start_equity);
    for r in &holding {
        let last = buy_and_hold_equity[buy_and_hold_equity.len() - 1];
        buy_and_hold_equity.push(last * (1.0 + r));
    }
    Ok(BacktestReport {
        metrics,
        strategy: result.strategy.clone(),
        execution: settings.engine.execution,
        symbols: result.symbols.clone(),
        start: result.time.first().map(|t| t.date().to_string()),
        end: result.time.last().map(|t| t.date().to_string()),
        open_positions: result.open_positions.clone(),
        validation: market.validation(),
        settings: settings.engine.active(),
        buy_and_hold,
        buy_and_hold_equity,
        dividend_income: result.dividends.iter().sum(),
        first_close: bars[0].close[result.first_bar..result.first_bar + result.equity.len()]
            .to_vec(),
        in_sample: false,
        universe: (bars.len() > 1).then(|| crate::universe::universe_stats(&result, bars, None)),
        notes: Vec::new(),
        stamp,
        result,
    })
}

/// Daily returns of holding every symbol with equal weights over `len` bars from `first`:
/// total returns, splits and (with `dividends`) dividends included, each dividend reinvested
/// at its ex-date's theoretical open ([`qts_data::actions::holding_return`]) — on
/// total-return prices the bars' own returns.
fn holding_returns(
    bars: &[qts_data::BarSeries],
    first: usize,
    len: usize,
    dividends: bool,
) -> Vec<f64> {
    use qts_data::actions::{PerBar, holding_return};
    let per_bar: Vec<Option<PerBar>> = bars.iter().map(PerBar::of).collect();
    let ret = |s: usize, prev: f64, t: usize| {
        let close = bars[s].close[t];
        match &per_bar[s] {
            None => close / prev - 1.0,
            Some(p) => {
                let d = if dividends { p.dividend[t] } else { 0.0 };
                holding_return(prev, close, p.split[t], d)
            }
        }
    };
    if !bars.iter().any(qts_data::universe::is_ragged) {
        let n = bars.len() as f64;
        return (first + 1..first + len)
            .map(|t| {
                (0..bars.len())
                    .map(|s| ret(s, bars[s].close[t - 1], t))
                    .sum::<f64>()
                    / n
            })
            .collect();
    }
    // A universe of own histories: each day, the symbols with a bar that day and an earlier
    // one, equally weighted, each from its last close (over a missing day).
    let mut last: Vec<f64> = bars
        .iter()
        .map(|b| {
            b.close[..=first]
                .iter()
                .rev()
                .find(|c| !c.is_nan())
                .copied()
                .unwrap_or(f64::NAN)
        })
        .collect();
    (first + 1..first + len)
        .map(|t| {
            let (mut sum, mut n) = (0.0, 0usize);
            for (s, (b, prev)) in bars.iter().zip(last.iter_mut()).enumerate() {
                let c = b.close[t];
                if c.is_nan() {
                    continue;
                }
                if !prev.is_nan() {
                    sum += ret(s, *prev, t);
                    n += 1;
                }
                *prev = c;
            }
            if n == 0 { 0.0 } else { sum / n as f64 }
        })
        .collect()
}

impl BacktestReport {
    /// The metrics named in `report` (`metrics.report`), in the user's order; all of them when
    /// the list is empty.
    pub fn selected(&self, report: &[String]) -> Vec<(&'static str, crate::metrics::Value)> {
        if report.is_empty() {
            return self.metrics.iter().map(|(k, v)| (k.key(), *v)).collect();
        }
        report
            .iter()
            .filter_map(|r| self.metrics.get_key_value(r.as_str()))
            .map(|(k, v)| (k.key(), *v))
            .collect()
    }

    /// `trades.csv`: one row per closed trade.
    pub fn trades_csv(&self) -> String {
        let mut out = String::from(
            "entry_time,exit_time,side,size,entry_price,exit_price,pnl,return,commission,duration_days,dividends,split\n",
        );
        for t in &self.result.trades {
            push_date(&mut out, t.entry_time.date());
            out.push(',');
            push_date(&mut out, t.exit_time.date());
            let _ = write!(out, ",{}", t.side);
            for x in [
                t.size,
                t.entry_price,
                t.exit_price,
                t.pnl,
                t.ret,
                t.commission,
                t.duration_days,
                t.dividends,
                t.split,
            ] {
                out.push(',');
                push_f64(&mut out, x);
            }
            out.push('\n');
        }
        out
    }

    /// `equity.csv`: equity, cash and drawdown at each close, buy-and-hold's equity from the
    /// same start, the first symbol's close, and the dividends received at that close.
    pub fn equity_csv(&self) -> String {
        let r = &self.result;
        let mut out = String::from("date,equity,cash,drawdown,buy_and_hold,price,dividends\n");
        for i in 0..r.time.len() {
            push_date(&mut out, r.time[i].date());
            for x in [
                r.equity[i],
                r.cash[i],
                r.drawdown[i],
                self.buy_and_hold_equity.get(i).copied().unwrap_or(f64::NAN),
                self.first_close.get(i).copied().unwrap_or(f64::NAN),
                r.dividends.get(i).copied().unwrap_or(0.0),
            ] {
                out.push(',');
                push_f64(&mut out, x);
            }
            out.push('\n');
        }
        out
    }
}

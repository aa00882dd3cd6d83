//! The main job's report: what `qts run` prints with `--json` and writes as `summary.json`,
//! typed. Every number out of sample, each with its baseline beside it, the verdicts as
//! [`crate::verdict`] decides them, and the decision for the next session.

use std::path::PathBuf;

use qts_backtest::decide::{Decision, OrderLine, PositionLine};
use qts_stats::metrics::Metrics;
use qts_stats::monte_carlo::Interval;
use qts_stats::significance::SharpeDifference;
use serde::{Deserialize, Serialize};

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The data file, as given.
    pub data: String,
    /// The out-of-sample span and its windows.
    pub out_of_sample: OutOfSample,
    /// The model walked forward (retrained per window).
    pub model: Headline,
    /// The SMA crossover on the same windows.
    pub sma_cross: Headline,
    /// Buy-and-hold on the same windows (a universe: the equal-weight universe).
    pub buy_and_hold: Headline,
    /// That holding at the model's exposure: each day its return times the model's net
    /// exposure at the close before (the model's terms of exposure, not of sizing); beside
    /// the fully invested one, not in the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy_and_hold_at_exposure: Option<Headline>,
    /// The model's Sharpe ratio against that (Jobson–Korkie–Memmel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against_buy_and_hold_at_exposure: Option<SharpeDifference>,
    /// The benchmark given (`--benchmark`), over the same days; not in the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<RunBenchmark>,
    /// The model's annualised out-of-sample return over its in-sample one.
    pub walk_forward_efficiency: Option<f64>,
    /// Whether the model beat both baselines ([`crate::verdict::beats`]).
    pub beat_both: bool,
    /// Whether its lead over both is significant ([`crate::verdict::lead_significant`]).
    pub lead_significant: bool,
    /// Better, worse or not distinguishable from each baseline ([`crate::verdict::RunVerdict`]).
    pub verdict: crate::verdict::RunVerdict,
    /// Its Sharpe ratio against buy-and-hold's (Jobson–Korkie–Memmel).
    pub against_buy_and_hold: Option<SharpeDifference>,
    /// Against the SMA crossover's.
    pub against_sma_cross: Option<SharpeDifference>,
    /// The model's deflated Sharpe ratio for the candidates compared.
    pub deflated_sharpe_ratio: Option<f64>,
    /// Candidates compared (the model and the two baselines).
    pub candidates: usize,
    /// The Sharpe ratio the best of the candidates reaches by luck (per period).
    pub expected_max_sharpe: Option<f64>,
    /// The Monte Carlo of the model's out-of-sample returns.
    pub monte_carlo: MonteCarloSummary,
    /// The model that decided the next session (`NAME@VERSION`).
    pub latest_model: String,
    /// The decision for the next session.
    pub decision: DecisionSummary,
    /// The settings that shaped the run.
    pub settings: RunSettings,
    /// What a reader needs to read the numbers right: why the span ends where it does, how the
    /// decision's equity relates to the out-of-sample equity.
    pub notes: Vec<String>,
    /// The pages written.
    pub reports: Reports,
    /// Seconds the run took.
    pub seconds: f64,
    /// A universe: its symbols, what its baselines are, and the ranked portfolio's statistics
    /// out of sample (absent for one symbol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub universe: Option<RunUniverse>,
}

impl RunReport {
    /// What `buy_and_hold` is, as a sentence names it: "buy-and-hold", or "the equal-weight
    /// universe".
    pub fn holding_name(&self) -> &'static str {
        if self.universe.is_some() {
            "the equal-weight universe"
        } else {
            "buy-and-hold"
        }
    }
}

/// A benchmark over the model's out-of-sample days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunBenchmark {
    /// The file, as given.
    pub name: String,
    /// Its headline, held over the same days from the same equity (no costs).
    pub headline: Headline,
    /// The model's alpha against it, as `qts backtest --benchmark` computes it.
    pub alpha: Option<f64>,
    /// The model's beta to it.
    pub beta: Option<f64>,
    /// The model's information ratio against it.
    pub information_ratio: Option<f64>,
    /// The model's Sharpe ratio against its (Jobson–Korkie–Memmel).
    pub against: Option<SharpeDifference>,
}

/// The main job on a universe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunUniverse {
    /// The symbols, in the order given.
    pub symbols: Vec<String>,
    /// The strategy that traded the model's forecasts (`rank(top 5, equal)`).
    pub strategy: String,
    /// What the summary's `buy_and_hold` is for a universe.
    pub buy_and_hold: String,
    /// What the summary's `sma_cross` is for a universe.
    pub sma_cross: String,
    /// The model's portfolio over the test windows stitched: holdings, turnover per
    /// rebalance, each symbol's contribution, the forecasts' rank IC (per date: its mean, std,
    /// t-statistic, ICIR) and the top fifth's hit rate.
    pub model: qts_backtest::universe::UniverseStats,
}

/// The out-of-sample span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutOfSample {
    /// First day.
    pub start: Option<String>,
    /// Last day.
    pub end: Option<String>,
    /// Bars.
    pub bars: usize,
    /// Test windows.
    pub windows: usize,
    /// Bars each model trained on.
    pub train_bars: usize,
    /// Bars of each test window.
    pub test_bars: usize,
    /// The data's last day.
    pub data_end: Option<String>,
    /// Bars after the last complete test window, to the data's last day: too few for another
    /// window, so in no out-of-sample number.
    pub bars_after: usize,
}

/// The headline numbers of a candidate out of sample (`null` where not defined).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// Total return.
    pub total_return: Option<f64>,
    /// Compound annual growth.
    pub cagr: Option<f64>,
    /// Annualised Sharpe ratio.
    pub sharpe_ratio: Option<f64>,
    /// Maximum drawdown.
    pub max_drawdown: Option<f64>,
    /// Annualised volatility.
    pub annual_volatility: Option<f64>,
    /// Closed trades.
    pub num_trades: Option<f64>,
    /// Final equity.
    pub final_equity: Option<f64>,
    /// Cash dividends its positions received out of sample (in the equity; paid when short).
    /// `null` for buy-and-hold, whose dividends are reinvested in its total return, and on
    /// `total_return` prices, where they are in the prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dividend_income: Option<f64>,
}

impl Headline {
    /// The headline of a walk: its stitched metrics and the cash dividends it received
    /// (`None`: none paid in cash, see [`Headline::dividend_income`]).
    pub fn of_walk(walk: &crate::walk_forward::WalkForwardReport, paid: bool) -> Headline {
        Headline {
            dividend_income: paid.then_some(walk.dividend_income),
            ..Headline::of(&walk.out_of_sample)
        }
    }

    /// The headline of a walk's stitched metrics.
    pub fn of(m: &Metrics) -> Headline {
        let get = |k: &str| m.get(k).map(|v| v.as_f64()).filter(|x| !x.is_nan());
        Headline {
            total_return: get("total_return"),
            cagr: get("cagr"),
            sharpe_ratio: get("sharpe_ratio"),
            max_drawdown: get("max_drawdown"),
            annual_volatility: get("annual_volatility"),
            num_trades: get("num_trades"),
            final_equity: get("final_equity"),
            dividend_income: None,
        }
    }
}

/// The Monte Carlo's intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonteCarloSummary {
    /// Paths drawn.
    pub paths: usize,
    /// Final equity.
    pub final_equity: Interval,
    /// Annualised Sharpe ratio.
    pub sharpe_ratio: Interval,
    /// Maximum drawdown.
    pub max_drawdown: Interval,
    /// Share of paths ending below the starting equity.
    pub prob_loss: f64,
}

/// The decision for the next session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionSummary {
    /// The close decided at.
    pub as_of: String,
    /// The session the orders are for.
    pub next_session: String,
    /// Equity at the close.
    pub equity: f64,
    /// The orders.
    pub orders: Vec<OrderLine>,
    /// The positions and their targets.
    pub positions: Vec<PositionLine>,
}

impl DecisionSummary {
    /// The summary of `d`.
    pub fn of(d: &Decision) -> DecisionSummary {
        DecisionSummary {
            as_of: d.as_of.clone(),
            next_session: d.next_session.clone(),
            equity: d.equity,
            orders: d.orders.clone(),
            positions: d.positions.clone(),
        }
    }
}

/// The settings that shaped the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Epochs each model trained for.
    pub epochs: usize,
    /// The network.
    pub architecture: String,
    /// The rebalancing rule.
    pub rebalance: String,
    /// The price basis the bars were read on (`data.adjustment`).
    #[serde(default)]
    pub price_basis: qts_data::actions::Basis,
    /// Whether cash dividends were paid to positions (`backtest.dividends`); buy-and-hold is
    /// a total return when they are, or on `total_return` prices.
    #[serde(default = "paid")]
    pub dividends: bool,
    /// The terms each candidate traded under ([`qts_backtest::engine::ActiveSettings::terms`]):
    /// the baselines are not always sized as the model is, and the report says so.
    pub terms: Terms,
}

/// The sizing, caps, stops and schedule each candidate traded under, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Terms {
    /// The model's signal strategy.
    pub model: String,
    /// The SMA crossover.
    pub sma_cross: String,
    /// Buy-and-hold.
    pub buy_and_hold: String,
}

/// The pages written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reports {
    /// The three compared.
    pub report: PathBuf,
    /// The model's walk-forward.
    pub walk_forward: PathBuf,
    /// The Monte Carlo.
    pub monte_carlo: PathBuf,
    /// The data's quality.
    pub data_quality: PathBuf,
    /// The model's stitched out-of-sample equity, buy-and-hold's and the model's exposure
    /// per close (`date,equity,buy_and_hold,exposure`).
    #[serde(default)]
    pub oos_equity: PathBuf,
}

fn paid() -> bool {
    true
}

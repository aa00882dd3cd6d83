//! The metrics qts computes, as one enum: each metric's public key (empyrical's name where
//! empyrical has the metric), its label, the unit it is shown in, its group on a report, its
//! definition, and whether it needs a benchmark. The JSON keys of every result, the metrics a
//! configuration may list (`backtest.metrics.report`), a search's `maximize`, the terminal
//! summary's rows and the report's definitions are all this one table.

use serde::{Deserialize, Serialize};

/// How a metric's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A signed fraction shown as a percentage (a return).
    Percent,
    /// A share or a level shown as a percentage, unsigned.
    Share,
    /// A plain ratio.
    Ratio,
    /// Money.
    Money,
    /// A count or a number of bars or days.
    Whole,
}

/// A report's group of metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter)]
pub enum Group {
    /// Returns.
    Returns,
    /// Risk.
    Risk,
    /// Risk-adjusted returns.
    RiskAdjusted,
    /// Trades.
    Trades,
    /// Costs.
    Costs,
}

impl Group {
    /// The group's heading.
    pub fn label(self) -> &'static str {
        match self {
            Group::Returns => "Returns",
            Group::Risk => "Risk",
            Group::RiskAdjusted => "Risk-adjusted",
            Group::Trades => "Trades",
            Group::Costs => "Costs",
        }
    }
}

/// A metric, serialised (and parsed) as its public key.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    /// Total return.
    TotalReturn,
    /// CAGR.
    Cagr,
    /// Annual return (mean).
    AnnualReturn,
    /// Best day.
    BestDay,
    /// Worst day.
    WorstDay,
    /// Final equity.
    FinalEquity,
    /// Buy & hold from 1st signal.
    BuyAndHoldReturn,
    /// Annual volatility.
    AnnualVolatility,
    /// Max drawdown.
    MaxDrawdown,
    /// Max drawdown bars.
    MaxDrawdownDuration,
    /// Average drawdown.
    AverageDrawdown,
    /// Ulcer index.
    UlcerIndex,
    /// Value at risk (daily).
    ValueAtRisk,
    /// CVaR (daily).
    ConditionalValueAtRisk,
    /// Downside risk.
    DownsideRisk,
    /// Skew.
    Skew,
    /// Kurtosis.
    Kurtosis,
    /// Tail ratio.
    TailRatio,
    /// Beta.
    Beta,
    /// Sharpe.
    SharpeRatio,
    /// Sortino.
    SortinoRatio,
    /// Calmar.
    CalmarRatio,
    /// Omega.
    OmegaRatio,
    /// Stability.
    StabilityOfTimeseries,
    /// Alpha.
    Alpha,
    /// Information ratio.
    InformationRatio,
    /// P(Sharpe > 0).
    ProbabilisticSharpeRatio,
    /// Min track record (bars).
    MinTrackRecordLength,
    /// Trades.
    NumTrades,
    /// Win rate.
    WinRate,
    /// Best trade.
    BestTrade,
    /// Worst trade.
    WorstTrade,
    /// Average trade (geometric).
    AvgTrade,
    /// Expectancy.
    Expectancy,
    /// Average win.
    AvgWin,
    /// Average loss.
    AvgLoss,
    /// Payoff ratio.
    PayoffRatio,
    /// Profit factor.
    ProfitFactor,
    /// SQN.
    Sqn,
    /// Kelly fraction.
    KellyCriterion,
    /// Most wins in a row.
    MaxConsecutiveWins,
    /// Most losses in a row.
    MaxConsecutiveLosses,
    /// Average days held.
    AvgTradeDuration,
    /// Time in the market.
    ExposureTime,
    /// Bars.
    NumBars,
    /// Commission + slippage.
    TotalCosts,
    /// Commission.
    TotalCommission,
    /// Turnover (× equity a year).
    Turnover,
}

impl Metric {
    /// The public key (`sharpe_ratio`).
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// The label a report shows.
    pub fn label(self) -> &'static str {
        match self {
            Metric::TotalReturn => "total return",
            Metric::Cagr => "CAGR",
            Metric::AnnualReturn => "annual return (mean)",
            Metric::BestDay => "best day",
            Metric::WorstDay => "worst day",
            Metric::FinalEquity => "final equity",
            Metric::BuyAndHoldReturn => "buy & hold from 1st signal",
            Metric::AnnualVolatility => "annual volatility",
            Metric::MaxDrawdown => "max drawdown",
            Metric::MaxDrawdownDuration => "max drawdown bars",
            Metric::AverageDrawdown => "average drawdown",
            Metric::UlcerIndex => "ulcer index",
            Metric::ValueAtRisk => "value at risk (daily)",
            Metric::ConditionalValueAtRisk => "CVaR (daily)",
            Metric::DownsideRisk => "downside risk",
            Metric::Skew => "skew",
            Metric::Kurtosis => "kurtosis",
            Metric::TailRatio => "tail ratio",
            Metric::Beta => "beta",
            Metric::SharpeRatio => "Sharpe",
            Metric::SortinoRatio => "Sortino",
            Metric::CalmarRatio => "Calmar",
            Metric::OmegaRatio => "Omega",
            Metric::StabilityOfTimeseries => "stability",
            Metric::Alpha => "alpha",
            Metric::InformationRatio => "information ratio",
            Metric::ProbabilisticSharpeRatio => "P(Sharpe > 0)",
            Metric::MinTrackRecordLength => "min track record (bars)",
            Metric::NumTrades => "trades",
            Metric::WinRate => "win rate",
            Metric::BestTrade => "best trade",
            Metric::WorstTrade => "worst trade",
            Metric::AvgTrade => "average trade (geometric)",
            Metric::Expectancy => "expectancy",
            Metric::AvgWin => "average win",
            Metric::AvgLoss => "average loss",
            Metric::PayoffRatio => "payoff ratio",
            Metric::ProfitFactor => "profit factor",
            Metric::Sqn => "SQN",
            Metric::KellyCriterion => "Kelly fraction",
            Metric::MaxConsecutiveWins => "most wins in a row",
            Metric::MaxConsecutiveLosses => "most losses in a row",
            Metric::AvgTradeDuration => "average days held",
            Metric::ExposureTime => "time in the market",
            Metric::NumBars => "bars",
            Metric::TotalCosts => "commission + slippage",
            Metric::TotalCommission => "commission",
            Metric::Turnover => "turnover (× equity a year)",
        }
    }

    /// The unit its value is shown in.
    pub fn unit(self) -> Unit {
        match self {
            Metric::TotalReturn => Unit::Percent,
            Metric::Cagr => Unit::Percent,
            Metric::AnnualReturn => Unit::Percent,
            Metric::BestDay => Unit::Percent,
            Metric::WorstDay => Unit::Percent,
            Metric::FinalEquity => Unit::Money,
            Metric::BuyAndHoldReturn => Unit::Percent,
            Metric::AnnualVolatility => Unit::Share,
            Metric::MaxDrawdown => Unit::Percent,
            Metric::MaxDrawdownDuration => Unit::Whole,
            Metric::AverageDrawdown => Unit::Percent,
            Metric::UlcerIndex => Unit::Share,
            Metric::ValueAtRisk => Unit::Percent,
            Metric::ConditionalValueAtRisk => Unit::Percent,
            Metric::DownsideRisk => Unit::Share,
            Metric::Skew => Unit::Ratio,
            Metric::Kurtosis => Unit::Ratio,
            Metric::TailRatio => Unit::Ratio,
            Metric::Beta => Unit::Ratio,
            Metric::SharpeRatio => Unit::Ratio,
            Metric::SortinoRatio => Unit::Ratio,
            Metric::CalmarRatio => Unit::Ratio,
            Metric::OmegaRatio => Unit::Ratio,
            Metric::StabilityOfTimeseries => Unit::Ratio,
            Metric::Alpha => Unit::Percent,
            Metric::InformationRatio => Unit::Ratio,
            Metric::ProbabilisticSharpeRatio => Unit::Share,
            Metric::MinTrackRecordLength => Unit::Whole,
            Metric::NumTrades => Unit::Whole,
            Metric::WinRate => Unit::Share,
            Metric::BestTrade => Unit::Percent,
            Metric::WorstTrade => Unit::Percent,
            Metric::AvgTrade => Unit::Percent,
            Metric::Expectancy => Unit::Percent,
            Metric::AvgWin => Unit::Percent,
            Metric::AvgLoss => Unit::Percent,
            Metric::PayoffRatio => Unit::Ratio,
            Metric::ProfitFactor => Unit::Ratio,
            Metric::Sqn => Unit::Ratio,
            Metric::KellyCriterion => Unit::Percent,
            Metric::MaxConsecutiveWins => Unit::Whole,
            Metric::MaxConsecutiveLosses => Unit::Whole,
            Metric::AvgTradeDuration => Unit::Ratio,
            Metric::ExposureTime => Unit::Share,
            Metric::NumBars => Unit::Whole,
            Metric::TotalCosts => Unit::Money,
            Metric::TotalCommission => Unit::Money,
            Metric::Turnover => Unit::Ratio,
        }
    }

    /// The group a report shows it in.
    pub fn group(self) -> Group {
        match self {
            Metric::TotalReturn => Group::Returns,
            Metric::Cagr => Group::Returns,
            Metric::AnnualReturn => Group::Returns,
            Metric::BestDay => Group::Returns,
            Metric::WorstDay => Group::Returns,
            Metric::FinalEquity => Group::Returns,
            Metric::BuyAndHoldReturn => Group::Returns,
            Metric::AnnualVolatility => Group::Risk,
            Metric::MaxDrawdown => Group::Risk,
            Metric::MaxDrawdownDuration => Group::Risk,
            Metric::AverageDrawdown => Group::Risk,
            Metric::UlcerIndex => Group::Risk,
            Metric::ValueAtRisk => Group::Risk,
            Metric::ConditionalValueAtRisk => Group::Risk,
            Metric::DownsideRisk => Group::Risk,
            Metric::Skew => Group::Risk,
            Metric::Kurtosis => Group::Risk,
            Metric::TailRatio => Group::Risk,
            Metric::Beta => Group::Risk,
            Metric::SharpeRatio => Group::RiskAdjusted,
            Metric::SortinoRatio => Group::RiskAdjusted,
            Metric::CalmarRatio => Group::RiskAdjusted,
            Metric::OmegaRatio => Group::RiskAdjusted,
            Metric::StabilityOfTimeseries => Group::RiskAdjusted,
            Metric::Alpha => Group::RiskAdjusted,
            Metric::InformationRatio => Group::RiskAdjusted,
            Metric::ProbabilisticSharpeRatio => Group::RiskAdjusted,
            Metric::MinTrackRecordLength => Group::RiskAdjusted,
            Metric::NumTrades => Group::Trades,
            Metric::WinRate => Group::Trades,
            Metric::BestTrade => Group::Trades,
            Metric::WorstTrade => Group::Trades,
            Metric::AvgTrade => Group::Trades,
            Metric::Expectancy => Group::Trades,
            Metric::AvgWin => Group::Trades,
            Metric::AvgLoss => Group::Trades,
            Metric::PayoffRatio => Group::Trades,
            Metric::ProfitFactor => Group::Trades,
            Metric::Sqn => Group::Trades,
            Metric::KellyCriterion => Group::Trades,
            Metric::MaxConsecutiveWins => Group::Trades,
            Metric::MaxConsecutiveLosses => Group::Trades,
            Metric::AvgTradeDuration => Group::Trades,
            Metric::ExposureTime => Group::Trades,
            Metric::NumBars => Group::Trades,
            Metric::TotalCosts => Group::Costs,
            Metric::TotalCommission => Group::Costs,
            Metric::Turnover => Group::Costs,
        }
    }

    /// Its definition, as `docs/backtest.md` gives it (empty for an account figure).
    pub fn definition(self) -> &'static str {
        match self {
            Metric::TotalReturn => "final equity / initial − 1",
            Metric::Cagr => "(1 + total)^(periods / n) − 1",
            Metric::AnnualReturn => "(1 + total)^(periods / n) − 1",
            Metric::BestDay => "largest and smallest period return",
            Metric::WorstDay => "largest and smallest period return",
            Metric::FinalEquity => "",
            Metric::BuyAndHoldReturn => {
                "last close / close at the end of the warm-up − 1 (first symbol)"
            }
            Metric::AnnualVolatility => "std(returns, n−1) × √periods",
            Metric::MaxDrawdown => "deepest fall from a running peak (negative)",
            Metric::MaxDrawdownDuration => "longest run of bars below a previous peak",
            Metric::AverageDrawdown => "mean depth of the distinct drawdowns",
            Metric::UlcerIndex => "√(Σ drawdown² / (n − 1)), drawdowns as fractions (quantstats)",
            Metric::ValueAtRisk => "5th percentile of returns (historical, 95%)",
            Metric::ConditionalValueAtRisk => "mean of returns at or below that percentile's index",
            Metric::DownsideRisk => "√mean(min(r − rf, 0)²) × √periods",
            Metric::Skew => "bias-corrected sample skewness and excess kurtosis (pandas)",
            Metric::Kurtosis => "bias-corrected sample skewness and excess kurtosis (pandas)",
            Metric::TailRatio => "|95th percentile| / |5th percentile|",
            Metric::Beta => "cov(r, b) / var(b) (with --benchmark)",
            Metric::SharpeRatio => "mean(r − rf) / std(r − rf) × √periods",
            Metric::SortinoRatio => "mean(r − rf) × periods / downside_risk",
            Metric::CalmarRatio => "annual return / |max drawdown|",
            Metric::OmegaRatio => "Σ gains above rf / Σ losses below rf",
            Metric::StabilityOfTimeseries => "R² of a line fitted to cumulative log returns",
            Metric::Alpha => "(1 + mean(r − rf − β(b − rf)))^periods − 1 (with --benchmark)",
            Metric::InformationRatio => {
                "mean(r − b) / std(r − b), per period (quantstats; with --benchmark)"
            }
            Metric::ProbabilisticSharpeRatio => {
                "PSR(0): the probability that the true per-period Sharpe ratio exceeds 0 (Bailey & López de Prado 2012, eq. 11; see overfitting.md)"
            }
            Metric::MinTrackRecordLength => {
                "periods needed for PSR(0) to reach 0.95 (eq. 14); null when the Sharpe ratio is not positive"
            }
            Metric::NumTrades => "closed round trips",
            Metric::WinRate => "share of trades with P&L > 0",
            Metric::BestTrade => "largest and smallest trade return (after commissions)",
            Metric::WorstTrade => "largest and smallest trade return (after commissions)",
            Metric::AvgTrade => "geometric mean trade return",
            Metric::Expectancy => "arithmetic mean trade return",
            Metric::AvgWin => "mean return of winning / losing trades",
            Metric::AvgLoss => "mean return of winning / losing trades",
            Metric::PayoffRatio => "avg win / |avg loss|",
            Metric::ProfitFactor => "Σ winning returns / |Σ losing returns|",
            Metric::Sqn => "√n × mean P&L / std P&L",
            Metric::KellyCriterion => "W − (1 − W) / (mean win P&L / mean loss P&L)",
            Metric::MaxConsecutiveWins => {
                "longest streaks of trades with P&L > 0 (< 0); a zero P&L ends both"
            }
            Metric::MaxConsecutiveLosses => {
                "longest streaks of trades with P&L > 0 (< 0); a zero P&L ends both"
            }
            Metric::AvgTradeDuration => "mean calendar days held",
            Metric::ExposureTime => "share of bars ending with a position",
            Metric::NumBars => "",
            Metric::TotalCosts => "commission + slippage; commission alone",
            Metric::TotalCommission => "commission + slippage; commission alone",
            Metric::Turnover => {
                "Σ |shares × price| over every fill / mean equity of the curve / years (bars ÷ periods_per_year)"
            }
        }
    }

    /// Whether it is measured against a benchmark (and absent without one).
    pub fn needs_benchmark(self) -> bool {
        matches!(
            self,
            Metric::Alpha | Metric::Beta | Metric::InformationRatio
        )
    }
}

// Ordered by key, so a map of metrics lists them alphabetically (the JSON's order).
impl PartialOrd for Metric {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Metric {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(other.key())
    }
}

// Hashed by key too, so that a map keyed by metrics is looked up by a key as well
// (`metrics.get("sharpe_ratio")`): Eq, Ord and Hash agree with the key's.
impl std::hash::Hash for Metric {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl std::borrow::Borrow<str> for Metric {
    fn borrow(&self) -> &str {
        self.key()
    }
}

impl PartialEq<&str> for Metric {
    fn eq(&self, other: &&str) -> bool {
        self.key() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::{IntoEnumIterator, VariantNames};

    #[test]
    fn every_metric_is_its_key_and_back() {
        assert_eq!(Metric::VARIANTS.len(), 48);
        for m in Metric::iter() {
            assert_eq!(m.key().parse::<Metric>().ok(), Some(m));
            assert_eq!(
                serde_json::to_string(&m).ok(),
                Some(format!("\"{}\"", m.key()))
            );
            assert!(!m.label().is_empty());
        }
        assert_eq!(Metric::SharpeRatio.key(), "sharpe_ratio");
        assert_eq!(Metric::Cagr.key(), "cagr");
        assert!("sharpness".parse::<Metric>().is_err());
        assert!(Metric::Beta.needs_benchmark() && !Metric::SharpeRatio.needs_benchmark());
    }

    #[test]
    fn a_map_of_metrics_lists_them_by_key() {
        let keys: Vec<&str> = {
            let mut all: Vec<Metric> = Metric::iter().collect();
            all.sort();
            all.iter().map(|m| m.key()).collect()
        };
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }
}

//! Errors of the backtesting crate.

/// Why a backtest cannot run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// An unknown strategy name.
    #[error("unknown strategy `{0}`; known: buy-and-hold, sma-cross, signal")]
    UnknownStrategy(String),
    /// A parameter the strategy does not take, or a bad value.
    #[error("strategy `{strategy}`: parameter `{param}`: {reason}")]
    Parameter {
        /// Strategy.
        strategy: String,
        /// Parameter.
        param: String,
        /// What is wrong.
        reason: String,
    },
    /// The input data cannot be backtested.
    #[error("{0}")]
    Data(#[from] qts_data::DataError),
    /// Symbols with different timestamps were combined.
    #[error("symbol `{symbol}` has timestamps that differ from `{first}`'s; align the files first")]
    Misaligned {
        /// The first symbol.
        first: String,
        /// The misaligned one.
        symbol: String,
    },
    /// An invalid setting.
    #[error("{0}")]
    Config(String),
}

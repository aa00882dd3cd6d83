//! Errors of the backtesting crate.

/// Why a backtest cannot run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// An unknown strategy name.
    #[error("unknown strategy `{name}`; known: {known}")]
    UnknownStrategy {
        /// The name given.
        name: String,
        /// The registered names.
        known: String,
    },
    /// The signal strategy was asked for without predictions.
    #[error(
        "--strategy {strategy} needs --signals FILE (date,prediction[,lower,upper][,split]; date,symbol,prediction,… for several symbols)"
    )]
    MissingSignals {
        /// The strategy asked for.
        strategy: String,
    },
    /// Several symbols were given with one-symbol predictions.
    #[error(
        "{symbols} symbols trade on predictions of one: give a predictions file in the long format (date,symbol,prediction[,lower,upper][,split]), or one --data file"
    )]
    SignalSymbols {
        /// Symbols of the data.
        symbols: usize,
    },
    /// A file the backtest reads (signals, benchmark) cannot be used.
    #[error("{path}: {reason}")]
    Input {
        /// The file, as the user named it.
        path: String,
        /// What is wrong.
        reason: String,
    },
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
    #[error(transparent)]
    Data(#[from] qts_data::DataError),
    /// A statistic cannot be computed (a parameter out of range, too few returns).
    #[error(transparent)]
    Stats(#[from] qts_stats::StatsError),
    /// Symbols with different timestamps were combined.
    #[error("symbol `{symbol}` has timestamps that differ from `{first}`'s; align the files first")]
    Misaligned {
        /// The first symbol.
        first: String,
        /// The misaligned one.
        symbol: String,
    },
    /// The backtest window cannot be traded.
    #[error("{0}")]
    Window(String),
    /// An invalid setting.
    #[error("{0}")]
    Config(String),
    /// The newest bar is too old to decide on.
    #[error(
        "stale data: the newest bar is {newest}, {sessions} trading day(s) behind {as_of} \
         (monitoring.stale_data_alert_days is {limit}); refresh the data or pass --as-of {newest}"
    )]
    Stale {
        /// The newest bar's day.
        newest: chrono::NaiveDate,
        /// The day decided for.
        as_of: chrono::NaiveDate,
        /// Trading days missing.
        sessions: usize,
        /// The limit.
        limit: u32,
    },
}

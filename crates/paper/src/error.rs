//! What can go wrong with a paper account.

use chrono::NaiveDate;

/// A paper-account failure; every variant names the file or the day it is about.
#[derive(Debug, thiserror::Error)]
pub enum PaperError {
    /// No account in the file (or no file).
    #[error("{path}: no paper account here; open one with `qts paper init --cash N`")]
    NoAccount {
        /// The database file.
        path: String,
    },
    /// `init` on a file that already holds an account.
    #[error(
        "{path}: a paper account is already open here (since {since}); remove the file or set paper.database to open another"
    )]
    Exists {
        /// The database file.
        path: String,
        /// The day it was opened.
        since: String,
    },
    /// The file is not an SQLite database.
    #[error("{path}: not a qts paper account (not an SQLite database)")]
    NotSqlite {
        /// The database file.
        path: String,
        /// SQLite's answer.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer qts.
    #[error(
        "{path}: schema version {found} is newer than this qts understands (up to {supported}); upgrade qts"
    )]
    NewerSchema {
        /// The database file.
        path: String,
        /// The file's version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// Another step holds the account.
    #[error(
        "{path}: another step holds the account (waited {waited_s} s, paper.lock_timeout_seconds); nothing was applied"
    )]
    Locked {
        /// The database file.
        path: String,
        /// Seconds waited.
        waited_s: f64,
    },
    /// The day was already stepped.
    #[error("{day} was already stepped (the account's last step is {last}); nothing was applied")]
    AlreadyStepped {
        /// The newest bar on or before the day asked for.
        day: NaiveDate,
        /// The last day stepped.
        last: NaiveDate,
    },
    /// A day before the last step.
    #[error("{day} is before the account's last step ({last}); steps go forward only")]
    BeforeLastStep {
        /// The day asked for.
        day: NaiveDate,
        /// The last day stepped.
        last: NaiveDate,
    },
    /// The settings that shape trading changed since the account was opened.
    #[error(
        "{path}: the backtest, trading or risk settings differ from those the account was opened with \
         (fingerprint {opened} then, {now} now); use the same configuration, or open another account"
    )]
    SettingsChanged {
        /// The database file.
        path: String,
        /// Fingerprint at init.
        opened: String,
        /// Fingerprint now.
        now: String,
    },
    /// Replaying the account's history no longer gives what was recorded.
    #[error(
        "the data no longer gives the account's recorded history: at {day} the account recorded equity {recorded} \
         and the replay gives {replayed} (a revised or different price file?); nothing was applied"
    )]
    Diverged {
        /// The first day that differs.
        day: String,
        /// Equity recorded then.
        recorded: f64,
        /// Equity replayed now.
        replayed: f64,
    },
    /// A bad argument (negative cash, …).
    #[error("{0}")]
    Invalid(String),
    /// The decision could not be taken.
    #[error(transparent)]
    Backtest(#[from] qts_backtest::BacktestError),
    /// The data could not be used.
    #[error(transparent)]
    Data(#[from] qts_data::DataError),
    /// SQLite failed.
    #[error("{path}: {what}: {source}")]
    Sql {
        /// The database file.
        path: String,
        /// What was being done.
        what: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A file beside the account (alert log, history) could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl PaperError {
    /// Whether the user can fix it (exit 2) rather than a failure while running (exit 1).
    pub fn is_input(&self) -> bool {
        !matches!(self, PaperError::Sql { .. } | PaperError::Write { .. })
    }
}

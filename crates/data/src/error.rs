//! Errors of the data crate: each names the file, row, column or symbol it is about.

use std::path::PathBuf;

/// The error beneath a file error (an OS, CSV or Parquet error, or a message).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong reading or processing market data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file cannot be opened or read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS or format error.
        source: Cause,
    },
    /// The file cannot be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS or format error.
        source: Cause,
    },
    /// Required columns are missing from the header.
    #[error(
        "{path}: missing column(s) {missing}; found {found} (expected date,open,high,low,close,volume[,adj_close], or date,close for closes only; other headers are named with --columns close=Last,volume=Vol or data.providers.local.columns)"
    )]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// The missing names.
        missing: String,
        /// The header as read.
        found: String,
    },
    /// A value does not parse. `row` is the 1-based line in the file (the header is line 1).
    #[error("{path}:{row}: column `{column}`: {reason}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        row: usize,
        /// Column name.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// The file has a header but no rows, or nothing at all.
    #[error("{path}: no bars (the file is empty)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The format is not one qts reads.
    #[error("{path}: unsupported file type; use .csv or .parquet")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
    /// The bars cannot be used as they are (unsorted, duplicate dates, bad prices).
    #[error("{source_name}: {problem}; run `qts data validate` for every finding")]
    Unusable {
        /// File or symbol.
        source_name: String,
        /// The first blocking problem, with its row.
        problem: String,
    },
    /// Validation found a problem at or above the configured `data.quality.fail_on`.
    #[error("{path}: data validation failed ({first}); run `qts data validate {path}`")]
    Invalid {
        /// The file, as the user named it.
        path: String,
        /// The most severe finding's message.
        first: String,
    },
    /// A file parses but its content cannot be used as asked.
    #[error("{path}: {reason}")]
    Content {
        /// The file, as the user named it.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Neither a file, nor a symbol in the local directory or the cache.
    #[error(
        "no file `{input}`, no {input}.csv or {input}.parquet in {} (data.providers.local.directory), \
         and no cached bars for it (qts data fetch --symbols {input})", directory.display()
    )]
    NotFound {
        /// What the user gave.
        input: String,
        /// The local provider's directory.
        directory: PathBuf,
    },
    /// Columns of different lengths were combined.
    #[error("column `{column}` has {got} values, expected {expected}")]
    Length {
        /// Column name.
        column: String,
        /// Values found.
        got: usize,
        /// Values expected.
        expected: usize,
    },
    /// A file or a provider answer exceeds one of the `data.limits` caps: refused before the
    /// reader allocates for it.
    #[error(
        "{source_name}: {what} exceeds the limit of {limit} set by data.limits.{key} \
         (raise it with --set data.limits.{key}=N if the input is genuine)"
    )]
    Limit {
        /// The file as the user named it, or the provider answer.
        source_name: String,
        /// What is too large, with its size.
        what: String,
        /// The key under `data.limits`.
        key: &'static str,
        /// The cap.
        limit: u64,
    },
    /// An indicator or dataset parameter is invalid.
    #[error("{0}")]
    Parameter(String),
    /// One symbol's part of a pooled dataset cannot be built.
    #[error("{symbol}: {source}")]
    Symbol {
        /// The symbol.
        symbol: String,
        /// Why.
        #[source]
        source: Box<DataError>,
    },
}

//! Python exceptions for the library's errors, with the messages the CLI prints.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use qts_core::chain::message;

create_exception!(qts, QtsError, PyException, "Base class of every qts error.");
create_exception!(
    qts,
    ConfigError,
    QtsError,
    "A configuration that cannot be loaded: every problem, each with its file, line and key."
);
create_exception!(
    qts,
    DataError,
    QtsError,
    "Data that cannot be read or used: names the file or frame, the row and the column."
);
create_exception!(
    qts,
    BacktestError,
    QtsError,
    "A backtest that cannot run as asked: unknown strategy or parameter, bad window, signals."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("QtsError", py.get_type::<QtsError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("BacktestError", py.get_type::<BacktestError>())?;
    Ok(())
}

pub(crate) fn config(e: qts_core::config::ConfigError) -> PyErr {
    ConfigError::new_err(message(&e))
}

pub(crate) fn data(e: qts_data::DataError) -> PyErr {
    match e {
        // The CLI's hint names its command; in Python the function.
        qts_data::DataError::Invalid { path, first } => DataError::new_err(format!(
            "{path}: data validation failed ({first}); qts.validate(bars) lists every finding"
        )),
        other => DataError::new_err(message(&other)),
    }
}

pub(crate) fn backtest(e: qts_backtest::BacktestError) -> PyErr {
    match e {
        qts_backtest::BacktestError::Data(d) => data(d),
        qts_backtest::BacktestError::Stats(s) => stats(s),
        other => BacktestError::new_err(message(&other)),
    }
}

pub(crate) fn other(e: impl std::fmt::Display) -> PyErr {
    QtsError::new_err(e.to_string())
}

/// A statistic that cannot be computed: a `BacktestError`, as before the statistics had a
/// crate of their own; the message names the parameter as Python spells it.
pub(crate) fn stats(e: qts_stats::StatsError) -> PyErr {
    BacktestError::new_err(message(&e))
}

/// A research use case's error as the class the CLI's exit status corresponds to: data as
/// [`DataError`], a configuration as [`ConfigError`], a backtest's, a statistic's or a
/// parameter's as [`BacktestError`], the run store's, the account's and the run's own as
/// [`QtsError`]. A Ctrl-C is raised by the caller ([`crate::interrupt`]).
pub(crate) fn research(e: qts_research::ResearchError) -> PyErr {
    use qts_research::ResearchError as R;
    match e {
        R::Data(d) => data(d),
        R::Config(c) => config(c),
        R::Backtest(b) => backtest(b),
        R::Stats(s) => stats(s),
        R::Parameter { .. } | R::Input(_) => BacktestError::new_err(message(&e)),
        R::Fetch(f) if matches!(f, qts_data::provider::FetchError::MissingKey { .. }) => {
            ConfigError::new_err(message(&f))
        }
        R::Fetch(f) => DataError::new_err(message(&f)),
        R::Paper(p) if p.is_input() => BacktestError::new_err(message(&p)),
        other => QtsError::new_err(message(&other)),
    }
}

/// A name a library enum knows (its one name table), or a `ValueError` naming the parameter
/// and the names it takes.
pub(crate) fn parse_name<T>(text: &str, parameter: &str) -> PyResult<T>
where
    T: std::str::FromStr + strum::VariantNames,
{
    text.parse().map_err(|_| {
        let names = T::VARIANTS;
        let expected = match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        pyo3::exceptions::PyValueError::new_err(format!(
            "{parameter}=`{text}`: expected {expected}"
        ))
    })
}

/// A result folder that cannot be read, as [`DataError`] (the file and row named).
pub(crate) fn folder(e: qts_report::folder::FolderError) -> PyErr {
    DataError::new_err(message(&e))
}

//! The fetch use case: symbols from a provider through the cache, one symbol's failure not
//! stopping the others, with a [`FetchReport`] that is the JSON of `qts data fetch --json`.

use std::path::Path;

use crate::settings::{DataSourcesConfig, ProviderName};
use chrono::NaiveDate;
use serde::Serialize;

use crate::cache::{Cache, FetchOptions, fetch_with_cache};
use crate::error::DataError;
use crate::io::write_table;
use crate::provider::{FetchError, Provider};

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest<'a> {
    /// The provider.
    pub provider: ProviderName,
    /// Symbols, in order.
    pub symbols: &'a [String],
    /// First day.
    pub from: NaiveDate,
    /// Last day (capped at `today`).
    pub to: NaiveDate,
    /// Today, for the cache's freshness rules.
    pub today: NaiveDate,
    /// Also write each symbol's bars as `<SYMBOL>.csv` here.
    pub out: Option<&'a Path>,
}

/// One symbol's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SymbolFetch {
    /// Bars were fetched.
    Fetched {
        /// The symbol.
        symbol: String,
        /// Bars.
        bars: usize,
        /// First bar's date.
        first: Option<String>,
        /// Last bar's date.
        last: Option<String>,
        /// Requests sent to the provider.
        requests: usize,
        /// A corrupt cache file was replaced.
        cache_repaired: bool,
        /// The CSV written, with `out`.
        file: Option<String>,
    },
    /// The symbol failed.
    Failed {
        /// The symbol.
        symbol: String,
        /// Why.
        error: String,
    },
}

/// Every symbol's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FetchReport {
    /// The provider's name.
    pub provider: &'static str,
    /// First day asked.
    pub from: NaiveDate,
    /// Last day asked.
    pub to: NaiveDate,
    /// Outcomes, in the order asked.
    pub symbols: Vec<SymbolFetch>,
}

impl FetchReport {
    /// How many symbols failed.
    pub fn failed(&self) -> usize {
        self.symbols
            .iter()
            .filter(|s| matches!(s, SymbolFetch::Failed { .. }))
            .count()
    }
}

/// Fetches every symbol of `req` (see the module comment); `progress` hears each symbol
/// before it is fetched.
///
/// # Errors
/// [`DataError::Parameter`] for `to` before `from`, [`DataError::Write`] when `out` cannot be
/// written. A symbol that fails is reported in its row, not as an error.
pub fn fetch_symbols(
    req: &FetchRequest<'_>,
    provider: &dyn Provider,
    cfg: &DataSourcesConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<FetchReport, DataError> {
    if req.to < req.from {
        return Err(DataError::Parameter(format!(
            "the last day {} is before the first {}",
            req.to, req.from
        )));
    }
    // Every symbol is checked before anything is requested or written.
    for symbol in req.symbols {
        crate::cache::check_symbol(symbol.trim())?;
    }
    // Local files are their own cache.
    let cached = cfg.cache.enabled && req.provider != ProviderName::Local;
    let cache = cached.then(|| Cache::new(&cfg.cache.directory));
    let options = FetchOptions::from_config(&cfg.cache, req.today);
    let mut rows = Vec::with_capacity(req.symbols.len());
    for symbol in req.symbols {
        let symbol = symbol.trim().to_string();
        progress(&symbol);
        let result = fetch_with_cache(
            provider,
            cache.as_ref(),
            &symbol,
            req.from,
            req.to,
            &options,
        );
        rows.push(match result {
            Ok((bars, _)) if bars.is_empty() => SymbolFetch::Failed {
                error: format!(
                    "{} returned no bars between {} and {}",
                    provider.name(),
                    req.from,
                    req.to
                ),
                symbol,
            },
            Ok((bars, stats)) => {
                let mut file = None;
                if let Some(dir) = req.out {
                    let path = dir.join(format!("{symbol}.csv"));
                    write_table(&bars.to_table(), &path)?;
                    file = Some(path.display().to_string());
                }
                tracing::info!(
                    symbol,
                    bars = bars.len(),
                    requests = stats.requests,
                    "fetched"
                );
                SymbolFetch::Fetched {
                    bars: bars.len(),
                    first: bars.time.first().map(|t| t.date().to_string()),
                    last: bars.time.last().map(|t| t.date().to_string()),
                    requests: stats.requests,
                    cache_repaired: stats.repaired,
                    file,
                    symbol,
                }
            }
            // A cap of `data.limits` holds for every symbol alike: the command stops, exit 2.
            Err(FetchError::Data(e @ DataError::Limit { .. })) => return Err(e),
            Err(e) => {
                tracing::error!(symbol, error = %e, "fetch failed");
                SymbolFetch::Failed {
                    symbol,
                    error: e.to_string(),
                }
            }
        });
    }
    Ok(FetchReport {
        provider: provider.name(),
        from: req.from,
        to: req.to,
        symbols: rows,
    })
}

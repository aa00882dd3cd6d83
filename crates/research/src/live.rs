//! The bars a live command may see: every input's bars up to a close, symbols refreshed from
//! the default provider into the cache first.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use qts_backtest::Market;
use qts_config::{ProviderName, QtsConfig};
use qts_data::fetch::{FetchRequest, SymbolFetch, fetch_symbols};

use crate::error::ResearchError;

/// Reads `inputs` (files, or symbols refreshed from the default provider unless `offline`)
/// up to `as_of` and validates them: the market, the SHA-256 of the files' bytes, the files.
///
/// # Errors
/// [`ResearchError`]: no inputs, a refresh that fails, a file named twice, data that cannot
/// be read or fails validation.
pub fn read_through(
    cfg: &QtsConfig,
    inputs: &[String],
    as_of: NaiveDate,
    offline: bool,
    history_from: Option<NaiveDate>,
) -> Result<(Market, String, Vec<PathBuf>), ResearchError> {
    if inputs.is_empty() {
        return Err(ResearchError::Input(
            "no data: give a data file (repeatable) or symbols (AAPL,MSFT)".into(),
        ));
    }
    let symbols: Vec<String> = inputs
        .iter()
        .filter(|i| !Path::new(i).is_file())
        .cloned()
        .collect();
    if !symbols.is_empty() && !offline && cfg.data.default_provider != ProviderName::Local {
        refresh(cfg, &symbols, as_of, history_from)?;
    }
    let paths = inputs
        .iter()
        .map(|i| qts_data::locate::resolve(i, cfg))
        .collect::<Result<Vec<PathBuf>, _>>()?;
    let (checked, hash) = crate::session::read_checked(cfg, &paths, Some(as_of))?;
    Ok((Market::new(checked)?, hash, paths))
}

/// Fetches `symbols` from the default provider into the cache (from `history_from`, or five
/// years before `as_of`, to `as_of`).
///
/// # Errors
/// [`ResearchError::Fetch`] without the provider's key; [`ResearchError::Input`] naming a
/// symbol the provider fails on.
pub fn refresh(
    cfg: &QtsConfig,
    symbols: &[String],
    as_of: NaiveDate,
    history_from: Option<NaiveDate>,
) -> Result<(), ResearchError> {
    let name = cfg.data.default_provider;
    let provider = qts_data::provider::from_config(name, &cfg.data)?;
    let from = history_from.unwrap_or_else(|| {
        as_of
            .checked_sub_months(chrono::Months::new(60))
            .unwrap_or(as_of)
    });
    let today = chrono::Local::now().date_naive();
    let report = fetch_symbols(
        &FetchRequest {
            provider: name,
            symbols,
            from,
            to: as_of.min(today),
            today,
            out: None,
        },
        provider.as_ref(),
        &cfg.data,
        &mut |_| {},
    )?;
    for row in &report.symbols {
        if let SymbolFetch::Failed { symbol, error } = row {
            return Err(ResearchError::Input(format!(
                "{symbol}: cannot refresh from {}: {error} (offline: use the cache as it is)",
                report.provider
            )));
        }
    }
    Ok(())
}

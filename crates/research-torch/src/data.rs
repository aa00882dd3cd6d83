//! The bars a model trains on: each input (a file, or symbols `AAPL,MSFT` pooled into one
//! dataset) read as a model reads them and validated as a backtest validates them.

use std::path::Path;

use qts_config::QtsConfig;
use qts_data::locate::{for_model, load_all_for_model};
use qts_data::validate::{Policy, require};
use qts_models::fit::SymbolBars;
use qts_research::session::GivenBars;
use sha2::Digest;

use crate::error::JobError;

/// The bars of `given` (a file, or one or more symbols `AAPL,MSFT`, pooled into one dataset),
/// duplicates dropped, adjusted when asked, validated; and the SHA-256 of their bytes.
///
/// # Errors
/// [`JobError`] for an input that cannot be found, read or validated.
pub fn load(
    cfg: &QtsConfig,
    given: &str,
    adjust: bool,
    only: &[String],
) -> Result<(Vec<SymbolBars>, String), JobError> {
    let inputs: Vec<&str> = if Path::new(given).is_file() {
        vec![given]
    } else {
        given
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut data = Vec::new();
    let mut hasher = sha2::Sha256::new();
    for input in &inputs {
        // A wide file of closes is a universe: each of its symbols pooled.
        let (all, path) = load_all_for_model(input, cfg, adjust, &mut hasher)?;
        let all = keep_symbols(all, only, &path)?;
        let wide = all.len() > 1 || !only.is_empty();
        for bars in all {
            // As a backtest: data that fails validation does not train a model.
            let source = if wide {
                format!("{} ({})", path.display(), bars.symbol)
            } else {
                path.display().to_string()
            };
            let symbol = if wide {
                bars.symbol.clone()
            } else {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            let bars = require(bars, &source, Policy::of(cfg))?.into_inner();
            data.push(SymbolBars {
                symbol,
                source,
                bars,
            });
        }
    }
    Ok((data, qts_core::hex::encode(&hasher.finalize())))
}

/// The series of `all` named in `only` (any case), in its order; all when `only` is empty.
///
/// # Errors
/// [`JobError`] naming a symbol the file does not hold.
pub fn keep_symbols(
    all: Vec<qts_data::BarSeries>,
    only: &[String],
    path: &Path,
) -> Result<Vec<qts_data::BarSeries>, JobError> {
    if only.is_empty() {
        return Ok(all);
    }
    only.iter()
        .map(|want| {
            all.iter()
                .find(|b| b.symbol.eq_ignore_ascii_case(want))
                .cloned()
                .ok_or_else(|| {
                    qts_data::DataError::Content {
                        path: path.display().to_string(),
                        reason: format!(
                            "no symbol `{want}`; the file holds {}",
                            all.iter()
                                .map(|b| b.symbol.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }
                    .into()
                })
        })
        .collect()
}

/// Bars handed over already read (a notebook's), readied as [`load`] readies a file's: their
/// combined hash and the name of the data.
///
/// # Errors
/// [`JobError`] for no bars, or bars that cannot be adjusted or fail validation.
pub fn given(
    cfg: &QtsConfig,
    given: Vec<GivenBars>,
    adjust: bool,
) -> Result<(Vec<SymbolBars>, String, String), JobError> {
    if given.is_empty() {
        return Err(qts_data::DataError::Content {
            path: "train".into(),
            reason: "no bars given".into(),
        }
        .into());
    }
    let hash = qts_core::hex::combined(given.iter().map(|b| b.hash.as_str()));
    let name = given
        .iter()
        .map(|b| b.source.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let events = qts_data::actions::configured_events(&cfg.data)?;
    let mut data = Vec::with_capacity(given.len());
    for b in given {
        let symbol = b.bars.symbol.clone();
        let bars = for_model(
            b.bars,
            &b.source,
            adjust,
            cfg.data.adjustment,
            events.as_ref(),
        )?;
        let bars = require(bars, &b.source, Policy::of(cfg))?.into_inner();
        data.push(SymbolBars {
            symbol,
            source: b.source,
            bars,
        });
    }
    Ok((data, hash, name))
}

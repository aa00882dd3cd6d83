//! Where a command finds the bars a user names: a file path as given, else
//! `<SYMBOL>.csv|.parquet` in the local provider's directory, else the symbol's cached bars.

use std::path::{Path, PathBuf};

use crate::settings::DataSettings;

use crate::bars::BarSeries;
use crate::error::DataError;

/// Bars a model trains or predicts on, from a file or a symbol ([`resolve`]): duplicate
/// timestamps dropped (keeping the last bar of each), adjusted when asked. `hasher` is fed the
/// file's bytes (the file is read once).
///
/// # Errors
/// [`DataError`] from [`resolve`] or reading, or [`DataError::Content`] when `adjust` is asked of
/// a file without `adj_close`.
pub fn load_for_model(
    input: &str,
    config: &dyn DataSettings,
    adjust: bool,
    hasher: &mut sha2::Sha256,
) -> Result<(BarSeries, PathBuf), DataError> {
    let (path, bytes) = read_model_file(input, config, hasher)?;
    let limits = &config.data().limits;
    let layout = config.data().providers.local.layout();
    let bars = crate::io::parse_bytes(&path, bytes, limits, &layout)?;
    let events = crate::actions::configured_events(config.data())?;
    let basis = config.data().adjustment;
    let shown = path.display().to_string();
    let bars = for_model(bars, &shown, adjust, basis, events.as_ref())?;
    Ok((bars, path))
}

/// The file of `input` ([`resolve`]) and its bytes under `data.limits`, hashed into `hasher`.
fn read_model_file(
    input: &str,
    config: &dyn DataSettings,
    hasher: &mut sha2::Sha256,
) -> Result<(PathBuf, Vec<u8>), DataError> {
    use sha2::Digest;
    let path = resolve(input, config)?;
    crate::io::Format::of(&path)?;
    let bytes = crate::io::limits::read_file(&path, &config.data().limits)?;
    hasher.update(&bytes);
    Ok((path, bytes))
}

/// Every series of `input`'s file as a model reads it ([`load_for_model`]): one, or one per
/// symbol of a wide CSV file of closes (a universe pooled into one dataset, or predicted
/// symbol by symbol).
///
/// # Errors
/// As [`load_for_model`].
pub fn load_all_for_model(
    input: &str,
    config: &dyn DataSettings,
    adjust: bool,
    hasher: &mut sha2::Sha256,
) -> Result<(Vec<BarSeries>, PathBuf), DataError> {
    let (path, bytes) = read_model_file(input, config, hasher)?;
    let limits = &config.data().limits;
    let layout = config.data().providers.local.layout();
    let shown = path.display().to_string();
    let events = crate::actions::configured_events(config.data())?;
    let basis = config.data().adjustment;
    let all = crate::io::parse_file(&path, bytes, limits, &layout)?
        .into_iter()
        .map(|b| for_model(b, &shown, adjust, basis, events.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((all, path))
}

/// Bars read from `source` as a model reads them: duplicate timestamps dropped (the last bar
/// of each kept, as providers revise a bar by sending it again), then scaled by their
/// `adj_close` when `adjust`, else put on `basis` with `events`' actions merged in
/// ([`crate::actions::prepare`]).
///
/// # Errors
/// [`DataError::Content`] when `adjust` is asked of bars without `adj_close`, or for actions
/// that disagree or cannot be adjusted.
pub fn for_model(
    bars: BarSeries,
    source: &str,
    adjust: bool,
    basis: crate::actions::Basis,
    events: Option<&crate::actions::Events>,
) -> Result<BarSeries, DataError> {
    let (bars, removed) = crate::validate::drop_duplicates(&bars);
    if removed > 0 {
        tracing::warn!(
            removed,
            "dropped duplicate timestamps, keeping the last bar of each"
        );
    }
    if !adjust {
        return crate::actions::prepare(bars, events, basis, source);
    }
    if bars.adj_close.is_none() {
        return Err(DataError::Content {
            path: source.to_string(),
            reason: "--adjust needs an adj_close column".into(),
        });
    }
    Ok(bars.adjusted())
}

/// The file that holds `input`'s bars (see the module comment).
///
/// # Errors
/// [`DataError::NotFound`] naming the three places looked in.
pub fn resolve(input: &str, config: &dyn DataSettings) -> Result<PathBuf, DataError> {
    let direct = Path::new(input);
    if direct.is_file() {
        return Ok(direct.to_path_buf());
    }
    let dir = Path::new(&config.data().providers.local.directory);
    for name in [
        input.to_string(),
        input.to_ascii_uppercase(),
        input.to_ascii_lowercase(),
    ] {
        for ext in ["csv", "parquet"] {
            let candidate = dir.join(format!("{name}.{ext}"));
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let cache = crate::cache::Cache::new(&config.data().cache.directory);
    if let Some(entry) = cache.entries().into_iter().find(|e| e.symbol == input) {
        return Ok(entry.path);
    }
    Err(DataError::NotFound {
        input: input.to_string(),
        directory: dir.to_path_buf(),
    })
}

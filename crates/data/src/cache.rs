//! The on-disk cache: one Parquet file per provider and symbol, holding the bars and the date
//! range the provider was asked for (so a range that holds no bar, before a listing say, is
//! not asked for again). Requests that overlap the cache ask only for the missing dates.
//! Writes are atomic; a corrupt file is reported, removed and fetched again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::settings::CachePolicy;
use chrono::NaiveDate;

use crate::bars::BarSeries;
use crate::calendar;
use crate::error::DataError;
use crate::io::{read_parquet, read_parquet_metadata, write_parquet_with_metadata};
use crate::provider::{FetchError, Provider};

const FROM_KEY: &str = "qts.covered_from";
const TO_KEY: &str = "qts.covered_to";
/// What the bars are ([`Provider::prices`]); absent in files written before it was kept.
const PRICES_KEY: &str = "qts.prices";

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// One cached series, for `qts data cache list`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    /// Provider.
    pub provider: String,
    /// Symbol.
    pub symbol: String,
    /// Bars held.
    pub bars: usize,
    /// The range the provider was asked for.
    pub covered: Option<(NaiveDate, NaiveDate)>,
    /// File size in bytes.
    pub bytes: u64,
    /// The file.
    pub path: PathBuf,
}

/// What a cached fetch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// Requests sent to the provider.
    pub requests: usize,
    /// Bars received from the provider.
    pub bars_fetched: usize,
    /// A corrupt cache file was found and replaced.
    pub repaired: bool,
    /// A cache file of another kind of prices ([`Provider::prices`]) was fetched again.
    pub restated: bool,
}

/// Checks a ticker against the characters qts accepts: ASCII letters and digits and
/// `. - ^ = _` (`BRK.B`, `BRK-B`, `^GSPC`, `EURUSD=X`), 1 to 32 of them, not starting with a
/// dot. So a symbol is its own cache file name (no two symbols share one, none escapes the
/// cache folder).
///
/// # Errors
/// [`DataError::Parameter`] naming the symbol and the rule.
pub fn check_symbol(symbol: &str) -> Result<(), DataError> {
    let ok = !symbol.is_empty()
        && symbol.len() <= 32
        && !symbol.starts_with('.')
        && symbol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._^=".contains(c));
    if ok {
        Ok(())
    } else {
        Err(DataError::Parameter(format!(
            "symbol `{}`: a symbol is 1 to 32 of A-Z, a-z, 0-9 and . - ^ = _ (not starting with a dot)",
            symbol.escape_debug()
        )))
    }
}

impl Cache {
    /// A cache in `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    /// The file of `symbol` from `provider`.
    pub fn path(&self, provider: &str, symbol: &str) -> PathBuf {
        let safe: String = symbol
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-._^=".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(provider).join(format!("{safe}.parquet"))
    }

    /// The cached bars and covered range, `None` when nothing is cached.
    ///
    /// # Errors
    /// [`DataError`] when the file exists but cannot be read (corrupt or truncated).
    pub fn load(
        &self,
        provider: &str,
        symbol: &str,
    ) -> Result<Option<(BarSeries, NaiveDate, NaiveDate)>, DataError> {
        let path = self.path(provider, symbol);
        if !path.exists() {
            return Ok(None);
        }
        let meta = read_parquet_metadata(&path)?;
        let date = |k| {
            meta.get(k)
                .and_then(|v: &String| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        };
        let (Some(from), Some(to)) = (date(FROM_KEY), date(TO_KEY)) else {
            return Err(DataError::Read {
                path,
                source: "no covered range in the metadata".into(),
            });
        };
        let mut bars = match read_parquet(&path) {
            Ok(bars) => bars,
            Err(DataError::Empty { .. }) => BarSeries::default(),
            Err(e) => return Err(e),
        };
        bars.symbol = symbol.to_string();
        bars.source_rows.clear();
        Ok(Some((bars, from, to)))
    }

    /// What the cached bars of `symbol` are ([`Provider::prices`]; empty for a file written
    /// before it was recorded), `None` when nothing is cached or the file cannot be read.
    pub fn prices(&self, provider: &str, symbol: &str) -> Option<String> {
        let path = self.path(provider, symbol);
        if !path.exists() {
            return None;
        }
        let meta = read_parquet_metadata(&path).ok()?;
        Some(meta.get(PRICES_KEY).cloned().unwrap_or_default())
    }

    /// Writes bars and their covered range, atomically.
    ///
    /// # Errors
    /// [`DataError::Write`].
    pub fn store(
        &self,
        provider: &str,
        bars: &BarSeries,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(), DataError> {
        self.store_prices(provider, "", bars, from, to)
    }

    /// [`Cache::store`], recording what the bars are ([`Provider::prices`]).
    ///
    /// # Errors
    /// [`DataError::Write`].
    pub fn store_prices(
        &self,
        provider: &str,
        prices: &str,
        bars: &BarSeries,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(), DataError> {
        let table = bars.to_table();
        let mut meta = BTreeMap::from([
            (FROM_KEY.to_string(), from.to_string()),
            (TO_KEY.to_string(), to.to_string()),
            ("qts.provider".to_string(), provider.to_string()),
            ("qts.symbol".to_string(), bars.symbol.clone()),
        ]);
        if !prices.is_empty() {
            meta.insert(PRICES_KEY.to_string(), prices.to_string());
        }
        write_parquet_with_metadata(&table, &self.path(provider, &bars.symbol), meta)
    }

    /// Every cached series, sorted by provider and symbol.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        let Ok(providers) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        for p in providers.flatten().filter(|p| p.path().is_dir()) {
            let provider = p.file_name().to_string_lossy().into_owned();
            for f in std::fs::read_dir(p.path()).into_iter().flatten().flatten() {
                let path = f.path();
                if path.extension().is_none_or(|e| e != "parquet") {
                    continue;
                }
                let symbol = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let loaded = self.load(&provider, &symbol).ok().flatten();
                out.push(Entry {
                    provider: provider.clone(),
                    symbol,
                    bars: loaded.as_ref().map_or(0, |l| l.0.len()),
                    covered: loaded.map(|l| (l.1, l.2)),
                    bytes: f.metadata().map_or(0, |m| m.len()),
                    path,
                });
            }
        }
        out.sort_by(|a, b| (&a.provider, &a.symbol).cmp(&(&b.provider, &b.symbol)));
        out
    }

    /// Removes cached files, all or those of one provider and/or symbol; returns how many.
    ///
    /// # Errors
    /// [`DataError::Write`] when a file cannot be removed.
    pub fn clear(&self, provider: Option<&str>, symbol: Option<&str>) -> Result<usize, DataError> {
        let mut removed = 0;
        for e in self.entries() {
            if provider.is_some_and(|p| p != e.provider) || symbol.is_some_and(|s| s != e.symbol) {
                continue;
            }
            std::fs::remove_file(&e.path).map_err(|err| DataError::Write {
                path: e.path.clone(),
                source: err.into(),
            })?;
            removed += 1;
        }
        Ok(removed)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// How a cached fetch behaves.
#[derive(Debug, Clone, Copy)]
pub struct FetchOptions {
    /// The cache policy.
    pub policy: CachePolicy,
    /// Today's date: requests never reach past it.
    pub today: NaiveDate,
    /// The newest cached bar, when it is from the last few days, is fetched again once the
    /// cache file is older than this: providers revise the last bar after the close.
    pub refresh_last_bar_after: std::time::Duration,
}

impl FetchOptions {
    /// Options from the configuration's cache section.
    pub fn from_config(cfg: &crate::settings::CacheConfig, today: NaiveDate) -> FetchOptions {
        FetchOptions {
            policy: cfg.policy,
            today,
            refresh_last_bar_after: std::time::Duration::from_secs(
                cfg.refresh_last_bar_after_hours * 3600,
            ),
        }
    }
}

/// Bars of `symbol` from `from` to `to` (capped at today), served from the cache where it can
/// and from the provider for the rest, per the policy. Nothing is written unless every request
/// succeeded.
///
/// # Errors
/// [`FetchError`] from the provider, or when `offline` and the cache lacks the range.
pub fn fetch_with_cache(
    provider: &dyn Provider,
    cache: Option<&Cache>,
    symbol: &str,
    from: NaiveDate,
    to: NaiveDate,
    options: &FetchOptions,
) -> Result<(BarSeries, FetchStats), FetchError> {
    let (policy, today) = (options.policy, options.today);
    let to = to.min(today);
    let mut stats = FetchStats::default();
    let name = provider.name();
    let cached = match (cache, policy) {
        (Some(c), CachePolicy::Incremental | CachePolicy::Offline) => match c.load(name, symbol) {
            Ok(Some(_))
                if policy == CachePolicy::Incremental
                    && c.prices(name, symbol).as_deref() != Some(provider.prices()) =>
            {
                // Bars of another basis (FMP's split-adjusted prices before its raw ones, say)
                // cannot be merged with new ones: the file is fetched again in full.
                tracing::info!(
                    provider = name,
                    symbol,
                    cached = c.prices(name, symbol).unwrap_or_default(),
                    now = provider.prices(),
                    "the cached bars are of another kind; fetching them again"
                );
                stats.restated = true;
                None
            }
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(provider = name, symbol, error = %e, "corrupt cache file; fetching again");
                let _ = std::fs::remove_file(c.path(name, symbol));
                stats.repaired = true;
                None
            }
        },
        _ => None,
    };
    let (mut held, cov_from, cov_to) = match cached {
        Some((bars, a, b)) => (bars, Some(a), Some(b)),
        None => (
            BarSeries {
                symbol: symbol.to_string(),
                ..BarSeries::default()
            },
            None,
            None,
        ),
    };
    let mut gaps = Vec::new();
    match (cov_from, cov_to) {
        (Some(a), Some(b)) => {
            if from < a {
                gaps.push((from, a.pred_opt().unwrap_or(a)));
            }
            if to > b {
                gaps.push((b.succ_opt().unwrap_or(b), to));
            }
        }
        _ => gaps.push((from, to)),
    }
    if let (Some(c), Some(last)) = (cache, held.time.last().map(|t| t.date()))
        && policy == CachePolicy::Incremental
        && to >= last
        && (today - last).num_days() <= 4
        && file_age(&c.path(name, symbol)).is_some_and(|age| age >= options.refresh_last_bar_after)
    {
        // Re-fetch from the last cached bar, which may have been a provisional one.
        gaps.retain(|(a, _)| *a < last);
        gaps.push((last, to));
    }
    // A gap of weekends and holidays holds no bar: no request.
    gaps.retain(|(a, b)| a <= b && !calendar::trading_days(*a, *b).is_empty());
    if policy == CachePolicy::Offline && !gaps.is_empty() {
        return Err(FetchError::Data(DataError::Parameter(format!(
            "offline: the cache lacks {symbol} from {} to {} (cache policy `offline`)",
            gaps[0].0, gaps[0].1
        ))));
    }
    for &(a, b) in &gaps {
        let new = provider.fetch(symbol, a, b)?;
        stats.requests += 1;
        stats.bars_fetched += new.len();
        held = merge(held, new);
    }
    let (new_from, new_to) = (
        cov_from.map_or(from, |c| c.min(from)),
        cov_to.map_or(to, |c| c.max(to)),
    );
    // An empty answer (an unknown symbol, a range without trading) is not cached: the cache
    // holds bars, never the absence of them.
    if let Some(c) = cache
        && policy != CachePolicy::Offline
        && !held.is_empty()
        && (!gaps.is_empty() || stats.repaired || cov_from.is_none())
        && let Err(e) = c.store_prices(name, provider.prices(), &held, new_from, new_to)
    {
        tracing::warn!(provider = name, symbol, error = %e, "could not update the cache");
    }
    Ok((crate::provider::normalise(held, from, to), stats))
}

fn file_age(path: &Path) -> Option<std::time::Duration> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    std::time::SystemTime::now().duration_since(modified).ok()
}

fn merge(a: BarSeries, b: BarSeries) -> BarSeries {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let with_adj = a.adj_close.is_some() || b.adj_close.is_some();
    let mut out = a;
    let adj_a = out.adj_close.take().unwrap_or_else(|| out.close.clone());
    let adj_b = b.adj_close.clone().unwrap_or_else(|| b.close.clone());
    out.time.extend(b.time);
    out.open.extend(b.open);
    out.high.extend(b.high);
    out.low.extend(b.low);
    out.close.extend(b.close);
    out.volume.extend(b.volume);
    let mut adj = adj_a;
    adj.extend(adj_b);
    out.adj_close = with_adj.then_some(adj);
    out.actions.extend(b.actions);
    // Sorted, and where both hold a date the newer fetch (appended last) wins.
    crate::provider::normalise(out, NaiveDate::MIN, NaiveDate::MAX)
}

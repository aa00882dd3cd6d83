//! `qts data fetch` and `qts data cache list|clear`.

use std::io::Write;

use anyhow::anyhow;
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use qts_core::config::{ProviderName, QtsConfig};
use qts_core::logging::RunContext;
use qts_data::cache::{Cache, FetchOptions, fetch_with_cache};
use qts_data::io::write_table;
use qts_data::provider::{FetchError, from_config};
use serde_json::json;

use crate::cli::{CacheCommand, FetchArgs, ProviderArg};
use crate::failure::Failure;

fn out(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Runtime(e.into()))
}

/// Fetches every symbol; a symbol that fails does not stop the others, and the command
/// exits 1 when any failed.
pub fn fetch(config: &QtsConfig, args: &FetchArgs) -> Result<(), Failure> {
    let name = match args.provider {
        Some(ProviderArg::Fmp) => ProviderName::Fmp,
        Some(ProviderArg::Yahoo) => ProviderName::Yahoo,
        Some(ProviderArg::AlphaVantage) => ProviderName::AlphaVantage,
        Some(ProviderArg::Local) => ProviderName::Local,
        None => config.data.default_provider,
    };
    let provider = from_config(name, &config.data).map_err(|e| match e {
        FetchError::MissingKey { .. } => Failure::Input(e.into()),
        other => Failure::Runtime(other.into()),
    })?;
    let today = chrono::Local::now().date_naive();
    let to = args.to.unwrap_or(today);
    if to < args.from {
        return Err(Failure::Input(anyhow!(
            "--to {to} is before --from {}",
            args.from
        )));
    }
    // Local files are their own cache.
    let cached = config.data.cache.enabled && name != ProviderName::Local;
    let cache = cached.then(|| Cache::new(&config.data.cache.directory));
    let span = RunContext::new("data fetch")
        .symbol(args.symbols.join(","))
        .span();
    let _run = span.enter();

    let bar = ProgressBar::new(args.symbols.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut rows = Vec::new();
    let mut failed = 0;
    for symbol in &args.symbols {
        let symbol = symbol.trim().to_string();
        bar.set_message(symbol.clone());
        let options = FetchOptions::from_config(&config.data.cache, today);
        let result = fetch_with_cache(
            provider.as_ref(),
            cache.as_ref(),
            &symbol,
            args.from,
            to,
            &options,
        );
        let row = match result {
            Ok((bars, _)) if bars.is_empty() => {
                failed += 1;
                json!({"symbol": symbol, "error": format!("{} returned no bars between {} and {to}", provider.name(), args.from)})
            }
            Ok((bars, stats)) => {
                let mut written = None;
                if let Some(dir) = &args.out {
                    let path = dir.join(format!("{symbol}.csv"));
                    write_table(&bars.to_table(), &path)?;
                    written = Some(path.display().to_string());
                }
                tracing::info!(
                    symbol,
                    bars = bars.len(),
                    requests = stats.requests,
                    "fetched"
                );
                json!({
                    "symbol": symbol,
                    "bars": bars.len(),
                    "first": bars.time.first().map(|t| t.date().to_string()),
                    "last": bars.time.last().map(|t| t.date().to_string()),
                    "requests": stats.requests,
                    "cache_repaired": stats.repaired,
                    "file": written,
                })
            }
            Err(e) => {
                failed += 1;
                tracing::error!(symbol, error = %e, "fetch failed");
                json!({"symbol": symbol, "error": e.to_string()})
            }
        };
        rows.push(row);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.json {
        let value =
            json!({"provider": provider.name(), "from": args.from, "to": to, "symbols": rows});
        out(
            &(serde_json::to_string_pretty(&value).map_err(|e| Failure::Runtime(e.into()))? + "\n"),
        )?;
    } else {
        let mut table = Table::new();
        table.set_header(vec![
            "symbol", "bars", "first", "last", "requests", "result",
        ]);
        for r in &rows {
            let cell = |k: &str| {
                r.get(k)
                    .filter(|v| !v.is_null())
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .unwrap_or_default()
            };
            let result = if r.get("error").is_some() {
                cell("error")
            } else {
                "ok".into()
            };
            table.add_row(vec![
                cell("symbol"),
                cell("bars"),
                cell("first"),
                cell("last"),
                cell("requests"),
                result,
            ]);
        }
        out(&format!("{table}\n"))?;
    }
    if failed > 0 {
        return Err(Failure::Runtime(anyhow!(
            "{failed} of {} symbols failed",
            args.symbols.len()
        )));
    }
    Ok(())
}

/// `qts data cache list|clear`.
pub fn cache(config: &QtsConfig, command: &CacheCommand) -> Result<(), Failure> {
    let cache = Cache::new(&config.data.cache.directory);
    match command {
        CacheCommand::List { json } => {
            let entries = cache.entries();
            if *json {
                let text = serde_json::to_string_pretty(&entries)
                    .map_err(|e| Failure::Runtime(e.into()))?;
                return out(&(text + "\n"));
            }
            if entries.is_empty() {
                return out(&format!(
                    "the cache in {} is empty\n",
                    cache.dir().display()
                ));
            }
            let mut table = Table::new();
            table.set_header(vec!["provider", "symbol", "bars", "covered", "bytes"]);
            for e in &entries {
                let covered = e
                    .covered
                    .map(|(a, b)| format!("{a} .. {b}"))
                    .unwrap_or_else(|| "unreadable".into());
                table.add_row(vec![
                    e.provider.clone(),
                    e.symbol.clone(),
                    e.bars.to_string(),
                    covered,
                    e.bytes.to_string(),
                ]);
            }
            out(&format!("{table}\n"))
        }
        CacheCommand::Clear { provider, symbol } => {
            let n = cache.clear(provider.as_deref(), symbol.as_deref())?;
            out(&format!(
                "removed {n} cached file{} from {}\n",
                if n == 1 { "" } else { "s" },
                cache.dir().display()
            ))
        }
    }
}

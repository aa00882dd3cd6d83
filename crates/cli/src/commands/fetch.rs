//! `qts data fetch` and `qts data cache list|clear`.

use anyhow::anyhow;
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use qts_config::QtsConfig;
use qts_core::logging::RunContext;
use qts_data::cache::Cache;
use qts_data::fetch::{FetchRequest, SymbolFetch, fetch_symbols};
use qts_data::provider::{FetchError, from_config};

use crate::cli::{CacheCommand, FetchArgs};
use crate::failure::Failure;

/// Fetches every symbol; a symbol that fails does not stop the others, and the command
/// exits 1 when any failed.
pub fn fetch(config: &QtsConfig, args: &FetchArgs) -> Result<(), Failure> {
    let name = args.provider.unwrap_or(config.data.default_provider);
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
    if let Some(out) = &args.out {
        if out.exists() && !out.is_dir() {
            return Err(Failure::Input(anyhow!(
                "--out {} is a file: --out names a folder, each symbol written in it as <SYMBOL>.csv",
                out.display()
            )));
        }
        crate::output::check_output(out)?;
        for symbol in &args.symbols {
            crate::output::check_output(&out.join(format!("{}.csv", symbol.trim())))?;
        }
    }
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
    let request = FetchRequest {
        provider: name,
        symbols: &args.symbols,
        from: args.from,
        to,
        today,
        out: args.out.as_deref(),
    };
    let mut started = false;
    let report = fetch_symbols(&request, provider.as_ref(), &config.data, &mut |symbol| {
        if started {
            bar.inc(1);
        }
        started = true;
        bar.set_message(symbol.to_string());
    });
    bar.finish_and_clear();
    let report = report?;
    if args.json {
        crate::output::print(
            &(serde_json::to_string_pretty(&report).map_err(|e| Failure::Runtime(e.into()))?
                + "\n"),
        )?;
    } else {
        let mut table = Table::new();
        table.set_header(vec![
            "symbol", "bars", "first", "last", "requests", "result",
        ]);
        for r in &report.symbols {
            table.add_row(match r {
                SymbolFetch::Fetched {
                    symbol,
                    bars,
                    first,
                    last,
                    requests,
                    ..
                } => vec![
                    symbol.clone(),
                    bars.to_string(),
                    first.clone().unwrap_or_default(),
                    last.clone().unwrap_or_default(),
                    requests.to_string(),
                    "ok".into(),
                ],
                SymbolFetch::Failed { symbol, error } => vec![
                    symbol.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    error.clone(),
                ],
            });
        }
        crate::output::print(&format!("{table}\n"))?;
    }
    let failed = report.failed();
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
                return crate::output::print(&(text + "\n"));
            }
            if entries.is_empty() {
                return crate::output::print(&format!(
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
            crate::output::print(&format!("{table}\n"))
        }
        CacheCommand::Clear { provider, symbol } => {
            let n = cache.clear(provider.as_deref(), symbol.as_deref())?;
            crate::output::print(&format!(
                "removed {n} cached file{} from {}\n",
                if n == 1 { "" } else { "s" },
                cache.dir().display()
            ))
        }
    }
}

//! The Parquet cache against a loopback FMP: request counts for repeated and extended
//! fetches, corrupt files, failed fetches, coverage before a listing, and the offline policy.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::{Datelike, NaiveDate};
use qts_config::{CachePolicy, HttpProvider};
use qts_core::config::Secret;
use qts_data::cache::{Cache, FetchOptions, fetch_with_cache};
use qts_data::calendar::trading_days;
use qts_data::provider::{Fmp, Provider};
use support::{MockServer, Request, Response};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// FMP's stable answers for any symbol and range: one synthetic bar per NYSE trading day,
/// newest first, the prices as traded (`adjOpen` … `adjClose`, as the non-split-adjusted
/// endpoint names them; `open` … `close` from the split-adjusted one); symbols listed from 2020-06-01 when they start with "IPO"; a dividend
/// of 0.25 on each quarter's first trading day and no split.
fn serve_fmp(r: &Request) -> Response {
    let from = NaiveDate::parse_from_str(&r.query["from"], "%Y-%m-%d").unwrap();
    let to = NaiveDate::parse_from_str(&r.query["to"], "%Y-%m-%d").unwrap();
    let symbol = &r.query["symbol"];
    let listed = if symbol.starts_with("IPO") {
        d(2020, 6, 1)
    } else {
        NaiveDate::MIN
    };
    let days = trading_days(from.max(listed), to);
    let rows: Vec<String> = match r.path.as_str() {
        path @ ("/stable/historical-price-eod/non-split-adjusted"
        | "/stable/historical-price-eod/full") => {
            // The split-adjusted endpoint names its prices `open` … `close`.
            let prefix = if path.ends_with("full") { "" } else { "adj" };
            let name = |n: &str| {
                if prefix.is_empty() {
                    n.to_lowercase()
                } else {
                    format!("{prefix}{n}")
                }
            };
            days.iter()
                .rev()
                .map(|day| {
                    let p =
                        100.0 + (day.to_string().len() as f64) + f64::from(day.ordinal()) / 10.0;
                    format!(
                        r#"{{"symbol":"{symbol}","date":"{day}","{}":{p},"{}":{},"{}":{},"{}":{p},"volume":1000}}"#,
                        name("Open"),
                        name("High"),
                        p + 1.0,
                        name("Low"),
                        p - 1.0,
                        name("Close"),
                    )
                })
                .collect()
        }
        "/stable/dividends" => days
            .iter()
            .filter(|day| quarter_opens(**day))
            .map(|day| {
                format!(
                    r#"{{"symbol":"{symbol}","date":"{day}","dividend":0.25,"adjDividend":0.25}}"#
                )
            })
            .collect(),
        "/stable/splits" => Vec::new(),
        other => panic!("unexpected path {other}"),
    };
    Response::json(200, format!("[{}]", rows.join(",")))
}

/// Whether `day` is its quarter's first trading day.
fn quarter_opens(day: NaiveDate) -> bool {
    let start = NaiveDate::from_ymd_opt(day.year(), (day.month() - 1) / 3 * 3 + 1, 1).unwrap();
    trading_days(start, day).len() == 1
}

fn opts(policy: CachePolicy, today: NaiveDate) -> FetchOptions {
    FetchOptions {
        policy,
        today,
        refresh_last_bar_after: std::time::Duration::from_secs(12 * 3600),
    }
}

fn config(server: &MockServer) -> HttpProvider {
    HttpProvider {
        base_url: server.url(),
        api_key: Secret::new("k-123456"),
        calls_per_minute: 100_000,
        backoff_initial_ms: 1,
        backoff_max_ms: 2,
        max_retries: 1,
        ..HttpProvider::default()
    }
}

fn fmp(server: &MockServer) -> Fmp {
    Fmp::new(&config(server)).unwrap()
}

#[test]
fn repeats_cost_nothing_and_extensions_ask_only_for_the_new_days() {
    let server = MockServer::start(|r, _| serve_fmp(r));
    let provider = fmp(&server);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let symbols: Vec<String> = (0..20).map(|i| format!("S{i:02}")).collect();
    let (from, to, extended) = (d(2019, 1, 2), d(2023, 12, 29), d(2024, 1, 5));
    let today = d(2024, 6, 1);
    let run = |to: NaiveDate| -> (usize, usize) {
        let mut bars = 0;
        let mut requests = 0;
        for s in &symbols {
            let (b, stats) = fetch_with_cache(
                &provider,
                Some(&cache),
                s,
                from,
                to,
                &opts(CachePolicy::Incremental, today),
            )
            .unwrap();
            assert_eq!(b.time.first().unwrap().date(), from);
            bars += stats.bars_fetched;
            requests += stats.requests;
        }
        (requests, bars)
    };
    // A fetch is three requests: the prices, the splits, the dividends.
    let first = run(to);
    assert_eq!(first.0, 20);
    assert_eq!(server.hits(), 60);
    let repeat = run(to);
    assert_eq!(repeat, (0, 0), "the repeat is served from the cache");
    assert_eq!(server.hits(), 60);
    let extension = run(extended);
    assert_eq!(extension.0, 20, "one small fetch per symbol");
    assert_eq!(server.hits(), 120);
    // The events are asked for the missing days only, as the prices are.
    for r in &server.requests()[60..] {
        assert_eq!(
            (r.query["from"].as_str(), r.query["to"].as_str()),
            ("2023-12-30", "2024-01-05"),
            "{}",
            r.path
        );
    }
    // Without a cache the repeat and the extension refetch the whole range.
    let uncached_bars: usize = 2 * 20 * trading_days(from, to).len() + 20 * 4;
    let cached_bars = repeat.1 + extension.1;
    assert_eq!(cached_bars, 20 * 4);
    let saved = 1.0 - cached_bars as f64 / uncached_bars as f64;
    assert!(
        saved >= 0.99,
        "bars transferred after the first fetch cut by {saved:.4}"
    );
    let saved_calls = 1.0 - (repeat.0 + extension.0) as f64 / 40.0;
    assert!(saved_calls >= 0.5);
    // The cached files carry the extension.
    let (bars, _, cov_to) = cache.load("fmp", "S00").unwrap().unwrap();
    assert_eq!(bars.time.last().unwrap().date(), d(2024, 1, 5));
    assert_eq!(cov_to, d(2024, 1, 5));
    // And every dividend: the first fetch's twenty (2019 to 2023) and the extension's.
    let dividends: Vec<NaiveDate> = bars.actions.iter().map(|a| a.date).collect();
    assert_eq!(dividends.len(), 21, "{dividends:?}");
    assert_eq!(dividends[0], d(2019, 1, 2));
    assert_eq!(*dividends.last().unwrap(), d(2024, 1, 2));
    assert_eq!(
        cache.prices("fmp", "S00").as_deref(),
        Some(qts_data::provider::RAW_WITH_EVENTS)
    );
}

#[test]
fn bars_cached_on_another_basis_are_fetched_again_in_full() {
    // A cache file written before FMP's prices were fetched raw (its split-adjusted prices,
    // no record of what they are) is not extended with raw bars: it is fetched again whole.
    let server = MockServer::start(|r, _| serve_fmp(r));
    let provider = fmp(&server);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let today = d(2024, 6, 1);
    let o = opts(CachePolicy::Incremental, today);
    let (bars, _) = fetch_with_cache(
        &provider,
        Some(&cache),
        "AAA",
        d(2023, 1, 3),
        d(2023, 3, 31),
        &o,
    )
    .unwrap();
    cache
        .store("fmp", &bars, d(2023, 1, 3), d(2023, 3, 31))
        .unwrap();
    assert_eq!(cache.prices("fmp", "AAA").as_deref(), Some(""));
    let before = server.hits();
    let (again, stats) = fetch_with_cache(
        &provider,
        Some(&cache),
        "AAA",
        d(2023, 1, 3),
        d(2023, 4, 28),
        &o,
    )
    .unwrap();
    assert!(stats.restated);
    assert_eq!(stats.requests, 1);
    let asked = &server.requests()[before];
    assert_eq!(
        (asked.query["from"].as_str(), asked.query["to"].as_str()),
        ("2023-01-03", "2023-04-28"),
        "the whole range, not only April"
    );
    assert_eq!(again.actions.len(), 2, "{:?}", again.actions);
    assert_eq!(
        cache.prices("fmp", "AAA").as_deref(),
        Some(qts_data::provider::RAW_WITH_EVENTS)
    );
    // The other way: FMP's split-adjusted prices (`events: false`) do not extend raw ones.
    let adjusted = Fmp::new(&HttpProvider {
        events: false,
        ..config(&server)
    })
    .unwrap();
    let (_, stats) = fetch_with_cache(
        &adjusted,
        Some(&cache),
        "AAA",
        d(2023, 1, 3),
        d(2023, 4, 28),
        &o,
    )
    .unwrap();
    assert!(stats.restated);
    assert_eq!(cache.prices("fmp", "AAA").as_deref(), Some(""));
}

#[test]
fn ranges_without_trading_days_or_before_a_listing_are_not_asked_again() {
    let server = MockServer::start(|r, _| serve_fmp(r));
    let provider = fmp(&server);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let today = d(2024, 6, 1);
    let go = |from, to| {
        fetch_with_cache(
            &provider,
            Some(&cache),
            "IPO1",
            from,
            to,
            &opts(CachePolicy::Incremental, today),
        )
        .unwrap()
    };
    let (bars, s) = go(d(2019, 1, 2), d(2021, 1, 4));
    assert_eq!(s.requests, 1);
    assert_eq!(bars.time[0].date(), d(2020, 6, 1));
    let (_, s) = go(d(2019, 1, 2), d(2021, 1, 4));
    assert_eq!(
        s.requests, 0,
        "the empty years before the listing are known to be empty"
    );
    // 2021-01-04 was a Monday; extending to the Sunday before asks nothing.
    let (_, s) = go(d(2019, 6, 1), d(2021, 1, 3));
    assert_eq!(s.requests, 0);
}

#[test]
fn a_corrupt_cache_file_is_reported_and_fetched_again() {
    let server = MockServer::start(|r, _| serve_fmp(r));
    let provider = fmp(&server);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let today = d(2024, 6, 1);
    let go = || {
        fetch_with_cache(
            &provider,
            Some(&cache),
            "AAA",
            d(2023, 1, 3),
            d(2023, 3, 31),
            &opts(CachePolicy::Incremental, today),
        )
        .unwrap()
    };
    let (good, _) = go();
    let path = cache.path("fmp", "AAA");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap(); // truncated
    let e = cache.load("fmp", "AAA").unwrap_err().to_string();

    assert!(
        e.contains("AAA.parquet: cannot read: not a readable Parquet file"),
        "{e}"
    );
    let (again, stats) = go();
    assert!(stats.repaired);
    assert_eq!(stats.requests, 1);
    assert_eq!(again, good);
    assert!(
        cache.load("fmp", "AAA").unwrap().is_some(),
        "the file was rewritten whole"
    );
}

#[test]
fn a_failed_fetch_writes_nothing() {
    let server = MockServer::start(|_, _| Response::json(500, "boom"));
    let provider = fmp(&server);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let result = fetch_with_cache(
        &provider,
        Some(&cache),
        "AAA",
        d(2023, 1, 3),
        d(2023, 3, 31),
        &opts(CachePolicy::Incremental, d(2024, 1, 1)),
    );
    let e = result.unwrap_err().to_string();

    assert!(
        e.contains("fmp still failing after 2 attempts: fmp answered HTTP 500: boom"),
        "{e}"
    );
    assert!(!cache.path("fmp", "AAA").exists());
    assert!(cache.entries().is_empty());
    let leftovers = walk(dir.path());
    assert!(
        leftovers.is_empty(),
        "no temporary files either: {leftovers:?}"
    );
}

#[test]
fn offline_serves_the_cache_or_says_what_is_missing() {
    let server = MockServer::start(|r, _| serve_fmp(r));
    let provider = fmp(&server);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let today = d(2024, 6, 1);
    fetch_with_cache(
        &provider,
        Some(&cache),
        "AAA",
        d(2023, 1, 3),
        d(2023, 3, 31),
        &opts(CachePolicy::Incremental, today),
    )
    .unwrap();
    let hits = server.hits();
    let (bars, _) = fetch_with_cache(
        &provider,
        Some(&cache),
        "AAA",
        d(2023, 2, 1),
        d(2023, 2, 28),
        &opts(CachePolicy::Offline, today),
    )
    .unwrap();
    assert_eq!(bars.len(), 19);
    let err = fetch_with_cache(
        &provider,
        Some(&cache),
        "AAA",
        d(2023, 2, 1),
        d(2023, 5, 31),
        &opts(CachePolicy::Offline, today),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("offline: the cache lacks AAA from 2023-04-01 to 2023-05-31"),
        "{err}"
    );
    assert_eq!(server.hits(), hits);
    assert_eq!(cache.entries().len(), 1);
    assert_eq!(cache.clear(None, Some("AAA")).unwrap(), 1);
    assert!(cache.entries().is_empty());
}

#[test]
fn the_provider_trait_is_object_safe_for_the_cache() {
    let server = MockServer::start(|r, _| serve_fmp(r));
    let boxed: Box<dyn Provider> = Box::new(fmp(&server));
    let (bars, _) = fetch_with_cache(
        boxed.as_ref(),
        None,
        "X",
        d(2024, 1, 2),
        d(2024, 1, 5),
        &opts(CachePolicy::Incremental, d(2024, 2, 1)),
    )
    .unwrap();
    assert_eq!(bars.len(), 4);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn a_recent_last_bar_is_fetched_again_once_the_file_is_old_enough() {
    let server = MockServer::start(|r, _| serve_fmp(r));
    let provider = fmp(&server);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let today = d(2024, 1, 5);
    let mut o = opts(CachePolicy::Incremental, today);
    o.refresh_last_bar_after = std::time::Duration::ZERO;
    let (_, s) =
        fetch_with_cache(&provider, Some(&cache), "AAA", d(2024, 1, 2), today, &o).unwrap();
    assert_eq!(s.requests, 1);
    let (bars, s) =
        fetch_with_cache(&provider, Some(&cache), "AAA", d(2024, 1, 2), today, &o).unwrap();
    assert_eq!(s.requests, 1, "the last bar (today's) is asked for again");
    let last = server.requests().last().unwrap().clone();
    assert_eq!(
        (last.query["from"].as_str(), last.query["to"].as_str()),
        ("2024-01-05", "2024-01-05")
    );
    assert_eq!(bars.len(), 4);
    // With the default 12 hours, a fresh file is trusted.
    let fresh = opts(CachePolicy::Incremental, today);
    let (_, s) =
        fetch_with_cache(&provider, Some(&cache), "AAA", d(2024, 1, 2), today, &fresh).unwrap();
    assert_eq!(s.requests, 0);
}

//! Fuzzing every reader of bytes qts did not write (proptest, a fixed seed and a fixed number of
//! cases, so the test command runs the same inputs in bounded time): CSV bars, CSV tables,
//! gzipped CSV tables, Parquet bars, and the FMP (both APIs), Yahoo and Alpha Vantage answers
//! over the real HTTP stack. Inputs are arbitrary bytes and valid files edited a few bytes at a
//! time (`qts_core::fuzz::mutate`). Any panic is a failed case; so is a result that breaks the
//! reader's own contract (columns of unequal length, a bar outside the asked range, an error
//! for a cap that does not name the cap's key).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use qts_config::{HttpProvider, ReadLimits};
use qts_core::config::Secret;
use qts_core::fuzz::mutate;
use qts_data::DataError;
use qts_data::bars::BarSeries;
use qts_data::io;
use qts_data::provider::{AlphaVantage, FetchError, Fmp, Provider, Yahoo};
use support::{MockServer, Response};

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20_261_202),
        // A failing case's seed is written to proptest-regressions/fuzz_readers.txt (commit it): it is
        // replayed first on every later run.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_readers.txt",
        ))),
        ..Config::default()
    }
}

/// Up to `n` edits of any kind.
fn edits(n: usize) -> impl Strategy<Value = Vec<(u8, u32, u8)>> {
    prop::collection::vec(any::<(u8, u32, u8)>(), 0..n)
}

/// Small caps, so the fuzzed inputs reach them too.
fn tight() -> ReadLimits {
    ReadLimits {
        max_bytes: 4_000,
        max_rows: 40,
        max_columns: 9,
        max_line_bytes: 120,
    }
}

fn seed_csv() -> Vec<u8> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/goog_daily.csv"),
    )
    .unwrap();
    text.lines()
        .take(30)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

/// What a bar reader promises when it succeeds.
fn check_bars(bars: &BarSeries) {
    let n = bars.time.len();
    for col in [&bars.open, &bars.high, &bars.low, &bars.close, &bars.volume] {
        assert_eq!(col.len(), n);
    }
    if let Some(adj) = &bars.adj_close {
        assert_eq!(adj.len(), n);
    }
    assert!(bars.source_rows.is_empty() || bars.source_rows.len() == n);
}

/// What a refusal promises: a cap's error names its key.
fn check_error(e: &DataError) {
    let text = e.to_string();
    if let DataError::Limit { key, .. } = e {
        assert!(text.contains(&format!("data.limits.{key}")), "{text}");
    }
    assert!(!text.is_empty());
}

fn csv_bars(bytes: &[u8], limits: &ReadLimits) {
    match io::parse_csv_with(Path::new("fuzz.csv"), bytes, limits) {
        Ok(bars) => check_bars(&bars),
        Err(e) => check_error(&e),
    }
}

fn csv_table(bytes: &[u8], limits: &ReadLimits) {
    match io::parse_csv_table_with(Path::new("fuzz.csv"), bytes, limits) {
        Ok(table) => {
            for (_, col) in &table.columns {
                assert_eq!(col.len(), table.time.len());
            }
        }
        Err(e) => check_error(&e),
    }
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn csv_bars_from_edited_files(e in edits(12)) {
        let bytes = mutate(&seed_csv(), &e);
        csv_bars(&bytes, &ReadLimits::default());
        csv_bars(&bytes, &tight());
    }

    #[test]
    fn csv_bars_from_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        csv_bars(&bytes, &ReadLimits::default());
    }

    #[test]
    fn csv_tables_from_edited_files(e in edits(12)) {
        let bytes = mutate(&seed_csv(), &e);
        csv_table(&bytes, &ReadLimits::default());
        csv_table(&bytes, &tight());
    }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn gzipped_tables_from_edited_archives(e in edits(6)) {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&seed_csv()).unwrap();
        let bytes = mutate(&gz.finish().unwrap(), &e);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.csv.gz");
        std::fs::write(&path, &bytes).unwrap();
        for limits in [ReadLimits::default(), tight()] {
            if let Err(e) = io::read_csv_table_with(&path, &limits) {
                check_error(&e);
            }
        }
    }

    #[test]
    fn parquet_bars_from_edited_files(e in edits(8)) {
        let bars = io::parse_csv(Path::new("seed.csv"), &seed_csv()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed.parquet");
        io::write_parquet(&bars.to_table(), &seed).unwrap();
        let bytes = mutate(&std::fs::read(&seed).unwrap(), &e);
        for limits in [ReadLimits::default(), tight()] {
            match io::parse_parquet_with(Path::new("fuzz.parquet"), bytes.clone().into(), &limits) {
                Ok(bars) => check_bars(&bars),
                Err(e) => check_error(&e),
            }
        }
    }
}

const FMP: &str = r#"[{"symbol":"AAPL","date":"2024-01-04","open":182.15,"high":183.09,"low":180.88,"close":181.91,"volume":71983600},{"symbol":"AAPL","date":"2024-01-03","open":184.22,"high":185.88,"low":183.43,"close":184.25,"volume":58414500}]"#;
const FMP_V3: &str = r#"{"symbol":"AAPL","historical":[{"date":"2024-01-03","open":184.22,"high":185.88,"low":183.43,"close":184.25,"adjClose":183.5,"volume":58414500},{"date":"2024-01-02","open":187.15,"high":188.44,"low":183.89,"close":185.64,"adjClose":184.9,"volume":82488700}]}"#;
const YAHOO: &str = r#"{"chart":{"result":[{"meta":{"gmtoffset":-18000},"timestamp":[1704205800,1704292200],"indicators":{"quote":[{"open":[187.15,184.22],"high":[188.44,185.88],"low":[183.89,183.43],"close":[185.64,184.25],"volume":[82488700,58414500]}],"adjclose":[{"adjclose":[184.9,183.5]}]}}],"error":null}}"#;
const ALPHA: &str = r#"{"Meta Data": {"2. Symbol": "IBM"}, "Time Series (Daily)": {"2024-01-03": {"1. open": "161.0", "2. high": "161.7", "3. low": "160.1", "4. close": "160.1", "5. adjusted close": "160.1", "6. volume": "4086900", "7. dividend amount": "1.6600", "8. split coefficient": "1.0"}, "2024-01-02": {"1. open": "162.8", "2. high": "163.3", "3. low": "160.4", "4. close": "161.5", "5. adjusted close": "159.8", "6. volume": "3792100", "7. dividend amount": "0.0000", "8. split coefficient": "2.0"}}}"#;
/// FMP's split and dividend lists share one seed: a row of each (each endpoint reads its own
/// fields and refuses the other's row).
const FMP_EVENTS: &str = r#"[{"symbol":"AAPL","date":"2024-01-03","numerator":4,"denominator":1,"dividend":0.24,"adjDividend":0.24,"recordDate":"2024-01-04","paymentDate":"2024-01-11"}]"#;

/// One loopback server for all cases, answering whatever the case put in `answer` (FMP's
/// split and dividend lists: `events`).
struct Fuzzed {
    server: MockServer,
    answer: Arc<Mutex<(u16, String)>>,
    events: Arc<Mutex<(u16, String)>>,
}

impl Fuzzed {
    fn start() -> Fuzzed {
        let answer = Arc::new(Mutex::new((200, String::new())));
        let events = Arc::new(Mutex::new((200, "[]".to_string())));
        let (shared, shared_events) = (answer.clone(), events.clone());
        let server = MockServer::start(move |r, _| {
            let (status, body) = if support::is_fmp_event(r) {
                shared_events.lock().unwrap().clone()
            } else {
                shared.lock().unwrap().clone()
            };
            Response::json(status, body)
        });
        Fuzzed {
            server,
            answer,
            events,
        }
    }

    fn provider_config(&self) -> HttpProvider {
        HttpProvider {
            base_url: self.server.url(),
            api_key: Secret::new("fuzz-secret-key-123"),
            calls_per_minute: 1_000_000,
            timeout_secs: 5,
            max_retries: 0,
            backoff_initial_ms: 1,
            backoff_max_ms: 1,
            ..HttpProvider::default()
        }
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn fetched(result: Result<BarSeries, FetchError>) {
    let (from, to) = (d(2024, 1, 1), d(2024, 1, 31));
    match result {
        Ok(bars) => {
            check_bars(&bars);
            assert!(bars.time.iter().all(|t| (from..=to).contains(&t.date())));
            assert!(
                bars.time.windows(2).all(|w| w[0] < w[1]),
                "sorted, no duplicates"
            );
        }
        Err(e) => {
            let text = e.to_string();
            assert!(!text.contains("fuzz-secret-key-123"), "{text}");
            if let FetchError::Data(e) = &e {
                check_error(e);
            }
        }
    }
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![8 => Just(200u16), 1 => Just(404u16), 1 => Just(400u16)]
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn provider_answers_from_edited_bodies(
        which in 0..5usize,
        code in status(),
        e in edits(10),
        tight_caps in any::<bool>(),
    ) {
        thread_local!(static SERVER: Fuzzed = Fuzzed::start());
        SERVER.with(|s| {
            let seed = [FMP, FMP_V3, YAHOO, ALPHA, FMP_EVENTS][which];
            let body = String::from_utf8_lossy(&mutate(seed.as_bytes(), &e)).into_owned();
            // Case 4: FMP's prices as they are, its split and dividend lists edited.
            if which == 4 {
                *s.answer.lock().unwrap() = (200, FMP.to_string());
                *s.events.lock().unwrap() = (code, body);
            } else {
                *s.answer.lock().unwrap() = (code, body);
                *s.events.lock().unwrap() = (200, "[]".to_string());
            }
            let mut cfg = s.provider_config();
            let limits = if tight_caps {
                ReadLimits { max_bytes: 300, max_rows: 1, ..ReadLimits::default() }
            } else {
                ReadLimits::default()
            };
            let (from, to) = (d(2024, 1, 1), d(2024, 1, 31));
            let result = match which {
                0 | 1 | 4 => {
                    cfg.legacy_api = which == 1;
                    Fmp::new(&cfg).unwrap().with_limits(limits).fetch("AAPL", from, to)
                }
                2 => Yahoo::new(&cfg).with_limits(limits).fetch("AAPL", from, to),
                _ => AlphaVantage::new(&cfg).unwrap().with_limits(limits).fetch("IBM", from, to),
            };
            fetched(result);
        });
    }
}

#[test]
fn a_provider_answer_over_the_byte_cap_is_refused_naming_the_key() {
    let s = Fuzzed::start();
    // A valid answer of about 3 MB: accepted under the defaults, refused under a 1 MB cap.
    let row = r#"{"symbol":"AAPL","date":"2024-01-04","open":182.15,"high":183.09,"low":180.88,"close":181.91,"volume":71983600}"#;
    let body = format!("[{}]", vec![row; 30_000].join(","));
    *s.answer.lock().unwrap() = (200, body);
    let cfg = s.provider_config();
    let (from, to) = (d(2024, 1, 1), d(2024, 1, 31));
    let bars = Fmp::new(&cfg).unwrap().fetch("AAPL", from, to).unwrap();
    assert_eq!(bars.len(), 1, "30,000 copies of one day are one bar");
    let caps = ReadLimits {
        max_bytes: 1 << 20,
        ..ReadLimits::default()
    };
    let e = Fmp::new(&cfg)
        .unwrap()
        .with_limits(caps)
        .fetch("AAPL", from, to)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "fmp answer to GET /stable/historical-price-eod/non-split-adjusted: a body of more bytes exceeds the \
         limit of 1048576 set by data.limits.max_bytes (raise it with --set \
         data.limits.max_bytes=N if the input is genuine)"
    );
    let caps = ReadLimits {
        max_rows: 29_999,
        ..ReadLimits::default()
    };
    let e = Fmp::new(&cfg)
        .unwrap()
        .with_limits(caps)
        .fetch("AAPL", from, to)
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("fmp answer for `AAPL`: 30000 bars exceeds the limit of 29999 set by data.limits.max_rows"),
        "{e}"
    );
}

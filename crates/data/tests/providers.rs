//! Providers over the real HTTP stack against a loopback server speaking each provider's
//! documented format: success, 429 then 200, repeated 500s, malformed JSON, empty histories,
//! unknown symbols, a rejected key, timeouts. The API key never appears in an error.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use chrono::NaiveDate;
use qts_config::HttpProvider;
use qts_core::config::Secret;
use qts_data::provider::{FetchError, Fmp, Provider, Yahoo};
use support::{MockServer, Response};

const KEY: &str = "fmp-secret-key-123";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn cfg(server: &MockServer) -> HttpProvider {
    HttpProvider {
        base_url: server.url(),
        api_key: Secret::new(KEY),
        calls_per_minute: 6000,
        timeout_secs: 1,
        max_retries: 3,
        backoff_initial_ms: 1,
        backoff_max_ms: 5,
        ..HttpProvider::default()
    }
}

const STABLE: &str = r#"[
 {"symbol":"AAPL","date":"2024-01-04","open":182.15,"high":183.09,"low":180.88,"close":181.91,"volume":71983600,"change":-0.24,"changePercent":-0.13,"vwap":181.99},
 {"symbol":"AAPL","date":"2024-01-03","open":184.22,"high":185.88,"low":183.43,"close":184.25,"volume":58414500,"change":0.03,"changePercent":0.02,"vwap":184.44},
 {"symbol":"AAPL","date":"2024-01-02","open":187.15,"high":188.44,"low":183.89,"close":185.64,"volume":82488700,"change":-1.51,"changePercent":-0.81,"vwap":186.28}
]"#;

#[test]
fn fmp_stable_endpoint_parses_newest_first_bars() {
    // `events: false`: FMP's split-adjusted prices alone, one request.
    let server = MockServer::start(|_, _| Response::json(200, STABLE));
    let mut c = cfg(&server);
    c.events = false;
    let fmp = Fmp::new(&c).unwrap();
    let bars = fmp.fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31)).unwrap();
    assert_eq!(bars.len(), 3);
    assert_eq!(bars.time[0].date(), d(2024, 1, 2), "sorted oldest first");
    assert_eq!(bars.close, vec![185.64, 184.25, 181.91]);
    assert_eq!(bars.volume[2], 71983600.0);
    assert!(bars.adj_close.is_none());
    let req = &server.requests()[0];
    assert_eq!(req.path, "/stable/historical-price-eod/full");
    assert_eq!(req.query["symbol"], "AAPL");
    assert_eq!(req.query["from"], "2024-01-01");
    assert_eq!(req.query["to"], "2024-01-31");
    assert_eq!(req.query["apikey"], KEY);
    assert_eq!(server.hits(), 1);
}

/// Apple around its 4:1 split of 2020-08-31 and its dividend of 0.82 a share (ex-date
/// 2020-08-07, 0.205 once split-adjusted), shaped as FMP's three answers: the
/// non-split-adjusted prices (named `adjOpen` … `adjClose`, as traded; the numbers near Apple's
/// closes, for the parse), the split list and the dividend list.
fn fmp_apple_2020(r: &support::Request) -> Response {
    let body = match r.path.as_str() {
        "/stable/historical-price-eod/non-split-adjusted" => {
            r#"[
 {"symbol":"AAPL","date":"2020-09-01","adjOpen":132.76,"adjHigh":134.8,"adjLow":130.53,"adjClose":134.18,"volume":151948100},
 {"symbol":"AAPL","date":"2020-08-31","adjOpen":127.58,"adjHigh":131.0,"adjLow":126.0,"adjClose":129.04,"volume":225702700},
 {"symbol":"AAPL","date":"2020-08-28","adjOpen":504.05,"adjHigh":505.77,"adjLow":498.31,"adjClose":499.23,"volume":46907500},
 {"symbol":"AAPL","date":"2020-08-07","adjOpen":452.82,"adjHigh":454.7,"adjLow":441.17,"adjClose":444.45,"volume":49511400},
 {"symbol":"AAPL","date":"2020-08-06","adjOpen":441.62,"adjHigh":457.65,"adjLow":439.19,"adjClose":455.61,"volume":53108300}
]"#
        }
        "/stable/splits" => {
            r#"[{"symbol":"AAPL","date":"2020-08-31","numerator":4,"denominator":1}]"#
        }
        "/stable/dividends" => {
            r#"[{"symbol":"AAPL","date":"2020-08-07","recordDate":"2020-08-10","paymentDate":"2020-08-13","declarationDate":"2020-07-30","adjDividend":0.205,"dividend":0.82,"yield":0.66,"frequency":"Quarterly"}]"#
        }
        other => panic!("unexpected path {other}"),
    };
    Response::json(200, body)
}

#[test]
fn fmp_raw_prices_come_with_their_splits_and_dividends() {
    use qts_data::actions::{ActionKind, Basis, CorporateAction};
    let server = MockServer::start(|r, _| fmp_apple_2020(r));
    let fmp = Fmp::new(&cfg(&server)).unwrap();
    assert_eq!(fmp.prices(), qts_data::provider::RAW_WITH_EVENTS);
    let bars = fmp.fetch("AAPL", d(2020, 8, 1), d(2020, 9, 30)).unwrap();
    // Three requests, each for the same symbol and range.
    let paths: Vec<_> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/stable/historical-price-eod/non-split-adjusted",
            "/stable/splits",
            "/stable/dividends"
        ]
    );
    for r in server.requests() {
        assert_eq!(
            (r.query["symbol"].as_str(), r.query["from"].as_str()),
            ("AAPL", "2020-08-01")
        );
        assert_eq!(
            (r.query["to"].as_str(), r.query["apikey"].as_str()),
            ("2020-09-30", KEY)
        );
    }
    // The prices as traded (the endpoint's `adj…` fields), oldest first, and no adjusted
    // close: this endpoint's `adjClose` is the close as traded.
    assert_eq!(bars.close, vec![455.61, 444.45, 499.23, 129.04, 134.18]);
    assert_eq!(bars.open[2], 504.05);
    assert!(bars.adj_close.is_none());
    // The split as new shares per old share, the dividend as declared (raw), not adjDividend.
    assert_eq!(
        bars.actions,
        vec![
            CorporateAction {
                date: d(2020, 8, 7),
                kind: ActionKind::Dividend,
                value: 0.82
            },
            CorporateAction {
                date: d(2020, 8, 31),
                kind: ActionKind::Split,
                value: 4.0
            },
        ]
    );
    // On the split basis the −74 % day is gone and the dividend is split-adjusted.
    let split = qts_data::actions::on_basis(bars.clone(), Basis::Split).unwrap();
    let day = split.close[3] / split.close[2] - 1.0;
    assert!(
        (day - (129.04 / (499.23 / 4.0) - 1.0)).abs() < 1e-12,
        "{day}"
    );
    assert!(day > 0.03, "{day}");
    assert!(
        (split.actions[0].value - 0.205).abs() < 1e-12,
        "{:?}",
        split.actions
    );

    // An answer without prices asks for no event.
    let server = MockServer::start(|_, _| Response::json(200, "[]"));
    let bars = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2020, 8, 1), d(2020, 9, 30))
        .unwrap();
    assert!(bars.is_empty());
    assert_eq!(server.hits(), 1);

    // A split that is no ratio is a malformed answer naming its date; a refused event list
    // fails the fetch (raw prices without their splits would show a crash that never was).
    let server = MockServer::start(|r, _| {
        if r.path == "/stable/splits" {
            Response::json(
                200,
                r#"[{"date":"2020-08-31","numerator":0,"denominator":1}]"#,
            )
        } else {
            fmp_apple_2020(r)
        }
    });
    let err = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2020, 8, 1), d(2020, 9, 30))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("split of 2020-08-31") && err.contains("split ratio"),
        "{err}"
    );
    let server = MockServer::start(|r, _| {
        if r.path == "/stable/dividends" {
            Response::json(403, "Restricted Endpoint: not in your plan")
        } else {
            fmp_apple_2020(r)
        }
    });
    let err = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2020, 8, 1), d(2020, 9, 30))
        .unwrap_err();
    assert!(matches!(err, FetchError::Plan { .. }), "{err}");
    let err = err.to_string();
    assert!(
        err.contains("/stable/dividends") && err.contains("data.providers.fmp.events=false"),
        "{err}"
    );
}

#[test]
fn fmp_v3_format_with_adjusted_close() {
    let body = r#"{"symbol":"AAPL","historical":[
      {"date":"2024-01-03","open":184.22,"high":185.88,"low":183.43,"close":184.25,"adjClose":183.5,"volume":58414500,"unadjustedVolume":58414500,"change":0.03},
      {"date":"2024-01-02","open":187.15,"high":188.44,"low":183.89,"close":185.64,"adjClose":184.9,"volume":82488700,"unadjustedVolume":82488700,"change":-1.51}]}"#;
    let server = MockServer::start(move |_, _| Response::json(200, body));
    let mut c = cfg(&server);
    c.legacy_api = true;
    let bars = Fmp::new(&c)
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap();
    assert_eq!(bars.adj_close, Some(vec![184.9, 183.5]));
    assert_eq!(
        server.requests()[0].path,
        "/api/v3/historical-price-full/AAPL"
    );
}

#[test]
fn a_429_then_200_succeeds_after_honouring_retry_after() {
    let server = MockServer::fmp(|_, n| {
        if n == 0 {
            Response::json(429, r#"{"Error Message":"Limit Reach"}"#).header("Retry-After", "1")
        } else {
            Response::json(200, STABLE)
        }
    });
    let fmp = Fmp::new(&cfg(&server)).unwrap();
    let bars = fmp.fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31)).unwrap();
    assert_eq!(bars.len(), 3);
    assert_eq!(server.price_hits(), 2);
    // What the client decided, not the wall clock: one retry, after at least the second the
    // server asked for.
    let delays = fmp.http().retry_delays();
    assert_eq!(delays.len(), 1, "{delays:?}");
    assert!(
        delays[0] >= Duration::from_secs(1),
        "Retry-After: 1 was honoured: {delays:?}"
    );
}

#[test]
fn repeated_500s_give_up_after_the_configured_retries() {
    let server = MockServer::start(|_, _| Response::json(503, "upstream down"));
    let err = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(server.hits(), 4, "1 try + 3 retries");
    assert!(
        matches!(err, FetchError::GaveUp { attempts: 4, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 503"), "{err}");
}

#[test]
fn a_rejected_key_is_not_retried_and_not_echoed() {
    let server = MockServer::start(|r, _| {
        let echoed = format!(
            r#"{{"Error Message":"Invalid API KEY {}. Please retry."}}"#,
            r.query["apikey"]
        );
        Response::json(401, echoed)
    });
    let err = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(server.hits(), 1);
    let text = err.to_string();
    assert!(text.starts_with("fmp rejected the API key"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    // FMP also answers 200 with an error message.
    let server =
        MockServer::start(|_, _| Response::json(200, r#"{"Error Message":"Invalid API KEY."}"#));
    let err = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert!(matches!(err, FetchError::Auth { .. }), "{err}");
}

#[test]
fn malformed_json_is_an_error_without_retries() {
    let server =
        MockServer::start(|_, _| Response::json(200, "[{\"date\": \"2024-01-02\", \"open\": "));
    let err = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(server.hits(), 1);
    assert!(
        err.to_string()
            .contains("fmp sent a response qts cannot read for `AAPL`: /stable/historical-price-eod/non-split-adjusted: not JSON"),
        "{err}"
    );
    let server =
        MockServer::start(|_, _| Response::json(200, r#"[{"date":"2024-01-02","open":"x"}]"#));
    let err = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert!(err.to_string().contains("no numeric `open`"), "{err}");
}

#[test]
fn empty_histories_and_unknown_symbols() {
    let server = MockServer::start(|_, _| Response::json(200, "[]"));
    let bars = Fmp::new(&cfg(&server))
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap();
    assert!(bars.is_empty());
    let server = MockServer::start(|_, _| Response::json(200, "{}"));
    let mut c = cfg(&server);
    c.legacy_api = true;
    let err = Fmp::new(&c)
        .unwrap()
        .fetch("NOPE", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(err.to_string(), "fmp has no data for symbol `NOPE`");
}

#[test]
fn timeouts_are_retried_then_reported() {
    let server =
        MockServer::start(|_, _| Response::json(200, STABLE).delayed(Duration::from_millis(1500)));
    let mut c = cfg(&server);
    c.max_retries = 1;
    let err = Fmp::new(&c)
        .unwrap()
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(server.hits(), 2);
    assert!(err.to_string().contains("did not answer in time"), "{err}");
}

#[test]
fn a_missing_key_is_a_clear_error() {
    let err = Fmp::new(&HttpProvider::default()).err().unwrap();
    assert_eq!(
        err.to_string(),
        "fmp needs an API key: set FMP_API_KEY in the environment or .env"
    );
}

#[test]
fn yahoo_chart_api_and_its_unknown_symbol_error() {
    // 2024-01-02 and 03, stamped 14:30 UTC (09:30 New York), gmtoffset -18000.
    let body = r#"{"chart":{"result":[{"meta":{"currency":"USD","symbol":"AAPL","gmtoffset":-18000,"timezone":"EST"},
      "timestamp":[1704205800,1704292200],
      "indicators":{"quote":[{"open":[187.15,184.22],"high":[188.44,185.88],"low":[183.89,183.43],"close":[185.64,184.25],"volume":[82488700,58414500]}],
      "adjclose":[{"adjclose":[184.9,183.5]}]}}],"error":null}}"#;
    let server = MockServer::start(move |_, _| Response::json(200, body));
    let mut c = cfg(&server);
    c.api_key = Secret::default();
    let bars = Yahoo::new(&c)
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap();
    assert_eq!(
        bars.time.iter().map(|t| t.date()).collect::<Vec<_>>(),
        vec![d(2024, 1, 2), d(2024, 1, 3)]
    );
    assert_eq!(bars.adj_close, Some(vec![184.9, 183.5]));
    let req = &server.requests()[0];
    assert_eq!(req.path, "/v8/finance/chart/AAPL");
    assert_eq!(req.query["interval"], "1d");

    let server = MockServer::start(|_, _| {
        Response::json(
            404,
            r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#,
        )
    });
    let mut c = cfg(&server);
    c.api_key = Secret::default();
    let err = Yahoo::new(&c)
        .fetch("NOPE", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(err.to_string(), "yahoo has no data for symbol `NOPE`");
}

#[test]
fn yahoos_dividends_are_actions_kept_by_the_cache_and_written_out() {
    // Apple's dividend of 0.24 with ex-date 2024-02-09, as the chart API lists it (stamped at
    // the session open, 14:30 UTC); Yahoo's prices are already split-adjusted, so its splits
    // are not actions.
    let body = r#"{"chart":{"result":[{"meta":{"currency":"USD","symbol":"AAPL","gmtoffset":-18000,"timezone":"EST"},
      "timestamp":[1707402600,1707489000,1707748200],
      "events":{"dividends":{"1707489000":{"amount":0.24,"date":1707489000}},
                "splits":{"1598880600":{"date":1598880600,"numerator":4.0,"denominator":1.0,"splitRatio":"4:1"}}},
      "indicators":{"quote":[{"open":[189.39,188.65,188.42],"high":[189.54,189.99,188.67],"low":[187.35,188.0,186.79],"close":[188.32,188.85,187.15],"volume":[40962000,45155200,41781900]}],
      "adjclose":[{"adjclose":[188.08,188.85,187.15]}]}}],"error":null}}"#;
    let server = MockServer::start(move |_, _| Response::json(200, body));
    let mut c = cfg(&server);
    c.api_key = Secret::default();
    let yahoo = Yahoo::new(&c);
    let dir = tempfile::tempdir().unwrap();
    let cache = qts_data::cache::Cache::new(dir.path());
    let options = qts_data::cache::FetchOptions::from_config(
        &qts_data::settings::CacheConfig::default(),
        d(2024, 3, 1),
    );
    let (bars, _) = qts_data::cache::fetch_with_cache(
        &yahoo,
        Some(&cache),
        "AAPL",
        d(2024, 2, 8),
        d(2024, 2, 12),
        &options,
    )
    .unwrap();
    let dividend = qts_data::actions::CorporateAction {
        date: d(2024, 2, 9),
        kind: qts_data::actions::ActionKind::Dividend,
        value: 0.24,
    };
    assert_eq!(bars.actions, vec![dividend]);
    // The cache keeps it: served again without a request.
    let (again, stats) = qts_data::cache::fetch_with_cache(
        &yahoo,
        Some(&cache),
        "AAPL",
        d(2024, 2, 8),
        d(2024, 2, 12),
        &options,
    )
    .unwrap();
    assert_eq!(stats.requests, 0);
    assert_eq!(again.actions, vec![dividend]);
    // And a CSV written from the bars reads back with it (its `dividend` column).
    let out = dir.path().join("AAPL.csv");
    qts_data::io::write_table(&bars.to_table(), &out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.lines().next().unwrap().ends_with(",dividend,split"),
        "{text}"
    );
    assert_eq!(
        qts_data::io::read_bars(&out).unwrap().actions,
        vec![dividend]
    );
    // A dividend that is no amount is a malformed answer, named.
    let bad = body.replace("\"amount\":0.24", "\"amount\":-1");
    let server = MockServer::start(move |_, _| Response::json(200, bad.clone()));
    let mut c = cfg(&server);
    c.api_key = Secret::default();
    let err = Yahoo::new(&c)
        .fetch("AAPL", d(2024, 2, 8), d(2024, 2, 12))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2024-02-09") && err.contains("dividend"),
        "{err}"
    );
}

#[test]
fn the_token_bucket_spaces_requests_past_the_burst() {
    // 60 calls a minute: a burst of 60, then one a second.
    let server = MockServer::start(|_, _| Response::json(200, "[]"));
    let mut c = cfg(&server);
    c.calls_per_minute = 60;
    // What the limiter decides, not the wall clock (on a loaded machine 60 loopback requests
    // can take a second, in which a token comes back): the bucket itself, taken 61 times in
    // a few microseconds, then the same client's requests.
    let probe = Fmp::new(&c).unwrap();
    for i in 0..60 {
        assert_eq!(probe.http().try_token(), Ok(()), "token {i} of the burst");
    }
    let wait = probe.http().try_token().unwrap_err();
    assert!(
        wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
        "the 61st waits for the next token, one a second: {wait:?}"
    );
    let fmp = Fmp::new(&c).unwrap();
    for _ in 0..61 {
        fmp.fetch("AAPL", d(2024, 1, 1), d(2024, 1, 2)).unwrap();
    }
    assert_eq!(server.hits(), 61);
    let (held, waited) = fmp.http().held_back();
    assert!(
        held <= 1 && waited <= Duration::from_secs(1),
        "{held} {waited:?}"
    );
}

#[test]
fn alpha_vantage_daily_series_rate_limit_note_and_unknown_symbol() {
    use qts_data::provider::AlphaVantage;
    let body = r#"{"Meta Data": {"2. Symbol": "IBM"}, "Time Series (Daily)": {
        "2024-01-03": {"1. open": "161.0", "2. high": "161.7", "3. low": "160.1", "4. close": "160.1", "5. volume": "4086900"},
        "2024-01-02": {"1. open": "162.8", "2. high": "163.3", "3. low": "160.4", "4. close": "161.5", "5. volume": "3792100"}}}"#;
    let server = MockServer::start(move |_, n| {
        if n == 0 {
            Response::json(
                200,
                r#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute."}"#,
            )
        } else {
            Response::json(200, body)
        }
    });
    // `events: false`: the free daily series, raw prices without events.
    let mut daily = cfg(&server);
    daily.events = false;
    let av = AlphaVantage::new(&daily).unwrap();
    let bars = av.fetch("IBM", d(2024, 1, 1), d(2024, 1, 31)).unwrap();
    assert_eq!(bars.close, vec![161.5, 160.1]);
    assert_eq!(bars.volume[0], 3792100.0);
    assert_eq!(server.hits(), 2, "the Note was retried");
    let req = &server.requests()[1];
    assert_eq!(
        (req.path.as_str(), req.query["function"].as_str()),
        ("/query", "TIME_SERIES_DAILY")
    );
    assert_eq!(req.query["apikey"], KEY);

    let server = MockServer::start(|_, _| {
        Response::json(
            200,
            r#"{"Error Message": "Invalid API call. Please retry or visit the documentation for TIME_SERIES_DAILY."}"#,
        )
    });
    let err = AlphaVantage::new(&cfg(&server))
        .unwrap()
        .fetch("NOPE", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "alpha_vantage has no data for symbol `NOPE`"
    );
    let server = MockServer::start(|_, _| Response::json(200, r#"{"Note": "call frequency"}"#));
    let err = AlphaVantage::new(&cfg(&server))
        .unwrap()
        .fetch("IBM", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert!(
        matches!(err, FetchError::GaveUp { attempts: 4, .. }),
        "{err}"
    );
}

#[test]
fn alpha_vantage_adjusted_series_gives_the_actions_and_a_premium_refusal_is_not_retried() {
    use qts_data::actions::{ActionKind, CorporateAction};
    use qts_data::provider::AlphaVantage;
    // TIME_SERIES_DAILY_ADJUSTED's shape: raw prices, Alpha Vantage's adjusted close, a
    // dividend (0 for none) and a split coefficient (1 for none) on each row.
    let body = r#"{"Meta Data": {"1. Information": "Daily Time Series with Splits and Dividend Events", "2. Symbol": "XYZ"},
      "Time Series (Daily)": {
        "2024-01-04": {"1. open": "51.0", "2. high": "52.0", "3. low": "50.5", "4. close": "51.5", "5. adjusted close": "51.5", "6. volume": "2000", "7. dividend amount": "0.0000", "8. split coefficient": "2.0"},
        "2024-01-03": {"1. open": "101.0", "2. high": "102.0", "3. low": "99.0", "4. close": "100.0", "5. adjusted close": "49.75", "6. volume": "1000", "7. dividend amount": "0.5000", "8. split coefficient": "1.0"},
        "2024-01-02": {"1. open": "100.0", "2. high": "101.0", "3. low": "99.5", "4. close": "100.5", "5. adjusted close": "49.75", "6. volume": "1000", "7. dividend amount": "0.0000", "8. split coefficient": "1.0"}}}"#;
    let server = MockServer::start(move |_, _| Response::json(200, body));
    let av = AlphaVantage::new(&cfg(&server)).unwrap();
    assert_eq!(av.prices(), qts_data::provider::RAW_WITH_EVENTS);
    let bars = av.fetch("XYZ", d(2024, 1, 1), d(2024, 1, 31)).unwrap();
    assert_eq!(
        server.requests()[0].query["function"],
        "TIME_SERIES_DAILY_ADJUSTED"
    );
    assert_eq!(bars.close, vec![100.5, 100.0, 51.5]);
    assert_eq!(bars.volume, vec![1000.0, 1000.0, 2000.0]);
    assert_eq!(bars.adj_close, Some(vec![49.75, 49.75, 51.5]));
    assert_eq!(
        bars.actions,
        vec![
            CorporateAction {
                date: d(2024, 1, 3),
                kind: ActionKind::Dividend,
                value: 0.5
            },
            CorporateAction {
                date: d(2024, 1, 4),
                kind: ActionKind::Split,
                value: 2.0
            },
        ]
    );
    // A negative split coefficient is a malformed answer naming the day and the column.
    let bad = body.replace(
        r#""8. split coefficient": "2.0""#,
        r#""8. split coefficient": "-2""#,
    );
    let server = MockServer::start(move |_, _| Response::json(200, bad.clone()));
    let err = AlphaVantage::new(&cfg(&server))
        .unwrap()
        .fetch("XYZ", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2024-01-04") && err.contains("8. split coefficient"),
        "{err}"
    );
    // A key without the premium plan: one request, and the way out named.
    let server = MockServer::start(|_, _| {
        Response::json(
            200,
            r#"{"Information": "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans."}"#,
        )
    });
    let err = AlphaVantage::new(&cfg(&server))
        .unwrap()
        .fetch("XYZ", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert_eq!(server.hits(), 1, "not retried");
    assert!(matches!(err, FetchError::Plan { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("data.providers.alpha_vantage.events=false"),
        "{err}"
    );
}

#[test]
fn an_unreachable_host_fails_at_once_naming_it() {
    // A loopback port nobody listens on: connection refused, which no retry can fix.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = HttpProvider {
        base_url: format!("http://127.0.0.1:{port}"),
        api_key: Secret::new(KEY),
        max_retries: 5,
        backoff_initial_ms: 1_000,
        ..HttpProvider::default()
    };
    let fmp = Fmp::new(&c).unwrap();
    let err = fmp
        .fetch("AAPL", d(2024, 1, 1), d(2024, 1, 31))
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::Unreachable { host, .. } if *host == format!("127.0.0.1:{port}")),
        "{err:?}"
    );
    assert!(err.to_string().contains("not retried"), "{err}");
    assert!(!err.to_string().contains(KEY));
    assert!(fmp.http().retry_delays().is_empty(), "no retry was decided");
}

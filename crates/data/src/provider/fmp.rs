//! Financial Modeling Prep. By default (`events: true`) three requests a symbol, each with
//! `symbol`, `from` and `to`, all on the `stable` API:
//! - `GET /stable/historical-price-eod/non-split-adjusted`: the prices **as traded** (a JSON
//!   array, newest first; its rows name the prices `adjOpen` … `adjClose`, which on this
//!   endpoint are *not* adjusted);
//! - `GET /stable/splits` (`numerator`, `denominator`: new shares per old share is their
//!   ratio) and `GET /stable/dividends` (`dividend`: cash per share as declared, on the raw
//!   basis; `adjDividend` is split-adjusted and not used): the bars' corporate actions.
//!
//! So the cache holds raw prices with their events, and a later split never makes the cached
//! bars disagree with new ones; the price basis (`data.adjustment`) is applied when the bars
//! are read. With `events: false`, one request, `GET /stable/historical-price-eod/full`: FMP's
//! split-adjusted prices, without dividends (a split after the cached bars would then leave
//! them on another basis). With `legacy_api: true`, the older
//! `GET /api/v3/historical-price-full/{symbol}?from=…&to=…` (`{"symbol", "historical": [...]}`
//! with `adjClose`, split-adjusted). Errors come as `{"Error Message": "..."}`, sometimes with
//! status 200.

use crate::settings::HttpProvider;
use chrono::NaiveDate;
use serde_json::Value;

use super::http::HttpClient;
use super::{FetchError, Provider, normalise};
use crate::actions::{ActionKind, CorporateAction};
use crate::bars::BarSeries;

const NAME: &str = "fmp";

/// The paths of the three `stable` requests.
pub const RAW_PRICES: &str = "/stable/historical-price-eod/non-split-adjusted";
/// FMP's split-adjusted prices (`events: false`).
pub const SPLIT_ADJUSTED_PRICES: &str = "/stable/historical-price-eod/full";
/// A symbol's splits.
pub const SPLITS: &str = "/stable/splits";
/// A symbol's dividends.
pub const DIVIDENDS: &str = "/stable/dividends";

/// The FMP provider.
pub struct Fmp {
    http: HttpClient,
    legacy: bool,
    events: bool,
}

impl Fmp {
    /// The provider under `limits` (`data.limits`: body bytes, bars) instead of the defaults.
    #[must_use]
    pub fn with_limits(mut self, limits: crate::settings::ReadLimits) -> Fmp {
        self.http = self.http.with_limits(limits);
        self
    }

    /// The HTTP client (its rate limiter's decisions, for tests and logs).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A provider from its `data_sources.yaml` section.
    ///
    /// # Errors
    /// [`FetchError::MissingKey`] when no API key is set.
    pub fn new(cfg: &HttpProvider) -> Result<Fmp, FetchError> {
        if !cfg.api_key.is_set() {
            return Err(FetchError::MissingKey {
                provider: NAME,
                variable: "FMP_API_KEY",
            });
        }
        Ok(Fmp {
            http: HttpClient::new(NAME, cfg),
            legacy: cfg.legacy_api,
            events: cfg.events,
        })
    }

    fn raw_with_events(&self) -> bool {
        self.events && !self.legacy
    }
}

impl Provider for Fmp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prices(&self) -> &'static str {
        if self.raw_with_events() {
            super::RAW_WITH_EVENTS
        } else {
            ""
        }
    }

    fn fetch(&self, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<BarSeries, FetchError> {
        let range = [("from", from.to_string()), ("to", to.to_string())];
        if self.legacy {
            let path = format!("/api/v3/historical-price-full/{symbol}");
            let json = self.get(symbol, &path, &range)?;
            let rows = match &json {
                Value::Array(rows) => rows.as_slice(),
                // v3 answers `{}` for a symbol it does not know.
                Value::Object(map) if map.is_empty() => return Err(self.unknown(symbol)),
                Value::Object(map) => match map.get("historical") {
                    Some(Value::Array(rows)) => rows.as_slice(),
                    _ => {
                        return Err(
                            self.malformed(symbol, "an object without a `historical` list".into())
                        );
                    }
                },
                _ => {
                    return Err(
                        self.malformed(symbol, "neither a list of bars nor an object".into())
                    );
                }
            };
            self.http.check_rows(symbol, rows.len())?;
            let bars =
                parse_rows(symbol, rows, Prices::Named).map_err(|d| self.malformed(symbol, d))?;
            return Ok(normalise(bars, from, to));
        }
        let mut query = vec![("symbol", symbol.to_string())];
        query.extend(range);
        let (path, prices) = if self.events {
            (RAW_PRICES, Prices::AsTraded)
        } else {
            (SPLIT_ADJUSTED_PRICES, Prices::Named)
        };
        let rows = self.list(symbol, path, &query)?;
        let mut bars = parse_rows(symbol, &rows, prices).map_err(|d| self.malformed(symbol, d))?;
        if self.events && !bars.is_empty() {
            // The events of the same range; none asked for a range without a bar.
            let splits = self.list(symbol, SPLITS, &query)?;
            let dividends = self.list(symbol, DIVIDENDS, &query)?;
            bars.actions =
                parse_actions(&splits, &dividends).map_err(|d| self.malformed(symbol, d))?;
        }
        Ok(normalise(bars, from, to))
    }
}

impl Fmp {
    fn malformed(&self, symbol: &str, detail: String) -> FetchError {
        FetchError::Malformed {
            provider: NAME,
            symbol: symbol.to_string(),
            detail: self.http.scrub(&detail),
        }
    }

    fn unknown(&self, symbol: &str) -> FetchError {
        FetchError::UnknownSymbol {
            provider: NAME,
            symbol: symbol.into(),
        }
    }

    /// One request's JSON, after FMP's ways of failing (a status, `{"Error Message"}`).
    fn get(&self, symbol: &str, path: &str, query: &[(&str, String)]) -> Result<Value, FetchError> {
        let reply = match self.http.get(path, query, Some("apikey")) {
            Err(FetchError::Auth { detail, .. }) if self.restricted(path, &detail) => {
                return Err(FetchError::Plan {
                    provider: NAME,
                    detail: format!("{path}: {detail}"),
                    hint: "FMP serves the prices as traded, the splits and the dividends to some plans \
                           only: set data.providers.fmp.events=false for its split-adjusted prices \
                           alone (one request a symbol, no dividends)",
                });
            }
            other => other?,
        };
        if reply.status == 404 {
            return Err(self.unknown(symbol));
        }
        if !(200..300).contains(&reply.status) {
            return Err(FetchError::Status {
                provider: NAME,
                status: reply.status,
                detail: self.http.scrub(reply.body.lines().next().unwrap_or("")),
            });
        }
        let json: Value = serde_json::from_str(&reply.body)
            .map_err(|e| self.malformed(symbol, format!("{path}: not JSON ({e})")))?;
        if let Some(message) = json.get("Error Message").and_then(Value::as_str) {
            let message = self.http.scrub(message);
            if message.to_ascii_lowercase().contains("api key") {
                return Err(FetchError::Auth {
                    provider: NAME,
                    detail: message,
                });
            }
            return Err(self.malformed(symbol, message));
        }
        Ok(json)
    }

    /// Whether a refusal of `path` is one of the plan rather than of the key: FMP says
    /// "Restricted Endpoint" (or names the subscription); an event list refused once the
    /// prices were served is the plan's doing too.
    fn restricted(&self, path: &str, detail: &str) -> bool {
        let detail = detail.to_ascii_lowercase();
        self.raw_with_events()
            && (path == SPLITS
                || path == DIVIDENDS
                || ["restricted", "subscription", "plan"]
                    .iter()
                    .any(|w| detail.contains(w)))
    }

    /// A `stable` endpoint's rows: a JSON array, under the row cap.
    fn list(
        &self,
        symbol: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, FetchError> {
        match self.get(symbol, path, query)? {
            Value::Array(rows) => {
                self.http.check_rows(symbol, rows.len())?;
                Ok(rows)
            }
            Value::Object(map) if map.is_empty() => Err(self.unknown(symbol)),
            _ => Err(self.malformed(symbol, format!("{path}: not a list"))),
        }
    }
}

/// How a price endpoint names its prices.
#[derive(Clone, Copy, PartialEq)]
enum Prices {
    /// `open` … `close`, with `adjClose` (the total-return close) where given.
    Named,
    /// The non-split-adjusted endpoint: `adjOpen` … `adjClose` are the prices as traded (a row
    /// naming them `open` … `close` is read too); no adjusted close.
    AsTraded,
}

fn parse_rows(symbol: &str, rows: &[Value], prices: Prices) -> Result<BarSeries, String> {
    let mut bars = BarSeries {
        symbol: symbol.to_string(),
        ..BarSeries::default()
    };
    let has_adj = prices == Prices::Named && rows.iter().any(|r| r.get("adjClose").is_some());
    let mut adj = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let date = row
            .get("date")
            .and_then(Value::as_str)
            .and_then(crate::io::parse_time)
            .ok_or_else(|| format!("bar {i} has no valid `date`"))?;
        let num = |key: &str| -> Result<f64, String> {
            let key = match prices {
                Prices::AsTraded => {
                    let traded = format!("adj{}{}", key[..1].to_ascii_uppercase(), &key[1..]);
                    if key != "volume" && row.get(&traded).is_some() {
                        traded
                    } else {
                        key.to_string()
                    }
                }
                Prices::Named => key.to_string(),
            };
            match row.get(&key) {
                Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(f64::NAN)),
                Some(Value::Null) => Ok(f64::NAN),
                None if key == "adjClose" => Ok(f64::NAN),
                _ => Err(format!("bar {i} ({}) has no numeric `{key}`", date.date())),
            }
        };
        bars.time.push(date);
        bars.open.push(num("open")?);
        bars.high.push(num("high")?);
        bars.low.push(num("low")?);
        bars.close.push(num("close")?);
        bars.volume.push(num("volume")?);
        if has_adj {
            adj.push(num("adjClose")?);
        }
    }
    bars.adj_close = has_adj.then_some(adj);
    Ok(bars)
}

/// The actions of `/stable/splits` (`numerator` / `denominator`) and `/stable/dividends`
/// (`dividend`, as declared; a row of 0 is no dividend).
fn parse_actions(splits: &[Value], dividends: &[Value]) -> Result<Vec<CorporateAction>, String> {
    let mut out = Vec::with_capacity(splits.len() + dividends.len());
    let date = |row: &Value, what: &str, i: usize| -> Result<NaiveDate, String> {
        row.get("date")
            .and_then(Value::as_str)
            .and_then(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d").ok())
            .ok_or_else(|| format!("{what} {i} has no valid `date`"))
    };
    let number = |row: &Value, key: &str, what: &str, i: usize| -> Result<f64, String> {
        row.get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{what} {i} has no numeric `{key}`"))
    };
    for (i, row) in splits.iter().enumerate() {
        let date = date(row, "split", i)?;
        let ratio = number(row, "numerator", "split", i)? / number(row, "denominator", "split", i)?;
        if !ActionKind::Split.accepts(ratio) {
            return Err(format!(
                "split of {date}: `{ratio}` is not {}",
                ActionKind::Split.expected()
            ));
        }
        out.push(CorporateAction {
            date,
            kind: ActionKind::Split,
            value: ratio,
        });
    }
    for (i, row) in dividends.iter().enumerate() {
        let date = date(row, "dividend", i)?;
        let cash = number(row, "dividend", "dividend", i)?;
        if cash == 0.0 {
            continue;
        }
        if !ActionKind::Dividend.accepts(cash) {
            return Err(format!(
                "dividend of {date}: `{cash}` is not {}",
                ActionKind::Dividend.expected()
            ));
        }
        out.push(CorporateAction {
            date,
            kind: ActionKind::Dividend,
            value: cash,
        });
    }
    Ok(out)
}

//! Financial Modeling Prep: `GET /stable/historical-price-eod/full?symbol=…&from=…&to=…`
//! (a JSON array, newest first) or, with `legacy_api: true`, the older
//! `GET /api/v3/historical-price-full/{symbol}?from=…&to=…` (`{"symbol", "historical": [...]}`
//! with `adjClose`). Errors come as `{"Error Message": "..."}`, sometimes with status 200.

use crate::settings::HttpProvider;
use chrono::NaiveDate;
use serde_json::Value;

use super::http::HttpClient;
use super::{FetchError, Provider, normalise};
use crate::bars::BarSeries;

const NAME: &str = "fmp";

/// The FMP provider.
pub struct Fmp {
    http: HttpClient,
    legacy: bool,
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
        })
    }
}

impl Provider for Fmp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<BarSeries, FetchError> {
        let range = [("from", from.to_string()), ("to", to.to_string())];
        let reply = if self.legacy {
            let path = format!("/api/v3/historical-price-full/{symbol}");
            self.http.get(&path, &range, Some("apikey"))?
        } else {
            let mut query = vec![("symbol", symbol.to_string())];
            query.extend(range);
            self.http
                .get("/stable/historical-price-eod/full", &query, Some("apikey"))?
        };
        let malformed = |detail: String| FetchError::Malformed {
            provider: NAME,
            symbol: symbol.to_string(),
            detail: self.http.scrub(&detail),
        };
        if reply.status == 404 {
            return Err(FetchError::UnknownSymbol {
                provider: NAME,
                symbol: symbol.into(),
            });
        }
        if !(200..300).contains(&reply.status) {
            return Err(FetchError::Status {
                provider: NAME,
                status: reply.status,
                detail: self.http.scrub(reply.body.lines().next().unwrap_or("")),
            });
        }
        let json: Value =
            serde_json::from_str(&reply.body).map_err(|e| malformed(format!("not JSON ({e})")))?;
        if let Some(message) = json.get("Error Message").and_then(Value::as_str) {
            let message = self.http.scrub(message);
            if message.to_ascii_lowercase().contains("api key") {
                return Err(FetchError::Auth {
                    provider: NAME,
                    detail: message,
                });
            }
            return Err(malformed(message));
        }
        let rows = match &json {
            Value::Array(rows) => rows.as_slice(),
            Value::Object(map) if map.is_empty() => {
                // v3 answers `{}` for a symbol it does not know.
                return Err(FetchError::UnknownSymbol {
                    provider: NAME,
                    symbol: symbol.into(),
                });
            }
            Value::Object(map) => match map.get("historical") {
                Some(Value::Array(rows)) => rows.as_slice(),
                _ => return Err(malformed("an object without a `historical` list".into())),
            },
            _ => return Err(malformed("neither a list of bars nor an object".into())),
        };
        self.http.check_rows(symbol, rows.len())?;
        let bars = parse_rows(symbol, rows).map_err(malformed)?;
        Ok(normalise(bars, from, to))
    }
}

fn parse_rows(symbol: &str, rows: &[Value]) -> Result<BarSeries, String> {
    let mut bars = BarSeries {
        symbol: symbol.to_string(),
        ..BarSeries::default()
    };
    let has_adj = rows.iter().any(|r| r.get("adjClose").is_some());
    let mut adj = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let date = row
            .get("date")
            .and_then(Value::as_str)
            .and_then(crate::io::parse_time)
            .ok_or_else(|| format!("bar {i} has no valid `date`"))?;
        let num = |key: &str| -> Result<f64, String> {
            match row.get(key) {
                Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(f64::NAN)),
                Some(Value::Null) | None if key == "adjClose" => Ok(f64::NAN),
                Some(Value::Null) => Ok(f64::NAN),
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

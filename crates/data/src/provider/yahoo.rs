//! Yahoo Finance's chart API: `GET /v8/finance/chart/{symbol}?period1=…&period2=…&interval=1d`,
//! answering `{"chart": {"result": [{"meta", "timestamp", "indicators": {"quote": [...],
//! "adjclose": [...]}, "events": {"dividends": {…}, "splits": {…}}}], "error": null}}`, or an
//! `error` object for an unknown symbol.
//!
//! Yahoo's prices are **split-adjusted** by Yahoo (its `close`; `adjclose` also folds in the
//! dividends), and its dividend amounts are on the same basis: the bars carry the dividends
//! as actions and no split (each is already in the prices), so `raw` and `split` read Yahoo's
//! bars alike.

use crate::settings::HttpProvider;
use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use super::http::HttpClient;
use super::{FetchError, Provider, normalise};
use crate::actions::{ActionKind, CorporateAction};
use crate::bars::BarSeries;

const NAME: &str = "yahoo";

/// The Yahoo provider (no API key).
pub struct Yahoo {
    http: HttpClient,
    events: bool,
}

impl Yahoo {
    /// The provider under `limits` (`data.limits`: body bytes, bars) instead of the defaults.
    #[must_use]
    pub fn with_limits(mut self, limits: crate::settings::ReadLimits) -> Yahoo {
        self.http = self.http.with_limits(limits);
        self
    }

    /// A provider from its `data_sources.yaml` section.
    pub fn new(cfg: &HttpProvider) -> Yahoo {
        Yahoo {
            http: HttpClient::new(NAME, cfg),
            events: cfg.events,
        }
    }
}

impl Provider for Yahoo {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<BarSeries, FetchError> {
        let start = from
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp());
        let end = to
            .and_hms_opt(23, 59, 59)
            .map_or(0, |t| t.and_utc().timestamp());
        let query = [
            ("period1", start.to_string()),
            ("period2", end.to_string()),
            ("interval", "1d".to_string()),
            ("events", "div,split".to_string()),
            ("includeAdjustedClose", "true".to_string()),
        ];
        let reply = self
            .http
            .get(&format!("/v8/finance/chart/{symbol}"), &query, None)?;
        let malformed = |detail: &str| FetchError::Malformed {
            provider: NAME,
            symbol: symbol.to_string(),
            detail: detail.to_string(),
        };
        let json: Value =
            serde_json::from_str(&reply.body).map_err(|e| malformed(&format!("not JSON ({e})")))?;
        let chart = json
            .get("chart")
            .ok_or_else(|| malformed("no `chart` object"))?;
        if let Some(err) = chart.get("error").filter(|e| !e.is_null()) {
            let code = err.get("code").and_then(Value::as_str).unwrap_or("");
            if code == "Not Found" || reply.status == 404 {
                return Err(FetchError::UnknownSymbol {
                    provider: NAME,
                    symbol: symbol.into(),
                });
            }
            let description = err
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or(code);
            return Err(malformed(description));
        }
        if !(200..300).contains(&reply.status) {
            return Err(FetchError::Status {
                provider: NAME,
                status: reply.status,
                detail: String::new(),
            });
        }
        let result = chart
            .get("result")
            .and_then(|r| r.get(0))
            .ok_or_else(|| malformed("no `result`"))?;
        let offset = result
            .pointer("/meta/gmtoffset")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let Some(stamps) = result.get("timestamp").and_then(Value::as_array) else {
            // No timestamps: no trading day in the range.
            return Ok(BarSeries {
                symbol: symbol.into(),
                ..BarSeries::default()
            });
        };
        self.http.check_rows(symbol, stamps.len())?;
        let quote = result
            .pointer("/indicators/quote/0")
            .ok_or_else(|| malformed("no `indicators.quote`"))?;
        let column = |v: Option<&Value>, name: &str| -> Result<Vec<f64>, FetchError> {
            let values = v
                .and_then(Value::as_array)
                .ok_or_else(|| malformed(&format!("no `{name}` column")))?;
            if values.len() != stamps.len() {
                return Err(malformed(&format!(
                    "`{name}` has {} values for {} timestamps",
                    values.len(),
                    stamps.len()
                )));
            }
            Ok(values
                .iter()
                .map(|x| x.as_f64().unwrap_or(f64::NAN))
                .collect())
        };
        let mut time = Vec::with_capacity(stamps.len());
        for s in stamps {
            let secs = s
                .as_i64()
                .ok_or_else(|| malformed("a timestamp is not an integer"))?;
            // Bars are stamped at the session open in UTC; the exchange's offset gives its date.
            let local = DateTime::from_timestamp(secs + offset, 0)
                .ok_or_else(|| malformed("timestamp out of range"))?;
            time.push(local.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default());
        }
        let bars = BarSeries {
            symbol: symbol.to_string(),
            time,
            open: column(quote.get("open"), "open")?,
            high: column(quote.get("high"), "high")?,
            low: column(quote.get("low"), "low")?,
            close: column(quote.get("close"), "close")?,
            volume: column(quote.get("volume"), "volume")?,
            adj_close: match result.pointer("/indicators/adjclose/0/adjclose") {
                Some(v) => Some(column(Some(v), "adjclose")?),
                None => None,
            },
            source_rows: Vec::new(),
            actions: if self.events {
                dividends(result, offset).map_err(|m| malformed(&m))?
            } else {
                Vec::new()
            },
        };
        Ok(normalise(bars, from, to))
    }
}

/// The dividends of a chart `result` (`events.dividends`: `{"<ts>": {"amount", "date"}}`),
/// each on its ex-date in the exchange's time.
fn dividends(result: &Value, offset: i64) -> Result<Vec<CorporateAction>, String> {
    let Some(events) = result
        .pointer("/events/dividends")
        .and_then(Value::as_object)
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(events.len());
    for (key, e) in events {
        let amount = e
            .get("amount")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("dividend {key} has no numeric `amount`"))?;
        let secs = e
            .get("date")
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("dividend {key} has no integer `date`"))?;
        let date = DateTime::from_timestamp(secs + offset, 0)
            .ok_or_else(|| format!("dividend {key}: date out of range"))?
            .date_naive();
        if !ActionKind::Dividend.accepts(amount) {
            return Err(format!(
                "dividend of {date}: `{amount}` is not {}",
                ActionKind::Dividend.expected()
            ));
        }
        out.push(CorporateAction {
            date,
            kind: ActionKind::Dividend,
            value: amount,
        });
    }
    out.sort_by_key(|a| a.date);
    Ok(out)
}

//! Alpha Vantage: `GET /query?function=TIME_SERIES_DAILY_ADJUSTED&symbol=…&outputsize=full|compact`
//! (`events: true`, the default; a premium function), answering `{"Meta Data": …,
//! "Time Series (Daily)": {"YYYY-MM-DD": {"1. open": "…", "2. high", "3. low", "4. close",
//! "5. adjusted close", "6. volume", "7. dividend amount", "8. split coefficient"}}}` with
//! numbers as strings: the prices as traded, Alpha Vantage's total-return close, and the
//! dividend (cash per share, 0 for none) and split (new shares per old share, 1 for none) of
//! each ex-date, read as the bars' actions. With `events: false`, `function=TIME_SERIES_DAILY`
//! (`"5. volume"`): raw prices without events. Failures come with status 200:
//! `{"Error Message": …}` for an unknown symbol, `{"Note": …}` or `{"Information": …}` when
//! the call frequency is exceeded (retried), an `Information` naming a premium function when
//! the key's plan lacks it (not retried: [`FetchError::Plan`]).

use crate::settings::HttpProvider;
use chrono::NaiveDate;
use serde_json::Value;

use super::http::HttpClient;
use super::{FetchError, Provider, normalise};
use crate::actions::{ActionKind, CorporateAction};
use crate::bars::BarSeries;

const NAME: &str = "alpha_vantage";

/// The Alpha Vantage provider.
pub struct AlphaVantage {
    http: HttpClient,
    events: bool,
    retries: u32,
    backoff: std::time::Duration,
    backoff_max: std::time::Duration,
}

impl AlphaVantage {
    /// The provider under `limits` (`data.limits`: body bytes, bars) instead of the defaults.
    #[must_use]
    pub fn with_limits(mut self, limits: crate::settings::ReadLimits) -> AlphaVantage {
        self.http = self.http.with_limits(limits);
        self
    }

    /// A provider from its `data_sources.yaml` section.
    ///
    /// # Errors
    /// [`FetchError::MissingKey`] when no API key is set.
    pub fn new(cfg: &HttpProvider) -> Result<AlphaVantage, FetchError> {
        if !cfg.api_key.is_set() {
            return Err(FetchError::MissingKey {
                provider: NAME,
                variable: "ALPHA_VANTAGE_API_KEY",
            });
        }
        Ok(AlphaVantage {
            http: HttpClient::new(NAME, cfg),
            events: cfg.events,
            retries: cfg.max_retries,
            backoff: std::time::Duration::from_millis(cfg.backoff_initial_ms),
            backoff_max: std::time::Duration::from_millis(
                cfg.backoff_max_ms.max(cfg.backoff_initial_ms),
            ),
        })
    }
}

impl Provider for AlphaVantage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prices(&self) -> &'static str {
        if self.events {
            super::RAW_WITH_EVENTS
        } else {
            ""
        }
    }

    fn fetch(&self, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<BarSeries, FetchError> {
        // Alpha Vantage signals a rate limit with status 200 and a `Note`: retried here with
        // the configured backoff, as the HTTP layer retries a 429.
        let mut delay = self.backoff;
        let mut attempt = 0;
        loop {
            match self.fetch_once(symbol, from, to) {
                Err(FetchError::Status {
                    status: 429,
                    detail,
                    ..
                }) if attempt < self.retries => {
                    tracing::warn!(provider = NAME, attempt, detail, "rate limited; retrying");
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(self.backoff_max);
                    attempt += 1;
                }
                Err(FetchError::Status {
                    status: 429,
                    detail,
                    ..
                }) => {
                    let last = FetchError::Status {
                        provider: NAME,
                        status: 429,
                        detail,
                    };
                    return Err(FetchError::GaveUp {
                        provider: NAME,
                        attempts: attempt + 1,
                        last: Box::new(last),
                    });
                }
                other => return other,
            }
        }
    }
}

impl AlphaVantage {
    fn fetch_once(
        &self,
        symbol: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BarSeries, FetchError> {
        // `compact` is the last 100 bars; anything older needs `full`.
        let recent = (chrono::Local::now().date_naive() - from).num_days() < 140;
        let query = [
            (
                "function",
                if self.events {
                    "TIME_SERIES_DAILY_ADJUSTED"
                } else {
                    "TIME_SERIES_DAILY"
                }
                .to_string(),
            ),
            ("symbol", symbol.to_string()),
            (
                "outputsize",
                if recent { "compact" } else { "full" }.to_string(),
            ),
        ];
        let reply = self.http.get("/query", &query, Some("apikey"))?;
        let malformed = |detail: String| FetchError::Malformed {
            provider: NAME,
            symbol: symbol.to_string(),
            detail: self.http.scrub(&detail),
        };
        let json: Value =
            serde_json::from_str(&reply.body).map_err(|e| malformed(format!("not JSON ({e})")))?;
        if let Some(msg) = json.get("Error Message").and_then(Value::as_str) {
            if msg.to_ascii_lowercase().contains("apikey")
                || msg.to_ascii_lowercase().contains("api key")
            {
                return Err(FetchError::Auth {
                    provider: NAME,
                    detail: self.http.scrub(msg),
                });
            }
            return Err(FetchError::UnknownSymbol {
                provider: NAME,
                symbol: symbol.into(),
            });
        }
        for key in ["Note", "Information"] {
            if let Some(msg) = json.get(key).and_then(Value::as_str) {
                if msg.to_ascii_lowercase().contains("premium") {
                    return Err(FetchError::Plan {
                        provider: NAME,
                        detail: self.http.scrub(msg),
                        hint: if self.events {
                            "TIME_SERIES_DAILY_ADJUSTED (prices with splits and dividends) is premium: \
                             set data.providers.alpha_vantage.events=false for TIME_SERIES_DAILY, \
                             raw prices without splits or dividends"
                        } else {
                            "choose another provider (--provider) or plan"
                        },
                    });
                }
                return Err(FetchError::Status {
                    provider: NAME,
                    status: 429,
                    detail: self.http.scrub(msg),
                });
            }
        }
        let series = json
            .get("Time Series (Daily)")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("no `Time Series (Daily)` object".into()))?;
        self.http.check_rows(symbol, series.len())?;
        let mut bars = BarSeries {
            symbol: symbol.to_string(),
            ..BarSeries::default()
        };
        let mut adjusted = Vec::new();
        for (date, row) in series {
            let time = crate::io::parse_time(date)
                .ok_or_else(|| malformed(format!("`{date}` is not a date")))?;
            let num = |k: &str| -> Result<f64, FetchError> {
                row.get(k)
                    .and_then(Value::as_str)
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| malformed(format!("{date}: no numeric `{k}`")))
            };
            bars.time.push(time);
            bars.open.push(num("1. open")?);
            bars.high.push(num("2. high")?);
            bars.low.push(num("3. low")?);
            bars.close.push(num("4. close")?);
            if self.events {
                adjusted.push(num("5. adjusted close")?);
                bars.volume.push(num("6. volume")?);
                for (key, kind) in [
                    ("7. dividend amount", ActionKind::Dividend),
                    ("8. split coefficient", ActionKind::Split),
                ] {
                    let value = kind
                        .cell(num(key)?)
                        .map_err(|e| malformed(format!("{date}: `{key}` {e}")))?;
                    if let Some(value) = value {
                        bars.actions.push(CorporateAction {
                            date: time.date(),
                            kind,
                            value,
                        });
                    }
                }
            } else {
                bars.volume.push(num("5. volume")?);
            }
        }
        if self.events {
            bars.adj_close = Some(adjusted);
        }
        Ok(normalise(bars, from, to))
    }
}

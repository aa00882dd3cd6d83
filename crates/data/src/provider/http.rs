//! What every HTTP provider shares, written once: a token-bucket rate limit, retries with
//! exponential backoff and jitter on 429, 5xx and timeouts that honour `Retry-After`, no retry
//! on an authentication failure, request timeouts, and the API key kept out of every log line
//! and error (it is sent as a query parameter, and scrubbed from any text we produce).

use std::num::NonZeroU32;
use std::time::Duration;

use crate::settings::{HttpProvider, ReadLimits};
use backon::{BackoffBuilder, ExponentialBuilder};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use qts_core::config::Secret;

use super::FetchError;

/// A rate-limited, retrying HTTP client for one provider.
pub struct HttpClient {
    provider: &'static str,
    base_url: String,
    api_key: Secret,
    agent: ureq::Agent,
    limiter: DefaultDirectRateLimiter,
    max_retries: u32,
    backoff_initial: Duration,
    backoff_max: Duration,
    /// `data.limits`: the body cap (bytes) and the rows the provider parsers accept.
    limits: ReadLimits,
    /// Requests the rate limiter held back, and for how long it said to wait in all (what
    /// tests check instead of the wall clock).
    held: std::sync::Mutex<(u64, Duration)>,
    /// Every retry delay decided (backoff or Retry-After), in order.
    retries: std::sync::Mutex<Vec<Duration>>,
}

/// A response body with its status.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
}

impl HttpClient {
    /// A client for `provider` with the settings from `data_sources.yaml`.
    pub fn new(provider: &'static str, cfg: &HttpProvider) -> HttpClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(cfg.timeout_secs.max(1))))
            .http_status_as_error(false)
            .user_agent(concat!("qts/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let per_minute = NonZeroU32::new(cfg.calls_per_minute).unwrap_or(NonZeroU32::MIN);
        HttpClient {
            provider,
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            api_key: cfg.api_key.clone(),
            agent,
            limiter: RateLimiter::direct(Quota::per_minute(per_minute)),
            max_retries: cfg.max_retries,
            backoff_initial: Duration::from_millis(cfg.backoff_initial_ms),
            backoff_max: Duration::from_millis(cfg.backoff_max_ms.max(cfg.backoff_initial_ms)),
            limits: ReadLimits::default(),
            held: std::sync::Mutex::new((0, Duration::ZERO)),
            retries: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The client under `limits` (`data.limits`) instead of the defaults.
    #[must_use]
    pub fn with_limits(mut self, limits: ReadLimits) -> HttpClient {
        self.limits = limits;
        self
    }

    /// Refuses an answer of `rows` bars for `symbol` over `data.limits.max_rows`, before the
    /// bars are built.
    ///
    /// # Errors
    /// [`FetchError::Data`] holding [`crate::DataError::Limit`].
    pub fn check_rows(&self, symbol: &str, rows: usize) -> Result<(), FetchError> {
        crate::io::limits::check(
            format_args!("{} answer for `{symbol}`", self.provider),
            rows as u64,
            "bars",
            "max_rows",
            self.limits.max_rows,
        )
        .map_err(FetchError::Data)
    }

    /// The delays slept before each retry so far, in order.
    pub fn retry_delays(&self) -> Vec<Duration> {
        self.retries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many requests the rate limiter held back, and the waits it decided, added up.
    pub fn held_back(&self) -> (u64, Duration) {
        *self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The provider's API key.
    pub fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// Replaces the API key (and anything URL-encoded of it) in `text` with `***`.
    pub fn scrub(&self, text: &str) -> String {
        let key = self.api_key.expose();
        if key.len() < 3 {
            return text.to_string();
        }
        text.replace(key, "***")
    }

    /// GETs `path` with `query`; `with_key` adds the API key as the `key_param` parameter.
    /// Retries 429, 5xx and transport failures; returns any other status to the caller.
    ///
    /// # Errors
    /// [`FetchError`] after the retries are spent, or at once for 401/403.
    pub fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        key_param: Option<&str>,
    ) -> Result<Reply, FetchError> {
        let url = format!("{}{}", self.base_url, path);
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.backoff_initial)
            .with_max_delay(self.backoff_max)
            .with_max_times(self.max_retries as usize)
            .with_jitter()
            .build();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.wait_for_token();
            let mut request = self.agent.get(&url);
            for (k, v) in query {
                request = request.query(*k, v);
            }
            if let Some(param) = key_param {
                request = request.query(param, self.api_key.expose());
            }
            tracing::debug!(provider = self.provider, path, attempt, "GET");
            let (error, retry_after): (FetchError, Option<Duration>) = match request.call() {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    // The body is read as it streams in and never past the cap: a huge or
                    // endless answer is refused, not held in memory.
                    let read = response
                        .body_mut()
                        .with_config()
                        .limit(self.limits.max_bytes)
                        .read_to_string();
                    match (read, status) {
                        (Err(ureq::Error::BodyExceedsLimit(_)), _) => {
                            return Err(FetchError::Data(crate::io::limits::exceeded(
                                format_args!("{} answer to GET {path}", self.provider),
                                "a body of more bytes".to_string(),
                                "max_bytes",
                                self.limits.max_bytes,
                            )));
                        }
                        // A body cut short or not text: the next attempt may be whole.
                        (Err(e), _) => (
                            FetchError::Network {
                                provider: self.provider,
                                detail: self.scrub(&format!("reading the answer: {e}")),
                            },
                            None,
                        ),
                        (Ok(body), 401 | 403) => {
                            return Err(FetchError::Auth {
                                provider: self.provider,
                                detail: self.scrub(&first_line(&body)),
                            });
                        }
                        (Ok(body), 429 | 500..=599) => (
                            FetchError::Status {
                                provider: self.provider,
                                status,
                                detail: self.scrub(&first_line(&body)),
                            },
                            retry_after,
                        ),
                        (Ok(body), _) => return Ok(Reply { status, body }),
                    }
                }
                Err(e) => {
                    // A name that does not resolve, or a port nobody listens on, will not be
                    // fixed by waiting: fail at once, naming the host.
                    let hopeless = match &e {
                        ureq::Error::HostNotFound => Some("no such host"),
                        ureq::Error::Io(io)
                            if io.kind() == std::io::ErrorKind::ConnectionRefused =>
                        {
                            Some("connection refused")
                        }
                        ureq::Error::ConnectionFailed => Some("connection refused or unreachable"),
                        _ => None,
                    };
                    if let Some(reason) = hopeless {
                        return Err(FetchError::Unreachable {
                            provider: self.provider,
                            host: qts_core::url::host(&self.base_url).to_string(),
                            reason,
                        });
                    }
                    let timeout = matches!(e, ureq::Error::Timeout(_));
                    let error = if timeout {
                        FetchError::Timeout {
                            provider: self.provider,
                        }
                    } else {
                        FetchError::Network {
                            provider: self.provider,
                            detail: self.scrub(&e.to_string()),
                        }
                    };
                    (error, None)
                }
            };
            let Some(backoff) = delays.next() else {
                return Err(FetchError::GaveUp {
                    provider: self.provider,
                    attempts: attempt,
                    last: Box::new(error),
                });
            };
            // The server's Retry-After wins when it asks for longer than our backoff.
            let delay = retry_after.map_or(backoff, |r| r.max(backoff));
            self.retries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(delay);
            tracing::warn!(provider = self.provider, attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            std::thread::sleep(delay);
        }
    }

    /// Takes a token from the rate limiter if one is there; else how long until one is.
    pub fn try_token(&self) -> Result<(), Duration> {
        self.limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn wait_for_token(&self) {
        let mut first = true;
        while let Err(wait) = self.try_token() {
            {
                let mut held = self
                    .held
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                held.0 += u64::from(first);
                held.1 += wait;
            }
            first = false;
            tracing::debug!(
                provider = self.provider,
                wait_ms = wait.as_millis() as u64,
                "rate limit"
            );
            std::thread::sleep(wait);
        }
    }
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(3600)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).clamp(0, 3600);
    Some(Duration::from_secs(secs as u64))
}

fn first_line(body: &str) -> String {
    body.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}

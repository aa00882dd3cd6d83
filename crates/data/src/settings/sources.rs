//! `data_sources.yaml`: market-data providers, quality checks, the feature specification and
//! the on-disk cache. Loaded under the `data` key of the merged configuration.

use serde::{Deserialize, Serialize};

use qts_core::config::{Checks, Secret, Validate, join};

/// A provider's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderName {
    /// Financial Modeling Prep.
    #[default]
    Fmp,
    /// Yahoo Finance's chart API.
    Yahoo,
    /// Alpha Vantage.
    AlphaVantage,
    /// CSV or Parquet files in a directory.
    Local,
}

/// `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DataSourcesConfig {
    /// Provider used when a command names none.
    pub default_provider: ProviderName,
    /// Per-provider settings.
    pub providers: Providers,
    /// Which quality checks run and how findings are treated.
    pub quality: QualityConfig,
    /// The features computed from bars.
    pub features: FeatureSpec,
    /// The on-disk cache of fetched bars.
    pub cache: CacheConfig,
    /// Caps on what qts reads from provider answers and data files it did not write.
    pub limits: ReadLimits,
}

/// `data.limits`: caps on provider answers and on the bar and table files qts reads, so a
/// hostile or broken input is refused (exit 2, naming the limit and its key) before it can
/// take the memory or the time. The defaults are far above any daily series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadLimits {
    /// Bytes of one provider answer (read as it streams in, never past the cap) or of one
    /// CSV/Parquet file.
    pub max_bytes: u64,
    /// Bars (rows) in one provider answer or one file.
    pub max_rows: u64,
    /// Columns of one file (its header).
    pub max_columns: u64,
    /// Bytes of one CSV line, the header included.
    pub max_line_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_bytes: 256 << 20,
            max_rows: 2_000_000,
            max_columns: 1_000,
            max_line_bytes: 1 << 20,
        }
    }
}

/// `data.providers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Providers {
    /// Financial Modeling Prep.
    pub fmp: HttpProvider,
    /// Yahoo Finance.
    pub yahoo: HttpProvider,
    /// Alpha Vantage.
    pub alpha_vantage: HttpProvider,
    /// Local files.
    pub local: LocalProvider,
}

impl Default for Providers {
    fn default() -> Self {
        Providers {
            fmp: HttpProvider {
                base_url: "https://financialmodelingprep.com".into(),
                calls_per_minute: 300,
                ..HttpProvider::default()
            },
            yahoo: HttpProvider {
                base_url: "https://query1.finance.yahoo.com".into(),
                calls_per_minute: 60,
                ..HttpProvider::default()
            },
            alpha_vantage: HttpProvider {
                base_url: "https://www.alphavantage.co".into(),
                calls_per_minute: 5,
                ..HttpProvider::default()
            },
            local: LocalProvider::default(),
        }
    }
}

/// Settings shared by every HTTP provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpProvider {
    /// Whether the provider may be used.
    pub enabled: bool,
    /// Scheme, host and optional port; the endpoints' paths are added by qts.
    pub base_url: String,
    /// API key (from the environment; never logged).
    pub api_key: Secret,
    /// Token-bucket rate limit.
    pub calls_per_minute: u32,
    /// Timeout of one request.
    pub timeout_secs: u64,
    /// Retries after a 429, a 5xx or a timeout (not after an auth failure).
    pub max_retries: u32,
    /// First back-off delay; doubles each retry, with jitter, unless `Retry-After` says more.
    pub backoff_initial_ms: u64,
    /// Longest back-off delay.
    pub backoff_max_ms: u64,
    /// Use the provider's older API (FMP: v3 `historical-price-full`).
    pub legacy_api: bool,
}

impl Default for HttpProvider {
    fn default() -> Self {
        HttpProvider {
            enabled: true,
            base_url: String::new(),
            api_key: Secret::default(),
            calls_per_minute: 60,
            timeout_secs: 30,
            max_retries: 5,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
            legacy_api: false,
        }
    }
}

impl HttpProvider {
    fn check(&self, at: &str, c: &mut Checks) {
        let url = &self.base_url;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            c.fail(
                at,
                "base_url",
                format!("must start with http:// or https://, got `{url}`"),
            );
        }
        c.positive(at, "calls_per_minute", self.calls_per_minute);
        c.positive(at, "timeout_secs", self.timeout_secs);
        c.positive(at, "backoff_initial_ms", self.backoff_initial_ms);
        if self.backoff_initial_ms > self.backoff_max_ms {
            c.less_than(
                at,
                ("backoff_initial_ms", self.backoff_initial_ms),
                ("backoff_max_ms", self.backoff_max_ms),
            );
        }
        if self.max_retries > 20 {
            c.fail(
                at,
                "max_retries",
                format!("must be at most 20, got {}", self.max_retries),
            );
        }
    }
}

/// `data.providers.local`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalProvider {
    /// Directory holding `<SYMBOL>.csv` or `<SYMBOL>.parquet`.
    pub directory: String,
}

impl Default for LocalProvider {
    fn default() -> Self {
        LocalProvider {
            directory: "examples/data".into(),
        }
    }
}

/// What a failed check means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Suspicious; the data is still used.
    Warning,
    /// The data must not be used as it is.
    Error,
}

/// `data.quality`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// Compare dates against the NYSE calendar and report missing trading days.
    pub missing_days: bool,
    /// Report return outliers (z-score and IQR, thresholds in `validation`).
    pub outliers: bool,
    /// Report (and drop) duplicate dates.
    pub duplicates: bool,
    /// Report stale data (threshold in `validation.max_staleness_days`).
    pub freshness: bool,
    /// Check prices > 0, low ≤ open/close ≤ high, volume ≥ 0.
    pub price_consistency: bool,
    /// Flag overnight jumps near common split ratios.
    pub splits: bool,
    /// Findings at or above this severity stop a fetch or a backtest.
    pub fail_on: Severity,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            missing_days: true,
            outliers: true,
            duplicates: true,
            freshness: true,
            price_consistency: true,
            splits: true,
            fail_on: Severity::Error,
        }
    }
}

/// `data.features`: which indicators are computed and with which periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureSpec {
    /// Simple moving averages.
    pub sma: Vec<usize>,
    /// Exponential moving averages (SMA-seeded, as TA-Lib).
    pub ema: Vec<usize>,
    /// Relative strength index (Wilder).
    pub rsi: Vec<usize>,
    /// MACD.
    pub macd: Option<MacdSpec>,
    /// Bollinger bands.
    pub bollinger: Option<BollingerSpec>,
    /// Momentum (price difference over n bars).
    pub momentum: Vec<usize>,
    /// Rate of change in percent over n bars.
    pub roc: Vec<usize>,
    /// Average true range (Wilder).
    pub atr: Vec<usize>,
    /// On-balance volume.
    pub obv: bool,
    /// Rolling volatility windows of daily log returns.
    pub volatility: Vec<usize>,
    /// Periods a year used to annualise volatility.
    pub periods_per_year: u32,
    /// Log-return horizons in bars.
    pub log_returns: Vec<usize>,
    /// Calendar features.
    pub calendar: CalendarSpec,
}

/// `data.features.macd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MacdSpec {
    /// Fast EMA period.
    pub fast: usize,
    /// Slow EMA period.
    pub slow: usize,
    /// Signal EMA period.
    pub signal: usize,
}

impl Default for MacdSpec {
    fn default() -> Self {
        MacdSpec {
            fast: 12,
            slow: 26,
            signal: 9,
        }
    }
}

/// `data.features.bollinger`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BollingerSpec {
    /// Moving-average period.
    pub period: usize,
    /// Band width in standard deviations.
    pub std_dev: f64,
}

impl Default for BollingerSpec {
    fn default() -> Self {
        BollingerSpec {
            period: 20,
            std_dev: 2.0,
        }
    }
}

/// `data.features.calendar`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarSpec {
    /// Day of the week (0 = Monday).
    pub day_of_week: bool,
    /// Month (1–12).
    pub month: bool,
    /// Quarter (1–4).
    pub quarter: bool,
    /// NYSE holiday proximity: days to and from the nearest holiday.
    pub holidays: bool,
    /// Whether the date falls in an earnings season.
    pub earnings_season: bool,
}

impl Default for CalendarSpec {
    fn default() -> Self {
        CalendarSpec {
            day_of_week: true,
            month: true,
            quarter: true,
            holidays: true,
            earnings_season: true,
        }
    }
}

impl Default for FeatureSpec {
    fn default() -> Self {
        FeatureSpec {
            sma: vec![5, 20, 50, 200],
            ema: vec![12, 26],
            rsi: vec![14],
            macd: Some(MacdSpec::default()),
            bollinger: Some(BollingerSpec::default()),
            momentum: vec![10],
            roc: vec![10],
            atr: vec![14],
            obv: true,
            volatility: vec![20],
            periods_per_year: 252,
            log_returns: vec![1, 5, 20],
            calendar: CalendarSpec::default(),
        }
    }
}

impl Validate for FeatureSpec {
    fn validate(&self, at: &str, c: &mut Checks) {
        let lists: [(&str, &[usize], usize); 8] = [
            ("sma", &self.sma, 1),
            ("ema", &self.ema, 1),
            ("rsi", &self.rsi, 2),
            ("momentum", &self.momentum, 1),
            ("roc", &self.roc, 1),
            ("atr", &self.atr, 1),
            ("volatility", &self.volatility, 2),
            ("log_returns", &self.log_returns, 1),
        ];
        for (name, periods, min) in lists {
            for (i, &p) in periods.iter().enumerate() {
                if p < min || p > 100_000 {
                    c.fail(
                        at,
                        &format!("{name}[{i}]"),
                        format!("period must be between {min} and 100000, got {p}"),
                    );
                }
            }
            let mut sorted = periods.to_vec();
            sorted.sort_unstable();
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                c.fail(at, name, "lists a period more than once");
            }
        }
        if let Some(m) = &self.macd {
            let at = join(at, "macd");
            c.positive(&at, "fast", m.fast);
            c.positive(&at, "signal", m.signal);
            c.less_than(&at, ("fast", m.fast), ("slow", m.slow));
        }
        if let Some(b) = &self.bollinger {
            let at = join(at, "bollinger");
            if b.period < 2 {
                c.fail(
                    &at,
                    "period",
                    format!("must be at least 2, got {}", b.period),
                );
            }
            c.positive(&at, "std_dev", b.std_dev);
        }
        c.positive(at, "periods_per_year", self.periods_per_year);
    }
}

/// How the cache answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CachePolicy {
    /// Serve cached dates; ask the provider only for the missing range.
    Incremental,
    /// Ignore the cache and fetch everything again (the cache is rewritten).
    Refresh,
    /// Never call a provider; fail when the cache lacks the range.
    Offline,
}

/// `data.cache`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Whether fetched bars are cached.
    pub enabled: bool,
    /// Directory of the Parquet files (one per provider and symbol).
    pub directory: String,
    /// Request policy.
    pub policy: CachePolicy,
    /// The newest cached bar is re-fetched when the cache file is older than this, since
    /// providers revise the last bar after the close.
    pub refresh_last_bar_after_hours: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            directory: ".qts/cache".into(),
            policy: CachePolicy::Incremental,
            refresh_last_bar_after_hours: 12,
        }
    }
}

impl Validate for DataSourcesConfig {
    fn validate(&self, at: &str, c: &mut Checks) {
        let p = join(at, "providers");
        self.providers.fmp.check(&join(&p, "fmp"), c);
        self.providers.yahoo.check(&join(&p, "yahoo"), c);
        let av = join(&p, "alpha_vantage");
        self.providers.alpha_vantage.check(&av, c);
        if self.providers.local.directory.trim().is_empty() {
            c.fail(&p, "local.directory", "must not be empty");
        }
        let enabled = match self.default_provider {
            ProviderName::Fmp => self.providers.fmp.enabled,
            ProviderName::Yahoo => self.providers.yahoo.enabled,
            ProviderName::AlphaVantage => self.providers.alpha_vantage.enabled,
            ProviderName::Local => true,
        };
        if !enabled {
            c.fail(at, "default_provider", "names a provider that is disabled");
        }
        self.features.validate(&join(at, "features"), c);
        let limits = join(at, "limits");
        c.positive(&limits, "max_bytes", self.limits.max_bytes);
        c.positive(&limits, "max_rows", self.limits.max_rows);
        c.positive(&limits, "max_columns", self.limits.max_columns);
        c.positive(&limits, "max_line_bytes", self.limits.max_line_bytes);
        if self.cache.enabled && self.cache.directory.trim().is_empty() {
            c.fail(
                at,
                "cache.directory",
                "must not be empty when the cache is enabled",
            );
        }
    }
}

//! `data_sources.yaml`: market-data providers, quality checks, the feature specification and
//! the on-disk cache. Loaded under the `data` key of the merged configuration.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use qts_core::config::{Checks, Secret, Validate, join};

/// A provider's name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "kebab-case")]
pub enum ProviderName {
    /// Financial Modeling Prep.
    #[default]
    Fmp,
    /// Yahoo Finance's chart API.
    Yahoo,
    /// Alpha Vantage.
    #[strum(to_string = "alpha-vantage", serialize = "alpha_vantage")]
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
    /// The price basis bars are read on (`raw`, `split`, `total_return`; see
    /// [`crate::actions`]): stated in every result's settings and stamp.
    pub adjustment: crate::actions::Basis,
    /// A file of corporate actions (`date,symbol,kind,value`) merged into every symbol's
    /// bars (`--events FILE`); empty for none.
    pub events: String,
}

/// `data.limits`: caps on provider answers and on the bar and table files qts reads, so a
/// hostile or broken input is refused (exit 2, naming the limit and its key) before it can
/// take the memory or the time. The defaults are far above any daily series.
#[derive(Debug, Clone, SmartDefault, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadLimits {
    /// Bytes of one provider answer (read as it streams in, never past the cap) or of one
    /// CSV/Parquet file.
    #[default(256 << 20)]
    pub max_bytes: u64,
    /// Bars (rows) in one provider answer or one file.
    #[default(2_000_000)]
    pub max_rows: u64,
    /// Columns of one file (its header).
    #[default(1_000)]
    pub max_columns: u64,
    /// Bytes of one CSV line, the header included.
    #[default(1 << 20)]
    pub max_line_bytes: u64,
}

/// `data.providers`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Providers {
    /// Financial Modeling Prep.
    #[default(HttpProvider::at("https://financialmodelingprep.com", 300))]
    pub fmp: HttpProvider,
    /// Yahoo Finance.
    #[default(HttpProvider::at("https://query1.finance.yahoo.com", 60))]
    pub yahoo: HttpProvider,
    /// Alpha Vantage.
    #[default(HttpProvider::at("https://www.alphavantage.co", 5))]
    pub alpha_vantage: HttpProvider,
    /// Local files.
    pub local: LocalProvider,
}

/// Settings shared by every HTTP provider.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpProvider {
    /// Whether the provider may be used.
    #[default(true)]
    pub enabled: bool,
    /// Scheme, host and optional port; the endpoints' paths are added by qts.
    pub base_url: String,
    /// API key (from the environment; never logged).
    pub api_key: Secret,
    /// Token-bucket rate limit.
    #[default(60)]
    pub calls_per_minute: u32,
    /// Timeout of one request.
    #[default(30)]
    pub timeout_secs: u64,
    /// Retries after a 429, a 5xx or a timeout (not after an auth failure).
    #[default(5)]
    pub max_retries: u32,
    /// First back-off delay; doubles each retry, with jitter, unless `Retry-After` says more.
    #[default(500)]
    pub backoff_initial_ms: u64,
    /// Longest back-off delay.
    #[default(30_000)]
    pub backoff_max_ms: u64,
    /// Use the provider's older API (FMP: v3 `historical-price-full`).
    #[default(false)]
    pub legacy_api: bool,
    /// Fetch the splits and dividends with the bars. FMP: the prices as traded
    /// (`non-split-adjusted`) with its split and dividend lists, three requests a symbol
    /// (false: its split-adjusted prices alone, no dividends). Alpha Vantage:
    /// `TIME_SERIES_DAILY_ADJUSTED` (a premium function), its dividend and split columns (false:
    /// `TIME_SERIES_DAILY`, raw prices without events). Yahoo: its chart's dividends.
    #[default(true)]
    pub events: bool,
}

impl HttpProvider {
    /// The defaults, at `base_url` with `calls_per_minute`.
    fn at(base_url: &str, calls_per_minute: u32) -> Self {
        HttpProvider {
            base_url: base_url.into(),
            calls_per_minute,
            ..HttpProvider::default()
        }
    }

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
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalProvider {
    /// Directory holding `<SYMBOL>.csv` or `<SYMBOL>.parquet`.
    #[default("examples/data")]
    pub directory: String,
    /// The header of each bar column a CSV file names otherwise (`close: Last`,
    /// `volume: Vol`); keys are `date`, `open`, `high`, `low`, `close`, `volume`, `adj_close`.
    /// `--columns date=Date,close=Last` sets it for one command.
    pub columns: std::collections::BTreeMap<String, String>,
    /// The date column's format in chrono's `strftime` syntax (`%m/%d/%Y`, `%d.%m.%Y`); empty:
    /// ISO dates (`YYYY-MM-DD`, with an optional time). `--date-format` sets it for one command.
    pub date_format: String,
}

impl LocalProvider {
    /// How CSV bar files are laid out.
    pub fn layout(&self) -> Layout {
        Layout {
            columns: self.columns.clone(),
            date_format: (!self.date_format.trim().is_empty())
                .then(|| self.date_format.trim().to_string()),
        }
    }
}

/// How a CSV bar file names its columns and writes its dates, where it differs from qts's own
/// `date,open,high,low,close,volume` with ISO dates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Bar column → the file's header for it.
    pub columns: std::collections::BTreeMap<String, String>,
    /// The date format (chrono), when not ISO.
    pub date_format: Option<String>,
}

impl Layout {
    /// Whether the file is read as qts writes it.
    pub fn is_default(&self) -> bool {
        self.columns.is_empty() && self.date_format.is_none()
    }
}

/// The bar columns a layout may map.
pub const BAR_COLUMNS: [&str; 9] = [
    "date",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "adj_close",
    "dividend",
    "split",
];

/// What a failed check means.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Suspicious; the data is still used.
    Warning,
    /// The data must not be used as it is.
    Error,
}

/// `data.quality`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// Compare dates against the NYSE calendar and report missing trading days.
    #[default(true)]
    pub missing_days: bool,
    /// Report return outliers (z-score and IQR, thresholds in `validation`).
    #[default(true)]
    pub outliers: bool,
    /// Report (and drop) duplicate dates.
    #[default(true)]
    pub duplicates: bool,
    /// Report stale data (threshold in `validation.max_staleness_days`).
    #[default(true)]
    pub freshness: bool,
    /// Check prices > 0, low ≤ open/close ≤ high, volume ≥ 0.
    #[default(true)]
    pub price_consistency: bool,
    /// Flag overnight jumps near common split ratios.
    #[default(true)]
    pub splits: bool,
    /// Findings at or above this severity stop a fetch or a backtest.
    #[default(Severity::Error)]
    pub fail_on: Severity,
}

/// `data.features`: which indicators are computed and with which periods.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureSpec {
    /// Simple moving averages.
    #[default(vec![5, 20, 50, 200])]
    pub sma: Vec<usize>,
    /// Exponential moving averages (SMA-seeded, as TA-Lib).
    #[default(vec![12, 26])]
    pub ema: Vec<usize>,
    /// Relative strength index (Wilder).
    #[default(vec![14])]
    pub rsi: Vec<usize>,
    /// MACD.
    #[default(Some(MacdSpec::default()))]
    pub macd: Option<MacdSpec>,
    /// Bollinger bands.
    #[default(Some(BollingerSpec::default()))]
    pub bollinger: Option<BollingerSpec>,
    /// Momentum (price difference over n bars).
    #[default(vec![10])]
    pub momentum: Vec<usize>,
    /// Rate of change in percent over n bars.
    #[default(vec![10])]
    pub roc: Vec<usize>,
    /// Average true range (Wilder).
    #[default(vec![14])]
    pub atr: Vec<usize>,
    /// On-balance volume.
    #[default(true)]
    pub obv: bool,
    /// Rolling volatility windows of daily log returns.
    #[default(vec![20])]
    pub volatility: Vec<usize>,
    /// Periods a year used to annualise volatility.
    #[default(252)]
    pub periods_per_year: u32,
    /// Log-return horizons in bars.
    #[default(vec![1, 5, 20])]
    pub log_returns: Vec<usize>,
    /// Calendar features.
    pub calendar: CalendarSpec,
}

/// `data.features.macd`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MacdSpec {
    /// Fast EMA period.
    #[default(12)]
    pub fast: usize,
    /// Slow EMA period.
    #[default(26)]
    pub slow: usize,
    /// Signal EMA period.
    #[default(9)]
    pub signal: usize,
}

/// `data.features.bollinger`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BollingerSpec {
    /// Moving-average period.
    #[default(20)]
    pub period: usize,
    /// Band width in standard deviations.
    #[default(2.0)]
    pub std_dev: f64,
}

/// `data.features.calendar`.
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarSpec {
    /// Day of the week (0 = Monday).
    #[default(true)]
    pub day_of_week: bool,
    /// Month (1–12).
    #[default(true)]
    pub month: bool,
    /// Quarter (1–4).
    #[default(true)]
    pub quarter: bool,
    /// NYSE holiday proximity: days to and from the nearest holiday.
    #[default(true)]
    pub holidays: bool,
    /// Whether the date falls in an earnings season.
    #[default(true)]
    pub earnings_season: bool,
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
#[derive(Debug, Clone, SmartDefault, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Whether fetched bars are cached.
    #[default(true)]
    pub enabled: bool,
    /// Directory of the Parquet files (one per provider and symbol).
    #[default(".qts/cache")]
    pub directory: String,
    /// Request policy.
    #[default(CachePolicy::Incremental)]
    pub policy: CachePolicy,
    /// The newest cached bar is re-fetched when the cache file is older than this, since
    /// providers revise the last bar after the close.
    #[default(12)]
    pub refresh_last_bar_after_hours: u64,
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
        for (key, header) in &self.providers.local.columns {
            if !BAR_COLUMNS.contains(&key.as_str()) {
                c.fail(
                    &p,
                    &format!("local.columns.{key}"),
                    format!("is not a bar column (one of {})", BAR_COLUMNS.join(", ")),
                );
            } else if header.trim().is_empty() {
                c.fail(&p, &format!("local.columns.{key}"), "must name a header");
            }
        }
        let format = self.providers.local.date_format.trim();
        if !format.is_empty()
            && chrono::format::StrftimeItems::new(format)
                .any(|i| matches!(i, chrono::format::Item::Error))
        {
            c.fail(
                &p,
                "local.date_format",
                format!("`{format}` is not a chrono date format (e.g. %m/%d/%Y)"),
            );
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

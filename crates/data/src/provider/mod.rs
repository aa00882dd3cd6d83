//! Market-data providers behind one trait: Financial Modeling Prep (the current `stable`
//! end-of-day endpoint and the older v3 `historical-price-full` format), Yahoo's chart API,
//! Alpha Vantage's daily series and local CSV/Parquet files.

mod alpha_vantage;
mod fmp;
pub mod http;
mod local;
mod yahoo;

use crate::settings::{DataSourcesConfig, ProviderName};
use chrono::NaiveDate;

use crate::bars::BarSeries;

pub use alpha_vantage::AlphaVantage;
pub use fmp::Fmp;
pub use local::Local;
pub use yahoo::Yahoo;

/// [`Provider::prices`] of a provider whose bars are the prices as traded, with their splits
/// and dividends as actions.
pub const RAW_WITH_EVENTS: &str = "raw with splits and dividends";

/// A source of daily bars.
pub trait Provider {
    /// The provider's name, as in `data_sources.yaml` and cache paths.
    fn name(&self) -> &'static str;

    /// What the provider's bars are, recorded in each cache file it fills: a file written
    /// under another answer (FMP's split-adjusted prices before it fetched raw prices with
    /// their events, say) is fetched again in full rather than merged with bars on another
    /// basis. Empty for what every provider served before events were fetched.
    fn prices(&self) -> &'static str {
        ""
    }

    /// Daily bars of `symbol` from `from` to `to`, both included, oldest first. An empty
    /// series is not an error: the range may hold no trading day.
    ///
    /// # Errors
    /// [`FetchError`] naming the provider and what went wrong; never the API key.
    fn fetch(&self, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<BarSeries, FetchError>;
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The provider refused the credentials (401/403): no retry.
    #[error("{provider} rejected the API key ({detail}); check the key in the environment or .env")]
    Auth {
        /// Provider.
        provider: &'static str,
        /// The provider's message, key removed.
        detail: String,
    },
    /// The provider serves this request only under another plan (Alpha Vantage's premium
    /// functions): no retry.
    #[error("{provider} refused the request under this API key's plan ({detail}); {hint}")]
    Plan {
        /// Provider.
        provider: &'static str,
        /// The provider's message, key removed.
        detail: String,
        /// What to change.
        hint: &'static str,
    },
    /// No API key is configured.
    #[error("{provider} needs an API key: set {variable} in the environment or .env")]
    MissingKey {
        /// Provider.
        provider: &'static str,
        /// The environment variable to set.
        variable: &'static str,
    },
    /// The provider does not know the symbol.
    #[error("{provider} has no data for symbol `{symbol}`")]
    UnknownSymbol {
        /// Provider.
        provider: &'static str,
        /// Symbol.
        symbol: String,
    },
    /// An HTTP status that is neither success nor retried.
    #[error("{provider} answered HTTP {status}: {detail}")]
    Status {
        /// Provider.
        provider: &'static str,
        /// HTTP status.
        status: u16,
        /// First line of the body, key removed.
        detail: String,
    },
    /// The request timed out.
    #[error("{provider} did not answer in time")]
    Timeout {
        /// Provider.
        provider: &'static str,
    },
    /// The connection failed.
    #[error("cannot reach {provider}: {detail}")]
    Network {
        /// Provider.
        provider: &'static str,
        /// Transport error, key removed.
        detail: String,
    },
    /// The host cannot be reached in a way no retry can fix (no such host, connection
    /// refused): not retried.
    #[error(
        "cannot reach {provider} at {host}: {reason} (not retried: check the network or the provider's base_url)"
    )]
    Unreachable {
        /// Provider.
        provider: &'static str,
        /// Host (and port) of the base URL.
        host: String,
        /// What failed.
        reason: &'static str,
    },
    /// Retries were spent.
    #[error("{provider} still failing after {attempts} attempts: {last}")]
    GaveUp {
        /// Provider.
        provider: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<FetchError>,
    },
    /// The body is not the documented format.
    #[error("{provider} sent a response qts cannot read for `{symbol}`: {detail}")]
    Malformed {
        /// Provider.
        provider: &'static str,
        /// Symbol.
        symbol: String,
        /// What is wrong.
        detail: String,
    },
    /// A local file could not be read.
    #[error(transparent)]
    Data(#[from] crate::error::DataError),
}

/// The provider `name` configured in `cfg`.
///
/// # Errors
/// [`FetchError::MissingKey`] when an HTTP provider that needs a key has none.
pub fn from_config(
    name: ProviderName,
    cfg: &DataSourcesConfig,
) -> Result<Box<dyn Provider>, FetchError> {
    let limits = cfg.limits;
    Ok(match name {
        ProviderName::Fmp => Box::new(Fmp::new(&cfg.providers.fmp)?.with_limits(limits)),
        ProviderName::Yahoo => Box::new(Yahoo::new(&cfg.providers.yahoo).with_limits(limits)),
        ProviderName::AlphaVantage => {
            Box::new(AlphaVantage::new(&cfg.providers.alpha_vantage)?.with_limits(limits))
        }
        ProviderName::Local => Box::new(
            Local::new(&cfg.providers.local.directory)
                .with_limits(limits)
                .with_layout(cfg.providers.local.layout()),
        ),
    })
}

/// Orders bars oldest first, drops exact duplicate dates (keeping the last) and the bars
/// outside `[from, to]`: providers send newest first and sometimes a bar or two outside the
/// asked range.
pub(crate) fn normalise(mut bars: BarSeries, from: NaiveDate, to: NaiveDate) -> BarSeries {
    let mut idx: Vec<usize> = (0..bars.len())
        .filter(|&i| (from..=to).contains(&bars.time[i].date()))
        .collect();
    idx.sort_by_key(|&i| bars.time[i]);
    idx.dedup_by(|later, earlier| {
        let same = bars.time[*later] == bars.time[*earlier];
        if same {
            *earlier = *later;
        }
        same
    });
    let pick = |col: &[f64]| idx.iter().map(|&i| col[i]).collect::<Vec<_>>();
    bars.open = pick(&bars.open);
    bars.high = pick(&bars.high);
    bars.low = pick(&bars.low);
    bars.close = pick(&bars.close);
    bars.volume = pick(&bars.volume);
    bars.adj_close = bars.adj_close.as_deref().map(pick);
    bars.time = idx.iter().map(|&i| bars.time[i]).collect();
    bars.source_rows = Vec::new();
    // Actions in the range, one of each date and kind (the last given wins, as for bars).
    let mut actions: Vec<crate::actions::CorporateAction> = Vec::new();
    for a in bars
        .actions
        .iter()
        .filter(|a| (from..=to).contains(&a.date))
    {
        actions.retain(|b| !(b.date == a.date && b.kind == a.kind));
        actions.push(*a);
    }
    actions.sort_by(|a, b| {
        a.date
            .cmp(&b.date)
            .then(a.kind.as_str().cmp(b.kind.as_str()))
    });
    bars.actions = actions;
    bars
}

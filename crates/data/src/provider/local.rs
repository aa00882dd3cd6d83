//! Local files: `<directory>/<SYMBOL>.csv` or `.parquet`.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{FetchError, Provider, normalise};
use crate::bars::BarSeries;
use crate::io::read_bars_as;
use crate::settings::{Layout, ReadLimits};

/// Bars from files in a directory.
pub struct Local {
    directory: PathBuf,
    limits: ReadLimits,
    layout: Layout,
}

impl Local {
    /// A provider reading `directory`.
    pub fn new(directory: &str) -> Local {
        Local {
            directory: PathBuf::from(directory),
            limits: ReadLimits::default(),
            layout: Layout::default(),
        }
    }

    /// The provider reading CSV files laid out as `layout` says
    /// (`data.providers.local.columns`, `date_format`).
    #[must_use]
    pub fn with_layout(mut self, layout: Layout) -> Local {
        self.layout = layout;
        self
    }

    /// The provider under `limits` (`data.limits`) instead of the defaults.
    #[must_use]
    pub fn with_limits(mut self, limits: ReadLimits) -> Local {
        self.limits = limits;
        self
    }
}

impl Provider for Local {
    fn name(&self) -> &'static str {
        "local"
    }

    fn fetch(&self, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<BarSeries, FetchError> {
        for ext in ["parquet", "csv"] {
            let path = self.directory.join(format!("{symbol}.{ext}"));
            if path.is_file() {
                let mut bars = read_bars_as(&path, &self.limits, &self.layout)?;
                bars.symbol = symbol.to_string();
                return Ok(normalise(bars, from, to));
            }
        }
        Err(FetchError::UnknownSymbol {
            provider: "local",
            symbol: symbol.to_string(),
        })
    }
}

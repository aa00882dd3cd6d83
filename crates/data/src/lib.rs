//! qts market data: bars as columns, CSV/Parquet files, validation against the NYSE
//! calendar, TA-Lib-exact technical and calendar features, and leak-free datasets.
//!
//! ```no_run
//! use qts_data::io::read_bars;
//! use qts_data::features::compute;
//! use qts_data::settings::FeatureSpec;
//!
//! let bars = read_bars(std::path::Path::new("examples/data/goog_daily.csv")).unwrap();
//! let features = compute(&bars, &FeatureSpec::default()).unwrap();
//! assert!(features.column("rsi_14").is_some());
//! ```

pub mod actions;
pub mod bars;
pub mod cache;
pub mod calendar;
pub mod dataset;
pub mod error;
pub mod features;
pub mod fetch;
pub mod io;
pub mod locate;
pub mod provider;
pub mod settings;
pub mod universe;
pub mod validate;

pub use bars::BarSeries;
pub use error::DataError;

//! qts research: the use cases above the engine, as library calls that the CLI, both Python
//! extensions and a Ray task share — a [`session::Session`] that loads and gates a market
//! once and backtests, searches, walks forward and decides on it; the paper account's open,
//! step, status and history; tracking a use case's report as a run. The model side of research
//! (a model walked forward, a model search, the main job) is in `qts-research-torch`, which
//! links libtorch: this crate never does, so `qts` starts fast.
//!
//! ```
//! use std::sync::Arc;
//! use qts_research::session::{Ask, Data, SearchSpec, Session};
//! use qts_research::optimize::Axis;
//!
//! let loaded = qts_config::ConfigLoader::new()
//!     .load(&qts_core::config::Environment::process())
//!     .unwrap();
//! let data = Data::Files(vec!["../../examples/data/goog_daily.csv".into()]);
//! let session = Session::open(Arc::new(loaded), Ask::strategy("sma-cross", data)).unwrap();
//! let spec = SearchSpec::grid(
//!     vec![Axis::parse("fast=5:20:5").unwrap(), Axis::parse("slow=30,50").unwrap()],
//!     qts_stats::metrics::Metric::SharpeRatio,
//! );
//! let found = session.search(&spec, &()).unwrap();
//! assert_eq!(found.trials, 6);
//! ```

pub mod error;
pub mod live;
pub mod optimize;
pub mod paper;
pub mod progress;
pub mod provenance;
pub mod reproduce;
pub mod session;
pub mod summary;
pub mod track;
pub mod verdict;
pub mod walk_forward;

pub use error::ResearchError;
pub use progress::Progress;
pub use session::Session;

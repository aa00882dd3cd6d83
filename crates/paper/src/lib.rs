//! qts paper trading: an account in one SQLite file that follows a strategy with the
//! backtest's own decisions ([`qts_backtest::decide()`]), one all-or-nothing step after each
//! close, with monitoring and alerts.
//!
//! ```no_run
//! use std::time::Duration;
//! use qts_paper::{Account, AccountSpec};
//!
//! let spec = AccountSpec {
//!     initial_cash: 100_000.0,
//!     strategy: "sma-cross".into(),
//!     params: vec![("fast".into(), "10".into()), ("slow".into(), "20".into())],
//!     signals: None,
//!     data: vec!["examples/data/goog_daily.csv".into()],
//!     settings: String::new(),
//!     overlays: false,
//!     holdings: Vec::new(),
//! };
//! let account = Account::init("paper.sqlite".as_ref(), &spec, Duration::from_secs(10)).unwrap();
//! println!("{:?}", account.status().unwrap().equity);
//! ```

pub mod account;
pub mod error;
use qts_core::fault;
pub mod monitor;
pub mod settings;
pub mod status;
pub mod step;

pub use account::{Account, AccountSpec, SCHEMA_VERSION};
pub use error::PaperError;
pub use monitor::{Alert, Delivery};
pub use status::{HistoryRow, Status, history_csv};
pub use step::{StepReport, StepRequest, settings_fingerprint, step};

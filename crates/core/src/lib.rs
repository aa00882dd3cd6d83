//! qts core: the configuration every qts crate reads and the logging every qts command sets up.
//!
//! Lower than every other qts crate: it depends on none of them.

pub mod config;
pub mod logging;

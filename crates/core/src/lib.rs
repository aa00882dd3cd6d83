//! qts core: the configuration loader (each section's type belongs to the crate that reads it;
//! `qts-config` assembles them), the logging every qts command sets up, and the few helpers
//! every crate shares (numpy-convention statistics, atomic writes, hex digests).
//!
//! Lower than every other qts crate: it depends on none of them.

pub mod budget;
pub mod chain;
pub mod config;
pub mod fault;
pub mod fs;
pub mod fuzz;
pub mod hex;
pub mod logging;
pub mod provenance;
pub mod stats;
pub mod text;
mod text_enum;
pub mod url;

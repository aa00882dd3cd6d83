//! One module per command; `setup` is what every command does first.

pub mod config;
pub mod setup;

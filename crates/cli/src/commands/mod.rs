//! One module per command; `setup` is what every command does first.

pub mod backtest;
pub mod config;
pub mod data;
pub mod decide;
pub mod experiments;
pub mod features;
pub mod fetch;
pub mod metrics;
pub mod monte_carlo;
pub mod optimize;
pub mod overfitting;
pub mod paper;
pub mod report;
pub mod reproduce;
pub mod walk_forward;

//! qts reports: what a person reads of a result. The HTML pages (`html`: a backtest, a
//! walk-forward, a search, a Monte Carlo, a comparison of runs or of models, data quality),
//! each a self-contained page with its charts drawn as inline SVG, and the terminal summary of
//! a backtest (`render`). Nothing here computes a number: the pages show the reports the
//! library crates return.

pub mod html;
pub mod render;

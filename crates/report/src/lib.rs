//! qts reports: what a person reads of a result. The HTML pages (`html`: a backtest, a
//! walk-forward, a search, a Monte Carlo, a comparison of runs or of models, data quality),
//! each a self-contained page with its charts drawn as inline SVG, and the terminal summary of
//! a backtest (`render`). Nothing here computes a number: the pages show the reports the
//! library crates return.

pub mod folder;
pub mod html;
pub mod render;

/// Writes a page atomically (a reader sees the old page or the new one, never half of one).
///
/// # Errors
/// The OS error.
pub fn write_page(path: &std::path::Path, page: &str) -> std::io::Result<()> {
    qts_core::fs::write_atomic(path, page.as_bytes())
}

//! qts's total-return adjustment against a provider's own: Yahoo's adjusted close of Cal-Maine
//! Foods (CALM, 2022-01-03 .. 2024-08-05, ten dividends from 0.6% to 4.4% of the price), real
//! bars yfinance recorded (`scripts/golden/yahoo_dividends_fixture.py` says where from and
//! writes the fixture).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use qts_data::actions::{ActionKind, Basis, PerBar, holding_return, on_basis};
use qts_data::io::read_bars;

#[test]
fn the_total_return_basis_is_yahoos_adjusted_close_to_its_rounding() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/yahoo_calm_dividends.csv");
    let bars = read_bars(&path).unwrap();
    assert_eq!(bars.len(), 662);
    let dividends = bars
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Dividend)
        .count();
    assert_eq!(dividends, 10);
    let adj = bars.adj_close.clone().unwrap();
    let n = bars.len();
    // Yahoo adjusts for every dividend up to the day it answered: compare factors relative to
    // the last bar's.
    let ours = on_basis(bars.clone(), Basis::TotalReturn).unwrap();
    let factor = |i: usize| ours.close[i] / bars.close[i];
    let yahoo = |i: usize| adj[i] / bars.close[i];
    let mut worst: f64 = 0.0;
    for i in 0..n {
        let rel = (factor(i) / factor(n - 1)) / (yahoo(i) / yahoo(n - 1)) - 1.0;
        worst = worst.max(rel.abs());
    }
    // Yahoo's prices are float32: seven significant digits.
    eprintln!("worst relative gap to Yahoo's adjusted close: {worst:e}");
    assert!(worst < 2e-6, "worst relative gap {worst:e}");
    // Without the dividends the gap is the dividends' 11% total: the check can fail.
    assert!((yahoo(0) / yahoo(n - 1) - 1.0).abs() > 0.05);
    // And the holding's return on the raw bars compounds to Yahoo's adjusted-close return.
    let per = PerBar::of(&bars).unwrap();
    let growth: f64 = (1..n)
        .map(|t| {
            1.0 + holding_return(
                bars.close[t - 1],
                bars.close[t],
                per.split[t],
                per.dividend[t],
            )
        })
        .product();
    assert!(
        (growth / (adj[n - 1] / adj[0]) - 1.0).abs() < 2e-6,
        "{growth}"
    );
}

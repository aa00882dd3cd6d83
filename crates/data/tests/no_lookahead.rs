//! Features at bar t depend on bars up to t only: changing every bar after t leaves every
//! feature at or before t bit-identical. Checked at many cut points on real data.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use qts_config::FeatureSpec;
use qts_data::features::compute;
use qts_data::io::read_bars;

#[test]
fn changing_future_bars_never_changes_past_features() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/goog_daily.csv");
    let bars = read_bars(&path).unwrap();
    let spec = FeatureSpec::default();
    let base = compute(&bars, &spec).unwrap();
    for cut in [0, 1, 25, 33, 34, 199, 200, 1000, bars.len() - 2] {
        let mut changed = bars.clone();
        for i in cut + 1..bars.len() {
            // A different but valid future: prices scaled, volume changed.
            let f = 1.0 + 0.37 * ((i * 7919) % 13) as f64 / 13.0;
            changed.open[i] *= f;
            changed.high[i] *= f;
            changed.low[i] *= f;
            changed.close[i] *= f;
            changed.volume[i] = changed.volume[i] * 0.5 + 1.0;
        }
        let other = compute(&changed, &spec).unwrap();
        for ((name, a), (_, b)) in base.columns.iter().zip(&other.columns) {
            for t in 0..=cut {
                assert!(
                    a[t].to_bits() == b[t].to_bits(),
                    "{name}[{t}] changed when bars after {cut} changed: {} vs {}",
                    a[t],
                    b[t]
                );
            }
        }
        // And the future did change something, so the test can fail.
        if cut + 25 < bars.len() {
            let sma = other.column("sma_20").unwrap();
            assert_ne!(
                sma[cut + 21].to_bits(),
                base.column("sma_20").unwrap()[cut + 21].to_bits()
            );
        }
    }
}

#[test]
fn the_same_input_gives_bit_identical_features() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/sp500_daily.csv");
    let bars = read_bars(&path).unwrap();
    let a = compute(&bars, &FeatureSpec::default()).unwrap();
    let b = compute(&bars, &FeatureSpec::default()).unwrap();
    for ((n, x), (_, y)) in a.columns.iter().zip(&b.columns) {
        assert!(
            x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{n}"
        );
    }
}

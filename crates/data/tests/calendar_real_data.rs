//! The NYSE calendar against real trading histories: every weekday missing from the data is a
//! holiday, and no holiday has a bar.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use qts_data::calendar::trading_days;
use qts_data::io::read_bars;

fn check(file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data")
        .join(file);
    let bars = read_bars(&path).unwrap();
    let dates: Vec<_> = bars.time.iter().map(|t| t.date()).collect();
    let expected = trading_days(dates[0], *dates.last().unwrap());
    let extra: Vec<_> = dates
        .iter()
        .filter(|d| expected.binary_search(d).is_err())
        .collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|d| dates.binary_search(d).is_err())
        .collect();
    assert!(
        extra.is_empty(),
        "{file}: bars on days the calendar calls closed: {extra:?}"
    );
    assert!(
        missing.is_empty(),
        "{file}: trading days without a bar: {missing:?}"
    );
    assert_eq!(dates.len(), expected.len());
}

#[test]
fn goog_2004_2013_trades_exactly_on_nyse_days() {
    check("goog_daily.csv");
}

#[test]
fn sp500_1999_2018_trades_exactly_on_nyse_days() {
    check("sp500_daily.csv");
}

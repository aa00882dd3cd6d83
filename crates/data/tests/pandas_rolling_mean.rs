//! The SMA crossover's running average against pandas' `rolling(n).mean()`, bit for bit, on
//! the bundled GOOG and S&P 500 closes (golden: scripts/golden/pandas_rolling_mean.py). Where
//! two averages tie exactly the last bit decides a crossover, and backtesting.py's SmaCross
//! (the strategy's reference) takes its averages from pandas.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use qts_data::features::running::RunningSma;
use qts_data::io::read_bars;
use sha2::{Digest, Sha256};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn running(close: &[f64], window: usize) -> Vec<f64> {
    let mut r = RunningSma::new(window);
    (0..close.len()).map(|t| r.update(&close[..=t])).collect()
}

#[test]
fn the_running_sma_is_pandas_rolling_mean_bit_for_bit() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("crates/data/tests/golden/pandas_rolling_mean.json"))
            .unwrap(),
    )
    .unwrap();
    let series = golden["series"].as_array().unwrap();
    assert_eq!(series.len(), 12);
    for s in series {
        let name = s["series"].as_str().unwrap();
        let window = s["window"].as_u64().unwrap() as usize;
        let bars = read_bars(&repo().join(format!("examples/data/{name}.csv"))).unwrap();
        let mean = running(&bars.close, window);
        assert!(
            mean[..window - 1].iter().all(|v| v.is_nan()),
            "{name} {window}"
        );
        let kept = &mean[window - 1..];
        assert_eq!(kept.len() as u64, s["values"].as_u64().unwrap());
        let mut h = Sha256::new();
        for v in kept {
            h.update(v.to_le_bytes());
        }
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            digest,
            s["sha256"].as_str().unwrap(),
            "{name}, window {window}"
        );
    }
    // The tie that made the difference: equal to the bit on 2010-08-17, so no crossover there.
    let tie = &golden["goog_tie"];
    let t = tie["t"].as_u64().unwrap() as usize;
    let close = read_bars(&repo().join("examples/data/goog_daily.csv"))
        .unwrap()
        .close;
    let (fast, slow) = (running(&close, 5), running(&close, 25));
    for k in 0..3 {
        assert_eq!(
            fast[t - 1 + k],
            tie["sma_5"][k].as_f64().unwrap(),
            "sma 5 at {k}"
        );
        assert_eq!(
            slow[t - 1 + k],
            tie["sma_25"][k].as_f64().unwrap(),
            "sma 25 at {k}"
        );
    }
    assert_eq!(fast[t], slow[t]);
}

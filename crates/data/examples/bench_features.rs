//! Times the feature kernels for `bench/features.py`, which runs TA-Lib on the same data in the
//! same run and prints the ratios.
//!
//! `bench_features BARS.csv TEN_YEARS.csv REPEATS` prints one JSON object: for each indicator
//! on BARS.csv, the best time in seconds over REPEATS runs and a checksum (the sum of its
//! non-NaN values) that the script compares with TA-Lib's; and the best time of the whole
//! default feature set on TEN_YEARS.csv.

use std::path::Path;
use std::time::Instant;

use qts_config::FeatureSpec;
use qts_data::features::{compute, kernels};
use qts_data::io::read_bars;

fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = f();
    for _ in 0..repeats {
        let t = Instant::now();
        out = std::hint::black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, out)
}

fn checksum(v: &[f64]) -> f64 {
    v.iter().filter(|x| x.is_finite()).sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, big, ten, repeats] = args.as_slice() else {
        return Err("usage: bench_features BARS.csv TEN_YEARS.csv REPEATS".into());
    };
    let repeats: usize = repeats.parse()?;
    let b = read_bars(Path::new(big))?;
    let (h, l, c, v) = (&b.high, &b.low, &b.close, &b.volume);
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    let mut run = |name: &str, f: &mut dyn FnMut() -> Vec<f64>| {
        let (secs, out) = best(repeats, f);
        rows.push((name.to_string(), secs, checksum(&out)));
    };
    run("sma_20", &mut || kernels::sma(c, 20));
    run("ema_12", &mut || kernels::ema(c, 12));
    run("rsi_14", &mut || kernels::rsi(c, 14));
    run("macd", &mut || kernels::macd(c, 12, 26, 9)[0].clone());
    run("bb_upper", &mut || {
        kernels::bollinger(c, 20, 2.0)[0].clone()
    });
    run("mom_10", &mut || kernels::momentum(c, 10));
    run("roc_10", &mut || kernels::roc(c, 10));
    run("atr_14", &mut || kernels::atr(h, l, c, 14));
    run("obv", &mut || kernels::obv(c, v));

    let ten_years = read_bars(Path::new(ten))?;
    let spec = FeatureSpec::default();
    let (default_secs, table) = best(repeats * 20, || {
        compute(&ten_years, &spec).unwrap_or_default()
    });
    let mut out = String::from("{\"kernels\": {");
    for (i, (name, secs, sum)) in rows.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!(
            "\"{name}\": {{\"secs\": {secs:e}, \"checksum\": {sum:e}}}"
        ));
    }
    out.push_str(&format!(
        "}}, \"default_set\": {{\"bars\": {}, \"columns\": {}, \"secs\": {default_secs:e}}}}}",
        ten_years.len(),
        table.columns.len()
    ));
    println!("{out}");
    Ok(())
}

//! Where a command's data loading goes: `bench_load BARS.csv [REPEATS]` prints the best time of
//! reading the file, hashing it, parsing it and validating it (`qts data validate`'s checks),
//! as one JSON object. `bench/backtest.sh` runs it on the S&P 500 sample.

use std::path::Path;
use std::time::Instant;

use qts_config::QtsConfig;
use qts_data::io::parse_csv;
use qts_data::validate::validate;

fn best(repeats: usize, mut f: impl FnMut()) -> f64 {
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = Path::new(args.get(1).ok_or("usage: bench_load BARS.csv [REPEATS]")?);
    let repeats: usize = args.get(2).map_or(Ok(50), |r| r.parse())?;
    let cfg = QtsConfig::default();
    let bytes = std::fs::read(path)?;
    let bars = parse_csv(path, &bytes)?;
    let as_of = bars.time.last().map(|t| t.date()).unwrap_or_default();
    let read = best(repeats, || drop(std::fs::read(path)));
    let hash = best(repeats, || drop(qts_core::hex::sha256(&bytes)));
    let parse = best(repeats, || drop(parse_csv(path, &bytes)));
    let check = best(repeats, || {
        drop(validate(&bars, &cfg.validation, &cfg.data.quality, as_of));
    });
    println!(
        "{{\"bars\": {}, \"read_secs\": {read:e}, \"hash_secs\": {hash:e}, \"parse_secs\": {parse:e}, \"validate_secs\": {check:e}}}",
        bars.len()
    );
    Ok(())
}

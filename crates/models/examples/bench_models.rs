//! Timings for bench/models.py (prints one JSON object):
//!
//! `bench_models epoch THREADS` — one training epoch of the default LSTM (2 × 128, dropout
//! 0.2, 60 × 20 inputs, batch 64, 20,000 windows, Adam, MSE, clipping 1.0) through
//! `qts_models::train`, validation on 64 windows;
//! `bench_models latency THREADS` — the same network predicting one window (median of 2,000
//! after warm-up) and batches of 256 (throughput).

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Instant;

use qts_config::{ComputeConfig, Device, ModelConfig};
use qts_models::batches::Series;
use qts_models::infer::{PredictOptions, Predictor};
use qts_models::net::NetSpec;
use qts_models::train::{TrainOptions, TrainSet, train};

const WIDTH: usize = 20;
const LOOKBACK: usize = 60;
const WINDOWS: usize = 20_000;

fn data() -> (Vec<f32>, Vec<f32>) {
    let rows = WINDOWS + 64 + LOOKBACK;
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    let values = (0..rows * WIDTH).map(|_| next()).collect();
    let targets = (0..rows).map(|_| next() * 0.02).collect();
    (values, targets)
}

/// CPU seconds (user + system, all threads) this process has used, from /proc (Linux): less
/// disturbed than wall time by a busy shared machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 Hz.
    (ticks(11) + ticks(12)) / 100.0
}

fn config() -> ModelConfig {
    let mut cfg = ModelConfig::default();
    cfg.training.epochs = 1;
    cfg.training.warmup_epochs = 0;
    cfg
}

fn compute(threads: usize) -> ComputeConfig {
    ComputeConfig {
        device: Device::Cpu,
        threads,
        gpus: Vec::new(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("epoch", String::as_str);
    let threads: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(2);
    let mut device = compute(threads);
    if args.get(3).is_some_and(|d| d == "cuda") {
        device.device = Device::Cuda;
    }
    let (values, targets) = data();
    let cfg = config();
    let series = Series {
        values: &values,
        width: WIDTH,
        lookback: LOOKBACK,
    };
    match mode {
        "epoch" => {
            let train_rows: Vec<usize> = (LOOKBACK - 1..LOOKBACK - 1 + WINDOWS).collect();
            let val_rows: Vec<usize> =
                (LOOKBACK - 1 + WINDOWS..LOOKBACK - 1 + WINDOWS + 64).collect();
            let set = TrainSet {
                series,
                targets: &targets,
                train: &train_rows,
                validation: &val_rows,
            };
            let opts = TrainOptions {
                compute: device,
                seed: 1,
                deterministic: true,
                checkpoint_dir: None,
                resume: false,
                max_epochs_this_run: None,
            };
            let started = Instant::now();
            let cpu = cpu_seconds();
            let t = train(&cfg, &set, &opts, &mut ()).unwrap();
            let cpu = cpu_seconds() - cpu;
            let total = started.elapsed().as_secs_f64();
            println!(
                "{{\"epoch_seconds\": {}, \"cpu_seconds\": {cpu}, \"with_setup_seconds\": {total}, \"loss\": {}, \"device\": \"{}\"}}",
                t.history[0].seconds, t.history[0].loss, t.device
            );
        }
        _ => {
            let spec = NetSpec::new(&cfg, WIDTH).unwrap();
            let vs = tch::nn::VarStore::new(tch::Device::Cpu);
            let _net = qts_models::net::Net::new(&vs.root(), &spec);
            let bytes =
                qts_models::weights::to_safetensors(&qts_models::weights::variables(&vs)).unwrap();
            let path = std::path::Path::new("bench");
            let p = Predictor::new(spec, &[(path, &bytes)], &device).unwrap();
            let window = &values[..LOOKBACK * WIDTH];
            for _ in 0..100 {
                p.predict_one(window).unwrap();
            }
            let mut times: Vec<f64> = (0..2000)
                .map(|_| {
                    let s = Instant::now();
                    std::hint::black_box(p.predict_one(window).unwrap());
                    s.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            // Just the rows of 256 windows, as a caller predicting a batch would pass.
            let series = Series {
                values: &values[..(255 + LOOKBACK) * WIDTH],
                ..series
            };
            let ends: Vec<usize> = (LOOKBACK - 1..LOOKBACK - 1 + 256).collect();
            let opts = PredictOptions::default();
            p.predict(&series, &ends, &opts).unwrap();
            let reps = 20;
            let s = Instant::now();
            for _ in 0..reps {
                std::hint::black_box(p.predict(&series, &ends, &opts).unwrap());
            }
            let batch = s.elapsed().as_secs_f64() / reps as f64;
            println!(
                "{{\"latency_median_seconds\": {}, \"batch256_seconds\": {batch}, \"windows_per_second\": {}}}",
                times[times.len() / 2],
                256.0 / batch
            );
        }
    }
}

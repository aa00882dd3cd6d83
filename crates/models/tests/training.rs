//! The trainer on a learnable synthetic signal, its determinism, exact resumption after an
//! interruption, and its errors for unusable input.

#![allow(clippy::unwrap_used)]

use qts_config::{Architecture, ComputeConfig, Device, ModelConfig, Schedule};
use qts_models::batches::Series;
use qts_models::infer::{PredictOptions, Predictor};
use qts_models::net::NetSpec;
use qts_models::train::{TrainOptions, TrainSet, Trained, train};

/// AR(1) returns `r[t] = φ r[t−1] + ε`: the feature of row t is `r[t]`, its target `r[t+1]`.
/// The best forecast `φ r[t]` leaves (1 − φ²) of the variance; predicting the mean leaves all.
struct Ar1 {
    values: Vec<f32>,
    targets: Vec<f32>,
}

fn ar1(n: usize, phi: f64, seed: u64) -> Ar1 {
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut r = vec![0.0f64; n + 1];
    for t in 1..=n {
        // Box–Muller
        let e = (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
        r[t] = phi * r[t - 1] + e;
    }
    Ar1 {
        values: r[..n].iter().map(|&v| v as f32).collect(),
        targets: r[1..].iter().map(|&v| v as f32).collect(),
    }
}

fn small_config(arch: Architecture) -> ModelConfig {
    let mut cfg = ModelConfig {
        architecture: arch,
        ..ModelConfig::default()
    };
    cfg.lstm.hidden_size = 16;
    cfg.lstm.num_layers = 1;
    cfg.lstm.dropout = 0.0;
    cfg.transformer.d_model = 16;
    cfg.transformer.num_heads = 2;
    cfg.transformer.num_layers = 1;
    cfg.transformer.feedforward_size = 32;
    cfg.transformer.dropout = 0.0;
    cfg.data.lookback = 8;
    cfg.data.purge_gap = 8;
    cfg.training.epochs = 12;
    cfg.training.batch_size = 32;
    cfg.training.learning_rate = 0.01;
    cfg.training.warmup_epochs = 1;
    cfg.training.schedule = Schedule::Cosine;
    cfg.training.early_stopping.patience = 50;
    cfg
}

fn cpu_options() -> TrainOptions {
    TrainOptions {
        compute: ComputeConfig {
            device: Device::Cpu,
            threads: 1,
            gpus: Vec::new(),
        },
        seed: 11,
        deterministic: true,
        checkpoint_dir: None,
        resume: false,
        max_epochs_this_run: None,
    }
}

fn splits(n: usize, lookback: usize) -> (Vec<usize>, Vec<usize>) {
    let cut = n * 3 / 4;
    let train = (lookback - 1..cut).collect();
    let validation = (cut + lookback..n).collect();
    (train, validation)
}

fn run(cfg: &ModelConfig, data: &Ar1, opts: &TrainOptions) -> Trained {
    let (tr, va) = splits(data.targets.len(), cfg.data.lookback);
    let set = TrainSet {
        series: Series {
            values: &data.values,
            width: 1,
            lookback: cfg.data.lookback,
        },
        targets: &data.targets,
        train: &tr,
        validation: &va,
    };
    train(cfg, &set, opts, &mut ()).unwrap()
}

#[test]
fn learns_an_ar1_signal_well_below_the_mean_forecast() {
    let data = ar1(1200, 0.8, 5);
    let (_, va) = splits(data.targets.len(), 8);
    let y: Vec<f64> = va.iter().map(|&r| data.targets[r] as f64).collect();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let mean_mse = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64;
    for arch in [
        Architecture::Lstm,
        Architecture::Transformer,
        Architecture::Mlp,
    ] {
        let trained = run(&small_config(arch), &data, &cpu_options());
        let best = trained
            .history
            .iter()
            .map(|l| l.val_loss)
            .fold(f64::INFINITY, f64::min);
        // The ideal forecast leaves 1 − 0.8² = 36% of the variance.
        assert!(
            best < 0.55 * mean_mse,
            "{arch:?}: validation MSE {best} vs {mean_mse} for the mean forecast"
        );
        let last = trained.history.last().unwrap();
        assert!(last.val_directional_accuracy > 0.7, "{arch:?}: {last:?}");
        assert!(last.val_ic > 0.6, "{arch:?}: {last:?}");
    }
}

#[test]
fn the_same_seed_gives_identical_weights_and_another_seed_does_not() {
    let data = ar1(400, 0.5, 9);
    let mut cfg = small_config(Architecture::Lstm);
    cfg.training.epochs = 3;
    cfg.lstm.dropout = 0.3;
    cfg.lstm.num_layers = 2;
    let a = run(&cfg, &data, &cpu_options());
    let b = run(&cfg, &data, &cpu_options());
    assert!(a.weights == b.weights, "bit-identical weights");
    assert_eq!(a.history.len(), 3);
    let mut other = cpu_options();
    other.seed = 12;
    assert!(run(&cfg, &data, &other).weights != a.weights);
}

#[test]
fn an_interrupted_run_resumes_to_the_same_weights() {
    let data = ar1(400, 0.5, 21);
    let mut cfg = small_config(Architecture::Lstm);
    cfg.training.epochs = 5;
    cfg.lstm.dropout = 0.2;
    cfg.lstm.num_layers = 2;
    cfg.training.schedule = Schedule::ReduceOnPlateau;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = cpu_options();
    opts.checkpoint_dir = Some(dir.path().join("whole"));
    let whole = run(&cfg, &data, &opts);

    opts.checkpoint_dir = Some(dir.path().join("split"));
    opts.max_epochs_this_run = Some(2);
    let first = run(&cfg, &data, &opts);
    assert_eq!(first.history.len(), 2);
    opts.max_epochs_this_run = None;
    opts.resume = true;
    let resumed = run(&cfg, &data, &opts);
    assert_eq!(resumed.resumed_after, Some(1));
    assert_eq!(resumed.history.len(), 5);
    for (a, b) in whole.history.iter().zip(&resumed.history) {
        assert_eq!(
            (a.loss, a.val_loss, a.lr),
            (b.loss, b.val_loss, b.lr),
            "epoch {}",
            a.epoch
        );
    }
    assert!(whole.weights == resumed.weights, "same final weights");
    assert!(whole.members == resumed.members, "same checkpoint ensemble");
    assert_eq!(whole.members.len(), 3, "best keep_top_k checkpoints");
}

#[test]
fn predictions_intervals_and_ensembles() {
    let data = ar1(400, 0.8, 2);
    let mut cfg = small_config(Architecture::Lstm);
    cfg.training.epochs = 4;
    cfg.lstm.dropout = 0.3;
    cfg.lstm.num_layers = 2;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = cpu_options();
    opts.checkpoint_dir = Some(dir.path().to_path_buf());
    let trained = run(&cfg, &data, &opts);
    let spec = NetSpec::new(&cfg, 1).unwrap();
    let path = dir.path().join("w.safetensors");
    let series = Series {
        values: &data.values,
        width: 1,
        lookback: 8,
    };
    let ends: Vec<usize> = (300..400).collect();

    let single = Predictor::new(spec.clone(), &[(&path, &trained.weights)], &opts.compute).unwrap();
    let p = single
        .predict(&series, &ends, &PredictOptions::default())
        .unwrap();
    assert!(p.interval.is_none(), "one sample: no interval");
    let one = single
        .predict_one(series.values[293..301].as_ref())
        .unwrap();
    assert!((one - p.mean[0]).abs() < 1e-6, "{one} vs {}", p.mean[0]);

    let mc = PredictOptions {
        mc_samples: 20,
        ..PredictOptions::default()
    };
    let a = single.predict(&series, &ends, &mc).unwrap();
    let b = single.predict(&series, &ends, &mc).unwrap();
    assert_eq!(a, b, "MC dropout is seeded");
    let (lo, hi) = a.interval.unwrap();
    assert!(
        lo.iter().zip(&hi).all(|(l, h)| l < h),
        "dropout spreads the samples"
    );
    assert!(
        a.mean
            .iter()
            .zip(lo.iter().zip(&hi))
            .all(|(m, (l, h))| l <= m && m <= h)
    );

    let members: Vec<(&std::path::Path, &[u8])> = trained
        .members
        .iter()
        .map(|m| (path.as_path(), m.as_slice()))
        .collect();
    let ensemble = Predictor::new(spec, &members, &opts.compute).unwrap();
    let e = ensemble
        .predict(&series, &ends, &PredictOptions::default())
        .unwrap();
    assert!(e.interval.is_some(), "three members give an interval");
}

#[test]
fn unusable_input_is_an_error_not_a_panic() {
    let data = ar1(100, 0.5, 1);
    let cfg = small_config(Architecture::Lstm);
    let (tr, va) = splits(100, 8);
    let mut values = data.values.clone();
    values[50] = f32::NAN;
    let set = TrainSet {
        series: Series {
            values: &values,
            width: 1,
            lookback: 8,
        },
        targets: &data.targets,
        train: &tr,
        validation: &va,
    };
    let e = train(&cfg, &set, &cpu_options(), &mut ()).unwrap_err();
    assert_eq!(e.to_string(), "feature 0 of row 50 is not finite");

    let short = [2usize];
    let set = TrainSet {
        series: Series {
            values: &data.values,
            width: 1,
            lookback: 8,
        },
        targets: &data.targets,
        train: &short,
        validation: &va,
    };
    let e = train(&cfg, &set, &cpu_options(), &mut ()).unwrap_err();
    assert!(
        e.to_string().contains("no full 8-row window ends at row 2"),
        "{e}"
    );

    let mut cfg = small_config(Architecture::Transformer);
    cfg.transformer.num_heads = 3;
    assert!(
        NetSpec::new(&cfg, 1)
            .unwrap_err()
            .to_string()
            .contains("must divide")
    );
    let mut opts = cpu_options();
    opts.compute.device = Device::Cuda;
    if !tch::Cuda::is_available() {
        let e = train(&small_config(Architecture::Lstm), &set, &opts, &mut ()).unwrap_err();
        assert!(
            e.to_string().contains("no full 8-row window"),
            "input is checked first: {e}"
        );
    }
}

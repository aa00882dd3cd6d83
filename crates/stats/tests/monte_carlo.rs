//! Monte Carlo intervals: they cover what they claim on series of known distribution, they
//! are seeded and independent of the thread count, and bad requests name the parameter.

#![allow(clippy::unwrap_used)]

mod support;

use qts_stats::monte_carlo::{Method, Request, simulate};

/// Seeded N(mu, sd) returns.
fn normal(n: usize, mu: f64, sd: f64, seed: u64) -> Vec<f64> {
    let mut z = support::Noise::new(seed);
    (0..n).map(|_| mu + sd * z.normal()).collect()
}

fn request(sample: &[f64], method: Method, paths: usize, seed: u64) -> Request<'_> {
    Request {
        sample,
        periods_per_year: 252.0,
        method,
        paths,
        seed,
        horizon: None,
        level: 0.95,
        drawdown: 0.2,
        initial: 100_000.0,
        budget: qts_core::budget::Budget::default(),
    }
}

#[test]
fn the_95_percent_interval_of_the_mean_covers_the_true_mean_95_percent_of_the_time() {
    let (mu, sd, cases) = (0.0005, 0.01, 120);
    let covered = (0..cases)
        .filter(|&c| {
            let r = normal(250, mu, sd, 1_000 + c as u64 * 7_919);
            let m = simulate(&request(&r, Method::Iid, 400, c as u64)).unwrap();
            m.mean_return.lower <= mu && mu <= m.mean_return.upper
        })
        .count();
    let share = covered as f64 / cases as f64;
    // 95% ± three standard errors of a share of 120 cases (±6%).
    assert!(
        (0.89..=1.0).contains(&share),
        "covered {covered} of {cases}"
    );
}

#[test]
fn the_parametric_fits_are_the_samples_moments() {
    let r = normal(2_000, 0.001, 0.02, 99);
    let n = simulate(&request(&r, Method::Normal, 500, 1)).unwrap();
    let fit = n.fitted.unwrap();
    assert!((fit.mean - qts_core::stats::mean(&r)).abs() < 1e-15);
    assert!((fit.std - qts_core::stats::std(&r, 1)).abs() < 1e-15);
    assert!(fit.df.is_none());
    // Fat tails: a mixture of two normals has positive excess kurtosis, and the t's degrees
    // of freedom follow from it (6 / (ν − 4) = κ).
    let mut fat = normal(2_000, 0.0, 0.01, 5);
    fat.extend(normal(200, 0.0, 0.05, 6));
    let t = simulate(&request(&fat, Method::StudentT, 500, 1)).unwrap();
    let df = t.fitted.unwrap().df.unwrap();
    let k = qts_core::stats::kurtosis(&fat);
    assert!((6.0 / (df - 4.0) - k).abs() < 1e-9, "df {df}, kurtosis {k}");
    // The simulated volatility is the sample's, on average.
    let vol = qts_core::stats::std(&fat, 1) * 252f64.sqrt();
    assert!(
        (t.annual_volatility.mean / vol - 1.0).abs() < 0.05,
        "{:?}",
        t.annual_volatility
    );
}

#[test]
fn seeded_and_the_same_on_one_thread() {
    let r = normal(500, 0.0003, 0.012, 3);
    for method in [
        Method::Iid,
        Method::Block { size: 10 },
        Method::Normal,
        Method::StudentT,
    ] {
        let a = simulate(&request(&r, method, 300, 42)).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| simulate(&request(&r, method, 300, 42)).unwrap());
        assert_eq!(a, b, "{method:?}");
        let c = simulate(&request(&r, method, 300, 43)).unwrap();
        assert_ne!(a.final_equity, c.final_equity, "{method:?}");
    }
}

#[test]
fn a_block_bootstrap_keeps_runs_of_the_sample() {
    // Returns that alternate +1%/−1% have no drawdown beyond 1% in order; the i.i.d.
    // bootstrap breaks the alternation (deeper drawdowns), long blocks keep it.
    let r: Vec<f64> = (0..400)
        .map(|i| if i % 2 == 0 { 0.01 } else { -0.01 })
        .collect();
    let iid = simulate(&request(&r, Method::Iid, 300, 7)).unwrap();
    let block = simulate(&request(&r, Method::Block { size: 200 }, 300, 7)).unwrap();
    assert!(block.max_drawdown.median > iid.max_drawdown.median);
    assert!(
        block.max_drawdown.median > -0.05,
        "{:?}",
        block.max_drawdown
    );
}

#[test]
fn bad_requests_name_the_parameter() {
    // The library names its parameter (the CLI shows it as its flag: `--paths …`).
    let r = normal(100, 0.0, 0.01, 1);
    let err = |req: Request<'_>| simulate(&req).unwrap_err().to_string();
    assert_eq!(
        err(request(&r, Method::Iid, 0, 1)),
        "paths must be at least 1, got 0"
    );
    assert_eq!(
        err(request(&r, Method::Block { size: 0 }, 10, 1)),
        "block_size must be at least 1, got 0"
    );
    assert_eq!(
        err(Request {
            level: 1.5,
            ..request(&r, Method::Iid, 10, 1)
        }),
        "level must be between 0 and 1, got 1.5"
    );
    let mut nan = r.clone();
    nan[7] = f64::NAN;
    assert_eq!(
        err(request(&nan, Method::Iid, 10, 1)),
        "sample value 8 is not finite"
    );
}

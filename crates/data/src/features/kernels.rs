//! Indicator kernels with TA-Lib's conventions: output as long as the input, NaN on the
//! warm-up rows exactly where TA-Lib has NaN, all NaN when the input is shorter than the
//! warm-up.
//!
//! The arithmetic is `kand`'s (checked against TA-Lib to ≤ 1e-9 by `tests/talib_golden.rs`);
//! these wrappers add the shapes TA-Lib has and kand does not: a series too short for the
//! warm-up is all NaN rather than an error, and MACD seeds its fast EMA late, as TA-Lib does.

use kand::ohlcv;

fn nan(n: usize) -> Vec<f64> {
    vec![f64::NAN; n]
}

/// Simple moving average; first value at `period - 1`.
pub fn sma(x: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan(x.len());
    if period >= 2 && x.len() >= period {
        let _ = ohlcv::sma::sma(x, period, &mut out);
    } else if period == 1 {
        out.copy_from_slice(x);
    }
    out
}

/// Exponential moving average seeded with the SMA of the first `period` values
/// (`k = 2 / (period + 1)`); first value at `period - 1`.
pub fn ema(x: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan(x.len());
    if period >= 2 && x.len() >= period {
        let _ = ohlcv::ema::ema(x, period, None, &mut out);
    } else if period == 1 {
        out.copy_from_slice(x);
    }
    out
}

/// Relative strength index with Wilder's smoothing; first value at `period`.
pub fn rsi(x: &[f64], period: usize) -> Vec<f64> {
    let n = x.len();
    let mut out = nan(n);
    if period >= 2 && n > period {
        let (mut gain, mut loss) = (nan(n), nan(n));
        let _ = ohlcv::rsi::rsi(x, period, &mut out, &mut gain, &mut loss);
    }
    out
}

/// MACD line, signal and histogram as TA-Lib computes them: both EMAs start at bar
/// `slow - 1` (the fast one seeded from the `fast` bars before it, not from the first bars),
/// the signal is an EMA of the line, and the first values are at `slow + signal - 2`.
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 3] {
    let n = x.len();
    let (mut line, mut sig, mut hist) = (nan(n), nan(n), nan(n));
    let lookback = slow + signal - 2;
    if fast < 2 || slow <= fast || signal < 1 || n <= lookback {
        return [line, sig, hist];
    }
    // TA-Lib seeds the fast EMA over the `fast` bars ending where the slow one's seed ends.
    let fast_ema = ema(&x[slow - fast..], fast);
    let slow_ema = ema(x, slow);
    for i in slow - 1..n {
        line[i] = fast_ema[i - (slow - fast)] - slow_ema[i];
    }
    let signal_ema = ema(&line[slow - 1..], signal);
    for i in lookback..n {
        sig[i] = signal_ema[i - (slow - 1)];
        hist[i] = line[i] - sig[i];
    }
    for v in &mut line[..lookback] {
        *v = f64::NAN;
    }
    [line, sig, hist]
}

/// Bollinger bands (upper, middle, lower) around an SMA, with the population standard
/// deviation as TA-Lib uses; first values at `period - 1`.
pub fn bollinger(x: &[f64], period: usize, k: f64) -> [Vec<f64>; 3] {
    let n = x.len();
    let (mut up, mut mid, mut low) = (nan(n), nan(n), nan(n));
    if period >= 2 && n >= period {
        let (mut sma, mut var, mut sum, mut sum_sq) = (nan(n), nan(n), nan(n), nan(n));
        let _ = ohlcv::bbands::bbands(
            x,
            period,
            k,
            k,
            &mut up,
            &mut mid,
            &mut low,
            &mut sma,
            &mut var,
            &mut sum,
            &mut sum_sq,
        );
    }
    [up, mid, low]
}

// Momentum and rate of change are one subtraction or division each; kand refuses a period
// of 1, which TA-Lib allows, so they are written here.

/// Momentum: `x[t] - x[t - period]`.
pub fn momentum(x: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan(x.len());
    for t in period.max(1)..x.len() {
        out[t] = x[t] - x[t - period.max(1)];
    }
    out
}

/// Rate of change in percent: `(x[t] / x[t - period] - 1) · 100` (0 where the old value is
/// 0, as TA-Lib).
pub fn roc(x: &[f64], period: usize) -> Vec<f64> {
    let p = period.max(1);
    let mut out = nan(x.len());
    for t in p..x.len() {
        let old = x[t - p];
        out[t] = if old == 0.0 {
            0.0
        } else {
            (x[t] / old - 1.0) * 100.0
        };
    }
    out
}

/// Average true range with Wilder's smoothing, seeded with the mean true range of bars
/// `1..=period`; first value at `period`.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan(close.len());
    if period >= 2 && close.len() > period {
        let _ = ohlcv::atr::atr(high, low, close, period, &mut out);
    }
    out
}

/// On-balance volume, starting from the first bar's volume.
pub fn obv(close: &[f64], volume: &[f64]) -> Vec<f64> {
    let mut out = nan(close.len());
    if !close.is_empty() {
        let _ = ohlcv::obv::obv(close, volume, &mut out);
    }
    out
}

/// `ln(x[t] / x[t - h])`; the first `h` rows are NaN.
pub fn log_return(x: &[f64], h: usize) -> Vec<f64> {
    let mut out = nan(x.len());
    for t in h..x.len() {
        out[t] = (x[t] / x[t - h]).ln();
    }
    out
}

/// Rolling sample standard deviation (n − 1 denominator, as pandas) over `window` values;
/// NaN where the window holds a NaN. Two passes per window: exact to rounding, and at daily
/// sizes (windows of tens of bars) cheaper than it looks.
pub fn rolling_std(x: &[f64], window: usize) -> Vec<f64> {
    let mut out = nan(x.len());
    if window < 2 || x.len() < window {
        return out;
    }
    let w = window as f64;
    for (t, slot) in out.iter_mut().enumerate().skip(window - 1) {
        let values = &x[t + 1 - window..=t];
        let mean = values.iter().sum::<f64>() / w;
        let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        *slot = (ss / (w - 1.0)).sqrt();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_rows_follow_talib() {
        let x: Vec<f64> = (1..=40).map(f64::from).collect();
        assert_eq!(sma(&x, 5).iter().take_while(|v| v.is_nan()).count(), 4);
        assert_eq!(ema(&x, 5).iter().take_while(|v| v.is_nan()).count(), 4);
        assert_eq!(rsi(&x, 14).iter().take_while(|v| v.is_nan()).count(), 14);
        let [line, sig, hist] = macd(&x, 12, 26, 9);
        for col in [line, sig, hist] {
            assert_eq!(col.iter().take_while(|v| v.is_nan()).count(), 33);
        }
        assert_eq!(momentum(&x, 10)[10], 10.0);
        assert_eq!(log_return(&x, 1)[1], 2f64.ln());
    }

    #[test]
    fn too_short_series_are_all_nan_not_errors() {
        let x = [1.0, 2.0, 3.0];
        assert!(sma(&x, 5).iter().all(|v| v.is_nan()));
        assert!(rsi(&x, 14).iter().all(|v| v.is_nan()));
        assert!(macd(&x, 12, 26, 9)[0].iter().all(|v| v.is_nan()));
        assert!(atr(&x, &x, &x, 14).iter().all(|v| v.is_nan()));
        assert!(rolling_std(&x, 20).iter().all(|v| v.is_nan()));
        assert!(obv(&[], &[]).is_empty());
    }

    #[test]
    fn rolling_std_matches_the_two_pass_formula() {
        let x: Vec<f64> = (0..50).map(|i| 100.0 + (i as f64 * 0.7).sin()).collect();
        let got = rolling_std(&x, 20);
        for t in 19..50 {
            let w = &x[t - 19..=t];
            let m = w.iter().sum::<f64>() / 20.0;
            let v = w.iter().map(|a| (a - m).powi(2)).sum::<f64>() / 19.0;
            assert!((got[t] - v.sqrt()).abs() < 1e-12, "{t}");
        }
    }
}

//! Small numeric helpers with numpy's and pandas' conventions, shared by every crate (metrics,
//! validation, prediction intervals), so that numbers defined by empyrical, numpy or pandas
//! agree with them to rounding.

/// Simple returns of a level series: `levels[i] / levels[i-1] − 1`.
pub fn simple_returns(levels: &[f64]) -> Vec<f64> {
    levels.windows(2).map(|w| w[1] / w[0] - 1.0).collect()
}

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Standard deviation with `ddof` (numpy's two-pass algorithm).
pub fn std(x: &[f64], ddof: usize) -> f64 {
    if x.len() <= ddof {
        return f64::NAN;
    }
    let m = mean(x);
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    (ss / (x.len() - ddof) as f64).sqrt()
}

/// The `q`-th percentile (0–100) with linear interpolation (numpy's default).
pub fn percentile(x: &[f64], q: f64) -> f64 {
    let mut s = x.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    percentile_sorted(&s, q)
}

/// [`percentile`] of values already sorted ascending.
pub fn percentile_sorted(s: &[f64], q: f64) -> f64 {
    quantile_sorted(s, q / 100.0)
}

/// The `q`-th quantile (0–1) of values already sorted ascending, interpolating linearly
/// (numpy's default `quantile`); NaN for an empty slice.
pub fn quantile_sorted(s: &[f64], q: f64) -> f64 {
    if s.is_empty() {
        return f64::NAN;
    }
    let pos = q * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    // numpy's "linear" method: lerp between the two neighbours.
    let frac = pos - lo as f64;
    if frac == 0.0 {
        s[lo]
    } else {
        s[lo] + (s[hi] - s[lo]) * frac
    }
}

/// Sample skewness, bias-corrected as pandas' `Series.skew()`.
pub fn skew(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 3 {
        return f64::NAN;
    }
    let m = mean(x);
    let m2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
    let m3 = x.iter().map(|v| (v - m).powi(3)).sum::<f64>() / n;
    if m2 == 0.0 {
        return 0.0;
    }
    let g1 = m3 / m2.powf(1.5);
    g1 * (n * (n - 1.0)).sqrt() / (n - 2.0)
}

/// Excess kurtosis, bias-corrected as pandas' `Series.kurt()`.
pub fn kurtosis(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 4 {
        return f64::NAN;
    }
    let m = mean(x);
    let m2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
    let m4 = x.iter().map(|v| (v - m).powi(4)).sum::<f64>() / n;
    if m2 == 0.0 {
        return 0.0;
    }
    let g2 = m4 / (m2 * m2) - 3.0;
    ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
}

/// Pearson correlation of two equal-length slices.
pub fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_linear() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&x, 50.0), 2.5);
        assert_eq!(percentile(&x, 5.0), 1.15);
        assert_eq!(percentile(&x, 100.0), 4.0);
        // numpy.quantile([1, 2, 3, 4], [0.05, 0.95]) == [1.15, 3.85]
        assert!((quantile_sorted(&x, 0.05) - 1.15).abs() < 1e-12);
        assert!((quantile_sorted(&x, 0.95) - 3.85).abs() < 1e-12);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn moments_match_pandas() {
        // pandas: Series([1, 2, 3, 10]).skew() = 1.7636326148..., .kurt() = 3.228
        let x = [1.0, 2.0, 3.0, 10.0];
        assert!(
            (skew(&x) - 1.763_632_614_803_888).abs() < 1e-12,
            "{}",
            skew(&x)
        );
        assert!((kurtosis(&x) - 3.228).abs() < 1e-12, "{}", kurtosis(&x));
    }
}

//! Running forms of the averages strategies use, fed one close a bar, so a backtest stays
//! linear in the number of bars. The EMA equals its kernel bit for bit (what a model sees);
//! the SMA is pandas' rolling mean, bit for bit, because the crossover strategy's reference is
//! backtesting.py's SmaCross, whose averages are `rolling(n).mean()`: where two averages tie
//! exactly, the last bit decides whether a crossover happens.

/// A simple moving average computed as pandas' `Series.rolling(period).mean()` computes it:
/// a running sum with Kahan compensation (one compensation for the values added, one for those
/// removed, the removal first), a window of equal values giving that value exactly, and a
/// window of values all of one sign never giving the other. It differs from
/// [`super::kernels::sma`] (TA-Lib's plain running sum, the `sma_N` feature) in the last bits.
/// Checked bit for bit against pandas on GOOG and the S&P 500 (`tests/pandas_rolling_mean.rs`).
/// NaN values are skipped, as pandas skips them, and a window needs `period` values.
#[derive(Debug, Clone, Default)]
pub struct RunningSma {
    period: usize,
    seen: usize,
    nobs: usize,
    sum: f64,
    add_compensation: f64,
    remove_compensation: f64,
    negatives: usize,
    /// How many of the latest values added are equal, and the latest value.
    same_run: usize,
    latest: f64,
    prev: f64,
    last: f64,
}

impl RunningSma {
    /// An average of `period` values.
    pub fn new(period: usize) -> Self {
        RunningSma {
            period,
            prev: f64::NAN,
            last: f64::NAN,
            ..RunningSma::default()
        }
    }

    fn kahan(sum: &mut f64, compensation: &mut f64, value: f64) {
        let y = value - *compensation;
        let t = *sum + y;
        *compensation = t - *sum - y;
        *sum = t;
    }

    fn add(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        self.nobs += 1;
        Self::kahan(&mut self.sum, &mut self.add_compensation, v);
        if v < 0.0 {
            self.negatives += 1;
        }
        // pandas starts the run at the window's first value with a count of 0, so the first
        // value added counts as 1.
        if self.seen == 1 {
            self.latest = v;
        }
        self.same_run = if v == self.latest {
            self.same_run + 1
        } else {
            1
        };
        self.latest = v;
    }

    fn remove(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        self.nobs -= 1;
        Self::kahan(&mut self.sum, &mut self.remove_compensation, -v);
        if v < 0.0 {
            self.negatives -= 1;
        }
    }

    fn mean(&self) -> f64 {
        if self.nobs < self.period.max(1) {
            return f64::NAN;
        }
        let mean = self.sum / self.nobs as f64;
        if self.same_run >= self.nobs {
            self.latest
        } else if (self.negatives == 0 && mean < 0.0) || (self.negatives == self.nobs && mean > 0.0)
        {
            // Rounding never gives a window of one sign a mean of the other.
            0.0
        } else {
            mean
        }
    }

    /// Catches up with `x` (every value up to now) and returns the current average (NaN
    /// during the warm-up).
    pub fn update(&mut self, x: &[f64]) -> f64 {
        while self.seen < x.len() {
            let t = self.seen;
            self.seen += 1;
            self.prev = self.last;
            if t >= self.period {
                self.remove(x[t - self.period]);
            }
            self.add(x[t]);
            self.last = self.mean();
        }
        self.last
    }

    /// The current average.
    pub fn value(&self) -> f64 {
        self.last
    }

    /// The average one value before the current one.
    pub fn previous(&self) -> f64 {
        self.prev
    }
}

/// An EMA with [`super::kernels::ema`]'s seed (the mean of the first `period` values) and
/// smoothing.
#[derive(Debug, Clone, Default)]
pub struct RunningEma {
    period: usize,
    seen: usize,
    sum: f64,
    value: f64,
}

impl RunningEma {
    /// An EMA of `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        RunningEma {
            period: period.max(1),
            value: f64::NAN,
            ..RunningEma::default()
        }
    }

    /// Catches up with `x` (every value up to now) and returns the current average.
    pub fn update(&mut self, x: &[f64]) -> f64 {
        let k = 2.0 / (self.period as f64 + 1.0);
        for &v in &x[self.seen..] {
            if self.seen < self.period {
                self.sum += v;
                if self.seen + 1 == self.period {
                    self.value = self.sum / self.period as f64;
                }
            } else {
                self.value = self.value * (1.0 - k) + v * k;
            }
            self.seen += 1;
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::kernels::{ema, sma};

    #[test]
    fn the_running_average_is_the_window_mean_and_keeps_pandas_edge_rules() {
        let x: Vec<f64> = (0..500)
            .map(|i| 100.0 + (i as f64 * 0.37).sin() * 7.3)
            .collect();
        let want = sma(&x, 20);
        let mut r = RunningSma::new(20);
        for t in 0..x.len() {
            let got = r.update(&x[..=t]);
            if t < 19 {
                assert!(got.is_nan(), "{t}");
            } else {
                // TA-Lib's running sum and pandas' compensated one agree but for rounding.
                assert!((got - want[t]).abs() < 1e-12, "{t}: {got} vs {}", want[t]);
            }
        }
        // A window of equal values gives that value exactly (0.1 + 0.1 + 0.1 is not 0.3).
        let mut r = RunningSma::new(3);
        assert_eq!(r.update(&[0.7, 0.1, 0.1, 0.1]), 0.1);
        // The current and the previous average, as the crossover reads them.
        let mut r = RunningSma::new(2);
        r.update(&[2.0, 4.0, 8.0]);
        assert_eq!((r.previous(), r.value()), (3.0, 6.0));
        // NaN values are skipped: a window holding one has too few values.
        let mut r = RunningSma::new(2);
        assert!(r.update(&[1.0, f64::NAN, 3.0]).is_nan());
        assert_eq!(r.update(&[1.0, f64::NAN, 3.0, 5.0]), 4.0);
    }

    #[test]
    fn the_running_ema_equals_the_kernel_bit_for_bit() {
        let x: Vec<f64> = (0..300)
            .map(|i| 50.0 + (i as f64 * 0.21).cos() * 4.0)
            .collect();
        let want = ema(&x, 20);
        let mut r = RunningEma::new(20);
        for t in 0..x.len() {
            let got = r.update(&x[..=t]);
            assert_eq!(got.to_bits(), want[t].to_bits(), "{t}");
        }
    }
}

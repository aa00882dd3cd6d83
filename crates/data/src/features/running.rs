//! Running forms of the kernels: fed one close a bar, they give the same values, bit for bit,
//! as the kernel over the whole column. Strategies use them, so a backtest stays linear in
//! the number of bars and sees exactly the feature values a model sees.

/// A simple moving average with the same running sum as [`super::kernels::sma`].
#[derive(Debug, Clone, Default)]
pub struct RunningSma {
    period: usize,
    total: f64,
    seen: usize,
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

    /// Catches up with `x` (every value up to now) and returns the current average (NaN
    /// during the warm-up).
    pub fn update(&mut self, x: &[f64]) -> f64 {
        while self.seen < x.len() {
            let t = self.seen;
            self.seen += 1;
            self.prev = self.last;
            self.total += x[t];
            if t + 1 >= self.period {
                self.last = self.total / self.period as f64;
                self.total -= x[t + 1 - self.period];
            }
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
    fn the_running_average_equals_the_kernel_bit_for_bit() {
        let x: Vec<f64> = (0..500)
            .map(|i| 100.0 + (i as f64 * 0.37).sin() * 7.3)
            .collect();
        let want = sma(&x, 20);
        let mut r = RunningSma::new(20);
        for t in 0..x.len() {
            r.update(&x[..=t]);
            assert_eq!(r.value().to_bits(), want[t].to_bits(), "{t}");
        }
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

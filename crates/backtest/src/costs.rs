//! Commission and slippage models, from `backtest.costs`.

use crate::settings::{CommissionModel, CostsConfig, SlippageModel};

/// Transaction costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    cfg: CostsConfig,
}

impl Costs {
    /// Costs as configured.
    pub fn new(cfg: &CostsConfig) -> Costs {
        Costs { cfg: cfg.clone() }
    }

    /// Commission of trading `size` shares at `price`.
    pub fn commission(&self, size: f64, price: f64) -> f64 {
        let c = &self.cfg;
        match c.commission_model {
            CommissionModel::Percent => size.abs() * price * c.commission_rate,
            CommissionModel::PerShare => {
                (size.abs() * c.commission_per_share).max(c.commission_minimum)
            }
            CommissionModel::Fixed => c.commission_fixed,
        }
    }

    /// The price after slippage against the trader: higher for buys, lower for sells.
    /// `daily_vol` is the recent standard deviation of daily returns (known before the bar).
    pub fn slipped(&self, size: f64, price: f64, daily_vol: f64) -> f64 {
        let frac = match self.cfg.slippage_model {
            SlippageModel::None => 0.0,
            SlippageModel::FixedBps => self.cfg.slippage_bps / 10_000.0,
            SlippageModel::VolatilityScaled => {
                if daily_vol.is_finite() {
                    self.cfg.slippage_volatility_fraction * daily_vol
                } else {
                    0.0
                }
            }
        };
        price * (1.0 + frac.copysign(size))
    }

    /// The most shares one order may take from a bar of `volume`.
    pub fn volume_cap(&self, volume: f64) -> f64 {
        if self.cfg.max_volume_fraction >= 1.0 || volume.is_nan() || volume <= 0.0 {
            f64::INFINITY
        } else {
            (volume * self.cfg.max_volume_fraction).floor()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_model_charges_as_documented() {
        let mut cfg = CostsConfig {
            commission_rate: 0.001,
            slippage_bps: 10.0,
            ..CostsConfig::default()
        };
        let c = Costs::new(&cfg);
        assert!((c.commission(-100.0, 50.0) - 5.0).abs() < 1e-12);
        assert!((c.slipped(10.0, 100.0, 0.02) - 100.1).abs() < 1e-12);
        assert!((c.slipped(-10.0, 100.0, 0.02) - 99.9).abs() < 1e-12);
        cfg.commission_model = CommissionModel::PerShare;
        cfg.commission_per_share = 0.005;
        cfg.commission_minimum = 1.0;
        let c = Costs::new(&cfg);
        assert_eq!(c.commission(100.0, 50.0), 1.0);
        assert!((c.commission(1000.0, 50.0) - 5.0).abs() < 1e-12);
        cfg.slippage_model = SlippageModel::VolatilityScaled;
        cfg.slippage_volatility_fraction = 0.5;
        assert!((Costs::new(&cfg).slipped(1.0, 100.0, 0.02) - 101.0).abs() < 1e-12);
        assert_eq!(Costs::new(&cfg).volume_cap(10_000.0), 250.0);
        // A bar without a volume (missing or zero: some sources report none) caps nothing, and
        // neither does a fraction of 1.
        assert_eq!(Costs::new(&cfg).volume_cap(0.0), f64::INFINITY);
        assert_eq!(Costs::new(&cfg).volume_cap(f64::NAN), f64::INFINITY);
        cfg.max_volume_fraction = 1.0;
        assert_eq!(Costs::new(&cfg).volume_cap(10_000.0), f64::INFINITY);
    }
}

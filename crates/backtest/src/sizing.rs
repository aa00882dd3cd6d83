//! Position sizing: a strategy's signed strengths become weights of equity by the configured
//! method, shrink with the forecast interval where one is given, and are capped by the
//! account's limits.

use crate::settings::{RiskLimits, SizingConfig, SizingMethod};

use crate::strategy::Forecast;

/// What the sizer knows about one symbol at decision time.
#[derive(Debug, Clone, Copy)]
pub struct Input {
    /// Signed strength in [-1, 1].
    pub strength: f64,
    /// The forecast behind it.
    pub forecast: Option<Forecast>,
    /// Standard deviation of daily returns over the lookback (NaN when too short).
    pub daily_vol: f64,
}

/// Weights (signed fractions of equity) for each symbol.
pub fn weights(inputs: &[Input], cfg: &SizingConfig, periods: f64) -> Vec<f64> {
    let raw: Vec<f64> = match cfg.method {
        SizingMethod::FixedFractional => inputs
            .iter()
            .map(|i| i.strength * cfg.fixed_fraction)
            .collect(),
        SizingMethod::VolatilityScaled => inputs
            .iter()
            .map(|i| {
                let annual = i.daily_vol * periods.sqrt();
                if annual > 0.0 && annual.is_finite() {
                    i.strength * cfg.target_volatility / annual
                } else {
                    0.0
                }
            })
            .collect(),
        SizingMethod::Kelly => inputs
            .iter()
            .map(|i| match i.forecast {
                // Kelly for a normal return: f* = μ / σ², scaled and capped.
                Some(f) if i.daily_vol > 0.0 && i.strength != 0.0 => {
                    let full = f.expected / (i.daily_vol * i.daily_vol);
                    (cfg.kelly_fraction * full).clamp(-cfg.kelly_cap, cfg.kelly_cap)
                        * i.strength.abs()
                }
                // Without a forecast there is no edge to size from: the capped fraction.
                _ => i.strength * cfg.kelly_cap,
            })
            .collect(),
        SizingMethod::RiskParity => {
            let inv: Vec<f64> = inputs
                .iter()
                .map(|i| {
                    if i.daily_vol > 0.0 && i.strength != 0.0 {
                        1.0 / i.daily_vol
                    } else {
                        0.0
                    }
                })
                .collect();
            let total: f64 = inv.iter().sum();
            inputs
                .iter()
                .zip(&inv)
                .map(|(i, w)| {
                    if total > 0.0 {
                        i.strength.signum() * i.strength.abs() * w / total
                    } else {
                        0.0
                    }
                })
                .collect()
        }
    };
    raw.into_iter()
        .zip(inputs)
        .map(|(w, i)| {
            if cfg.shrink_by_interval {
                w * interval_factor(i.forecast)
            } else {
                w
            }
        })
        .collect()
}

/// `|mid| / (|mid| + half width)`: 1 for a point forecast, ½ when the interval's half width
/// equals the forecast, towards 0 as the interval widens (the sign becomes a coin toss).
pub fn interval_factor(f: Option<Forecast>) -> f64 {
    let Some(Forecast {
        lower: Some(lo),
        upper: Some(hi),
        ..
    }) = f
    else {
        return 1.0;
    };
    let (mid, half) = ((lo + hi) / 2.0, (hi - lo).abs() / 2.0);
    if mid == 0.0 && half == 0.0 {
        1.0
    } else {
        mid.abs() / (mid.abs() + half)
    }
}

/// Applies the account limits: each |weight| at most `max_position_fraction`, their sum at
/// most `max_gross_exposure` (scaled down together), and no shorts unless allowed.
pub fn cap(weights: &mut [f64], limits: &RiskLimits, allow_short: bool) {
    for w in weights.iter_mut() {
        if !allow_short && *w < 0.0 {
            *w = 0.0;
        }
        *w = w.clamp(-limits.max_position_fraction, limits.max_position_fraction);
    }
    let gross: f64 = weights.iter().map(|w| w.abs()).sum();
    if gross > limits.max_gross_exposure && gross > 0.0 {
        let k = limits.max_gross_exposure / gross;
        weights.iter_mut().for_each(|w| *w *= k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(strength: f64, vol: f64) -> Input {
        Input {
            strength,
            forecast: None,
            daily_vol: vol,
        }
    }

    #[test]
    fn each_method_sizes_as_documented() {
        let mut cfg = SizingConfig {
            method: SizingMethod::FixedFractional,
            ..SizingConfig::default()
        };
        assert_eq!(weights(&[input(1.0, 0.01)], &cfg, 252.0), vec![0.1]);
        cfg.method = SizingMethod::VolatilityScaled;
        let w = weights(&[input(1.0, 0.02)], &cfg, 252.0)[0];
        assert!((w - 0.15 / (0.02 * 252f64.sqrt())).abs() < 1e-12);
        cfg.method = SizingMethod::RiskParity;
        let w = weights(&[input(1.0, 0.01), input(1.0, 0.02)], &cfg, 252.0);
        assert!((w[0] - 2.0 / 3.0).abs() < 1e-12 && (w[1] - 1.0 / 3.0).abs() < 1e-12);
        cfg.method = SizingMethod::Kelly;
        let f = Forecast {
            expected: 0.0004,
            lower: None,
            upper: None,
        };
        let w = weights(
            &[Input {
                strength: 1.0,
                forecast: Some(f),
                daily_vol: 0.02,
            }],
            &cfg,
            252.0,
        )[0];
        assert!(
            (w - 0.25).abs() < 1e-12,
            "half Kelly (0.5) capped at 0.25: {w}"
        );
        // Below the cap: half of μ/σ² = 0.125, times |strength|; signs from the forecast.
        let kelly = |expected: f64, strength: f64, daily_vol: f64| {
            let forecast = Some(Forecast {
                expected,
                lower: None,
                upper: None,
            });
            let i = Input {
                strength,
                forecast,
                daily_vol,
            };
            weights(&[i], &cfg, 252.0)[0]
        };
        assert!((kelly(0.0001, 0.5, 0.02) - 0.0625).abs() < 1e-15);
        assert!((kelly(-0.0001, -0.5, 0.02) + 0.0625).abs() < 1e-15);
        // No volatility to size from: the capped fraction with the strength's sign.
        assert_eq!(kelly(0.0001, -0.5, 0.0), -0.125);
        assert_eq!(kelly(0.0001, 0.0, 0.02), 0.0);
        // No forecast: the capped fraction.
        assert_eq!(weights(&[input(-0.5, 0.02)], &cfg, 252.0), vec![-0.125]);
        // Volatility sizing without a usable volatility sizes nothing.
        cfg.method = SizingMethod::VolatilityScaled;
        assert_eq!(weights(&[input(1.0, 0.0)], &cfg, 252.0), vec![0.0]);
        assert_eq!(weights(&[input(1.0, f64::NAN)], &cfg, 252.0), vec![0.0]);
        // Risk parity: a flat symbol and one without volatility take no share of the budget;
        // a short keeps its sign and its strength; nothing to hold sizes nothing.
        cfg.method = SizingMethod::RiskParity;
        let w = weights(
            &[
                input(-0.5, 0.01),
                input(0.0, 0.02),
                input(1.0, 0.0),
                input(1.0, 0.03),
            ],
            &cfg,
            252.0,
        );
        let (a, b) = (1.0 / 0.01, 1.0 / 0.03);
        assert!((w[0] + 0.5 * a / (a + b)).abs() < 1e-15, "{w:?}");
        assert_eq!((w[1], w[2]), (0.0, 0.0));
        assert!((w[3] - b / (a + b)).abs() < 1e-15, "{w:?}");
        assert_eq!(
            weights(&[input(0.0, 0.01), input(0.0, 0.02)], &cfg, 252.0),
            vec![0.0, 0.0]
        );
        // The interval shrinks the weight (by ½ when the half width equals the forecast).
        cfg.method = SizingMethod::FixedFractional;
        cfg.shrink_by_interval = true;
        let wide = Input {
            strength: 1.0,
            forecast: Some(Forecast {
                expected: 0.01,
                lower: Some(0.0),
                upper: Some(0.02),
            }),
            daily_vol: 0.02,
        };
        assert_eq!(weights(&[wide], &cfg, 252.0), vec![0.05]);
        cfg.shrink_by_interval = false;
        assert_eq!(weights(&[wide], &cfg, 252.0), vec![0.1]);
    }

    #[test]
    fn wide_intervals_shrink_positions() {
        let point = Forecast {
            expected: 0.01,
            lower: Some(0.01),
            upper: Some(0.01),
        };
        let wide = Forecast {
            expected: 0.01,
            lower: Some(0.0),
            upper: Some(0.02),
        };
        let wider = Forecast {
            expected: 0.01,
            lower: Some(-0.03),
            upper: Some(0.05),
        };
        assert_eq!(interval_factor(Some(point)), 1.0);
        assert_eq!(interval_factor(Some(wide)), 0.5);
        // A forecast of exactly nothing with no spread keeps the weight; an interval centred
        // on zero is a coin toss and sizes nothing.
        let nothing = Forecast {
            expected: 0.0,
            lower: Some(0.0),
            upper: Some(0.0),
        };
        let centred = Forecast {
            expected: 0.0,
            lower: Some(-0.01),
            upper: Some(0.01),
        };
        assert_eq!(interval_factor(Some(nothing)), 1.0);
        assert_eq!(interval_factor(Some(centred)), 0.0);
        assert!(interval_factor(Some(wider)) < 0.5);
    }

    #[test]
    fn limits_cap_each_position_and_the_total() {
        let limits = RiskLimits {
            max_position_fraction: 0.5,
            max_gross_exposure: 0.8,
            ..RiskLimits::default()
        };
        // The short goes, the first is capped at 0.5, and then the total (0.8) is within the
        // limit: without the per-position cap the total rule alone would give [0.6, 0.2, 0].
        let mut w = vec![0.9, 0.3, -0.2];
        cap(&mut w, &limits, false);
        assert_eq!(w, vec![0.5, 0.3, 0.0]);
        // Shorts allowed: capped at -0.5 too, then all scaled to a total of 0.8.
        let mut w = vec![0.9, 0.3, -0.7];
        cap(&mut w, &limits, true);
        let k = 0.8 / 1.3;
        assert_eq!(w, vec![0.5 * k, 0.3 * k, -0.5 * k]);
        // Within both limits: untouched.
        let mut w = vec![0.2, 0.1];
        cap(&mut w, &limits, false);
        assert_eq!(w, vec![0.2, 0.1]);
    }
}

//! Features computed over whole columns, named by a public contract:
//!
//! | feature | columns |
//! |---|---|
//! | SMA, EMA, RSI, momentum, rate of change, ATR | `sma_20`, `ema_12`, `rsi_14`, `mom_10`, `roc_10`, `atr_14` |
//! | MACD | `macd`, `macd_signal`, `macd_hist` |
//! | Bollinger bands | `bb_upper`, `bb_middle`, `bb_lower`, `bb_pct_b`, `bb_width` |
//! | on-balance volume | `obv` |
//! | volatility of daily log returns | `volatility_20` (daily), `volatility_ann_20` (× √periods a year) |
//! | log returns | `log_return_1`, `log_return_5`, … |
//! | calendar | `day_of_week` (0 = Monday), `month`, `quarter`, `days_to_holiday`, `days_from_holiday`, `earnings_season` (0/1) |
//!
//! Warm-up rows are NaN exactly where TA-Lib has NaN. Every value at row `t` uses bars up to
//! `t` only. `bb_pct_b = (close − lower) / (upper − lower)`,
//! `bb_width = (upper − lower) / middle`.

pub mod kernels;
pub mod running;

use crate::settings::FeatureSpec;
use chrono::Datelike;

use crate::bars::BarSeries;
use crate::calendar;
use crate::error::DataError;
use crate::io::Table;

/// Computes the features `spec` asks for over `bars`.
///
/// # Errors
/// [`DataError::Unusable`] when the bars are unsorted, duplicated or hold bad prices (see
/// [`BarSeries::check_usable`]).
pub fn compute(bars: &BarSeries, spec: &FeatureSpec) -> Result<Table, DataError> {
    bars.check_usable()?;
    let c = &bars.close;
    let mut cols: Vec<(String, Vec<f64>)> = Vec::new();
    for &p in &spec.sma {
        cols.push((format!("sma_{p}"), kernels::sma(c, p)));
    }
    for &p in &spec.ema {
        cols.push((format!("ema_{p}"), kernels::ema(c, p)));
    }
    for &p in &spec.rsi {
        cols.push((format!("rsi_{p}"), kernels::rsi(c, p)));
    }
    if let Some(m) = &spec.macd {
        let [line, signal, hist] = kernels::macd(c, m.fast, m.slow, m.signal);
        cols.push(("macd".into(), line));
        cols.push(("macd_signal".into(), signal));
        cols.push(("macd_hist".into(), hist));
    }
    if let Some(b) = &spec.bollinger {
        let [up, mid, low] = kernels::bollinger(c, b.period, b.std_dev);
        let pct_b = (0..c.len())
            .map(|i| (c[i] - low[i]) / (up[i] - low[i]))
            .collect();
        let width = (0..c.len()).map(|i| (up[i] - low[i]) / mid[i]).collect();
        cols.push(("bb_upper".into(), up));
        cols.push(("bb_middle".into(), mid));
        cols.push(("bb_lower".into(), low));
        cols.push(("bb_pct_b".into(), pct_b));
        cols.push(("bb_width".into(), width));
    }
    for &p in &spec.momentum {
        cols.push((format!("mom_{p}"), kernels::momentum(c, p)));
    }
    for &p in &spec.roc {
        cols.push((format!("roc_{p}"), kernels::roc(c, p)));
    }
    for &p in &spec.atr {
        cols.push((
            format!("atr_{p}"),
            kernels::atr(&bars.high, &bars.low, c, p),
        ));
    }
    if spec.obv {
        cols.push(("obv".into(), kernels::obv(c, &bars.volume)));
    }
    if !spec.volatility.is_empty() {
        let r1 = kernels::log_return(c, 1);
        let annual = f64::from(spec.periods_per_year).sqrt();
        for &w in &spec.volatility {
            let daily = kernels::rolling_std(&r1, w);
            let ann = daily.iter().map(|v| v * annual).collect();
            cols.push((format!("volatility_{w}"), daily));
            cols.push((format!("volatility_ann_{w}"), ann));
        }
    }
    for &h in &spec.log_returns {
        cols.push((format!("log_return_{h}"), kernels::log_return(c, h)));
    }
    calendar_columns(bars, spec, &mut cols);
    Ok(Table {
        time: bars.time.clone(),
        columns: cols,
        labels: Vec::new(),
    })
}

fn calendar_columns(bars: &BarSeries, spec: &FeatureSpec, cols: &mut Vec<(String, Vec<f64>)>) {
    let cal = &spec.calendar;
    let dates: Vec<_> = bars.time.iter().map(|t| t.date()).collect();
    let col = |f: &dyn Fn(chrono::NaiveDate) -> f64| dates.iter().map(|d| f(*d)).collect();
    if cal.day_of_week {
        cols.push((
            "day_of_week".into(),
            col(&|d| f64::from(d.weekday().num_days_from_monday())),
        ));
    }
    if cal.month {
        cols.push(("month".into(), col(&|d| f64::from(d.month()))));
    }
    if cal.quarter {
        cols.push((
            "quarter".into(),
            col(&|d| f64::from((d.month() - 1) / 3 + 1)),
        ));
    }
    if cal.holidays {
        let dist = calendar::holiday_distances(&dates);
        cols.push((
            "days_to_holiday".into(),
            dist.iter().map(|d| d.0 as f64).collect(),
        ));
        cols.push((
            "days_from_holiday".into(),
            dist.iter().map(|d| d.1 as f64).collect(),
        ));
    }
    if cal.earnings_season {
        let flag = |d| f64::from(u8::from(calendar::in_earnings_season(d)));
        cols.push(("earnings_season".into(), col(&flag)));
    }
}

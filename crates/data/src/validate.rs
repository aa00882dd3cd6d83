//! Data-quality checks producing a report with a severity per finding: ordering, duplicates,
//! price consistency, missing trading days (NYSE calendar), return outliers (z-score and IQR),
//! freshness and suspected unadjusted splits.

use crate::settings::{QualityConfig, Severity, ValidationConfig};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use qts_core::stats::{self, quantile_sorted as quantile};
use serde::Serialize;

use crate::bars::BarSeries;
use crate::calendar;

/// Rows or dates listed in a finding's message before "and N more".
const SHOWN: usize = 5;

qts_core::text_enum! {
    /// A data-quality check.
    Check {
        /// Timestamps out of order.
        Order => "order",
        /// Repeated timestamps.
        Duplicates => "duplicates",
        /// OHLC that contradict each other, non-positive prices or volume.
        PriceConsistency => "price_consistency",
        /// NYSE trading days without a bar.
        MissingDays => "missing_days",
        /// Bars on days the NYSE was closed.
        NonTradingDays => "non_trading_days",
        /// Returns beyond the z-score threshold.
        OutliersZscore => "outliers_zscore",
        /// Returns beyond the IQR fences.
        OutliersIqr => "outliers_iqr",
        /// The last bar is too old.
        Freshness => "freshness",
        /// Jumps that look like unadjusted splits.
        Splits => "splits",
        /// A file of closes only: each bar's open, high and low are its close.
        CloseOnly => "close_only",
    }
}

/// One thing found wrong (or worth knowing) about a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The check.
    pub check: Check,
    /// How serious it is.
    pub severity: Severity,
    /// What was found, for people.
    pub message: String,
    /// How many rows or days it concerns.
    pub count: usize,
    /// Source rows concerned (1-based file lines), the first few.
    pub rows: Vec<usize>,
    /// Every source row concerned (the report's chart marks them).
    #[serde(skip)]
    pub all_rows: Vec<usize>,
    /// Every day concerned that has no row (missing trading days).
    #[serde(skip)]
    pub days: Vec<NaiveDate>,
}

/// The result of validating one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Symbol or file.
    pub source: String,
    /// Number of bars read.
    pub bars: usize,
    /// First timestamp.
    pub first: Option<NaiveDateTime>,
    /// Last timestamp.
    pub last: Option<NaiveDateTime>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
}

/// Findings by severity, as carried on every result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Informational findings.
    pub infos: usize,
}

impl Report {
    /// Counts of findings by severity.
    pub fn summary(&self) -> Summary {
        let count = |s| self.findings.iter().filter(|f| f.severity == s).count();
        Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
        }
    }

    /// The most severe finding's severity, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Validates `bars` as of `today` (for freshness) with the configured thresholds and checks.
pub fn validate(
    bars: &BarSeries,
    limits: &ValidationConfig,
    checks: &QualityConfig,
    today: NaiveDate,
) -> Report {
    let mut f = Vec::new();
    order_and_duplicates(bars, checks, &mut f);
    if checks.price_consistency {
        price_consistency(bars, &mut f);
    }
    let daily = bars.is_daily();
    if checks.missing_days && daily {
        missing_days(bars, limits.missing_data_threshold, &mut f);
    }
    if checks.outliers {
        outliers(bars, limits, &mut f);
    }
    if checks.freshness
        && daily
        && let Some(last) = bars.time.last()
    {
        freshness(last.date(), today, limits.max_staleness_days, &mut f);
    }
    if checks.splits {
        splits(bars, limits.split_tolerance, &mut f);
    }
    close_only(bars, &mut f);
    f.sort_by_key(|x| std::cmp::Reverse(x.severity));
    Report {
        source: bars.symbol.clone(),
        bars: bars.len(),
        first: bars.time.first().copied(),
        last: bars.time.last().copied(),
        findings: f,
    }
}

/// What makes bars acceptable to a run: the thresholds and checks of the configuration, and the
/// severity at which a finding refuses the data (`data.quality.fail_on`).
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Thresholds (`validation` in `base_config.yaml`).
    pub limits: &'a ValidationConfig,
    /// Which checks run and the refusing severity (`data.quality`).
    pub checks: &'a QualityConfig,
}

impl<'a> Policy<'a> {
    /// The policy of a loaded configuration.
    pub fn of(cfg: &'a dyn crate::settings::DataSettings) -> Self {
        Policy {
            limits: cfg.validation(),
            checks: &cfg.data().quality,
        }
    }
}

/// Bars that passed validation and are usable by a computation (sorted, unique timestamps,
/// positive finite prices): later stages take this type instead of checking again.
#[derive(Debug, Clone)]
pub struct CheckedBars {
    bars: BarSeries,
    summary: Summary,
    notes: Vec<String>,
}

impl CheckedBars {
    /// The findings by severity that were tolerated.
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// The tolerated findings a result built on these bars must state ([`result_notes`]).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The bars.
    pub fn into_inner(self) -> BarSeries {
        self.bars
    }
}

impl std::ops::Deref for CheckedBars {
    type Target = BarSeries;

    fn deref(&self) -> &BarSeries {
        &self.bars
    }
}

/// Validates `bars` read from `source` (a path or symbol, named in the error) as `qts data
/// validate` would, as of their last bar (a historical file is not stale for a backtest);
/// a finding at or above the policy's `fail_on` refuses them, and so do bars a computation
/// cannot use.
///
/// # Errors
/// [`crate::DataError::Invalid`] naming the source and the most severe finding, or
/// [`crate::DataError::Unusable`].
pub fn require(
    bars: BarSeries,
    source: &str,
    policy: Policy<'_>,
) -> Result<CheckedBars, crate::DataError> {
    let as_of = bars.time.last().map(|t| t.date()).unwrap_or_default();
    let report = validate(&bars, policy.limits, policy.checks, as_of);
    if report.worst().is_some_and(|w| w >= policy.checks.fail_on) {
        let first = report
            .findings
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_default();
        return Err(crate::DataError::Invalid {
            path: source.to_string(),
            first,
        });
    }
    bars.check_usable()?;
    Ok(CheckedBars {
        summary: report.summary(),
        // Named by symbol, so bars from a file and the same bars from a frame say the same.
        notes: result_notes(&report, &bars.symbol),
        bars,
    })
}

/// The series with duplicate timestamps removed, keeping the last occurrence (providers
/// revise a bar by sending it again), and how many were removed.
pub fn drop_duplicates(bars: &BarSeries) -> (BarSeries, usize) {
    let keep: Vec<usize> = (0..bars.len())
        .filter(|&i| bars.time.get(i + 1) != Some(&bars.time[i]))
        .collect();
    let removed = bars.len() - keep.len();
    if removed == 0 {
        return (bars.clone(), 0);
    }
    let pick = |col: &[f64]| keep.iter().map(|&i| col[i]).collect::<Vec<_>>();
    let out = BarSeries {
        symbol: bars.symbol.clone(),
        time: keep.iter().map(|&i| bars.time[i]).collect(),
        open: pick(&bars.open),
        high: pick(&bars.high),
        low: pick(&bars.low),
        close: pick(&bars.close),
        volume: pick(&bars.volume),
        adj_close: bars.adj_close.as_deref().map(pick),
        source_rows: keep.iter().map(|&i| bars.row(i)).collect(),
        actions: bars.actions.clone(),
    };
    (out, removed)
}

fn finding(check: Check, severity: Severity, message: String, rows: &[usize]) -> Finding {
    Finding {
        check,
        severity,
        message,
        count: rows.len(),
        rows: rows.iter().take(SHOWN).copied().collect(),
        all_rows: rows.to_vec(),
        days: Vec::new(),
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items.iter().take(SHOWN).map(|x| x.to_string()).collect();
    let more = items.len().saturating_sub(SHOWN);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn order_and_duplicates(bars: &BarSeries, checks: &QualityConfig, f: &mut Vec<Finding>) {
    let (mut back, mut dup) = (Vec::new(), Vec::new());
    for i in 1..bars.len() {
        if bars.time[i] < bars.time[i - 1] {
            back.push(bars.row(i));
        } else if bars.time[i] == bars.time[i - 1] {
            dup.push(bars.row(i));
        }
    }
    if !back.is_empty() {
        let msg = format!(
            "{} timestamps go backwards (rows {}); sort the file by date",
            back.len(),
            list(&back)
        );
        f.push(finding(Check::Order, Severity::Error, msg, &back));
    }
    if checks.duplicates && !dup.is_empty() {
        let msg = format!(
            "{} duplicate timestamps (rows {}); the last of each is kept when the data is used",
            dup.len(),
            list(&dup)
        );
        f.push(finding(Check::Duplicates, Severity::Warning, msg, &dup));
    }
}

fn price_consistency(bars: &BarSeries, f: &mut Vec<Finding>) {
    let (mut bad_price, mut inconsistent, mut bad_volume, mut zero_volume, mut huge) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..bars.len() {
        let (o, h, l, c, v) = (
            bars.open[i],
            bars.high[i],
            bars.low[i],
            bars.close[i],
            bars.volume[i],
        );
        if [o, h, l, c].iter().any(|p| !p.is_finite() || *p <= 0.0) {
            bad_price.push(bars.row(i));
        } else if [o, h, l, c, v].iter().any(|x| *x > crate::bars::MAX_VALUE) {
            huge.push(bars.row(i));
        } else if l > o.min(c) || h < o.max(c) || l > h {
            inconsistent.push(bars.row(i));
        }
        if !v.is_finite() || v < 0.0 {
            bad_volume.push(bars.row(i));
        } else if v == 0.0 {
            zero_volume.push(bars.row(i));
        }
    }
    // A file of closes without volumes: its volume is unknown, not zero, and `close_only`
    // says so once instead of a warning on every bar.
    if zero_volume.len() == bars.len() && is_close_only(bars) {
        zero_volume.clear();
    }
    let groups = [
        (
            bad_price,
            Severity::Error,
            "missing, zero or negative prices",
        ),
        (
            inconsistent,
            Severity::Error,
            "bars where low > min(open, close) or high < max(open, close)",
        ),
        (bad_volume, Severity::Error, "missing or negative volumes"),
        (
            huge,
            Severity::Error,
            "prices or volumes above 1e100, where the features' sums and squares overflow",
        ),
        (zero_volume, Severity::Warning, "bars with zero volume"),
    ];
    for (rows, severity, what) in groups {
        if !rows.is_empty() {
            let msg = format!("{} {what} (rows {})", rows.len(), list(&rows));
            f.push(finding(Check::PriceConsistency, severity, msg, &rows));
        }
    }
}

fn missing_days(bars: &BarSeries, threshold: f64, f: &mut Vec<Finding>) {
    let mut dates: Vec<NaiveDate> = bars.time.iter().map(|t| t.date()).collect();
    dates.sort_unstable();
    dates.dedup();
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return;
    };
    let expected = calendar::trading_days(first, last);
    let sessions = calendar::Sessions::new(first.year(), last.year());
    let missing: Vec<NaiveDate> = expected
        .iter()
        .filter(|d| dates.binary_search(d).is_err())
        .copied()
        .collect();
    let closed: Vec<usize> = bars
        .time
        .iter()
        .enumerate()
        .filter(|(_, t)| !sessions.is_trading_day(t.date()))
        .map(|(i, _)| bars.row(i))
        .collect();
    if !missing.is_empty() {
        let share = missing.len() as f64 / expected.len().max(1) as f64;
        let severity = if share > threshold {
            Severity::Error
        } else {
            Severity::Warning
        };
        let msg = format!(
            "{} of {} NYSE trading days have no bar ({:.2}%, limit {:.2}%): {}",
            missing.len(),
            expected.len(),
            share * 100.0,
            threshold * 100.0,
            list(&missing)
        );
        f.push(Finding {
            check: Check::MissingDays,
            severity,
            message: msg,
            count: missing.len(),
            rows: Vec::new(),
            all_rows: Vec::new(),
            days: missing.clone(),
        });
    }
    if !closed.is_empty() {
        let msg = format!(
            "{} bars fall on weekends or NYSE holidays (rows {})",
            closed.len(),
            list(&closed)
        );
        f.push(finding(
            Check::NonTradingDays,
            Severity::Warning,
            msg,
            &closed,
        ));
    }
}

/// The holding's daily returns: a split or dividend among the bars' actions is not a move of
/// the holding's value.
fn returns(bars: &BarSeries) -> Vec<(usize, f64)> {
    let per_bar = crate::actions::PerBar::of(bars);
    (1..bars.len())
        .map(|i| {
            let (r, d) = per_bar
                .as_ref()
                .map_or((1.0, 0.0), |p| (p.split[i], p.dividend[i]));
            (
                i,
                crate::actions::holding_return(bars.close[i - 1], bars.close[i], r, d),
            )
        })
        .filter(|(_, r)| r.is_finite())
        .collect()
}

fn outliers(bars: &BarSeries, limits: &ValidationConfig, f: &mut Vec<Finding>) {
    let r = returns(bars);
    if r.len() < 3 {
        return;
    }
    let values: Vec<f64> = r.iter().map(|x| x.1).collect();
    let (mean, std) = (stats::mean(&values), stats::std(&values, 1));
    let describe = |rows: &[(usize, f64)]| {
        let shown: Vec<String> = rows
            .iter()
            .map(|&(i, x)| format!("{} {:+.1}%", bars.time[i].date(), x * 100.0))
            .collect();
        list(&shown)
    };
    if std > 0.0 {
        let z = limits.outlier_zscore;
        let hits: Vec<(usize, f64)> = r
            .iter()
            .copied()
            .filter(|x| ((x.1 - mean) / std).abs() > z)
            .collect();
        if !hits.is_empty() {
            let rows: Vec<usize> = hits.iter().map(|h| bars.row(h.0)).collect();
            let msg = format!(
                "{} daily returns beyond {z} standard deviations: {}",
                hits.len(),
                describe(&hits)
            );
            f.push(finding(
                Check::OutliersZscore,
                Severity::Warning,
                msg,
                &rows,
            ));
        }
    }
    let mut sorted: Vec<f64> = r.iter().map(|x| x.1).collect();
    sorted.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile(&sorted, 0.25), quantile(&sorted, 0.75));
    let k = limits.outlier_iqr_multiplier;
    let (lo, hi) = (q1 - k * (q3 - q1), q3 + k * (q3 - q1));
    let hits: Vec<(usize, f64)> = r.iter().copied().filter(|x| x.1 < lo || x.1 > hi).collect();
    if !hits.is_empty() {
        let rows: Vec<usize> = hits.iter().map(|h| bars.row(h.0)).collect();
        let msg = format!(
            "{} daily returns outside [Q1 - {k} IQR, Q3 + {k} IQR] = [{:+.2}%, {:+.2}%]: {}",
            hits.len(),
            lo * 100.0,
            hi * 100.0,
            describe(&hits)
        );
        f.push(finding(Check::OutliersIqr, Severity::Warning, msg, &rows));
    }
}

fn freshness(last: NaiveDate, today: NaiveDate, max_age: u32, f: &mut Vec<Finding>) {
    if today <= last {
        return;
    }
    let age = calendar::trading_days(last, today).len().saturating_sub(1);
    if age > max_age as usize {
        let msg = format!(
            "the last bar ({last}) is {age} trading days old as of {today} (limit {max_age})"
        );
        f.push(Finding {
            check: Check::Freshness,
            severity: Severity::Warning,
            message: msg,
            count: age,
            rows: Vec::new(),
            all_rows: Vec::new(),
            days: Vec::new(),
        });
    }
}

/// Common split ratios (new shares per old share); reverse splits are their reciprocals.
const SPLIT_RATIOS: [(f64, &str); 9] = [
    (1.5, "3:2"),
    (2.0, "2:1"),
    (3.0, "3:1"),
    (4.0, "4:1"),
    (5.0, "5:1"),
    (7.0, "7:1"),
    (8.0, "8:1"),
    (10.0, "10:1"),
    (20.0, "20:1"),
];

fn splits(bars: &BarSeries, tolerance: f64, f: &mut Vec<Finding>) {
    // The split actions the bars still carry (raw prices): a jump one of them explains is
    // that split, not a suspicion; one with no jump is an action list and prices that
    // disagree.
    let split_at: Vec<f64> = crate::actions::PerBar::of(bars)
        .map(|p| p.split)
        .unwrap_or_default();
    let (mut explained, mut explained_rows) = (Vec::new(), Vec::new());
    let (mut unmatched, mut unmatched_rows) = (Vec::new(), Vec::new());
    // With an adjusted close the prices to judge are the adjusted ones.
    let series = bars.adjusted();
    let mut hits = Vec::new();
    let mut rows = Vec::new();
    for i in 1..series.len() {
        let jump = series.close[i - 1] / series.open[i];
        let action = split_at.get(i).copied().unwrap_or(1.0);
        if action != 1.0 && bars.adj_close.is_none() {
            if jump.is_finite() && (jump / action - 1.0).abs() <= tolerance {
                explained.push(format!(
                    "{} ({})",
                    series.time[i].date(),
                    ratio_name(action)
                ));
                explained_rows.push(series.row(i));
            } else {
                unmatched_rows.push(series.row(i));
                unmatched.push(format!(
                    "{} ({}, overnight move ×{:.3})",
                    series.time[i].date(),
                    ratio_name(action),
                    1.0 / jump
                ));
            }
            continue;
        }
        if !jump.is_finite() || jump <= 0.0 {
            continue;
        }
        for (ratio, name) in SPLIT_RATIOS {
            let label = if jump >= 1.0 {
                (jump / ratio - 1.0).abs() <= tolerance
            } else {
                (jump * ratio - 1.0).abs() <= tolerance
            };
            if label {
                let kind = if jump >= 1.0 {
                    name.to_string()
                } else {
                    format!("reverse {name}")
                };
                hits.push(format!("{} ({kind})", series.time[i].date()));
                rows.push(series.row(i));
                break;
            }
        }
    }
    if !hits.is_empty() {
        let given = split_at.iter().filter(|r| **r != 1.0).count();
        let msg = format!(
            "{} overnight moves match a split ratio and no split action explains them (checked against {}); the prices may be unadjusted: {}",
            hits.len(),
            if given == 0 {
                "no split action: the bars carry none — give them as a `split` column, with --events FILE, or fetch from a provider with events".to_string()
            } else {
                format!(
                    "the {given} split actions the bars carry, from their file, --events or their provider"
                )
            },
            list(&hits)
        );
        f.push(finding(Check::Splits, Severity::Warning, msg, &rows));
    }
    if !explained.is_empty() {
        let msg = format!(
            "{} overnight moves are the split actions on their dates (applied to positions at the open): {}",
            explained.len(),
            list(&explained)
        );
        f.push(finding(Check::Splits, Severity::Info, msg, &explained_rows));
    }
    if !unmatched.is_empty() {
        let msg = format!(
            "{} split actions have no matching overnight move — the actions and the prices disagree: {}",
            unmatched.len(),
            list(&unmatched)
        );
        f.push(finding(
            Check::Splits,
            Severity::Warning,
            msg,
            &unmatched_rows,
        ));
    }
}

/// A split ratio as people write it: `4:1`, `3:2`, `1:10` (reverse).
fn ratio_name(ratio: f64) -> String {
    for (new, old) in [(1.0, 1.0), (3.0, 2.0), (5.0, 4.0), (4.0, 3.0)] {
        let r = ratio * old / new;
        if (r - r.round()).abs() < 1e-9 && r.round() >= 1.0 {
            return format!("{}:{}", r.round() * new, old);
        }
    }
    let inverse = 1.0 / ratio;
    if (inverse - inverse.round()).abs() < 1e-9 {
        return format!("1:{}", inverse.round());
    }
    format!("×{ratio}")
}

/// Every bar's open, high and low equal to its close: a series of closes (a close-only file,
/// or a provider's daily closes). Worth saying, as fills and stops then see closes only.
fn is_close_only(bars: &BarSeries) -> bool {
    bars.len() >= 2
        && (0..bars.len()).all(|i| {
            let c = bars.close[i];
            bars.open[i] == c && bars.high[i] == c && bars.low[i] == c
        })
}

fn close_only(bars: &BarSeries, f: &mut Vec<Finding>) {
    if is_close_only(bars) {
        let mut msg = "closes only: every bar's open, high and low are its close, so an order decided at a close fills at the next close and stops see closes only".to_string();
        if bars.volume.iter().all(|v| *v == 0.0) {
            msg.push_str("; no volumes (read as 0: fills are not capped by volume)");
        }
        f.push(Finding {
            check: Check::CloseOnly,
            severity: Severity::Info,
            message: msg,
            count: bars.len(),
            rows: Vec::new(),
            all_rows: Vec::new(),
            days: Vec::new(),
        });
    }
}

/// What a result should carry of a validation report: the findings that change how its numbers
/// read (missing trading days the result trades across, outliers, suspected splits, closes
/// only), each prefixed with `source` (a symbol or a file).
pub fn result_notes(report: &Report, source: &str) -> Vec<String> {
    report
        .findings
        .iter()
        .filter_map(|f| {
            let across = match f.check {
                Check::MissingDays => {
                    " — positions are held across these days: no bar, no trade, the move over the gap lands on the next bar"
                }
                Check::Splits => " — a split left in the prices is a loss or gain no one had",
                Check::OutliersZscore | Check::OutliersIqr | Check::CloseOnly => "",
                _ => return None,
            };
            (f.severity >= Severity::Warning || f.check == Check::CloseOnly).then(|| {
                format!("{source}: data validation, {}: {}{across}", f.check, f.message)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 7, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn series(days: &[u32], close: &[f64]) -> BarSeries {
        BarSeries {
            symbol: "T".into(),
            time: days.iter().map(|&d| day(d)).collect(),
            open: close.to_vec(),
            high: close.iter().map(|c| c * 1.01).collect(),
            low: close.iter().map(|c| c * 0.99).collect(),
            close: close.to_vec(),
            volume: vec![1000.0; close.len()],
            adj_close: None,
            source_rows: (2..2 + close.len()).collect(),
            actions: Vec::new(),
        }
    }

    fn run(b: &BarSeries) -> Report {
        let today = NaiveDate::from_ymd_opt(2024, 7, 12).unwrap();
        validate(
            b,
            &ValidationConfig::default(),
            &QualityConfig::default(),
            today,
        )
    }

    #[test]
    fn closes_only_are_said_once_and_carried_into_results() {
        let close = [10.0, 10.1, 10.0, 10.2, 10.1, 10.3, 10.2, 10.4, 10.3];
        let mut b = series(&[1, 2, 3, 5, 8, 9, 10, 11, 12], &close);
        b.high = close.to_vec();
        b.low = close.to_vec();
        b.volume = vec![0.0; close.len()];
        let r = run(&b);
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings[0].check, Check::CloseOnly);
        assert!(r.findings[0].message.contains("no volumes"));
        let notes = result_notes(&r, "c.csv");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("c.csv: data validation, close_only: closes only"));
        // One bar with a real range: not closes only.
        b.high[3] = 10.5;
        assert!(run(&b).findings.iter().all(|f| f.check != Check::CloseOnly));
    }

    #[test]
    fn clean_data_has_no_findings() {
        // 2024-07-04 is Independence Day: not missing.
        let b = series(
            &[1, 2, 3, 5, 8, 9, 10, 11, 12],
            &[10.0, 10.1, 10.0, 10.2, 10.1, 10.3, 10.2, 10.4, 10.3],
        );
        assert_eq!(run(&b).findings, vec![]);
    }

    #[test]
    fn each_problem_is_found_with_its_rows() {
        let mut b = series(&[1, 2, 2, 5, 3, 8], &[10.0, 10.1, 10.1, -1.0, 10.2, 10.0]);
        b.high[5] = 9.0;
        b.volume[0] = 0.0;
        let r = run(&b);
        let get = |check| {
            r.findings
                .iter()
                .find(|f| f.check == check)
                .unwrap_or_else(|| panic!("{check}: {r:#?}"))
        };
        assert_eq!(get("order").rows, vec![6]);
        assert_eq!(get("order").severity, Severity::Error);
        assert_eq!(get("duplicates").rows, vec![4]);
        let prices: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.check == "price_consistency")
            .collect();
        assert_eq!(
            prices.iter().map(|f| f.rows.clone()).collect::<Vec<_>>(),
            vec![vec![5], vec![7], vec![2]]
        );
        assert_eq!(r.summary().errors, 3);
        assert_eq!(r.worst(), Some(Severity::Error));
    }

    #[test]
    fn missing_days_are_an_error_past_the_threshold() {
        let b = series(&[1, 12], &[10.0, 10.1]);
        let r = run(&b);
        let f = r
            .findings
            .iter()
            .find(|f| f.check == "missing_days")
            .unwrap();
        assert_eq!(f.count, 7);
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("2024-07-02"), "{}", f.message);
    }

    #[test]
    fn splits_and_staleness_are_warnings() {
        let b = series(&[1, 2, 3], &[100.0, 50.2, 50.0]);
        let r = run(&b);
        let s = r.findings.iter().find(|f| f.check == "splits").unwrap();
        assert!(s.message.contains("2024-07-02 (2:1)"), "{}", s.message);
        assert!(
            s.message.contains("checked against no split action")
                && s.message.contains("--events FILE"),
            "the way out is named: {}",
            s.message
        );
        let fresh = r.findings.iter().find(|f| f.check == "freshness").unwrap();
        assert_eq!(fresh.count, 6, "{}", fresh.message);
    }

    #[test]
    fn a_split_action_explains_its_jump_and_one_without_a_jump_is_a_warning() {
        use crate::actions::{ActionKind, CorporateAction};
        let split = |d: u32, value: f64| CorporateAction {
            date: day(d).date(),
            kind: ActionKind::Split,
            value,
        };
        let close = [100.0, 101.0, 100.5, 25.2, 25.0, 25.3, 25.1, 25.4, 25.2];
        let days = [1, 2, 3, 5, 8, 9, 10, 11, 12];
        let mut b = series(&days, &close);
        b.actions = vec![split(5, 4.0)];
        let r = run(&b);
        let found: Vec<_> = r.findings.iter().filter(|f| f.check == "splits").collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Info);
        assert!(
            found[0].message.contains("2024-07-05 (4:1)"),
            "{}",
            found[0].message
        );
        // The holding did not lose 75%: no outlier either.
        assert!(
            r.findings
                .iter()
                .all(|f| !f.check.as_str().starts_with("outliers"))
        );
        // A 3:2 action where the prices moved 4:1: the action and the prices disagree.
        b.actions = vec![split(5, 1.5)];
        let r = run(&b);
        let warned = r
            .findings
            .iter()
            .find(|f| f.check == "splits" && f.severity == Severity::Warning)
            .unwrap();
        assert!(warned.message.contains("disagree") && warned.message.contains("3:2"));
        // No action: the suspicion of before.
        b.actions.clear();
        let r = run(&b);
        assert!(r.findings.iter().any(|f| f.check == "splits"
            && f.severity == Severity::Warning
            && f.message.contains("may be unadjusted")));
    }

    #[test]
    fn duplicates_keep_the_last_bar() {
        let b = series(&[1, 2, 2, 3], &[1.0, 2.0, 3.0, 4.0]);
        let (d, removed) = drop_duplicates(&b);
        assert_eq!(removed, 1);
        assert_eq!(d.close, vec![1.0, 3.0, 4.0]);
        assert_eq!(d.source_rows, vec![2, 4, 5]);
    }
}

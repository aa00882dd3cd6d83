//! Corporate actions — splits and cash dividends — and the price basis they put bars on.
//!
//! An action is dated on its ex-date and valued per share of that date: a dividend is the
//! cash one share receives, a split the new shares one old share becomes (`4` for 4:1, `1.5`
//! for 3:2, `0.1` for a 1:10 reverse split). Bars read on the `raw` basis keep their actions,
//! which the engine then applies as a broker does (positions split at the ex-date's open,
//! dividends paid in cash). The `split` basis back-adjusts the prices before each split and
//! keeps the dividends (rescaled to that basis); `total_return` also folds every dividend
//! into the prices, the way an adjusted close does, so no action is left to apply.
//!
//! The adjustment is written here by hand because it is qts's own domain rule, stated so it
//! can be checked: prices before an ex-date `e` are multiplied by
//! `(1 / r) · (1 − r·D / close[e−1])` (split ratio `r`, dividend `D` per share of the
//! ex-date), Yahoo's and CRSP's adjusted-close factor. A holding's total return on any basis
//! is then `r·close[e] / (close[e−1] − r·D) − 1` on an ex-date: the dividend reinvested at
//! the ex-date's theoretical opening price (the previous close less the dividend).

use chrono::NaiveDate;
use serde::Serialize;

use crate::bars::BarSeries;
use crate::error::DataError;

qts_core::text_enum! {
    /// What a corporate action is.
    ActionKind {
        /// A cash dividend: value = cash per share.
        Dividend => "dividend",
        /// A stock split: value = new shares per old share.
        Split => "split",
    }
}

qts_core::text_enum! {
    /// The price basis bars are read on (`data.adjustment`).
    #[derive(Default)]
    Basis {
        /// Prices as traded; splits and dividends stay events the engine applies.
        Raw => "raw",
        /// Prices before each split scaled to today's shares; dividends stay cash events.
        #[default]
        Split => "split",
        /// Split-adjusted prices with every dividend folded in (an adjusted close).
        TotalReturn => "total_return",
    }
}

impl Basis {
    /// Every basis, in the order of the name table.
    pub const ALL: [Basis; 3] = [Basis::Raw, Basis::Split, Basis::TotalReturn];

    /// The basis of a name.
    ///
    /// # Errors
    /// A message listing the names.
    pub fn parse(name: &str) -> Result<Basis, String> {
        Basis::ALL
            .into_iter()
            .find(|b| b.as_str() == name.trim())
            .ok_or_else(|| format!("`{name}` is not a price basis (raw, split, total_return)"))
    }

    /// What the basis means, for headers and notes.
    pub fn describe(self) -> &'static str {
        match self {
            Basis::Raw => "raw prices (splits and dividends applied as events)",
            Basis::Split => "split-adjusted prices (dividends paid in cash)",
            Basis::TotalReturn => "total-return prices (splits and dividends in the price)",
        }
    }
}

/// Each symbol's actions (upper-cased symbol), as an events file gives them.
pub type Events = std::collections::BTreeMap<String, Vec<CorporateAction>>;

/// One corporate action of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CorporateAction {
    /// The ex-date: the first session the shares trade without the dividend or split.
    pub date: NaiveDate,
    /// Dividend or split.
    pub kind: ActionKind,
    /// Cash per share (dividend) or new shares per old share (split).
    pub value: f64,
}

impl ActionKind {
    /// Whether `value` is one: a dividend finite and > 0, a split ratio finite within
    /// (1e-6, 1e6) and not 1.
    pub fn accepts(self, value: f64) -> bool {
        match self {
            ActionKind::Dividend => value.is_finite() && value > 0.0,
            ActionKind::Split => value.is_finite() && value > 1e-6 && value < 1e6 && value != 1.0,
        }
    }

    /// The bar-file columns of the actions, with their kinds.
    pub const COLUMNS: [(&'static str, ActionKind); 2] = [
        ("dividend", ActionKind::Dividend),
        ("split", ActionKind::Split),
    ];

    /// A cell of this kind's column: `None` for no action (NaN, a dividend of 0, a split of 0
    /// as yfinance writes or of 1 as Alpha Vantage does), else the value once checked.
    ///
    /// # Errors
    /// What the value should have been.
    pub fn cell(self, x: f64) -> Result<Option<f64>, String> {
        if x.is_nan() || x == 0.0 || (self == ActionKind::Split && x == 1.0) {
            Ok(None)
        } else if self.accepts(x) {
            Ok(Some(x))
        } else {
            Err(format!("`{x}` is not {}", self.expected()))
        }
    }

    /// What a value of this kind must be, for errors.
    pub fn expected(self) -> &'static str {
        match self {
            ActionKind::Dividend => "a dividend (cash per share, > 0)",
            ActionKind::Split => "a split ratio (new shares per old share, e.g. 4 for 4:1, not 1)",
        }
    }
}

/// A series' actions per bar: each action on the first bar dated on or after its ex-date
/// (an action after the last bar, or on or before the first, changes nothing the bars hold
/// and is left out). Splits on one bar multiply; dividends add.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PerBar {
    /// New shares per old share at each bar's open (1 where none).
    pub split: Vec<f64>,
    /// Cash per share paid at each bar's open (0 where none).
    pub dividend: Vec<f64>,
}

impl PerBar {
    /// The actions of `bars` laid on its bars; `None` when none lands on a bar.
    pub fn of(bars: &BarSeries) -> Option<PerBar> {
        let (time, actions) = (&bars.time, &bars.actions);
        if actions.is_empty() || time.len() < 2 {
            return None;
        }
        let mut out = PerBar {
            split: vec![1.0; time.len()],
            dividend: vec![0.0; time.len()],
        };
        let mut any = false;
        for a in actions {
            let at = time.partition_point(|t| t.date() < a.date);
            // On the first bar there is no earlier price to adjust nor a position to pay.
            if at == 0 || at >= time.len() {
                continue;
            }
            any = true;
            match a.kind {
                ActionKind::Split => out.split[at] *= a.value,
                ActionKind::Dividend => out.dividend[at] += a.value,
            }
        }
        any.then_some(out)
    }
}

/// The holding's simple return from close `t − 1` to close `t` with the actions at `t`
/// (split ratio `r`, dividend `d` per share of `t`): `r·close[t] / (close[t−1] − r·d) − 1`,
/// the adjusted-close convention (the dividend reinvested at the ex-date's theoretical open).
/// Without actions, `close[t] / close[t−1] − 1`.
pub fn holding_return(prev_close: f64, close: f64, split: f64, dividend: f64) -> f64 {
    split * close / (prev_close - split * dividend) - 1.0
}

/// `bars` on `basis`: prices (and for splits volumes) back-adjusted from its actions, the
/// actions left being those the basis still needs applied (see the module comment). With no
/// actions, `total_return` takes the file's `adj_close` when it has one (the provider's own
/// adjustment), and the bars are otherwise as read.
///
/// # Errors
/// [`DataError::Content`] naming the symbol and date of a dividend at least as large as the
/// close before its ex-date (no adjustment factor exists).
pub fn on_basis(bars: BarSeries, basis: Basis) -> Result<BarSeries, DataError> {
    if basis == Basis::Raw {
        return Ok(bars);
    }
    let Some(per_bar) = PerBar::of(&bars) else {
        return Ok(if basis == Basis::TotalReturn && bars.adj_close.is_some() {
            let mut adjusted = bars.adjusted();
            adjusted.actions.clear();
            adjusted
        } else {
            bars
        });
    };
    let n = bars.len();
    // Factors for each bar, from the actions after it (built backwards).
    let mut price_factor = vec![1.0; n];
    let mut share_factor = vec![1.0; n];
    for t in (0..n - 1).rev() {
        let (r, d) = (per_bar.split[t + 1], per_bar.dividend[t + 1]);
        let prev = bars.close[t];
        let mut f = 1.0 / r;
        if basis == Basis::TotalReturn && d > 0.0 {
            let kept = 1.0 - r * d / prev;
            if !(kept > 0.0 && kept.is_finite()) {
                return Err(DataError::Content {
                    path: bars.symbol.clone(),
                    reason: format!(
                        "a dividend of {d} on {} is not below the close before it ({prev}): no adjustment factor exists",
                        bars.time[t + 1].date()
                    ),
                });
            }
            f *= kept;
        }
        price_factor[t] = price_factor[t + 1] * f;
        share_factor[t] = share_factor[t + 1] * r;
    }
    let scale =
        |col: &[f64]| -> Vec<f64> { col.iter().zip(&price_factor).map(|(x, f)| x * f).collect() };
    let actions = match basis {
        Basis::TotalReturn => Vec::new(),
        // Dividends on the split basis: per share of today's count.
        _ => bars
            .actions
            .iter()
            .filter(|a| a.kind == ActionKind::Dividend)
            .map(|a| {
                let at = bars.time.partition_point(|t| t.date() < a.date);
                let later = share_factor.get(at).copied().unwrap_or(1.0);
                CorporateAction {
                    value: a.value / later,
                    ..*a
                }
            })
            .collect(),
    };
    Ok(BarSeries {
        open: scale(&bars.open),
        high: scale(&bars.high),
        low: scale(&bars.low),
        close: scale(&bars.close),
        volume: bars
            .volume
            .iter()
            .zip(&share_factor)
            .map(|(v, s)| v * s)
            .collect(),
        actions,
        ..bars
    })
}

/// Merges `extra` into `actions` (kept sorted by date, then kind): an action already there
/// with the same date and kind is kept once when the values agree.
///
/// # Errors
/// A message naming the symbol, date and both values when they disagree.
pub fn merge(
    actions: &mut Vec<CorporateAction>,
    extra: &[CorporateAction],
    symbol: &str,
) -> Result<(), String> {
    for e in extra {
        match actions
            .iter()
            .find(|a| a.date == e.date && a.kind == e.kind)
        {
            Some(a) if (a.value - e.value).abs() <= 1e-9 * a.value.abs().max(1.0) => {}
            Some(a) => {
                return Err(format!(
                    "{symbol}: two {}s on {} disagree ({} and {})",
                    e.kind, e.date, a.value, e.value
                ));
            }
            None => actions.push(*e),
        }
    }
    actions.sort_by(|a, b| {
        a.date
            .cmp(&b.date)
            .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
    });
    Ok(())
}

/// Reads an events file — `date,symbol,kind,value` (`kind` `dividend` or `split`) — into
/// each symbol's actions (symbols upper-cased).
///
/// # Errors
/// [`DataError`] naming the file and row of a bad date, kind or value, or a missing column.
pub fn read_events(
    path: &std::path::Path,
    limits: &crate::settings::ReadLimits,
) -> Result<Events, DataError> {
    let bytes = crate::io::limits::read_file(path, limits)?;
    parse_events(path, &bytes)
}

/// [`read_events`] of bytes read from `path` (named in errors).
///
/// # Errors
/// As [`read_events`].
pub fn parse_events(path: &std::path::Path, bytes: &[u8]) -> Result<Events, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| DataError::Read {
            path: path.to_path_buf(),
            source: e.to_string().into(),
        })?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(date), Some(symbol), Some(kind), Some(value)) = (
        column("date"),
        column("symbol"),
        column("kind"),
        column("value"),
    ) else {
        return Err(DataError::MissingColumns {
            path: path.to_path_buf(),
            missing: ["date", "symbol", "kind", "value"]
                .into_iter()
                .filter(|c| column(c).is_none())
                .collect::<Vec<_>>()
                .join(","),
            found: headers.join(","),
        });
    };
    let mut out: Events = Default::default();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| DataError::Read {
            path: path.to_path_buf(),
            source: e.to_string().into(),
        })?;
        // The file's own line (a blank line before it counts), as an editor shows it.
        // (Counted from the record's byte offset, past the blank lines the csv crate folds
        // into the record's start and leaves out of its own line count.)
        let row = record.position().map_or(i + 2, |p| {
            let mut start = usize::try_from(p.byte()).map_or(bytes.len(), |b| b.min(bytes.len()));
            while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
                start += 1;
            }
            1 + bytes[..start].iter().filter(|&&b| b == b'\n').count()
        });
        if record.iter().all(str::is_empty) {
            continue;
        }
        let bad = |column: &str, reason: String| DataError::BadValue {
            path: path.to_path_buf(),
            row,
            column: column.into(),
            reason,
        };
        let cell = |k: usize| record.get(k).unwrap_or("");
        let day = NaiveDate::parse_from_str(cell(date), "%Y-%m-%d")
            .map_err(|_| bad("date", format!("`{}` is not a YYYY-MM-DD date", cell(date))))?;
        let name = cell(symbol).to_ascii_uppercase();
        if name.is_empty() {
            return Err(bad("symbol", "is empty".into()));
        }
        let kind = match cell(kind).to_ascii_lowercase().as_str() {
            "dividend" => ActionKind::Dividend,
            "split" => ActionKind::Split,
            other => {
                return Err(bad(
                    "kind",
                    format!("`{other}` is not an action kind (dividend, split)"),
                ));
            }
        };
        let v: f64 = cell(value)
            .parse()
            .map_err(|_| bad("value", format!("`{}` is not a number", cell(value))))?;
        if !kind.accepts(v) {
            return Err(bad("value", format!("`{v}` is not {}", kind.expected())));
        }
        let action = CorporateAction {
            date: day,
            kind,
            value: v,
        };
        let list = out.entry(name.clone()).or_default();
        merge(list, &[action], &name).map_err(|m| bad("value", m))?;
    }
    Ok(out)
}

/// The actions of the configured events file (`data.events`), by upper-cased symbol; `None`
/// when no file is configured.
///
/// # Errors
/// As [`read_events`].
pub fn configured_events(
    data: &crate::settings::DataSourcesConfig,
) -> Result<Option<Events>, DataError> {
    let path = data.events.trim();
    if path.is_empty() {
        return Ok(None);
    }
    read_events(std::path::Path::new(path), &data.limits).map(Some)
}

/// `bars` as a command reads them: the events file's actions for its symbol merged in, then
/// put on `basis`.
///
/// # Errors
/// [`DataError::Content`] for actions that disagree or a dividend that cannot be adjusted.
pub fn prepare(
    mut bars: BarSeries,
    events: Option<&Events>,
    basis: Basis,
    source: &str,
) -> Result<BarSeries, DataError> {
    if let Some(extra) = events.and_then(|e| e.get(&bars.symbol.to_ascii_uppercase())) {
        let symbol = bars.symbol.clone();
        merge(&mut bars.actions, extra, &symbol).map_err(|reason| DataError::Content {
            path: source.to_string(),
            reason,
        })?;
    }
    on_basis(bars, basis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn day(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn series(close: &[f64], actions: Vec<CorporateAction>) -> BarSeries {
        BarSeries {
            symbol: "X".into(),
            time: (0..close.len()).map(|i| day(i as u32 + 2)).collect(),
            open: close.to_vec(),
            high: close.to_vec(),
            low: close.to_vec(),
            close: close.to_vec(),
            volume: vec![100.0; close.len()],
            actions,
            ..BarSeries::default()
        }
    }

    fn act(d: u32, kind: ActionKind, value: f64) -> CorporateAction {
        CorporateAction {
            date: day(d).date(),
            kind,
            value,
        }
    }

    #[test]
    fn a_split_scales_earlier_prices_and_volumes_and_rescales_later_dividends() {
        // 2:1 on day 4 (bar 2); a dividend of 0.5 on day 3 (bar 1, before the split).
        let bars = series(
            &[100.0, 102.0, 51.0, 52.0],
            vec![
                act(3, ActionKind::Dividend, 0.5),
                act(4, ActionKind::Split, 2.0),
            ],
        );
        let s = on_basis(bars.clone(), Basis::Split).unwrap();
        assert_eq!(s.close, vec![50.0, 51.0, 51.0, 52.0]);
        assert_eq!(s.volume, vec![200.0, 200.0, 100.0, 100.0]);
        assert_eq!(s.actions, vec![act(3, ActionKind::Dividend, 0.25)]);
        let raw = on_basis(bars.clone(), Basis::Raw).unwrap();
        assert_eq!(raw, bars);
    }

    #[test]
    fn total_return_folds_dividends_in_and_matches_the_holding_return() {
        let bars = series(
            &[100.0, 99.0, 49.0, 50.0, 51.0],
            vec![
                act(3, ActionKind::Dividend, 1.0),
                act(4, ActionKind::Split, 2.0),
            ],
        );
        let tr = on_basis(bars.clone(), Basis::TotalReturn).unwrap();
        assert!(tr.actions.is_empty());
        // Bar 0 before both: (1 − 1/100) / 2.
        assert!((tr.close[0] - 100.0 * 0.99 / 2.0).abs() < 1e-12);
        let per = PerBar::of(&bars).unwrap();
        let mut raw_growth = 1.0;
        for t in 1..bars.len() {
            raw_growth *= 1.0
                + holding_return(
                    bars.close[t - 1],
                    bars.close[t],
                    per.split[t],
                    per.dividend[t],
                );
        }
        let tr_growth = tr.close[4] / tr.close[0];
        assert!(
            (raw_growth - tr_growth).abs() < 1e-12,
            "{raw_growth} {tr_growth}"
        );
        // And on the split basis, the same total return from its own dividends.
        let s = on_basis(bars, Basis::Split).unwrap();
        let per = PerBar::of(&s).unwrap();
        let mut split_growth = 1.0;
        for t in 1..s.len() {
            split_growth *=
                1.0 + holding_return(s.close[t - 1], s.close[t], per.split[t], per.dividend[t]);
        }
        assert!((split_growth - tr_growth).abs() < 1e-12);
    }

    #[test]
    fn reinvesting_at_the_ex_close_differs_from_the_adjusted_close_by_second_order() {
        // The CRSP holding-period convention, (close + D) / prev − 1, against the adjusted
        // close's r·close / (prev − r·D) − 1: equal to first order in D / prev.
        let (prev, close, d) = (100.0, 99.2, 1.0);
        let crsp = (close + d) / prev - 1.0;
        let adjusted = holding_return(prev, close, 1.0, d);
        let gap = (adjusted - crsp).abs();
        assert!(gap > 0.0 && gap < (d / prev) * (d / prev) * 1.01, "{gap}");
    }

    #[test]
    fn an_action_lands_on_the_next_bar_and_none_outside_the_bars() {
        let bars = series(
            &[10.0, 11.0, 12.0],
            vec![
                act(1, ActionKind::Split, 2.0),
                act(3, ActionKind::Dividend, 0.1),
                act(28, ActionKind::Dividend, 0.1),
            ],
        );
        let per = PerBar::of(&bars).unwrap();
        assert_eq!(per.split, vec![1.0; 3]);
        assert_eq!(per.dividend, vec![0.0, 0.1, 0.0]);
    }

    #[test]
    fn a_dividend_as_large_as_the_price_is_refused_by_name() {
        let bars = series(&[1.0, 1.0], vec![act(3, ActionKind::Dividend, 1.0)]);
        let e = on_basis(bars, Basis::TotalReturn).unwrap_err().to_string();
        assert!(e.contains("2024-01-03") && e.contains("not below"), "{e}");
    }

    #[test]
    fn events_files_name_the_row_of_a_bad_value_and_merge_duplicates() {
        let path = std::path::Path::new("events.csv");
        let ok = b"date,symbol,kind,value\n2020-08-31,aapl,split,4\n2020-08-07,AAPL,dividend,0.82\n2020-08-31,AAPL,split,4\n";
        let got = parse_events(path, ok).unwrap();
        assert_eq!(got["AAPL"].len(), 2);
        assert_eq!(got["AAPL"][0].kind, ActionKind::Dividend);
        for (text, column) in [
            (
                &b"date,symbol,kind,value\n2020-08-31,A,split,1\n"[..],
                "value",
            ),
            (b"date,symbol,kind,value\n2020-08-31,A,bonus,2\n", "kind"),
            (b"date,symbol,kind,value\n08/31/2020,A,split,2\n", "date"),
            (
                b"date,symbol,kind,value\n2020-08-31,A,dividend,-1\n",
                "value",
            ),
            (
                b"date,symbol,kind,value\n2020-08-31,A,split,2\n2020-08-31,A,split,3\n",
                "value",
            ),
        ] {
            let e = parse_events(path, text).unwrap_err().to_string();
            assert!(e.contains("events.csv") && e.contains(column), "{e}");
        }
        let e = parse_events(path, b"date,kind,value\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbol"), "{e}");
        // The row named is the file's line, blank lines counted.
        let e = parse_events(
            path,
            b"date,symbol,kind,value\n\n2020-08-07,A,dividend,1\n\n2020-08-31,A,bonus,2\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("events.csv:5"), "{e}");
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use crate::settings::{Layout, ReadLimits};

    fn read(text: &str) -> Result<BarSeries, DataError> {
        let path = std::path::Path::new("X.csv");
        crate::io::parse_file(
            path,
            text.as_bytes().to_vec(),
            &ReadLimits::default(),
            &Layout::default(),
        )
        .map(|mut all| all.remove(0))
    }

    #[test]
    fn bar_files_carry_dividend_and_split_columns_as_actions() {
        // yfinance's names and conventions: `Dividends` 0 and `Stock Splits` 0 where none.
        let bars = read(
            "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n\
             2020-08-27,500,510,495,500,1,0,0\n\
             2020-08-28,500,510,495,499,1,0.82,0\n\
             2020-08-31,127,130,125,129,4,0,4\n",
        )
        .unwrap();
        let got: Vec<(String, ActionKind, f64)> = bars
            .actions
            .iter()
            .map(|a| (a.date.to_string(), a.kind, a.value))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2020-08-28".into(), ActionKind::Dividend, 0.82),
                ("2020-08-31".into(), ActionKind::Split, 4.0),
            ]
        );
        // Alpha Vantage's: a split coefficient of 1 where none; empty cells are none too.
        let bars = read(
            "timestamp,open,high,low,close,volume,dividend_amount,split_coefficient\n\
             2020-08-28,500,510,495,499,1,,1.0\n\
             2020-08-31,127,130,125,129,4,0.0000,4.0\n",
        )
        .unwrap();
        assert_eq!(bars.actions.len(), 1);
        for (cell, column) in [("-0.5,1", "dividend"), ("0,-2", "split")] {
            let e = read(&format!(
                "date,open,high,low,close,volume,dividend,split\n2020-08-31,1,1,1,1,1,{cell}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains("X.csv:2") && e.contains(column), "{e}");
        }
    }
}

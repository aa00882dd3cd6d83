//! CSV bars.

use std::path::Path;

use crate::settings::{Layout, ReadLimits};
use chrono::{NaiveDate, NaiveDateTime};

use super::{REQUIRED, bar_column, limits, symbol_of};
use crate::bars::BarSeries;
use crate::error::DataError;

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]`.
pub fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    if t.len() == 10 {
        return parse_date(t.as_bytes()).and_then(|d| d.and_hms_opt(0, 0, 0));
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
}

/// `YYYY-MM-DD` digit by digit: the date of every row of every file, so it avoids chrono's
/// format interpreter (a third of a CSV's reading time with it).
fn parse_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

/// Parses a number; an empty cell, `NaN`, `null`, `NA` or FRED's `.` is missing (NaN).
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    // Numbers first: the markers are rare, and checking them needs no lower-cased copy.
    if let Ok(x) = t.parse() {
        return Some(x);
    }
    ["", "nan", "null", "na", "."]
        .iter()
        .any(|m| t.eq_ignore_ascii_case(m))
        .then_some(f64::NAN)
}

/// Opens a CSV with a header row; cells are trimmed and rows may vary in length (checked by the
/// callers, which name the row).
fn open<R: std::io::Read>(
    path: &Path,
    source: R,
) -> Result<(csv::Reader<R>, csv::StringRecord), DataError> {
    let read_err = |e: csv::Error| DataError::Read {
        path: path.to_path_buf(),
        source: e.into(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(source);
    let headers = reader.headers().map_err(read_err)?.clone();
    Ok((reader, headers))
}

/// Reads bars from a CSV file (see [`super::read_bars`]).
///
/// # Errors
/// [`DataError`] naming the file, row and column of the first value that does not parse.
pub fn read_csv(path: &Path) -> Result<BarSeries, DataError> {
    let limits = ReadLimits::default();
    parse_csv_with(path, &limits::read_file(path, &limits)?, &limits)
}

/// Parses the bytes of a CSV bar file read from `path` (named in errors); see [`read_csv`].
///
/// # Errors
/// As [`read_csv`].
pub fn parse_csv(path: &Path, bytes: &[u8]) -> Result<BarSeries, DataError> {
    parse_csv_with(path, bytes, &ReadLimits::default())
}

/// [`parse_csv`] under the configured `data.limits` (bytes, rows, line length, columns).
///
/// # Errors
/// As [`read_csv`], and [`DataError::Limit`] for a file over a cap.
pub fn parse_csv_with(
    path: &Path,
    bytes: &[u8],
    limits: &ReadLimits,
) -> Result<BarSeries, DataError> {
    parse_csv_as(path, bytes, limits, &Layout::default())
}

/// [`parse_csv_with`] for a file laid out as `layout` says (its headers, its date format).
///
/// # Errors
/// As [`parse_csv_with`], and [`DataError::Content`] when a header `layout` names is not in
/// the file.
pub fn parse_csv_as(
    path: &Path,
    bytes: &[u8],
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<BarSeries, DataError> {
    let lines = check_text(path, bytes, limits)?;
    if layout.is_default()
        && let Some(bars) = parse_clean(path, bytes, lines)
    {
        return Ok(bars);
    }
    parse_general(path, bytes, layout)
}

/// A wide file of closes — a date column and one column of closes per symbol, as many vendors
/// and `yfinance` export — as one close-only series per column (its header the symbol); `None`
/// when the header is not one (any bar column besides the date, or fewer than two others).
/// An empty cell (or `NaN`) is a date the symbol has no bar on — before it listed, after it
/// was delisted, a day it did not trade: each symbol keeps its own history (see
/// [`crate::universe`]).
///
/// # Errors
/// As [`parse_csv_as`], naming the file, row and symbol of a missing or bad close.
pub fn parse_csv_wide(
    path: &Path,
    bytes: &[u8],
    limits: &ReadLimits,
    layout: &Layout,
) -> Result<Option<Vec<BarSeries>>, DataError> {
    // The header alone decides, read from the first line within the caps; the whole file is
    // checked and parsed only when it is wide (a bar file is read once, by the bar reader).
    let header_end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    if header_end as u64 > limits.max_line_bytes {
        return Ok(None);
    }
    let mut probe = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(&bytes[..header_end]);
    let mut headers = csv::StringRecord::new();
    if !probe.read_record(&mut headers).unwrap_or(false)
        || headers.len() as u64 > limits.max_columns
    {
        return Ok(None);
    }
    let date_header = layout.columns.get("date");
    let is_date = |h: &str| match date_header {
        Some(d) => h.trim().eq_ignore_ascii_case(d.trim()),
        None => bar_column(h) == Some("date"),
    };
    let Some(date_col) = headers.iter().position(is_date) else {
        return Ok(None);
    };
    let others: Vec<usize> = (0..headers.len()).filter(|i| *i != date_col).collect();
    let mapped = |h: &str| {
        layout
            .columns
            .values()
            .any(|v| v.trim().eq_ignore_ascii_case(h.trim()))
    };
    if others.len() < 2
        || others.iter().any(|&i| {
            bar_column(&headers[i]).is_some() || mapped(&headers[i]) || headers[i].trim().is_empty()
        })
    {
        return Ok(None);
    }
    check_text(path, bytes, limits)?;
    let (mut reader, headers) = open(path, bytes)?;
    let mut series: Vec<BarSeries> = others
        .iter()
        .map(|&i| BarSeries {
            symbol: headers[i].trim().to_string(),
            ..BarSeries::default()
        })
        .collect();
    let format = layout.date_format.as_deref();
    let mut record = csv::StringRecord::new();
    let mut lines = Lines::new(bytes);
    while let Some(row) = next_row(path, &mut reader, &mut record, &mut lines, headers.len())? {
        let bad = |column: &str, reason: String| DataError::BadValue {
            path: path.to_path_buf(),
            row,
            column: column.into(),
            reason,
        };
        let time = date_cell(record.get(date_col).unwrap_or(""), format)
            .map_err(|reason| bad("date", reason))?;
        for (s, &i) in series.iter_mut().zip(&others) {
            let cell = record.get(i).unwrap_or("");
            let Some(close) = parse_number(cell) else {
                return Err(bad(
                    &s.symbol,
                    format!("`{cell}` is not a close (an empty cell is a date without a bar)"),
                ));
            };
            if close.is_nan() {
                continue;
            }
            s.time.push(time);
            s.open.push(close);
            s.high.push(close);
            s.low.push(close);
            s.close.push(close);
            s.volume.push(0.0);
            s.source_rows.push(row);
        }
    }
    if let Some(s) = series.iter().find(|s| s.is_empty()) {
        return Err(DataError::Content {
            path: path.display().to_string(),
            reason: format!("`{}` has no close on any row", s.symbol),
        });
    }
    Ok(Some(series))
}

/// The column slots of `headers` under `layout`: the headers it names first (each must be
/// there), then qts's own names for the rest.
fn laid_out_slots(
    path: &Path,
    headers: &csv::StringRecord,
    layout: &Layout,
) -> Result<[usize; 9], DataError> {
    let mut index = [usize::MAX; 9];
    for (key, header) in &layout.columns {
        let Some(slot) = SLOTS.iter().position(|n| n == key) else {
            return Err(DataError::Content {
                path: path.display().to_string(),
                reason: format!(
                    "--columns names `{key}`, which is not a bar column (one of {})",
                    SLOTS.join(", ")
                ),
            });
        };
        let Some(i) = headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(header.trim()))
        else {
            return Err(DataError::Content {
                path: path.display().to_string(),
                reason: format!(
                    "--columns {key}={header}: the header has no `{header}` (it has {})",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            });
        };
        index[slot] = i;
    }
    let taken: Vec<usize> = index.iter().copied().filter(|i| *i != usize::MAX).collect();
    for (i, h) in headers.iter().enumerate() {
        if taken.contains(&i) {
            continue;
        }
        if let Some(canon) = bar_column(h)
            && let Some(slot) = SLOTS.iter().position(|n| *n == canon)
            && index[slot] == usize::MAX
            && !layout.columns.contains_key(canon)
        {
            index[slot] = i;
        }
    }
    Ok(index)
}

/// A date cell under `format` (chrono), or ISO when there is none.
fn laid_out_time(text: &str, format: Option<&str>) -> Option<NaiveDateTime> {
    match format {
        None => parse_time(text),
        Some(f) => NaiveDateTime::parse_from_str(text.trim(), f)
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(text.trim(), f)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            }),
    }
}

/// A date cell under `format` (ISO when `None`), or why it is not one, with the format it
/// looks like when no format was given.
fn date_cell(text: &str, format: Option<&str>) -> Result<NaiveDateTime, String> {
    laid_out_time(text, format).ok_or_else(|| match format {
        None => format!(
            "`{text}` is not a date (expected YYYY-MM-DD){}",
            date_hint(text)
        ),
        Some(f) => format!("`{text}` is not a date in the format `{f}`"),
    })
}

/// A hint for a date that is not ISO: the format it looks like.
fn date_hint(text: &str) -> &'static str {
    let t = text.trim();
    let slash = t.split('/').count() == 3;
    let dot = t.split('.').count() == 3;
    if slash {
        "; give --date-format %m/%d/%Y (or %d/%m/%Y), or data.providers.local.date_format"
    } else if dot {
        "; give --date-format %d.%m.%Y, or data.providers.local.date_format"
    } else {
        "; give its format with --date-format (chrono syntax, e.g. %Y%m%d)"
    }
}

/// The caps every CSV reader checks before parsing: bytes, rows, the longest line and the
/// header's columns. Returns the file's line count.
fn check_text(path: &Path, bytes: &[u8], caps: &ReadLimits) -> Result<usize, DataError> {
    let show = path.display();
    limits::check(
        &show,
        bytes.len() as u64,
        "bytes",
        "max_bytes",
        caps.max_bytes,
    )?;
    let lines = limits::check_lines(path, bytes, caps)?;
    // A header line is at most `max_line_bytes` long, so this counts a bounded prefix.
    let header_end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..header_end]);
    let mut header = csv::ByteRecord::new();
    if reader.read_byte_record(&mut header).unwrap_or(false) {
        limits::check(
            &show,
            header.len() as u64,
            "columns",
            "max_columns",
            caps.max_columns,
        )?;
    }
    Ok(lines)
}

/// Column slots of a bar file's header: `date, open, high, low, close, volume, adj_close,
/// dividend, split` (`usize::MAX` where absent; the first header cell naming a column wins).
fn bar_slots<'a>(headers: impl Iterator<Item = &'a str>) -> [usize; 9] {
    let mut index = [usize::MAX; 9];
    for (i, h) in headers.enumerate() {
        if let Some(canon) = bar_column(h)
            && let Some(slot) = SLOTS.iter().position(|n| *n == canon)
            && index[slot] == usize::MAX
        {
            index[slot] = i;
        }
    }
    index
}

/// The bar columns in slot order (`date, open, high, low, close, volume, adj_close,
/// dividend, split`).
const SLOTS: [&str; 9] = crate::settings::BAR_COLUMNS;

/// The optional action columns' slots and kinds.
const ACTION_SLOTS: [(usize, crate::actions::ActionKind); 2] = [
    (7, crate::actions::ActionKind::Dividend),
    (8, crate::actions::ActionKind::Split),
];

/// Records an action read on the row of `time`.
fn push_action(
    actions: &mut Vec<crate::actions::CorporateAction>,
    time: NaiveDateTime,
    kind: crate::actions::ActionKind,
    value: Option<f64>,
) {
    if let Some(value) = value {
        actions.push(crate::actions::CorporateAction {
            date: time.date(),
            kind,
            value,
        });
    }
}

/// A number of a clean cell: `fast_float2` (several times the standard parser's speed, same
/// correctly rounded values), or a missing marker.
fn clean_number(cell: &[u8]) -> Option<f64> {
    if let Ok(x) = fast_float2::parse::<f64, _>(cell) {
        return Some(x);
    }
    [&b""[..], b"nan", b"null", b"na", b"."]
        .iter()
        .any(|m| cell.eq_ignore_ascii_case(m))
        .then_some(f64::NAN)
}

/// The common case, fast: a well-formed UTF-8 file whose every cell parses. It answers `None`
/// at the first thing it does not handle, and [`parse_general`] then reads the file and names
/// the problem, so both give the same bars and the same errors.
fn parse_clean(path: &Path, bytes: &[u8], lines: usize) -> Option<BarSeries> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.byte_headers().ok()?.clone();
    let names: Vec<&str> = headers
        .iter()
        .map(|h| std::str::from_utf8(h).ok().map(str::trim))
        .collect::<Option<_>>()?;
    let index = bar_slots(names.iter().copied());
    if index[..6].contains(&usize::MAX) {
        return None;
    }
    let has_adj = index[6] != usize::MAX;
    // One line a bar: reserving for every line saves the columns' regrowth.
    let column = || Vec::with_capacity(lines);
    let mut bars = BarSeries {
        symbol: symbol_of(path),
        time: Vec::with_capacity(lines),
        open: column(),
        high: column(),
        low: column(),
        close: column(),
        volume: column(),
        adj_close: has_adj.then(column),
        source_rows: Vec::with_capacity(lines),
        actions: Vec::new(),
    };
    let mut record = csv::ByteRecord::new();
    let mut lines = Lines::new(bytes);
    while reader.read_byte_record(&mut record).ok()? {
        std::str::from_utf8(record.as_slice()).ok()?;
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            return None;
        }
        let cell = |slot: usize| record.get(index[slot]).unwrap_or(b"").trim_ascii();
        let time = parse_time(std::str::from_utf8(cell(0)).ok()?)?;
        bars.time.push(time);
        bars.open.push(clean_number(cell(1))?);
        bars.high.push(clean_number(cell(2))?);
        bars.low.push(clean_number(cell(3))?);
        bars.close.push(clean_number(cell(4))?);
        bars.volume.push(clean_number(cell(5))?);
        if let Some(adj) = &mut bars.adj_close {
            adj.push(clean_number(cell(6))?);
        }
        for (slot, kind) in ACTION_SLOTS {
            if index[slot] != usize::MAX {
                let value = kind.cell(clean_number(cell(slot))?).ok()?;
                push_action(&mut bars.actions, time, kind, value);
            }
        }
        bars.source_rows.push(lines.of(record.position()));
    }
    (!bars.is_empty()).then_some(bars)
}

/// File line numbers of records, counted from the bytes: the csv crate's own line count is off
/// after a CRLF line ending or a blank line (a record's position is where the one before it
/// ended), so such files would name the wrong row in every error.
struct Lines<'a> {
    bytes: &'a [u8],
    /// Bytes counted so far.
    at: usize,
    /// Line feeds in them.
    feeds: usize,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines {
            bytes,
            at: 0,
            feeds: 0,
        }
    }

    /// The 1-based line a record whose reader position is `position` starts on (records come
    /// in order): its first byte is the first after the line endings at that position.
    fn of(&mut self, position: Option<&csv::Position>) -> usize {
        let Some(p) = position else { return 0 };
        let mut start = (p.byte() as usize).min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.at {
            self.feeds += self.bytes[self.at..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.at = start;
        }
        self.feeds + 1
    }
}

/// The next record that is not blank into `record`, with its file line; a record of another
/// width than the header's (`width`) is an error naming the row.
fn next_row(
    path: &Path,
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::StringRecord,
    lines: &mut Lines<'_>,
    width: usize,
) -> Result<Option<usize>, DataError> {
    loop {
        match reader.read_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                return Err(DataError::Read {
                    path: path.to_path_buf(),
                    source: e.to_string().into(),
                });
            }
        }
        let row = lines.of(record.position());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != width {
            return Err(DataError::BadValue {
                path: path.to_path_buf(),
                row,
                column: "(row)".into(),
                reason: format!("expected {width} fields, found {}", record.len()),
            });
        }
        return Ok(Some(row));
    }
}

/// Any file: every problem is an error naming the file, row and column.
fn parse_general(path: &Path, bytes: &[u8], layout: &Layout) -> Result<BarSeries, DataError> {
    let (mut reader, headers) = open(path, bytes)?;
    let names = SLOTS;
    if headers.iter().all(str::is_empty) {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let index = if layout.is_default() {
        bar_slots(headers.iter())
    } else {
        laid_out_slots(path, &headers, layout)?
    };
    // A file of closes only (date and close, no open, high or low): each bar's open, high and
    // low are taken as its close, its volume as unknown (0: no volume cap); validation says so.
    let close_only = index[4] != usize::MAX && index[1..4].iter().all(|i| *i == usize::MAX);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .zip(index)
        .filter(|(n, i)| *i == usize::MAX && !(close_only && **n == "volume"))
        .filter(|(n, _)| !(close_only && matches!(**n, "open" | "high" | "low")))
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(DataError::MissingColumns {
            path: path.to_path_buf(),
            missing: missing.join(","),
            found: headers.iter().collect::<Vec<_>>().join(","),
        });
    }
    let has_adj = index[6] != usize::MAX;
    let mut bars = BarSeries {
        symbol: symbol_of(path),
        adj_close: has_adj.then(Vec::new),
        ..BarSeries::default()
    };
    let mut record = csv::StringRecord::new();
    let mut lines = Lines::new(bytes);
    while let Some(row) = next_row(path, &mut reader, &mut record, &mut lines, headers.len())? {
        let bad = |column: &str, reason: String| DataError::BadValue {
            path: path.to_path_buf(),
            row,
            column: column.into(),
            reason,
        };
        let cell = |slot: usize| record.get(index[slot]).unwrap_or("");
        let format = layout.date_format.as_deref();
        let time = date_cell(cell(0), format).map_err(|reason| bad("date", reason))?;
        let mut values = [0.0; 6];
        for (slot, value) in values.iter_mut().enumerate().skip(1) {
            if slot == 6 && !has_adj {
                continue;
            }
            if close_only && slot != 4 {
                continue;
            }
            let text = cell(slot);
            *value = parse_number(text)
                .ok_or_else(|| bad(names[slot], format!("`{text}` is not a number")))?;
        }
        if close_only {
            values[1] = values[4];
            values[2] = values[4];
            values[3] = values[4];
            values[5] = if index[5] == usize::MAX {
                0.0
            } else {
                let text = cell(5);
                parse_number(text)
                    .ok_or_else(|| bad("volume", format!("`{text}` is not a number")))?
            };
        }
        bars.time.push(time);
        bars.open.push(values[1]);
        bars.high.push(values[2]);
        bars.low.push(values[3]);
        bars.close.push(values[4]);
        bars.volume.push(values[5]);
        if let Some(adj) = &mut bars.adj_close {
            let text = cell(6);
            adj.push(
                parse_number(text)
                    .ok_or_else(|| bad("adj_close", format!("`{text}` is not a number")))?,
            );
        }
        for (slot, kind) in ACTION_SLOTS {
            if index[slot] != usize::MAX {
                let text = cell(slot);
                let value = parse_number(text)
                    .ok_or_else(|| bad(names[slot], format!("`{text}` is not a number")))
                    .and_then(|x| kind.cell(x).map_err(|m| bad(names[slot], m)))?;
                push_action(&mut bars.actions, time, kind, value);
            }
        }
        bars.source_rows.push(row);
    }
    if bars.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(bars)
}

/// Reads a CSV of a date column (`date`, case-insensitive) and numeric columns into a
/// [`super::Table`]; header names are lower-cased. Empty cells and `NaN` read as NaN. A name
/// ending in `.gz` is decompressed first.
///
/// # Errors
/// [`DataError`] naming the file, row and column of what does not parse.
pub fn read_csv_table(path: &Path) -> Result<super::Table, DataError> {
    read_csv_table_with(path, &ReadLimits::default())
}

/// [`read_csv_table`] under the configured `data.limits`; a `.gz` file's caps apply to the
/// bytes once decompressed.
///
/// # Errors
/// As [`read_csv_table`], and [`DataError::Limit`] for a file over a cap.
pub fn read_csv_table_with(path: &Path, caps: &ReadLimits) -> Result<super::Table, DataError> {
    let bytes = limits::read_file(path, caps)?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        return parse_csv_table_with(path, &limits::gunzip(path, &bytes, caps)?, caps);
    }
    parse_csv_table_with(path, &bytes, caps)
}

/// [`read_csv_table`] of bytes read from `path` (named in errors), e.g. decompressed.
///
/// # Errors
/// As [`read_csv_table`].
pub fn parse_csv_table(path: &Path, bytes: &[u8]) -> Result<super::Table, DataError> {
    parse_csv_table_with(path, bytes, &ReadLimits::default())
}

/// [`parse_csv_table`] under the configured `data.limits`.
///
/// # Errors
/// As [`read_csv_table`], and [`DataError::Limit`] for bytes over a cap.
pub fn parse_csv_table_with(
    path: &Path,
    bytes: &[u8],
    caps: &ReadLimits,
) -> Result<super::Table, DataError> {
    check_text(path, bytes, caps)?;
    let read_err = |reason: String| DataError::Read {
        path: path.to_path_buf(),
        source: reason.into(),
    };
    let (mut reader, header) = open(path, bytes)?;
    let headers: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let Some(date_col) = headers.iter().position(|h| bar_column(h) == Some("date")) else {
        return Err(DataError::MissingColumns {
            path: path.to_path_buf(),
            missing: "date".into(),
            found: headers.join(","),
        });
    };
    let is_text = |h: &str| super::TEXT_COLUMNS.contains(&h);
    let mut table = super::Table {
        time: Vec::new(),
        columns: headers
            .iter()
            .enumerate()
            .filter(|(i, h)| *i != date_col && !is_text(h))
            .map(|(_, h)| (h.clone(), Vec::new()))
            .collect(),
        labels: headers
            .iter()
            .filter(|h| is_text(h))
            .map(|h| (h.clone(), Vec::new()))
            .collect(),
    };
    let mut lines = Lines::new(bytes);
    for record in reader.records() {
        let record = record.map_err(|e| read_err(e.to_string()))?;
        let row = lines.of(record.position());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let bad = |column: &str, reason: String| DataError::BadValue {
            path: path.to_path_buf(),
            row,
            column: column.into(),
            reason,
        };
        if record.len() != headers.len() {
            return Err(bad(
                "(row)",
                format!("expected {} fields, found {}", headers.len(), record.len()),
            ));
        }
        let cell = record.get(date_col).unwrap_or("");
        table.time.push(parse_time(cell).ok_or_else(|| {
            bad(
                "date",
                format!("`{cell}` is not a date (expected YYYY-MM-DD)"),
            )
        })?);
        let (mut k, mut l) = (0, 0);
        for (i, text) in record.iter().enumerate() {
            if i == date_col {
                continue;
            }
            if is_text(&headers[i]) {
                table.labels[l].1.push(text.trim().to_string());
                l += 1;
                continue;
            }
            let (name, col) = &mut table.columns[k];
            col.push(
                parse_number(text).ok_or_else(|| bad(name, format!("`{text}` is not a number")))?,
            );
            k += 1;
        }
    }
    if table.time.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("TEST.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn crlf_files_name_the_same_lines_as_lf_files() {
        let lf = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,100\n\n2024-01-03,1,2,0.5,1.4,100\n";
        let crlf = lf.replace('\n', "\r\n");
        for text in [lf.to_string(), crlf.clone()] {
            // The clean path: each bar's source row is its file line (the blank line counts).
            let (_d, path) = write(&text);
            assert_eq!(read_csv(&path).unwrap().source_rows, [2, 4]);
            // The general path names the line of a bad cell.
            let bad = text.replace("1.4", "abc");
            let (_d, path) = write(&bad);
            let e = read_csv(&path).unwrap_err().to_string();
            assert!(e.contains("TEST.csv:4:"), "{e}");
            // And the table reader.
            let (_d, path) = write(&bad.replace("volume", "value"));
            let e = read_csv_table(&path).unwrap_err().to_string();
            assert!(e.contains(":4"), "{e}");
        }
    }

    #[test]
    fn reads_case_insensitive_headers_in_any_order() {
        let (_d, p) =
            write("Volume,Date,Close,High,Low,Open,Adj Close\n10,2020-01-02,2,3,1,1.5,1\n");
        let b = read_csv(&p).unwrap();
        assert_eq!(b.symbol, "TEST");
        assert_eq!(b.open, vec![1.5]);
        assert_eq!(b.volume, vec![10.0]);
        assert_eq!(b.adj_close, Some(vec![1.0]));
        assert_eq!(b.source_rows, vec![2]);
        assert!(b.is_daily());
    }

    #[test]
    fn names_the_row_and_column_of_a_bad_value() {
        let (_d, p) =
            write("date,open,high,low,close,volume\n2020-01-02,1,2,1,2,5\n2020-01-03,1,x,1,2,5\n");
        let e = read_csv(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("TEST.csv:3: column `high`: `x` is not a number"),
            "{e}"
        );
        let (_d, p) = write("date,open,high,low,close,volume\n03/01/2020,1,2,1,2,5\n");
        let e = read_csv(&p).unwrap_err().to_string();
        assert!(
            e.contains(":2: column `date`: `03/01/2020` is not a date"),
            "{e}"
        );
        let (_d, p) = write("date,open,high,low,close,volume\n2020-01-02,1,2,1\n");
        let e = read_csv(&p).unwrap_err().to_string();
        assert!(
            e.contains(":2: column `(row)`: expected 6 fields, found 4"),
            "{e}"
        );
    }

    #[test]
    fn missing_columns_and_empty_files_are_errors() {
        let (_d, p) = write("date,open,close\n2020-01-02,1,2\n");
        let e = read_csv(&p).unwrap_err().to_string();
        assert!(e.contains("missing column(s) high,low,volume"), "{e}");
        let (_d, p) = write("");
        assert!(matches!(read_csv(&p), Err(DataError::Empty { .. })));
        let (_d, p) = write("date,open,high,low,close,volume\n");
        assert!(matches!(read_csv(&p), Err(DataError::Empty { .. })));
    }

    fn laid_out(
        text: &str,
        columns: &[(&str, &str)],
        format: Option<&str>,
    ) -> Result<BarSeries, DataError> {
        let layout = Layout {
            columns: columns
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            date_format: format.map(str::to_string),
        };
        parse_csv_as(
            Path::new("f.csv"),
            text.as_bytes(),
            &ReadLimits::default(),
            &layout,
        )
    }

    #[test]
    fn files_from_elsewhere_read_with_their_layout() {
        // A vendor's `Date,Open,High,Low,Last,Vol` with US dates.
        let text =
            "Date,Open,High,Low,Last,Vol\n01/04/1999,10,12,9,11,100\n01/05/1999,11,13,10,12,200\n";
        let e = read_csv_text(text);
        assert!(
            e.contains("missing column(s) close,volume") && e.contains("--columns"),
            "{e}"
        );
        let b = laid_out(
            text,
            &[("close", "Last"), ("volume", "Vol")],
            Some("%m/%d/%Y"),
        )
        .unwrap();
        assert_eq!(b.close, vec![11.0, 12.0]);
        assert_eq!(b.volume, vec![100.0, 200.0]);
        assert_eq!(
            b.time[1].date(),
            NaiveDate::from_ymd_opt(1999, 1, 5).unwrap()
        );
        // Without the format, the error points at it.
        let e = laid_out(text, &[("close", "Last"), ("volume", "Vol")], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.csv:2: column `date`: `01/04/1999` is not a date (expected YYYY-MM-DD); give --date-format %m/%d/%Y"), "{e}");
        let e = laid_out(text, &[("close", "Closing")], None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--columns close=Closing: the header has no `Closing`"),
            "{e}"
        );
        let e = laid_out(
            text,
            &[("close", "Last"), ("volume", "Vol")],
            Some("%d.%m.%Y"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`01/04/1999` is not a date in the format `%d.%m.%Y`"),
            "{e}"
        );
    }

    fn read_csv_text(text: &str) -> String {
        let (_d, p) = write(text);
        read_csv(&p).unwrap_err().to_string()
    }

    #[test]
    fn a_file_of_closes_only_reads_each_close_as_the_bars_open_high_and_low() {
        let (_d, p) = write("date,close\n2020-01-02,10\n2020-01-03,11.5\n");
        let b = read_csv(&p).unwrap();
        assert_eq!(b.open, b.close);
        assert_eq!(b.high, b.close);
        assert_eq!(b.low, b.close);
        assert_eq!(b.volume, vec![0.0, 0.0]);
        assert_eq!(b.close, vec![10.0, 11.5]);
        let b = laid_out(
            "Day,Price\n2020-01-02,10\n",
            &[("date", "Day"), ("close", "Price")],
            None,
        )
        .unwrap();
        assert_eq!(b.open, vec![10.0]);
        // An open without high and low is not a file of closes.
        let (_d, p) = write("date,open,close\n2020-01-02,1,2\n");
        assert!(read_csv(&p).is_err());
    }

    #[test]
    fn a_wide_file_of_closes_is_one_close_only_series_per_column() {
        let limits = ReadLimits::default();
        let wide = |text: &str| {
            parse_csv_wide(
                Path::new("w.csv"),
                text.as_bytes(),
                &limits,
                &Layout::default(),
            )
        };
        let s = wide("Date,AAPL,MSFT\n2020-01-02,75.1,160.6\n2020-01-03,74.4,158.6\n")
            .unwrap()
            .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].symbol, "AAPL");
        assert_eq!(s[1].close, vec![160.6, 158.6]);
        assert_eq!(s[1].open, s[1].close);
        assert_eq!(s[0].source_rows, vec![2, 3]);
        // Not wide: bar columns, or a single other column.
        assert!(
            wide("date,open,high,low,close,volume\n2020-01-02,1,1,1,1,1\n")
                .unwrap()
                .is_none()
        );
        assert!(wide("date,Price\n2020-01-02,1\n").unwrap().is_none());
        // An empty cell is a date without a bar: MSFT lists on the 3rd, AAPL misses it.
        let s = wide("Date,AAPL,MSFT\n2020-01-02,75.1,\n2020-01-03,NaN,158.6\n2020-01-06,76,159\n")
            .unwrap()
            .unwrap();
        assert_eq!(s[0].close, vec![75.1, 76.0]);
        assert_eq!(s[1].close, vec![158.6, 159.0]);
        assert_eq!(s[1].source_rows, vec![3, 4]);
        // A cell that is not a number is named; a symbol without any close is refused.
        let e = wide("Date,AAPL,MSFT\n2020-01-02,75.1,abc\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("w.csv:2: column `MSFT`: `abc` is not a close"),
            "{e}"
        );
        let e = wide("Date,AAPL,MSFT\n2020-01-02,75.1,\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`MSFT` has no close on any row"), "{e}");
    }

    #[test]
    fn missing_markers_read_as_nan_and_intraday_times_parse() {
        let (_d, p) = write("date,open,high,low,close,volume\n2020-01-02 09:30:00,NaN,,.,2,5\n");
        let b = read_csv(&p).unwrap();
        assert!(b.open[0].is_nan() && b.high[0].is_nan() && b.low[0].is_nan());
        assert!(!b.is_daily());
    }
}

//! The NYSE trading calendar: weekends, the regular holidays with their weekend rules, and the
//! one-off closures (national days of mourning, 9/11, hurricanes).
//!
//! Written here rather than taken from `nyse-holiday-cal`, which is untested against the real
//! closures; ours is checked against every trading day of the bundled GOOG (2004–2013) and
//! S&P 500 (1999–2018) histories (`tests/calendar_real_data.rs`). Rules hold from 1971 on.

use chrono::{Datelike, NaiveDate, Weekday};

/// One-off full-day closures since 1985.
const SPECIAL_CLOSURES: &[(i32, u32, u32)] = &[
    (1985, 9, 27), // Hurricane Gloria
    (1994, 4, 27), // President Nixon's funeral
    (2001, 9, 11), // 9/11
    (2001, 9, 12),
    (2001, 9, 13),
    (2001, 9, 14),
    (2004, 6, 11),  // President Reagan's funeral
    (2007, 1, 2),   // President Ford's day of mourning
    (2012, 10, 29), // Hurricane Sandy
    (2012, 10, 30),
    (2018, 12, 5), // President G. H. W. Bush's day of mourning
    (2025, 1, 9),  // President Carter's day of mourning
];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The `n`-th (1-based) `weekday` of a month; `n = 5` means the last one.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u32) -> NaiveDate {
    if n == 5 {
        let next = if month == 12 {
            date(year + 1, 1, 1)
        } else {
            date(year, month + 1, 1)
        };
        let mut d = next.pred_opt().unwrap_or(next);
        while d.weekday() != weekday {
            d = d.pred_opt().unwrap_or(d);
        }
        return d;
    }
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n as u8).unwrap_or(NaiveDate::MIN)
}

/// Easter Sunday (Gregorian; the anonymous "Meeus/Jones/Butcher" computus).
fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as u32, day as u32)
}

/// A fixed-date holiday moved off the weekend: Saturday to Friday, Sunday to Monday.
fn observed(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d.pred_opt().unwrap_or(d),
        Weekday::Sun => d.succ_opt().unwrap_or(d),
        _ => d,
    }
}

/// The NYSE full-day holidays of `year` (observed dates, sorted).
pub fn holidays(year: i32) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(12);
    // New Year's Day: a Saturday New Year is not made up on the Friday before (NYSE rule).
    let new_year = date(year, 1, 1);
    if new_year.weekday() != Weekday::Sat {
        out.push(observed(new_year));
    }
    if year >= 1998 {
        out.push(nth_weekday(year, 1, Weekday::Mon, 3)); // Martin Luther King Jr. Day
    }
    out.push(if year >= 1971 {
        nth_weekday(year, 2, Weekday::Mon, 3) // Washington's Birthday
    } else {
        observed(date(year, 2, 22))
    });
    out.push(easter(year) - chrono::Duration::days(2)); // Good Friday
    out.push(nth_weekday(year, 5, Weekday::Mon, 5)); // Memorial Day
    if year >= 2022 {
        out.push(observed(date(year, 6, 19))); // Juneteenth
    }
    out.push(observed(date(year, 7, 4)));
    out.push(nth_weekday(year, 9, Weekday::Mon, 1)); // Labor Day
    out.push(nth_weekday(year, 11, Weekday::Thu, 4)); // Thanksgiving
    out.push(observed(date(year, 12, 25)));
    out.extend(
        SPECIAL_CLOSURES
            .iter()
            .filter(|(y, ..)| *y == year)
            .map(|&(y, m, d)| date(y, m, d)),
    );
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether the exchange is closed all day for a holiday or a special closure.
pub fn is_holiday(d: NaiveDate) -> bool {
    holidays(d.year()).binary_search(&d).is_ok()
}

/// Whether the NYSE trades on `d`.
pub fn is_trading_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(d)
}

/// Trading days from `from` to `to`, both included.
pub fn trading_days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    if to < from {
        return Vec::new();
    }
    let days = Sessions::new(from.year(), to.year());
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| days.is_trading_day(*d))
        .collect()
}

/// The first NYSE trading day after `d`: the session a decision taken at `d`'s close trades.
pub fn next_trading_day(d: NaiveDate) -> NaiveDate {
    // A closure lasts at most a few days (9/11: four), so the walk is short.
    let mut next = d.succ_opt().unwrap_or(d);
    while !is_trading_day(next) {
        next = next.succ_opt().unwrap_or(next);
    }
    next
}

/// Trading days after `from` up to and including `to` (0 when `to <= from`): how many sessions
/// a series ending at `from` is behind on `to`.
pub fn sessions_between(from: NaiveDate, to: NaiveDate) -> usize {
    match from.succ_opt() {
        Some(start) if start <= to => trading_days(start, to).len(),
        _ => 0,
    }
}

/// The holidays of a span of years, built once, for asking about many days (a long history's
/// validation asks about every one of them).
#[derive(Debug, Clone)]
pub struct Sessions {
    holidays: Vec<NaiveDate>,
}

impl Sessions {
    /// The holidays of the years `from..=to`.
    pub fn new(from: i32, to: i32) -> Sessions {
        Sessions {
            holidays: (from..=to).flat_map(holidays).collect(),
        }
    }

    /// [`is_trading_day`], for days in the span (a day outside it is checked directly).
    pub fn is_trading_day(&self, d: NaiveDate) -> bool {
        let in_span = match (self.holidays.first(), self.holidays.last()) {
            (Some(a), Some(b)) => a.year() <= d.year() && d.year() <= b.year(),
            _ => false,
        };
        if !in_span {
            return is_trading_day(d);
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
            && self.holidays.binary_search(&d).is_err()
    }
}

/// Calendar days to the next holiday and since the previous one (0 on a holiday).
pub fn holiday_distance(d: NaiveDate) -> (i64, i64) {
    holiday_distances(&[d])[0]
}

/// [`holiday_distance`] of many dates at once: the holidays of the years spanned are built
/// once and each date is a binary search.
pub fn holiday_distances(dates: &[NaiveDate]) -> Vec<(i64, i64)> {
    let (Some(lo), Some(hi)) = (dates.iter().min(), dates.iter().max()) else {
        return Vec::new();
    };
    let all: Vec<NaiveDate> = (lo.year() - 1..=hi.year() + 1).flat_map(holidays).collect();
    dates
        .iter()
        .map(|&d| {
            let at = all.partition_point(|h| *h < d);
            let next = all.get(at).map_or(366, |h| (*h - d).num_days());
            let prev = match all.get(at) {
                Some(h) if *h == d => 0,
                _ => at.checked_sub(1).map_or(366, |i| (d - all[i]).num_days()),
            };
            (next, prev)
        })
        .collect()
}

/// Whether `d` is in an earnings season: from the 10th of the first month after a quarter
/// ends to the 15th of the second (Jan 10–Feb 15, Apr 10–May 15, Jul 10–Aug 15,
/// Oct 10–Nov 15), when most S&P 500 companies report.
pub fn in_earnings_season(d: NaiveDate) -> bool {
    match d.month() % 3 {
        1 => d.day() >= 10,
        2 => d.day() <= 15,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_holidays() {
        let h = holidays(2024);
        let expect = [
            date(2024, 1, 1),
            date(2024, 1, 15),
            date(2024, 2, 19),
            date(2024, 3, 29),
            date(2024, 5, 27),
            date(2024, 6, 19),
            date(2024, 7, 4),
            date(2024, 9, 2),
            date(2024, 11, 28),
            date(2024, 12, 25),
        ];
        assert_eq!(h, expect);
        assert!(
            !holidays(2022).contains(&date(2021, 12, 31)),
            "Saturday New Year is not moved"
        );
        assert!(
            holidays(2021).contains(&date(2021, 12, 24)),
            "Saturday Christmas moves to Friday"
        );
        assert!(
            holidays(2022).contains(&date(2022, 12, 26)),
            "Sunday Christmas moves to Monday"
        );
        assert!(is_holiday(date(2012, 10, 30)));
        assert!(!is_trading_day(date(2001, 9, 14)));
        assert_eq!(easter(2019), date(2019, 4, 21));
    }

    #[test]
    fn distances_and_seasons() {
        assert_eq!(holiday_distance(date(2024, 7, 1)), (3, 12));
        assert_eq!(holiday_distance(date(2024, 7, 4)), (0, 0));
        assert!(in_earnings_season(date(2024, 1, 10)));
        assert!(!in_earnings_season(date(2024, 2, 16)));
        assert!(!in_earnings_season(date(2024, 3, 20)));
        assert_eq!(trading_days(date(2024, 7, 1), date(2024, 7, 7)).len(), 4);
    }
}

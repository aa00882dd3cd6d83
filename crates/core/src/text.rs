//! Numbers and dates written into CSV text the way `{}` (`Display`) writes them, faster.
//!
//! A run's `equity.csv` is a few floats a bar, and formatting them with `core::fmt` was a fifth
//! of a whole `qts backtest` process. [`push_f64`] takes the shortest digits that read back to
//! the value from `ryu` and lays them out as `Display` does, in plain decimal notation, so every
//! file stays byte for byte what it was. Both pick the shortest digits, then the closest; they
//! differ only on an exact tie between two closest candidates (ryu rounds to even, `Display`
//! up), which needs the value to lie exactly halfway between them: those values, and every
//! one of 2^53 or more, are written by `Display` itself.

use std::fmt::Write as _;

/// Appends `x` exactly as `write!(out, "{x}")` would.
pub fn push_f64(out: &mut String, x: f64) {
    if !x.is_finite() {
        let _ = write!(out, "{x}");
        return;
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(x);
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mantissa, exponent) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if exponent > 0
        || int.len() + frac.len() > 24
        || x.abs() >= 9_007_199_254_740_992.0
        || halfway(x, frac.len() as i32 - exponent)
    {
        let _ = write!(out, "{x}");
        return;
    }
    // The significant digits and where the decimal point falls among them (ryu writes at
    // most 17, after at most five zeros).
    let mut joined = [0u8; 24];
    let all = &mut joined[..int.len() + frac.len()];
    all[..int.len()].copy_from_slice(int.as_bytes());
    all[int.len()..].copy_from_slice(frac.as_bytes());
    let all = &*all;
    let lead = all.iter().take_while(|&&d| d == b'0').count();
    let digits = &all[lead..];
    let digits = &digits[..digits.len() - digits.iter().rev().take_while(|&&d| d == b'0').count()];
    let point = int.len() as i32 + exponent - lead as i32;
    if negative {
        out.push('-');
    }
    if digits.is_empty() {
        out.push('0');
        return;
    }
    let n = digits.len() as i32;
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(text(digits));
    } else if point >= n {
        out.push_str(text(digits));
        out.extend(std::iter::repeat_n('0', (point - n) as usize));
    } else {
        let (a, b) = digits.split_at(point as usize);
        out.push_str(text(a));
        out.push('.');
        out.push_str(text(b));
    }
}

/// Whether `x` lies exactly halfway between two decimals of `k` fractional digits, i.e.
/// `x · 2 · 10^k` is an odd integer. With `x = m · 2^e` (`m` an integer with `t` trailing zero
/// bits) that product is `(m / 2^t) · 5^k · 2^(t + e + 1 + k)`, odd exactly when the power of
/// two is 2^0.
fn halfway(x: f64, k: i32) -> bool {
    if k <= 0 {
        // An integer below 2^53 is its own shortest form: no candidate is halfway.
        return false;
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    m != 0 && m.trailing_zeros() as i32 + e + 1 + k == 0
}

/// ASCII digits as text.
fn text(d: &[u8]) -> &str {
    std::str::from_utf8(d).unwrap_or("")
}

/// Appends `date` exactly as `write!(out, "{date}")` would (`YYYY-MM-DD`).
pub fn push_date(out: &mut String, date: chrono::NaiveDate) {
    use chrono::Datelike;
    let (y, m, d) = (date.year(), date.month(), date.day());
    if !(0..=9999).contains(&y) {
        let _ = write!(out, "{date}");
        return;
    }
    let mut b = [0u8; 10];
    let y = y as u32;
    for (i, v) in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10]
        .iter()
        .enumerate()
    {
        b[i] = b'0' + *v as u8;
    }
    b[4] = b'-';
    b[5] = b'0' + (m / 10) as u8;
    b[6] = b'0' + (m % 10) as u8;
    b[7] = b'-';
    b[8] = b'0' + (d / 10) as u8;
    b[9] = b'0' + (d % 10) as u8;
    out.push_str(std::str::from_utf8(&b).unwrap_or(""));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(x: f64) -> String {
        format!("{x}")
    }

    fn ours(x: f64) -> String {
        let mut s = String::new();
        push_f64(&mut s, x);
        s
    }

    #[test]
    fn floats_are_written_as_display_writes_them() {
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.2 + 0.1,
            1.0 / 3.0,
            100_000.0,
            123_456.789,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1.5e300,
            1e-5,
            1e-6,
            1e-7,
            2.5e-300,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            // Exactly halfway between two shortest candidates: `Display` rounds up.
            1_658_206_780_088_562.2,
            524_288.0 + 1.0 / 2048.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in special {
            assert_eq!(ours(x), display(x), "{x:e}");
        }
        // Random bit patterns (every exponent, subnormals included) and values shaped like
        // prices, equity and returns: the same text, two million times.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..1_000_000 {
            let x = f64::from_bits(next());
            assert_eq!(ours(x), display(x), "{:#x}", x.to_bits());
            let price = (next() % 100_000_000) as f64 / 100.0 * (next() % 7 + 1) as f64 / 3.0;
            assert_eq!(ours(price), display(price), "{:#x}", price.to_bits());
            // Few significant bits at every scale: where the halfway cases are.
            let bits = (next() >> (11 + next() % 40)) as f64;
            let dyadic = bits / 2f64.powi((next() % 80) as i32) * 2f64.powi((next() % 30) as i32);
            assert_eq!(ours(dyadic), display(dyadic), "{:#x}", dyadic.to_bits());
        }
    }

    #[test]
    fn dates_are_written_as_display_writes_them() {
        let mut day = chrono::NaiveDate::from_ymd_opt(-3, 1, 1).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(10_002, 1, 1).unwrap();
        let mut n = 0;
        while day < end {
            let mut s = String::new();
            push_date(&mut s, day);
            assert_eq!(s, day.to_string());
            day += chrono::Duration::days(17);
            n += 1;
        }
        assert!(n > 200_000);
    }
}

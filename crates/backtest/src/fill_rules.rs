//! Fill prices of limit and stop orders against a bar, and Python's float floor division
//! (backtesting.py sizes orders with it).

/// A limit order's fill price on a bar, if the bar reaches it: a buy at `min(open, limit)`
/// when the low touches the limit, a sell at `max(open, limit)` when the high does.
pub(crate) fn limit_fill(buy: bool, o: f64, h: f64, l: f64, limit: f64) -> Option<f64> {
    if buy {
        (l <= limit).then(|| o.min(limit))
    } else {
        (h >= limit).then(|| o.max(limit))
    }
}

/// A stop order's fill price: a buy stop triggers when the high reaches it and fills at
/// `max(open, stop)` (an open above the stop gaps through it); a sell stop mirrors that.
pub(crate) fn stop_fill(buy: bool, o: f64, h: f64, l: f64, stop: f64) -> Option<f64> {
    if buy {
        (h >= stop).then(|| o.max(stop))
    } else {
        (l <= stop).then(|| o.min(stop))
    }
}

/// Python's `float.__floordiv__`, which is not always `floor(a / b)`.
pub fn python_floordiv(a: f64, b: f64) -> f64 {
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 { f + 1.0 } else { f }
    } else {
        0.0f64.copysign(a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_floor_division() {
        assert_eq!(python_floordiv(9999.999999999998, 100.2), 99.0);
        // (a, b, a // b, whether the result is negative) as CPython 3.11 gives them
        // (`print(a // b, math.copysign(1, a // b) < 0)`), signs of zero included.
        let cases = [
            (7.0, 2.0, 3.0, false),
            (-7.0, 2.0, -4.0, true),
            (7.0, -2.0, -4.0, true),
            (-7.0, -2.0, 3.0, false),
            (0.0, 5.0, 0.0, false),
            (-0.0, 5.0, -0.0, true),
            (0.0, -5.0, -0.0, true),
            (1.0, 0.1, 9.0, false),
            (-1.0, 0.1, -10.0, true),
            (9999.99999, 25.03, 399.0, false),
            (5.0, 5.0, 1.0, false),
            (-5.0, 5.0, -1.0, true),
            (0.3, 0.1, 2.0, false),
            (-0.3, 0.1, -3.0, true),
            (1.0000000000000002e16, 3.0, 3333333333333334.0, false),
        ];
        for (a, b, want, negative) in cases {
            let got = python_floordiv(a, b);
            assert_eq!(got, want, "{a} // {b}");
            assert_eq!(
                got.is_sign_negative(),
                negative,
                "{a} // {b}: sign of {got}"
            );
        }
    }

    #[test]
    fn fills_respect_gaps() {
        // A sell stop at 95 with the bar opening at 90 fills at the open.
        assert_eq!(stop_fill(false, 90.0, 92.0, 88.0, 95.0), Some(90.0));
        assert_eq!(stop_fill(false, 100.0, 101.0, 94.0, 95.0), Some(95.0));
        assert_eq!(stop_fill(false, 100.0, 101.0, 96.0, 95.0), None);
        assert_eq!(limit_fill(true, 100.0, 101.0, 97.0, 98.0), Some(98.0));
        assert_eq!(limit_fill(true, 96.0, 101.0, 95.0, 98.0), Some(96.0));
    }
}

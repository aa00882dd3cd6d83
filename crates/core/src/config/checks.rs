//! Range and relation checks that collect every problem instead of stopping at the first.

use std::fmt::Display;

/// Collected (key path, message) pairs.
#[derive(Debug, Default)]
pub struct Checks {
    problems: Vec<(String, String)>,
}

/// Implemented by every configuration section.
pub trait Validate {
    /// Adds a problem to `checks` for every invalid value; `at` is the section's key path.
    fn validate(&self, at: &str, checks: &mut Checks);
}

impl Checks {
    /// The problems found so far.
    pub fn into_problems(self) -> Vec<(String, String)> {
        self.problems
    }

    /// Records a problem.
    pub fn fail(&mut self, at: &str, key: &str, message: impl Into<String>) {
        self.problems
            .push((super::path::join(at, key), message.into()));
    }

    /// `value > 0`.
    pub fn positive<T: PartialOrd + Default + Display>(&mut self, at: &str, key: &str, value: T) {
        if value <= T::default() {
            self.fail(at, key, format!("must be greater than 0, got {value}"));
        }
    }

    /// `value >= 0`.
    pub fn non_negative(&mut self, at: &str, key: &str, value: f64) {
        if value < 0.0 || value.is_nan() {
            self.fail(at, key, format!("must be 0 or more, got {value}"));
        }
    }

    /// `lo <= value <= hi`.
    pub fn within(&mut self, at: &str, key: &str, value: f64, lo: f64, hi: f64) {
        if !(lo..=hi).contains(&value) {
            self.fail(
                at,
                key,
                format!("must be between {lo} and {hi}, got {value}"),
            );
        }
    }

    /// A fraction in `[0, 1]`.
    pub fn fraction(&mut self, at: &str, key: &str, value: f64) {
        self.within(at, key, value, 0.0, 1.0);
    }

    /// A fraction in `(0, 1]`: zero would disable the thing it sizes.
    pub fn positive_fraction(&mut self, at: &str, key: &str, value: f64) {
        if !(value > 0.0 && value <= 1.0) {
            self.fail(
                at,
                key,
                format!("must be greater than 0 and at most 1, got {value}"),
            );
        }
    }

    /// `a < b`, reported on `key_a`.
    pub fn less_than<T: PartialOrd + Display>(
        &mut self,
        at: &str,
        (key_a, a): (&str, T),
        (key_b, b): (&str, T),
    ) {
        if a >= b {
            let b_path = super::path::join(at, key_b);
            self.fail(
                at,
                key_a,
                format!("must be less than {b_path} ({b}), got {a}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_problem() {
        let mut c = Checks::default();
        c.positive("s", "a", 0);
        c.positive("s", "ok", 1);
        c.fraction("s", "f", 1.5);
        c.positive_fraction("s", "g", 0.0);
        c.non_negative("", "n", -1.0);
        c.less_than("ma", ("fast", 50), ("slow", 20));
        let keys: Vec<_> = c.into_problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["s.a", "s.f", "s.g", "n", "ma.fast"]);
    }

    #[test]
    fn relation_messages_name_both_keys() {
        let mut c = Checks::default();
        c.less_than("ma", ("fast", 50), ("slow", 20));
        let (_, msg) = &c.into_problems()[0];
        assert_eq!(msg, "must be less than ma.slow (20), got 50");
    }
}

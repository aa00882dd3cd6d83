//! Secrets: a type that never prints its value, and a scrubber for free text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a redacted value prints as.
pub const REDACTED: &str = "***";

/// A credential (API key, token, password). `Debug`, `Display` and `Serialize` print `***`, so
/// a secret cannot reach `config show`, a log line or an error by accident; code that needs the
/// value calls [`Secret::expose`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it (an HTTP header, say).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a non-empty value was given.
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { REDACTED } else { "<unset>" })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.is_set() { REDACTED } else { "" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    // An environment variable re-read as YAML can turn an all-digit key into a number; take any
    // scalar as text. Never echo the value in an error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret as a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                // A configuration written out (`config show`, a run's logged config.yaml)
                // holds `***` for each secret: read back, that is no secret, not the key `***`.
                Ok(Secret::new(if v == REDACTED { "" } else { v }))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Secret, E> {
                Ok(Secret::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Secret, E> {
                Ok(Secret::default())
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Replaces known secret values in free text (error messages, `--set` arguments) with `***`.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Remembers a value to scrub. Values shorter than 3 characters are ignored: scrubbing
    /// every `1` from a message would destroy it and protect nothing.
    pub fn add(&mut self, secret: &str) {
        if secret.chars().count() >= 3 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
            // Longest first, so a secret containing another is replaced whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// The text with every known secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            out = out.replace(secret, REDACTED);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_secret_reads_back_as_unset() {
        let read = |text: &str| serde_json::from_str::<Secret>(text).unwrap();
        assert!(!read("\"***\"").is_set());
        assert_eq!(read("\"k***\"").expose(), "k***");
        assert_eq!(
            serde_json::to_string(&Secret::new("key")).unwrap(),
            "\"***\""
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("sk-live-123");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "sk-live-123");
        assert_eq!(format!("{:?}", Secret::default()), "<unset>");
    }

    #[test]
    fn numeric_secrets_deserialize_as_text() {
        let s: Secret = serde_json::from_str("12345").unwrap();
        assert_eq!(s.expose(), "12345");
        let s: Secret = serde_json::from_str("null").unwrap();
        assert!(!s.is_set());
    }

    #[test]
    fn scrub_replaces_longest_first() {
        let mut r = Redactor::default();
        r.add("abc");
        r.add("abcdef");
        r.add("x");
        assert_eq!(r.scrub("abcdef abc x"), "*** *** x");
    }
}

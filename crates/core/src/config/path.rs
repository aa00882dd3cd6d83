//! Key paths such as `backtest.risk.stop_loss.pct` or `data.features.sma[1]`, written the way
//! `serde_path_to_error` prints them so the two can be compared.

/// `parent.key`, `key` at the root, or `parent` when `key` is empty.
pub fn join(parent: &str, key: &str) -> String {
    if key.is_empty() {
        parent.to_string()
    } else if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Splits `a.b[2].c` into segments. Returns `None` for an empty path or an empty key.
pub fn split(path: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, mut indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && (segments.is_empty() || indexes.is_empty()) {
            return None;
        }
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let close = rest.find(']')?;
            segments.push(Segment::Index(rest[..close].parse().ok()?));
            indexes = &rest[close + 1..];
        }
        if !indexes.is_empty() {
            return None;
        }
    }
    Some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_keys_and_indexes() {
        assert_eq!(
            split("a.b[2].c").unwrap(),
            vec![
                Segment::Key("a".into()),
                Segment::Key("b".into()),
                Segment::Index(2),
                Segment::Key("c".into())
            ]
        );
        assert_eq!(split(""), None);
        assert_eq!(split("a..b"), None);
        assert_eq!(split("a[x]"), None);
    }
}

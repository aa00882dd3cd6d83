//! Every flag and configuration key the README and `docs/` document is named by a test: the
//! test sources (`crates/*/tests`, the `#[cfg(test)]` part of each source file, the Python
//! package's tests, and the golden scripts that define the cases golden tests replay) must
//! contain it. A documented option that nothing exercises is how a knob silently stops working;
//! this fails with the list instead.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Flags the documentation shows for other programs (cargo, systemctl, `mlflow server`).
const OTHER_PROGRAMS: &[&str] = &[
    "--workspace",
    "--release",
    "--no-default-features",
    "--user",
    "--now",
    "--host",
    "--workers",
    "--backend-store-uri",
    "--artifacts-destination",
];

/// The configuration's top-level sections and the model file's: a dotted name starting with
/// one of them, in backticks, is a configuration key.
const SECTIONS: &[&str] = &[
    "logging",
    "compute",
    "reproducibility",
    "validation",
    "trading",
    "risk",
    "mlflow",
    "monitoring",
    "paper",
    "registry",
    "backtest",
    "data",
    "model",
    "training",
];

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n != "target" && n != "fixtures")
            {
                files(&p, ext, out);
            }
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn documentation() -> Vec<(String, String)> {
    let mut paths = vec![repo().join("README.md")];
    files(&repo().join("docs"), "md", &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(repo()).unwrap().display().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The text of every test: test files whole, source files from their `#[cfg(test)]` on.
fn test_sources() -> String {
    let mut text = String::new();
    let mut rust = Vec::new();
    files(&repo().join("crates"), "rs", &mut rust);
    for p in rust {
        let body = std::fs::read_to_string(&p).unwrap();
        let in_tests = p.components().any(|c| c.as_os_str() == "tests");
        if in_tests {
            text.push_str(&body);
        } else if let Some(i) = body.find("#[cfg(test)]") {
            text.push_str(&body[i..]);
        }
        text.push('\n');
    }
    let mut python = Vec::new();
    files(&repo().join("crates/python/tests"), "py", &mut python);
    files(&repo().join("scripts/golden"), "py", &mut python);
    for p in python {
        text.push_str(&std::fs::read_to_string(&p).unwrap());
        text.push('\n');
    }
    text
}

fn is_flag_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

/// `--name` tokens (not `---` rules, not a word's inner dashes).
fn flags(doc: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let chars: Vec<char> = doc.chars().collect();
    let mut i = 0;
    while i + 2 < chars.len() {
        let before_ok = i == 0 || !(is_flag_char(chars[i - 1]) || chars[i - 1].is_alphabetic());
        if chars[i] == '-' && chars[i + 1] == '-' && chars[i + 2].is_ascii_lowercase() && before_ok
        {
            let mut j = i + 2;
            while j < chars.len() && is_flag_char(chars[j]) {
                j += 1;
            }
            let flag: String = chars[i..j].iter().collect::<String>();
            out.insert(flag.trim_end_matches('-').to_string());
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Dotted names in backticks whose first part is a configuration section (file names such as
/// `data.csv` are not keys).
fn keys(doc: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for span in doc.split('`').skip(1).step_by(2) {
        for word in span.split(|c: char| c.is_whitespace() || c == '=' || c == ',') {
            let word = word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            let mut parts = word.split('.');
            let first = parts.next().unwrap_or("");
            let rest: Vec<&str> = parts.collect();
            let looks_like_key = SECTIONS.contains(&first)
                && !rest.is_empty()
                && rest.iter().all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                });
            let file = [
                "csv", "yaml", "yml", "json", "md", "parquet", "jsonl", "sqlite",
            ]
            .contains(rest.last().unwrap_or(&""));
            if looks_like_key && !file {
                out.insert(word.to_string());
            }
        }
    }
    out
}

/// Whether `text` names `word` as a whole token (`--to` is not named by `--token`).
fn names(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let after = text[i + word.len()..].chars().next();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

#[test]
fn every_documented_flag_and_key_is_named_by_a_test() {
    let tests = test_sources();
    let mut missing = Vec::new();
    let (mut n_flags, mut n_keys) = (BTreeSet::new(), BTreeSet::new());
    for (file, doc) in documentation() {
        for flag in flags(&doc) {
            if OTHER_PROGRAMS.contains(&flag.as_str()) {
                continue;
            }
            n_flags.insert(flag.clone());
            if !names(&tests, &flag) {
                missing.push(format!("{file}: flag {flag}"));
            }
        }
        for key in keys(&doc) {
            n_keys.insert(key.clone());
            if !names(&tests, &key) {
                missing.push(format!("{file}: key {key}"));
            }
        }
    }
    // The walk finds what it should: a regression in the extraction must not pass vacuously.
    assert!(n_flags.len() > 60, "only {} flags found", n_flags.len());
    assert!(n_keys.len() > 40, "only {} keys found", n_keys.len());
    assert!(n_flags.contains("--execution") && n_keys.contains("trading.rebalance"));
    assert!(
        missing.is_empty(),
        "documented but named by no test ({} of {} flags and {} keys):\n{}",
        missing.len(),
        n_flags.len(),
        n_keys.len(),
        missing.join("\n")
    );
}

#[test]
fn the_extraction_reads_flags_and_keys_as_written() {
    let doc = "Run `qts backtest --data F --set backtest.costs.commission_rate=0.001` or \
               `--to-date`; see `data.csv` and `training.lr`. A --- rule, a non-flag x--y.";
    assert_eq!(
        flags(doc).into_iter().collect::<Vec<_>>(),
        ["--data", "--set", "--to-date"]
    );
    assert_eq!(
        keys(doc).into_iter().collect::<Vec<_>>(),
        ["backtest.costs.commission_rate", "training.lr"]
    );
    assert!(names("args([\"--to\", \"x\"])", "--to"));
    assert!(!names("args([\"--token\"])", "--to"));
    assert!(!names("risk.max_drawdown_x", "risk.max_drawdown"));
}

//! Configuration problems and where each one came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::interpolate::DotenvError;

/// Where a configuration value was set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A YAML file, with the line where known.
    File {
        /// The file as the user named it.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
    },
    /// A `--set KEY=VALUE` argument (already scrubbed of secrets).
    Override(String),
    /// qts's built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Source::File { path, line: None } => write!(f, "{}", path.display()),
            Source::Override(arg) => write!(f, "--set {arg}"),
            Source::Default => f.write_str("built-in default"),
        }
    }
}

/// For every key path, where its value came from.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    by_path: BTreeMap<String, Source>,
}

impl Origins {
    /// Records (or overrides) the source of `path`.
    pub fn set(&mut self, path: &str, source: Source) {
        self.by_path.insert(path.to_string(), source);
    }

    /// Forgets `path` and everything below it (a `--set` replaced the whole value).
    pub fn remove_below(&mut self, path: &str) {
        let prefix_dot = format!("{path}.");
        let prefix_idx = format!("{path}[");
        self.by_path
            .retain(|k, _| k != path && !k.starts_with(&prefix_dot) && !k.starts_with(&prefix_idx));
    }

    /// The source of `key`; a key no file or override set is a built-in default.
    pub fn lookup(&self, key: &str) -> Source {
        self.by_path.get(key).cloned().unwrap_or(Source::Default)
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// Where the offending value was set.
    pub source: Source,
    /// The key path, e.g. `backtest.risk.stop_loss.pct`.
    pub key: String,
    /// What is wrong and, where possible, what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() {
            "(root)"
        } else {
            &self.key
        };
        write!(f, "{}: {key}: {}", self.source, self.message)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: cannot read: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error's message, or why the path is refused.
        reason: String,
        /// The OS error, when there is one.
        #[source]
        source: Option<std::io::Error>,
    },
    /// The `.env` file is unreadable or malformed.
    #[error(transparent)]
    Dotenv(#[from] DotenvError),
    /// One or more values are wrong; every problem found is listed.
    #[error("{}", list(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    /// The problems, when the configuration was read but is wrong.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid(p) => p,
            _ => &[],
        }
    }
}

fn list(problems: &[Problem]) -> String {
    let n = problems.len();
    let mut out = format!(
        "invalid configuration ({n} problem{}):",
        if n == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_exact_and_unset_keys_are_defaults() {
        let mut o = Origins::default();
        let file = |line| Source::File {
            path: "c.yaml".into(),
            line: Some(line),
        };
        o.set("a", file(1));
        o.set("a.b", file(2));
        assert_eq!(o.lookup("a.b"), file(2));
        assert_eq!(o.lookup("a.b.c"), Source::Default);
        assert_eq!(o.lookup("z"), Source::Default);
        o.remove_below("a");
        assert_eq!(o.lookup("a.b"), Source::Default);
    }

    #[test]
    fn problems_print_file_line_and_key() {
        let p = Problem {
            source: Source::File {
                path: "config/base_config.yaml".into(),
                line: Some(7),
            },
            key: "logging.level".into(),
            message: "bad".into(),
        };
        assert_eq!(
            p.to_string(),
            "config/base_config.yaml:7: logging.level: bad"
        );
        let e = ConfigError::Invalid(vec![p.clone(), p]);
        assert!(
            e.to_string()
                .starts_with("invalid configuration (2 problems):\n  config/")
        );
    }
}

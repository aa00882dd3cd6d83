//! `${VAR}` and `${VAR:-default}` expansion from the environment and a `.env` file.
//!
//! Written by hand rather than with `shellexpand` because every failure must name the config
//! key that holds the placeholder, and the values of secret-looking variables must be known so
//! that they can be scrubbed from any later message.

use std::collections::BTreeMap;
use std::path::Path;

use super::redact::Redactor;
use super::yaml::{Node, Value, resolve_plain};

/// Where `${VAR}` values come from.
pub trait EnvSource {
    /// The value of `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment, then the variables of a `.env` file (the process wins, as with
/// every dotenv implementation, so a deployment can always override the file).
#[derive(Debug, Default, Clone)]
pub struct Environment {
    dotenv: BTreeMap<String, String>,
    process: bool,
}

/// A `.env` file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DotenvError {
    /// The file does not exist or cannot be read.
    #[error("{path}: cannot read: {reason}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// A line is not `NAME=value`. The line's text is not repeated: it may hold a secret.
    #[error("{path}:{line}: not a `NAME=value` line")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
    },
}

impl Environment {
    /// The process environment alone.
    pub fn process() -> Self {
        Environment {
            dotenv: BTreeMap::new(),
            process: true,
        }
    }

    /// Fixed variables and nothing else: for tests and embedding.
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Environment {
            dotenv: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            process: false,
        }
    }

    /// Adds the variables of a `.env` file beneath the process environment.
    ///
    /// # Errors
    /// [`DotenvError`] when the file cannot be read or a line is malformed.
    pub fn with_dotenv(mut self, path: &Path) -> Result<Self, DotenvError> {
        let shown = path.display().to_string();
        let iter = dotenvy::from_path_iter(path).map_err(|e| DotenvError::Read {
            path: shown.clone(),
            reason: io_reason(&e),
        })?;
        for item in iter {
            match item {
                Ok((k, v)) => {
                    self.dotenv.insert(k, v);
                }
                Err(dotenvy::Error::LineParse(bad, _)) => {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    return Err(DotenvError::Syntax {
                        path: shown,
                        line: line_of(&text, &bad),
                    });
                }
                Err(e) => {
                    return Err(DotenvError::Read {
                        path: shown,
                        reason: io_reason(&e),
                    });
                }
            }
        }
        Ok(self)
    }
}

// dotenvy's LineParse error carries the offending line's text (which may hold a secret): it is
// used only to find the line number, never shown.
fn line_of(text: &str, bad: &str) -> usize {
    let first = bad.lines().next().unwrap_or_default();
    let offset = if first.is_empty() {
        None
    } else {
        text.find(first)
    };
    offset.map_or(0, |o| text[..o].matches('\n').count() + 1)
}

fn io_reason(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::Io(io) => io.to_string(),
        dotenvy::Error::EnvVar(v) => v.to_string(),
        _ => "malformed file".to_string(),
    }
}

impl EnvSource for Environment {
    fn var(&self, name: &str) -> Option<String> {
        if self.process
            && let Ok(v) = std::env::var(name)
        {
            return Some(v);
        }
        self.dotenv.get(name).cloned()
    }
}

/// Whether a variable's name says it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "WEBHOOK",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// Expands the placeholders of one string.
///
/// `$${` stands for a literal `${`. `${VAR:-default}` uses the default when `VAR` is unset or
/// empty, as a shell does.
///
/// # Errors
/// A message naming the variable or the malformed placeholder.
pub fn expand(text: &str, env: &dyn EnvSource, redactor: &mut Redactor) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
            continue;
        }
        let Some(body_start) = after.strip_prefix("${") else {
            out.push('$');
            rest = &after[1..];
            continue;
        };
        let end = body_start
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in `{}`", placeholder_preview(after)))?;
        let body = &body_start[..end];
        let (name, default) = match body.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        if !is_var_name(name) {
            return Err(format!(
                "`${{{body}}}` is not a valid placeholder: use ${{NAME}} or ${{NAME:-default}}"
            ));
        }
        let value = match (env.var(name), default) {
            (Some(v), Some(d)) if v.is_empty() => d.to_string(),
            (Some(v), _) => v,
            (None, Some(d)) => d.to_string(),
            (None, None) => {
                return Err(format!(
                    "environment variable `{name}` is not set (set it, add it to .env, or write \
                     ${{{name}:-default}})"
                ));
            }
        };
        if is_secret_name(name) {
            redactor.add(&value);
        }
        out.push_str(&value);
        rest = &body_start[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholder_preview(s: &str) -> String {
    s.chars().take(24).collect()
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expands every string value in the tree; a plain scalar is re-read after expansion so that
/// `threads: ${QTS_THREADS:-4}` is a number, while a quoted one stays a string.
/// Problems are returned as (key path, message).
pub fn expand_tree(
    node: &mut Node,
    path: &str,
    env: &dyn EnvSource,
    redactor: &mut Redactor,
    problems: &mut Vec<(String, String)>,
) {
    match &mut node.value {
        Value::Str { text, plain } if text.contains('$') => match expand(text, env, redactor) {
            Ok(expanded) => {
                // `${VAR:-}` means an empty string, not YAML's null.
                node.value = if *plain && !expanded.is_empty() {
                    resolve_plain(&expanded)
                } else {
                    Value::Str {
                        text: expanded,
                        plain: false,
                    }
                }
            }
            Err(message) => problems.push((path.to_string(), message)),
        },
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_tree(item, &format!("{path}[{i}]"), env, redactor, problems);
            }
        }
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                let child = super::path::join(path, key);
                expand_tree(value, &child, env, redactor, problems);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        Environment::from_vars([
            ("HOME_DIR", "/home/q"),
            ("EMPTY", ""),
            ("FMP_API_KEY", "sk-1"),
        ])
    }

    fn run(text: &str) -> Result<String, String> {
        expand(text, &env(), &mut Redactor::default())
    }

    #[test]
    fn expands_set_unset_and_defaults() {
        assert_eq!(run("${HOME_DIR}/cache").unwrap(), "/home/q/cache");
        assert_eq!(run("${MISSING:-fallback}").unwrap(), "fallback");
        assert_eq!(run("${EMPTY:-fallback}").unwrap(), "fallback");
        assert_eq!(run("${HOME_DIR:-x}").unwrap(), "/home/q");
        assert_eq!(run("${MISSING:-}").unwrap(), "");
        assert_eq!(
            run("price $5 and $${LITERAL}").unwrap(),
            "price $5 and ${LITERAL}"
        );
    }

    #[test]
    fn unset_without_default_names_the_variable() {
        let err = run("${NOPE}").unwrap_err();
        assert!(err.contains("`NOPE` is not set"), "{err}");
    }

    #[test]
    fn malformed_placeholders_are_errors() {
        assert!(run("${UNCLOSED").unwrap_err().contains("unclosed"));
        assert!(
            run("${1BAD}")
                .unwrap_err()
                .contains("not a valid placeholder")
        );
        assert!(run("${}").unwrap_err().contains("not a valid placeholder"));
    }

    #[test]
    fn secret_values_are_remembered_for_redaction() {
        let mut redactor = Redactor::default();
        expand("${FMP_API_KEY}", &env(), &mut redactor).unwrap();
        expand("${HOME_DIR}", &env(), &mut redactor).unwrap();
        assert_eq!(redactor.scrub("key sk-1 in /home/q"), "key *** in /home/q");
    }

    #[test]
    fn plain_scalars_are_re_read_and_quoted_ones_are_not() {
        let env = Environment::from_vars([("N", "4")]);
        let mut root = super::super::yaml::parse("a: ${N}\nb: \"${N}\"\n")
            .unwrap()
            .unwrap();
        let mut problems = Vec::new();
        expand_tree(&mut root, "", &env, &mut Redactor::default(), &mut problems);
        assert!(problems.is_empty());
        assert_eq!(root.get("a").unwrap().value, Value::Int(4));
        assert!(matches!(root.get("b").unwrap().value, Value::Str { .. }));
    }

    #[test]
    fn dotenv_syntax_errors_give_the_line_but_not_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A=1\nFMP_API_KEY='sk-unterminated\n").unwrap();
        let err = Environment::process().with_dotenv(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(":2:"), "{text}");
        assert!(!text.contains("sk-unterminated"), "{text}");
    }

    #[test]
    fn process_environment_wins_over_dotenv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "PATH=/from/dotenv\nQTS_ONLY_IN_DOTENV=yes\n").unwrap();
        let env = Environment::process().with_dotenv(&path).unwrap();
        assert_ne!(env.var("PATH").as_deref(), Some("/from/dotenv"));
        assert_eq!(env.var("QTS_ONLY_IN_DOTENV").as_deref(), Some("yes"));
    }
}

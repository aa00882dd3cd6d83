//! Layering: built-in defaults ← YAML files ← `--set` overrides, then typed decoding and
//! validation, with every problem traced to its file and line.

use std::path::{Path, PathBuf};

use super::Root;
use super::checks::Checks;
use super::interpolate::{EnvSource, Environment, expand, expand_tree};
use super::path::{self, Segment};
use super::problem::{ConfigError, Origins, Problem, Source};
use super::redact::Redactor;
use super::yaml::{self, Node, Value};

/// Which part of the merged tree a file fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `base_config.yaml`: top-level keys.
    Base,
    /// `data_sources.yaml`, under `data`.
    DataSources,
    /// `backtest_config.yaml`, under `backtest`.
    Backtest,
    /// A model configuration, under `model`.
    Model,
}

impl Section {
    /// The key the file's content goes under (empty for the base file).
    pub fn key(self) -> &'static str {
        match self {
            Section::Base => "",
            Section::DataSources => "data",
            Section::Backtest => "backtest",
            Section::Model => "model",
        }
    }

    /// The file's name in a configuration directory.
    pub fn default_file(self) -> &'static str {
        match self {
            Section::Base => "base_config.yaml",
            Section::DataSources => "data_sources.yaml",
            Section::Backtest => "backtest_config.yaml",
            Section::Model => "model_configs/lstm_default.yaml",
        }
    }

    /// All sections in layering order.
    pub const ALL: [Section; 4] = [
        Section::Base,
        Section::DataSources,
        Section::Backtest,
        Section::Model,
    ];
}

/// Builds the effective configuration from files and overrides.
#[derive(Debug, Clone, Default)]
pub struct ConfigLoader {
    files: Vec<(Section, PathBuf, bool)>,
    overrides: Vec<String>,
}

/// A loaded configuration, with what is needed to explain it.
#[derive(Debug, Clone)]
pub struct Loaded<C> {
    /// The effective configuration.
    pub config: C,
    /// Where each value came from.
    pub origins: Origins,
    /// Scrubs secret values from free text.
    pub redactor: Redactor,
    /// The files that were read, in order.
    pub files: Vec<PathBuf>,
}

impl ConfigLoader {
    /// A loader with no files: built-in defaults only.
    pub fn new() -> Self {
        ConfigLoader::default()
    }

    /// Reads each section's usual file from `dir` where it exists.
    pub fn from_dir(dir: &Path) -> Self {
        let mut loader = ConfigLoader::new();
        for section in Section::ALL {
            loader
                .files
                .push((section, dir.join(section.default_file()), false));
        }
        loader
    }

    /// Uses `file` for `section` (replacing the directory's file); the file must exist.
    pub fn file(mut self, section: Section, file: impl Into<PathBuf>) -> Self {
        self.files.retain(|(s, ..)| *s != section);
        self.files.push((section, file.into(), true));
        self.files
            .sort_by_key(|(s, ..)| Section::ALL.iter().position(|x| x == s));
        self
    }

    /// Adds a `section.key=value` override; the value is YAML (`[5, 10]`, `true`, `"text"`).
    pub fn override_value(mut self, assignment: impl Into<String>) -> Self {
        self.overrides.push(assignment.into());
        self
    }

    /// Loads, merges, decodes and validates.
    ///
    /// # Errors
    /// [`ConfigError::Read`] for an unreadable file that was named explicitly, and
    /// [`ConfigError::Invalid`] listing every problem: YAML syntax, unset variables, unknown
    /// keys, wrong types and out-of-range values, each with its file, line and key path.
    pub fn load<C: Root>(&self, env: &dyn EnvSource) -> Result<Loaded<C>, ConfigError> {
        let mut state = State::default();
        let defaults = serde_json::to_value(C::default()).unwrap_or_default();
        let mut root = from_json(&defaults);
        let mut files = Vec::new();
        for (section, file, required) in &self.files {
            if !file.exists() && !required {
                tracing::debug!(file = %file.display(), "config file not found; using defaults");
                continue;
            }
            let text = std::fs::read_to_string(file).map_err(|e| ConfigError::Read {
                path: file.clone(),
                reason: e.to_string(),
                source: Some(e),
            })?;
            files.push(file.clone());
            if let Some(node) = state.read_file(file, &text, section.key(), env) {
                merge_at(&mut root, section.key(), node);
            }
        }
        for assignment in &self.overrides {
            state.apply_override(&mut root, assignment, env);
        }
        let mut config: C = state.decode(root, &defaults);
        config.normalize();
        let mut checks = Checks::default();
        config.validate("", &mut checks);
        for (key, message) in checks.into_problems() {
            state.problem(&key, message);
        }
        for secret in config.secrets() {
            state.redactor.add(secret.expose());
        }
        if !state.problems.is_empty() {
            return Err(state.finish_problems());
        }
        Ok(Loaded {
            config,
            origins: state.origins,
            redactor: state.redactor,
            files,
        })
    }
}

/// Whether `node` holds a value under a secret's name (`webhook_url`, `api_key`, …), at any
/// depth.
fn holds_secret(node: &Node) -> bool {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .any(|(k, v)| super::interpolate::is_secret_name(k) || holds_secret(v)),
        Value::Seq(items) => items.iter().any(holds_secret),
        _ => false,
    }
}

/// The passwords of the URLs in `node`'s strings (`http://user:password@host`), as written.
fn url_passwords(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Str { text, .. } => {
            if let (_, Some((_, password))) = crate::url::without_userinfo(text.trim())
                && !password.is_empty()
            {
                out.push(password);
            }
        }
        Value::Map(entries) => entries.iter().for_each(|(_, v)| url_passwords(v, out)),
        Value::Seq(items) => items.iter().for_each(|v| url_passwords(v, out)),
        _ => {}
    }
}

#[derive(Default)]
struct State {
    origins: Origins,
    redactor: Redactor,
    problems: Vec<Problem>,
}

impl State {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        // One problem per key: a value that failed to decode is not also reported by a check
        // that ran on the default put in its place.
        if self.problems.iter().any(|p| p.key == key) {
            return;
        }
        self.problems.push(Problem {
            source: self.origins.lookup(key),
            key: key.to_string(),
            message: message.into(),
        });
    }

    fn read_file(
        &mut self,
        file: &Path,
        text: &str,
        prefix: &str,
        env: &dyn EnvSource,
    ) -> Option<Node> {
        let source = |line| Source::File {
            path: file.to_path_buf(),
            line,
        };
        let mut node = match yaml::parse(text) {
            Ok(Some(node)) => node,
            Ok(None) => return None,
            Err(e) => {
                self.problems.push(Problem {
                    source: source(Some(e.line)),
                    key: prefix.to_string(),
                    message: format!("invalid YAML: {}", e.message),
                });
                return None;
            }
        };
        if !matches!(node.value, Value::Map(_)) {
            self.problems.push(Problem {
                source: source(Some(node.line)),
                key: prefix.to_string(),
                message: format!("the file must be a mapping of keys, found {}", node.kind()),
            });
            return None;
        }
        record_origins(&mut self.origins, &node, prefix, &|line| source(Some(line)));
        let mut found = Vec::new();
        expand_tree(&mut node, prefix, env, &mut self.redactor, &mut found);
        for (key, message) in found {
            self.problem(&key, message);
        }
        Some(node)
    }

    fn apply_override(&mut self, root: &mut Node, assignment: &str, env: &dyn EnvSource) {
        // A value given for a secret key (`…api_key=`, `…webhook_url=`, `…password=`) is a
        // secret before anything echoes the argument: every `--set` source printed later
        // (problems, `config show --sources`) is scrubbed of it.
        if let Some((key, raw)) = assignment.split_once('=') {
            let last = key.trim().rsplit('.').next().unwrap_or_default();
            if super::interpolate::is_secret_name(last) {
                let raw = raw.trim();
                self.redactor.add(raw);
                self.redactor
                    .add(raw.trim_matches(|c| c == '"' || c == '\''));
                if let Ok(expanded) = expand(raw, env, &mut self.redactor) {
                    self.redactor.add(expanded.trim());
                }
            }
        }
        let shown = |r: &Redactor| Source::Override(r.scrub(assignment));
        let Some((key, raw)) = assignment.split_once('=') else {
            self.problems.push(Problem {
                source: shown(&self.redactor),
                key: assignment.to_string(),
                message: "expected KEY=VALUE, e.g. backtest.initial_capital=50000".into(),
            });
            return;
        };
        let key = key.trim();
        let fail = |state: &mut State, message: String| {
            state.problems.push(Problem {
                source: Source::Override(state.redactor.scrub(assignment)),
                key: key.to_string(),
                message,
            });
        };
        let Some(segments) = path::split(key) else {
            return fail(
                self,
                "is not a key path like `section.key` or `list[0]`".into(),
            );
        };
        let value = match expand(raw, env, &mut self.redactor) {
            Ok(expanded) => match yaml::parse(&expanded) {
                Ok(node) => node.unwrap_or_else(|| Node::new(Value::Null)),
                Err(e) => return fail(self, format!("the value is not valid YAML: {}", e.message)),
            },
            Err(message) => return fail(self, message),
        };
        // A secret inside the value, however it was typed (a mapping holding `webhook_url:`
        // with YAML escapes, a URL with `user:password@`): the whole value as typed is
        // scrubbed, and each password as parsed and decoded.
        let mut passwords = Vec::new();
        url_passwords(&value, &mut passwords);
        if holds_secret(&value) || !passwords.is_empty() {
            self.redactor.add(raw.trim());
        }
        for p in passwords {
            self.redactor.add(&p);
            self.redactor
                .add(&percent_encoding::percent_decode_str(&p).decode_utf8_lossy());
        }
        if let Err(message) = set_at(root, &segments, value.clone()) {
            return fail(self, message);
        }
        self.origins.remove_below(key);
        let source = Source::Override(self.redactor.scrub(assignment));
        record_origins(&mut self.origins, &value, key, &|_| source.clone());
    }

    // Decodes the tree, collecting every unknown key and wrong type: each failing value is
    // removed (so its default applies) and decoding is retried.
    fn decode<C: Root>(&mut self, root: Node, defaults: &serde_json::Value) -> C {
        let mut json = to_json(&root, "", self);
        for _ in 0..256 {
            match serde_path_to_error::deserialize::<_, C>(&json) {
                Ok(config) => return config,
                Err(e) => {
                    let mut key = e.path().to_string();
                    let message = e.inner().to_string();
                    if let Some(field) = unknown_field(&message) {
                        if !key.ends_with(field) {
                            key = path::join(if key == "." { "" } else { &key }, field);
                        }
                    } else if key == "." {
                        key.clear();
                    }
                    self.problem(&key, explain(&message));
                    if key.is_empty() || !reset_json(&mut json, defaults, &key) {
                        break;
                    }
                }
            }
        }
        C::default()
    }

    fn finish_problems(self) -> ConfigError {
        let redactor = self.redactor;
        let mut problems: Vec<Problem> = self
            .problems
            .into_iter()
            .map(|mut p| {
                p.message = redactor.scrub(&p.message);
                p
            })
            .collect();
        problems.sort_by(|a, b| a.source.cmp(&b.source).then_with(|| a.key.cmp(&b.key)));
        ConfigError::Invalid(problems)
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

fn explain(message: &str) -> String {
    if message.starts_with("unknown field") {
        return message.replacen("unknown field", "unknown key", 1);
    }
    message.to_string()
}

fn record_origins(origins: &mut Origins, node: &Node, at: &str, source: &dyn Fn(usize) -> Source) {
    origins.set(at, source(node.line));
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                record_origins(origins, v, &path::join(at, k), source);
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                record_origins(origins, v, &format!("{at}[{i}]"), source);
            }
        }
        _ => {}
    }
}

/// Mappings whose keys are the user's (not settings): a file replaces them whole instead of
/// adding its keys to the defaults'.
const REPLACED_WHOLE: &[&str] = &["model.search.space"];

// Deep merge: mappings merge key by key, anything else replaces.
fn merge_at(root: &mut Node, key: &str, node: Node) {
    if key.is_empty() {
        merge(root, node, "");
    } else {
        let wrapper = Node::new(Value::Map(vec![(key.to_string(), node)]));
        merge(root, wrapper, "");
    }
}

fn merge(into: &mut Node, from: Node, at: &str) {
    match (&mut into.value, from.value) {
        (Value::Map(dst), Value::Map(src)) if !REPLACED_WHOLE.contains(&at) => {
            for (k, v) in src {
                let child = path::join(at, &k);
                match dst.iter_mut().find(|(dk, _)| *dk == k) {
                    Some((_, existing)) => merge(existing, v, &child),
                    None => dst.push((k, v)),
                }
            }
        }
        (_, value) => {
            into.value = value;
            into.line = from.line;
        }
    }
}

fn set_at(root: &mut Node, segments: &[Segment], value: Node) -> Result<(), String> {
    let mut current = root;
    let mut walked = String::new();
    for segment in segments {
        let kind = current.kind();
        current = match (segment, &mut current.value) {
            (Segment::Key(k), Value::Map(entries)) => {
                walked = path::join(&walked, k);
                let at = match entries.iter().position(|(ek, _)| ek == k) {
                    Some(at) => at,
                    None => {
                        entries.push((k.clone(), Node::empty_map()));
                        entries.len() - 1
                    }
                };
                &mut entries[at].1
            }
            (Segment::Index(n), Value::Seq(items)) => {
                let len = items.len();
                walked = format!("{walked}[{n}]");
                items
                    .get_mut(*n)
                    .ok_or_else(|| format!("index {n} is past the end of a list of {len}"))?
            }
            (_, _) => {
                let at = if walked.is_empty() {
                    "the root"
                } else {
                    &walked
                };
                return Err(format!(
                    "`{at}` is {kind}, so it has no `{}`",
                    show(segment)
                ));
            }
        };
    }
    *current = value;
    Ok(())
}

fn show(segment: &Segment) -> String {
    match segment {
        Segment::Key(k) => k.clone(),
        Segment::Index(i) => format!("[{i}]"),
    }
}

fn to_json(node: &Node, at: &str, state: &mut State) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => J::Number(n),
            None => {
                state.problem(at, format!("must be a finite number, got {f}"));
                J::Null
            }
        },
        Value::Str { text, .. } => J::String(text.clone()),
        Value::Seq(items) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{at}[{i}]"), state))
                .collect(),
        ),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v, &path::join(at, k), state)))
                .collect(),
        ),
    }
}

fn from_json(value: &serde_json::Value) -> Node {
    use serde_json::Value as J;
    Node::new(match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str {
            text: s.clone(),
            plain: false,
        },
        J::Array(items) => Value::Seq(items.iter().map(from_json).collect()),
        J::Object(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    })
}

fn lookup_json<'a>(
    root: &'a mut serde_json::Value,
    segments: &[Segment],
) -> Option<&'a mut serde_json::Value> {
    segments
        .iter()
        .try_fold(root, |current, segment| match segment {
            Segment::Key(k) => current.get_mut(k.as_str()),
            Segment::Index(i) => current.get_mut(*i),
        })
}

// Puts the default back at `key` (or removes the key where there is no default) so that
// decoding can go on and find the next problem.
fn reset_json(root: &mut serde_json::Value, defaults: &serde_json::Value, key: &str) -> bool {
    let Some(segments) = path::split(key) else {
        return false;
    };
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut defaults = defaults.clone();
    let default = lookup_json(&mut defaults, &segments).map(std::mem::take);
    let Some(parent) = lookup_json(root, parents) else {
        return false;
    };
    match (last, parent, default) {
        (Segment::Key(k), serde_json::Value::Object(map), Some(d)) => {
            map.insert(k.clone(), d);
            true
        }
        (Segment::Key(k), serde_json::Value::Object(map), None) => map.remove(k).is_some(),
        (Segment::Index(i), serde_json::Value::Array(items), _) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// How a front end without flags (the Python packages) asks for a configuration: a directory
/// of the four files (none: the built-in defaults), a model file in place of the directory's,
/// overrides, and a `.env` file for `${VAR}` besides the process environment. Both Python
/// extensions load from the same request, so they see the same configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigRequest {
    /// The configuration directory.
    pub dir: Option<PathBuf>,
    /// The model section's file (`qts train --config FILE`).
    pub model: Option<PathBuf>,
    /// `section.key=value` overrides, as `--set`.
    pub overrides: Vec<String>,
    /// `NAME=value` lines for `${VAR}`.
    pub env_file: Option<PathBuf>,
}

impl ConfigRequest {
    /// Loads what the request names.
    ///
    /// # Errors
    /// [`ConfigError::Read`] for a directory that does not exist (running from the wrong
    /// folder must not fall back to the defaults), [`ConfigError::Dotenv`] for a bad `.env`,
    /// and what [`ConfigLoader::load`] finds.
    pub fn load<C: Root>(&self) -> Result<Loaded<C>, ConfigError> {
        let mut loader = match &self.dir {
            Some(dir) if !dir.is_dir() => {
                return Err(ConfigError::Read {
                    path: dir.clone(),
                    reason: "no such configuration directory".into(),
                    source: None,
                });
            }
            Some(dir) => ConfigLoader::from_dir(dir),
            None => ConfigLoader::new(),
        };
        if let Some(model) = &self.model {
            loader = loader.file(Section::Model, model);
        }
        for o in &self.overrides {
            loader = loader.override_value(o.clone());
        }
        let mut env = Environment::process();
        if let Some(file) = &self.env_file {
            env = env.with_dotenv(file)?;
        }
        loader.load(&env)
    }
}

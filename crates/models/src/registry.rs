//! The local model registry: `<root>/<NAME>/<VERSION>/` holds the weights, the full
//! configuration and a model card (`model.json`: data fingerprint, metrics, training time, git
//! commit); `<root>/<NAME>/aliases.json` maps aliases (`production`, `staging`) to versions.
//!
//! Concurrency without locks: a version is written whole into a private temporary directory and
//! renamed into place. Renaming onto an existing (non-empty) version directory fails, so of two
//! processes registering at once one gets version n and the other retries with n + 1; nobody
//! ever sees a half-written version. Aliases are replaced by an atomic file rename.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// What the data a model learnt from was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DataFingerprint {
    /// Symbols.
    pub symbols: Vec<String>,
    /// First date.
    pub start: String,
    /// Last date.
    pub end: String,
    /// SHA-256 of the data.
    pub hash: String,
}

/// A registered model's card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Registry name.
    pub name: String,
    /// Version (1, 2, …), set by the registry.
    pub version: u32,
    /// UTC time of registration (RFC 3339).
    pub created_at: String,
    /// `lstm`, `transformer` or `mlp`.
    pub architecture: String,
    /// Input features per time step.
    pub input_size: usize,
    /// The full model configuration.
    pub config: serde_json::Value,
    /// The training data, when known.
    pub data: Option<DataFingerprint>,
    /// Metrics by name (validation loss, directional accuracy, …).
    pub metrics: BTreeMap<String, f64>,
    /// Training wall time in seconds, when trained here.
    pub training_seconds: Option<f64>,
    /// Git commit of the code that produced it, when known.
    pub git_commit: Option<String>,
    /// Where it came from (`train`, `import:safetensors`).
    pub source: String,
    /// Files in the version directory.
    pub files: Vec<String>,
    /// The chronological splits it was trained, validated and tested on (none for an
    /// imported model): what tells an in-sample prediction from an out-of-sample one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits: Option<SplitDates>,
}

/// First and last day of one split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First day (YYYY-MM-DD).
    pub start: String,
    /// Last day.
    pub end: String,
}

/// The days of the training, validation and test splits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitDates {
    /// Fitted on.
    pub train: Span,
    /// Early stopping and checkpoint choice.
    pub validation: Span,
    /// Scored on, never used to choose anything.
    pub test: Span,
}

impl SplitDates {
    /// The split a prediction for the window ending on `day` belongs to: `train` up to the
    /// start of validation (the purge gap after training counts as training: its windows
    /// overlap it), `validation` up to the start of the test split, `test` to its last day,
    /// `unseen` after.
    pub fn label(&self, day: chrono::NaiveDate) -> &'static str {
        let d = day.to_string();
        if d < self.validation.start {
            "train"
        } else if d < self.test.start {
            "validation"
        } else if d <= self.test.end {
            "test"
        } else {
            "unseen"
        }
    }
}

/// `NAME`, `NAME@VERSION` or `NAME@ALIAS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    /// The model's name.
    pub name: String,
    /// A version number or an alias; `None` means the latest version.
    pub at: Option<String>,
}

impl ModelRef {
    /// Parses `NAME[@VERSION|@ALIAS]`.
    ///
    /// # Errors
    /// [`ModelError::BadReference`] for an empty or malformed reference.
    pub fn parse(text: &str) -> Result<ModelRef, ModelError> {
        let (name, at) = match text.split_once('@') {
            Some((n, a)) => (n, Some(a.to_string())),
            None => (text, None),
        };
        check_name(name)?;
        if at.as_deref().is_some_and(|a| {
            a.is_empty()
                || !a
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        }) {
            return Err(ModelError::BadReference(format!(
                "`{text}`: expected NAME, NAME@VERSION or NAME@ALIAS"
            )));
        }
        Ok(ModelRef {
            name: name.to_string(),
            at,
        })
    }
}

/// Checks a model or alias name: letters, digits, `_`, `-`, `.`; it names a directory.
///
/// # Errors
/// [`ModelError::BadReference`].
pub fn check_name(name: &str) -> Result<(), ModelError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ModelError::BadReference(format!(
            "`{name}` is not a model name: use letters, digits, `_`, `-` or `.`"
        )))
    }
}

/// A registry rooted at a directory.
#[derive(Debug, Clone)]
pub struct Registry {
    root: PathBuf,
}

fn io(path: &Path, e: impl Into<crate::error::Cause>) -> ModelError {
    ModelError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

/// The registered file of the test split's forecasts: `date,target,prediction`, one row per
/// test window (what `qts models compare` tests two models' errors on).
pub const TEST_PREDICTIONS: &str = "test_predictions.csv";

/// The forecast horizon a model was trained for (1 when its configuration does not say).
pub fn horizon(card: &ModelCard) -> usize {
    card.config["data"]["horizon"].as_u64().unwrap_or(1).max(1) as usize
}

impl Registry {
    /// A registry in `root` (created on the first registration).
    pub fn new(root: impl Into<PathBuf>) -> Registry {
        Registry { root: root.into() }
    }

    /// The registry's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Registers a new version of `card.name` with `files` (name, bytes); returns its card
    /// with the version and creation time filled in.
    ///
    /// # Errors
    /// [`ModelError`] for a bad name or a write failure.
    pub fn register(
        &self,
        mut card: ModelCard,
        files: &[(&str, &[u8])],
    ) -> Result<ModelCard, ModelError> {
        check_name(&card.name)?;
        for (f, _) in files {
            check_name(f)?;
        }
        let dir = self.root.join(&card.name);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        card.created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        card.files = files.iter().map(|(n, _)| n.to_string()).collect();
        card.files.push("model.json".into());
        let tmp = dir.join(format!(".incoming-{}-{}", std::process::id(), unique()));
        let result = self.place(&dir, &tmp, &mut card, files);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result.map(|()| card)
    }

    fn place(
        &self,
        dir: &Path,
        tmp: &Path,
        card: &mut ModelCard,
        files: &[(&str, &[u8])],
    ) -> Result<(), ModelError> {
        std::fs::create_dir(tmp).map_err(|e| io(tmp, e))?;
        for (name, bytes) in files {
            std::fs::write(tmp.join(name), bytes).map_err(|e| io(&tmp.join(name), e))?;
        }
        for _ in 0..1000 {
            card.version = self.versions(&card.name)?.last().copied().unwrap_or(0) + 1;
            let json = serde_json::to_vec_pretty(card).map_err(|e| io(tmp, e))?;
            std::fs::write(tmp.join("model.json"), json).map_err(|e| io(tmp, e))?;
            let target = dir.join(card.version.to_string());
            qts_core::fault::point("registry-staged");
            match std::fs::rename(tmp, &target) {
                Ok(()) => return Ok(()),
                // Another process took this version first: try the next one.
                Err(_) if target.exists() => continue,
                Err(e) => return Err(io(&target, e)),
            }
        }
        Err(io(dir, "could not find a free version after 1000 attempts"))
    }

    /// The versions of `name`, ascending (empty when unknown).
    ///
    /// # Errors
    /// [`ModelError::Io`] when the directory cannot be read.
    pub fn versions(&self, name: &str) -> Result<Vec<u32>, ModelError> {
        let dir = self.root.join(name);
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut v: Vec<u32> = std::fs::read_dir(&dir)
            .map_err(|e| io(&dir, e))?
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// Every registered model name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    /// The aliases of `name`.
    ///
    /// # Errors
    /// [`ModelError::Io`] when the aliases file is unreadable.
    pub fn aliases(&self, name: &str) -> Result<BTreeMap<String, u32>, ModelError> {
        let path = self.root.join(name).join("aliases.json");
        if !path.exists() {
            return Ok(BTreeMap::new());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| io(&path, e))
    }

    /// The version a reference points to.
    ///
    /// # Errors
    /// [`ModelError::NotFound`] naming what is missing.
    pub fn resolve(&self, r: &ModelRef) -> Result<u32, ModelError> {
        let versions = self.versions(&r.name)?;
        if versions.is_empty() {
            return Err(ModelError::NotFound(format!(
                "no model `{}` in {}",
                r.name,
                self.root.display()
            )));
        }
        match &r.at {
            None => Ok(*versions.last().unwrap_or(&1)),
            Some(at) => match at.parse::<u32>() {
                Ok(v) if versions.contains(&v) => Ok(v),
                Ok(v) => Err(ModelError::NotFound(format!(
                    "model `{}` has no version {v} (versions: {versions:?})",
                    r.name
                ))),
                Err(_) => self.aliases(&r.name)?.get(at).copied().ok_or_else(|| {
                    ModelError::NotFound(format!("model `{}` has no alias `{at}`", r.name))
                }),
            },
        }
    }

    /// The card of a version.
    ///
    /// # Errors
    /// [`ModelError`] when it does not exist or its card is unreadable.
    pub fn card(&self, r: &ModelRef) -> Result<ModelCard, ModelError> {
        let v = self.resolve(r)?;
        let path = self.version_dir(&r.name, v).join("model.json");
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| io(&path, e))
    }

    /// A version's test forecasts, the text of its [`TEST_PREDICTIONS`] with the file's path;
    /// `None` for a version without one (imported).
    ///
    /// # Errors
    /// [`ModelError::Io`] when the file is there but cannot be read.
    pub fn test_predictions(
        &self,
        card: &ModelCard,
    ) -> Result<Option<(PathBuf, String)>, ModelError> {
        let path = self
            .version_dir(&card.name, card.version)
            .join(TEST_PREDICTIONS);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        Ok(Some((path, text)))
    }

    /// The directory of a version.
    pub fn version_dir(&self, name: &str, version: u32) -> PathBuf {
        self.root.join(name).join(version.to_string())
    }

    /// Points `alias` of `r.name` at `r`'s version (atomically replacing the aliases file).
    ///
    /// # Errors
    /// [`ModelError`] for an unknown version, a bad alias or a write failure.
    pub fn promote(&self, r: &ModelRef, alias: &str) -> Result<u32, ModelError> {
        check_name(alias)?;
        if alias.parse::<u32>().is_ok() {
            return Err(ModelError::BadReference(format!(
                "`{alias}` is a version number, not an alias"
            )));
        }
        let v = self.resolve(r)?;
        let mut aliases = self.aliases(&r.name)?;
        aliases.insert(alias.to_string(), v);
        let dir = self.root.join(&r.name);
        let path = dir.join("aliases.json");
        let json = serde_json::to_vec_pretty(&aliases).map_err(|e| io(&path, e))?;
        qts_core::fs::write_atomic(&path, &json).map_err(|e| io(&path, e))?;
        Ok(v)
    }
}

fn unique() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    nanos ^ u128::from(COUNTER.fetch_add(1, Ordering::Relaxed)) << 64
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn card(name: &str) -> ModelCard {
        ModelCard {
            splits: None,
            name: name.into(),
            version: 0,
            created_at: String::new(),
            architecture: "lstm".into(),
            input_size: 3,
            config: serde_json::json!({}),
            data: None,
            metrics: BTreeMap::from([("val_loss".to_string(), 0.5)]),
            training_seconds: None,
            git_commit: None,
            source: "test".into(),
            files: vec![],
        }
    }

    #[test]
    fn versions_aliases_and_references() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::new(dir.path());
        let a = reg
            .register(card("m"), &[("weights.safetensors", b"x")])
            .unwrap();
        let b = reg
            .register(card("m"), &[("weights.safetensors", b"y")])
            .unwrap();
        assert_eq!((a.version, b.version), (1, 2));
        assert_eq!(reg.resolve(&ModelRef::parse("m").unwrap()).unwrap(), 2);
        reg.promote(&ModelRef::parse("m@1").unwrap(), "production")
            .unwrap();
        assert_eq!(
            reg.resolve(&ModelRef::parse("m@production").unwrap())
                .unwrap(),
            1
        );
        assert_eq!(
            reg.card(&ModelRef::parse("m@production").unwrap())
                .unwrap()
                .version,
            1
        );
        let e = reg
            .resolve(&ModelRef::parse("m@staging").unwrap())
            .unwrap_err();
        assert_eq!(e.to_string(), "model `m` has no alias `staging`");
        let e = reg
            .resolve(&ModelRef::parse("m@9").unwrap())
            .unwrap_err()
            .to_string();

        assert!(
            e.contains("model `m` has no version 9 (versions: [1, 2])"),
            "{e}"
        );
        let e = ModelRef::parse("../x").unwrap_err().to_string();

        assert!(
            e.contains("`../x` is not a model name: use letters, digits, `_`, `-` or `.`"),
            "{e}"
        );
        let e = ModelRef::parse("m@").unwrap_err().to_string();

        assert!(
            e.contains("`m@`: expected NAME, NAME@VERSION or NAME@ALIAS"),
            "{e}"
        );
        assert_eq!(reg.names(), vec!["m".to_string()]);
        assert_eq!(
            std::fs::read(reg.version_dir("m", 2).join("weights.safetensors")).unwrap(),
            b"y"
        );
    }

    #[test]
    fn concurrent_registrations_get_distinct_complete_versions() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let reg = Registry::new(root);
                    (0..10)
                        .map(|j| {
                            let payload = format!("{i}-{j}");
                            reg.register(
                                card("race"),
                                &[("weights.safetensors", payload.as_bytes())],
                            )
                            .unwrap()
                            .version
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<u32> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (1..=40).collect::<Vec<_>>());
        let reg = Registry::new(&root);
        for v in 1..=40 {
            let c = reg
                .card(&ModelRef {
                    name: "race".into(),
                    at: Some(v.to_string()),
                })
                .unwrap();
            assert_eq!(c.version, v);
            assert!(
                reg.version_dir("race", v)
                    .join("weights.safetensors")
                    .exists()
            );
        }
        let leftovers = std::fs::read_dir(root.join("race"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .count();
        assert_eq!(leftovers, 0);
    }
}

/// A registered name: its versions and aliases, as `qts models list --json` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    /// Registry name.
    pub name: String,
    /// Versions, ascending.
    pub versions: Vec<u32>,
    /// Aliases and the versions they name.
    pub aliases: BTreeMap<String, u32>,
}

impl Registry {
    /// Every registered name with its versions and aliases.
    ///
    /// # Errors
    /// [`ModelError::Io`] for an unreadable name directory or alias file.
    pub fn summaries(&self) -> Result<Vec<ModelSummary>, ModelError> {
        self.names()
            .into_iter()
            .map(|name| {
                Ok(ModelSummary {
                    versions: self.versions(&name)?,
                    aliases: self.aliases(&name)?,
                    name,
                })
            })
            .collect()
    }
}

/// The metrics of several cards side by side: for each `name@version`, every metric any of
/// them has (missing ones `None`), as `qts models compare --json` prints them.
pub fn compare(cards: &[ModelCard]) -> BTreeMap<String, BTreeMap<String, Option<f64>>> {
    let keys: std::collections::BTreeSet<&String> =
        cards.iter().flat_map(|c| c.metrics.keys()).collect();
    cards
        .iter()
        .map(|c| {
            let row = keys
                .iter()
                .map(|k| ((*k).clone(), c.metrics.get(*k).copied()))
                .collect();
            (format!("{}@{}", c.name, c.version), row)
        })
        .collect()
}

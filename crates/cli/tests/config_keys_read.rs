//! Every key of the shipped configuration does something: each setting of the effective
//! configuration (the files in `config/`, with each model file of `config/model_configs/`) must
//! be read as a field somewhere in the workspace's code outside the settings modules (each
//! crate's `settings`, core's `config`, the `qts-config` crate), which only declare, default
//! and check them. A knob that nothing reads is documented
//! behaviour that does not exist; this test is how the last fourteen were found
//! (`reproducibility.deterministic` is now read by the trainer, the walk-forward and Monte Carlo
//! sections give the research commands their defaults, the rest were removed).
//!
//! "Read" is textual: a field access `.name` in non-test code (comments and `#[cfg(test)]`
//! modules stripped). That cannot prove the value changes an output, but a key that fails it
//! certainly does not.
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure by design

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use qts_config::ConfigLoader;
use qts_core::config::{Environment, Section};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `a.b.c` for every leaf of `v` (arrays are leaves: their items are data, not keys).
fn leaves(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                leaves(&format!("{prefix}{k}."), child, out);
            }
        }
        _ => {
            out.insert(prefix.trim_end_matches('.').to_string());
        }
    }
}

/// The Rust source of every crate's library and binaries, without comments and unit tests.
fn code() -> String {
    let mut text = String::new();
    let mut dirs = vec![repo().join("crates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(repo())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                let skip = rel.ends_with("/tests")
                    || rel.ends_with("/examples")
                    || rel.ends_with("/benches")
                    || rel.ends_with("/src/settings")
                    || rel == "crates/core/src/config"
                    || rel == "crates/config";
                if !skip {
                    dirs.push(path);
                }
            } else if rel.ends_with(".rs")
                && rel.contains("/src/")
                && !rel.ends_with("/settings.rs")
            {
                let source = std::fs::read_to_string(&path).unwrap();
                let source = source.split("#[cfg(test)]").next().unwrap_or("");
                for line in source.lines() {
                    text.push_str(line.split("//").next().unwrap_or(""));
                    text.push('\n');
                }
            }
        }
    }
    text
}

/// Whether `name` is read as a field (`.name` not followed by an identifier character or `(`).
fn reads(code: &str, name: &str) -> bool {
    let needle = format!(".{name}");
    code.match_indices(&needle).any(|(i, _)| {
        let next = code[i + needle.len()..].chars().next().unwrap_or(' ');
        !(next.is_alphanumeric() || next == '_' || next == '(')
    })
}

#[test]
fn every_shipped_setting_is_read_by_some_code() {
    let dir = repo().join("config");
    let mut keys = BTreeSet::new();
    let models = std::fs::read_dir(dir.join("model_configs")).unwrap();
    let mut model_files: Vec<PathBuf> = models.map(|e| e.unwrap().path()).collect();
    model_files.sort();
    assert!(model_files.len() >= 3, "{model_files:?}");
    for model in &model_files {
        let loaded = ConfigLoader::from_dir(&dir)
            .file(Section::Model, model)
            .load(&Environment::from_vars(Vec::<(String, String)>::new()))
            .unwrap_or_else(|e| panic!("{}: {e}", model.display()));
        let json = serde_json::to_value(&loaded.config).unwrap();
        leaves("", &json, &mut keys);
    }
    // Each shipped file's own keys are among them (the loader refuses unknown keys, so a key
    // of a file is a field of the configuration).
    assert!(
        keys.contains("backtest.walk_forward.train_days"),
        "{keys:?}"
    );
    assert!(keys.contains("model.training.learning_rate"), "{keys:?}");

    let code = code();
    // Where a YAML key is not its Rust field's name.
    let field = |key: &str| match key {
        "type" => "kind".to_string(),
        k => k.to_string(),
    };
    let unread: Vec<&String> = keys
        .iter()
        .filter(|k| !reads(&code, &field(k.rsplit('.').next().unwrap())))
        .collect();
    assert!(
        unread.is_empty(),
        "{} settings that no code outside the settings modules reads (implement or remove them): {unread:#?}",
        unread.len()
    );
}

#[test]
fn the_field_search_tells_a_read_from_a_declaration() {
    let code = "let x = cfg.train_days;\nfoo.train_days_total\nbar.walk(1)\n";
    assert!(reads(code, "train_days"));
    assert!(!reads(code, "train"));
    assert!(!reads(code, "walk"));
    assert!(!reads(code, "anchored"));
}

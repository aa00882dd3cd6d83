//! Why the configuration is read through our own YAML tree (`config/yaml.rs`, built from
//! `saphyr-parser`'s events) rather than decoded by `serde-saphyr`, which the workspace already
//! uses to write YAML and which has `${NAME}` properties of its own: each test below is a
//! behaviour the configuration needs that serde-saphyr's deserializer does not give. If one of
//! them starts failing because serde-saphyr learnt it, the second reader can go.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use qts_core::config::{
    Checks, ConfigError, ConfigLoader, Environment, LoggingConfig, ReproducibilityConfig, Root,
    Secret, Section, Validate,
};

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Base {
    logging: LoggingConfig,
    reproducibility: ReproducibilityConfig,
}

impl Validate for Base {
    fn validate(&self, _at: &str, c: &mut Checks) {
        self.logging.validate("logging", c);
    }
}

impl Root for Base {
    fn secrets(&self) -> Vec<&Secret> {
        Vec::new()
    }
}

fn ours(text: &str, env: &[(&str, &str)]) -> Result<Base, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("base_config.yaml");
    std::fs::write(&file, text).unwrap();
    ConfigLoader::new()
        .file(Section::Base, &file)
        .load::<Base>(&Environment::from_vars(env.iter().copied()))
        .map(|l| l.config)
}

#[test]
fn a_quoted_placeholder_is_expanded_by_ours_and_left_as_written_by_serde_saphyr() {
    // `name: "${NAME}"` quoted, so that a value such as 007 stays a string.
    let text = "logging:\n  file:\n    prefix: \"${QTS_PREFIX}\"\n";
    let mut properties = HashMap::new();
    properties.insert("QTS_PREFIX".to_string(), "007".to_string());
    let theirs: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>> =
        serde_saphyr::from_str_with_options(
            text,
            serde_saphyr::Options::default().with_properties(properties),
        )
        .unwrap();
    assert_eq!(theirs["logging"]["file"]["prefix"], "${QTS_PREFIX}");
    let mine = ours(text, &[("QTS_PREFIX", "007")]).unwrap();
    assert_eq!(mine.logging.file.prefix, "007");
}

#[test]
fn every_problem_is_reported_at_once_with_its_line_where_serde_saphyr_stops_at_the_first() {
    let text = "logging:\n  level: loud\nreproducibility:\n  seed: -3\n  sede: 1\n";
    let theirs = serde_saphyr::from_str::<Base>(text)
        .unwrap_err()
        .to_string();
    // One problem: the first.
    assert!(theirs.contains("loud"), "{theirs}");
    assert!(!theirs.contains("sede"), "{theirs}");
    let mine = ours(text, &[]).unwrap_err().to_string();
    for (line, key) in [
        (2, "logging.level"),
        (4, "reproducibility.seed"),
        (5, "reproducibility.sede"),
    ] {
        assert!(
            mine.contains(&format!("base_config.yaml:{line}: {key}")),
            "{mine}"
        );
    }
}

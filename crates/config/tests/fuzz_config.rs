//! Fuzzing the configuration reader (proptest, a fixed seed and a fixed number of cases): the
//! shipped YAML files edited a few bytes at a time (aliases, brackets, quotes and huge numbers
//! spliced in), and arbitrary bytes, through the whole loader — YAML, `${VAR}` interpolation,
//! merging, decoding and validation. Any panic fails; a refusal must name a file or a key.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use qts_config::ConfigLoader;
use qts_core::config::{Environment, Section};
use qts_core::fuzz::mutate;

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20_261_202),
        // A failing case's seed is written to proptest-regressions/fuzz_config.txt (commit it): it is
        // replayed first on every later run.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_config.txt",
        ))),
        ..Config::default()
    }
}

const FILES: [(Section, &str); 4] = [
    (Section::Base, "base_config.yaml"),
    (Section::DataSources, "data_sources.yaml"),
    (Section::Backtest, "backtest_config.yaml"),
    (Section::Model, "model_configs/lstm_default.yaml"),
];

fn shipped(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../config")
            .join(name),
    )
    .unwrap()
}

fn load(section: Section, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.yaml");
    std::fs::write(&path, bytes).unwrap();
    let env = Environment::from_vars([("FMP_API_KEY", "fuzz-secret-key-123")]);
    match ConfigLoader::new().file(section, &path).load(&env) {
        Ok(loaded) => {
            // What loaded can be shown and shown again.
            let text = qts_core::config::to_yaml(&loaded.config).unwrap();
            assert!(!text.is_empty());
        }
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty());
            assert!(!text.contains("fuzz-secret-key-123"), "{text}");
        }
    }
}

proptest! {
    #![proptest_config(config(600))]

    #[test]
    fn shipped_files_edited(which in 0..4usize, e in prop::collection::vec(any::<(u8, u32, u8)>(), 0..10)) {
        let (section, name) = FILES[which];
        load(section, &mutate(&shipped(name), &e));
    }

    #[test]
    fn any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        load(Section::Base, &bytes);
    }
}

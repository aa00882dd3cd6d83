//! Fuzzing the result-folder reader (proptest, a fixed seed and a fixed number of cases): every
//! file of a backtest, walk-forward, search and Monte Carlo folder (`tests/fixtures/`) edited a
//! few bytes at a time, the manifest rewritten to match (as whoever edits a folder can), through
//! everything `qts report`, `qts compare` and `qts monte-carlo --run` read: the page, the runs
//! compared, the trade sample. Any panic fails; a page drawn never carries a planted `<x-evil>`
//! unescaped; a refusal names a file.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use qts_core::fuzz::mutate;
use qts_report::folder::{compared_runs, page_of, trade_sample};

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20_261_207),
        // A failing case's seed is written to proptest-regressions/fuzz_folders.txt (commit
        // it): it is replayed first on every later run.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_folders.txt",
        ))),
        ..Config::default()
    }
}

const FOLDERS: [(&str, &[&str]); 4] = [
    ("bt", &["stats.json", "trades.csv", "equity.csv"]),
    (
        "wf",
        &["walk_forward.json", "windows.csv", "oos_equity.csv"],
    ),
    ("opt", &["optimize.json", "trials.csv"]),
    ("mc", &["monte_carlo.json"]),
];

fn fixture(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
}

/// The folder `which` with its file `file` replaced by `bytes` (a matching manifest), read as
/// every command reads a folder.
fn read_edited(which: usize, file: usize, bytes: impl Fn(&[u8]) -> Vec<u8>) {
    let (name, files) = FOLDERS[which];
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    let contents: Vec<(&str, Vec<u8>)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let original = std::fs::read(fixture(name).join(f)).unwrap();
            (
                *f,
                if i == file % files.len() {
                    bytes(&original)
                } else {
                    original
                },
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = contents.iter().map(|(f, b)| (*f, b.as_slice())).collect();
    qts_core::fs::write_result_dir(&dir, &refs).unwrap();
    match page_of(&dir) {
        Ok(page) => assert!(!page.contains("<x-evil"), "a planted tag reached the page"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if name == "bt" {
        let _ = compared_runs(std::slice::from_ref(&dir));
        let _ = trade_sample(&dir, 252, 252.0);
    }
}

#[test]
fn the_fixtures_are_drawn_as_they_are() {
    for (name, _) in FOLDERS {
        let page = page_of(&fixture(name)).unwrap();
        assert!(page.contains("<svg"), "{name}");
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn folders_edited(which in 0..4usize, file in 0..3usize, e in prop::collection::vec(any::<(u8, u32, u8)>(), 0..8)) {
        read_edited(which, file, |original| mutate(original, &e));
    }

    #[test]
    fn folders_with_a_tag_planted(which in 0..4usize, file in 0..3usize, at in any::<u32>()) {
        // `<x-evil>` inside a string of the file (after a quote or a comma), where a text
        // field would carry it to the page.
        read_edited(which, file, |original| {
            let cuts: Vec<usize> = original
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'"' || **b == b',')
                .map(|(i, _)| i + 1)
                .collect();
            let i = cuts.get(at as usize % cuts.len().max(1)).copied().unwrap_or(0);
            [&original[..i], b"<x-evil>", &original[i..]].concat()
        });
    }

    #[test]
    fn any_bytes(which in 0..4usize, file in 0..3usize, bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        read_edited(which, file, |_| bytes.clone());
    }
}

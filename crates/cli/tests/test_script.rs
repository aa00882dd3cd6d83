//! The README's test command: `scripts/test.sh --quick` is the inner loop (the library crates'
//! tests, not instrumented, no CLI process tests, browser, MLflow or Python); the arguments after
//! it reach `cargo test`.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn the_quick_mode_hands_its_arguments_to_cargo_test() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // `--help` reaches `cargo test`, which prints its help and builds nothing.
    let out = Command::new("bash")
        .arg(repo.join("scripts/test.sh"))
        .args(["--quick", "--help"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cargo test"), "{text}");
    let script = std::fs::read_to_string(repo.join("scripts/test.sh")).unwrap();
    assert!(script.contains("exec cargo test --workspace --locked --exclude qts-cli"));
}

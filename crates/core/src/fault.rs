//! Named crash points for the fault tests. With `QTS_FAULT_POINT=<name>` in the environment
//! the process aborts at that point (as `kill -9` would: no destructor, no commit), so a test
//! can check that what it was writing is exactly as it was before; `<name>:sleep=<ms>` pauses
//! there instead (holding whatever it holds), so a test can run a second process against it,
//! or interrupt this one. `<name>#<n>` acts at the n-th time the process reaches the point
//! (from 1), so a test can kill a command between any two of its writes. Points:
//! `write_atomic` (a temporary file written, not yet renamed: every output file, result-folder
//! file and cache file), `registry-staged` (a model version's files written, not yet renamed
//! into place), and the paper account's `paper-step-*`.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Times the configured point was reached (only one point is configured per process).
static REACHED: AtomicUsize = AtomicUsize::new(0);

/// Aborts (or pauses) the process when `QTS_FAULT_POINT` names this point.
pub fn point(name: &str) {
    let Some(value) = std::env::var_os("QTS_FAULT_POINT") else {
        return;
    };
    let value = value.to_string_lossy();
    let (point, action) = value.split_once(':').unwrap_or((&value, ""));
    let (point, nth) = match point.split_once('#') {
        Some((point, n)) => (point, n.parse::<usize>().unwrap_or(1)),
        None => (point, 1),
    };
    if point != name {
        return;
    }
    // `#n` acts once, at the n-th time; a plain name acts every time.
    let reached = REACHED.fetch_add(1, Ordering::SeqCst) + 1;
    if value.contains('#') && reached != nth {
        return;
    }
    match action
        .strip_prefix("sleep=")
        .and_then(|ms| ms.parse::<u64>().ok())
    {
        Some(ms) => std::thread::sleep(std::time::Duration::from_millis(ms)),
        None => std::process::abort(),
    }
}

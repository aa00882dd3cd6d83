//! Named crash points for the fault tests. With `QTS_FAULT_POINT=<name>` in the environment
//! the process aborts at that point (as `kill -9` would: no destructor, no commit), so a test
//! can check that what it was writing is exactly as it was before; `<name>:sleep=<ms>` pauses
//! there instead (holding whatever it holds), so a test can run a second process against it,
//! or interrupt this one. Points: `write_atomic` (a temporary file written, not yet renamed),
//! and the paper account's `paper-step-*`.

/// Aborts (or pauses) the process when `QTS_FAULT_POINT` names this point.
pub fn point(name: &str) {
    let Some(value) = std::env::var_os("QTS_FAULT_POINT") else {
        return;
    };
    let value = value.to_string_lossy();
    let (point, action) = value.split_once(':').unwrap_or((&value, ""));
    if point != name {
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

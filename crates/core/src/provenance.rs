//! Where a result's code came from.

/// The commit of the working directory, when it is a git checkout (recorded on registered
/// models and, later, on tracked runs).
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

//! Where a result's code came from.

use std::path::{Path, PathBuf};

/// The commit of the working directory, when it is a git checkout (recorded on registered
/// models and tracked runs).
pub fn git_commit() -> Option<String> {
    git_commit_in(&std::env::current_dir().ok()?)
}

/// The commit checked out at `dir` (or the nearest folder above it that is a checkout), as
/// `git rev-parse HEAD` there says.
///
/// Read from the repository's files (`HEAD`, the ref it names, `packed-refs`; worktrees
/// through `commondir`) rather than by starting `git`: a process start is about a millisecond,
/// a tenth of a whole `qts backtest`, paid by every tracked run. Any layout this does not know
/// (`GIT_DIR` set, a ref that is neither a file nor packed) asks `git` itself.
pub fn git_commit_in(dir: &Path) -> Option<String> {
    if std::env::var_os("GIT_DIR").is_some() {
        return spawn(dir);
    }
    let git = dir
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|g| g.exists())?;
    match from_files(&git) {
        Some(commit) => Some(commit),
        None => spawn(dir),
    }
}

/// `HEAD` resolved through the files of `dot_git` (a `.git` folder or a worktree's `.git` file).
fn from_files(dot_git: &Path) -> Option<String> {
    let git_dir = if dot_git.is_dir() {
        dot_git.to_path_buf()
    } else {
        let text = std::fs::read_to_string(dot_git).ok()?;
        let linked = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
        dot_git.parent()?.join(linked)
    };
    // A linked worktree keeps its own HEAD; refs live in the main repository.
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(rel) => git_dir.join(rel.trim()),
        Err(_) => git_dir.clone(),
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(name) = head.strip_prefix("ref:").map(str::trim) else {
        return is_hash(head).then(|| head.to_string());
    };
    for base in [&git_dir, &common] {
        if let Ok(text) = std::fs::read_to_string(base.join(name)) {
            let hash = text.trim();
            return is_hash(hash).then(|| hash.to_string());
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .filter_map(|l| l.split_once(' '))
        .find(|(_, r)| *r == name)
        .map(|(hash, _)| hash.to_string())
        .filter(|h| is_hash(h))
}

/// A SHA-1 or SHA-256 object name.
fn is_hash(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn spawn(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// The commit from the files alone (no `git` started), checked against the public call.
    fn read(dir: &Path) -> Option<String> {
        let dot_git = dir
            .ancestors()
            .map(|d| d.join(".git"))
            .find(|g| g.exists())?;
        let commit = from_files(&dot_git);
        assert_eq!(commit, git_commit_in(dir));
        commit
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=qts", "-c", "user.email=qts@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git is needed to test reading a checkout's commit");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The commit read from a repository's files is the one `git rev-parse HEAD` gives, in
    /// every layout a checkout has: loose and packed refs, a detached HEAD, a linked
    /// worktree, a folder below the top; and none before the first commit or outside a
    /// checkout.
    #[test]
    fn the_commit_is_the_one_git_reports_in_every_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(repo.join("sub/deeper")).unwrap();
        // No commit yet: git has no HEAD to report, and neither do we.
        git(&repo, &["init", "-q", "-b", "main"]);
        assert_eq!(read(&repo), None);
        std::fs::write(repo.join("a.txt"), "1").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "one"]);
        let first = git(&repo, &["rev-parse", "HEAD"]);
        assert_eq!(read(&repo).as_deref(), Some(first.as_str()), "loose ref");
        assert_eq!(
            read(&repo.join("sub/deeper")).as_deref(),
            Some(first.as_str())
        );

        git(&repo, &["pack-refs", "--all"]);
        assert!(!repo.join(".git/refs/heads/main").exists());
        assert_eq!(read(&repo).as_deref(), Some(first.as_str()), "packed ref");

        std::fs::write(repo.join("a.txt"), "2").unwrap();
        git(&repo, &["commit", "-q", "-am", "two"]);
        let second = git(&repo, &["rev-parse", "HEAD"]);
        assert_ne!(first, second);
        assert_eq!(
            read(&repo).as_deref(),
            Some(second.as_str()),
            "after a commit"
        );

        git(&repo, &["checkout", "-q", "--detach", &first]);
        assert_eq!(read(&repo).as_deref(), Some(first.as_str()), "detached");
        git(&repo, &["checkout", "-q", "main"]);

        let worktree = tmp.path().join("wt");
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "side",
                worktree.to_str().unwrap(),
                &first,
            ],
        );
        assert_eq!(git(&worktree, &["rev-parse", "HEAD"]), first);
        assert_eq!(read(&worktree).as_deref(), Some(first.as_str()), "worktree");
        assert_eq!(read(&repo).as_deref(), Some(second.as_str()));

        let outside = tmp.path().join("plain");
        std::fs::create_dir_all(&outside).unwrap();
        assert_eq!(git_commit_in(&outside), None, "not a checkout");
    }
}

//! Atomic file writes: every qts output is written to a uniquely named temporary file in the
//! target's directory and renamed over the target, so a reader (or a crash) sees the old file or
//! the new one, never half of either, and two runs writing the same path do not collide.

use std::io::{self, Write};
use std::path::Path;

/// The whole file at `path` if it holds at most `cap` bytes, else `Err(size)`: the size is
/// checked before reading, and the read stops past the cap should the file grow meanwhile.
///
/// # Errors
/// The I/O error of opening or reading the file.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Result<Vec<u8>, u64>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > cap {
        return Ok(Err(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    Ok(if read > cap { Err(read) } else { Ok(bytes) })
}

/// Writes `bytes` to `path` atomically, creating missing parent directories.
///
/// # Errors
/// The I/O error of creating, writing, syncing or renaming (nothing is left behind).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// What [`write_atomic_with`] hands its closure: a buffered temporary file (`Send`, so writers
/// that need it, such as Parquet's, can own it through `&mut`).
pub type AtomicWriter = io::BufWriter<tempfile::NamedTempFile>;

/// Writes to `path` atomically through `write`, which receives a buffered writer.
///
/// # Errors
/// The error `write` returns, or that of creating, syncing or renaming; the temporary file is
/// removed on every failure.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut AtomicWriter) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A dot-prefixed name keeps the temporary out of globs over the output directory.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    // Known while it exists, so an interrupt removes it (see [`remove_in_progress`]).
    let _pending = InProgress::new(tmp.path());
    let mut out = io::BufWriter::new(tmp);
    write(&mut out)?;
    out.flush()?;
    let tmp = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    tmp.as_file().sync_all()?;
    crate::fault::point("write_atomic");
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The temporary files being written now: what an interrupted process must not leave behind.
static IN_PROGRESS: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A temporary file registered in [`IN_PROGRESS`] for as long as it lives.
struct InProgress(std::path::PathBuf);

impl InProgress {
    fn new(path: &Path) -> InProgress {
        if let Ok(mut all) = IN_PROGRESS.lock() {
            all.push(path.to_path_buf());
        }
        InProgress(path.to_path_buf())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        if let Ok(mut all) = IN_PROGRESS.lock() {
            all.retain(|p| *p != self.0);
        }
    }
}

/// Removes every temporary file an atomic write has open (for a signal handler: the process
/// is about to exit without running destructors); returns how many there were.
pub fn remove_in_progress() -> usize {
    let Ok(all) = IN_PROGRESS.lock() else {
        return 0;
    };
    all.iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

/// Whether `a` and `b` name the same existing file (after resolving links and `..`): an output
/// must never replace the input it is computed from.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The file that marks a result folder complete: the names, sizes and SHA-256 of the files
/// written, written last.
pub const MANIFEST: &str = "manifest.json";

/// Writes a result of several files into `dir` as one unit: the old manifest is removed first,
/// each file is written atomically, and the manifest last. A folder whose manifest is missing
/// or disagrees with its files was interrupted mid-write ([`check_result_dir`] says so), so a
/// reader never takes a mix of two runs for one.
///
/// # Errors
/// The I/O error of removing the old manifest or writing a file.
pub fn write_result_dir(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    match std::fs::remove_file(dir.join(MANIFEST)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut entries = Vec::new();
    for (name, bytes) in files {
        write_atomic(&dir.join(name), bytes)?;
        entries.push(serde_json::json!({
            "name": name,
            "bytes": bytes.len(),
            "sha256": crate::hex::sha256(bytes),
        }));
    }
    let manifest = serde_json::json!({
        "qts_version": env!("CARGO_PKG_VERSION"),
        "files": entries,
    });
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    write_atomic(&dir.join(MANIFEST), text.as_bytes())
}

/// Checks that `dir` holds a complete result: a manifest, and every file it lists with the
/// size and digest it lists.
///
/// # Errors
/// A message naming the folder and what is missing or different.
pub fn check_result_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    let text = std::fs::read_to_string(dir.join(MANIFEST)).map_err(|_| {
        format!("{shown} has no {MANIFEST}: an interrupted write, or not a qts result folder")
    })?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{shown}/{MANIFEST} is not readable JSON ({e})"))?;
    let files = manifest["files"].as_array().cloned().unwrap_or_default();
    for f in files {
        let name = f["name"].as_str().unwrap_or_default();
        let bytes = std::fs::read(dir.join(name))
            .map_err(|_| format!("{shown}/{name} is listed in {MANIFEST} but missing"))?;
        if f["sha256"].as_str() != Some(crate::hex::sha256(&bytes).as_str()) {
            return Err(format!(
                "{shown}/{name} differs from the run {MANIFEST} records: the folder mixes two runs"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_read_refuses_a_larger_file_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap(), Ok(b"12345".to_vec()));
        assert_eq!(read_capped(&path, 4).unwrap(), Err(5));
        assert!(read_capped(&dir.path().join("none"), 5).is_err());
    }

    #[test]
    fn a_result_folder_is_complete_or_says_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        write_result_dir(&out, &[("a.csv", b"1\n"), ("b.json", b"{}")]).unwrap();
        assert_eq!(check_result_dir(&out), Ok(()));
        // A file from another run: a mix.
        write_atomic(&out.join("a.csv"), b"2\n").unwrap();
        assert!(
            check_result_dir(&out)
                .unwrap_err()
                .contains("mixes two runs")
        );
        // A write interrupted after the old manifest went: incomplete.
        std::fs::remove_file(out.join(MANIFEST)).unwrap();
        assert!(
            check_result_dir(&out)
                .unwrap_err()
                .contains("no manifest.json")
        );
    }

    #[test]
    fn the_same_file_by_another_name_is_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        std::fs::write(&a, "x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(same_file(&a, &dir.path().join("sub/../a.csv")));
        assert!(!same_file(&a, &dir.path().join("b.csv")));
    }

    #[test]
    fn replaces_the_target_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.txt")]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

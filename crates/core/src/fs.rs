//! Atomic file writes: every qts output is written to a uniquely named temporary file in the
//! target's directory and renamed over the target, so a reader (or a crash) sees the old file or
//! the new one, never half of either, and two runs writing the same path do not collide.

use std::io::{self, Write};
use std::path::Path;

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
    let mut out = io::BufWriter::new(tmp);
    write(&mut out)?;
    out.flush()?;
    let tmp = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Whether `a` and `b` name the same existing file (after resolving links and `..`): an output
/// must never replace the input it is computed from.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

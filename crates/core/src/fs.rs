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

/// The temporary files and folders being written now: what an interrupted process must not
/// leave behind.
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
        .filter(|p| {
            if p.is_dir() {
                std::fs::remove_dir_all(p).is_ok()
            } else {
                std::fs::remove_file(p).is_ok()
            }
        })
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

/// Writes a result of several files into `dir` as one unit, so a reader (or a kill at any
/// moment) finds the old result or the new one, never a mix: the files and their manifest
/// are written into a new folder beside `dir`, which then takes `dir`'s place in one rename
/// (Linux's `RENAME_EXCHANGE`; elsewhere two renames). Files of the old folder that the new
/// result does not replace (a page drawn from it, a note) are carried over. A folder that is
/// not a result's (no manifest, yet not empty, or holding folders) is not replaced: the files
/// are written into it one by one, the manifest removed first and written last, so an
/// interrupted write is seen as incomplete ([`check_result_dir`]).
///
/// # Errors
/// The I/O error of writing a file or moving the folder; `dir` is then as it was.
pub fn write_result_dir(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a file of that name is there, not a folder",
        ));
    }
    let old: Vec<std::fs::DirEntry> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.collect::<io::Result<_>>()?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let replaceable = old.is_empty()
        || (dir.join(MANIFEST).is_file()
            && old.iter().all(|e| e.file_type().is_ok_and(|t| t.is_file())));
    if !replaceable {
        return write_result_in_place(dir, files);
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempdir_in(parent)?;
    let _pending = InProgress::new(staging.path());
    let manifest = manifest_of(files);
    for (file, bytes) in files
        .iter()
        .copied()
        .chain([(MANIFEST, manifest.as_bytes())])
    {
        let mut f = std::fs::File::create(staging.path().join(file))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        crate::fault::point("write_atomic");
    }
    for entry in &old {
        let file = entry.file_name();
        let target = staging.path().join(&file);
        if !target.exists() {
            std::fs::hard_link(entry.path(), &target)
                .or_else(|_| std::fs::copy(entry.path(), &target).map(|_| ()))?;
        }
    }
    if old.is_empty() && !dir.exists() {
        std::fs::rename(staging.path(), dir)?;
        // Renamed into place: nothing left to remove.
        let _ = staging.keep();
        return Ok(());
    }
    swap(staging.path(), dir)
    // `staging` now names the old folder, removed as it drops.
}

/// Exchanges the folders `a` and `b` in one step where the system can (Linux), else by two
/// renames through a third name.
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            // A file system or kernel without the exchange: the two renames below.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    let aside = a.with_extension("old");
    std::fs::rename(b, &aside)?;
    if let Err(e) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&aside, b);
        return Err(e);
    }
    std::fs::rename(&aside, a)
}

/// The manifest of `files`: their names, sizes and SHA-256.
fn manifest_of(files: &[(&str, &[u8])]) -> String {
    let entries: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, bytes)| {
            serde_json::json!({
                "name": name,
                "bytes": bytes.len(),
                "sha256": crate::hex::sha256(bytes),
            })
        })
        .collect();
    let manifest = serde_json::json!({
        "qts_version": env!("CARGO_PKG_VERSION"),
        "files": entries,
    });
    serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n"
}

/// Writes a result into a folder that is not a result's, file by file: the old manifest
/// removed first, the new one written last.
fn write_result_in_place(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    match std::fs::remove_file(dir.join(MANIFEST)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    for (name, bytes) in files {
        write_atomic(&dir.join(name), bytes)?;
    }
    write_atomic(&dir.join(MANIFEST), manifest_of(files).as_bytes())
}

/// The largest file of a result folder a reader takes (a result folder is a file anyone can
/// edit or send; a daily research result is a few MB).
pub const MAX_RESULT_FILE_BYTES: u64 = 1 << 30;

/// The largest manifest a reader takes.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// Whether `name` is one plain file name: no separator, no `..`, not empty.
pub fn plain_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(parts.next(), Some(std::path::Component::Normal(n)) if n == name)
        && parts.next().is_none()
}

/// The file `name` of the result folder `dir` if it is a regular file (not a link, a device or
/// a folder) of at most `cap` bytes.
///
/// # Errors
/// A message naming the file and why it is refused.
pub fn read_result_file(dir: &Path, name: &str, cap: u64) -> Result<Vec<u8>, String> {
    let path = dir.join(name);
    let shown = path.display();
    if !plain_name(name) {
        return Err(format!(
            "{}: names {name:?}, which is not a file of the folder",
            dir.display()
        ));
    }
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(format!("{shown} is not a regular file")),
        Err(_) => return Err(format!("{shown} is missing")),
    }
    match read_capped(&path, cap) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(size)) => Err(format!(
            "{shown} has {size} bytes, over the {cap} a result file may have"
        )),
        Err(e) => Err(format!("{shown} cannot be read ({e})")),
    }
}

/// Checks that `dir` holds a complete result: a manifest, and every file it lists with the
/// size and digest it lists. A folder is untrusted input: the manifest may only name regular
/// files of the folder itself, each read within [`MAX_RESULT_FILE_BYTES`].
///
/// # Errors
/// A message naming the folder and what is missing or different.
pub fn check_result_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    if !dir.join(MANIFEST).exists() {
        return Err(format!(
            "{shown} has no {MANIFEST}: an interrupted write, or not a qts result folder"
        ));
    }
    let text = read_result_file(dir, MANIFEST, MAX_MANIFEST_BYTES)?;
    let manifest: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{shown}/{MANIFEST} is not readable JSON ({e})"))?;
    let files = manifest["files"].as_array().cloned().unwrap_or_default();
    for f in files {
        let name = f["name"].as_str().unwrap_or_default();
        let bytes = read_result_file(dir, name, MAX_RESULT_FILE_BYTES).map_err(|e| {
            if e.ends_with("is missing") {
                format!("{shown}/{name} is listed in {MANIFEST} but missing")
            } else {
                e
            }
        })?;
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
    fn a_result_replaces_an_old_one_whole_and_never_a_folder_of_other_things() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        write_result_dir(&out, &[("a.csv", b"1\n"), ("b.json", b"{}")]).unwrap();
        std::fs::write(out.join("page.html"), "mine").unwrap();
        write_result_dir(&out, &[("a.csv", b"2\n")]).unwrap();
        assert_eq!(check_result_dir(&out), Ok(()));
        assert_eq!(std::fs::read(out.join("a.csv")).unwrap(), b"2\n");
        assert_eq!(std::fs::read(out.join("page.html")).unwrap(), b"mine");
        // The staging folder is gone.
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
        // A folder holding a folder is written into, file by file, its other content kept.
        let mixed = dir.path().join("mixed");
        std::fs::create_dir_all(mixed.join("sub")).unwrap();
        write_result_dir(&mixed, &[("a.csv", b"3\n")]).unwrap();
        assert_eq!(check_result_dir(&mixed), Ok(()));
        assert!(mixed.join("sub").is_dir());
        // A file where the folder should be is an error, the file kept.
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(write_result_dir(&file, &[("a.csv", b"4\n")]).is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }

    #[test]
    fn a_manifest_naming_what_is_not_a_file_of_the_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        write_result_dir(&out, &[("a.csv", b"1\n")]).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        for name in ["../secret", "/dev/zero", "sub/a.csv", "", ".."] {
            let manifest = serde_json::json!({"files": [{"name": name, "sha256": ""}]});
            std::fs::write(out.join(MANIFEST), manifest.to_string()).unwrap();
            let e = check_result_dir(&out).unwrap_err();
            assert!(e.contains("not a file of the folder"), "{name}: {e}");
        }
        // A link to a device, however named, is not a regular file.
        std::os::unix::fs::symlink("/dev/zero", out.join("zero.csv")).unwrap();
        let manifest = serde_json::json!({"files": [{"name": "zero.csv", "sha256": ""}]});
        std::fs::write(out.join(MANIFEST), manifest.to_string()).unwrap();
        let e = check_result_dir(&out).unwrap_err();
        assert!(e.ends_with("zero.csv is not a regular file"), "{e}");
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

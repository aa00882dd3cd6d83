//! The `data.limits` caps on files and provider answers, checked before a reader allocates
//! for what its input claims: a hostile file is refused naming the cap and its key, instead of
//! taking the memory or the time.

use std::fmt::Display;
use std::io::Read;
use std::path::Path;

use crate::settings::ReadLimits;

use crate::error::DataError;

/// The error for `what` exceeding the cap `data.limits.<key>` = `limit`.
pub fn exceeded(source: impl Display, what: String, key: &'static str, limit: u64) -> DataError {
    DataError::Limit {
        source_name: source.to_string(),
        what,
        key,
        limit,
    }
}

/// Checks a count against a cap.
///
/// # Errors
/// [`DataError::Limit`] when `count > limit`.
pub fn check(
    source: impl Display,
    count: u64,
    unit: &str,
    key: &'static str,
    limit: u64,
) -> Result<(), DataError> {
    if count > limit {
        return Err(exceeded(source, format!("{count} {unit}"), key, limit));
    }
    Ok(())
}

/// The whole file at `path`, refused before reading when it is larger than
/// `limits.max_bytes` (and never read past the cap, should it grow meanwhile).
///
/// # Errors
/// [`DataError::Read`] naming the file, or [`DataError::Limit`].
pub fn read_file(path: &Path, limits: &ReadLimits) -> Result<Vec<u8>, DataError> {
    let read = qts_core::fs::read_capped(path, limits.max_bytes).map_err(|e| DataError::Read {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    read.map_err(|n| {
        exceeded(
            path.display(),
            format!("{n} bytes"),
            "max_bytes",
            limits.max_bytes,
        )
    })
}

/// Decompresses gzip `bytes` read from `path`, stopping at `limits.max_bytes` of output (a
/// "zip bomb" is refused once it has inflated to the cap, not after).
///
/// # Errors
/// [`DataError::Read`] for a broken stream, or [`DataError::Limit`].
pub fn gunzip(path: &Path, bytes: &[u8], limits: &ReadLimits) -> Result<Vec<u8>, DataError> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut text)
        .map_err(|e| DataError::Read {
            path: path.to_path_buf(),
            source: format!("not a readable gzip file ({e})").into(),
        })?;
    check(
        path.display(),
        text.len() as u64,
        "bytes once decompressed (or more)",
        "max_bytes",
        limits.max_bytes,
    )?;
    Ok(text)
}

/// Checks a text file's lines against `max_rows` (lines after the header) and
/// `max_line_bytes`; returns the number of lines. One pass, by `memchr`.
///
/// # Errors
/// [`DataError::Limit`] naming the first line that is too long, or the line count.
pub fn check_lines(path: &Path, bytes: &[u8], limits: &ReadLimits) -> Result<usize, DataError> {
    let mut lines = 0usize;
    let mut start = 0usize;
    // A final line feed ends the last line; it does not start another.
    let last = (!bytes.is_empty() && !bytes.ends_with(b"\n")).then_some(bytes.len());
    let ends = memchr::memchr_iter(b'\n', bytes).chain(last);
    for end in ends {
        lines += 1;
        let len = (end - start) as u64;
        if len > limits.max_line_bytes {
            return Err(exceeded(
                format_args!("{}:{lines}", path.display()),
                format!("a line of {len} bytes"),
                "max_line_bytes",
                limits.max_line_bytes,
            ));
        }
        start = end + 1;
    }
    check(
        path.display(),
        lines.saturating_sub(1) as u64,
        "rows",
        "max_rows",
        limits.max_rows,
    )?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ReadLimits {
        ReadLimits {
            max_bytes: 100,
            max_rows: 3,
            max_columns: 4,
            max_line_bytes: 10,
        }
    }

    #[test]
    fn lines_are_counted_and_the_long_one_is_named() {
        let p = Path::new("x.csv");
        assert_eq!(check_lines(p, b"a\nb\nc\nd", &small()).unwrap(), 4);
        // A header and three rows, with or without the last line feed.
        assert_eq!(check_lines(p, b"a\nb\nc\nd\n", &small()).unwrap(), 4);
        assert_eq!(check_lines(p, b"", &small()).unwrap(), 0);
        let e = check_lines(p, b"a\nb\nc\nd\ne\nf", &small())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.csv: 5 rows exceeds the limit of 3 set by data.limits.max_rows"),
            "{e}"
        );
        let e = check_lines(p, b"date\n0123456789A\n", &small())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.csv:2: a line of 11 bytes exceeds the limit of 10 set by data.limits.max_line_bytes"), "{e}");
        // Exactly at the cap is allowed.
        assert!(check_lines(p, b"0123456789\n", &small()).is_ok());
    }

    #[test]
    fn a_file_over_the_byte_cap_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        std::fs::write(&path, vec![b'x'; 101]).unwrap();
        let e = read_file(&path, &small()).unwrap_err().to_string();
        assert!(
            e.contains("101 bytes exceeds the limit of 100 set by data.limits.max_bytes"),
            "{e}"
        );
        std::fs::write(&path, vec![b'x'; 100]).unwrap();
        assert_eq!(read_file(&path, &small()).unwrap().len(), 100);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_cap() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'0'; 1 << 20]).unwrap();
        let packed = gz.finish().unwrap();
        assert!(packed.len() < 10_000);
        let e = gunzip(Path::new("t.csv.gz"), &packed, &small())
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv.gz: 101 bytes once decompressed"), "{e}");
        assert_eq!(
            gunzip(Path::new("t.csv.gz"), &packed, &ReadLimits::default())
                .unwrap()
                .len(),
            1 << 20
        );
    }
}

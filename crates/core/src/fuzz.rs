//! Byte mutations for the fuzz tests of every reader of untrusted bytes (CSV, Parquet, YAML,
//! pickle, safetensors, provider JSON): a valid input edited a few bytes at a time reaches far
//! deeper into a parser than random bytes, which most parsers refuse at the first byte. Lives
//! here, not in a test, because every crate's fuzz tests share it.

/// Tokens a parser treats specially, spliced in by [`mutate`].
const TOKENS: [&[u8]; 16] = [
    b",",
    b"\n",
    b"\r\n",
    b"\"",
    b"NaN",
    b"inf",
    b"-1e308",
    b"1e308",
    b"9999-99-99",
    b"0000-01-01",
    b"&a [*a, *a, *a]",
    b"{",
    b"[",
    b"null",
    b"\xff\xfe",
    b"18446744073709551615",
];

/// `seed` after `edits`, each `(operation, position, byte)`: the position is taken modulo
/// the current length, so any edit applies. Operations: replace a byte, insert one, delete
/// one, cut the rest, repeat a chunk, splice in a token, flip a bit.
pub fn mutate(seed: &[u8], edits: &[(u8, u32, u8)]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for &(op, pos, byte) in edits {
        let at = if out.is_empty() {
            0
        } else {
            pos as usize % out.len()
        };
        match op % 7 {
            0 if !out.is_empty() => out[at] = byte,
            1 => out.insert(at, byte),
            2 if !out.is_empty() => {
                out.remove(at);
            }
            3 => out.truncate(at),
            4 => {
                let end = (at + usize::from(byte) + 1).min(out.len());
                let chunk = out[at..end].to_vec();
                out.splice(at..at, chunk);
            }
            5 => {
                let token = TOKENS[usize::from(byte) % TOKENS.len()];
                out.splice(at..at, token.iter().copied());
            }
            _ if !out.is_empty() => out[at] ^= 1 << (byte % 8),
            _ => out.push(byte),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_anywhere_and_keep_the_rest() {
        assert_eq!(mutate(b"abc", &[]), b"abc");
        assert_eq!(mutate(b"abc", &[(0, 4, b'X')]), b"aXc");
        assert_eq!(mutate(b"abc", &[(1, 0, b'X')]), b"Xabc");
        assert_eq!(mutate(b"abc", &[(2, 2, 0)]), b"ab");
        assert_eq!(mutate(b"abc", &[(3, 1, 0)]), b"a");
        assert_eq!(mutate(b"abc", &[(4, 1, 0)]), b"abbc");
        assert_eq!(mutate(b"abc", &[(5, 1, 0)]), b"a,bc");
        assert_eq!(mutate(b"abc", &[(6, 0, 0)]), b"`bc");
        // On nothing, a replace or flip appends; then the flip applies to it.
        assert_eq!(mutate(b"", &[(0, 9, b'X'), (6, 9, 1)]), b"Z");
    }
}

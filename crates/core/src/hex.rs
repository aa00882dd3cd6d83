//! Lower-case hexadecimal, for digests (data hashes, configuration fingerprints, run keys).

use sha2::{Digest, Sha256};

/// `bytes` as lower-case hex.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The SHA-256 of `bytes` as lower-case hex.
pub fn sha256(bytes: &[u8]) -> String {
    encode(&Sha256::digest(bytes))
}

/// The data hash stamped on a result of several symbols' data: the one hash of a single
/// symbol, else the SHA-256 of their hashes in order.
pub fn combined<'a>(hashes: impl IntoIterator<Item = &'a str>) -> String {
    let all: Vec<&str> = hashes.into_iter().collect();
    match all.as_slice() {
        [one] => (*one).to_string(),
        many => sha256(many.concat().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digest() {
        assert_eq!(super::encode(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        // sha256("abc") from FIPS 180-2.
        assert_eq!(
            super::sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

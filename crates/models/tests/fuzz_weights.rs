//! Fuzzing the safetensors readers (proptest, a fixed seed and number of cases): a real
//! weights file edited a few bytes at a time, and headers that lie (lengths past the file,
//! offsets past the data, shapes whose product overflows or is zero with a huge dimension),
//! through the import check and the loader that copies tensors into libtorch. A panic or an
//! abort fails the test; a refusal names the file.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use qts_config::LstmConfig;
use qts_core::fuzz::mutate;
use qts_models::import::check_lstm_safetensors;
use qts_models::weights::read_safetensors;

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20_261_202),
        // A failing case's seed is written to proptest-regressions/fuzz_weights.txt (commit it): it is
        // replayed first on every later run.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_weights.txt",
        ))),
        ..Config::default()
    }
}

/// The state dict of a real PyTorch LSTM (the golden file's other tensors, its gradients and
/// inputs, left out).
fn real() -> Vec<u8> {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/networks/lstm_2layer.safetensors"),
    )
    .unwrap();
    let all = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, safetensors::tensor::TensorView<'_>)> = all
        .tensors()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("__"))
        .collect();
    safetensors::serialize(kept, None).unwrap()
}

fn lstm() -> LstmConfig {
    LstmConfig {
        hidden_size: 16,
        num_layers: 2,
        ..LstmConfig::default()
    }
}

/// A safetensors file with `header` as its JSON header and `data` after it.
fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn read_both(bytes: &[u8]) {
    let path = Path::new("fuzz.safetensors");
    if let Err(e) = check_lstm_safetensors(path, bytes, &lstm()) {
        assert!(e.to_string().contains("fuzz.safetensors"), "{e}");
    }
    if let Err(e) = read_safetensors(path, bytes) {
        assert!(e.to_string().contains("fuzz.safetensors"), "{e}");
    }
}

#[test]
fn the_real_file_reads_and_headers_that_lie_are_refused() {
    let path = Path::new("fuzz.safetensors");
    check_lstm_safetensors(path, &real(), &lstm()).unwrap();
    assert_eq!(read_safetensors(path, &real()).unwrap().len(), 10);
    let hostile = [
        // A header length past the end of the file (and one of 2^63).
        {
            let mut b = real();
            let twice = b.len() as u64 * 2;
            b[..8].copy_from_slice(&twice.to_le_bytes());
            b
        },
        {
            let mut b = real();
            b[..8].copy_from_slice(&(1u64 << 63).to_le_bytes());
            b
        },
        // Offsets past the data, overlapping, reversed.
        file(
            r#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,1099511627776]}}"#,
            &[0; 16],
        ),
        file(
            r#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}"#,
            &[0; 16],
        ),
        // A shape whose product overflows, and a zero dimension beside a huge one.
        file(
            r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}}"#,
            &[0; 16],
        ),
        file(
            r#"{"lstm.weight_ih_l0":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}}"#,
            &[],
        ),
        file(
            r#"{"w":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}}"#,
            &[],
        ),
        // Not floats, and not JSON.
        file(
            r#"{"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#,
            &[0; 16],
        ),
        file("{\"w\":", &[]),
        vec![],
    ];
    for bytes in hostile {
        read_both(&bytes);
        assert!(
            check_lstm_safetensors(path, &bytes, &lstm()).is_err(),
            "{:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
        );
    }
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn edited_weights_files(e in prop::collection::vec(any::<(u8, u32, u8)>(), 0..10)) {
        // Edits land in the 8-byte length, the header and the data alike.
        read_both(&mutate(&real(), &e));
    }

    #[test]
    fn edited_headers(e in prop::collection::vec(any::<(u8, u32, u8)>(), 0..10)) {
        let header = r#"{"__metadata__":{"a":"b"},"head.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"head.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}"#;
        let edited = String::from_utf8_lossy(&mutate(header.as_bytes(), &e)).into_owned();
        read_both(&file(&edited, &[0; 12]));
    }
}

//! Model errors keep what caused them (`source`), and their messages still name the file
//! and say what the cause said, so a caller can both show them and walk the chain.

#![allow(clippy::unwrap_used)]

use std::error::Error as _;

use qts_config::LstmConfig;
use qts_models::error::ModelError;
use qts_models::import::{check_lstm_safetensors, read_weights};
use qts_models::pickle::pt_to_safetensors;
use qts_models::pipeline::{FILE, Pipeline};

#[test]
fn an_unreadable_file_keeps_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.safetensors");
    for e in [
        read_weights(&missing).unwrap_err(),
        pt_to_safetensors(&dir.path().join("missing.pt")).unwrap_err(),
    ] {
        assert!(matches!(e, ModelError::Io { .. }), "{e:?}");
        let io = e
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .unwrap_or_else(|| panic!("no io::Error beneath {e:?}"));
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        // The message is the file, then the OS's words, as before the cause was kept.
        let text = e.to_string();
        assert!(
            text.starts_with(&dir.path().display().to_string()),
            "{text}"
        );
        assert!(text.ends_with(&io.to_string()), "{text}");
    }
}

#[test]
fn a_malformed_file_keeps_the_parser_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE), "{ not json").unwrap();
    let e = Pipeline::read(dir.path()).unwrap_err();
    assert!(matches!(e, ModelError::Io { .. }), "{e:?}");
    let json = e
        .source()
        .and_then(|s| s.downcast_ref::<serde_json::Error>())
        .unwrap_or_else(|| panic!("no serde_json::Error beneath {e:?}"));
    assert!(e.to_string().ends_with(&json.to_string()), "{e}");

    let weights = dir.path().join("w.safetensors");
    let e =
        check_lstm_safetensors(&weights, b"not safetensors", &LstmConfig::default()).unwrap_err();
    assert!(matches!(e, ModelError::Format { .. }), "{e:?}");
    let cause = e
        .source()
        .and_then(|s| s.downcast_ref::<safetensors::SafeTensorError>())
        .unwrap_or_else(|| panic!("no SafeTensorError beneath {e:?}"));
    assert_eq!(
        e.to_string(),
        format!("{}: not a safetensors file ({cause})", weights.display())
    );
}

#[test]
fn a_searched_value_of_the_wrong_type_keeps_the_decoder_error() {
    let point = qts_models::search::Point::from([(
        "training.batch_size".to_string(),
        serde_json::json!("big"),
    )]);
    let e = qts_models::search::apply(&qts_config::ModelConfig::default(), &point).unwrap_err();
    assert!(matches!(e, ModelError::Setting { .. }), "{e:?}");
    let json = e
        .source()
        .and_then(|s| s.downcast_ref::<serde_json::Error>())
        .unwrap_or_else(|| panic!("no serde_json::Error beneath {e:?}"));
    // The message names the trial's point, then says what the decoder said.
    let text = e.to_string();
    assert!(text.starts_with("training.batch_size="), "{text}");
    assert!(text.ends_with(&json.to_string()), "{text}");
}

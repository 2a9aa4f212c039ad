//! Shared by the browser and Node suites: the state codec vector checks, on the vectors the
//! test kit embeds (`sessionkit::testing::STATE_CODEC_VECTORS`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use sessionkit::testing::STATE_CODEC_VECTORS;
use sessionkit::{state_checksum_text, ErrorKind, StateCodec};

fn vectors() -> Value {
    serde_json::from_str(STATE_CODEC_VECTORS).expect("tests/vectors/state_codec.json parses")
}

fn text<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} is not a string: {case}"))
}

fn unsigned(case: &Value, key: &str) -> u64 {
    case[key]
        .as_u64()
        .unwrap_or_else(|| panic!("vector field {key} is not an unsigned integer: {case}"))
}

/// Encodes each vector's `input_json`: the bytes must equal `blob_base64` exactly, with the
/// recorded size, compression flag and checksum.
pub fn check_vectors_encode() -> usize {
    let doc = vectors();
    let cases = doc["vectors"].as_array().expect("a `vectors` array");
    assert!(cases.len() >= 10, "too few vectors: {}", cases.len());
    for case in cases {
        let name = text(case, "name");
        let codec = StateCodec::new(
            unsigned(case, "compression_threshold"),
            unsigned(case, "max_bytes"),
        );
        let input: Value = serde_json::from_str(text(case, "input_json")).expect("input_json");
        assert_eq!(
            serde_json::to_string(&input).expect("serialise"),
            text(case, "canonical_json"),
            "{name}: canonical JSON"
        );
        let encoded = codec
            .encode(&input)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = STANDARD
            .decode(text(case, "blob_base64"))
            .expect("blob_base64");
        assert_eq!(encoded.blob, expected, "{name}: encoded bytes differ");
        assert_eq!(encoded.size, unsigned(case, "size"), "{name}: size");
        assert_eq!(
            Some(encoded.compressed),
            case["compressed"].as_bool(),
            "{name}: compressed"
        );
        assert_eq!(
            state_checksum_text(encoded.crc32),
            text(case, "checksum"),
            "{name}: checksum"
        );
    }
    cases.len()
}

/// Decodes each vector's blob to its canonical JSON and checksum.
pub fn check_vectors_decode() -> usize {
    let doc = vectors();
    let cases = doc["vectors"].as_array().expect("a `vectors` array");
    for case in cases {
        let name = text(case, "name");
        let codec = StateCodec::new(
            unsigned(case, "compression_threshold"),
            unsigned(case, "max_bytes"),
        );
        let blob = STANDARD
            .decode(text(case, "blob_base64"))
            .expect("blob_base64");
        let decoded = codec
            .decode(&blob)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let canonical: Value =
            serde_json::from_str(text(case, "canonical_json")).expect("canonical_json");
        assert_eq!(decoded.data, canonical, "{name}: decoded value");
        assert_eq!(
            serde_json::to_string(&decoded.data).expect("serialise"),
            text(case, "canonical_json"),
            "{name}: canonical text"
        );
        assert_eq!(
            state_checksum_text(decoded.crc32),
            text(case, "checksum"),
            "{name}: checksum"
        );
    }
    cases.len()
}

/// Every `corrupt` blob must be refused with `Corrupt`.
pub fn check_vectors_corrupt() -> usize {
    let doc = vectors();
    let corrupt = doc["corrupt"].as_array().expect("a `corrupt` array");
    assert!(
        corrupt.len() >= 8,
        "too few corrupt vectors: {}",
        corrupt.len()
    );
    for case in corrupt {
        let name = text(case, "name");
        let codec = StateCodec::new(10_240, unsigned(case, "max_bytes"));
        let blob = STANDARD
            .decode(text(case, "blob_base64"))
            .expect("blob_base64");
        match codec.decode(&blob) {
            Ok(_) => panic!("{name}: a corrupt blob decoded"),
            Err(err) => assert_eq!(err.kind(), ErrorKind::Corrupt, "{name}: {err}"),
        }
    }
    corrupt.len()
}

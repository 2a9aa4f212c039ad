//! The shared state codec vectors (`tests/vectors/state_codec.json`): this build must encode each
//! input to exactly the recorded bytes, decode the recorded bytes to the same value, and refuse
//! every corrupted blob with `Corrupt`. The wasm, Python and Kotlin test suites check the same file.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use sessionkit::{state_checksum_text, ErrorKind, StateCodec};

fn vectors() -> Value {
    let path = sessionkit::testing::scenario_dir(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors/state_codec.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("vectors readable"))
        .expect("vectors parse")
}

#[test]
fn encoder_reproduces_every_vector_byte_for_byte() {
    let doc = vectors();
    let cases = doc["vectors"].as_array().expect("vectors array");
    assert!(cases.len() >= 10);
    let mut compressed = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let codec = StateCodec::new(
            case["compression_threshold"].as_u64().unwrap(),
            case["max_bytes"].as_u64().unwrap(),
        );
        let input: Value = serde_json::from_str(case["input_json"].as_str().unwrap()).unwrap();
        assert_eq!(
            serde_json::to_string(&input).unwrap(),
            case["canonical_json"].as_str().unwrap(),
            "{name}: canonical JSON"
        );
        let encoded = codec.encode(&input).unwrap();
        let expected = STANDARD
            .decode(case["blob_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(encoded.blob, expected, "{name}: encoded bytes differ");
        assert_eq!(encoded.size, case["size"].as_u64().unwrap(), "{name}: size");
        assert_eq!(
            encoded.compressed,
            case["compressed"].as_bool().unwrap(),
            "{name}: compressed"
        );
        assert_eq!(
            state_checksum_text(encoded.crc32),
            case["checksum"].as_str().unwrap(),
            "{name}: checksum"
        );
        compressed += usize::from(encoded.compressed);
    }
    assert!(compressed >= 2, "vectors must exercise compression");
}

#[test]
fn decoder_reads_every_vector() {
    let doc = vectors();
    for case in doc["vectors"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let codec = StateCodec::new(
            case["compression_threshold"].as_u64().unwrap(),
            case["max_bytes"].as_u64().unwrap(),
        );
        let blob = STANDARD
            .decode(case["blob_base64"].as_str().unwrap())
            .unwrap();
        let decoded = codec
            .decode(&blob)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let canonical: Value =
            serde_json::from_str(case["canonical_json"].as_str().unwrap()).unwrap();
        assert_eq!(decoded.data, canonical, "{name}: decoded value");
        assert_eq!(
            state_checksum_text(decoded.crc32),
            case["checksum"].as_str().unwrap(),
            "{name}: checksum"
        );
    }
}

#[test]
fn every_corrupt_blob_is_refused_as_corrupt() {
    let doc = vectors();
    let corrupt = doc["corrupt"].as_array().unwrap();
    assert!(corrupt.len() >= 8);
    for case in corrupt {
        let name = case["name"].as_str().unwrap();
        let codec = StateCodec::new(10_240, case["max_bytes"].as_u64().unwrap());
        let blob = STANDARD
            .decode(case["blob_base64"].as_str().unwrap())
            .unwrap();
        let err = codec.decode(&blob).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{name}: {err}");
    }
}

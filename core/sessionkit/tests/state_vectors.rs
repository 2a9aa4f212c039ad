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

// ---- encrypted blobs (tests/vectors/state_encryption.json) -----------------------------------

fn encryption_vectors() -> Value {
    let path = sessionkit::testing::scenario_dir(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors/state_encryption.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("vectors readable"))
        .expect("vectors parse")
}

fn key_of(doc: &Value, id: u64) -> [u8; 32] {
    let entry = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"].as_u64() == Some(id))
        .expect("the vector's key");
    STANDARD
        .decode(entry["key_base64"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn encryption_reproduces_every_vector_byte_for_byte_and_opens_it() {
    let doc = encryption_vectors();
    let cases = doc["vectors"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let id = case["key_id"].as_u64().unwrap();
        let keys = sessionkit::StateKeys::new(u32::try_from(id).unwrap(), key_of(&doc, id));
        let nonce: [u8; 24] = STANDARD
            .decode(case["nonce_base64"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let plain = STANDARD
            .decode(case["plain_blob_base64"].as_str().unwrap())
            .unwrap();
        let blob = STANDARD
            .decode(case["blob_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            keys.seal_with_nonce(&plain, &nonce).unwrap(),
            blob,
            "{name}: sealed bytes differ"
        );
        assert_eq!(keys.open(&blob).unwrap(), plain, "{name}: opened bytes");
        assert_eq!(sessionkit::state_key_id(&blob), Some(id as u32), "{name}");
        let codec = StateCodec::new(
            case["compression_threshold"].as_u64().unwrap(),
            case["max_bytes"].as_u64().unwrap(),
        );
        let canonical: Value =
            serde_json::from_str(case["canonical_json"].as_str().unwrap()).unwrap();
        assert_eq!(codec.decode(&plain).unwrap().data, canonical, "{name}");
    }
}

#[test]
fn every_refused_encrypted_blob_is_corrupt() {
    let doc = encryption_vectors();
    let refused = doc["refused"].as_array().unwrap();
    assert!(refused.len() >= 10);
    for case in refused {
        let name = case["name"].as_str().unwrap();
        let blob = STANDARD
            .decode(case["blob_base64"].as_str().unwrap())
            .unwrap();
        let listed = case["keys"].as_array().unwrap();
        let mut keys: Option<sessionkit::StateKeys> = None;
        for entry in listed {
            let id = u32::try_from(entry[0].as_u64().unwrap()).unwrap();
            let key: [u8; 32] = STANDARD
                .decode(entry[1].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            keys = Some(match keys {
                None => sessionkit::StateKeys::new(id, key),
                Some(k) => k.with_old_key(id, key).unwrap(),
            });
        }
        let err = match &keys {
            Some(keys) => keys.open(&blob).expect_err(name),
            // No keys: a manager without keys refuses it as Corrupt (state_encryption.rs,
            // a_wrong_or_missing_key_is_corrupt_never_garbage); here, it is recognised as
            // encrypted, so it is never read as a plain blob.
            None => {
                assert!(sessionkit::state_is_encrypted(&blob), "{name}");
                continue;
            }
        };
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{name}: {err}");
    }
}

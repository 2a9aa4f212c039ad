//! Shared by the browser and Node suites: the embedded conformance scenarios and state codec
//! vectors (see `build.rs`), a runner that reports every failure, and the vector checks.

#![allow(dead_code)] // each suite uses its part

use std::future::Future;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use sessionkit::testing::{run, Scenario};
use sessionkit::{state_checksum_text, ErrorKind, StateCodec, Store};
use wasm_bindgen_test::console_log;

include!(concat!(env!("OUT_DIR"), "/embedded_test_data.rs"));

/// Every scenario of `tests/conformance/`, parsed; each one's name must equal its file name.
pub fn scenarios() -> Vec<Scenario> {
    assert!(
        !SCENARIO_FILES.is_empty(),
        "no conformance scenarios were embedded (tests/conformance missing?)"
    );
    SCENARIO_FILES
        .iter()
        .map(|(stem, text)| {
            let scenario = Scenario::parse(text).unwrap_or_else(|e| panic!("{stem}.json: {e}"));
            assert_eq!(
                scenario.name, *stem,
                "{stem}.json: name differs from the file name"
            );
            scenario
        })
        .collect()
}

/// Runs every scenario on a store from `open` (fresh for each), then `close` with what `open`
/// returned besides the store (e.g. a database name to delete). Logs each failure and a closing
/// `<label>: N passed, M failed` line; panics if any failed.
pub async fn run_every_scenario<Open, OpenFut, Close, CloseFut, Extra>(
    label: &str,
    mut open: Open,
    mut close: Close,
) where
    Open: FnMut(&Scenario) -> OpenFut,
    OpenFut: Future<Output = (Arc<dyn Store>, Extra)>,
    Close: FnMut(Extra) -> CloseFut,
    CloseFut: Future<Output = ()>,
{
    let scenarios = scenarios();
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let (store, extra) = open(scenario).await;
        let outcome = run(scenario, store).await;
        close(extra).await;
        if let Err(failure) = outcome {
            console_log!("FAILED {failure}");
            failures.push(failure);
        }
    }
    let passed = scenarios.len() - failures.len();
    console_log!("{label}: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{label}: {} of {} scenarios failed:\n{}",
        failures.len(),
        scenarios.len(),
        failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

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

//! Writes `tests/vectors/state_codec.json`: state codec inputs with their exact encoded bytes.
//!
//! Run once when the format changes (`cargo run -p sessionkit --example state_vectors`); the
//! tests of every platform then check their encoder reproduces these bytes and their decoder
//! reads them, and that the corrupted blobs are refused.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use sessionkit::StateCodec;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = std::fs::read_to_string(root.join("benches/corpus/doc_16KiB.json"))?;
    let repetitive = json!({"rows": (0..40).map(|i| json!({"id": i, "label": "row", "done": false})).collect::<Vec<_>>()});
    // (name, input JSON text, compression threshold, max bytes)
    let cases: Vec<(&str, String, u64, u64)> = vec![
        ("empty_object", "{}".into(), 10_240, 5_242_880),
        ("keys_sorted", r#"{"z": 1, "a": {"y": [3, 2, 1], "b": null}, "m": "text"}"#.into(), 10_240, 5_242_880),
        ("numbers", r#"{"int": 42, "neg": -7, "big": 18446744073709551615, "min": -9223372036854775808, "frac": 0.1, "exp": 1e300, "tiny": 5e-324}"#.into(), 10_240, 5_242_880),
        ("strings", r#"{"quote": "say \"hi\"", "ctrl": "tab\there\nnewline\u0001", "unicode": "żółć 東京 🚀", "slash": "a/b\\c"}"#.into(), 10_240, 5_242_880),
        ("top_level_array", r#"[1, "two", {"three": 3}, [4], true, null]"#.into(), 10_240, 5_242_880),
        ("top_level_null", "null".into(), 10_240, 5_242_880),
        ("top_level_string", r#""just a string""#.into(), 10_240, 5_242_880),
        ("compressed_small_threshold", repetitive.to_string(), 100, 5_242_880),
        ("at_threshold_stays_raw", format!("\"{}\"", "a".repeat(98)), 100, 5_242_880),
        // Above the threshold, but a zstd frame would be larger than the JSON: stored raw.
        ("incompressible_stays_raw", r#""abcdefghijklmnopqrstu""#.into(), 10, 5_242_880),
        ("corpus_doc_16KiB", corpus.trim().to_owned(), 10_240, 5_242_880),
    ];

    let mut vectors = Vec::new();
    for (name, input, threshold, max_bytes) in &cases {
        let value: Value = serde_json::from_str(input)?;
        let codec = StateCodec::new(*threshold, *max_bytes);
        let encoded = codec.encode(&value)?;
        vectors.push(json!({
            "name": name,
            "compression_threshold": threshold,
            "max_bytes": max_bytes,
            "input_json": input,
            "canonical_json": serde_json::to_string(&value)?,
            "size": encoded.size,
            "compressed": encoded.compressed,
            "checksum": sessionkit::state_checksum_text(encoded.crc32),
            "blob_base64": STANDARD.encode(&encoded.blob),
        }));
    }

    let good = StateCodec::new(10_240, 5_242_880)
        .encode(&json!({"k": "v"}))?
        .blob;
    let big = StateCodec::new(0, 5_242_880)
        .encode(&json!("x".repeat(4096)))?
        .blob;
    let mutate = |blob: &[u8], f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = blob.to_vec();
        f(&mut b);
        STANDARD.encode(b)
    };
    let corrupt = vec![
        json!({"name": "flipped_payload_bit", "max_bytes": 5_242_880, "blob_base64": mutate(&good, &|b| b[20] ^= 0x04)}),
        json!({"name": "flipped_compressed_bit", "max_bytes": 5_242_880, "blob_base64": mutate(&big, &|b| { let i = b.len() - 3; b[i] ^= 0x80 })}),
        json!({"name": "bad_magic", "max_bytes": 5_242_880, "blob_base64": mutate(&good, &|b| b[0] = b'X')}),
        json!({"name": "unknown_format_version", "max_bytes": 5_242_880, "blob_base64": mutate(&good, &|b| b[4] = 2)}),
        json!({"name": "unknown_codec", "max_bytes": 5_242_880, "blob_base64": mutate(&good, &|b| b[5] = 7)}),
        json!({"name": "truncated", "max_bytes": 5_242_880, "blob_base64": mutate(&good, &|b| b.truncate(b.len() - 1))}),
        json!({"name": "header_only_truncated", "max_bytes": 5_242_880, "blob_base64": mutate(&good, &|b| b.truncate(10))}),
        json!({"name": "declared_size_above_limit", "max_bytes": 1024, "blob_base64": STANDARD.encode(&big)}),
    ];

    let doc = json!({
        "format": "sessionkit state blob v1 (see core/sessionkit/src/state_codec.rs)",
        "vectors": vectors,
        "corrupt": corrupt,
    });
    let out = root.join("tests/vectors/state_codec.json");
    std::fs::write(&out, serde_json::to_string_pretty(&doc)? + "\n")?;
    println!(
        "wrote {} vectors and {} corrupt blobs to {}",
        cases.len(),
        8,
        out.display()
    );
    Ok(())
}

//! Writes `tests/vectors/state_encryption.json`: encrypted state blobs for fixed keys and
//! nonces, and blobs that must be refused.
//!
//! Run once when the format changes (`cargo run -p sessionkit --example state_encryption_vectors`);
//! the tests then check that this build seals each plain blob to exactly the recorded bytes,
//! opens them back, and refuses every damaged blob or wrong key as `Corrupt`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use sessionkit::{StateCodec, StateKeys};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let key_a: [u8; 32] = std::array::from_fn(|i| i as u8);
    let key_b: [u8; 32] = std::array::from_fn(|i| 0xff - i as u8);
    let keys = [(1u32, key_a), (4_294_967_295u32, key_b)];
    let nonce = |seed: u8| -> [u8; 24] { std::array::from_fn(|i| seed.wrapping_add(i as u8)) };
    let repetitive =
        json!({"rows": (0..40).map(|i| json!({"id": i, "label": "row"})).collect::<Vec<_>>()});
    // (name, input JSON, compression threshold, key id, nonce seed)
    let cases: Vec<(&str, String, u64, u32, u8)> = vec![
        ("empty_object_key_1", "{}".into(), 10_240, 1, 0),
        (
            "unicode_key_1",
            r#"{"text": "żółć 東京 🚀", "n": [1, 2.5, null]}"#.into(),
            10_240,
            1,
            0x40,
        ),
        (
            "compressed_key_max_id",
            repetitive.to_string(),
            100,
            4_294_967_295,
            0x80,
        ),
    ];
    let mut vectors = Vec::new();
    for (name, input, threshold, key_id, seed) in &cases {
        let value: Value = serde_json::from_str(input)?;
        let plain = StateCodec::new(*threshold, 5_242_880).encode(&value)?.blob;
        let key = keys.iter().find(|(id, _)| id == key_id).expect("a key").1;
        let sealed = StateKeys::new(*key_id, key).seal_with_nonce(&plain, &nonce(*seed))?;
        vectors.push(json!({
            "name": name,
            "key_id": key_id,
            "nonce_base64": STANDARD.encode(nonce(*seed)),
            "compression_threshold": threshold,
            "max_bytes": 5_242_880,
            "canonical_json": serde_json::to_string(&value)?,
            "plain_blob_base64": STANDARD.encode(&plain),
            "blob_base64": STANDARD.encode(&sealed),
        }));
    }

    let plain = StateCodec::new(10_240, 5_242_880)
        .encode(&json!({"k": "v"}))?
        .blob;
    let good = StateKeys::new(1, key_a).seal_with_nonce(&plain, &nonce(7))?;
    let mutate = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        STANDARD.encode(b)
    };
    let wrong_key = STANDARD.encode([0x5a; 32]);
    // Each refused case: the blob and the keys the reader has (id, base64 key).
    let refused = vec![
        json!({"name": "flipped_ciphertext_bit", "keys": [[1, STANDARD.encode(key_a)]], "blob_base64": mutate(&|b| b[40] ^= 0x01)}),
        json!({"name": "flipped_tag_bit", "keys": [[1, STANDARD.encode(key_a)]], "blob_base64": mutate(&|b| { let i = b.len() - 1; b[i] ^= 0x80 })}),
        json!({"name": "flipped_nonce_bit", "keys": [[1, STANDARD.encode(key_a)]], "blob_base64": mutate(&|b| b[20] ^= 0x10)}),
        json!({"name": "key_id_changed_to_another_configured_key", "keys": [[1, STANDARD.encode(key_a)], [2, STANDARD.encode(key_a)]], "blob_base64": mutate(&|b| b[5] = 2)}),
        json!({"name": "unknown_format_version", "keys": [[1, STANDARD.encode(key_a)]], "blob_base64": mutate(&|b| b[4] = 2)}),
        json!({"name": "truncated_tag", "keys": [[1, STANDARD.encode(key_a)]], "blob_base64": mutate(&|b| b.truncate(b.len() - 1))}),
        json!({"name": "header_only", "keys": [[1, STANDARD.encode(key_a)]], "blob_base64": mutate(&|b| b.truncate(33))}),
        json!({"name": "wrong_key_same_id", "keys": [[1, wrong_key]], "blob_base64": STANDARD.encode(&good)}),
        json!({"name": "key_id_not_configured", "keys": [[4_294_967_295u32, STANDARD.encode(key_b)]], "blob_base64": STANDARD.encode(&good)}),
        json!({"name": "no_keys_configured", "keys": [], "blob_base64": STANDARD.encode(&good)}),
    ];

    let doc = json!({
        "format": "sessionkit encrypted state blob v1 (see core/sessionkit/src/state_crypto.rs)",
        "keys": keys.iter().map(|(id, key)| json!({"id": id, "key_base64": STANDARD.encode(key)})).collect::<Vec<_>>(),
        "vectors": vectors,
        "refused": refused,
    });
    let out = root.join("tests/vectors/state_encryption.json");
    std::fs::write(&out, serde_json::to_string_pretty(&doc)? + "\n")?;
    println!(
        "wrote {} vectors and {} refused blobs to {}",
        cases.len(),
        10,
        out.display()
    );
    Ok(())
}

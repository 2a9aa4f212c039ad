//! The store test kit on the IndexedDB store in a real browser (`wasm-pack test --headless
//! --chrome`), each part on a fresh database (unique name): every conformance scenario, the
//! seeded differential run against the memory store, and the concurrency invariants
//! (interleaved IndexedDB transactions). Also the shared state codec vectors, so a blob written
//! in the browser decodes natively and back.

#![cfg(target_arch = "wasm32")]

mod common;

use sessionkit::testing::kit::{check_replica_store, check_store, Options};
use sessionkit::SessionId;
use sessionkit_indexeddb::IndexedDbStore;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_indexeddb_store_passes_the_store_kit() {
    let report = check_store(&Options::default(), |name| async move {
        let name = format!("sessionkit-kit-{name}-{}", SessionId::random().expect("id"));
        let store = IndexedDbStore::open(&name).await;
        store
            .unwrap_or_else(|e| panic!("open {name}: {e}"))
            .into_shared()
    })
    .await;
    console_log!("browser kit (indexeddb): {report}");
    report.assert_passed("indexeddb store");
}

#[wasm_bindgen_test]
async fn the_indexeddb_store_passes_the_replica_part_of_the_kit() {
    let name = format!(
        "sessionkit-kit-replicas-{}",
        SessionId::random().expect("id")
    );
    let store = IndexedDbStore::open(&name).await.expect("store opens");
    let checks = check_replica_store(&store)
        .await
        .unwrap_or_else(|failures| panic!("replica kit failed:\n{}", failures.join("\n")));
    console_log!("browser kit (indexeddb replicas): {checks} checks passed");
    drop(store);
    sessionkit_indexeddb::delete_database(&name)
        .await
        .expect("deleted");
}

#[wasm_bindgen_test]
fn state_codec_vectors_hold_in_the_browser() {
    let encoded = common::check_vectors_encode();
    let decoded = common::check_vectors_decode();
    let corrupt = common::check_vectors_corrupt();
    console_log!(
        "browser state codec vectors: {encoded} encoded, {decoded} decoded, {corrupt} corrupt refused"
    );
}

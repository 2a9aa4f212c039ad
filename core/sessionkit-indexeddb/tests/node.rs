//! The Node suite (`wasm-pack test --node`): the engine compiled to wasm, the store test kit on
//! the memory store, and the shared state codec vectors. Node has no IndexedDB; the IndexedDB
//! store is tested in a browser (`browser_*.rs`).

#![cfg(target_arch = "wasm32")]

mod common;

use std::sync::Arc;

use sessionkit::testing::kit::{check_store, Options};
use sessionkit::{MemoryStore, Store};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

#[wasm_bindgen_test]
async fn the_memory_store_passes_the_store_kit_in_wasm() {
    let report = check_store(&Options::default(), |_| async {
        Arc::new(MemoryStore::new()) as Arc<dyn Store>
    })
    .await;
    console_log!("node kit (memory store): {report}");
    report.assert_passed("memory store in wasm");
}

#[wasm_bindgen_test]
fn state_codec_vectors_hold_in_wasm() {
    let encoded = common::check_vectors_encode();
    let decoded = common::check_vectors_decode();
    let corrupt = common::check_vectors_corrupt();
    console_log!(
        "node state codec vectors: {encoded} encoded, {decoded} decoded, {corrupt} corrupt refused"
    );
}

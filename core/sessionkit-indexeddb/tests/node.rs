//! The Node suite (`wasm-pack test --node`): the engine compiled to wasm, run on the memory
//! store through every conformance scenario, and the shared state codec vectors. Node has no
//! IndexedDB; the IndexedDB store is tested in a browser (`browser_*.rs`).

#![cfg(target_arch = "wasm32")]

mod common;

use std::sync::Arc;

use sessionkit::{MemoryStore, Store};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

#[wasm_bindgen_test]
async fn every_scenario_passes_on_the_memory_store_in_wasm() {
    common::run_every_scenario(
        "node conformance (memory store)",
        |_| async { (Arc::new(MemoryStore::new()) as Arc<dyn Store>, ()) },
        |()| async {},
    )
    .await;
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

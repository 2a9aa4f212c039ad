//! The browser suite's core (`wasm-pack test --headless --chrome`): every conformance scenario
//! of `tests/conformance/` on a fresh IndexedDB database (unique name, deleted afterwards), and
//! the shared state codec vectors, so a blob written in the browser decodes natively and back.

#![cfg(target_arch = "wasm32")]

mod common;

use sessionkit::SessionId;
use sessionkit_indexeddb::{delete_database, IndexedDbStore};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn every_scenario_passes_on_indexeddb() {
    common::run_every_scenario(
        "browser conformance",
        |scenario| {
            let name = format!(
                "sessionkit-conformance-{}-{}",
                scenario.name,
                SessionId::random().expect("random id")
            );
            async move {
                let store = IndexedDbStore::open(&name)
                    .await
                    .unwrap_or_else(|e| panic!("open {name}: {e}"));
                (store.into_shared(), name)
            }
        },
        |name| async move {
            delete_database(&name)
                .await
                .unwrap_or_else(|e| panic!("delete {name}: {e}"));
        },
    )
    .await;
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

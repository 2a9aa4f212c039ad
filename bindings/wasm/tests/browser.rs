//! The wasm face in a real browser (`wasm-pack test --headless --chrome bindings/wasm`): a bad
//! configuration is refused before the IndexedDB database is opened, so it creates none.

#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Promise, Reflect};
use sessionkit_wasm::SessionManagerCore;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The names of the origin's IndexedDB databases (`indexedDB.databases()`).
async fn database_names() -> Vec<String> {
    let factory = Reflect::get(&js_sys::global(), &"indexedDB".into()).expect("indexedDB");
    let databases: Function = Reflect::get(&factory, &"databases".into())
        .expect("databases")
        .dyn_into()
        .expect("a function");
    let promise: Promise = databases
        .call0(&factory)
        .expect("called")
        .dyn_into()
        .expect("a promise");
    let list = JsFuture::from(promise).await.expect("listed");
    Array::from(&list)
        .iter()
        .filter_map(|db| Reflect::get(&db, &"name".into()).ok()?.as_string())
        .collect()
}

#[wasm_bindgen_test]
async fn a_bad_config_creates_no_indexeddb_database() {
    let name = format!("sessionkit-face-config-{}", js_sys::Math::random());
    for bad in [
        r#"{"idleTimeoutMs": 0}"#,
        r#"{"maxSessionsPerUser": 0}"#,
        r#"{"touchIntervalMs": 1800000}"#,
        r#"{"idleTimeoutMs": 7200000, "absoluteTimeoutMs": 3600000}"#,
    ] {
        let config = js_sys::JSON::parse(bad).expect("json");
        let opened = SessionManagerCore::open_indexed_db(name.clone().into(), config, None);
        let err = JsFuture::from(opened).await.expect_err("refused");
        let kind = Reflect::get(&err, &"kind".into()).expect("kind");
        assert_eq!(kind.as_string().as_deref(), Some("InvalidInput"), "{bad}");
        assert!(
            !database_names().await.contains(&name),
            "{bad}: the database was created"
        );
    }
    // The same call with a good configuration does create it.
    let opened = SessionManagerCore::open_indexed_db(name.clone().into(), JsValue::UNDEFINED, None);
    JsFuture::from(opened).await.expect("opened");
    assert!(database_names().await.contains(&name));
}

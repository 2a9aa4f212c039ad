//! The wasm face in a real browser (`wasm-pack test --headless --chrome bindings/wasm`): a bad
//! configuration or bad state keys are refused before the IndexedDB database is opened, so they
//! create none.

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

/// Opens the IndexedDB database `name` with `config` and `options`, which must be refused as
/// `InvalidInput` without creating it; the error.
async fn refused_without_a_database(
    name: &str,
    config: JsValue,
    options: JsValue,
    case: &str,
) -> JsValue {
    let opened = SessionManagerCore::open_indexed_db(name.into(), config, None, options);
    let err = JsFuture::from(opened).await.expect_err("refused");
    let kind = Reflect::get(&err, &"kind".into()).expect("kind");
    assert_eq!(kind.as_string().as_deref(), Some("InvalidInput"), "{case}");
    assert!(
        !database_names().await.contains(&name.to_owned()),
        "{case}: the database was created"
    );
    err
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
        refused_without_a_database(&name, config, JsValue::UNDEFINED, bad).await;
    }
    // The same call with a good configuration does create it.
    let opened = SessionManagerCore::open_indexed_db(
        name.clone().into(),
        JsValue::UNDEFINED,
        None,
        JsValue::UNDEFINED,
    );
    JsFuture::from(opened).await.expect("opened");
    assert!(database_names().await.contains(&name));
}

/// `{stateKeys: text}` as the npm package passes it.
fn key_options(text: &str) -> JsValue {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"stateKeys".into(), &text.into()).expect("set");
    options.into()
}

#[wasm_bindgen_test]
async fn bad_state_keys_create_no_indexeddb_database() {
    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let name = format!("sessionkit-face-keys-{}", js_sys::Math::random());
    let bad_options = [
        key_options(""),
        key_options("1:not base64!"),
        key_options("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"),
        key_options(&format!("x:{KEY}")),
        key_options(&format!("1:{KEY}\n1:{KEY}")),
        JsValue::from_str("1:key text outside an options object"),
        js_sys::JSON::parse(r#"{"stateKey": "1:AA=="}"#).expect("json"),
        js_sys::JSON::parse(r#"{"stateKeys": 7}"#).expect("json"),
    ];
    for (index, options) in bad_options.into_iter().enumerate() {
        let case = format!("#{index}");
        let err = refused_without_a_database(&name, JsValue::UNDEFINED, options, &case).await;
        let message = Reflect::get(&err, &"message".into()).expect("message");
        assert!(
            !message.as_string().unwrap_or_default().contains(KEY),
            "{case}: the error shows a key"
        );
    }
    // Good keys do create it.
    let opened = SessionManagerCore::open_indexed_db(
        name.clone().into(),
        JsValue::UNDEFINED,
        None,
        key_options(&format!("# current\n2:{KEY}\n1:{KEY}\n")),
    );
    JsFuture::from(opened).await.expect("opened");
    assert!(database_names().await.contains(&name));
}

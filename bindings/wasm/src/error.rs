//! Engine errors → the plain `{kind, message, …fields}` objects the npm package turns into
//! `SessionkitError`s.

use wasm_bindgen::JsValue;

use crate::records::{to_json_text, JsError};

/// The JS value a failed call rejects (or throws) with.
pub fn to_js(err: &sessionkit::Error) -> JsValue {
    to_json_text(&JsError::from(err))
        .ok()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .unwrap_or_else(|| JsValue::from_str(&err.to_string()))
}

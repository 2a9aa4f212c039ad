//! JSON values cross the boundary as [`Json`], a uniffi custom type lowered to JSON text:
//! Kotlin and Swift see a `String` of JSON, Python a dict/list/str/int/float/bool/None (the
//! conversion is `bindings.python.custom_types.Json` in `uniffi.toml`).

use serde::Serialize;
use serde_json::Value;

use crate::SessionkitError;

/// A JSON value, as JSON text. Text from the caller is parsed where it is used, so that a
/// malformed value is `InvalidInput` naming its argument (`data`, `patch`, `metadata`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Json(String);

uniffi::custom_type!(Json, String, {
    lower: |json| json.0,
    try_lift: |text| Ok(Json(text)),
});

impl Json {
    /// Writes `value` as compact JSON text.
    pub(crate) fn of<T: Serialize + ?Sized>(value: &T) -> Result<Json, SessionkitError> {
        text(value).map(Json)
    }

    /// JSON text already written (by the engine).
    pub(crate) fn from_text(text: String) -> Json {
        Json(text)
    }

    /// The value, parsed; malformed text is `InvalidInput { field }`.
    pub(crate) fn value(&self, field: &str) -> Result<Value, SessionkitError> {
        parse(field, &self.0)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Json {
    fn from(text: &str) -> Self {
        Json(text.to_owned())
    }
}

impl From<String> for Json {
    fn from(text: String) -> Self {
        Json(text)
    }
}

/// Parses `text` as the JSON argument `field`; malformed text is `InvalidInput { field }`.
pub(crate) fn parse(field: &str, text: &str) -> Result<Value, SessionkitError> {
    serde_json::from_str(text).map_err(|e| SessionkitError::InvalidInput {
        field: field.to_owned(),
        reason: format!("not valid JSON: {e}"),
    })
}

/// Writes `value` as compact JSON text.
pub(crate) fn text<T: Serialize + ?Sized>(value: &T) -> Result<String, SessionkitError> {
    serde_json::to_string(value).map_err(|e| SessionkitError::Storage {
        message: format!("could not write JSON: {e}"),
    })
}

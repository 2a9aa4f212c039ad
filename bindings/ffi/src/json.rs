//! JSON values cross the boundary as JSON text: parsed on the way in, written on the way out.

use serde::Serialize;
use serde_json::Value;

use crate::SessionkitError;

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

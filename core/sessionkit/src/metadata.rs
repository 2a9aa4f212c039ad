//! Session metadata: a JSON object, changed with JSON Merge Patch (RFC 7396).

use serde_json::{Map, Value};

use crate::{validation, Error, Result};

/// The largest serialized metadata accepted (64 KiB): metadata rides along with every session
/// read, so it stays small; larger client data belongs in state.
pub(crate) const MAX_METADATA_BYTES: usize = 64 * 1024;

/// Checks `value` is a JSON object and returns it.
pub(crate) fn object(field: &str, value: Value) -> Result<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Error::invalid_input(
            field,
            format!("must be a JSON object, got {}", type_name(&other)),
        )),
    }
}

/// Applies an RFC 7396 merge patch (which must itself be an object) to `target`.
pub(crate) fn merge(target: &Map<String, Value>, patch: &Value) -> Result<Map<String, Value>> {
    if !patch.is_object() {
        return Err(Error::invalid_input(
            "patch",
            format!("must be a JSON object, got {}", type_name(patch)),
        ));
    }
    let mut merged = Value::Object(target.clone());
    json_patch::merge(&mut merged, patch);
    // Merging an object patch into an object always yields an object.
    object("patch", merged)
}

/// Serializes metadata, refusing it above [`MAX_METADATA_BYTES`] or nested deeper than JSON
/// can be read back (the object itself is the first level).
pub(crate) fn to_text(metadata: &Map<String, Value>) -> Result<String> {
    let depth = validation::MAX_JSON_DEPTH - 1;
    if !metadata
        .values()
        .all(|v| validation::json_depth_within(v, depth))
    {
        return Err(validation::too_deep("metadata"));
    }
    let text = serde_json::to_string(metadata)
        .map_err(|e| Error::invalid_input("metadata", e.to_string()))?;
    if text.len() > MAX_METADATA_BYTES {
        return Err(Error::limit_exceeded("metadata_max_bytes"));
    }
    Ok(text)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_follows_rfc_7396() {
        let target = object("m", json!({"a": "b", "c": {"d": "e", "f": "g"}})).unwrap();
        let merged = merge(&target, &json!({"a": "z", "c": {"f": null}, "n": [1]})).unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({"a": "z", "c": {"d": "e"}, "n": [1]})
        );
    }

    #[test]
    fn non_object_patch_and_metadata_are_refused() {
        let target = Map::new();
        assert_eq!(
            merge(&target, &json!([1])).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
        assert!(object("metadata", json!("text")).is_err());
    }
}

//! Shared pieces of the fuzz targets: arbitrary JSON values and an independent RFC 7396
//! merge-patch implementation to check the engine's against.

use arbitrary::Arbitrary;
use serde_json::{Map, Number, Value};

/// A JSON value the fuzzer builds structurally (so nesting, key collisions and nulls in
/// patches are common), converted with [`Json::to_value`].
#[derive(Arbitrary, Debug, Clone)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (non-finite ones become `null`).
    Float(f64),
    /// A short key-like string, so patches hit existing keys.
    Key(u8),
    /// Any string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; later duplicates of a key win.
    Object(Vec<(KeyName, Json)>),
}

/// An object key: usually one of a few short names.
#[derive(Arbitrary, Debug, Clone)]
pub enum KeyName {
    /// `k0` … `k7`
    Short(u8),
    /// Any text.
    Any(String),
}

impl KeyName {
    fn text(&self) -> String {
        match self {
            KeyName::Short(n) => format!("k{}", n % 8),
            KeyName::Any(s) => s.clone(),
        }
    }
}

impl Json {
    /// The `serde_json` value, cut off (as `null`) below 160 levels: deeper than the engine
    /// accepts (127), shallow enough for every recursive walk of it.
    pub fn to_value(&self) -> Value {
        self.to_value_within(160)
    }

    fn to_value_within(&self, levels: usize) -> Value {
        if levels == 0 {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(n) => Value::from(*n),
            Json::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Key(n) => Value::from(format!("v{}", n % 4)),
            Json::Str(s) => Value::from(s.clone()),
            Json::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| v.to_value_within(levels - 1))
                    .collect(),
            ),
            Json::Object(pairs) => {
                let mut map = Map::new();
                for (k, v) in pairs {
                    map.insert(k.text(), v.to_value_within(levels - 1));
                }
                Value::Object(map)
            }
        }
    }
}

/// RFC 7396 §2 `MergePatch(Target, Patch)`, written from the RFC's pseudocode.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(patch) = patch else {
        return patch.clone();
    };
    let mut result = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    for (name, value) in patch {
        if value.is_null() {
            result.remove(name);
        } else {
            let current = result.get(name).cloned().unwrap_or(Value::Null);
            result.insert(name.clone(), merge_patch(&current, value));
        }
    }
    Value::Object(result)
}

/// Nesting depth in arrays and objects (a scalar is 0).
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

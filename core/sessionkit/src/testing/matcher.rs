//! References (`$name.path`), expressions (`$concat`, `$repeat`) and the subset matcher.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Results saved by earlier steps, resolvable as `$name` or `$name.field.0.field`.
#[derive(Debug, Default)]
pub struct Refs {
    saved: HashMap<String, Value>,
}

impl Refs {
    /// Saves a step's result.
    pub fn save(&mut self, name: &str, value: Value) {
        self.saved.insert(name.to_owned(), value);
    }

    /// Replaces references and expressions in `value` by what they denote. Matchers
    /// (`$type`, `$len`, `$ne`) are left for [`matches`], their operands resolved.
    pub fn resolve(&self, value: &Value) -> Result<Value, String> {
        match value {
            Value::String(s) if s.starts_with("$$") => Ok(Value::String(s[1..].to_owned())),
            Value::String(s) if s.starts_with('$') => self.lookup(&s[1..]),
            Value::Array(items) => items
                .iter()
                .map(|v| self.resolve(v))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Value::Object(map) if map.len() == 1 && map.contains_key("$concat") => {
                let parts = self.resolve(&map["$concat"])?;
                let parts = parts.as_array().ok_or("$concat takes an array")?;
                let mut out = String::new();
                for part in parts {
                    match part {
                        Value::String(s) => out.push_str(s),
                        other => out.push_str(&other.to_string()),
                    }
                }
                Ok(Value::String(out))
            }
            Value::Object(map) if map.len() == 1 && map.contains_key("$repeat") => {
                let args = self.resolve(&map["$repeat"])?;
                match args.as_array().map(Vec::as_slice) {
                    Some([Value::String(s), Value::Number(n)]) => {
                        let n = n
                            .as_u64()
                            .ok_or("$repeat count must be a non-negative integer")?;
                        Ok(Value::String(s.repeat(n as usize)))
                    }
                    _ => Err("$repeat takes [string, count]".to_owned()),
                }
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.resolve(v)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn lookup(&self, path: &str) -> Result<Value, String> {
        let mut parts = path.split('.');
        let name = parts.next().unwrap_or_default();
        let mut current = self
            .saved
            .get(name)
            .ok_or_else(|| format!("no saved result named {name:?}"))?;
        for part in parts {
            current = match current {
                Value::Object(map) => map.get(part),
                Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            }
            .ok_or_else(|| format!("${path}: nothing at {part:?}"))?;
        }
        Ok(current.clone())
    }
}

/// Whether `actual` matches `expected`: objects match when every expected key matches (extra
/// keys are ignored), arrays element by element with equal length, scalars by equality.
/// Matcher objects: `{"$type": "string"|"number"|"boolean"|"null"|"array"|"object"}`,
/// `{"$len": n}` (array or string length), `{"$ne": value}`.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match expected {
        Value::Object(map) if map.len() == 1 && map.contains_key("$type") => {
            let kind = match actual {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            map["$type"].as_str() == Some(kind)
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$len") => {
            let len = match actual {
                Value::Array(items) => items.len(),
                Value::String(s) => s.chars().count(),
                _ => return false,
            };
            map["$len"].as_u64() == Some(len as u64)
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$ne") => &map["$ne"] != actual,
        Value::Object(map) => match actual {
            Value::Object(actual) => map.iter().all(|(k, v)| {
                actual.get(k).is_some_and(|a| matches(v, a))
                    || (v.is_null() && !actual.contains_key(k))
            }),
            _ => false,
        },
        Value::Array(items) => match actual {
            Value::Array(actual) => {
                items.len() == actual.len() && items.iter().zip(actual).all(|(e, a)| matches(e, a))
            }
            _ => false,
        },
        Value::Number(n) => match actual {
            Value::Number(a) => match (n.as_i64(), a.as_i64(), n.as_u64(), a.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => n.as_f64() == a.as_f64(),
            },
            _ => false,
        },
        other => other == actual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_matching_and_matchers() {
        let actual = json!({"a": 1, "b": [1, 2], "c": "xyz", "d": null});
        assert!(matches(&json!({"a": 1}), &actual));
        assert!(!matches(&json!({"a": 2}), &actual));
        assert!(!matches(&json!({"b": [1]}), &actual));
        assert!(matches(
            &json!({"b": {"$len": 2}, "c": {"$type": "string"}}),
            &actual
        ));
        assert!(matches(
            &json!({"c": {"$ne": "abc"}, "d": null, "e": null}),
            &actual
        ));
        assert!(!matches(&json!({"e": 1}), &actual));
    }

    #[test]
    fn references_and_expressions_resolve() {
        let mut refs = Refs::default();
        refs.save("s", json!({"session": {"id": "abc"}, "list": [10, 20]}));
        assert_eq!(refs.resolve(&json!("$s.session.id")).unwrap(), json!("abc"));
        assert_eq!(refs.resolve(&json!("$s.list.1")).unwrap(), json!(20));
        assert_eq!(
            refs.resolve(&json!({"$concat": ["$s.session.id", ".", 7]}))
                .unwrap(),
            json!("abc.7")
        );
        assert_eq!(
            refs.resolve(&json!({"$repeat": ["ab", 3]})).unwrap(),
            json!("ababab")
        );
        assert_eq!(
            refs.resolve(&json!("$$literal")).unwrap(),
            json!("$literal")
        );
        assert!(refs.resolve(&json!("$missing")).is_err());
    }
}

//! Checks on caller-supplied fields, so bad input is refused before anything is stored.

use crate::{Error, NewSession, Result};

/// Longest `user_id` in bytes.
pub(crate) const MAX_USER_ID_BYTES: usize = 256;
const MAX_SHORT_FIELD_BYTES: usize = 256;
const MAX_USER_AGENT_BYTES: usize = 1024;

/// Checks a user id: non-empty, at most 256 bytes, no control characters.
pub(crate) fn user_id(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_input("user_id", "must not be empty"));
    }
    if value.len() > MAX_USER_ID_BYTES {
        return Err(Error::invalid_input("user_id", "must be at most 256 bytes"));
    }
    no_control_characters("user_id", value)
}

fn no_control_characters(field: &str, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<()> {
    if let Some(text) = value {
        if text.len() > max {
            return Err(Error::invalid_input(
                field,
                format!("must be at most {max} bytes"),
            ));
        }
        no_control_characters(field, text)?;
    }
    Ok(())
}

/// Checks every field of a new session except metadata (checked when it is serialized).
pub(crate) fn new_session(new: &NewSession) -> Result<()> {
    user_id(&new.user_id)?;
    optional_text(
        "client_version",
        new.client_version.as_deref(),
        MAX_SHORT_FIELD_BYTES,
    )?;
    optional_text("device", new.device.as_deref(), MAX_SHORT_FIELD_BYTES)?;
    optional_text(
        "user_agent",
        new.user_agent.as_deref(),
        MAX_USER_AGENT_BYTES,
    )?;
    if let Some(ip) = new.ip.as_deref() {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(Error::invalid_input(
                "ip",
                "must be an IPv4 or IPv6 address",
            ));
        }
    }
    Ok(())
}

/// The deepest nesting of arrays and objects that reading JSON back accepts (serde_json's
/// recursion limit). A deeper value could be written but never read again, so it is refused.
pub(crate) const MAX_JSON_DEPTH: usize = 127;

/// Whether `value` nests at most `remaining` arrays and objects. Recurses at most
/// `remaining + 1` frames deep, whatever the value.
pub(crate) fn json_depth_within(value: &serde_json::Value, remaining: usize) -> bool {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            remaining > 0 && items.iter().all(|v| json_depth_within(v, remaining - 1))
        }
        Value::Object(map) => {
            remaining > 0 && map.values().all(|v| json_depth_within(v, remaining - 1))
        }
        _ => true,
    }
}

/// `InvalidInput { field }` for JSON nested deeper than [`MAX_JSON_DEPTH`].
pub(crate) fn too_deep(field: &str) -> Error {
    Error::invalid_input(
        field,
        format!("nested deeper than {MAX_JSON_DEPTH} arrays and objects"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientKind;

    #[test]
    fn user_ids_are_checked() {
        assert!(user_id("alice").is_ok());
        assert!(user_id(&"é".repeat(128)).is_ok());
        for bad in ["", "a\0b", "tab\there", &"x".repeat(257), &"é".repeat(129)] {
            assert_eq!(
                user_id(bad).unwrap_err().kind(),
                crate::ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn optional_fields_are_checked() {
        let mut new = NewSession::new("u", ClientKind::Web);
        new.ip = Some("::1".into());
        assert!(new_session(&new).is_ok());
        new.ip = Some("localhost".into());
        assert!(new_session(&new).is_err());
        new.ip = None;
        new.user_agent = Some("x".repeat(1025));
        assert!(new_session(&new).is_err());
    }
}

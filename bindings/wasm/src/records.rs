//! The engine's records as JavaScript sees them: the same fields under camelCase names
//! (`userId`, `lastActiveAt`, …), serialized to JSON text and parsed into plain JS objects.
//!
//! Only field *names* change here. User JSON (`metadata`, state `data`) passes through untouched,
//! and times and counts are JSON integers, so they arrive in JS as exact numbers (every i64 of
//! milliseconds up to the year 287,396 fits in 2^53).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

/// A session (`Session` in the engine).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsSession<'a> {
    id: String,
    user_id: &'a str,
    created_at: i64,
    last_active_at: i64,
    expires_at: i64,
    absolute_expires_at: i64,
    client: JsClient<'a>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    active: bool,
    metadata: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct JsClient<'a> {
    kind: &'static str,
    version: Option<&'a str>,
    device: Option<&'a str>,
}

impl<'a> From<&'a sessionkit::Session> for JsSession<'a> {
    fn from(s: &'a sessionkit::Session) -> Self {
        JsSession {
            id: s.id.to_string(),
            user_id: &s.user_id,
            created_at: s.created_at,
            last_active_at: s.last_active_at,
            expires_at: s.expires_at,
            absolute_expires_at: s.absolute_expires_at,
            client: JsClient {
                kind: s.client.kind.as_str(),
                version: s.client.version.as_deref(),
                device: s.client.device.as_deref(),
            },
            ip: s.ip.as_deref(),
            user_agent: s.user_agent.as_deref(),
            active: s.active,
            metadata: &s.metadata,
        }
    }
}

/// The result of `create` and `rotate`: the session and its token (shown once).
#[derive(Serialize)]
pub struct JsCreated<'a> {
    session: JsSession<'a>,
    token: &'a str,
}

impl<'a> From<&'a sessionkit::Created> for JsCreated<'a> {
    fn from(c: &'a sessionkit::Created) -> Self {
        JsCreated {
            session: JsSession::from(&c.session),
            token: c.token.as_str(),
        }
    }
}

/// One page of `listUserSessions`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsPage<'a> {
    items: Vec<JsSession<'a>>,
    next_cursor: Option<&'a str>,
}

impl<'a> From<&'a sessionkit::Page<sessionkit::Session>> for JsPage<'a> {
    fn from(p: &'a sessionkit::Page<sessionkit::Session>) -> Self {
        JsPage {
            items: p.items.iter().map(JsSession::from).collect(),
            next_cursor: p.next_cursor.as_deref(),
        }
    }
}

/// A session's client state, decoded and verified, but for its data: see [`state_json_text`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsState<'a> {
    version: u64,
    checksum: &'a str,
    size: u64,
    compressed: bool,
    stored_size: u64,
    updated_at: i64,
}

impl<'a> From<&'a sessionkit::State<String>> for JsState<'a> {
    fn from(s: &'a sessionkit::State<String>) -> Self {
        JsState {
            version: s.version,
            checksum: &s.checksum,
            size: s.size,
            compressed: s.compressed,
            stored_size: s.stored_size,
            updated_at: s.updated_at,
        }
    }
}

/// Aggregate figures (`stats`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsStats<'a> {
    total: u64,
    active: u64,
    created_last_24h: u64,
    created_last_7d: u64,
    by_client_kind: &'a BTreeMap<String, u64>,
    average_duration_ms: i64,
}

impl<'a> From<&'a sessionkit::Stats> for JsStats<'a> {
    fn from(s: &'a sessionkit::Stats) -> Self {
        JsStats {
            total: s.total,
            active: s.active,
            created_last_24h: s.created_last_24h,
            created_last_7d: s.created_last_7d,
            by_client_kind: &s.by_client_kind,
            average_duration_ms: s.average_duration_ms,
        }
    }
}

/// The configuration in force, every field filled in.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsConfig {
    idle_timeout_ms: i64,
    absolute_timeout_ms: i64,
    touch_interval_ms: i64,
    max_sessions_per_user: Option<u32>,
    session_limit_policy: &'static str,
    state_compression_threshold: u64,
    state_max_bytes: u64,
    context_policy: &'static str,
}

impl From<&sessionkit::Config> for JsConfig {
    fn from(c: &sessionkit::Config) -> Self {
        JsConfig {
            idle_timeout_ms: c.idle_timeout_ms,
            absolute_timeout_ms: c.absolute_timeout_ms,
            touch_interval_ms: c.touch_interval_ms,
            max_sessions_per_user: c.max_sessions_per_user,
            session_limit_policy: c.session_limit_policy.as_str(),
            state_compression_threshold: c.state_compression_threshold,
            state_max_bytes: c.state_max_bytes,
            context_policy: c.context_policy.as_str(),
        }
    }
}

/// An event: `type` and the fields of its variant, camelCase (`sessionId`, `oldSessionId`, …).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_changed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent_changed: Option<bool>,
}

impl<'a> From<&'a sessionkit::Event> for JsEvent<'a> {
    fn from(e: &'a sessionkit::Event) -> Self {
        use sessionkit::Event;
        let mut out = JsEvent {
            kind: e.name(),
            session_id: None,
            user_id: None,
            old_session_id: None,
            version: None,
            removed: None,
            ip_changed: None,
            user_agent_changed: None,
        };
        match e {
            Event::Created {
                session_id,
                user_id,
            } => {
                out.session_id = Some(session_id.to_string());
                out.user_id = Some(user_id);
            }
            Event::Rotated {
                old_session_id,
                session_id,
                user_id,
            } => {
                out.session_id = Some(session_id.to_string());
                out.old_session_id = Some(old_session_id.to_string());
                out.user_id = Some(user_id);
            }
            Event::MetadataUpdated { session_id }
            | Event::Revoked { session_id }
            | Event::Deleted { session_id }
            | Event::Expired { session_id } => out.session_id = Some(session_id.to_string()),
            Event::StateChanged {
                session_id,
                version,
            } => {
                out.session_id = Some(session_id.to_string());
                out.version = Some(*version);
            }
            Event::ContextChanged {
                session_id,
                ip_changed,
                user_agent_changed,
            } => {
                out.session_id = Some(session_id.to_string());
                out.ip_changed = Some(*ip_changed);
                out.user_agent_changed = Some(*user_agent_changed);
            }
            Event::CleanupCompleted { removed } => out.removed = Some(*removed),
        }
        out
    }
}

/// An error as plain data: `kind` (the docs/SPEC.md §5 variant), `message`, and the variant's
/// fields (`currentVersion`, `what`, `field`, `reason`, `found`, `supported`). The npm package
/// turns it into a `SessionkitError`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsError<'a> {
    kind: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    what: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    found: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supported: Option<i64>,
}

impl<'a> From<&'a sessionkit::Error> for JsError<'a> {
    fn from(err: &'a sessionkit::Error) -> Self {
        use sessionkit::Error;
        let mut out = JsError {
            kind: err.kind().as_str(),
            message: err.to_string(),
            current_version: None,
            what: None,
            field: None,
            reason: None,
            found: None,
            supported: None,
        };
        match err {
            Error::Conflict { current_version } => out.current_version = Some(*current_version),
            Error::LimitExceeded { what } | Error::Corrupt { what } => out.what = Some(what),
            Error::InvalidInput { field, reason } => {
                out.field = Some(field);
                out.reason = Some(reason);
            }
            Error::IncompatibleSchema { found, supported } => {
                out.found = Some(*found);
                out.supported = Some(*supported);
            }
            Error::InvalidToken
            | Error::NotFound
            | Error::Expired
            | Error::Revoked
            | Error::Storage { .. } => {}
        }
        out
    }
}

/// Serializes a record to the JSON text handed to JavaScript.
pub fn to_json_text<T: Serialize>(record: &T) -> sessionkit::Result<String> {
    serde_json::to_string(record).map_err(sessionkit::Error::storage)
}

/// A state record as JSON text, its `data` the state's stored JSON text put in as it is (text
/// verified by its checksum; the `JSON.parse` of the whole record is the only parse).
pub fn state_json_text(state: &sessionkit::State<String>) -> sessionkit::Result<String> {
    let rest = to_json_text(&JsState::from(state))?;
    // `rest` is an object with fields: `{"version":…}`.
    Ok(format!("{{\"data\":{},{}", state.data, &rest[1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sessionkit::{ClientInfo, ClientKind, Error, Event, SessionId};

    fn session() -> sessionkit::Session {
        let mut metadata = Map::new();
        metadata.insert("snake_key".into(), json!({"user_id": 1}));
        sessionkit::Session {
            id: SessionId::from_bytes([7; 16]),
            user_id: "alice".into(),
            created_at: 1_700_000_000_000,
            last_active_at: 1_700_000_000_001,
            expires_at: 1_700_001_800_001,
            absolute_expires_at: 1_702_592_000_000,
            client: ClientInfo {
                kind: ClientKind::Mobile,
                version: Some("1.2".into()),
                device: None,
            },
            ip: None,
            user_agent: Some("ua".into()),
            active: true,
            metadata,
        }
    }

    #[test]
    fn sessions_use_camel_case_names_and_leave_metadata_alone() {
        let s = session();
        let v: Value = serde_json::from_str(&to_json_text(&JsSession::from(&s)).unwrap()).unwrap();
        assert_eq!(
            v,
            json!({
                "id": s.id.to_string(),
                "userId": "alice",
                "createdAt": 1_700_000_000_000_i64,
                "lastActiveAt": 1_700_000_000_001_i64,
                "expiresAt": 1_700_001_800_001_i64,
                "absoluteExpiresAt": 1_702_592_000_000_i64,
                "client": {"kind": "mobile", "version": "1.2", "device": null},
                "ip": null,
                "userAgent": "ua",
                "active": true,
                "metadata": {"snake_key": {"user_id": 1}},
            })
        );
    }

    #[test]
    fn a_state_record_carries_its_data_text_as_json() {
        let state = sessionkit::State {
            version: 3,
            data: r#"{"a":[1,"x"],"b":{"snake_key":null}}"#.to_owned(),
            checksum: "crc32:0badf00d".into(),
            size: 36,
            compressed: false,
            stored_size: 54,
            updated_at: 1_700_000_000_000,
        };
        let v: Value = serde_json::from_str(&state_json_text(&state).unwrap()).unwrap();
        assert_eq!(
            v,
            json!({
                "version": 3,
                "data": {"a": [1, "x"], "b": {"snake_key": null}},
                "checksum": "crc32:0badf00d",
                "size": 36,
                "compressed": false,
                "storedSize": 54,
                "updatedAt": 1_700_000_000_000_i64,
            })
        );
    }

    #[test]
    fn times_are_json_integers() {
        let text = to_json_text(&JsSession::from(&session())).unwrap();
        assert!(text.contains("\"createdAt\":1700000000000,"), "{text}");
    }

    #[test]
    fn events_carry_only_their_fields() {
        let id = SessionId::from_bytes([1; 16]);
        let old = SessionId::from_bytes([2; 16]);
        let cases = [
            (
                Event::Rotated {
                    old_session_id: old,
                    session_id: id,
                    user_id: "u".into(),
                },
                json!({"type": "Rotated", "sessionId": id.to_string(),
                       "oldSessionId": old.to_string(), "userId": "u"}),
            ),
            (
                Event::StateChanged {
                    session_id: id,
                    version: 3,
                },
                json!({"type": "StateChanged", "sessionId": id.to_string(), "version": 3}),
            ),
            (
                Event::CleanupCompleted { removed: 2 },
                json!({"type": "CleanupCompleted", "removed": 2}),
            ),
        ];
        for (event, expected) in cases {
            let v: Value = serde_json::to_value(JsEvent::from(&event)).unwrap();
            assert_eq!(v, expected);
        }
    }

    #[test]
    fn errors_name_their_kind_and_fields() {
        let cases = [
            (
                Error::Conflict { current_version: 4 },
                json!({"kind": "Conflict", "currentVersion": 4}),
            ),
            (
                Error::invalid_input("user_id", "empty"),
                json!({"kind": "InvalidInput", "field": "user_id", "reason": "empty"}),
            ),
            (
                Error::IncompatibleSchema {
                    found: 9,
                    supported: 2,
                },
                json!({"kind": "IncompatibleSchema", "found": 9, "supported": 2}),
            ),
            (Error::InvalidToken, json!({"kind": "InvalidToken"})),
        ];
        for (err, expected) in cases {
            let mut v = serde_json::to_value(JsError::from(&err)).unwrap();
            assert_eq!(v["message"], json!(err.to_string()));
            v.as_object_mut().unwrap().remove("message");
            assert_eq!(v, expected);
        }
    }
}

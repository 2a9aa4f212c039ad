//! The records that cross the boundary (SPEC §1 and §3 field names), and their conversions
//! from and to the engine's types. JSON values are [`Json`]; the client kind is an enum.

use std::collections::HashMap;

use crate::error::Result;
use crate::{ClientKind, Json};

/// The client (device/app) a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientInfo {
    /// Desktop, mobile, web or other.
    pub kind: ClientKind,
    /// The client app's version, if known.
    pub version: Option<String>,
    /// A human-readable device name, if known.
    pub device: Option<String>,
}

/// A session as callers see it. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Session {
    /// Public identifier (22 characters of base64url), safe to show in a device list.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
    /// When it was last seen active (ms since the epoch).
    pub last_active_at: i64,
    /// When it expires: the earlier of idle expiry and `absolute_expires_at`.
    pub expires_at: i64,
    /// `created_at + absolute_timeout`; never extended.
    pub absolute_expires_at: i64,
    /// The client it belongs to.
    pub client: ClientInfo,
    /// The client's IP address at creation.
    pub ip: Option<String>,
    /// The client's user agent at creation.
    pub user_agent: Option<String>,
    /// False once revoked.
    pub active: bool,
    /// A JSON object.
    pub metadata: Json,
}

/// What `create` needs to start a session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewSession {
    /// The owner: opaque, non-empty, at most 256 bytes.
    pub user_id: String,
    /// Desktop, mobile, web or other (`parse_client_kind` reads a name).
    pub client_kind: ClientKind,
    /// The client app's version.
    #[uniffi(default = None)]
    pub client_version: Option<String>,
    /// A device name for device lists.
    #[uniffi(default = None)]
    pub device: Option<String>,
    /// The client's IP address (a signal only).
    #[uniffi(default = None)]
    pub ip: Option<String>,
    /// The client's user agent.
    #[uniffi(default = None)]
    pub user_agent: Option<String>,
    /// Initial metadata; must be a JSON object.
    #[uniffi(default = None)]
    pub metadata: Option<Json>,
}

/// The result of `create` and `rotate`: the session and its bearer token, returned only here.
///
/// `Debug` and `Display` are exported, so the generated Kotlin `toString()`, Swift
/// `description`/`debugDescription` and Python `repr()` show the session but never the token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Created {
    /// The new session.
    pub session: Session,
    /// The bearer token for the client, `<id>.<secret>`. Never stored; show it once.
    pub token: String,
}

impl std::fmt::Debug for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Created")
            .field("session", &self.session)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl std::fmt::Display for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Created(session_id={}, user_id={}, token=<redacted>)",
            self.session.id, self.session.user_id
        )
    }
}

/// Options of `list_user_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ListOptions {
    /// Only sessions that are neither revoked nor expired.
    #[uniffi(default = false)]
    pub active_only: bool,
    /// Page size, 1 to 1000 (default 50).
    #[uniffi(default = 50)]
    pub limit: u32,
    /// `next_cursor` of the previous page, to continue after it.
    #[uniffi(default = None)]
    pub cursor: Option<String>,
}

/// One page of a user's sessions, newest activity first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Page {
    /// The page's sessions.
    pub items: Vec<Session>,
    /// Pass this back in `ListOptions.cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A session's client state, decoded and verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct State {
    /// Starts at 1 and grows by one with every write.
    pub version: u64,
    /// The state (canonical JSON: compact, keys sorted).
    pub data: Json,
    /// Checksum of the stored blob, `crc32:` and 8 hex digits.
    pub checksum: String,
    /// Size of the serialized JSON in bytes.
    pub size: u64,
    /// Whether it is stored compressed.
    pub compressed: bool,
    /// Size of the stored encoded form in bytes.
    pub stored_size: u64,
    /// When it was last written (ms since the epoch).
    pub updated_at: i64,
}

/// Aggregate figures over the stored sessions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Stats {
    /// Sessions stored (any status).
    pub total: u64,
    /// Sessions neither revoked nor expired.
    pub active: u64,
    /// Sessions created in the last 24 hours.
    pub created_last_24h: u64,
    /// Sessions created in the last 7 days.
    pub created_last_7d: u64,
    /// Stored sessions per client kind, by its name (`web`, …; every kind present).
    pub by_client_kind: HashMap<String, u64>,
    /// Mean of `last_active_at - created_at` over all stored sessions (0 when none).
    pub average_duration_ms: i64,
}

/// What `import_sessions` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ImportSummary {
    /// Sessions imported.
    pub imported: u64,
    /// Records skipped because a session with their id exists already (insert-only).
    pub skipped: u64,
}

impl Default for ListOptions {
    fn default() -> Self {
        sessionkit::ListOptions::default().into()
    }
}

impl From<sessionkit::ListOptions> for ListOptions {
    fn from(o: sessionkit::ListOptions) -> Self {
        ListOptions {
            active_only: o.active_only,
            limit: o.limit,
            cursor: o.cursor,
        }
    }
}

impl From<ListOptions> for sessionkit::ListOptions {
    fn from(o: ListOptions) -> Self {
        sessionkit::ListOptions {
            active_only: o.active_only,
            limit: o.limit,
            cursor: o.cursor,
        }
    }
}

impl TryFrom<NewSession> for sessionkit::NewSession {
    type Error = crate::SessionkitError;

    fn try_from(n: NewSession) -> Result<Self> {
        Ok(sessionkit::NewSession {
            client_kind: n.client_kind.into(),
            metadata: n
                .metadata
                .as_ref()
                .map(|json| json.value("metadata"))
                .transpose()?,
            user_id: n.user_id,
            client_version: n.client_version,
            device: n.device,
            ip: n.ip,
            user_agent: n.user_agent,
        })
    }
}

impl TryFrom<sessionkit::Session> for Session {
    type Error = crate::SessionkitError;

    fn try_from(s: sessionkit::Session) -> Result<Self> {
        Ok(Session {
            metadata: Json::of(&s.metadata)?,
            id: s.id.to_string(),
            user_id: s.user_id,
            created_at: s.created_at,
            last_active_at: s.last_active_at,
            expires_at: s.expires_at,
            absolute_expires_at: s.absolute_expires_at,
            client: ClientInfo {
                kind: s.client.kind.into(),
                version: s.client.version,
                device: s.client.device,
            },
            ip: s.ip,
            user_agent: s.user_agent,
            active: s.active,
        })
    }
}

impl TryFrom<sessionkit::Created> for Created {
    type Error = crate::SessionkitError;

    fn try_from(c: sessionkit::Created) -> Result<Self> {
        Ok(Created {
            token: c.token.as_str().to_owned(),
            session: c.session.try_into()?,
        })
    }
}

impl TryFrom<sessionkit::Page<sessionkit::Session>> for Page {
    type Error = crate::SessionkitError;

    fn try_from(p: sessionkit::Page<sessionkit::Session>) -> Result<Self> {
        Ok(Page {
            items: p
                .items
                .into_iter()
                .map(Session::try_from)
                .collect::<Result<_>>()?,
            next_cursor: p.next_cursor,
        })
    }
}

impl From<sessionkit::State<String>> for State {
    fn from(s: sessionkit::State<String>) -> Self {
        State {
            data: Json::from_text(s.data),
            version: s.version,
            checksum: s.checksum,
            size: s.size,
            compressed: s.compressed,
            stored_size: s.stored_size,
            updated_at: s.updated_at,
        }
    }
}

impl From<sessionkit::Stats> for Stats {
    fn from(s: sessionkit::Stats) -> Self {
        Stats {
            total: s.total,
            active: s.active,
            created_last_24h: s.created_last_24h,
            created_last_7d: s.created_last_7d,
            by_client_kind: s.by_client_kind.into_iter().collect(),
            average_duration_ms: s.average_duration_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `#[uniffi(default = 50)]` literal on `ListOptions::limit` is the engine's default.
    #[test]
    fn foreign_list_defaults_are_the_engines() {
        let literals = ListOptions {
            active_only: false,
            limit: 50,
            cursor: None,
        };
        assert_eq!(literals, ListOptions::default());
    }

    #[test]
    fn new_session_fields_are_parsed_by_the_engine() {
        let new = NewSession {
            user_id: "alice".into(),
            client_kind: ClientKind::Web,
            client_version: None,
            device: None,
            ip: None,
            user_agent: None,
            metadata: None,
        };
        let bad_json = NewSession {
            metadata: Some(Json::from("{not json")),
            ..new
        };
        match sessionkit::NewSession::try_from(bad_json) {
            Err(crate::SessionkitError::InvalidInput { field, .. }) => {
                assert_eq!(field, "metadata")
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
}

//! The records that cross the API: sessions, their clients, pages, state and statistics.
//! Field names are docs/SPEC.md §1's, and serialize under those names for every face.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Result, SessionId, Token};

/// What kind of client a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// A desktop application.
    Desktop,
    /// A mobile application.
    Mobile,
    /// A web browser.
    Web,
    /// Anything else (a CLI, a server-side job, …).
    Other,
}

impl ClientKind {
    /// Every kind.
    pub const ALL: [ClientKind; 4] = [
        ClientKind::Desktop,
        ClientKind::Mobile,
        ClientKind::Web,
        ClientKind::Other,
    ];

    /// The kind's name: `desktop`, `mobile`, `web` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Desktop => "desktop",
            ClientKind::Mobile => "mobile",
            ClientKind::Web => "web",
            ClientKind::Other => "other",
        }
    }

    /// Parses a kind's name; anything else is `InvalidInput { field: "client_kind" }`.
    pub fn parse(name: &str) -> Result<Self> {
        ClientKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| {
                crate::Error::invalid_input(
                    "client_kind",
                    format!("expected desktop, mobile, web or other, got {name:?}"),
                )
            })
    }
}

/// The client (device/app) a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The client's kind.
    pub kind: ClientKind,
    /// The client app's version, if known.
    pub version: Option<String>,
    /// A human-readable device name, if known ("Pixel 8", "Firefox on Linux").
    pub device: Option<String>,
}

/// What `create` needs to start a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSession {
    /// The owner: opaque, non-empty, at most 256 bytes, no control characters.
    pub user_id: String,
    /// The client's kind.
    pub client_kind: ClientKind,
    /// The client app's version.
    #[serde(default)]
    pub client_version: Option<String>,
    /// A device name for device lists.
    #[serde(default)]
    pub device: Option<String>,
    /// The client's IP address (a signal for device lists; never required to match).
    #[serde(default)]
    pub ip: Option<String>,
    /// The client's user agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Initial metadata; must be a JSON object.
    #[serde(default)]
    pub metadata: Option<Value>,
}

impl NewSession {
    /// A new session for `user_id` on a client of `client_kind`, every optional field empty.
    pub fn new(user_id: impl Into<String>, client_kind: ClientKind) -> Self {
        NewSession {
            user_id: user_id.into(),
            client_kind,
            client_version: None,
            device: None,
            ip: None,
            user_agent: None,
            metadata: None,
        }
    }
}

/// A session as callers see it. Holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Public identifier, safe to show in a device list.
    pub id: SessionId,
    /// The owner.
    pub user_id: String,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
    /// When it was last seen active (ms since the epoch); written at most once per touch interval.
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
    /// A JSON object, changed with JSON Merge Patch (RFC 7396).
    pub metadata: Map<String, Value>,
}

/// Where a session stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Usable: not revoked and not expired.
    Active,
    /// Revoked (whatever its expiry).
    Revoked,
    /// Past its idle or absolute expiry (`now >= expires_at`).
    Expired,
}

impl SessionStatus {
    /// `active`, `revoked` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Revoked => "revoked",
            SessionStatus::Expired => "expired",
        }
    }
}

impl Session {
    /// The session's status at `now`: revoked first, then expired once `now >= expires_at`.
    pub fn status_at(&self, now: i64) -> SessionStatus {
        if !self.active {
            SessionStatus::Revoked
        } else if now >= self.expires_at {
            SessionStatus::Expired
        } else {
            SessionStatus::Active
        }
    }

    /// Whether the session is usable at `now` (neither revoked nor expired).
    pub fn is_live(&self, now: i64) -> bool {
        self.status_at(now) == SessionStatus::Active
    }
}

/// The result of `create` and `rotate`: the session and its token, which is returned only here.
#[derive(Debug, Clone)]
pub struct Created {
    /// The new session.
    pub session: Session,
    /// The bearer token for the client. Never stored; show it once.
    pub token: Token,
}

/// Options of `list_user_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListOptions {
    /// Only sessions that are neither revoked nor expired.
    pub active_only: bool,
    /// Page size, 1 to 1000 (default 50).
    pub limit: u32,
    /// `next_cursor` of the previous page, to continue after it.
    pub cursor: Option<String>,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            active_only: false,
            limit: ListOptions::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

impl ListOptions {
    /// Default page size.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// Largest page size.
    pub const MAX_LIMIT: u32 = 1000;
}

/// One page of a listing, newest activity first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Pass this back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A session's client state, decoded and verified. `D` is the state itself: parsed
/// ([`SessionManager::get_state`](crate::SessionManager::get_state)) or as its canonical JSON text
/// ([`SessionManager::get_state_json`](crate::SessionManager::get_state_json)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State<D = Value> {
    /// Starts at 1 and grows by one with every write.
    pub version: u64,
    /// The state itself.
    pub data: D,
    /// Checksum of the stored blob, `crc32:` and 8 hex digits; verified on every read.
    pub checksum: String,
    /// Size of the serialized JSON in bytes (what `state_max_bytes` limits).
    pub size: u64,
    /// Whether it is stored compressed.
    pub compressed: bool,
    /// Size of the stored encoded form in bytes.
    pub stored_size: u64,
    /// When it was last written (ms since the epoch).
    pub updated_at: i64,
}

/// Aggregate figures over the stored sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Sessions stored (any status).
    pub total: u64,
    /// Sessions neither revoked nor expired.
    pub active: u64,
    /// Sessions created in the last 24 hours.
    pub created_last_24h: u64,
    /// Sessions created in the last 7 days.
    pub created_last_7d: u64,
    /// Stored sessions per client kind (`desktop`, `mobile`, `web`, `other`; every kind present).
    pub by_client_kind: BTreeMap<String, u64>,
    /// Mean of `last_active_at - created_at` over all stored sessions (0 when none).
    pub average_duration_ms: i64,
}

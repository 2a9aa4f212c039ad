//! The stored form of sessions and states: compact JavaScript objects with one-letter keys,
//! binary ids and hashes, metadata as JSON text. Decoding checks every field and reports
//! anything unexpected as `Error::Corrupt`.
//!
//! | key | field | type |
//! |---|---|---|
//! | `i` | id (primary key) | `Uint8Array(16)` |
//! | `u` | user_id | string |
//! | `c` `a` `e` `x` | created_at, last_active_at, expires_at, absolute_expires_at | integer number |
//! | `k` | client kind | `desktop` / `mobile` / `web` / `other` |
//! | `v` `d` | client version, device | string, absent when none |
//! | `p` `g` | ip, user agent | string, absent when none |
//! | `r` | active | boolean |
//! | `m` | metadata | JSON text of an object |
//! | `h` | token hash (SHA-256 of the secret) | `Uint8Array(32)` |
//! | `n` | metadata revision (schema 2) | integer number |
//!
//! A state record (key: the session id) is `{v: version, b: blob (Uint8Array), t: updated_at}`;
//! a cleared state leaves `{v: version, t: cleared_at}` (no `b`), so versions never repeat.

use js_sys::{ArrayBuffer, Object, Reflect, Uint8Array};
use serde_json::{Map, Value};
use sessionkit::{
    ClientInfo, ClientKind, Error, Liveness, Result, Session, SessionId, SessionRecord,
    StateRecord, TokenHash,
};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::thrown;

/// The largest integer a JavaScript number holds exactly (2^53 − 1).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A time (or version) as a JavaScript number; refused when it would be rounded.
pub(crate) fn number(value: i64) -> Result<JsValue> {
    if value.unsigned_abs() > MAX_SAFE_INTEGER as u64 {
        return Err(Error::storage(format!(
            "IndexedDB store keeps times and versions as JavaScript numbers; {value} is outside \
             ±(2^53 − 1)"
        )));
    }
    Ok(JsValue::from_f64(value as f64))
}

/// A session id as a binary key.
pub(crate) fn id_key(id: &SessionId) -> JsValue {
    Uint8Array::from(&id.as_bytes()[..]).into()
}

/// A session id from a binary key (`ArrayBuffer` as keys come back, or a `Uint8Array`).
pub(crate) fn id_from_key(key: &JsValue) -> Result<SessionId> {
    SessionId::from_slice(&bytes(key, "session id")?)
}

/// The bytes of an `ArrayBuffer` or `Uint8Array`.
fn bytes(value: &JsValue, what: &str) -> Result<Vec<u8>> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        Ok(array.to_vec())
    } else if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        Ok(Uint8Array::new(buffer).to_vec())
    } else {
        Err(Error::corrupt(format!("{what}: not binary")))
    }
}

/// The encoded form of a session.
pub(crate) fn session_to_js(record: &SessionRecord) -> Result<JsValue> {
    let s = &record.session;
    let object = Object::new();
    set(&object, "i", &id_key(&s.id))?;
    set(&object, "u", &JsValue::from_str(&s.user_id))?;
    set(&object, "c", &number(s.created_at)?)?;
    set(&object, "a", &number(s.last_active_at)?)?;
    set(&object, "e", &number(s.expires_at)?)?;
    set(&object, "x", &number(s.absolute_expires_at)?)?;
    set(&object, "k", &JsValue::from_str(s.client.kind.as_str()))?;
    set_optional(&object, "v", s.client.version.as_deref())?;
    set_optional(&object, "d", s.client.device.as_deref())?;
    set_optional(&object, "p", s.ip.as_deref())?;
    set_optional(&object, "g", s.user_agent.as_deref())?;
    set(&object, "r", &JsValue::from_bool(s.active))?;
    let metadata = serde_json::to_string(&s.metadata).map_err(Error::storage)?;
    set(&object, "m", &JsValue::from_str(&metadata))?;
    set(
        &object,
        "h",
        &Uint8Array::from(&record.token_hash.as_bytes()[..]).into(),
    )?;
    set(&object, "n", &counter(record.metadata_revision)?)?;
    Ok(object.into())
}

/// A session from its encoded form.
pub(crate) fn session_from_js(value: &JsValue) -> Result<SessionRecord> {
    let fields = Fields::of(value, "session")?;
    let id = SessionId::from_slice(&bytes(&fields.get("i")?, "session id")?)?;
    let kind_name = fields.text("k")?;
    let kind = ClientKind::parse(&kind_name)
        .map_err(|_| Error::corrupt(format!("session: client kind {kind_name:?}")))?;
    let metadata: Map<String, Value> = serde_json::from_str(&fields.text("m")?)
        .map_err(|e| Error::corrupt(format!("session metadata: {e}")))?;
    let token_hash = TokenHash::from_slice(&bytes(&fields.get("h")?, "token hash")?)
        .map_err(|_| Error::corrupt("session: token hash of the wrong length"))?;
    let metadata_revision = u64::try_from(fields.int("n")?)
        .map_err(|_| Error::corrupt("session: negative metadata revision"))?;
    Ok(SessionRecord {
        metadata_revision,
        session: Session {
            id,
            user_id: fields.text("u")?,
            created_at: fields.int("c")?,
            last_active_at: fields.int("a")?,
            expires_at: fields.int("e")?,
            absolute_expires_at: fields.int("x")?,
            client: ClientInfo {
                kind,
                version: fields.optional_text("v")?,
                device: fields.optional_text("d")?,
            },
            ip: fields.optional_text("p")?,
            user_agent: fields.optional_text("g")?,
            active: fields.flag("r")?,
            metadata,
        },
        token_hash,
    })
}

/// A version or revision counter as a JavaScript number.
fn counter(value: u64) -> Result<JsValue> {
    number(i64::try_from(value).map_err(|_| Error::storage(format!("counter {value} too large")))?)
}

/// The few fields counting and statistics need, read without decoding the rest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionSummary {
    /// `created_at`.
    pub(crate) created_at: i64,
    /// `last_active_at`.
    pub(crate) last_active_at: i64,
    /// `expires_at`.
    pub(crate) expires_at: i64,
    /// `active`.
    pub(crate) active: bool,
    /// The client's kind.
    pub(crate) kind: ClientKind,
}

impl SessionSummary {
    /// Reads the summary fields of an encoded session.
    pub(crate) fn from_js(value: &JsValue) -> Result<Self> {
        let fields = Fields::of(value, "session")?;
        let kind_name = fields.text("k")?;
        Ok(SessionSummary {
            created_at: fields.int("c")?,
            last_active_at: fields.int("a")?,
            expires_at: fields.int("e")?,
            active: fields.flag("r")?,
            kind: ClientKind::parse(&kind_name)
                .map_err(|_| Error::corrupt(format!("session: client kind {kind_name:?}")))?,
        })
    }

    /// Live by `live` (see [`Liveness::admits`]).
    pub(crate) fn is_live(&self, live: &Liveness) -> bool {
        self.active && !live.expired_times(self.created_at, self.last_active_at, self.expires_at)
    }
}

/// A client replica record: `{r: revision, b: the record's bytes}`.
pub(crate) fn replica_to_js(revision: u64, record: &[u8]) -> Result<JsValue> {
    let object = Object::new();
    set(&object, "r", &counter(revision)?)?;
    set(&object, "b", &Uint8Array::from(record).into())?;
    Ok(object.into())
}

/// A client replica record from its encoded form: `(revision, bytes)`.
pub(crate) fn replica_from_js(value: &JsValue) -> Result<(u64, Vec<u8>)> {
    let fields = Fields::of(value, "client replica")?;
    let revision = u64::try_from(fields.int("r")?)
        .map_err(|_| Error::corrupt("client replica: negative revision"))?;
    Ok((revision, bytes(&fields.get("b")?, "client replica")?))
}

/// The encoded form of a state.
pub(crate) fn state_to_js(state: &StateRecord) -> Result<JsValue> {
    let object = Object::new();
    set(&object, "v", &counter(state.version)?)?;
    set(&object, "b", &Uint8Array::from(&state.blob[..]).into())?;
    set(&object, "t", &number(state.updated_at)?)?;
    Ok(object.into())
}

/// What the `states` store holds for a session.
pub(crate) enum StoredState {
    /// A state.
    Present(StateRecord),
    /// The state was cleared at this version: the next write continues after it, so versions
    /// never repeat within a session.
    Cleared(u64),
}

/// The record left by clearing a state at `version`: `{v: version, t: cleared_at}`, no blob.
pub(crate) fn cleared_state_to_js(version: u64, cleared_at: i64) -> Result<JsValue> {
    let object = Object::new();
    set(&object, "v", &counter(version)?)?;
    set(&object, "t", &number(cleared_at)?)?;
    Ok(object.into())
}

/// A stored state record from its encoded form (with a blob: a state; without: cleared).
pub(crate) fn stored_state_from_js(value: &JsValue) -> Result<StoredState> {
    let fields = Fields::of(value, "state")?;
    let version =
        u64::try_from(fields.int("v")?).map_err(|_| Error::corrupt("state: negative version"))?;
    let blob = fields.get("b")?;
    if blob.is_undefined() {
        return Ok(StoredState::Cleared(version));
    }
    Ok(StoredState::Present(StateRecord {
        version,
        blob: bytes(&blob, "state blob")?,
        updated_at: fields.int("t")?,
    }))
}

fn set(object: &Object, key: &str, value: &JsValue) -> Result<()> {
    Reflect::set(object, &JsValue::from_str(key), value)
        .map(drop)
        .map_err(thrown("build record"))
}

fn set_optional(object: &Object, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(text) => set(object, key, &JsValue::from_str(text)),
        None => Ok(()),
    }
}

/// Typed access to the fields of a stored object; every mismatch is `Corrupt`.
struct Fields<'a> {
    object: &'a Object,
    what: &'static str,
}

impl<'a> Fields<'a> {
    fn of(value: &'a JsValue, what: &'static str) -> Result<Self> {
        match value.dyn_ref::<Object>() {
            Some(object) if value.is_object() => Ok(Fields { object, what }),
            _ => Err(Error::corrupt(format!("{what}: not an object"))),
        }
    }

    fn get(&self, key: &str) -> Result<JsValue> {
        Reflect::get(self.object, &JsValue::from_str(key))
            .map_err(|_| Error::corrupt(format!("{}: field {key} unreadable", self.what)))
    }

    fn wrong(&self, key: &str, expected: &str) -> Error {
        Error::corrupt(format!("{}: field {key} is not {expected}", self.what))
    }

    fn text(&self, key: &str) -> Result<String> {
        self.get(key)?
            .as_string()
            .ok_or_else(|| self.wrong(key, "a string"))
    }

    fn optional_text(&self, key: &str) -> Result<Option<String>> {
        let value = self.get(key)?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        value
            .as_string()
            .map(Some)
            .ok_or_else(|| self.wrong(key, "a string"))
    }

    fn int(&self, key: &str) -> Result<i64> {
        let n = self
            .get(key)?
            .as_f64()
            .ok_or_else(|| self.wrong(key, "a number"))?;
        if !n.is_finite() || n.fract() != 0.0 || n.abs() > MAX_SAFE_INTEGER as f64 {
            return Err(self.wrong(key, "an exact integer"));
        }
        Ok(n as i64)
    }

    fn flag(&self, key: &str) -> Result<bool> {
        self.get(key)?
            .as_bool()
            .ok_or_else(|| self.wrong(key, "a boolean"))
    }
}

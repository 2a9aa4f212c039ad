//! The storage contract: one async [`Store`] trait every backend implements (memory, SQLite,
//! IndexedDB), and the records that cross it.
//!
//! A store persists; it decides nothing. The engine computes every value it writes (expiry,
//! hashes, encoded state). What a store must do itself is make each method *atomic*: conditional
//! writes (`WHERE active`, compare-and-swap on the state version, insert-only creation, the
//! per-user limit) happen inside one transaction, so no interleaving of callers can resurrect a
//! revoked session or lose an update.
//!
//! Futures are `Send` on native targets and need not be on `wasm32`.

use async_trait::async_trait;

use crate::send::{SendOutsideWasm, SyncOutsideWasm};
use crate::{ClientKind, Result, Session, SessionId, SessionLimitPolicy, TokenHash};

/// A session as stored: the public record plus the hash of its token's secret.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// The session.
    pub session: Session,
    /// SHA-256 of the token's secret.
    pub token_hash: TokenHash,
}

/// The per-user limit a store enforces atomically with an insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimit {
    /// Live (active, unexpired) sessions allowed per user.
    pub max: u32,
    /// What to do when the new session would exceed `max`.
    pub policy: SessionLimitPolicy,
    /// "Now", to tell live sessions from expired ones.
    pub now: i64,
}

/// What `insert_session` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Inserted; these live sessions of the same user were revoked to make room (least recently
    /// active first).
    Inserted {
        /// Sessions revoked by the `evict_oldest` policy.
        evicted: Vec<SessionId>,
    },
    /// A session with this id exists already; nothing was written.
    IdTaken,
    /// The user is at the limit and the policy is `reject`; nothing was written.
    LimitReached,
}

/// What a conditional write on an existing session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written.
    Applied,
    /// No session with that id; nothing written.
    Missing,
    /// The session is revoked; nothing written.
    Inactive,
    /// The compared value changed since it was read; nothing written.
    Stale,
}

/// A page request in (`last_active_at` desc, `id` desc) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPageQuery {
    /// Whose sessions.
    pub user_id: String,
    /// Only active sessions with `expires_at > now`.
    pub active_only: bool,
    /// "Now", for `active_only`.
    pub now: i64,
    /// Continue strictly after this `(last_active_at, id)` position.
    pub after: Option<(i64, SessionId)>,
    /// At most this many records.
    pub limit: u32,
}

/// Stored client state, still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    /// The state's version (1 after the first write).
    pub version: u64,
    /// The encoded blob (see [`crate::StateCodec`]).
    pub blob: Vec<u8>,
    /// When it was written.
    pub updated_at: i64,
}

/// A session as export and import carry it: the record, its encoded state, and where its state
/// versions continue.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// The session and its token hash.
    pub record: SessionRecord,
    /// Its state, still encoded.
    pub state: Option<StateRecord>,
    /// With no state: the version the last cleared state had, which the next write continues
    /// after (0 = never cleared). Always 0 when `state` is some (its version is higher).
    pub cleared_state_version: u64,
}

impl StoredSession {
    /// A session with this state (or none) that never had a state cleared.
    pub fn new(record: SessionRecord, state: Option<StateRecord>) -> Self {
        StoredSession {
            record,
            state,
            cleared_state_version: 0,
        }
    }
}

/// What `get_state` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLookup {
    /// No session with that id.
    NoSession,
    /// The session exists (`active` tells whether revoked) and has no state.
    Empty {
        /// Whether the session is active.
        active: bool,
    },
    /// The session exists and has this state.
    Found {
        /// Whether the session is active.
        active: bool,
        /// The stored state.
        state: StateRecord,
    },
}

/// What `put_state` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatePut {
    /// Written with this new version (the last version written + 1, or 1).
    Written(u64),
    /// The expected version did not match this current one (0 = no state); nothing written.
    Conflict(u64),
    /// No session with that id; nothing written.
    Missing,
    /// The session is revoked; nothing written.
    Inactive,
}

/// Aggregates a store computes in one pass (or from its indexes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// All stored sessions.
    pub total: u64,
    /// Active with `expires_at > now`.
    pub active: u64,
    /// Created at or after `now - 24h`.
    pub created_last_24h: u64,
    /// Created at or after `now - 7d`.
    pub created_last_7d: u64,
    /// Stored sessions per kind (kinds with none may be left out).
    pub by_client_kind: Vec<(ClientKind, u64)>,
    /// Sum of `last_active_at - created_at` over all stored sessions.
    pub duration_sum_ms: i128,
}

/// Persistence for sessions and their state. Implemented by [`crate::MemoryStore`],
/// `sessionkit-sqlite` and `sessionkit-indexeddb`; every implementation passes the same
/// conformance suite.
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
pub trait Store: SendOutsideWasm + SyncOutsideWasm + std::fmt::Debug {
    /// Inserts a new session — never replaces one. With `limit`, counts the user's live sessions
    /// and rejects or evicts (revokes) in the same transaction.
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<SessionLimit>,
    ) -> Result<InsertOutcome>;

    /// The session with this id, whatever its status.
    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>>;

    /// Sets activity and expiry of an *active* session.
    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
    ) -> Result<WriteOutcome>;

    /// Replaces the metadata of an active session if it still equals `expected` (JSON text as
    /// produced by `serde_json::to_string` of the stored map); `Stale` otherwise.
    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected: &str,
        metadata: &str,
    ) -> Result<WriteOutcome>;

    /// Atomically inserts `new` (a fresh id and token hash), moves the state of `old` to it and
    /// deletes `old` — only if `old` is active. `Missing`/`Inactive` write nothing; `Stale` means
    /// the new id is taken.
    async fn rotate_session(&self, old: &SessionId, new: &SessionRecord) -> Result<WriteOutcome>;

    /// Marks a session revoked. `Inactive` if it was already.
    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome>;

    /// Deletes a session and its state. False if there was none.
    async fn delete_session(&self, id: &SessionId) -> Result<bool>;

    /// One page of a user's sessions, newest activity first, ties broken by id descending.
    async fn list_user_sessions(&self, query: &UserPageQuery) -> Result<Vec<SessionRecord>>;

    /// Revokes every live session (active, `expires_at > now`) of `user_id` except `except`;
    /// returns the ids revoked, newest activity first. Expired sessions are left for cleanup.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        now: i64,
    ) -> Result<Vec<SessionId>>;

    /// Deletes up to `max` sessions (and their state) with `expires_at <= now`, in one short
    /// transaction, found through the expiry index. Returns how many were deleted.
    async fn delete_expired(&self, now: i64, max: u32) -> Result<u64>;

    /// Counts sessions, of one user or of all; with `active_only`, only active ones with
    /// `expires_at > now`.
    async fn count_sessions(
        &self,
        user_id: Option<&str>,
        active_only: bool,
        now: i64,
    ) -> Result<u64>;

    /// Aggregates over all stored sessions.
    async fn stats(&self, now: i64) -> Result<StoreStats>;

    /// The state of a session.
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup>;

    /// Writes the state of an active session: compare-and-swap when `expected_version` is given
    /// (0 = "no state yet"), unconditional otherwise. The new version is one more than the last
    /// version written for this session, even when that state has been cleared since: versions
    /// never repeat within a session (and move with it on rotation), so a client holding an old
    /// version can never match a newer state.
    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut>;

    /// Removes the state of an active session, remembering its version (see `put_state`).
    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome>;

    /// Every session in id order, `limit` at a time after `after` (for export), with its state
    /// or, when it has none, the version of its last cleared state.
    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>>;

    /// Inserts a session exactly as given, with its state or its cleared-state version (for
    /// import). False, changing nothing, if the id exists.
    async fn import_session(&self, session: &StoredSession) -> Result<bool>;
}

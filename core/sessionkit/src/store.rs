//! The storage contract every backend implements (memory, SQLite, IndexedDB) — [`SessionStore`],
//! [`StateStore`] and [`MaintenanceStore`], together [`Store`] — and the records that cross it.
//!
//! A store persists; it decides nothing. The engine computes every value it writes (expiry,
//! hashes, encoded state, the next state version, the next metadata revision) and every bound a
//! store compares against ([`Liveness`], [`StatsQuery`]). Where a decision needs what is stored
//! *at the moment of the write* — which sessions the per-user limit evicts, which version a state
//! write gets — the store reads inside its transaction and calls the engine's pure function
//! ([`SessionLimit::decide`], [`StateVersions::decide`]) there. What a store must do itself is
//! make each method *atomic*: conditional writes happen inside one transaction, so no
//! interleaving of callers can resurrect a revoked session or lose an update.
//!
//! Futures are `Send` on native targets and need not be on `wasm32`.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::send::{SendOutsideWasm, SyncOutsideWasm};
use crate::{ClientKind, Error, Result, Session, SessionId, SessionLimitPolicy, TokenHash};

/// A session as stored: the public record, the hash of its token's secret and the revision of
/// its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// The session.
    pub session: Session,
    /// SHA-256 of the token's secret.
    pub token_hash: TokenHash,
    /// Counts the metadata's replacements (0 at creation or import): the metadata
    /// compare-and-swap compares this number, never the metadata itself.
    pub metadata_revision: u64,
}

impl SessionRecord {
    /// A record with metadata revision 0 (a new or imported session).
    pub fn new(session: Session, token_hash: TokenHash) -> Self {
        SessionRecord {
            session,
            token_hash,
            metadata_revision: 0,
        }
    }

    /// Where the session stands in a user's listing (newest activity first).
    pub fn position(&self) -> SessionPosition {
        SessionPosition {
            last_active_at: self.session.last_active_at,
            id: self.session.id,
        }
    }
}

/// A session's place in its user's listing: ordered by `last_active_at`, then by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionPosition {
    /// When the session was last active.
    pub last_active_at: i64,
    /// Its id (breaks ties).
    pub id: SessionId,
}

/// What "live" means at one moment, under one configuration. The engine computes the bounds; a
/// store only compares. A session is expired once any of its three expiries has passed: the
/// stored one (`expires_at <= now`), its idle timeout as configured now (`last_active_at <=
/// idle_cutoff`) and its absolute timeout as configured now (`created_at <= absolute_cutoff`) —
/// so a timeout tightened in the configuration reaches sessions written under a looser one.
/// It is live when active and not expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// "Now": a live session has `expires_at > now`.
    pub now: i64,
    /// `now − idle_timeout`: a live session has `last_active_at > idle_cutoff`.
    pub idle_cutoff: i64,
    /// `now − absolute_timeout`: a live session has `created_at > absolute_cutoff`.
    pub absolute_cutoff: i64,
}

impl Liveness {
    /// Bounds at `now` that judge by the stored expiry alone (no configured timeout).
    pub fn at(now: i64) -> Self {
        Liveness {
            now,
            idle_cutoff: i64::MIN,
            absolute_cutoff: i64::MIN,
        }
    }

    /// Whether `session` is live: active and not expired.
    pub fn admits(&self, session: &Session) -> bool {
        session.active && !self.expired(session)
    }

    /// Whether `session` is expired, whatever its status (what cleanup removes).
    pub fn expired(&self, session: &Session) -> bool {
        self.expired_times(
            session.created_at,
            session.last_active_at,
            session.expires_at,
        )
    }

    /// [`Liveness::expired`] from the three times it looks at, for a store that reads only
    /// those.
    pub fn expired_times(&self, created_at: i64, last_active_at: i64, expires_at: i64) -> bool {
        expires_at <= self.now
            || last_active_at <= self.idle_cutoff
            || created_at <= self.absolute_cutoff
    }
}

/// The per-user limit a store enforces atomically with an insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimit {
    /// Live sessions allowed per user.
    pub max: u32,
    /// What to do when the new session would exceed `max`.
    pub policy: SessionLimitPolicy,
    /// Which of the user's sessions count.
    pub live: Liveness,
}

/// What the per-user limit decided for one insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitDecision {
    /// Insert, after revoking these live sessions (least recently active first; often none).
    Admit {
        /// The sessions to revoke in the same transaction.
        evict: Vec<SessionId>,
    },
    /// Refuse the insert; write nothing.
    Reject,
}

impl SessionLimit {
    /// The decision for a new session of a user whose live sessions (as counted by
    /// [`SessionLimit::live`]) stand at `live`, in any order. A store calls this inside the
    /// insert's transaction with what it just read.
    pub fn decide(&self, mut live: Vec<SessionPosition>) -> LimitDecision {
        let max = self.max as usize;
        if live.len() < max {
            return LimitDecision::Admit { evict: Vec::new() };
        }
        match self.policy {
            SessionLimitPolicy::Reject => LimitDecision::Reject,
            SessionLimitPolicy::EvictOldest => {
                // Keep the `max - 1` most recently active so the new session makes `max` (a
                // `max` of 0, which the configuration refuses, would evict all).
                live.sort_unstable();
                let evicted = live.len() - max.saturating_sub(1);
                LimitDecision::Admit {
                    evict: live[..evicted].iter().map(|p| p.id).collect(),
                }
            }
        }
    }
}

/// What `insert_session` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Inserted; these live sessions of the same user were revoked to make room (least recently
    /// active first, as [`SessionLimit::decide`] chose them).
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
    /// The compared value changed since it was read (the metadata revision; for a touch, a
    /// later activity was recorded meanwhile); nothing written.
    Stale,
    /// The session is expired by the write's [`Liveness`]; nothing written.
    Expired,
    /// The id the write would create is taken by another session; nothing written.
    IdTaken,
}

/// A page request in (`last_active_at` desc, `id` desc) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPageQuery {
    /// Whose sessions.
    pub user_id: String,
    /// Only sessions these bounds call live; every stored session when `None`.
    pub live: Option<Liveness>,
    /// Continue strictly after (below) this position.
    pub after: Option<SessionPosition>,
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
    /// The session exists and has no state.
    Empty,
    /// The session exists and has this state.
    Found(StateRecord),
}

/// What `put_state` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatePut {
    /// Written with this version (as [`StateVersions::decide`] chose it).
    Written(u64),
    /// The expected version did not match this current one (0 = no state); nothing written.
    Conflict(u64),
    /// No session with that id; nothing written.
    Missing,
    /// The session is revoked; nothing written.
    Inactive,
}

/// The largest state version and metadata revision: the largest integer every face represents
/// exactly (a JavaScript number, 2^53 − 1).
pub const MAX_COUNTER: u64 = (1 << 53) - 1;

/// The next value of a version or revision counter that stands at `last`; past
/// [`MAX_COUNTER`], `InvalidInput { field }`.
pub fn next_counter(field: &str, last: u64) -> Result<u64> {
    last.checked_add(1)
        .filter(|next| *next <= MAX_COUNTER)
        .ok_or_else(|| Error::invalid_input(field, "the version counter is exhausted"))
}

/// A session's state versions as a store reads them inside a `put_state` transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateVersions {
    /// The version of the stored state; 0 when there is none.
    pub current: u64,
    /// With no state: the version of the last cleared one (0 if never cleared). Ignored when
    /// `current` is not 0.
    pub cleared: u64,
}

/// What a state write must do, as [`StateVersions::decide`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateDecision {
    /// Write the state with this version.
    Write(u64),
    /// Write nothing: the expected version is not the current one.
    Conflict(u64),
}

impl StateVersions {
    /// Compare-and-swap on `expected` (0 = "no state yet"; `None` = unconditional), then the
    /// next version: one more than the last version written for the session, even when that
    /// state has been cleared since, so versions never repeat within a session (and a client
    /// holding an old version can never match a newer state). An exhausted counter is
    /// `InvalidInput { field: "state.version" }`.
    pub fn decide(&self, expected: Option<u64>) -> Result<StateDecision> {
        if expected.is_some_and(|v| v != self.current) {
            return Ok(StateDecision::Conflict(self.current));
        }
        let last = if self.current == 0 {
            self.cleared
        } else {
            self.current
        };
        Ok(StateDecision::Write(next_counter("state.version", last)?))
    }
}

/// What one batch of [`MaintenanceStore::revoke_live_sessions`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevokeBatch {
    /// The sessions it revoked, in any order.
    pub revoked: Vec<SessionId>,
    /// The last id it looked at: the next batch starts after it. `None` at the end.
    pub next: Option<SessionId>,
}

/// The bounds of a `stats` call, computed by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsQuery {
    /// Which sessions count as active.
    pub live: Liveness,
    /// Count the sessions created at or after each of these times.
    pub created_since: [i64; 2],
}

/// Aggregates a store computes in one pass (or from its indexes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// All stored sessions.
    pub total: u64,
    /// Sessions live by [`StatsQuery::live`].
    pub active: u64,
    /// Sessions created at or after each time of [`StatsQuery::created_since`].
    pub created_since: [u64; 2],
    /// Stored sessions per kind, in any order (kinds with none may be left out).
    pub by_client_kind: Vec<(ClientKind, u64)>,
    /// Sum of `last_active_at - created_at` over all stored sessions.
    pub duration_sum_ms: i128,
}

// ---- the contract ----------------------------------------------------------------------------
//
// Three parts, each an async trait a backend implements; [`Store`] is all three (implemented for
// every type that has them). Every method is one atomic step: it reads and writes inside one
// transaction (or under one lock), so what it checks still holds when it writes, and a failure
// leaves nothing of it behind. No method decides anything the engine could decide: the bounds,
// versions and orders come from the engine or from the pure functions above.

/// Sessions: creation, lookups, conditional changes and per-user listings.
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
pub trait SessionStore: SendOutsideWasm + SyncOutsideWasm {
    /// Inserts `record` — never replaces one.
    ///
    /// Atomically: `IdTaken` if the id exists (nothing written); with `limit`, reads the
    /// positions of the user's sessions `limit.live` admits, applies [`SessionLimit::decide`],
    /// and either writes nothing (`LimitReached`) or revokes the sessions it names and inserts
    /// `record`, all in the same transaction — so concurrent inserts for one user never leave
    /// more than `limit.max` live sessions.
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome>;

    /// The session with this id, whatever its status, as one consistent read.
    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>>;

    /// Sets `last_active_at` and `expires_at` of a session, only while it is active
    /// (`Missing`/`Inactive` otherwise), not expired by `live` (`Expired` otherwise) and its
    /// stored `last_active_at` is not after `last_active_at` (`Stale` otherwise: a later touch
    /// was recorded). Checks and write are atomic, so a touch never revives a revoked session,
    /// never extends an expired one and never moves activity backwards.
    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
        live: &Liveness,
    ) -> Result<WriteOutcome>;

    /// Compare-and-swap on the metadata revision: replaces the metadata of an active session and
    /// sets its revision to `revision`, only if the stored revision is still `expected_revision`
    /// (`Stale` otherwise; `Missing`/`Inactive` as for a touch). Check and write are atomic, so
    /// of two updates that read the same revision exactly one is applied.
    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected_revision: u64,
        metadata: &Map<String, Value>,
        revision: u64,
    ) -> Result<WriteOutcome>;

    /// Replaces `old` with `new` in one transaction: only if `old` is active (`Missing`/
    /// `Inactive` otherwise), its metadata revision is still `expected_revision` (`Stale`
    /// otherwise: `new` carries metadata read before a concurrent update) and `new`'s id is free
    /// (`IdTaken` otherwise), inserts `new`, moves `old`'s state and cleared-state version to it
    /// and deletes `old`. Nothing is written unless all of it is.
    async fn rotate_session(
        &self,
        old: &SessionId,
        expected_revision: u64,
        new: &SessionRecord,
    ) -> Result<WriteOutcome>;

    /// Marks an active session revoked; `Inactive` if it was already, `Missing` if there is
    /// none. Revocation is final: no other method makes a session active again.
    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome>;

    /// Deletes a session with its state and cleared-state version, together. False if there
    /// was none.
    async fn delete_session(&self, id: &SessionId) -> Result<bool>;

    /// [`SessionStore::delete_session`], only if `live` calls the session expired when the
    /// transaction looks (a concurrent touch may have extended it since it was read). False,
    /// deleting nothing, otherwise.
    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool>;

    /// Up to `query.limit` of a user's sessions (only those `query.live` admits, when given),
    /// strictly below `query.after`, in (`last_active_at`, id) descending order — the order of
    /// the store's user index, from one consistent read.
    async fn list_user_sessions(&self, query: &UserPageQuery) -> Result<Vec<SessionRecord>>;

    /// Revokes, in one transaction, every session of `user_id` that `live` admits except
    /// `except`; returns their positions, in any order (the engine orders them). Expired
    /// sessions are left for cleanup.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>>;

    /// Deletes up to `max` sessions of `user_id` (whatever their status), the first `max` in
    /// listing order (newest activity first, ties by id descending), with their state, in one
    /// transaction; returns their ids, in any order. Fewer than `max` means none is left.
    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>>;

    /// Counts the sessions of one user (or of all), only those `live` admits when given, from
    /// one consistent read.
    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64>;
}

/// Per-session client state: an encoded blob with a version that never repeats.
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
pub trait StateStore: SendOutsideWasm + SyncOutsideWasm {
    /// Whether the session exists and its state, from one consistent read.
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup>;

    /// Writes the state of an active session (`Missing`/`Inactive` otherwise). In one
    /// transaction: reads the session's [`StateVersions`], applies
    /// [`StateVersions::decide`] with `expected_version`, and writes `blob` with the version it
    /// gives (or nothing, `Conflict`) — so of two writers expecting the same version exactly one
    /// succeeds, and no update is lost.
    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut>;

    /// Removes the state of an active session (`Missing`/`Inactive` otherwise) and keeps its
    /// version as the session's cleared-state version, in one transaction.
    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome>;
}

/// Whole-store work: cleanup, statistics, export and import.
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
pub trait MaintenanceStore: SendOutsideWasm + SyncOutsideWasm {
    /// Deletes up to `max` sessions that `live` calls expired (whatever their status), with
    /// their state, in short transactions: first those whose stored expiry has passed
    /// (`expires_at <= live.now`, the prefix of the expiry index), then, when fewer than `max`
    /// were, those expired only by the configured timeouts — each part in expiry-index order
    /// (`expires_at`, then id; a session is deleted only if still expired when its
    /// transaction looks). Returns how many it deleted; fewer than `max` means none is left.
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64>;

    /// Looks at up to `max` sessions in id order strictly after `after` and revokes those `live`
    /// admits, in one short transaction. `next` is the last id it looked at, or `None` when it
    /// looked at fewer than `max` (the end).
    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch>;

    /// The aggregates of [`StoreStats`] over all stored sessions, bounded by `query`, from one
    /// consistent read.
    async fn stats(&self, query: &StatsQuery) -> Result<StoreStats>;

    /// Up to `limit` sessions in id order strictly after `after` (for export), each with its
    /// state or, when it has none, its cleared-state version, from one consistent read.
    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>>;

    /// Inserts a session exactly as given, with its state or its cleared-state version, in one
    /// transaction (for import). False, changing nothing, if the id exists.
    async fn import_session(&self, session: &StoredSession) -> Result<bool>;

    /// Replaces the blob of a session's state with `blob` if the state's version is still
    /// `version`, keeping its version and `updated_at` (re-encryption under another key, which
    /// changes the bytes, not the state). Whatever the session's status. False, writing
    /// nothing, when the session has no state or another version (a write came first).
    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool>;
}

/// Persistence for sessions and their state: the three parts together. Implemented by
/// [`crate::MemoryStore`], `sessionkit-sqlite` and `sessionkit-indexeddb` (and by any type that
/// implements the three parts); every implementation passes the same test kit
/// (`sessionkit::testing`, feature `testing`).
pub trait Store: SessionStore + StateStore + MaintenanceStore + std::fmt::Debug {}

impl<T: SessionStore + StateStore + MaintenanceStore + std::fmt::Debug> Store for T {}

/// The sync client's replica (§9), kept on the device the client runs on: one record per key
/// (a client's name), replaced whole. Not part of [`Store`]: a server's database has no use for it.
///
/// The record is opaque bytes ([`crate::client::Replica::encode`]); `revision` grows with every
/// save of one client, so copies of a client (browser tabs) never overwrite a newer record with
/// an older one.
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
pub trait ReplicaStore: SendOutsideWasm + SyncOutsideWasm {
    /// The record saved under `key`, with its revision.
    async fn load_replica(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>>;

    /// Atomically: saves `record` under `key` at `revision` if no record is stored there or the
    /// stored one's revision is lower; returns whether it wrote.
    async fn save_replica(&self, key: &str, revision: u64, record: &[u8]) -> Result<bool>;
}

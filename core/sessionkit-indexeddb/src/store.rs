//! [`IndexedDbStore`]: the [`Store`](sessionkit::Store) contract over IndexedDB, one transaction per
//! operation.
//!
//! Every method is one transaction: [`IndexedDbStore::read`] or [`IndexedDbStore::write`] begins
//! it over the object stores the method needs, runs the operation (an async closure that awaits
//! only requests of that transaction), then ends it with the closure's result ([`Tx::finish`]).
//! The outcomes, orderings and notion of "live" are those of [`sessionkit::MemoryStore`], the
//! reference.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sessionkit::{
    ClientKind, InsertOutcome, LimitDecision, Liveness, MaintenanceStore, ReplicaStore, Result,
    RevokeBatch, SessionId, SessionLimit, SessionPosition, SessionRecord, SessionStore,
    StateDecision, StateLookup, StatePut, StateRecord, StateStore, StateVersions, StatsQuery,
    Store, StoreStats, StoredSession, UserPageQuery, WriteOutcome,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbCursorDirection, IdbDatabase, IdbKeyRange, IdbObjectStore};

use crate::error::thrown;
use crate::open::open_database;
use crate::record::{
    cleared_state_to_js, id_from_key, id_key, number, replica_from_js, replica_to_js,
    session_from_js, session_to_js, state_to_js, stored_state_from_js, SessionSummary, StoredState,
};
use crate::schema::{CLIENT_REPLICAS, EXPIRY, SESSIONS, STATES, USER_ACTIVITY};
use crate::transaction::{
    add, count, delete, exists, get, index_cursor, index_key_cursor, issue_count, issue_get, put,
    step, store_cursor, CountSource, Tx,
};

/// Sessions and their state in an IndexedDB database of the browser (or worker) it runs in.
///
/// One connection per value; it closes when the value is dropped, and also when another
/// connection asks to upgrade or delete the database (`versionchange`), after which every
/// operation fails with `Error::Storage`.
pub struct IndexedDbStore {
    db: IdbDatabase,
    name: String,
    _on_version_change: Closure<dyn FnMut(Event)>,
}

impl fmt::Debug for IndexedDbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexedDbStore")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl IndexedDbStore {
    /// Opens (creating or upgrading as needed) the database `db_name`.
    ///
    /// A database written by a newer schema than [`crate::SCHEMA_VERSION`] is refused with
    /// `Error::IncompatibleSchema { found, supported }` and left untouched. If another tab holds
    /// an older version open, the upgrade waits until that connection closes (sessionkit's own
    /// connections close when asked).
    pub async fn open(db_name: &str) -> Result<IndexedDbStore> {
        let db = open_database(db_name).await?;
        let on_version_change = {
            let db = db.clone();
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| db.close())
        };
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        Ok(IndexedDbStore {
            db,
            name: db_name.to_owned(),
            _on_version_change: on_version_change,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This store as [`sessionkit::SessionManager::open`] takes it.
    ///
    /// IndexedDB handles are not `Send`; on `wasm32` the engine asks for no `Send` either and
    /// everything runs on one thread, so the `Arc` only shares the store between the manager
    /// and its caller.
    #[allow(clippy::arc_with_non_send_sync)]
    pub fn into_shared(self) -> Arc<dyn Store> {
        Arc::new(self)
    }

    /// Runs `operation` in a read-only transaction over `stores`, then ends the transaction
    /// with its result (see [`Tx::finish`]).
    async fn read<T>(
        &self,
        stores: &[&str],
        operation: impl AsyncFnOnce(&Tx) -> Result<T>,
    ) -> Result<T> {
        let tx = Tx::read(&self.db, stores)?;
        let result = operation(&tx).await;
        tx.finish(result).await
    }

    /// Runs `operation` in a read-write transaction over `stores`, then commits it (awaiting
    /// `complete`) on `Ok` or aborts it on `Err` (see [`Tx::finish`]).
    async fn write<T>(
        &self,
        stores: &[&str],
        operation: impl AsyncFnOnce(&Tx) -> Result<T>,
    ) -> Result<T> {
        let tx = Tx::write(&self.db, stores)?;
        let result = operation(&tx).await;
        tx.finish(result).await
    }
}

impl Drop for IndexedDbStore {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

fn index(store: &IdbObjectStore, name: &str) -> Result<web_sys::IdbIndex> {
    store.index(name).map_err(thrown("open index"))
}

/// A user's entries of the `[user, last activity, id]` index, strictly below `after` when given.
fn user_range(user_id: &str, after: Option<&SessionPosition>) -> Result<JsValue> {
    let user = JsValue::from_str(user_id);
    let lower = js_sys::Array::of1(&user);
    // Arrays sort after every number, so `[user, []]` is above all of the user's keys.
    let upper = match after {
        Some(after) => {
            // The position comes from a caller's cursor: one this store cannot hold is the
            // caller's error, not the store's.
            let at = number(after.last_active_at).map_err(|_| {
                sessionkit::Error::invalid_input(
                    "cursor",
                    "its position is outside the times this store holds (±(2^53 − 1) ms)",
                )
            })?;
            js_sys::Array::of3(&user, &at, &id_key(&after.id))
        }
        None => js_sys::Array::of2(&user, &js_sys::Array::new()),
    };
    IdbKeyRange::bound_with_lower_open_and_upper_open(&lower, &upper, false, true)
        .map(JsValue::from)
        .map_err(thrown("build key range"))
}

/// The session if it may be written (present and active); otherwise why not.
fn writable(found: Option<SessionRecord>) -> std::result::Result<SessionRecord, WriteOutcome> {
    match found {
        None => Err(WriteOutcome::Missing),
        Some(r) if !r.session.active => Err(WriteOutcome::Inactive),
        Some(r) => Ok(r),
    }
}

async fn get_session_in(
    sessions: &IdbObjectStore,
    id: &SessionId,
) -> Result<Option<SessionRecord>> {
    get(sessions, &id_key(id))
        .await?
        .map(|value| session_from_js(&value))
        .transpose()
}

async fn stored_state_in(states: &IdbObjectStore, id: &SessionId) -> Result<Option<StoredState>> {
    get(states, &id_key(id))
        .await?
        .map(|value| stored_state_from_js(&value))
        .transpose()
}

#[async_trait(?Send)]
impl SessionStore for IndexedDbStore {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        self.write(&[SESSIONS], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let new = &record.session;
            if exists(&sessions, &id_key(&new.id)).await? {
                return Ok(InsertOutcome::IdTaken);
            }
            let mut evicted = Vec::new();
            if let Some(limit) = limit {
                let by_user = index(&sessions, USER_ACTIVITY)?;
                let range = user_range(&new.user_id, None)?;
                let mut cursor = index_cursor(&by_user, &range, IdbCursorDirection::Prev)?;
                let mut live = Vec::new();
                while let Some(item) = step(&mut cursor).await? {
                    let existing = session_from_js(&item.value)?;
                    if limit.live.admits(&existing.session) {
                        live.push(existing);
                    }
                }
                let positions = live.iter().map(SessionRecord::position).collect();
                match limit.decide(positions) {
                    LimitDecision::Reject => return Ok(InsertOutcome::LimitReached),
                    LimitDecision::Admit { evict } => {
                        // In the order decided (a user's live sessions are few).
                        for id in evict {
                            if let Some(at) = live.iter().position(|r| r.session.id == id) {
                                evicted.push(live.swap_remove(at));
                            }
                        }
                    }
                }
            }
            // Insert-only: `add` never replaces (a taken id is a ConstraintError).
            if !add(&sessions, &session_to_js(record)?, None).await? {
                return Ok(InsertOutcome::IdTaken);
            }
            for mut old in evicted.iter().cloned() {
                old.session.active = false;
                put(&sessions, &session_to_js(&old)?, None).await?;
            }
            Ok(InsertOutcome::Inserted {
                evicted: evicted.iter().map(|r| r.session.id).collect(),
            })
        })
        .await
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>> {
        self.read(&[SESSIONS], async |tx| {
            get_session_in(&tx.store(SESSIONS)?, id).await
        })
        .await
    }

    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
        live: &Liveness,
    ) -> Result<WriteOutcome> {
        self.write(&[SESSIONS], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let found = get_session_in(&sessions, id).await?;
            let mut record = match writable(found) {
                Ok(record) => record,
                Err(outcome) => return Ok(outcome),
            };
            if live.expired(&record.session) {
                return Ok(WriteOutcome::Expired);
            }
            if record.session.last_active_at > last_active_at {
                return Ok(WriteOutcome::Stale);
            }
            record.session.last_active_at = last_active_at;
            record.session.expires_at = expires_at;
            put(&sessions, &session_to_js(&record)?, None).await?;
            Ok(WriteOutcome::Applied)
        })
        .await
    }

    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected_revision: u64,
        metadata: &Map<String, Value>,
        revision: u64,
    ) -> Result<WriteOutcome> {
        self.write(&[SESSIONS], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let found = get_session_in(&sessions, id).await?;
            let mut record = match writable(found) {
                Ok(record) => record,
                Err(outcome) => return Ok(outcome),
            };
            if record.metadata_revision != expected_revision {
                return Ok(WriteOutcome::Stale);
            }
            record.session.metadata = metadata.clone();
            record.metadata_revision = revision;
            put(&sessions, &session_to_js(&record)?, None).await?;
            Ok(WriteOutcome::Applied)
        })
        .await
    }

    async fn rotate_session(
        &self,
        old: &SessionId,
        expected_revision: u64,
        new: &SessionRecord,
    ) -> Result<WriteOutcome> {
        self.write(&[SESSIONS, STATES], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let states = tx.store(STATES)?;
            let found = get_session_in(&sessions, old).await?;
            match writable(found) {
                Err(outcome) => return Ok(outcome),
                Ok(r) if r.metadata_revision != expected_revision => {
                    return Ok(WriteOutcome::Stale)
                }
                Ok(_) => {}
            }
            let new_key = id_key(&new.session.id);
            if exists(&sessions, &new_key).await? {
                return Ok(WriteOutcome::IdTaken);
            }
            let state = get(&states, &id_key(old)).await?;
            // The new id was checked free in this transaction, so `add` cannot fail on it;
            // should it, nothing has been written yet.
            if !add(&sessions, &session_to_js(new)?, None).await? {
                return Ok(WriteOutcome::IdTaken);
            }
            delete(&sessions, &id_key(old)).await?;
            if let Some(state) = state {
                delete(&states, &id_key(old)).await?;
                put(&states, &state, Some(&new_key)).await?;
            }
            Ok(WriteOutcome::Applied)
        })
        .await
    }

    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.write(&[SESSIONS], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let found = get_session_in(&sessions, id).await?;
            let mut record = match writable(found) {
                Ok(record) => record,
                Err(outcome) => return Ok(outcome),
            };
            record.session.active = false;
            put(&sessions, &session_to_js(&record)?, None).await?;
            Ok(WriteOutcome::Applied)
        })
        .await
    }

    async fn delete_session(&self, id: &SessionId) -> Result<bool> {
        self.write(&[SESSIONS, STATES], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let key = id_key(id);
            if !exists(&sessions, &key).await? {
                return Ok(false);
            }
            delete(&sessions, &key).await?;
            delete(&tx.store(STATES)?, &key).await?;
            Ok(true)
        })
        .await
    }

    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool> {
        self.write(&[SESSIONS, STATES], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            match get_session_in(&sessions, id).await? {
                Some(r) if live.expired(&r.session) => {
                    let key = id_key(id);
                    delete(&sessions, &key).await?;
                    delete(&tx.store(STATES)?, &key).await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn list_user_sessions(&self, query: &UserPageQuery) -> Result<Vec<SessionRecord>> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        self.read(&[SESSIONS], async |tx| {
            let by_user = index(&tx.store(SESSIONS)?, USER_ACTIVITY)?;
            let range = user_range(&query.user_id, query.after.as_ref())?;
            let mut cursor = index_cursor(&by_user, &range, IdbCursorDirection::Prev)?;
            let mut page = Vec::new();
            while let Some(item) = step(&mut cursor).await? {
                let record = session_from_js(&item.value)?;
                if query.live.is_none_or(|live| live.admits(&record.session)) {
                    page.push(record);
                    if page.len() >= query.limit as usize {
                        break;
                    }
                }
            }
            Ok(page)
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>> {
        self.write(&[SESSIONS], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let by_user = index(&sessions, USER_ACTIVITY)?;
            let range = user_range(user_id, None)?;
            let mut cursor = index_cursor(&by_user, &range, IdbCursorDirection::Prev)?;
            let mut to_revoke = Vec::new();
            while let Some(item) = step(&mut cursor).await? {
                let record = session_from_js(&item.value)?;
                // Expired sessions are left for cleanup.
                if Some(&record.session.id) != except && live.admits(&record.session) {
                    to_revoke.push(record);
                }
            }
            let mut revoked = Vec::with_capacity(to_revoke.len());
            for mut record in to_revoke {
                record.session.active = false;
                put(&sessions, &session_to_js(&record)?, None).await?;
                revoked.push(record.position());
            }
            Ok(revoked)
        })
        .await
    }

    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        self.write(&[SESSIONS, STATES], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let by_user = index(&sessions, USER_ACTIVITY)?;
            let range = user_range(user_id, None)?;
            let mut cursor = index_key_cursor(&by_user, &range, IdbCursorDirection::Prev)?;
            let mut keys = Vec::new();
            while let Some(item) = step(&mut cursor).await? {
                keys.push(item.primary_key);
                if keys.len() >= max as usize {
                    break;
                }
            }
            let states = tx.store(STATES)?;
            let mut ids = Vec::with_capacity(keys.len());
            for key in &keys {
                ids.push(id_from_key(key)?);
                delete(&sessions, key).await?;
                delete(&states, key).await?;
            }
            Ok(ids)
        })
        .await
    }

    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64> {
        self.read(&[SESSIONS], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let (mut cursor, live) = match (user_id, live) {
                (None, None) => return count(&CountSource::Store(&sessions)).await,
                (Some(user), None) => {
                    let by_user = index(&sessions, USER_ACTIVITY)?;
                    let range = user_range(user, None)?;
                    return count(&CountSource::IndexRange(&by_user, &range)).await;
                }
                (Some(user), Some(live)) => (
                    index_cursor(
                        &index(&sessions, USER_ACTIVITY)?,
                        &user_range(user, None)?,
                        IdbCursorDirection::Next,
                    )?,
                    live,
                ),
                // Only the unexpired part of the expiry index can hold live sessions.
                (None, Some(live)) => (
                    index_cursor(
                        &index(&sessions, EXPIRY)?,
                        &IdbKeyRange::lower_bound_with_open(&number(live.now)?, true)
                            .map(JsValue::from)
                            .map_err(thrown("build key range"))?,
                        IdbCursorDirection::Next,
                    )?,
                    live,
                ),
            };
            let mut n = 0;
            while let Some(item) = step(&mut cursor).await? {
                n += u64::from(SessionSummary::from_js(&item.value)?.is_live(live));
            }
            Ok(n)
        })
        .await
    }
}

#[async_trait(?Send)]
impl StateStore for IndexedDbStore {
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup> {
        self.read(&[SESSIONS, STATES], async |tx| {
            // Both requests in flight at once: one round trip to the database, not two.
            let key = id_key(id);
            let session = issue_count(&tx.store(SESSIONS)?, &key)?;
            let state = issue_get(&tx.store(STATES)?, &key)?;
            if !session.exists().await? {
                return Ok(StateLookup::NoSession);
            }
            Ok(
                match state
                    .value()
                    .await?
                    .map(|v| stored_state_from_js(&v))
                    .transpose()?
                {
                    Some(StoredState::Present(state)) => StateLookup::Found(state),
                    Some(StoredState::Cleared(_)) | None => StateLookup::Empty,
                },
            )
        })
        .await
    }

    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut> {
        self.write(&[SESSIONS, STATES], async |tx| {
            let found = get_session_in(&tx.store(SESSIONS)?, id).await?;
            match writable(found) {
                Err(WriteOutcome::Missing) => return Ok(StatePut::Missing),
                Err(_) => return Ok(StatePut::Inactive),
                Ok(_) => {}
            }
            let states = tx.store(STATES)?;
            let versions = match stored_state_in(&states, id).await? {
                Some(StoredState::Present(state)) => StateVersions {
                    current: state.version,
                    cleared: 0,
                },
                Some(StoredState::Cleared(version)) => StateVersions {
                    current: 0,
                    cleared: version,
                },
                None => StateVersions {
                    current: 0,
                    cleared: 0,
                },
            };
            let version = match versions.decide(expected_version)? {
                StateDecision::Conflict(current) => return Ok(StatePut::Conflict(current)),
                StateDecision::Write(version) => version,
            };
            let state = StateRecord {
                version,
                blob: blob.to_vec(),
                updated_at,
            };
            put(&states, &state_to_js(&state)?, Some(&id_key(id))).await?;
            Ok(StatePut::Written(version))
        })
        .await
    }

    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.write(&[SESSIONS, STATES], async |tx| {
            let found = get_session_in(&tx.store(SESSIONS)?, id).await?;
            if let Err(outcome) = writable(found) {
                return Ok(outcome);
            }
            let states = tx.store(STATES)?;
            if let Some(StoredState::Present(state)) = stored_state_in(&states, id).await? {
                let cleared = cleared_state_to_js(state.version, state.updated_at)?;
                put(&states, &cleared, Some(&id_key(id))).await?;
            }
            Ok(WriteOutcome::Applied)
        })
        .await
    }
}

#[async_trait(?Send)]
impl MaintenanceStore for IndexedDbStore {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        if max == 0 {
            return Ok(0);
        }
        self.write(&[SESSIONS, STATES], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let states = tx.store(STATES)?;
            // `expires_at <= now`, oldest first; ties in primary-key (id) order.
            let range =
                IdbKeyRange::upper_bound(&number(live.now)?).map_err(thrown("build key range"))?;
            let by_expiry = index(&sessions, EXPIRY)?;
            let mut cursor = index_key_cursor(&by_expiry, &range, IdbCursorDirection::Next)?;
            let mut keys = Vec::new();
            while let Some(item) = step(&mut cursor).await? {
                id_from_key(&item.primary_key)?;
                keys.push(item.primary_key);
                if keys.len() >= max as usize {
                    break;
                }
            }
            if keys.len() < max as usize {
                // Then the unexpired part of the index, for sessions the configured timeouts
                // expire.
                let rest = IdbKeyRange::lower_bound_with_open(&number(live.now)?, true)
                    .map_err(thrown("build key range"))?;
                let mut cursor = index_cursor(&by_expiry, &rest, IdbCursorDirection::Next)?;
                while let Some(item) = step(&mut cursor).await? {
                    let s = SessionSummary::from_js(&item.value)?;
                    if live.expired_times(s.created_at, s.last_active_at, s.expires_at) {
                        id_from_key(&item.primary_key)?;
                        keys.push(item.primary_key);
                        if keys.len() >= max as usize {
                            break;
                        }
                    }
                }
            }
            for key in &keys {
                delete(&sessions, key).await?;
                delete(&states, key).await?;
            }
            Ok(keys.len() as u64)
        })
        .await
    }

    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch> {
        if max == 0 {
            return Ok(RevokeBatch::default());
        }
        self.write(&[SESSIONS], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let range = after
                .map(|id| IdbKeyRange::lower_bound_with_open(&id_key(id), true))
                .transpose()
                .map_err(thrown("build key range"))?
                .map(JsValue::from);
            let mut cursor = store_cursor(&sessions, range.as_ref())?;
            let (mut looked, mut last, mut to_revoke) = (0, None, Vec::new());
            while let Some(item) = step(&mut cursor).await? {
                let record = session_from_js(&item.value)?;
                looked += 1;
                last = Some(record.session.id);
                if live.admits(&record.session) {
                    to_revoke.push(record);
                }
                if looked >= max as usize {
                    break;
                }
            }
            let mut revoked = Vec::with_capacity(to_revoke.len());
            for mut record in to_revoke {
                record.session.active = false;
                put(&sessions, &session_to_js(&record)?, None).await?;
                revoked.push(record.session.id);
            }
            Ok(RevokeBatch {
                revoked,
                next: if looked >= max as usize { last } else { None },
            })
        })
        .await
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StoreStats> {
        self.read(&[SESSIONS], async |tx| {
            let mut cursor = store_cursor(&tx.store(SESSIONS)?, None)?;
            let mut stats = StoreStats::default();
            let mut by_kind: BTreeMap<ClientKind, u64> = BTreeMap::new();
            while let Some(item) = step(&mut cursor).await? {
                let s = SessionSummary::from_js(&item.value)?;
                stats.total += 1;
                stats.active += u64::from(s.is_live(&query.live));
                for (n, since) in stats.created_since.iter_mut().zip(query.created_since) {
                    *n += u64::from(s.created_at >= since);
                }
                *by_kind.entry(s.kind).or_default() += 1;
                stats.duration_sum_ms += i128::from(s.last_active_at) - i128::from(s.created_at);
            }
            stats.by_client_kind = by_kind.into_iter().collect();
            Ok(stats)
        })
        .await
    }

    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read(&[SESSIONS, STATES], async |tx| {
            let range = after
                .map(|id| IdbKeyRange::lower_bound_with_open(&id_key(id), true))
                .transpose()
                .map_err(thrown("build key range"))?
                .map(JsValue::from);
            let mut cursor = store_cursor(&tx.store(SESSIONS)?, range.as_ref())?;
            let mut records = Vec::new();
            while let Some(item) = step(&mut cursor).await? {
                records.push(session_from_js(&item.value)?);
                if records.len() >= limit as usize {
                    break;
                }
            }
            let states = tx.store(STATES)?;
            let mut page = Vec::with_capacity(records.len());
            for record in records {
                let (state, cleared) = match stored_state_in(&states, &record.session.id).await? {
                    Some(StoredState::Present(state)) => (Some(state), 0),
                    Some(StoredState::Cleared(version)) => (None, version),
                    None => (None, 0),
                };
                page.push(StoredSession {
                    record,
                    state,
                    cleared_state_version: cleared,
                });
            }
            Ok(page)
        })
        .await
    }

    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool> {
        self.write(&[STATES], async |tx| {
            let states = tx.store(STATES)?;
            match stored_state_in(&states, id).await? {
                Some(StoredState::Present(state)) if state.version == version => {
                    let state = StateRecord {
                        blob: blob.to_vec(),
                        ..state
                    };
                    put(&states, &state_to_js(&state)?, Some(&id_key(id))).await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn import_session(&self, session: &StoredSession) -> Result<bool> {
        self.write(&[SESSIONS, STATES], async |tx| {
            let sessions = tx.store(SESSIONS)?;
            let record = &session.record;
            let key = id_key(&record.session.id);
            if exists(&sessions, &key).await? {
                return Ok(false);
            }
            if !add(&sessions, &session_to_js(record)?, None).await? {
                return Ok(false);
            }
            if let Some(state) = &session.state {
                put(&tx.store(STATES)?, &state_to_js(state)?, Some(&key)).await?;
            } else if session.cleared_state_version > 0 {
                // The export does not carry when the state was cleared; the session's last
                // activity stands in (the time of a cleared record is informational).
                let cleared = cleared_state_to_js(
                    session.cleared_state_version,
                    record.session.last_active_at,
                )?;
                put(&tx.store(STATES)?, &cleared, Some(&key)).await?;
            }
            Ok(true)
        })
        .await
    }
}

/// The sync client's replica records (§9), one per client name, in their own object store.
#[async_trait(?Send)]
impl ReplicaStore for IndexedDbStore {
    async fn load_replica(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(&[CLIENT_REPLICAS], async |tx| {
            let replicas = tx.store(CLIENT_REPLICAS)?;
            get(&replicas, &JsValue::from_str(key))
                .await?
                .map(|value| replica_from_js(&value))
                .transpose()
        })
        .await
    }

    async fn save_replica(&self, key: &str, revision: u64, record: &[u8]) -> Result<bool> {
        self.write(&[CLIENT_REPLICAS], async |tx| {
            let replicas = tx.store(CLIENT_REPLICAS)?;
            let key = JsValue::from_str(key);
            if let Some(stored) = get(&replicas, &key).await? {
                let (stored_revision, _) = replica_from_js(&stored)?;
                if stored_revision >= revision {
                    return Ok(false);
                }
            }
            put(&replicas, &replica_to_js(revision, record)?, Some(&key)).await?;
            Ok(true)
        })
        .await
    }
}

//! `MemoryStore`: an in-process store with the same indexes as the persistent ones (by user and
//! activity, by expiry), for tests and ephemeral use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::store::*;
use serde_json::{Map, Value};

use crate::{ClientKind, Error, Result, SessionId};

/// Sessions and state held in memory; gone when dropped.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Ordered by id, so export pages are range scans.
    sessions: BTreeMap<SessionId, SessionRecord>,
    /// Per user: (last_active_at, id), iterated backwards for newest first.
    by_user: BTreeMap<String, BTreeSet<(i64, SessionId)>>,
    /// (expires_at, id), oldest first.
    by_expiry: BTreeSet<(i64, SessionId)>,
    states: HashMap<SessionId, StateRecord>,
    /// The version a cleared state had: the next write continues after it, so a version is
    /// never reused within a session.
    cleared: HashMap<SessionId, u64>,
    /// Sync client replicas by key: (revision, record).
    replicas: HashMap<String, (u64, Vec<u8>)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| Error::storage("memory store lock poisoned by a panic"))
    }
}

impl Inner {
    fn index(&mut self, record: &SessionRecord) {
        let s = &record.session;
        self.by_user
            .entry(s.user_id.clone())
            .or_default()
            .insert((s.last_active_at, s.id));
        self.by_expiry.insert((s.expires_at, s.id));
    }

    fn unindex(&mut self, record: &SessionRecord) {
        let s = &record.session;
        if let Some(set) = self.by_user.get_mut(&s.user_id) {
            set.remove(&(s.last_active_at, s.id));
            if set.is_empty() {
                self.by_user.remove(&s.user_id);
            }
        }
        self.by_expiry.remove(&(s.expires_at, s.id));
    }

    fn insert(&mut self, record: SessionRecord) {
        self.index(&record);
        self.sessions.insert(record.session.id, record);
    }

    fn remove(&mut self, id: &SessionId) -> Option<SessionRecord> {
        let record = self.sessions.remove(id)?;
        self.unindex(&record);
        self.states.remove(id);
        self.cleared.remove(id);
        Some(record)
    }

    /// Applies `change` to a stored record, keeping the indexes in step.
    fn update(&mut self, id: &SessionId, change: impl FnOnce(&mut SessionRecord)) {
        if let Some(mut record) = self.sessions.remove(id) {
            self.unindex(&record);
            change(&mut record);
            self.insert(record);
        }
    }

    fn user_ids_newest_first<'a>(&'a self, user_id: &str) -> impl Iterator<Item = SessionId> + 'a {
        self.by_user
            .get(user_id)
            .into_iter()
            .flat_map(|set| set.iter().rev().map(|(_, id)| *id))
    }

    /// Checks the session can take a write: exists and is active.
    fn writable(&self, id: &SessionId) -> std::result::Result<(), WriteOutcome> {
        match self.sessions.get(id) {
            None => Err(WriteOutcome::Missing),
            Some(r) if !r.session.active => Err(WriteOutcome::Inactive),
            Some(_) => Ok(()),
        }
    }
}

#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
impl SessionStore for MemoryStore {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        let mut inner = self.lock()?;
        if inner.sessions.contains_key(&record.session.id) {
            return Ok(InsertOutcome::IdTaken);
        }
        let evicted = match limit {
            None => Vec::new(),
            Some(limit) => {
                let live: Vec<SessionPosition> = inner
                    .user_ids_newest_first(&record.session.user_id)
                    .map(|id| &inner.sessions[&id])
                    .filter(|r| limit.live.admits(&r.session))
                    .map(SessionRecord::position)
                    .collect();
                match limit.decide(live) {
                    LimitDecision::Reject => return Ok(InsertOutcome::LimitReached),
                    LimitDecision::Admit { evict } => evict,
                }
            }
        };
        for id in &evicted {
            inner.update(id, |r| r.session.active = false);
        }
        inner.insert(record.clone());
        Ok(InsertOutcome::Inserted { evicted })
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>> {
        Ok(self.lock()?.sessions.get(id).cloned())
    }

    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
        live: &Liveness,
    ) -> Result<WriteOutcome> {
        let mut inner = self.lock()?;
        if let Err(outcome) = inner.writable(id) {
            return Ok(outcome);
        }
        let stored = &inner.sessions[id].session;
        if live.expired(stored) {
            return Ok(WriteOutcome::Expired);
        }
        if stored.last_active_at > last_active_at {
            return Ok(WriteOutcome::Stale);
        }
        inner.update(id, |r| {
            r.session.last_active_at = last_active_at;
            r.session.expires_at = expires_at;
        });
        Ok(WriteOutcome::Applied)
    }

    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected_revision: u64,
        metadata: &Map<String, Value>,
        revision: u64,
    ) -> Result<WriteOutcome> {
        let mut inner = self.lock()?;
        if let Err(outcome) = inner.writable(id) {
            return Ok(outcome);
        }
        let record = inner.sessions.get_mut(id).ok_or(Error::NotFound)?;
        if record.metadata_revision != expected_revision {
            return Ok(WriteOutcome::Stale);
        }
        record.session.metadata = metadata.clone();
        record.metadata_revision = revision;
        Ok(WriteOutcome::Applied)
    }

    async fn rotate_session(
        &self,
        old: &SessionId,
        expected_revision: u64,
        new: &SessionRecord,
    ) -> Result<WriteOutcome> {
        let mut inner = self.lock()?;
        if let Err(outcome) = inner.writable(old) {
            return Ok(outcome);
        }
        if inner.sessions[old].metadata_revision != expected_revision {
            return Ok(WriteOutcome::Stale);
        }
        if inner.sessions.contains_key(&new.session.id) {
            return Ok(WriteOutcome::IdTaken);
        }
        let state = inner.states.remove(old);
        let cleared = inner.cleared.remove(old);
        inner.remove(old);
        inner.insert(new.clone());
        if let Some(state) = state {
            inner.states.insert(new.session.id, state);
        }
        if let Some(cleared) = cleared {
            inner.cleared.insert(new.session.id, cleared);
        }
        Ok(WriteOutcome::Applied)
    }

    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome> {
        let mut inner = self.lock()?;
        if let Err(outcome) = inner.writable(id) {
            return Ok(outcome);
        }
        inner.update(id, |r| r.session.active = false);
        Ok(WriteOutcome::Applied)
    }

    async fn delete_session(&self, id: &SessionId) -> Result<bool> {
        Ok(self.lock()?.remove(id).is_some())
    }

    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool> {
        let mut inner = self.lock()?;
        match inner.sessions.get(id) {
            Some(r) if live.expired(&r.session) => Ok(inner.remove(id).is_some()),
            _ => Ok(false),
        }
    }

    async fn list_user_sessions(&self, query: &UserPageQuery) -> Result<Vec<SessionRecord>> {
        let inner = self.lock()?;
        let Some(set) = inner.by_user.get(&query.user_id) else {
            return Ok(Vec::new());
        };
        let upper = match query.after {
            Some(p) => Bound::Excluded((p.last_active_at, p.id)),
            None => Bound::Unbounded,
        };
        Ok(set
            .range((Bound::Unbounded, upper))
            .rev()
            .map(|(_, id)| &inner.sessions[id])
            .filter(|r| query.live.is_none_or(|live| live.admits(&r.session)))
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>> {
        let mut inner = self.lock()?;
        let revoked: Vec<SessionPosition> = inner
            .user_ids_newest_first(user_id)
            .map(|id| &inner.sessions[&id])
            .filter(|r| Some(&r.session.id) != except && live.admits(&r.session))
            .map(SessionRecord::position)
            .collect();
        for p in &revoked {
            inner.update(&p.id, |r| r.session.active = false);
        }
        Ok(revoked)
    }

    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>> {
        let mut inner = self.lock()?;
        let ids: Vec<SessionId> = inner
            .user_ids_newest_first(user_id)
            .take(max as usize)
            .collect();
        for id in &ids {
            inner.remove(id);
        }
        Ok(ids)
    }

    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64> {
        let inner = self.lock()?;
        let counts = |r: &SessionRecord| live.is_none_or(|live| live.admits(&r.session));
        let n = match user_id {
            Some(user) => inner
                .user_ids_newest_first(user)
                .filter(|id| counts(&inner.sessions[id]))
                .count(),
            None => inner.sessions.values().filter(|r| counts(r)).count(),
        };
        Ok(n as u64)
    }
}

#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
impl StateStore for MemoryStore {
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup> {
        let inner = self.lock()?;
        Ok(
            match (inner.sessions.contains_key(id), inner.states.get(id)) {
                (false, _) => StateLookup::NoSession,
                (true, None) => StateLookup::Empty,
                (true, Some(state)) => StateLookup::Found(state.clone()),
            },
        )
    }

    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut> {
        let mut inner = self.lock()?;
        match inner.writable(id) {
            Err(WriteOutcome::Missing) => return Ok(StatePut::Missing),
            Err(_) => return Ok(StatePut::Inactive),
            Ok(()) => {}
        }
        let versions = StateVersions {
            current: inner.states.get(id).map_or(0, |s| s.version),
            cleared: inner.cleared.get(id).copied().unwrap_or(0),
        };
        let version = match versions.decide(expected_version)? {
            StateDecision::Conflict(current) => return Ok(StatePut::Conflict(current)),
            StateDecision::Write(version) => version,
        };
        inner.cleared.remove(id);
        inner.states.insert(
            *id,
            StateRecord {
                version,
                blob: blob.to_vec(),
                updated_at,
            },
        );
        Ok(StatePut::Written(version))
    }

    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome> {
        let mut inner = self.lock()?;
        if let Err(outcome) = inner.writable(id) {
            return Ok(outcome);
        }
        if let Some(state) = inner.states.remove(id) {
            inner.cleared.insert(*id, state.version);
        }
        Ok(WriteOutcome::Applied)
    }
}

#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
impl MaintenanceStore for MemoryStore {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        let mut inner = self.lock()?;
        let ids: Vec<SessionId> = inner
            .by_expiry
            .iter()
            .map(|(_, id)| &inner.sessions[id])
            // In expiry order, the stored expiries that passed come first, then the sessions
            // expired only by the configured timeouts.
            .filter(|r| live.expired(&r.session))
            .take(max as usize)
            .map(|r| r.session.id)
            .collect();
        for id in &ids {
            inner.remove(id);
        }
        Ok(ids.len() as u64)
    }

    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch> {
        let mut inner = self.lock()?;
        let lower = match after {
            Some(id) => Bound::Excluded(*id),
            None => Bound::Unbounded,
        };
        let looked: Vec<(SessionId, bool)> = inner
            .sessions
            .range((lower, Bound::Unbounded))
            .take(max as usize)
            .map(|(id, r)| (*id, live.admits(&r.session)))
            .collect();
        let mut batch = RevokeBatch {
            revoked: Vec::new(),
            next: (looked.len() == max as usize)
                .then(|| looked.last().map(|(id, _)| *id))
                .flatten(),
        };
        for (id, revoke) in looked {
            if revoke {
                inner.update(&id, |r| r.session.active = false);
                batch.revoked.push(id);
            }
        }
        Ok(batch)
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StoreStats> {
        let inner = self.lock()?;
        let mut stats = StoreStats::default();
        let mut by_kind: BTreeMap<ClientKind, u64> = BTreeMap::new();
        for r in inner.sessions.values() {
            let s = &r.session;
            stats.total += 1;
            stats.active += u64::from(query.live.admits(s));
            for (n, since) in stats.created_since.iter_mut().zip(query.created_since) {
                *n += u64::from(s.created_at >= since);
            }
            *by_kind.entry(s.client.kind).or_default() += 1;
            stats.duration_sum_ms += i128::from(s.last_active_at) - i128::from(s.created_at);
        }
        stats.by_client_kind = by_kind.into_iter().collect();
        Ok(stats)
    }

    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>> {
        let inner = self.lock()?;
        let lower = match after {
            Some(id) => Bound::Excluded(*id),
            None => Bound::Unbounded,
        };
        Ok(inner
            .sessions
            .range((lower, Bound::Unbounded))
            .take(limit as usize)
            .map(|(id, r)| {
                let state = inner.states.get(id).cloned();
                let cleared = match state {
                    Some(_) => 0,
                    None => inner.cleared.get(id).copied().unwrap_or(0),
                };
                StoredSession {
                    record: r.clone(),
                    state,
                    cleared_state_version: cleared,
                }
            })
            .collect())
    }

    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool> {
        let mut inner = self.lock()?;
        match inner.states.get_mut(id) {
            Some(state) if state.version == version => {
                state.blob = blob.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn import_session(&self, session: &StoredSession) -> Result<bool> {
        let mut inner = self.lock()?;
        let id = session.record.session.id;
        if inner.sessions.contains_key(&id) {
            return Ok(false);
        }
        inner.insert(session.record.clone());
        if let Some(state) = &session.state {
            inner.states.insert(id, state.clone());
        } else if session.cleared_state_version > 0 {
            inner.cleared.insert(id, session.cleared_state_version);
        }
        Ok(true)
    }
}

#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
impl ReplicaStore for MemoryStore {
    async fn load_replica(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>> {
        Ok(self.lock()?.replicas.get(key).cloned())
    }

    async fn save_replica(&self, key: &str, revision: u64, record: &[u8]) -> Result<bool> {
        let mut inner = self.lock()?;
        if inner
            .replicas
            .get(key)
            .is_some_and(|(stored, _)| *stored >= revision)
        {
            return Ok(false);
        }
        inner
            .replicas
            .insert(key.to_owned(), (revision, record.to_vec()));
        Ok(true)
    }
}

#[cfg(all(test, feature = "testing"))]
mod replica_tests {
    #[test]
    fn the_memory_store_keeps_replicas_as_the_kit_says() {
        let store = super::MemoryStore::new();
        let checks = pollster::block_on(crate::testing::kit::check_replica_store(&store)).unwrap();
        assert!(checks >= 10);
    }
}

//! A [`Store`] wrapper that times every `delete_expired` call, so the bench sees each cleanup
//! transaction of the real `SessionManager::cleanup_expired` path.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sessionkit::{
    InsertOutcome, Liveness, MaintenanceStore, Result, RevokeBatch, SessionId, SessionLimit,
    SessionPosition, SessionRecord, SessionStore, StateLookup, StatePut, StateStore, StatsQuery,
    Store, StoreStats, StoredSession, UserPageQuery, WriteOutcome,
};

/// Delegates everything to `inner`, recording the duration of each `delete_expired`.
#[derive(Debug)]
pub struct TimedStore<S> {
    inner: Arc<S>,
    /// Nanoseconds taken by each `delete_expired` call, in order.
    pub batches: Mutex<Vec<u128>>,
}

impl<S> TimedStore<S> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<S>) -> Self {
        TimedStore {
            inner,
            batches: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl<S: Store> SessionStore for TimedStore<S> {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        self.inner.insert_session(record, limit).await
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>> {
        self.inner.get_session(id).await
    }

    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
        live: &Liveness,
    ) -> Result<WriteOutcome> {
        self.inner
            .touch_session(id, last_active_at, expires_at, live)
            .await
    }

    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected_revision: u64,
        metadata: &Map<String, Value>,
        revision: u64,
    ) -> Result<WriteOutcome> {
        self.inner
            .replace_metadata(id, expected_revision, metadata, revision)
            .await
    }

    async fn rotate_session(
        &self,
        old: &SessionId,
        expected_revision: u64,
        new: &SessionRecord,
    ) -> Result<WriteOutcome> {
        self.inner.rotate_session(old, expected_revision, new).await
    }

    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.inner.revoke_session(id).await
    }

    async fn delete_session(&self, id: &SessionId) -> Result<bool> {
        self.inner.delete_session(id).await
    }

    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool> {
        self.inner.delete_expired_session(id, live).await
    }

    async fn list_user_sessions(&self, query: &UserPageQuery) -> Result<Vec<SessionRecord>> {
        self.inner.list_user_sessions(query).await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>> {
        self.inner.revoke_user_sessions(user_id, except, live).await
    }

    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>> {
        self.inner.delete_user_sessions(user_id, max).await
    }

    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64> {
        self.inner.count_sessions(user_id, live).await
    }
}

#[async_trait]
impl<S: Store> StateStore for TimedStore<S> {
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup> {
        self.inner.get_state(id).await
    }

    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut> {
        self.inner
            .put_state(id, expected_version, blob, updated_at)
            .await
    }

    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.inner.clear_state(id).await
    }
}

#[async_trait]
impl<S: Store> MaintenanceStore for TimedStore<S> {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        let start = Instant::now();
        let deleted = self.inner.delete_expired(live, max).await;
        let ns = start.elapsed().as_nanos();
        if let Ok(mut batches) = self.batches.lock() {
            batches.push(ns);
        }
        deleted
    }

    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch> {
        self.inner.revoke_live_sessions(after, max, live).await
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StoreStats> {
        self.inner.stats(query).await
    }

    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>> {
        self.inner.scan_sessions(after, limit).await
    }

    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool> {
        self.inner.rewrite_state(id, version, blob).await
    }

    async fn import_session(&self, session: &StoredSession) -> Result<bool> {
        self.inner.import_session(session).await
    }
}

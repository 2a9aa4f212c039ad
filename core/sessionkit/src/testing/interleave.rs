//! [`Interleave`]: a store wrapper that runs a caller's code just before a chosen store method,
//! to reproduce what another process could do between the engine's read and its write.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::store::*;
use crate::{Result, SessionId};

/// A store call as the hook sees it: the method's name and the session it is about (the new
/// record's id for `insert_session`, the old one for `rotate_session`; `None` for the calls about
/// a user or every session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The method's name, e.g. `"insert_session"`.
    pub method: &'static str,
    /// The session the call is about.
    pub session: Option<SessionId>,
}

/// What runs before a store method: given the call and the store underneath.
pub type Hook =
    dyn Fn(Call, Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

/// Delegates every method to `inner`, first awaiting `hook(call, inner)`.
pub struct Interleave {
    inner: Arc<dyn Store>,
    hook: Box<Hook>,
}

impl std::fmt::Debug for Interleave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interleave")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Interleave {
    /// Wraps `inner`; `hook(method name, inner)` runs before every method (it decides itself
    /// which ones matter).
    pub fn new<F, Fut>(inner: Arc<dyn Store>, hook: F) -> Self
    where
        F: Fn(&'static str, Arc<dyn Store>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::with_calls(inner, move |call, store| hook(call.method, store))
    }

    /// Wraps `inner`; `hook(call, inner)` runs before every method, seeing which session the
    /// call is about.
    pub fn with_calls<F, Fut>(inner: Arc<dyn Store>, hook: F) -> Self
    where
        F: Fn(Call, Arc<dyn Store>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Interleave {
            inner,
            hook: Box::new(move |call, store| Box::pin(hook(call, store))),
        }
    }

    async fn before(&self, method: &'static str, session: Option<SessionId>) {
        (self.hook)(Call { method, session }, Arc::clone(&self.inner)).await;
    }
}

#[async_trait]
impl SessionStore for Interleave {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        self.before("insert_session", Some(record.session.id)).await;
        self.inner.insert_session(record, limit).await
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>> {
        self.before("get_session", Some(*id)).await;
        self.inner.get_session(id).await
    }

    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
        live: &Liveness,
    ) -> Result<WriteOutcome> {
        self.before("touch_session", Some(*id)).await;
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
        self.before("replace_metadata", Some(*id)).await;
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
        self.before("rotate_session", Some(*old)).await;
        self.inner.rotate_session(old, expected_revision, new).await
    }

    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.before("revoke_session", Some(*id)).await;
        self.inner.revoke_session(id).await
    }

    async fn delete_session(&self, id: &SessionId) -> Result<bool> {
        self.before("delete_session", Some(*id)).await;
        self.inner.delete_session(id).await
    }

    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool> {
        self.before("delete_expired_session", Some(*id)).await;
        self.inner.delete_expired_session(id, live).await
    }

    async fn list_user_sessions(&self, query: &UserPageQuery) -> Result<Vec<SessionRecord>> {
        self.before("list_user_sessions", None).await;
        self.inner.list_user_sessions(query).await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>> {
        self.before("revoke_user_sessions", None).await;
        self.inner.revoke_user_sessions(user_id, except, live).await
    }

    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>> {
        self.before("delete_user_sessions", None).await;
        self.inner.delete_user_sessions(user_id, max).await
    }

    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64> {
        self.before("count_sessions", None).await;
        self.inner.count_sessions(user_id, live).await
    }
}

#[async_trait]
impl StateStore for Interleave {
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup> {
        self.before("get_state", Some(*id)).await;
        self.inner.get_state(id).await
    }

    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut> {
        self.before("put_state", Some(*id)).await;
        self.inner
            .put_state(id, expected_version, blob, updated_at)
            .await
    }

    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.before("clear_state", Some(*id)).await;
        self.inner.clear_state(id).await
    }
}

#[async_trait]
impl MaintenanceStore for Interleave {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        self.before("delete_expired", None).await;
        self.inner.delete_expired(live, max).await
    }

    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch> {
        self.before("revoke_live_sessions", None).await;
        self.inner.revoke_live_sessions(after, max, live).await
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StoreStats> {
        self.before("stats", None).await;
        self.inner.stats(query).await
    }

    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>> {
        self.before("scan_sessions", None).await;
        self.inner.scan_sessions(after, limit).await
    }

    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool> {
        self.before("rewrite_state", Some(*id)).await;
        self.inner.rewrite_state(id, version, blob).await
    }

    async fn import_session(&self, session: &StoredSession) -> Result<bool> {
        self.before("import_session", Some(session.record.session.id))
            .await;
        self.inner.import_session(session).await
    }
}

//! Creation is insert-only, and the engine's answer to a taken id is to draw another: a store
//! wrapper makes the first insert of a `create` land on an id that already exists, in the real
//! store (SQLite, and the memory store beside it), which refuses it as `IdTaken`. The manager
//! must retry with a new id and token, and the existing session must come out untouched.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pollster::block_on;
use serde_json::json;
use serde_json::{Map, Value};
use sessionkit::*;

/// Delegates to `inner`; while `collide_with` holds an id, the next insert is sent to the
/// store under that id instead of its own (a 128-bit collision, made to happen).
#[derive(Debug)]
struct CollidingStore {
    inner: Arc<dyn Store>,
    collide_with: Mutex<Option<SessionId>>,
    /// (id tried, outcome) of every insert, in order.
    inserts: Mutex<Vec<(SessionId, InsertOutcome)>>,
}

#[async_trait]
impl SessionStore for CollidingStore {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        let taken = self.collide_with.lock().unwrap().take();
        let mut record = record.clone();
        if let Some(id) = taken {
            record.session.id = id;
        }
        let outcome = self.inner.insert_session(&record, limit).await?;
        self.inserts
            .lock()
            .unwrap()
            .push((record.session.id, outcome.clone()));
        Ok(outcome)
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
impl StateStore for CollidingStore {
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
impl MaintenanceStore for CollidingStore {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        self.inner.delete_expired(live, max).await
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

fn check_retry_on(inner: Arc<dyn Store>) {
    let store = Arc::new(CollidingStore {
        inner,
        collide_with: Mutex::new(None),
        inserts: Mutex::new(Vec::new()),
    });
    let clock = ManualClock::new(1_700_000_000_000);
    let m =
        SessionManager::open_with_clock(store.clone(), Config::default(), Arc::new(clock)).unwrap();

    let mut first = NewSession::new("alice", ClientKind::Web);
    first.device = Some("Pixel 8".into());
    first.metadata = Some(json!({ "role": "admin" }));
    let existing = block_on(m.create(first)).unwrap();
    block_on(m.put_state(&existing.session.id, &json!({ "tab": "inbox" }), Some(0))).unwrap();
    let before = block_on(store.inner.get_session(&existing.session.id)).unwrap();

    // The next create's first attempt lands on alice's id.
    *store.collide_with.lock().unwrap() = Some(existing.session.id);
    store.inserts.lock().unwrap().clear();
    let created = block_on(m.create(NewSession::new("mallory", ClientKind::Other))).unwrap();

    let inserts = store.inserts.lock().unwrap().clone();
    assert_eq!(
        inserts.len(),
        2,
        "one refused attempt, one retry: {inserts:?}"
    );
    assert_eq!(inserts[0], (existing.session.id, InsertOutcome::IdTaken));
    assert_eq!(
        inserts[1],
        (
            created.session.id,
            InsertOutcome::Inserted { evicted: vec![] }
        )
    );
    assert_ne!(created.session.id, existing.session.id);

    // Nothing of alice's session was replaced: record, token hash, state.
    assert_eq!(
        block_on(store.inner.get_session(&existing.session.id)).unwrap(),
        before
    );
    let alice = block_on(m.validate(existing.token.as_str())).unwrap();
    assert_eq!(alice.user_id, "alice");
    assert_eq!(alice.metadata["role"], "admin");
    assert_eq!(
        block_on(m.get_state(&existing.session.id))
            .unwrap()
            .unwrap()
            .data,
        json!({ "tab": "inbox" })
    );
    // The retried session works with the token returned, and only with it.
    let mallory = block_on(m.validate(created.token.as_str())).unwrap();
    assert_eq!(mallory.id, created.session.id);
    assert_eq!(mallory.user_id, "mallory");
    let forged = format!("{}.{}", existing.session.id, &created.token.as_str()[23..]);
    assert!(block_on(m.validate(&forged)).is_err());
    assert_eq!(block_on(m.count_user_sessions("alice", false)).unwrap(), 1);
}

#[test]
fn a_taken_id_is_refused_by_the_sqlite_store_and_the_manager_draws_again() {
    let (_dir, _path, store) = common::temp_store();
    check_retry_on(Arc::new(store));
}

#[test]
fn a_taken_id_is_refused_by_the_memory_store_and_the_manager_draws_again() {
    check_retry_on(Arc::new(MemoryStore::new()));
}

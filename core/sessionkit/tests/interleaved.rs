//! What another process can do between the engine's read and its write, reproduced with a store
//! wrapper ([`Interleave`]) that runs it just before the write: the engine's write must not undo
//! it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pollster::block_on;
use serde_json::json;
use sessionkit::testing::Interleave;
use sessionkit::{
    ClientKind, Config, ManualClock, MemoryStore, NewSession, SessionId, SessionManager, Store,
    WriteOutcome,
};

const T0: i64 = 1_700_000_000_000;

fn manager(store: Arc<dyn Store>, clock: &ManualClock) -> SessionManager {
    SessionManager::open_with_clock(store, Config::default(), Arc::new(clock.clone())).unwrap()
}

/// A privilege demotion (`role: admin` → `user`) committed between `rotate`'s read and its
/// write is carried over to the new session, not undone.
#[test]
fn rotate_keeps_a_metadata_update_committed_meanwhile() {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(T0);
    let setup = manager(memory.clone(), &clock);
    let mut new = NewSession::new("alice", ClientKind::Web);
    new.metadata = Some(json!({ "role": "admin" }));
    let id: SessionId = block_on(setup.create(new)).unwrap().session.id;

    let fired = Arc::new(AtomicBool::new(false));
    let once = fired.clone();
    let store = Interleave::new(memory.clone(), move |method, inner| {
        let first = method == "rotate_session" && !once.swap(true, Ordering::SeqCst);
        async move {
            if first {
                // Another manager's `update_metadata`, committed just before the rotation.
                let r = inner.get_session(&id).await.unwrap().unwrap();
                let mut demoted = r.session.metadata.clone();
                demoted.insert("role".into(), json!("user"));
                let outcome = inner
                    .replace_metadata(&id, r.metadata_revision, &demoted, r.metadata_revision + 1)
                    .await
                    .unwrap();
                assert_eq!(outcome, WriteOutcome::Applied);
            }
        }
    });
    let m = manager(Arc::new(store), &clock);
    let rotated = block_on(m.rotate(&id)).unwrap();
    assert!(fired.load(Ordering::SeqCst), "the interleaved update ran");
    assert_eq!(rotated.session.metadata["role"], "user");
    let stored = block_on(memory.get_session(&rotated.session.id))
        .unwrap()
        .unwrap();
    assert_eq!(stored.session.metadata["role"], "user");
    assert_eq!(block_on(memory.get_session(&id)).unwrap(), None);
}

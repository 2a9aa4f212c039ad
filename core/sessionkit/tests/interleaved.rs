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

/// A clock that reads `first` once, then `then` for ever: time that passes between two reads
/// of one call.
struct SteppingClock {
    reads: std::sync::atomic::AtomicUsize,
    first: i64,
    then: i64,
}

impl sessionkit::Clock for SteppingClock {
    fn now_ms(&self) -> i64 {
        if self.reads.fetch_add(1, Ordering::SeqCst) == 0 {
            self.first
        } else {
            self.then
        }
    }
}

/// A session that expires between `validate`'s check and its touch is not extended by the
/// touch: it is reported expired (and removed).
#[test]
fn a_late_touch_does_not_extend_an_expired_session() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let setup = manager(store.clone(), &ManualClock::new(T0));
    let created = block_on(setup.create(NewSession::new("alice", ClientKind::Web))).unwrap();
    let idle = Config::default().idle_timeout_ms;
    let clock = SteppingClock {
        reads: Default::default(),
        first: T0 + idle - 1,
        then: T0 + idle + 1,
    };
    let m =
        SessionManager::open_with_clock(store.clone(), Config::default(), Arc::new(clock)).unwrap();
    assert_eq!(
        block_on(m.validate(created.token.as_str())),
        Err(sessionkit::Error::Expired)
    );
    assert_eq!(
        block_on(store.get_session(&created.session.id)).unwrap(),
        None
    );
}

/// A touch computed before another process recorded later activity does not move
/// `last_active_at` (or the expiry) backwards.
#[test]
fn a_late_touch_does_not_move_activity_backwards() {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let setup = manager(memory.clone(), &ManualClock::new(T0));
    let id = block_on(setup.create(NewSession::new("alice", ClientKind::Web)))
        .unwrap()
        .session
        .id;
    let later = T0 + 10 * 60_000;
    let fired = Arc::new(AtomicBool::new(false));
    let once = fired.clone();
    let store = Interleave::new(memory.clone(), move |method, inner| {
        let first = method == "touch_session" && !once.swap(true, Ordering::SeqCst);
        async move {
            if first {
                // Another manager, whose clock is ahead, touches first.
                let live = sessionkit::Liveness::at(later);
                let outcome = inner
                    .touch_session(&id, later, later + 1_800_000, &live)
                    .await
                    .unwrap();
                assert_eq!(outcome, WriteOutcome::Applied);
            }
        }
    });
    let m = manager(Arc::new(store), &ManualClock::new(T0 + 60_000));
    let touched = block_on(m.touch(&id)).unwrap();
    assert!(fired.load(Ordering::SeqCst));
    let stored = block_on(memory.get_session(&id)).unwrap().unwrap().session;
    assert_eq!(
        (stored.last_active_at, stored.expires_at),
        (later, later + 1_800_000)
    );
    assert_eq!(touched.last_active_at, later);
}

/// A session read as expired but extended by another process's touch before the removal is
/// not removed.
#[test]
fn removing_an_expired_session_spares_one_extended_meanwhile() {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let setup = manager(memory.clone(), &ManualClock::new(T0));
    let created = block_on(setup.create(NewSession::new("alice", ClientKind::Web))).unwrap();
    let id = created.session.id;
    let idle = Config::default().idle_timeout_ms;
    // This manager's clock is past the idle expiry; the other's, a little behind, is not.
    let behind = T0 + idle - 60_000;
    let fired = Arc::new(AtomicBool::new(false));
    let once = fired.clone();
    let store = Interleave::new(memory.clone(), move |method, inner| {
        let removal = method == "delete_session" || method == "delete_expired_session";
        let first = removal && !once.swap(true, Ordering::SeqCst);
        async move {
            if first {
                let live = sessionkit::Liveness::at(behind);
                let outcome = inner
                    .touch_session(&id, behind, behind + idle, &live)
                    .await
                    .unwrap();
                assert_eq!(outcome, WriteOutcome::Applied);
            }
        }
    });
    let m = manager(Arc::new(store), &ManualClock::new(T0 + idle + 1));
    assert_eq!(
        block_on(m.validate(created.token.as_str())),
        Err(sessionkit::Error::Expired)
    );
    assert!(fired.load(Ordering::SeqCst));
    let kept = block_on(memory.get_session(&id)).unwrap();
    assert_eq!(kept.map(|r| r.session.last_active_at), Some(behind));
}

//! Ending every user's sessions (`revoke_all_sessions`) and removing one user's sessions and
//! state (`delete_user_sessions`), each in bounded batches.

use std::sync::{Arc, Mutex};

use pollster::block_on;
use serde_json::json;
use sessionkit::{
    ClientKind, Config, ErrorKind, Event, ManualClock, MemoryStore, NewSession, SessionId,
    SessionManager, Store,
};

const T0: i64 = 1_700_000_000_000;

fn manager(store: Arc<dyn Store>, clock: &ManualClock) -> SessionManager {
    SessionManager::open_with_clock(store, Config::default(), Arc::new(clock.clone())).unwrap()
}

fn events(m: &SessionManager) -> (Arc<Mutex<Vec<Event>>>, sessionkit::Subscription) {
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    let subscription = m.subscribe(Arc::new(move |e: &Event| {
        sink.lock().unwrap().push(e.clone())
    }));
    (seen, subscription)
}

/// Creates `n` sessions of `user`, with a state each; returns their ids.
fn sessions(m: &SessionManager, user: &str, n: usize) -> Vec<SessionId> {
    (0..n)
        .map(|i| {
            let id = block_on(m.create(NewSession::new(user, ClientKind::Web)))
                .unwrap()
                .session
                .id;
            block_on(m.put_state(&id, &json!({ "n": i }), None)).unwrap();
            id
        })
        .collect()
}

#[test]
fn revoke_all_sessions_revokes_every_live_session_across_batches() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(T0);
    let m = manager(store.clone(), &clock);
    // Sessions that expire before the revocation: not counted, left for cleanup.
    let old = sessions(&m, "old", 3);
    clock.advance(Config::default().idle_timeout_ms);
    let many = sessions(&m, "alice", 2_100);
    let bob = sessions(&m, "bob", 5);
    block_on(m.revoke(&bob[0])).unwrap();
    let (seen, _subscription) = events(&m);

    assert_eq!(block_on(m.revoke_all_sessions()), Ok(2_100 + 4));
    assert_eq!(block_on(m.count_active()), Ok(0));
    assert!(block_on(m.get(&many[1_500])).is_ok_and(|s| !s.active));
    // Expired ones were not revoked (nor counted), only left for cleanup.
    assert!(block_on(m.get(&old[0])).is_ok_and(|s| s.active));
    let revoked = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Revoked { .. }))
        .count();
    assert_eq!(revoked, 2_104);
    // Nothing left to revoke.
    assert_eq!(block_on(m.revoke_all_sessions()), Ok(0));
    assert_eq!(block_on(m.cleanup_expired()), Ok(3));
}

#[test]
fn delete_user_sessions_removes_every_session_and_state_of_that_user_only() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(T0);
    let m = manager(store.clone(), &clock);
    let alice = sessions(&m, "alice", 1_005);
    let bob = sessions(&m, "bob", 2);
    block_on(m.revoke(&alice[3])).unwrap();
    clock.advance(Config::default().idle_timeout_ms + 1);
    // Expired ones go too, whatever their status.
    let fresh = sessions(&m, "alice", 2);
    let (seen, _subscription) = events(&m);

    assert_eq!(block_on(m.delete_user_sessions("alice")), Ok(1_007));
    assert_eq!(block_on(m.count_user_sessions("alice", false)), Ok(0));
    for id in [alice[0], alice[3], fresh[1]] {
        assert_eq!(
            block_on(m.get(&id)).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            block_on(store.get_state(&id)),
            Ok(sessionkit::StateLookup::NoSession)
        );
    }
    let deleted = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Deleted { .. }))
        .count();
    assert_eq!(deleted, 1_007);
    assert_eq!(block_on(m.count_user_sessions("bob", false)), Ok(2));
    assert!(block_on(m.get_state(&bob[1])).unwrap().is_some());
    assert_eq!(block_on(m.delete_user_sessions("alice")), Ok(0));
    assert_eq!(
        block_on(m.delete_user_sessions("")).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

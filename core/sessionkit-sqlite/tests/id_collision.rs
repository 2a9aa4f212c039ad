//! Creation is insert-only, and the engine's answer to a taken id is to draw another: just
//! before the first insert of a `create`, a store wrapper (`Interleave`) imports a copy of an
//! existing session under the id the manager drew, in the real store (SQLite, and the memory
//! store beside it), which refuses the insert as `IdTaken`. The manager must retry with a new id
//! and token, and the session holding the id must come out untouched.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pollster::block_on;
use serde_json::json;
use sessionkit::testing::Interleave;
use sessionkit::*;

fn check_retry_on(inner: Arc<dyn Store>) {
    let clock = ManualClock::new(1_700_000_000_000);
    let plain =
        SessionManager::open_with_clock(inner.clone(), Config::default(), Arc::new(clock.clone()))
            .unwrap();
    let mut first = NewSession::new("alice", ClientKind::Web);
    first.device = Some("Pixel 8".into());
    first.metadata = Some(json!({ "role": "admin" }));
    let existing = block_on(plain.create(first)).unwrap();
    block_on(plain.put_state(&existing.session.id, &json!({ "tab": "inbox" }), Some(0))).unwrap();
    let alice = block_on(inner.scan_sessions(None, 10)).unwrap().remove(0);

    // Armed, the next insert finds its id taken: just before it, a copy of alice's session
    // (record, token hash, state) is imported under the id the manager drew — a 128-bit
    // collision, made to happen.
    let armed = Arc::new(AtomicBool::new(false));
    let inserts = Arc::new(Mutex::new(Vec::new()));
    let (arm, seen) = (armed.clone(), inserts.clone());
    let store = Interleave::with_calls(inner.clone(), move |call, store| {
        let collide = call.method == "insert_session" && arm.swap(false, Ordering::SeqCst);
        if call.method == "insert_session" {
            seen.lock().unwrap().push(call.session.unwrap());
        }
        let mut copy = alice.clone();
        async move {
            if collide {
                copy.record.session.id = call.session.unwrap();
                assert!(store.import_session(&copy).await.unwrap());
            }
        }
    });
    let m = SessionManager::open_with_clock(Arc::new(store), Config::default(), Arc::new(clock))
        .unwrap();

    armed.store(true, Ordering::SeqCst);
    let created = block_on(m.create(NewSession::new("mallory", ClientKind::Other))).unwrap();

    let inserts = inserts.lock().unwrap().clone();
    assert_eq!(
        inserts.len(),
        2,
        "one refused attempt, one retry: {inserts:?}"
    );
    let taken = inserts[0];
    assert_eq!(inserts[1], created.session.id);
    assert_ne!(created.session.id, taken);

    // The session that held the id came out untouched: record, token hash, state.
    let holder = block_on(inner.scan_sessions(None, 10))
        .unwrap()
        .into_iter()
        .find(|s| s.record.session.id == taken)
        .expect("the colliding session is still there");
    let mut expected = block_on(inner.scan_sessions(None, 10))
        .unwrap()
        .into_iter()
        .find(|s| s.record.session.id == existing.session.id)
        .unwrap();
    expected.record.session.id = taken;
    assert_eq!(holder, expected);
    assert_eq!(holder.record.session.user_id, "alice");
    assert_eq!(holder.record.session.metadata["role"], "admin");

    // Alice's own session still works, with its state.
    let alice = block_on(m.validate(existing.token.as_str())).unwrap();
    assert_eq!(alice.user_id, "alice");
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
    let forged = format!("{}.{}", taken, &created.token.as_str()[23..]);
    assert!(block_on(m.validate(&forged)).is_err());
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

//! State encryption over the SQLite store: nothing of the state is readable in the file, keys
//! rotate through `rekey_states` (the store's `rewrite_state` keeps version and time), and a
//! rewrite of a version that has moved on writes nothing.

mod common;

use std::sync::Arc;

use pollster::block_on;
use serde_json::json;
use sessionkit::{
    ClientKind, Config, MaintenanceStore, ManualClock, NewSession, SessionManager, StateKeys,
    StateLookup, StateStore,
};

#[test]
fn states_are_encrypted_in_the_file_and_rekeyed_in_place() {
    let (_dir, path, store) = common::temp_store();
    let store = Arc::new(store);
    let open = |keys: StateKeys| {
        SessionManager::open_with_clock(
            store.clone(),
            Config::default(),
            Arc::new(ManualClock::new(1_700_000_000_000)),
        )
        .unwrap()
        .with_state_keys(keys)
    };
    let old = open(StateKeys::new(1, [1; 32]));
    let id = block_on(old.create(NewSession::new("alice", ClientKind::Web)))
        .unwrap()
        .session
        .id;
    block_on(old.put_state(&id, &json!({"secret": "plaintext-marker"}), None)).unwrap();
    block_on(old.put_state(&id, &json!({"secret": "plaintext-marker", "n": 2}), None)).unwrap();
    let file = std::fs::read(&path).unwrap();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        assert!(!bytes.windows(16).any(|w| w == b"plaintext-marker"));
    }

    let new = open(StateKeys::new(2, [2; 32]).with_old_key(1, [1; 32]).unwrap());
    let before = block_on(new.get_state(&id)).unwrap().unwrap();
    assert_eq!(block_on(new.rekey_states()).unwrap(), 1);
    let after = block_on(open(StateKeys::new(2, [2; 32])).get_state(&id))
        .unwrap()
        .unwrap();
    assert_eq!(
        (&before.data, before.version, before.updated_at),
        (&after.data, after.version, after.updated_at)
    );
    assert!(!block_on(store.rewrite_state(&id, 1, b"stale")).unwrap());
    match block_on(store.get_state(&id)).unwrap() {
        StateLookup::Found(state) => {
            assert_eq!(sessionkit::state_key_id(&state.blob), Some(2))
        }
        other => panic!("{other:?}"),
    }
}

//! State encryption at rest: written under the current key, read under the key each blob names,
//! rotated by `rekey_states`; a wrong or missing key is `Corrupt`, never garbage.

use std::sync::Arc;

use pollster::block_on;
use serde_json::json;
use sessionkit::{
    state_is_encrypted, state_key_id, ClientKind, Config, ErrorKind, MaintenanceStore, ManualClock,
    MemoryStore, NewSession, SessionId, SessionManager, StateKeys, StateLookup, StateStore,
};

const T0: i64 = 1_700_000_000_000;

fn manager(store: &Arc<MemoryStore>, keys: Option<StateKeys>) -> SessionManager {
    let m = SessionManager::open_with_clock(
        store.clone(),
        Config {
            state_compression_threshold: 64,
            ..Config::default()
        },
        Arc::new(ManualClock::new(T0)),
    )
    .unwrap();
    match keys {
        Some(keys) => m.with_state_keys(keys),
        None => m,
    }
}

fn key_one() -> StateKeys {
    StateKeys::new(1, [1; 32])
}

fn keys_two_then_one() -> StateKeys {
    StateKeys::new(2, [2; 32]).with_old_key(1, [1; 32]).unwrap()
}

fn stored_blob(store: &MemoryStore, id: &SessionId) -> Vec<u8> {
    match block_on(store.get_state(id)).unwrap() {
        StateLookup::Found(state) => state.blob,
        other => panic!("no state: {other:?}"),
    }
}

fn session(m: &SessionManager) -> SessionId {
    block_on(m.create(NewSession::new("alice", ClientKind::Web)))
        .unwrap()
        .session
        .id
}

#[test]
fn state_is_stored_encrypted_and_reads_back() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, Some(key_one()));
    let id = session(&m);
    let secret = json!({ "card": "4111 1111 1111 1111", "rows": vec!["same text"; 50] });
    block_on(m.put_state(&id, &secret, Some(0))).unwrap();
    let blob = stored_blob(&store, &id);
    assert!(state_is_encrypted(&blob));
    assert_eq!(state_key_id(&blob), Some(1));
    assert!(
        !blob.windows(4).any(|w| w == b"4111"),
        "no plaintext at rest"
    );
    let state = block_on(m.get_state(&id)).unwrap().unwrap();
    assert_eq!(state.data, secret);
    assert!(state.compressed, "compressed, then encrypted");
    assert_eq!(state.stored_size, blob.len() as u64);
    let text = block_on(m.get_state_json(&id)).unwrap().unwrap();
    assert_eq!(text.data, serde_json::to_string(&secret).unwrap());
    block_on(m.patch_state(&id, &json!({ "card": null }), Some(1))).unwrap();
    assert_eq!(
        block_on(m.get_state(&id)).unwrap().unwrap().data,
        json!({ "rows": vec!["same text"; 50] })
    );
    assert!(state_is_encrypted(&stored_blob(&store, &id)));
}

#[test]
fn a_wrong_or_missing_key_is_corrupt_never_garbage() {
    let store = Arc::new(MemoryStore::new());
    let id = session(&manager(&store, None));
    block_on(manager(&store, Some(key_one())).put_state(&id, &json!({"k": "v"}), None)).unwrap();
    let readers = [
        manager(&store, None),
        manager(&store, Some(StateKeys::new(1, [9; 32]))),
        manager(&store, Some(StateKeys::new(3, [1; 32]))),
    ];
    for m in &readers {
        for err in [
            block_on(m.get_state(&id)).unwrap_err(),
            block_on(m.get_state_json(&id)).unwrap_err(),
            block_on(m.patch_state(&id, &json!({}), None)).unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::Corrupt, "{m:?}: {err}");
        }
    }
    // Nothing was overwritten by the failed reads.
    assert_eq!(
        block_on(manager(&store, Some(key_one())).get_state(&id))
            .unwrap()
            .unwrap()
            .data,
        json!({"k": "v"})
    );
}

#[test]
fn keys_rotate_old_blobs_read_new_ones_use_the_current_key_and_rekey_moves_the_rest() {
    let store = Arc::new(MemoryStore::new());
    let plain_writer = manager(&store, None);
    let (a, b, c) = (
        session(&plain_writer),
        session(&plain_writer),
        session(&plain_writer),
    );
    // a: written before encryption; b: under key 1; c: under key 2.
    block_on(plain_writer.put_state(&a, &json!({"a": 1}), None)).unwrap();
    block_on(manager(&store, Some(key_one())).put_state(&b, &json!({"b": 2}), None)).unwrap();
    let m = manager(&store, Some(keys_two_then_one()));
    block_on(m.put_state(&c, &json!({"c": 3}), None)).unwrap();
    assert_eq!(state_key_id(&stored_blob(&store, &a)), None);
    assert_eq!(state_key_id(&stored_blob(&store, &b)), Some(1));
    assert_eq!(state_key_id(&stored_blob(&store, &c)), Some(2));
    for (id, value) in [
        (a, json!({"a": 1})),
        (b, json!({"b": 2})),
        (c, json!({"c": 3})),
    ] {
        assert_eq!(block_on(m.get_state(&id)).unwrap().unwrap().data, value);
    }
    let before: Vec<_> = [a, b, c]
        .iter()
        .map(|id| block_on(m.get_state(id)).unwrap().unwrap())
        .collect();
    let c_blob = stored_blob(&store, &c);

    assert_eq!(block_on(m.rekey_states()).unwrap(), 2);
    assert_eq!(
        stored_blob(&store, &c),
        c_blob,
        "already current: untouched"
    );
    for id in [a, b] {
        assert_eq!(state_key_id(&stored_blob(&store, &id)), Some(2));
    }
    let after: Vec<_> = [a, b, c]
        .iter()
        .map(|id| block_on(m.get_state(id)).unwrap().unwrap())
        .collect();
    for (x, y) in before.iter().zip(&after) {
        assert_eq!(
            (&x.data, x.version, x.updated_at),
            (&y.data, y.version, y.updated_at)
        );
    }
    // Key 1 can now be retired.
    let only_two = manager(&store, Some(StateKeys::new(2, [2; 32])));
    for id in [a, b, c] {
        block_on(only_two.get_state(&id)).unwrap().unwrap();
    }
    assert_eq!(block_on(m.rekey_states()).unwrap(), 0, "nothing left to do");
    assert_eq!(
        block_on(plain_writer.rekey_states()).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn rekey_stops_at_a_blob_it_cannot_read_and_changes_nothing_of_it() {
    let store = Arc::new(MemoryStore::new());
    let id = session(&manager(&store, None));
    block_on(manager(&store, Some(StateKeys::new(5, [5; 32]))).put_state(&id, &json!(1), None))
        .unwrap();
    let blob = stored_blob(&store, &id);
    let m = manager(&store, Some(keys_two_then_one()));
    assert_eq!(
        block_on(m.rekey_states()).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    assert_eq!(stored_blob(&store, &id), blob);
}

#[test]
fn rewrite_state_only_replaces_the_version_it_read() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, None);
    let id = session(&m);
    assert!(
        !block_on(store.rewrite_state(&id, 1, b"x")).unwrap(),
        "no state"
    );
    block_on(m.put_state(&id, &json!(1), None)).unwrap();
    block_on(m.put_state(&id, &json!(2), None)).unwrap();
    assert!(
        !block_on(store.rewrite_state(&id, 1, b"x")).unwrap(),
        "another version"
    );
    let written = match block_on(store.get_state(&id)).unwrap() {
        StateLookup::Found(state) => state,
        other => panic!("{other:?}"),
    };
    assert!(block_on(store.rewrite_state(&id, 2, b"new bytes")).unwrap());
    match block_on(store.get_state(&id)).unwrap() {
        StateLookup::Found(state) => {
            assert_eq!(state.blob, b"new bytes");
            assert_eq!((state.version, state.updated_at), (2, written.updated_at));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn export_keeps_encrypted_blobs_and_import_needs_the_key() {
    let source_store = Arc::new(MemoryStore::new());
    let source = manager(&source_store, Some(key_one()));
    let id = session(&source);
    block_on(source.put_state(&id, &json!({"k": "v"}), None)).unwrap();
    let records = block_on(source.export(None, 10)).unwrap();
    let blob = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &records[0].state.as_ref().unwrap().blob,
    )
    .unwrap();
    assert!(state_is_encrypted(&blob));
    let without = manager(&Arc::new(MemoryStore::new()), None);
    assert_eq!(
        block_on(without.import(records[0].clone()))
            .unwrap_err()
            .kind(),
        ErrorKind::Corrupt
    );
    let target_store = Arc::new(MemoryStore::new());
    let with = manager(&target_store, Some(keys_two_then_one()));
    assert!(block_on(with.import(records[0].clone())).unwrap());
    assert_eq!(stored_blob(&target_store, &id), blob, "kept as exported");
    assert_eq!(
        block_on(with.get_state(&id)).unwrap().unwrap().data,
        json!({"k": "v"})
    );
}

#[test]
fn debug_output_never_shows_a_key() {
    let keys = StateKeys::new(4, [0xAB; 32]);
    let m = manager(&Arc::new(MemoryStore::new()), Some(keys.clone()));
    for text in [format!("{keys:?}"), format!("{m:?}")] {
        assert!(
            !text.to_lowercase().contains("ab, ab") && !text.contains("171"),
            "{text}"
        );
    }
}

#[test]
fn plain_states_can_be_refused_once_everything_is_encrypted() {
    let store = Arc::new(MemoryStore::new());
    let plain_writer = manager(&store, None);
    let id = session(&plain_writer);
    block_on(plain_writer.put_state(&id, &json!({"planted": true}), None)).unwrap();
    let strict = manager(&store, Some(key_one().refusing_plain_states()));
    assert_eq!(
        block_on(strict.get_state(&id)).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    // rekey (with a manager that still reads plain states) encrypts it; then it reads.
    assert_eq!(
        block_on(manager(&store, Some(key_one())).rekey_states()).unwrap(),
        1
    );
    assert_eq!(
        block_on(strict.get_state(&id)).unwrap().unwrap().data,
        json!({"planted": true})
    );
}

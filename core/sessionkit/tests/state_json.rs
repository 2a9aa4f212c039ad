//! `get_state_json`: the state as its stored canonical JSON text, with the same facts and the
//! same errors as `get_state`.

use std::sync::Arc;

use pollster::block_on;
use serde_json::{json, Value};
use sessionkit::{
    ClientKind, Config, ErrorKind, ManualClock, MemoryStore, NewSession, SessionId, SessionManager,
    StateStore,
};

fn manager(store: Arc<MemoryStore>) -> SessionManager {
    SessionManager::open_with_clock(
        store,
        Config::default(),
        Arc::new(ManualClock::new(1_700_000_000_000)),
    )
    .unwrap()
}

fn session(m: &SessionManager) -> SessionId {
    block_on(m.create(NewSession::new("alice", ClientKind::Web)))
        .unwrap()
        .session
        .id
}

#[test]
fn the_text_is_the_canonical_json_with_the_same_facts_as_get_state() {
    let m = manager(Arc::new(MemoryStore::new()));
    let id = session(&m);
    assert_eq!(block_on(m.get_state_json(&id)).unwrap(), None);

    let small: Value = serde_json::from_str(
        r#"{"z": [1, -2, 0.5, 1e300], "a": {"y": "é\n\"\u0001", "b": null}, "m": true}"#,
    )
    .unwrap();
    let large = json!({ "items": vec![json!({"name": "same text", "n": 7}); 2000] });
    for value in [small, large] {
        block_on(m.put_state(&id, &value, None)).unwrap();
        let text = block_on(m.get_state_json(&id)).unwrap().unwrap();
        let parsed = block_on(m.get_state(&id)).unwrap().unwrap();
        assert_eq!(text.data, serde_json::to_string(&value).unwrap());
        assert_eq!(
            serde_json::from_str::<Value>(&text.data).unwrap(),
            parsed.data
        );
        assert_eq!(
            (text.version, &text.checksum, text.size, text.compressed),
            (
                parsed.version,
                &parsed.checksum,
                parsed.size,
                parsed.compressed
            )
        );
        assert_eq!(
            (text.stored_size, text.updated_at),
            (parsed.stored_size, parsed.updated_at)
        );
        assert_eq!(text.size, text.data.len() as u64);
    }
    let last = block_on(m.get_state_json(&id)).unwrap().unwrap();
    assert!(last.compressed, "the large state is stored compressed");
    assert_eq!(last.version, 2);
}

#[test]
fn errors_are_those_of_get_state() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(store.clone());
    let unknown = SessionId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    assert_eq!(
        block_on(m.get_state_json(&unknown)).unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // A blob that fails verification is never returned, as text or parsed.
    let id = session(&m);
    block_on(m.put_state(&id, &json!({"k": "v"}), None)).unwrap();
    let sessionkit::StateLookup::Found(state) = block_on(store.get_state(&id)).unwrap() else {
        panic!("state stored");
    };
    let mut bad = state.blob.clone();
    *bad.last_mut().unwrap() ^= 1;
    block_on(store.put_state(&id, Some(1), &bad, 1)).unwrap();
    assert_eq!(
        block_on(m.get_state_json(&id)).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    assert_eq!(
        block_on(m.get_state(&id)).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
}

#[test]
fn a_blob_whose_checksum_holds_but_whose_text_is_not_json_is_corrupt() {
    // The checksum proves the bytes are those written, not that what was written is JSON: a
    // blob made outside the engine (another writer, an import built by hand) can carry any
    // text under a correct CRC. The text is checked before it is handed on.
    let store = Arc::new(MemoryStore::new());
    let m = manager(store.clone());
    let id = session(&m);
    let codec = sessionkit::StateCodec::new(10 * 1024, 5 * 1024 * 1024);
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let not_json: [&[u8]; 6] = [
        b"{\"a\": 1",
        b"{\"a\": 1} trailing",
        b"<html>",
        b"",
        b"\"\\u00\"",
        deep.as_bytes(),
    ];
    for text in not_json {
        let blob = codec.encode_json(text).unwrap().blob;
        block_on(store.put_state(&id, None, &blob, 1)).unwrap();
        for err in [
            block_on(m.get_state_json(&id)).unwrap_err(),
            block_on(m.get_state(&id)).unwrap_err(),
        ] {
            assert_eq!(
                err.kind(),
                ErrorKind::Corrupt,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
    // Valid JSON made the same way is handed on as it is.
    let blob = codec.encode_json(b"{\"a\":[1,2]}").unwrap().blob;
    block_on(store.put_state(&id, None, &blob, 1)).unwrap();
    assert_eq!(
        block_on(m.get_state_json(&id)).unwrap().unwrap().data,
        "{\"a\":[1,2]}"
    );
}

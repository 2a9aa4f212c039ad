//! Inputs found by the fuzz targets (`fuzz/`) and by reviewing them, kept as ordinary tests so
//! a fixed cause stays fixed without a nightly toolchain.

use std::sync::Arc;

use pollster::block_on;
use serde_json::{json, Value};
use sessionkit::{
    ClientKind, Config, ErrorKind, ManualClock, MemoryStore, NewSession, SessionManager, StateCodec,
};

fn manager() -> SessionManager {
    SessionManager::open_with_clock(
        Arc::new(MemoryStore::new()),
        Config::default(),
        Arc::new(ManualClock::new(1_700_000_000_000)),
    )
    .unwrap()
}

/// `levels` nested objects around a number: `{"a":{"a":…1…}}`.
fn nested(levels: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..levels {
        value = json!({ "a": value });
    }
    value
}

/// State nested deeper than JSON is read back (serde_json stops at 128 levels) used to be
/// accepted by `put_state` and then be `Corrupt` on every read. It is refused before writing.
#[test]
fn state_nested_too_deep_is_refused_before_writing() {
    block_on(async {
        let m = manager();
        let id = m
            .create(NewSession::new("alice", ClientKind::Web))
            .await
            .unwrap()
            .session
            .id;
        let err = m.put_state(&id, &nested(128), None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(m.get_state(&id).await.unwrap(), None);

        // The deepest value that reads back is accepted and reads back equal.
        let version = m.put_state(&id, &nested(127), Some(0)).await.unwrap();
        assert_eq!(m.get_state(&id).await.unwrap().unwrap().data, nested(127));

        // A patch that deepens the state past the limit is refused and changes nothing.
        let mut patch = nested(127);
        let mut inner = &mut patch;
        for _ in 0..126 {
            inner = inner.get_mut("a").unwrap();
        }
        *inner = json!({ "a": { "b": 2 } });
        let err = m.patch_state(&id, &patch, Some(version)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let state = m.get_state(&id).await.unwrap().unwrap();
        assert_eq!((state.version, state.data), (version, nested(127)));

        // The codec refuses it whichever manager calls it.
        let codec = StateCodec::new(0, 1 << 20);
        assert_eq!(
            codec.encode(&json!([nested(127)])).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    });
}

/// Metadata nested deeper than JSON is read back used to be stored by `create` (the SQLite
/// store then answered `Corrupt` for that session and for every listing of its user). It is
/// refused before anything is written, on create and on update.
#[test]
fn metadata_nested_too_deep_is_refused_before_writing() {
    block_on(async {
        let m = manager();
        let mut new = NewSession::new("alice", ClientKind::Web);
        new.metadata = Some(nested(128));
        let err = m.create(new).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(m.count_user_sessions("alice", false).await.unwrap(), 0);

        let mut new = NewSession::new("alice", ClientKind::Web);
        new.metadata = Some(nested(127));
        let created = m.create(new).await.unwrap();
        let id = created.session.id;
        assert_eq!(
            Value::Object(m.get(&id).await.unwrap().metadata),
            nested(127)
        );

        let err = m
            .update_metadata(&id, &json!({ "b": nested(127) }))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(
            Value::Object(m.get(&id).await.unwrap().metadata),
            nested(127)
        );
    });
}

/// Floats found by the `state_blob` and `merge_patch` targets: stored as text, they read back
/// one unit in the last place off (serde_json's fast float parser) until `float_roundtrip`.
#[test]
fn floats_read_back_exactly() {
    let floats = [
        3.333333333333333e39,
        6.968932848438088e-306,
        0.1,
        1.7976931348623157e308,
        5e-324,
        2.2250738585072014e-308,
    ];
    let codec = StateCodec::new(16, 1 << 20);
    block_on(async {
        let m = manager();
        let mut new = NewSession::new("alice", ClientKind::Web);
        new.metadata = Some(json!({ "f": floats }));
        let id = m.create(new).await.unwrap().session.id;
        for f in floats {
            let value = json!({ "f": f, "list": [f, -f] });
            let decoded = codec.decode(&codec.encode(&value).unwrap().blob).unwrap();
            assert_eq!(decoded.data, value, "{f:e} through the codec");
            m.put_state(&id, &value, None).await.unwrap();
            assert_eq!(
                m.get_state(&id).await.unwrap().unwrap().data,
                value,
                "{f:e}"
            );
        }
        assert_eq!(m.get(&id).await.unwrap().metadata["f"], json!(floats));
    });
}

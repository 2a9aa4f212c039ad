//! JSON Merge Patch (RFC 7396) on both paths that apply one: session metadata
//! (`update_metadata`) and state (`patch_state`). Each result must equal an independent
//! implementation of the RFC, patching twice must change nothing more (a merge patch is
//! idempotent), and a refused patch must leave what was stored untouched.

#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pollster::block_on;
use serde_json::Value;
use sessionkit::{ClientKind, Config, Error, ManualClock, MemoryStore, NewSession, SessionManager};
use sessionkit_fuzz::{depth, merge_patch, Json};

#[derive(Arbitrary, Debug)]
struct Input {
    target: Doc,
    patch: Doc,
}

/// A document given as JSON text (when it parses) or built structurally.
#[derive(Arbitrary, Debug)]
enum Doc {
    Text(String),
    Built(Json),
}

impl Doc {
    fn value(&self) -> Option<Value> {
        match self {
            Doc::Text(text) => serde_json::from_str(text).ok(),
            Doc::Built(json) => Some(json.to_value()),
        }
    }
}

fn manager() -> SessionManager {
    let config = Config {
        state_compression_threshold: 64,
        state_max_bytes: 16 * 1024,
        ..Config::default()
    };
    SessionManager::open_with_clock(
        Arc::new(MemoryStore::new()),
        config,
        Arc::new(ManualClock::new(1_700_000_000_000)),
    )
    .unwrap()
}

/// Only the refusals a patch may meet; anything else (Corrupt, Storage, …) is a bug.
fn expect_refusal(err: &Error) {
    assert!(
        matches!(
            err,
            Error::InvalidInput { .. } | Error::LimitExceeded { .. }
        ),
        "unexpected {err:?}"
    );
}

fuzz_target!(|input: Input| {
    let (Some(target), Some(patch)) = (input.target.value(), input.patch.value()) else {
        return;
    };
    let expected = merge_patch(&target, &patch);
    block_on(async {
        let m = manager();

        // Metadata: the target (when an object) is the initial metadata.
        let mut new = NewSession::new("alice", ClientKind::Web);
        let initial = if target.is_object() {
            target.clone()
        } else {
            Value::Object(Default::default())
        };
        new.metadata = Some(initial.clone());
        match m.create(new).await {
            Err(err) => expect_refusal(&err),
            Ok(created) => {
                let id = created.session.id;
                match m.update_metadata(&id, &patch).await {
                    Ok(session) => {
                        assert!(patch.is_object());
                        let merged = Value::Object(session.metadata);
                        assert_eq!(merged, merge_patch(&initial, &patch));
                        assert_eq!(Value::Object(m.get(&id).await.unwrap().metadata), merged);
                        let twice = m.update_metadata(&id, &patch).await.unwrap();
                        assert_eq!(Value::Object(twice.metadata), merged);
                    }
                    Err(err) => {
                        expect_refusal(&err);
                        if !patch.is_object() {
                            assert!(matches!(err, Error::InvalidInput { .. }));
                        }
                        assert_eq!(Value::Object(m.get(&id).await.unwrap().metadata), initial);
                    }
                }
            }
        }

        // State: the target is the state, patched with compare-and-swap.
        let id = m
            .create(NewSession::new("bob", ClientKind::Mobile))
            .await
            .unwrap()
            .session
            .id;
        let version = match m.put_state(&id, &target, Some(0)).await {
            Ok(version) => version,
            Err(err) => {
                expect_refusal(&err);
                assert_eq!(m.get_state(&id).await.unwrap(), None);
                return;
            }
        };
        match m.patch_state(&id, &patch, Some(version)).await {
            Ok(next) => {
                assert_eq!(next, version + 1);
                let state = m.get_state(&id).await.unwrap().unwrap();
                assert_eq!(state.data, expected);
                assert_eq!(state.version, next);
                let again = m.patch_state(&id, &patch, None).await.unwrap();
                assert_eq!(m.get_state(&id).await.unwrap().unwrap().data, expected);
                assert_eq!(again, next + 1);
                // A stale version is a conflict and writes nothing.
                let err = m.patch_state(&id, &patch, Some(version)).await.unwrap_err();
                assert_eq!(
                    err,
                    Error::Conflict {
                        current_version: again
                    }
                );
            }
            Err(err) => {
                expect_refusal(&err);
                if matches!(err, Error::InvalidInput { .. }) {
                    assert!(depth(&expected) > 127, "refused {expected}");
                }
                let state = m.get_state(&id).await.unwrap().unwrap();
                assert_eq!((state.version, state.data), (version, target));
            }
        }
    });
});

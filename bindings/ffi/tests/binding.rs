//! The binding from Rust: conversions, errors and event delivery as the foreign languages see
//! them (the full scenario suite runs through Python and Kotlin).

use std::sync::{Arc, Mutex};

use sessionkit_ffi::{
    parse_client_kind, ClientKind, Config, Event, EventListener, ListOptions, ManualClock,
    NewSession, SessionManager, SessionkitError, StateCodec,
};

fn new_session(user: &str, kind: &str) -> NewSession {
    NewSession {
        user_id: user.into(),
        client_kind: parse_client_kind(kind.into()).unwrap(),
        client_version: None,
        device: None,
        ip: None,
        user_agent: None,
        metadata: None,
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl EventListener for Recorder {
    fn on_event(&self, event: Event) -> Result<(), SessionkitError> {
        self.0
            .lock()
            .map_err(|e| SessionkitError::Storage {
                message: e.to_string(),
            })?
            .push(event);
        Ok(())
    }
}

struct Failing;

impl EventListener for Failing {
    fn on_event(&self, _: Event) -> Result<(), SessionkitError> {
        Err(SessionkitError::Storage {
            message: "listener bug".into(),
        })
    }
}

#[test]
fn events_flow_until_unsubscribed_or_released() {
    let manager = SessionManager::open_memory(Config::default(), None, None).unwrap();
    let recorder = Arc::new(Recorder::default());
    let subscription = manager.subscribe(recorder.clone());
    let failing = manager.subscribe(Arc::new(Failing));
    let created = manager.create(new_session("alice", "web")).unwrap();
    let id = created.session.id.clone();
    assert_eq!(
        manager
            .put_state(id.clone(), "{\"a\":1}".into(), Some(0))
            .unwrap(),
        1
    );
    subscription.unsubscribe();
    assert!(!subscription.is_active());
    drop(failing);
    manager.revoke(id.clone()).unwrap();
    assert_eq!(
        *recorder.0.lock().unwrap(),
        vec![
            Event::Created {
                session_id: id.clone(),
                user_id: "alice".into()
            },
            Event::StateChanged {
                session_id: id,
                version: 1
            },
        ]
    );
}

#[test]
fn arguments_are_parsed_by_the_engine_and_errors_keep_their_fields() {
    let clock = ManualClock::new(1_000_000);
    let manager = SessionManager::open_memory(Config::default(), Some(clock), None).unwrap();
    let id = manager
        .create(new_session("bob", "mobile"))
        .unwrap()
        .session
        .id;
    manager.put_state(id.clone(), "[1]".into(), None).unwrap();
    assert_eq!(
        manager.put_state(id.clone(), "[2]".into(), Some(5)),
        Err(SessionkitError::Conflict { current_version: 1 })
    );
    match manager.get("nope".into()) {
        Err(SessionkitError::InvalidInput { field, .. }) => assert_eq!(field, "id"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    match manager.update_metadata(id.clone(), "{oops".into()) {
        Err(SessionkitError::InvalidInput { field, .. }) => assert_eq!(field, "patch"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let state = manager.get_state(id.clone()).unwrap().unwrap();
    assert_eq!((state.version, state.data.as_str()), (1, "[1]"));
    let page = manager
        .list_user_sessions("bob".into(), ListOptions::default())
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].client.kind, ClientKind::Mobile);
    assert_eq!(manager.stats().unwrap().by_client_kind["mobile"], 1);
}

#[test]
fn invalid_config_is_refused_before_the_database_is_created() {
    let dir = std::env::temp_dir().join(format!("sessionkit-ffi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("refused.db");
    let config = Config {
        touch_interval_ms: -1,
        ..Config::default()
    };
    let err = SessionManager::open_sqlite(path.to_string_lossy().into_owned(), config, None, None)
        .err()
        .unwrap();
    assert_eq!(err.kind(), "InvalidInput");
    assert!(!path.exists());
    let manager = SessionManager::open_sqlite(
        path.to_string_lossy().into_owned(),
        Config::default(),
        None,
        None,
    )
    .unwrap();
    manager.create(new_session("carol", "desktop")).unwrap();
    assert!(path.exists());
    drop(manager);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_codec_round_trips_json_text() {
    let codec = StateCodec::new(16, 1024);
    let encoded = codec
        .encode(r#"{"z":1,"a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#.into())
        .unwrap();
    assert!(encoded.compressed);
    let decoded = codec.decode(encoded.blob).unwrap();
    assert_eq!(
        decoded.data,
        r#"{"a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","z":1}"#
    );
    assert_eq!(decoded.checksum, encoded.checksum);
    assert_eq!(codec.decode(vec![1, 2, 3]).unwrap_err().kind(), "Corrupt");
}

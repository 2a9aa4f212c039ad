//! IndexedDB-specific behaviour, in a real browser: the schema a fresh database gets, the upgrade
//! from schema 1, refusal of a newer database (left untouched), persistence across connections,
//! byte-exact state blobs, corrupt records, the exact-integer time range and atomicity of
//! concurrent conditional writes. (Everything every store must do is the store kit's, in
//! `browser_kit.rs`.)

#![cfg(target_arch = "wasm32")]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use js_sys::{Promise, Reflect, Uint8Array};
use serde_json::{json, Map, Value};
use sessionkit::{
    ClientInfo, ClientKind, Config, ErrorKind, InsertOutcome, Liveness, MaintenanceStore,
    ManualClock, NewSession, Session, SessionId, SessionLimit, SessionLimitPolicy, SessionManager,
    SessionRecord, SessionStore, StateCodec, StateLookup, StatePut, StateRecord, StateStore,
    StatsQuery, StoredSession, TokenHash, WriteOutcome,
};
use sessionkit_indexeddb::{delete_database, IndexedDbStore, SCHEMA_VERSION};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Event, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

const NOW: i64 = 1_700_000_000_000;

// ---- raw IndexedDB access, to set up and inspect databases behind the store's back ----

fn factory() -> IdbFactory {
    Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .expect("indexedDB")
        .dyn_into()
        .expect("an IDBFactory")
}

/// Awaits a request's `success` (then its result) or `error`.
async fn settle(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await?;
    request.result()
}

/// Opens `name` at `version`, running `upgrade` in `onupgradeneeded`.
async fn raw_open_at(
    name: &str,
    version: u32,
    upgrade: impl Fn(&IdbDatabase) + 'static,
) -> IdbDatabase {
    let request = factory().open_with_u32(name, version).expect("open");
    let on_upgrade = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        let request: IdbOpenDbRequest =
            event.target().expect("target").dyn_into().expect("request");
        upgrade(
            &request
                .result()
                .expect("result")
                .dyn_into()
                .expect("database"),
        );
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db = settle(&request).await.expect("opened");
    request.set_onupgradeneeded(None);
    db.dyn_into().expect("database")
}

/// Opens `name` at its current version.
async fn raw_open(name: &str) -> IdbDatabase {
    let request = factory().open(name).expect("open");
    settle(&request)
        .await
        .expect("opened")
        .dyn_into()
        .expect("database")
}

/// Writes one record with a raw read-write transaction and waits for it to commit.
async fn raw_put(db: &IdbDatabase, store: &str, value: &JsValue, key: Option<&JsValue>) {
    let tx = db
        .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
        .expect("transaction");
    let object_store = tx.object_store(store).expect("store");
    let request = match key {
        Some(key) => object_store.put_with_key(value, key),
        None => object_store.put(value),
    }
    .expect("put");
    settle(&request).await.expect("put succeeded");
    let committed = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(committed).await.expect("committed");
}

/// The error kind of a result, its value dropped.
fn kind<T>(result: sessionkit::Result<T>) -> Result<(), ErrorKind> {
    result.map(drop).map_err(|e| e.kind())
}

fn names(list: &web_sys::DomStringList) -> Vec<String> {
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

fn unique_name(test: &str) -> String {
    format!(
        "sessionkit-test-{test}-{}",
        SessionId::random().expect("random id")
    )
}

async fn fresh_store(name: &str) -> IndexedDbStore {
    IndexedDbStore::open(name).await.expect("store opens")
}

// ---- records ----

fn id(byte: u8) -> SessionId {
    SessionId::from_bytes([byte; 16])
}

fn record(
    id_byte: u8,
    user: &str,
    last_active_at: i64,
    expires_at: i64,
    active: bool,
) -> SessionRecord {
    let mut metadata = Map::new();
    metadata.insert("n".to_owned(), json!(id_byte));
    SessionRecord {
        metadata_revision: 0,
        session: Session {
            id: id(id_byte),
            user_id: user.to_owned(),
            created_at: last_active_at - 1_000,
            last_active_at,
            expires_at,
            absolute_expires_at: expires_at + 5_000,
            client: ClientInfo {
                kind: ClientKind::ALL[usize::from(id_byte) % 4],
                version: (id_byte % 2 == 0).then(|| "1.2.3".to_owned()),
                device: (id_byte % 3 == 0).then(|| "Pixel 8 — ünïcödé".to_owned()),
            },
            ip: (id_byte % 2 == 1).then(|| "2001:db8::1".to_owned()),
            user_agent: Some(format!("agent {id_byte}")),
            active,
            metadata,
        },
        token_hash: TokenHash::from_bytes([id_byte ^ 0x5a; 32]),
    }
}

fn state(version: u64, blob: &[u8]) -> StateRecord {
    StateRecord {
        version,
        blob: blob.to_vec(),
        updated_at: NOW - 7,
    }
}

fn stats_query(now: i64) -> StatsQuery {
    StatsQuery {
        live: Liveness::at(now),
        created_since: [now - 86_400_000, now - 7 * 86_400_000],
    }
}

fn json_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

/// Polls two futures together (both start before either finishes).
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.expect("first finished"), rb.expect("second finished"))
}

// ---- tests ----

#[wasm_bindgen_test]
async fn a_fresh_database_gets_the_current_schema() {
    let name = unique_name("schema");
    drop(fresh_store(&name).await);

    let db = raw_open(&name).await;
    assert_eq!(db.version() as u32, SCHEMA_VERSION);
    assert_eq!(
        names(&db.object_store_names()),
        ["client_replicas", "sessions", "states"]
    );
    let tx = db.transaction_with_str("sessions").expect("transaction");
    let sessions = tx.object_store("sessions").expect("sessions");
    assert_eq!(
        sessions.key_path().expect("key path"),
        JsValue::from_str("i")
    );
    assert_eq!(names(&sessions.index_names()), ["expiry", "user_activity"]);
    let by_user = sessions.index("user_activity").expect("index");
    let key_path: Vec<String> = js_sys::Array::from(&by_user.key_path().expect("key path"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert_eq!(key_path, ["u", "a", "i"]);
    assert!(!by_user.unique());
    let by_expiry = sessions.index("expiry").expect("index");
    assert_eq!(
        by_expiry.key_path().expect("key path"),
        JsValue::from_str("e")
    );
    db.close();
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn a_newer_database_is_refused_and_left_untouched() {
    let name = unique_name("newer");
    let newer = SCHEMA_VERSION + 1;
    let db = raw_open_at(&name, newer, |db| {
        db.create_object_store("from_the_future").expect("create");
    })
    .await;
    db.close();

    let err = IndexedDbStore::open(&name)
        .await
        .expect_err("newer schema refused");
    assert_eq!(
        err,
        sessionkit::Error::IncompatibleSchema {
            found: i64::from(newer),
            supported: i64::from(SCHEMA_VERSION),
        }
    );

    let db = raw_open(&name).await;
    assert_eq!(db.version() as u32, newer, "version unchanged");
    assert_eq!(
        names(&db.object_store_names()),
        ["from_the_future"],
        "stores unchanged"
    );
    db.close();
    delete_database(&name).await.expect("deleted");
}

/// A session record as schema 1 wrote it: no metadata revision (`n`).
fn v1_session(id_byte: u8, user: &str) -> JsValue {
    let object = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        Reflect::set(&object, &key.into(), &value).expect("set");
    };
    set("i", Uint8Array::from(&[id_byte; 16][..]).into());
    set("u", user.into());
    set("c", JsValue::from_f64(NOW as f64));
    set("a", JsValue::from_f64(NOW as f64));
    set("e", JsValue::from_f64((NOW + 600_000) as f64));
    set("x", JsValue::from_f64((NOW + 600_000) as f64));
    set("k", "web".into());
    set("r", JsValue::TRUE);
    set("m", r#"{"role":"admin"}"#.into());
    set("h", Uint8Array::from(&[7u8; 32][..]).into());
    object.into()
}

#[wasm_bindgen_test]
async fn a_schema_1_database_upgrades_and_its_sessions_take_metadata_updates() {
    let name = unique_name("upgrade-v1");
    let db = raw_open_at(&name, 1, |db| {
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_key_path(&JsValue::from_str("i"));
        let sessions = db
            .create_object_store_with_optional_parameters("sessions", &params)
            .expect("sessions");
        let by_user = js_sys::Array::of3(&"u".into(), &"a".into(), &"i".into());
        sessions
            .create_index_with_str_sequence("user_activity", &by_user)
            .expect("user index");
        sessions
            .create_index_with_str("expiry", "e")
            .expect("expiry");
        db.create_object_store("states").expect("states");
    })
    .await;
    raw_put(&db, "sessions", &v1_session(9, "vera"), None).await;
    raw_put(&db, "sessions", &v1_session(10, "vera"), None).await;
    db.close();

    let store = fresh_store(&name).await;
    let found = store
        .get_session(&id(9))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(found.metadata_revision, 0);
    assert_eq!(found.session.metadata["role"], "admin");
    let demoted = json_map(json!({"role": "user"}));
    assert_eq!(
        store.replace_metadata(&id(9), 0, &demoted, 1).await,
        Ok(WriteOutcome::Applied)
    );
    assert_eq!(
        store.replace_metadata(&id(9), 0, &demoted, 1).await,
        Ok(WriteOutcome::Stale)
    );
    assert_eq!(
        store
            .get_session(&id(10))
            .await
            .expect("read")
            .expect("kept")
            .metadata_revision,
        0
    );
    drop(store);

    // Every record was rewritten with its revision, in the upgrade itself.
    let db = raw_open(&name).await;
    assert_eq!(db.version() as u32, SCHEMA_VERSION);
    let tx = db.transaction_with_str("sessions").expect("transaction");
    let record = settle(
        &tx.object_store("sessions")
            .expect("store")
            .get(&Uint8Array::from(&[10u8; 16][..]))
            .expect("get"),
    )
    .await
    .expect("record");
    assert_eq!(
        Reflect::get(&record, &"n".into()).expect("n"),
        JsValue::from_f64(0.0)
    );
    db.close();
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn a_schema_2_database_upgrades_keeping_its_sessions_and_gains_replicas() {
    let name = unique_name("upgrade-v2");
    let db = raw_open_at(&name, 2, |db| {
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_key_path(&JsValue::from_str("i"));
        let sessions = db
            .create_object_store_with_optional_parameters("sessions", &params)
            .expect("sessions");
        let by_user = js_sys::Array::of3(&"u".into(), &"a".into(), &"i".into());
        sessions
            .create_index_with_str_sequence("user_activity", &by_user)
            .expect("user index");
        sessions
            .create_index_with_str("expiry", "e")
            .expect("expiry");
        db.create_object_store("states").expect("states");
    })
    .await;
    let session = v1_session(11, "wes");
    Reflect::set(&session, &"n".into(), &JsValue::from_f64(4.0)).expect("set n");
    raw_put(&db, "sessions", &session, None).await;
    db.close();

    let store = fresh_store(&name).await;
    let found = store
        .get_session(&id(11))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(found.metadata_revision, 4);
    assert_eq!(found.session.user_id, "wes");
    use sessionkit::ReplicaStore;
    assert_eq!(store.load_replica("main").await, Ok(None));
    assert_eq!(store.save_replica("main", 3, b"{}").await, Ok(true));
    drop(store);

    let store = fresh_store(&name).await;
    assert_eq!(
        store.load_replica("main").await,
        Ok(Some((3, b"{}".to_vec())))
    );
    drop(store);
    let db = raw_open(&name).await;
    assert_eq!(db.version() as u32, SCHEMA_VERSION);
    db.close();
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn sessions_and_state_survive_reopening() {
    let name = unique_name("reopen");
    let clock = ManualClock::new(NOW);
    let open = |store: IndexedDbStore| {
        SessionManager::open_with_clock(
            store.into_shared(),
            Config::default(),
            Arc::new(clock.clone()),
        )
        .expect("manager")
    };

    let manager = open(fresh_store(&name).await);
    let created = manager
        .create(NewSession::new("alice", ClientKind::Web))
        .await
        .expect("created");
    let data = json!({"theme": "dark", "tabs": [1, 2, 3]});
    assert_eq!(
        manager.put_state(&created.session.id, &data, Some(0)).await,
        Ok(1)
    );
    drop(manager);

    let manager = open(fresh_store(&name).await);
    let session = manager
        .validate(created.token.as_str())
        .await
        .expect("valid");
    assert_eq!(session, created.session);
    let stored = manager
        .get_state(&created.session.id)
        .await
        .expect("state read")
        .expect("state present");
    assert_eq!((stored.version, stored.data), (1, data));
    drop(manager);
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn state_blobs_round_trip_byte_for_byte() {
    let name = unique_name("blobs");
    let store = fresh_store(&name).await;
    let doc: Value = serde_json::from_str(include_str!("../../../tests/vectors/state_codec.json"))
        .expect("vectors");
    let vectors = doc["vectors"].as_array().expect("vectors");
    for (n, case) in vectors.iter().enumerate() {
        let label = case["name"].as_str().expect("name");
        let owner = record(n as u8, "blobs", NOW, NOW + 60_000, true);
        assert!(store
            .import_session(&StoredSession::new(owner.clone(), None))
            .await
            .expect("import"));
        let expected = STANDARD
            .decode(case["blob_base64"].as_str().expect("blob"))
            .expect("base64");
        let codec = StateCodec::new(
            case["compression_threshold"].as_u64().expect("threshold"),
            case["max_bytes"].as_u64().expect("max"),
        );
        let input: Value =
            serde_json::from_str(case["input_json"].as_str().expect("input")).expect("input json");
        let encoded = codec.encode(&input).expect("encode");
        assert_eq!(
            store
                .put_state(&owner.session.id, Some(0), &encoded.blob, NOW)
                .await,
            Ok(StatePut::Written(1)),
            "{label}"
        );
        let StateLookup::Found(state) = store.get_state(&owner.session.id).await.expect("read")
        else {
            panic!("{label}: state missing");
        };
        assert_eq!(
            state.blob, expected,
            "{label}: stored bytes differ from the vector"
        );
        let decoded = codec.decode(&state.blob).expect("decode");
        let canonical: Value =
            serde_json::from_str(case["canonical_json"].as_str().expect("canonical"))
                .expect("json");
        assert_eq!(decoded.data, canonical, "{label}");
    }
    drop(store);
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn malformed_records_are_reported_as_corrupt() {
    let name = unique_name("corrupt");
    let store = fresh_store(&name).await;
    let good = record(1, "carol", NOW, NOW + 60_000, true);
    assert!(store
        .import_session(&StoredSession::new(good.clone(), Some(state(1, b"blob"))))
        .await
        .expect("import"));

    let db = raw_open(&name).await;
    // A session whose user id is a number and whose times are missing.
    let bad = js_sys::Object::new();
    Reflect::set(&bad, &"i".into(), &Uint8Array::from(&[2u8; 16][..])).expect("set");
    Reflect::set(&bad, &"u".into(), &JsValue::from_f64(5.0)).expect("set");
    raw_put(&db, "sessions", &bad, None).await;
    // A state whose version is not a number.
    let bad_state = js_sys::Object::new();
    Reflect::set(&bad_state, &"v".into(), &"one".into()).expect("set");
    raw_put(
        &db,
        "states",
        &bad_state,
        Some(&Uint8Array::from(&[1u8; 16][..]).into()),
    )
    .await;
    db.close();

    assert_eq!(
        kind(store.get_session(&id(2)).await),
        Err(ErrorKind::Corrupt)
    );
    assert_eq!(kind(store.get_state(&id(1)).await), Err(ErrorKind::Corrupt));
    assert_eq!(
        kind(store.stats(&stats_query(NOW)).await),
        Err(ErrorKind::Corrupt),
        "a scan meets the bad record"
    );
    assert_eq!(
        store.get_session(&id(1)).await,
        Ok(Some(good)),
        "the good record still reads"
    );
    drop(store);
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn times_beyond_exact_javascript_integers_are_refused_unwritten() {
    let name = unique_name("range");
    let store = fresh_store(&name).await;
    let mut far = record(3, "dave", NOW, NOW + 60_000, true);
    far.session.absolute_expires_at = 1 << 53;
    let err = store.insert_session(&far, None).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert_eq!(store.get_session(&far.session.id).await, Ok(None));

    far.session.absolute_expires_at = (1 << 53) - 1;
    assert_eq!(
        store.insert_session(&far, None).await,
        Ok(InsertOutcome::Inserted { evicted: vec![] })
    );
    assert_eq!(store.get_session(&far.session.id).await, Ok(Some(far)));
    drop(store);
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn a_cursor_past_exact_javascript_integers_is_invalid_input() {
    let name = unique_name("cursor-range");
    let store = fresh_store(&name).await;
    let query = sessionkit::UserPageQuery {
        user_id: "dave".to_owned(),
        live: None,
        after: Some(sessionkit::SessionPosition {
            last_active_at: 1 << 53,
            id: id(1),
        }),
        limit: 10,
    };
    let err = store.list_user_sessions(&query).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(matches!(err, sessionkit::Error::InvalidInput { ref field, .. } if field == "cursor"));
    // The same through the engine, with a well-formed cursor crafted for that position.
    let manager = SessionManager::open(store.into_shared(), Config::default()).expect("manager");
    let cursor = sessionkit::PageCursor {
        last_active_at: -(1 << 60),
        id: id(1),
    }
    .encode("dave", false);
    let options = sessionkit::ListOptions {
        cursor: Some(cursor),
        ..sessionkit::ListOptions::default()
    };
    let err = manager
        .list_user_sessions("dave", &options)
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    drop(manager);
    delete_database(&name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn concurrent_conditional_writes_stay_atomic() {
    let name = unique_name("atomic");
    let store = fresh_store(&name).await;
    let owner = record(4, "erin", NOW, NOW + 60_000, true);
    assert!(store
        .import_session(&StoredSession::new(owner.clone(), None))
        .await
        .expect("import"));

    // Two writers both expecting "no state yet": exactly one wins.
    let (a, b) = join(
        store.put_state(&owner.session.id, Some(0), b"first", NOW),
        store.put_state(&owner.session.id, Some(0), b"second", NOW),
    )
    .await;
    let mut outcomes = vec![a.expect("a"), b.expect("b")];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [StatePut::Conflict(1), StatePut::Written(1)]);

    // Two inserts racing for the last slot under `reject`: one is refused.
    let limit = Some(SessionLimit {
        max: 2,
        policy: SessionLimitPolicy::Reject,
        live: Liveness::at(NOW),
    });
    let (x, y) = (
        record(5, "erin", NOW, NOW + 60_000, true),
        record(6, "erin", NOW, NOW + 60_000, true),
    );
    let (a, b) = join(
        store.insert_session(&x, limit.as_ref()),
        store.insert_session(&y, limit.as_ref()),
    )
    .await;
    let mut outcomes = vec![a.expect("a"), b.expect("b")];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        outcomes,
        [
            InsertOutcome::Inserted { evicted: vec![] },
            InsertOutcome::LimitReached
        ]
    );
    assert_eq!(
        store
            .count_sessions(Some("erin"), Some(&Liveness::at(NOW)))
            .await,
        Ok(2)
    );
    drop(store);
    delete_database(&name).await.expect("deleted");
}

//! Behaviour specific to the SQLite store: state goes with its session, data survives a reopen,
//! the metadata compare-and-swap compares a revision, undecodable rows are `Corrupt`, and the
//! engine runs end to end on top of it.

mod common;

use std::sync::Arc;

use pollster::block_on;
use rusqlite::Connection;
use serde_json::json;
use sessionkit::{
    ClientKind, Config, ErrorKind, Liveness, MaintenanceStore, ManualClock, NewSession,
    SessionManager, SessionStore, StateLookup, StatePut, StateRecord, StateStore, Store,
    StoredSession, UserPageQuery, WriteOutcome,
};
use sessionkit_sqlite::SqliteStore;

fn state_rows(path: &std::path::Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT count(*) FROM session_state", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn state_is_removed_with_its_session_and_moved_by_rotation() {
    let (_dir, path, store) = common::temp_store();
    for n in 1..=3 {
        let record = common::record(common::id(n), "u", 0, 100 * i64::from(n));
        block_on(store.insert_session(&record, None)).unwrap();
        assert_eq!(
            block_on(store.put_state(&common::id(n), Some(0), b"blob", 1)).unwrap(),
            StatePut::Written(1)
        );
    }
    assert_eq!(state_rows(&path), 3);

    assert!(block_on(store.delete_session(&common::id(1))).unwrap());
    assert_eq!(state_rows(&path), 2);

    assert_eq!(
        block_on(store.delete_expired(&Liveness::at(200), 10)).unwrap(),
        1
    );
    assert_eq!(state_rows(&path), 1);

    let new = common::record(common::id(9), "u", 0, 300);
    assert_eq!(
        block_on(store.rotate_session(&common::id(3), 0, &new)).unwrap(),
        WriteOutcome::Applied
    );
    assert_eq!(state_rows(&path), 1);
    assert!(matches!(
        block_on(store.get_state(&common::id(9))).unwrap(),
        StateLookup::Found(state) if state.blob == b"blob" && state.version == 1
    ));
    assert_eq!(
        block_on(store.get_state(&common::id(3))).unwrap(),
        StateLookup::NoSession
    );
}

#[test]
fn data_survives_a_reopen() {
    let (_dir, path, store) = common::temp_store();
    let record = common::record(common::id(1), "u", 5, 50);
    let state = StateRecord {
        version: 4,
        blob: vec![0, 1, 2, 255],
        updated_at: 6,
    };
    let stored = StoredSession::new(record.clone(), Some(state));
    assert!(block_on(store.import_session(&stored)).unwrap());
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        block_on(store.get_session(&common::id(1))).unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        block_on(store.scan_sessions(None, 10)).unwrap(),
        vec![stored]
    );
}

#[test]
fn metadata_compare_and_swap_compares_the_revision_not_the_text() {
    let (_dir, path, store) = common::temp_store();
    let record = common::record(common::id(1), "u", 0, 100);
    block_on(store.insert_session(&record, None)).unwrap();
    let stored = |path: &std::path::Path| -> (String, i64) {
        Connection::open(path)
            .unwrap()
            .query_row(
                "SELECT metadata, metadata_revision FROM sessions",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
    };
    assert_eq!(stored(&path), (r#"{"k":1}"#.to_owned(), 0));

    // Stored in any JSON form (here with spaces): the next compare-and-swap still matches,
    // because it compares the revision.
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE sessions SET metadata = ' { \"k\" : 1 } '", [])
        .unwrap();
    let replacement = serde_json::Map::from_iter([("b".to_owned(), json!(2))]);
    assert_eq!(
        block_on(store.replace_metadata(&common::id(1), 0, &replacement, 1)).unwrap(),
        WriteOutcome::Applied
    );
    assert_eq!(stored(&path), (r#"{"b":2}"#.to_owned(), 1));
    assert_eq!(
        block_on(store.replace_metadata(&common::id(1), 0, &serde_json::Map::new(), 1)).unwrap(),
        WriteOutcome::Stale
    );
    assert_eq!(
        block_on(store.replace_metadata(&common::id(2), 0, &serde_json::Map::new(), 1)).unwrap(),
        WriteOutcome::Missing
    );
    assert_eq!(stored(&path), (r#"{"b":2}"#.to_owned(), 1));
}

#[test]
fn undecodable_rows_are_corrupt_not_panics() {
    let corruptions = [
        ("id", "UPDATE sessions SET id = x'0102'"),
        ("token_hash", "UPDATE sessions SET token_hash = x'00'"),
        ("client_kind", "UPDATE sessions SET client_kind = 'tablet'"),
        ("metadata text", "UPDATE sessions SET metadata = 'not json'"),
        ("metadata array", "UPDATE sessions SET metadata = '[1, 2]'"),
        (
            "metadata revision",
            "UPDATE sessions SET metadata_revision = -1",
        ),
        ("user_id type", "UPDATE sessions SET user_id = x'ff'"),
        (
            "created_at type",
            "UPDATE sessions SET created_at = 'yesterday'",
        ),
        ("state version", "UPDATE session_state SET version = -1"),
        (
            "cleared state version",
            "DELETE FROM session_state; UPDATE sessions SET cleared_state_version = -1",
        ),
    ];
    for (what, sql) in corruptions {
        let (_dir, path, store) = common::temp_store();
        let record = common::record(common::id(1), "u", 0, 100);
        block_on(store.insert_session(&record, None)).unwrap();
        block_on(store.put_state(&common::id(1), None, b"x", 1)).unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA ignore_check_constraints = ON; PRAGMA foreign_keys = OFF;")
                .unwrap();
            conn.execute_batch(sql).unwrap();
        }
        let scan = block_on(store.scan_sessions(None, 10));
        assert_eq!(scan.unwrap_err().kind(), ErrorKind::Corrupt, "{what}: scan");
        if what == "state version" {
            let state = block_on(store.get_state(&common::id(1)));
            assert_eq!(
                state.unwrap_err().kind(),
                ErrorKind::Corrupt,
                "{what}: get_state"
            );
            continue;
        }
        if what == "cleared state version" {
            let put = block_on(store.put_state(&common::id(1), None, b"y", 2));
            assert_eq!(
                put.unwrap_err().kind(),
                ErrorKind::Corrupt,
                "{what}: put_state"
            );
            continue;
        }
        let list = block_on(store.list_user_sessions(&UserPageQuery {
            user_id: "u".to_owned(),
            live: None,
            after: None,
            limit: 10,
        }));
        // (A blob user_id no longer matches the text "u": that listing is just empty.)
        if what != "user_id type" {
            assert_eq!(list.unwrap_err().kind(), ErrorKind::Corrupt, "{what}: list");
        }
        if what != "id" {
            let got = block_on(store.get_session(&common::id(1)));
            assert_eq!(got.unwrap_err().kind(), ErrorKind::Corrupt, "{what}: get");
        }
    }
}

#[test]
fn the_engine_runs_end_to_end_on_sqlite() {
    let (_dir, path, store) = common::temp_store();
    let clock = ManualClock::new(1_700_000_000_000);
    let config = Config {
        max_sessions_per_user: Some(2),
        session_limit_policy: sessionkit::SessionLimitPolicy::EvictOldest,
        ..Config::default()
    };
    let manager =
        SessionManager::open_with_clock(Arc::new(store), config, Arc::new(clock.clone())).unwrap();
    block_on(async {
        let first = manager
            .create(NewSession::new("alice", ClientKind::Web))
            .await
            .unwrap();
        clock.advance(1_000);
        let second = manager
            .create(NewSession::new("alice", ClientKind::Mobile))
            .await
            .unwrap();
        let id = second.session.id;

        manager
            .update_metadata(&id, &json!({"theme": "dark"}))
            .await
            .unwrap();
        assert_eq!(
            manager
                .put_state(&id, &json!({"n": 1}), Some(0))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            manager
                .patch_state(&id, &json!({"m": 2}), Some(1))
                .await
                .unwrap(),
            2
        );
        let err = manager
            .put_state(&id, &json!({}), Some(1))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);

        let rotated = manager.rotate(&id).await.unwrap();
        assert_eq!(
            manager
                .validate(second.token.as_str())
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidToken
        );
        let session = manager.validate(rotated.token.as_str()).await.unwrap();
        assert_eq!(session.metadata["theme"], "dark");
        let state = manager.get_state(&session.id).await.unwrap().unwrap();
        assert_eq!((state.version, state.data), (2, json!({"n": 1, "m": 2})));

        // A third session evicts the least recently active (the first).
        clock.advance(1_000);
        manager
            .create(NewSession::new("alice", ClientKind::Desktop))
            .await
            .unwrap();
        assert_eq!(
            manager
                .validate(first.token.as_str())
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::Revoked
        );
        assert_eq!(manager.count_user_sessions("alice", true).await.unwrap(), 2);
        let page = manager
            .list_user_sessions(
                "alice",
                &sessionkit::ListOptions {
                    limit: 2,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2);
        let rest = manager
            .list_user_sessions(
                "alice",
                &sessionkit::ListOptions {
                    limit: 2,
                    cursor: page.next_cursor,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.items[0].id, first.session.id);

        let stats = manager.stats().await.unwrap();
        assert_eq!((stats.total, stats.active), (3, 2));

        clock.advance(31 * 24 * 60 * 60 * 1000);
        assert_eq!(manager.cleanup_expired().await.unwrap(), 3);
        assert_eq!(manager.count_active().await.unwrap(), 0);
    });
    assert_eq!(state_rows(&path), 0);
}

#[test]
fn export_and_import_carry_a_cleared_state_version() {
    let (_dir, _path, store) = common::temp_store();
    let clock = ManualClock::new(1_700_000_000_000);
    let open = |store: Arc<dyn Store>| {
        SessionManager::open_with_clock(store, Config::default(), Arc::new(clock.clone())).unwrap()
    };
    let source = open(Arc::new(store));
    block_on(async {
        let cleared = source
            .create(NewSession::new("alice", ClientKind::Web))
            .await
            .unwrap();
        let plain = source
            .create(NewSession::new("bob", ClientKind::Web))
            .await
            .unwrap();
        let id = cleared.session.id;
        for n in 0..2 {
            source
                .put_state(&id, &json!({ "n": n }), None)
                .await
                .unwrap();
        }
        source.clear_state(&id).await.unwrap();

        let exported = source.export(None, 10).await.unwrap();
        let of = |id| exported.iter().find(|r| r.session.id == id).unwrap();
        assert_eq!(of(id).cleared_state_version, 2);
        assert!(of(id).state.is_none());
        let text = serde_json::to_value(of(id)).unwrap();
        assert_eq!(text["cleared_state_version"], 2);
        // A session that never had a state cleared writes no such field.
        let text = serde_json::to_value(of(plain.session.id)).unwrap();
        assert!(text.get("cleared_state_version").is_none(), "{text}");

        // Into another SQLite file and into memory: the next write continues after version 2,
        // so a client still holding version 1 or 2 cannot match the new state.
        let (_dir2, _path2, other) = common::temp_store();
        let targets: [Arc<dyn Store>; 2] =
            [Arc::new(other), Arc::new(sessionkit::MemoryStore::new())];
        for target in targets {
            let manager = open(target);
            for record in &exported {
                assert!(manager.import(record.clone()).await.unwrap());
            }
            assert_eq!(manager.export(None, 10).await.unwrap(), exported);
            let err = manager
                .put_state(&id, &json!({}), Some(2))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Conflict);
            assert_eq!(
                manager.put_state(&id, &json!({}), Some(0)).await.unwrap(),
                3
            );
            assert_eq!(
                manager
                    .put_state(&plain.session.id, &json!({}), None)
                    .await
                    .unwrap(),
                1
            );
        }
    });
}

/// The SQLite store sums durations as 32-bit halves: exact, like the memory store's i128 sum,
/// for any i64 times.
#[test]
fn stats_sums_durations_exactly_at_the_extremes() {
    let memory = sessionkit::MemoryStore::new();
    let (_dir, _path, sqlite) = common::temp_store();
    let extremes = [
        (i64::MIN, i64::MAX),
        (i64::MIN, i64::MAX),
        (i64::MAX, i64::MIN),
        (-1, 0),
        (0, -1),
        (i64::MIN + 1, 1 << 40),
        (-(1 << 33) - 7, (1 << 32) + 3),
    ];
    for (n, (created_at, last_active_at)) in extremes.into_iter().enumerate() {
        let mut record = common::record(common::id(n as u8), "u", created_at, i64::MAX);
        record.session.last_active_at = last_active_at;
        for store in [&memory as &dyn sessionkit::Store, &sqlite] {
            let session = StoredSession::new(record.clone(), None);
            assert!(block_on(store.import_session(&session)).unwrap());
        }
        for now in [0, 1_700_000_000_000, i64::MAX] {
            let m = block_on(memory.stats(&stats_query(now))).unwrap();
            let mut s = block_on(sqlite.stats(&stats_query(now))).unwrap();
            s.by_client_kind.sort_unstable();
            assert_eq!(m, s, "after {n} sessions, now {now}");
        }
    }
}

fn stats_query(now: i64) -> sessionkit::StatsQuery {
    sessionkit::StatsQuery {
        live: Liveness::at(now),
        created_since: [
            now.saturating_sub(86_400_000),
            now.saturating_sub(7 * 86_400_000),
        ],
    }
}

#[test]
fn revoke_all_and_delete_user_run_in_batches_on_sqlite() {
    let (_dir, path, store) = common::temp_store();
    let clock = ManualClock::new(1_700_000_000_000);
    let m = SessionManager::open_with_clock(Arc::new(store), Config::default(), Arc::new(clock))
        .unwrap();
    block_on(async {
        for n in 0..1_050 {
            let user = if n % 3 == 0 { "bob" } else { "alice" };
            let id = m
                .create(NewSession::new(user, ClientKind::Web))
                .await
                .unwrap()
                .session
                .id;
            m.put_state(&id, &json!({ "n": n }), None).await.unwrap();
        }
        assert_eq!(m.delete_user_sessions("bob").await, Ok(350));
        assert_eq!(m.count_user_sessions("bob", false).await, Ok(0));
        assert_eq!(m.revoke_all_sessions().await, Ok(700));
        assert_eq!(m.count_active().await, Ok(0));
        assert_eq!(m.count_user_sessions("alice", false).await, Ok(700));
    });
    assert_eq!(state_rows(&path), 700);
}

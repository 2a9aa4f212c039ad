//! One `Arc<SqliteStore>` shared by several threads: writes serialize on the writer, reads run
//! on pooled readers, and the per-user limit holds however the inserts interleave.

mod common;

use std::sync::Arc;
use std::thread;

use pollster::block_on;
use sessionkit::{
    InsertOutcome, Liveness, MaintenanceStore, SessionId, SessionLimit, SessionLimitPolicy,
    SessionStore, Store, UserPageQuery,
};
use sessionkit_sqlite::SqliteStore;

const THREADS: usize = 4;
const PER_THREAD: usize = 100;

fn thread_id(thread: usize, n: usize) -> SessionId {
    let mut bytes = [0u8; SessionId::LEN];
    bytes[0] = thread as u8;
    bytes[1..9].copy_from_slice(&(n as u64).to_be_bytes());
    SessionId::from_bytes(bytes)
}

#[test]
fn four_threads_insert_and_read_concurrently() {
    let (_dir, _path, store) = common::temp_store();
    let store = Arc::new(store);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let user = format!("user-{t}");
                for n in 0..PER_THREAD {
                    let id = thread_id(t, n);
                    let record = common::record(id, &user, n as i64, 1_000_000);
                    let outcome = block_on(store.insert_session(&record, None)).unwrap();
                    assert_eq!(outcome, InsertOutcome::Inserted { evicted: vec![] });
                    let read = block_on(store.get_session(&id)).unwrap();
                    assert_eq!(read.as_ref(), Some(&record));
                    let page = block_on(store.list_user_sessions(&UserPageQuery {
                        user_id: user.clone(),
                        live: Some(Liveness::at(0)),
                        after: None,
                        limit: 3,
                    }))
                    .unwrap();
                    assert_eq!(page[0].session.id, id, "newest first");
                    let mine = block_on(store.count_sessions(Some(&user), None)).unwrap();
                    assert_eq!(mine, n as u64 + 1);
                    // Reads of other threads' users see a consistent, growing count.
                    let all = block_on(store.count_sessions(None, None)).unwrap();
                    assert!(all > n as u64 && all <= (THREADS * PER_THREAD) as u64);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(
        block_on(store.count_sessions(None, Some(&Liveness::at(0)))).unwrap(),
        (THREADS * PER_THREAD) as u64
    );
    let stats = block_on(store.stats(&sessionkit::StatsQuery {
        live: Liveness::at(0),
        created_since: [0, 0],
    }))
    .unwrap();
    assert_eq!(stats.total, (THREADS * PER_THREAD) as u64);
}

#[test]
fn the_per_user_limit_holds_under_concurrent_inserts() {
    let (_dir, _path, store) = common::temp_store();
    let store = Arc::new(store);
    let limit = SessionLimit {
        max: 5,
        policy: SessionLimitPolicy::EvictOldest,
        live: Liveness::at(0),
    };
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let mut evicted = 0;
                for n in 0..50 {
                    let record = common::record(thread_id(t, n), "shared", n as i64, 1_000_000);
                    match block_on(store.insert_session(&record, Some(&limit))).unwrap() {
                        InsertOutcome::Inserted { evicted: ids } => evicted += ids.len(),
                        other => panic!("{other:?}"),
                    }
                }
                evicted
            })
        })
        .collect();
    let evicted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let live = block_on(store.count_sessions(Some("shared"), Some(&Liveness::at(0)))).unwrap();
    assert_eq!(live, 5);
    assert_eq!(
        evicted,
        THREADS * 50 - 5,
        "each eviction revoked exactly one session"
    );
    assert_eq!(
        block_on(store.count_sessions(Some("shared"), None)).unwrap(),
        (THREADS * 50) as u64
    );
}

#[test]
fn two_stores_on_one_file_take_turns_writing() {
    // As two processes would: each has its own writer, and BEGIN IMMEDIATE plus the busy
    // timeout make them wait for each other instead of failing.
    let (_dir, path, first) = common::temp_store();
    let stores = [Arc::new(first), Arc::new(SqliteStore::open(&path).unwrap())];
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&stores[t % 2]);
            thread::spawn(move || {
                for n in 0..PER_THREAD {
                    let record = common::record(thread_id(t, n), "u", n as i64, 1_000_000);
                    block_on(store.insert_session(&record, None)).unwrap();
                    block_on(store.touch_session(
                        &record.session.id,
                        n as i64 + 1,
                        2_000_000,
                        &Liveness::at(0),
                    ))
                    .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    for store in &stores {
        assert_eq!(
            block_on(store.count_sessions(Some("u"), Some(&Liveness::at(1_500_000)))).unwrap(),
            (THREADS * PER_THREAD) as u64
        );
    }
}

#[test]
fn the_store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SqliteStore>();
    let (_dir, _path, store) = common::temp_store();
    let _shared: Arc<dyn Store> = Arc::new(store);
}

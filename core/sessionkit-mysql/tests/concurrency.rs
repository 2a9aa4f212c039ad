//! The per-user limit under concurrent creates from several processes' worth of connections:
//! two stores (two pools, as two servers would have), eight threads each, every create at once
//! for one user — the live sessions never exceed the limit, under both policies. (Without the
//! per-user lock row, READ COMMITTED lets two inserts both read the user below the limit: the
//! rejecting test then admits more than the limit.)

mod common;

use std::sync::{Arc, Barrier};

use pollster::block_on;
use sessionkit::{
    ClientKind, Config, Error, NewSession, SessionLimitPolicy, SessionManager, Store,
};
use sessionkit_mysql::{MysqlOptions, MysqlStore};

const STORES: usize = 2;
const THREADS_PER_STORE: usize = 8;
const CREATES_PER_THREAD: usize = 6;
const LIMIT: u32 = 3;

fn managers(url: &str, policy: SessionLimitPolicy) -> Vec<Arc<SessionManager>> {
    (0..STORES)
        .map(|_| {
            let options = MysqlOptions {
                max_connections: THREADS_PER_STORE,
                ..MysqlOptions::default()
            };
            let store: Arc<dyn Store> = Arc::new(MysqlStore::open_with(url, options).unwrap());
            let config = Config {
                max_sessions_per_user: Some(LIMIT),
                session_limit_policy: policy,
                ..Config::default()
            };
            Arc::new(SessionManager::open(store, config).unwrap())
        })
        .collect()
}

/// Every thread creates its sessions for "alice" at once; the outcomes of all creates.
fn create_all(managers: &[Arc<SessionManager>]) -> Vec<Result<(), Error>> {
    let start = Arc::new(Barrier::new(STORES * THREADS_PER_STORE));
    let handles: Vec<_> = (0..STORES * THREADS_PER_STORE)
        .map(|t| {
            let manager = Arc::clone(&managers[t % STORES]);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                (0..CREATES_PER_THREAD)
                    .map(|_| {
                        block_on(manager.create(NewSession::new("alice", ClientKind::Web)))
                            .map(drop)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// Active rows of alice, read straight from the table.
fn active_rows(url: &str) -> usize {
    common::query_text(
        url,
        "SELECT COUNT(*) FROM sessions WHERE user_id = 'alice' AND active",
    )[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn mysql_concurrent_creates_never_exceed_the_limit_when_rejecting() {
    let Some(server) =
        common::server_url("mysql_concurrent_creates_never_exceed_the_limit_when_rejecting")
    else {
        return;
    };
    let db = common::TestDb::create(&server);
    let managers = managers(&db.url, SessionLimitPolicy::Reject);
    let outcomes = create_all(&managers);
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    for outcome in &outcomes {
        if let Err(e) = outcome {
            assert!(matches!(e, Error::LimitExceeded { .. }), "{e:?}");
        }
    }
    assert_eq!(created, LIMIT as usize, "exactly the limit was admitted");
    assert_eq!(active_rows(&db.url), LIMIT as usize);
    assert_eq!(
        block_on(managers[0].count_user_sessions("alice", true)).unwrap(),
        u64::from(LIMIT)
    );
}

#[test]
fn mysql_concurrent_creates_never_exceed_the_limit_when_evicting() {
    let Some(server) =
        common::server_url("mysql_concurrent_creates_never_exceed_the_limit_when_evicting")
    else {
        return;
    };
    let db = common::TestDb::create(&server);
    let managers = managers(&db.url, SessionLimitPolicy::EvictOldest);
    let outcomes = create_all(&managers);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(active_rows(&db.url), LIMIT as usize);
    let stored = block_on(managers[1].count_user_sessions("alice", false)).unwrap();
    assert_eq!(
        stored,
        (STORES * THREADS_PER_STORE * CREATES_PER_THREAD) as u64
    );
}

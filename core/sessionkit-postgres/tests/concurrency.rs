//! The per-user limit under concurrent creates from several processes' worth of connections:
//! two stores (two pools, as two servers would have), eight threads each, every create at once
//! for one user — the live sessions never exceed the limit, under both policies.
//! The check itself is the store kit's (`check_limit_across_stores`); this file gives it two
//! stores (two pools, as two servers would have) over a fresh database.

mod common;

use std::sync::Arc;

use sessionkit::testing::kit::check_limit_across_stores;
use sessionkit::{SessionLimitPolicy, Store};
use sessionkit_postgres::{PostgresOptions, PostgresStore};

const LIMIT: u32 = 3;

fn stores(url: &str) -> Vec<Arc<dyn Store>> {
    (0..2)
        .map(|_| {
            let options = PostgresOptions {
                max_connections: 8,
                ..PostgresOptions::default()
            };
            Arc::new(PostgresStore::open_with(url, options).unwrap()) as Arc<dyn Store>
        })
        .collect()
}

/// Active rows of alice, read straight from the table.
fn active_rows(url: &str) -> usize {
    common::query_text(
        url,
        "SELECT count(*) FROM sessions WHERE user_id = 'alice' AND active",
    )[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

fn check(name: &str, policy: SessionLimitPolicy) {
    let Some(server) = common::server_url(name) else {
        return;
    };
    let db = common::TestDb::create(&server);
    let seen = check_limit_across_stores(stores(&db.url), policy, LIMIT).unwrap();
    assert_eq!(active_rows(&db.url), LIMIT as usize);
    eprintln!("{seen}");
}

#[test]
fn postgres_concurrent_creates_never_exceed_the_limit_when_rejecting() {
    check(
        "postgres_concurrent_creates_never_exceed_the_limit_when_rejecting",
        SessionLimitPolicy::Reject,
    );
}

#[test]
fn postgres_concurrent_creates_never_exceed_the_limit_when_evicting() {
    check(
        "postgres_concurrent_creates_never_exceed_the_limit_when_evicting",
        SessionLimitPolicy::EvictOldest,
    );
}

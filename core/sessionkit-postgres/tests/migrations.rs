//! The schema's versions: a new database is brought to `SCHEMA_VERSION` in one transaction (a
//! failing step leaves nothing behind), opening again changes nothing, concurrent first opens
//! agree, and a database from a newer build is refused untouched.

mod common;

use sessionkit::Error;
use sessionkit_postgres::{PostgresStore, SCHEMA_VERSION};

/// The schema's shape: every column of every table, and every index, as text.
fn shape(url: &str) -> Vec<Vec<Option<String>>> {
    common::query_text(
        url,
        "SELECT table_name, column_name, data_type, is_nullable, column_default \
         FROM information_schema.columns WHERE table_schema = 'public' \
         UNION ALL SELECT tablename, indexname, indexdef, NULL, NULL FROM pg_indexes \
         WHERE schemaname = 'public' ORDER BY 1, 2",
    )
}

fn version(url: &str) -> String {
    common::query_text(url, "SELECT version FROM sessionkit_schema")[0][0]
        .clone()
        .unwrap()
}

#[test]
fn postgres_a_new_database_gets_the_current_schema_once() {
    let Some(server) = common::server_url("postgres_a_new_database_gets_the_current_schema_once")
    else {
        return;
    };
    let db = common::TestDb::create(&server);
    drop(db.open());
    assert_eq!(version(&db.url), SCHEMA_VERSION.to_string());
    let first = shape(&db.url);
    assert!(first
        .iter()
        .any(|r| r[1].as_deref() == Some("sessions_by_user")));
    assert!(first
        .iter()
        .any(|r| r[1].as_deref() == Some("sessions_by_expiry")));
    drop(db.open());
    assert_eq!(shape(&db.url), first, "a second open changed the schema");
}

#[test]
fn postgres_concurrent_first_opens_all_succeed() {
    let Some(server) = common::server_url("postgres_concurrent_first_opens_all_succeed") else {
        return;
    };
    let db = common::TestDb::create(&server);
    let url = db.url.clone();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| PostgresStore::open(&url).map(drop)))
            .collect();
        for handle in handles {
            handle
                .join()
                .unwrap()
                .expect("every concurrent open succeeds");
        }
    });
    assert_eq!(version(&db.url), SCHEMA_VERSION.to_string());
}

#[test]
fn postgres_a_newer_schema_is_refused_untouched() {
    let Some(server) = common::server_url("postgres_a_newer_schema_is_refused_untouched") else {
        return;
    };
    let db = common::TestDb::create(&server);
    drop(db.open());
    let newer = SCHEMA_VERSION + 1;
    common::admin(
        &db.url,
        &format!(
            "UPDATE sessionkit_schema SET version = {newer}; \
             ALTER TABLE sessions ADD COLUMN from_the_future text; \
             CREATE TABLE future_things (x int)"
        ),
    );
    let before = shape(&db.url);
    let refused = PostgresStore::open(&db.url).unwrap_err();
    assert_eq!(
        refused,
        Error::IncompatibleSchema {
            found: newer,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(shape(&db.url), before, "the refused database was changed");
    assert_eq!(version(&db.url), newer.to_string());

    // Also when the version table is all there is (a negative version too).
    let bare = common::TestDb::create(&server);
    common::admin(
        &bare.url,
        "CREATE TABLE sessionkit_schema (one boolean PRIMARY KEY, version integer NOT NULL); \
         INSERT INTO sessionkit_schema VALUES (true, -1)",
    );
    let before = shape(&bare.url);
    assert_eq!(
        PostgresStore::open(&bare.url).unwrap_err(),
        Error::IncompatibleSchema {
            found: -1,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(shape(&bare.url), before);
}

#[test]
fn postgres_a_failing_upgrade_leaves_nothing_behind() {
    let Some(server) = common::server_url("postgres_a_failing_upgrade_leaves_nothing_behind")
    else {
        return;
    };
    // A table in the way of the last statement of the upgrade: every earlier statement (the
    // version table, sessions, its indexes) succeeds first, then the step fails.
    let db = common::TestDb::create(&server);
    common::admin(&db.url, "CREATE TABLE session_state (in_the_way int)");
    let before = shape(&db.url);
    let failed = PostgresStore::open(&db.url).unwrap_err();
    assert!(matches!(failed, Error::Storage { .. }), "{failed:?}");
    assert_eq!(
        shape(&db.url),
        before,
        "a failed upgrade left part of itself"
    );
    // Out of the way, the same database upgrades.
    common::admin(&db.url, "DROP TABLE session_state");
    drop(db.open());
    assert_eq!(version(&db.url), SCHEMA_VERSION.to_string());
}

#[test]
fn postgres_bad_urls_and_unreachable_servers_are_clear_errors() {
    assert!(matches!(
        PostgresStore::open("postgres://user@host:notaport/db").unwrap_err(),
        Error::InvalidInput { ref field, .. } if field == "db"
    ));
    // A closed port on loopback: Storage, quickly.
    let refused = PostgresStore::open("postgres://postgres@127.0.0.1:1/postgres").unwrap_err();
    assert!(matches!(refused, Error::Storage { .. }), "{refused:?}");
}

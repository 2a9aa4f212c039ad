//! The schema's versions: a new database is brought to `SCHEMA_VERSION`, opening again changes
//! nothing, concurrent first opens agree, a database from a newer build is refused untouched, a
//! table of one of our names that is not ours stops the upgrade before the version is written,
//! and an upgrade interrupted half-way (MySQL's DDL commits statement by statement) completes on
//! the next open.

mod common;

use sessionkit::Error;
use sessionkit_mysql::{MysqlStore, SCHEMA_VERSION};

/// The schema's shape: every column of every table, and every index, as text.
fn shape(url: &str) -> Vec<Vec<Option<String>>> {
    common::query_text(
        url,
        "SELECT table_name, column_name, column_type, is_nullable, column_default \
         FROM information_schema.columns WHERE table_schema = DATABASE() \
         UNION ALL SELECT table_name, index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index), \
         NULL, NULL FROM information_schema.statistics WHERE table_schema = DATABASE() \
         GROUP BY table_name, index_name ORDER BY 1, 2",
    )
}

fn version(url: &str) -> Option<String> {
    let tables = common::query_text(
        url,
        "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = 'sessionkit_schema'",
    );
    if tables[0][0].as_deref() == Some("0") {
        return None;
    }
    common::query_text(url, "SELECT version FROM sessionkit_schema")
        .first()
        .and_then(|row| row[0].clone())
}

#[test]
fn mysql_a_new_database_gets_the_current_schema_once() {
    let Some(server) = common::server_url("mysql_a_new_database_gets_the_current_schema_once")
    else {
        return;
    };
    let db = common::TestDb::create(&server);
    drop(db.open());
    assert_eq!(version(&db.url), Some(SCHEMA_VERSION.to_string()));
    let first = shape(&db.url);
    for index in ["sessions_by_user", "sessions_by_expiry"] {
        assert!(
            first.iter().any(|r| r[1].as_deref() == Some(index)),
            "{index} missing: {first:?}"
        );
    }
    drop(db.open());
    assert_eq!(shape(&db.url), first, "a second open changed the schema");
}

#[test]
fn mysql_concurrent_first_opens_all_succeed() {
    let Some(server) = common::server_url("mysql_concurrent_first_opens_all_succeed") else {
        return;
    };
    let db = common::TestDb::create(&server);
    let url = db.url.clone();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| MysqlStore::open(&url).map(drop)))
            .collect();
        for handle in handles {
            handle
                .join()
                .unwrap()
                .expect("every concurrent open succeeds");
        }
    });
    assert_eq!(version(&db.url), Some(SCHEMA_VERSION.to_string()));
}

#[test]
fn mysql_a_newer_schema_is_refused_untouched() {
    let Some(server) = common::server_url("mysql_a_newer_schema_is_refused_untouched") else {
        return;
    };
    let db = common::TestDb::create(&server);
    drop(db.open());
    let newer = SCHEMA_VERSION + 1;
    common::admin(
        &db.url,
        &[
            &format!("UPDATE sessionkit_schema SET version = {newer}"),
            "ALTER TABLE sessions ADD COLUMN from_the_future TEXT",
            "CREATE TABLE future_things (x INT)",
        ],
    );
    let before = shape(&db.url);
    let refused = MysqlStore::open(&db.url).unwrap_err();
    assert_eq!(
        refused,
        Error::IncompatibleSchema {
            found: newer,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(shape(&db.url), before, "the refused database was changed");
    assert_eq!(version(&db.url), Some(newer.to_string()));

    // Also when the version table is all there is (a negative version too).
    let bare = common::TestDb::create(&server);
    common::admin(
        &bare.url,
        &[
            "CREATE TABLE sessionkit_schema (one TINYINT PRIMARY KEY, version INT NOT NULL)",
            "INSERT INTO sessionkit_schema VALUES (1, -1)",
        ],
    );
    let before = shape(&bare.url);
    assert_eq!(
        MysqlStore::open(&bare.url).unwrap_err(),
        Error::IncompatibleSchema {
            found: -1,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(shape(&bare.url), before);
}

#[test]
fn mysql_a_table_in_the_way_stops_the_upgrade_before_the_version() {
    let Some(server) =
        common::server_url("mysql_a_table_in_the_way_stops_the_upgrade_before_the_version")
    else {
        return;
    };
    // A table of one of our names but not ours: `IF NOT EXISTS` keeps it, the shape check
    // refuses it, and the version is never written.
    let db = common::TestDb::create(&server);
    common::admin(&db.url, &["CREATE TABLE session_state (in_the_way INT)"]);
    let failed = MysqlStore::open(&db.url).unwrap_err();
    assert!(
        matches!(&failed, Error::Storage { message } if message.contains("session_state")),
        "{failed:?}"
    );
    assert_eq!(version(&db.url), None, "a failed upgrade wrote a version");
    // Opening again still refuses: the database is never taken as upgraded.
    assert!(MysqlStore::open(&db.url).is_err());
    // Out of the way, the same database upgrades.
    common::admin(&db.url, &["DROP TABLE session_state"]);
    drop(db.open());
    assert_eq!(version(&db.url), Some(SCHEMA_VERSION.to_string()));
}

#[test]
fn mysql_an_interrupted_upgrade_completes_on_the_next_open() {
    let Some(server) =
        common::server_url("mysql_an_interrupted_upgrade_completes_on_the_next_open")
    else {
        return;
    };
    // The state a crash after the first statements of step 1 leaves: the version table (empty)
    // and the sessions table exactly as the step makes them, nothing else.
    let reference = common::TestDb::create(&server);
    drop(reference.open());
    let create_sessions = common::query_text(&reference.url, "SHOW CREATE TABLE sessions")[0][1]
        .clone()
        .unwrap();
    let create_schema = common::query_text(&reference.url, "SHOW CREATE TABLE sessionkit_schema")
        [0][1]
        .clone()
        .unwrap();
    let db = common::TestDb::create(&server);
    common::admin(&db.url, &[&create_schema, &create_sessions]);
    assert_eq!(version(&db.url), None);
    drop(db.open());
    assert_eq!(version(&db.url), Some(SCHEMA_VERSION.to_string()));
    assert_eq!(shape(&db.url), shape(&reference.url));
}

#[test]
fn mysql_a_version_1_database_upgrades_with_its_sessions() {
    let Some(server) = common::server_url("mysql_a_version_1_database_upgrades_with_its_sessions")
    else {
        return;
    };
    let reference = common::TestDb::create(&server);
    drop(reference.open());
    // A database as version 1 left it (no events table), with a session in it.
    let db = common::TestDb::create(&server);
    let store = db.open();
    let manager = sessionkit::SessionManager::open(store, sessionkit::Config::default()).unwrap();
    let created = pollster::block_on(manager.create(sessionkit::NewSession::new(
        "alice",
        sessionkit::ClientKind::Web,
    )))
    .unwrap();
    drop(manager);
    common::admin(
        &db.url,
        &[
            "DROP TABLE sessionkit_events",
            "UPDATE sessionkit_schema SET version = 1",
        ],
    );
    let store = db.open();
    assert_eq!(version(&db.url), Some(SCHEMA_VERSION.to_string()));
    assert_eq!(shape(&db.url), shape(&reference.url));
    let manager = sessionkit::SessionManager::open(store, sessionkit::Config::default()).unwrap();
    let session = pollster::block_on(manager.validate(created.token.as_str())).unwrap();
    assert_eq!(session.id, created.session.id);
}

#[test]
fn mysql_bad_urls_and_unreachable_servers_are_clear_errors() {
    assert!(matches!(
        MysqlStore::open("mysql://user@host:notaport/db").unwrap_err(),
        Error::InvalidInput { ref field, .. } if field == "db"
    ));
    assert!(matches!(
        MysqlStore::open("mysql://root@127.0.0.1:3306").unwrap_err(),
        Error::InvalidInput { ref field, .. } if field == "db"
    ));
    // A closed port on loopback: Storage, quickly.
    let refused = MysqlStore::open("mysql://root@127.0.0.1:1/db").unwrap_err();
    assert!(matches!(refused, Error::Storage { .. }), "{refused:?}");
}

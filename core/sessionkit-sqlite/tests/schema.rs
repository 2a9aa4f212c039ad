//! Schema versioning: a fresh database is at the latest version with the expected tables and
//! indexes; reopening is harmless; a newer database is refused untouched; a file that is not a
//! database is a typed error.

mod common;

use rusqlite::Connection;
use sessionkit::{Error, ErrorKind, SessionStore};
use sessionkit_sqlite::{SqliteStore, SCHEMA_VERSION};

fn user_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

/// `(type, name, sql)` of every schema object, in name order.
fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name")
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_fresh_database_has_the_latest_schema() {
    let (_dir, path, store) = common::temp_store();
    assert_eq!(SCHEMA_VERSION, 4);
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn), SCHEMA_VERSION);
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal, "wal");

    let objects = schema(&conn);
    let names: Vec<(&str, &str)> = objects
        .iter()
        .filter(|(_, name, _)| !name.starts_with("sqlite_"))
        .map(|(kind, name, _)| (kind.as_str(), name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("table", "client_replicas"),
            ("table", "session_state"),
            ("table", "sessions"),
            ("index", "sessions_by_expiry"),
            ("index", "sessions_by_user"),
        ]
    );
    for (_, name, sql) in &objects {
        if name != "sessions_by_expiry" && name != "sessions_by_user" {
            assert!(sql.as_deref().unwrap().contains("WITHOUT ROWID"), "{name}");
        }
    }
    drop(store);
}

#[test]
fn opening_twice_is_harmless() {
    let (_dir, path, first) = common::temp_store();
    pollster::block_on(first.insert_session(&common::record(common::id(1), "u", 10, 20), None))
        .unwrap();
    // Concurrently with the first, then again after it closed.
    let second = SqliteStore::open(&path).unwrap();
    assert!(pollster::block_on(second.get_session(&common::id(1)))
        .unwrap()
        .is_some());
    drop(first);
    drop(second);
    let before = schema(&Connection::open(&path).unwrap());
    let third = SqliteStore::open(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn), SCHEMA_VERSION);
    assert_eq!(schema(&conn), before);
    assert_eq!(
        pollster::block_on(third.count_sessions(None, None)).unwrap(),
        1
    );
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    for journal in ["DELETE", "WAL"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "journal_mode", journal).unwrap();
            conn.execute_batch(
                "CREATE TABLE sessions (anything TEXT);
                 INSERT INTO sessions VALUES ('from the future');
                 PRAGMA user_version = 99;",
            )
            .unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();

        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(
            err,
            Error::IncompatibleSchema {
                found: 99,
                supported: SCHEMA_VERSION
            },
            "{journal}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{journal}");
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn), 99);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode.to_uppercase(), journal);
    }
}

#[test]
fn a_negative_version_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("negative.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = -3;")
        .unwrap();
    assert_eq!(
        SqliteStore::open(&path).unwrap_err().kind(),
        ErrorKind::IncompatibleSchema
    );
}

#[test]
fn a_file_that_is_not_a_database_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut noise = vec![0u8; 8192];
    let mut x: u32 = 0x2545_f491;
    for b in &mut noise {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let cases: [(&str, &[u8]); 3] = [
        ("noise.db", &noise),
        ("notes.txt", b"these are my notes, not a database\n"),
        (
            "header.db",
            b"SQLite format 3\0garbage after a plausible header",
        ),
    ];
    for (name, content) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(err.kind() == ErrorKind::Corrupt, "{name}: {err:?}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            content,
            "{name} was modified"
        );
    }
}

#[test]
fn an_unopenable_path_is_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory, and a file in a directory that does not exist.
    for path in [dir.path().to_path_buf(), dir.path().join("missing/x.db")] {
        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "{path:?}: {err:?}");
    }
}

#[test]
fn an_empty_file_becomes_a_fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    drop(SqliteStore::open(&path).unwrap());
    assert_eq!(
        user_version(&Connection::open(&path).unwrap()),
        SCHEMA_VERSION
    );
}

#[test]
fn upgrading_keeps_unrelated_tables_and_matches_a_fresh_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept');")
        .unwrap();
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn), SCHEMA_VERSION);
    let body: String = conn
        .query_row("SELECT body FROM notes", [], |row| row.get(0))
        .unwrap();
    assert_eq!(body, "kept");

    let (_fresh_dir, fresh_path, _fresh) = common::temp_store();
    let fresh = schema(&Connection::open(&fresh_path).unwrap());
    let upgraded: Vec<_> = schema(&conn)
        .into_iter()
        .filter(|(_, name, _)| name != "notes")
        .collect();
    assert_eq!(upgraded, fresh);
}

#[test]
fn a_failed_upgrade_changes_no_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clash.db");
    // Another application's `sessions` table: the upgrade must fail as a whole.
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE sessions (sid TEXT PRIMARY KEY);")
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn), 0);
    let objects: Vec<String> = schema(&conn).into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(objects, ["sessions", "sqlite_autoindex_sessions_1"]);
}

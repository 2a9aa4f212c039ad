//! Schema upgrades from every past version, refusal of a newer one, and corrupt files.
//!
//! `tests/fixtures/v<N>.db` is a database as a build at schema version N left it, with
//! sessions and states in it, and `v<N>.json` says what is in it (tokens, users, states, the
//! time it was made at). Every version below [`SCHEMA_VERSION`] must have one: when a migration
//! is added, generate the fixture of the version it upgrades from with
//!
//! ```sh
//! cargo test -p sessionkit-sqlite --test migrations -- --ignored generate_missing_fixtures
//! ```
//!
//! which writes each missing `v<N>` (existing fixtures are never rewritten). A fixture's schema is
//! made by running exactly `migrations/001…N` on an empty file; its rows are made by the current
//! engine and copied in column by column (the columns version N has), so the sessions are real:
//! their tokens validate and their state blobs decode.
//!
//! Files that are not sound databases give typed errors, never a panic. An empty file is a valid
//! new database (SQLite treats a zero-length file as an empty database; that is how `touch
//! sessions.db` or an interrupted first open leaves it), so opening it creates the schema.

#[path = "support/dump.rs"]
mod dump;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pollster::block_on;
use rusqlite::Connection;
use serde_json::{json, Value};
use sessionkit::{
    ClientKind, Config, Error, ErrorKind, ListOptions, ManualClock, NewSession, SessionId,
    SessionManager,
};
use sessionkit_sqlite::{SqliteStore, SCHEMA_VERSION};

/// When fixtures are made; tests read them with a manual clock set to this time.
const FIXTURE_NOW: i64 = 1_700_000_000_000;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The migration scripts in order, read from `migrations/` (`NNN_name.sql`).
fn migration_scripts() -> Vec<(i64, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut scripts: Vec<(i64, String)> = std::fs::read_dir(&dir)
        .expect("migrations directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let number: i64 = name[..3].parse().expect("NNN_ prefix");
            (number, std::fs::read_to_string(&path).expect("read script"))
        })
        .collect();
    scripts.sort();
    let numbers: Vec<i64> = scripts.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        (1..=SCHEMA_VERSION).collect::<Vec<_>>(),
        "one script per schema version"
    );
    scripts
}

// ---- normalised schema ---------------------------------------------------------------------

fn strings(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let width = stmt.column_count();
    stmt.query_map([], |row| {
        (0..width)
            .map(|i| {
                row.get_ref(i).map(|v| match v {
                    rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                    rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                    rusqlite::types::ValueRef::Real(r) => r.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(b) => format!("{b:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The schema as structure: each table's kind, columns, foreign keys and indexes (with their
/// columns and order), and each object's SQL with whitespace collapsed.
fn normalised_schema(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let tables = strings(
        conn,
        "SELECT name, type, ncol, wr, strict FROM pragma_table_list \
         WHERE schema = 'main' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    for table in &tables {
        let name = &table[0];
        out.push(format!("table {table:?}"));
        for column in strings(
            conn,
            &format!("SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{name}') ORDER BY cid"),
        ) {
            out.push(format!("  column {column:?}"));
        }
        for fk in strings(
            conn,
            &format!("SELECT \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list('{name}') ORDER BY id, seq"),
        ) {
            out.push(format!("  foreign key {fk:?}"));
        }
        for index in strings(
            conn,
            &format!("SELECT name, \"unique\", origin, partial FROM pragma_index_list('{name}') ORDER BY name"),
        ) {
            out.push(format!("  index {index:?}"));
            for column in strings(
                conn,
                &format!("SELECT seqno, name, \"desc\", coll, key FROM pragma_index_xinfo('{}') ORDER BY seqno", index[0]),
            ) {
                out.push(format!("    {column:?}"));
            }
        }
    }
    for object in strings(
        conn,
        "SELECT type, name, tbl_name, sql FROM sqlite_schema \
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    ) {
        let sql = object[3].split_whitespace().collect::<Vec<_>>().join(" ");
        out.push(format!(
            "{} {} on {}: {sql}",
            object[0], object[1], object[2]
        ));
    }
    out
}

fn fresh_schema() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    drop(SqliteStore::open(&path).unwrap());
    normalised_schema(&Connection::open(&path).unwrap())
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

// ---- fixtures --------------------------------------------------------------------------------

/// What a fixture holds, as its `v<N>.json` records it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct FixtureSession {
    user_id: String,
    token: String,
    revoked: bool,
    state: Option<Value>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct FixtureInfo {
    schema_version: i64,
    now_ms: i64,
    how_made: String,
    sessions: Vec<FixtureSession>,
}

/// Makes the sessions of a fixture with the current engine in `source`, returning what it made.
fn populate(source: &Path) -> Vec<FixtureSession> {
    let clock = ManualClock::new(FIXTURE_NOW - 60_000);
    let store = SqliteStore::open(source).unwrap();
    let m = SessionManager::open_with_clock(
        Arc::new(store),
        Config::default(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let mut made = Vec::new();
    let mut add = |new: NewSession, state: Option<Value>, revoked: bool| {
        let user_id = new.user_id.clone();
        let created = block_on(m.create(new)).unwrap();
        let id = created.session.id;
        if let Some(state) = &state {
            block_on(m.put_state(&id, state, Some(0))).unwrap();
        }
        if revoked {
            block_on(m.revoke(&id)).unwrap();
        }
        made.push(FixtureSession {
            user_id,
            token: created.token.as_str().to_owned(),
            revoked,
            state,
        });
        clock.advance(1_000);
    };
    let mut desktop = NewSession::new("alice", ClientKind::Desktop);
    desktop.device = Some("Workstation".into());
    desktop.client_version = Some("4.2.0".into());
    desktop.metadata = Some(json!({ "theme": "dark", "tags": ["work"] }));
    add(
        desktop,
        Some(json!({ "tab": "inbox", "drafts": [{ "to": "bob", "body": "hi" }] })),
        false,
    );
    let mut phone = NewSession::new("alice", ClientKind::Mobile);
    phone.ip = Some("2001:db8::7".into());
    // Above the 10 KiB threshold: stored compressed.
    let history: Vec<String> = (0..600).map(|i| format!("message {i}")).collect();
    add(phone, Some(json!({ "history": history })), false);
    let mut browser = NewSession::new("bob", ClientKind::Web);
    browser.user_agent = Some("Mozilla/5.0 (X11; Linux x86_64)".into());
    add(browser, Some(json!({ "cart": [1, 2, 3] })), true);
    let mut cli = NewSession::new("carol", ClientKind::Other);
    cli.ip = Some("192.0.2.10".into());
    add(cli, None, false);
    add(
        NewSession::new("🙂 dave", ClientKind::Web),
        Some(json!("just a string")),
        false,
    );
    made
}

/// Writes `v<version>.db` and `v<version>.json` into `dir`.
fn generate_fixture(version: i64, dir: &Path) {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source.db");
    let sessions = populate(&source);

    let target = dir.join(format!("v{version}.db"));
    let conn = Connection::open(&target).unwrap();
    // A store at this version switched the file to WAL, as the current one does.
    let _: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .unwrap();
    for (_, sql) in migration_scripts().iter().take(version as usize) {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", version).unwrap();
    conn.execute("ATTACH DATABASE ?1 AS source", [source.to_str().unwrap()])
        .unwrap();
    for table in ["sessions", "session_state"] {
        let columns: Vec<String> = strings(
            &conn,
            &format!("SELECT name FROM main.pragma_table_info('{table}') ORDER BY cid"),
        )
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
        let list = columns.join(", ");
        conn.execute_batch(&format!(
            "INSERT INTO main.{table} ({list}) SELECT {list} FROM source.{table}"
        ))
        .unwrap();
    }
    conn.execute_batch("DETACH DATABASE source; VACUUM;")
        .unwrap();
    drop(conn);

    let info = FixtureInfo {
        schema_version: version,
        now_ms: FIXTURE_NOW,
        how_made: "cargo test -p sessionkit-sqlite --test migrations -- --ignored \
                   generate_missing_fixtures (migrations 001..N on an empty file, rows made by \
                   the engine and copied in)"
            .into(),
        sessions,
    };
    std::fs::write(
        dir.join(format!("v{version}.json")),
        serde_json::to_string_pretty(&info).unwrap() + "\n",
    )
    .unwrap();
}

#[test]
#[ignore = "writes fixtures into the source tree; run by hand after adding a migration"]
fn generate_missing_fixtures() {
    let dir = fixtures_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for version in 1..SCHEMA_VERSION {
        if !dir.join(format!("v{version}.db")).exists() {
            generate_fixture(version, &dir);
            println!("wrote v{version}.db and v{version}.json");
        }
    }
}

/// Checks one fixture: it upgrades to the current schema and everything in it still works.
fn check_fixture(version: i64, db: &Path, info: &FixtureInfo) {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("upgraded.db");
    std::fs::copy(db, &path).unwrap();
    assert_eq!(
        user_version(&path),
        version,
        "v{version}.db is at its version"
    );
    assert_eq!(info.schema_version, version);

    let clock = ManualClock::new(info.now_ms);
    let store = SqliteStore::open(&path).unwrap_or_else(|e| panic!("v{version}: {e}"));
    let m = SessionManager::open_with_clock(
        Arc::new(store),
        Config::default(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    assert_eq!(user_version(&path), SCHEMA_VERSION, "v{version}: upgraded");
    assert_eq!(
        normalised_schema(&Connection::open(&path).unwrap()),
        fresh_schema(),
        "v{version}: the upgraded schema is a fresh database's"
    );

    for s in &info.sessions {
        let id = SessionId::parse(&s.token[..SessionId::TEXT_LEN]).unwrap();
        match block_on(m.validate(&s.token)) {
            Ok(session) => {
                assert!(!s.revoked, "v{version}: revoked session validated");
                assert_eq!(session.user_id, s.user_id);
                assert_eq!(session.id, id);
            }
            Err(Error::Revoked) => assert!(s.revoked, "v{version}: {} revoked", s.user_id),
            Err(e) => panic!("v{version}: {}: {e:?}", s.user_id),
        }
        let state = block_on(m.get_state(&id)).unwrap();
        assert_eq!(
            state.as_ref().map(|st| &st.data),
            s.state.as_ref(),
            "v{version}: state of {}",
            s.user_id
        );
        if let Some(state) = state {
            assert_eq!(state.version, 1);
        }
    }
    let mut users: Vec<&str> = info.sessions.iter().map(|s| s.user_id.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    for user in users {
        let page = block_on(m.list_user_sessions(user, &ListOptions::default())).unwrap();
        let stored = info.sessions.iter().filter(|s| s.user_id == user).count();
        assert_eq!(page.items.len(), stored, "v{version}: sessions of {user}");
    }
    let live = info.sessions.iter().filter(|s| !s.revoked).count();
    assert_eq!(block_on(m.count_active()).unwrap() as usize, live);

    // The upgraded data takes new writes under the current rules: after a clear, the next
    // version continues from the cleared one.
    let first = info
        .sessions
        .iter()
        .find(|s| !s.revoked && s.state.is_some())
        .expect("a live session with state");
    let id = SessionId::parse(&first.token[..SessionId::TEXT_LEN]).unwrap();
    assert_eq!(
        block_on(m.put_state(&id, &json!({ "after": "upgrade" }), Some(1))).unwrap(),
        2
    );
    block_on(m.clear_state(&id)).unwrap();
    assert_eq!(
        block_on(m.put_state(&id, &json!({ "again": true }), Some(0))).unwrap(),
        3
    );
    // The metadata compare-and-swap works on upgraded rows (their revision starts at 0).
    let updated = block_on(m.update_metadata(&id, &json!({ "upgraded": version }))).unwrap();
    assert_eq!(updated.metadata["upgraded"], version);
    let rotated = block_on(m.rotate(&id)).unwrap();
    assert_eq!(rotated.session.metadata["upgraded"], version);
    assert_eq!(
        block_on(m.get_state(&rotated.session.id))
            .unwrap()
            .unwrap()
            .version,
        3
    );
    block_on(m.create(NewSession::new("new-after-upgrade", ClientKind::Web))).unwrap();
}

#[test]
fn every_past_schema_version_has_a_fixture_that_upgrades_to_a_fresh_schema() {
    let dir = fixtures_dir();
    let past: Vec<i64> = (1..SCHEMA_VERSION).collect();
    assert!(!past.is_empty(), "there is a past version to upgrade from");
    for version in past {
        let db = dir.join(format!("v{version}.db"));
        let info = dir.join(format!("v{version}.json"));
        assert!(
            db.exists() && info.exists(),
            "missing fixture v{version}: run `cargo test -p sessionkit-sqlite --test migrations \
             -- --ignored generate_missing_fixtures` and commit tests/fixtures/v{version}.*"
        );
        let info: FixtureInfo =
            serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
        check_fixture(version, &db, &info);
    }
    // Nothing else lies in the directory: a fixture per past version, no more.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = (1..SCHEMA_VERSION)
        .flat_map(|v| [format!("v{v}.db"), format!("v{v}.json")])
        .collect();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn the_fixture_generator_reproduces_the_committed_schema() {
    // The generator (run by hand) must make what the committed fixtures hold, so a fixture
    // made later for a new version is made the same way.
    let work = tempfile::tempdir().unwrap();
    for version in 1..SCHEMA_VERSION {
        generate_fixture(version, work.path());
        let made = Connection::open(work.path().join(format!("v{version}.db"))).unwrap();
        let committed_copy = work.path().join("committed.db");
        std::fs::copy(
            fixtures_dir().join(format!("v{version}.db")),
            &committed_copy,
        )
        .unwrap();
        let committed = Connection::open(&committed_copy).unwrap();
        assert_eq!(normalised_schema(&made), normalised_schema(&committed));
        let count = |c: &Connection| -> i64 {
            c.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count(&made), count(&committed));
    }
}

// ---- a newer database ----------------------------------------------------------------------

#[test]
fn a_database_one_version_newer_is_refused_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let m = SessionManager::open(Arc::new(store), Config::default()).unwrap();
        let c = block_on(m.create(NewSession::new("alice", ClientKind::Web))).unwrap();
        block_on(m.put_state(&c.session.id, &json!({ "k": 1 }), None)).unwrap();
    }
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let before = dump::dump(&path);

    for _ in 0..2 {
        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(
            err,
            Error::IncompatibleSchema {
                found: SCHEMA_VERSION + 1,
                supported: SCHEMA_VERSION
            }
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("found version {}", SCHEMA_VERSION + 1))
                && message.contains(&format!("supports up to {SCHEMA_VERSION}")),
            "{message}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "the file was modified"
        );
    }
    // No journal was left with anything in it either.
    let wal = dir.path().join("newer.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    assert!(dump::dump(&path) == before);
}

// ---- corrupt files ---------------------------------------------------------------------------

/// Deterministic noise.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A closed (checkpointed) database of several pages: sessions of a few users, with states.
fn populated_database(dir: &Path) -> (PathBuf, Vec<String>) {
    let path = dir.join("populated.db");
    let clock = ManualClock::new(FIXTURE_NOW);
    let store = SqliteStore::open(&path).unwrap();
    let m = SessionManager::open_with_clock(Arc::new(store), Config::default(), Arc::new(clock))
        .unwrap();
    let mut tokens = Vec::new();
    for n in 0..60 {
        let c = block_on(m.create(NewSession::new(format!("user-{}", n % 5), ClientKind::Web)))
            .unwrap();
        let history: Vec<u32> = (0..n * 8).collect();
        block_on(m.put_state(&c.session.id, &json!({ "n": n, "history": history }), None)).unwrap();
        tokens.push(c.token.as_str().to_owned());
    }
    drop(m);
    // One connection closing last checkpoints the WAL into the file and removes it.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .unwrap();
    drop(conn);
    assert!(
        !dir.join("populated.db-wal").exists() || {
            std::fs::metadata(dir.join("populated.db-wal"))
                .unwrap()
                .len()
                == 0
        }
    );
    (path, tokens)
}

/// Opens `path` and runs every read and a few writes; every failure must be `Corrupt` or
/// `Storage`. Returns the errors seen.
fn exercise(path: &Path, tokens: &[String]) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut check = |result: sessionkit::Result<()>| {
        if let Err(e) = result {
            assert!(
                matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::Storage),
                "untyped failure on a damaged file: {e:?}"
            );
            errors.push(e);
        }
    };
    let store = match SqliteStore::open(path) {
        Ok(store) => store,
        Err(e) => {
            check(Err(e));
            return errors;
        }
    };
    // The sync client's replicas (a device's table; empty here, but its page is read).
    check(block_on(sessionkit::ReplicaStore::load_replica(&store, "device")).map(drop));
    let clock = ManualClock::new(FIXTURE_NOW);
    let m = SessionManager::open_with_clock(Arc::new(store), Config::default(), Arc::new(clock))
        .unwrap();
    for token in tokens {
        match block_on(m.validate(token)) {
            Ok(session) => check(block_on(m.get_state(&session.id)).map(drop)),
            // A damaged row may read as a different (or no) secret.
            Err(Error::InvalidToken) => {}
            Err(e) => check(Err(e)),
        }
    }
    for user in 0..5 {
        check(
            block_on(m.list_user_sessions(
                &format!("user-{user}"),
                &ListOptions {
                    limit: 1000,
                    ..ListOptions::default()
                },
            ))
            .map(drop),
        );
    }
    check(block_on(m.count_active()).map(drop));
    check(block_on(m.stats()).map(drop));
    let mut after = None;
    loop {
        match block_on(m.export(after.as_ref(), 50)) {
            Ok(page) if page.is_empty() => break,
            Ok(page) => after = Some(page.last().unwrap().session.id),
            Err(e) => {
                check(Err(e));
                break;
            }
        }
    }
    check(block_on(m.cleanup_expired()).map(drop));
    check(block_on(m.create(NewSession::new("late", ClientKind::Other))).map(drop));
    errors
}

#[test]
fn a_valid_database_with_any_page_overwritten_gives_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (good, tokens) = populated_database(dir.path());
    let bytes = std::fs::read(&good).unwrap();
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let pages = bytes.len() / page_size;
    assert!(pages >= 8, "the database spans {pages} pages");
    println!("{pages} pages of {page_size} bytes");
    assert!(exercise(&good, &tokens).is_empty(), "the intact file works");

    let mut undetected = Vec::new();
    for page in 0..pages {
        let path = dir.path().join(format!("page-{page}.db"));
        let mut damaged = bytes.clone();
        damaged[page * page_size..(page + 1) * page_size]
            .copy_from_slice(&noise(page_size, page as u32 + 7));
        std::fs::write(&path, &damaged).unwrap();
        let errors = exercise(&path, &tokens);
        if page == 0 {
            assert!(
                errors.iter().any(|e| e.kind() == ErrorKind::Corrupt),
                "a destroyed header is Corrupt: {errors:?}"
            );
        }
        if !errors.iter().any(|e| e.kind() == ErrorKind::Corrupt) {
            undetected.push(page);
        }
    }
    // Every page belongs to a table or an index the calls above read, so every overwrite is
    // noticed and reported as Corrupt.
    assert!(undetected.is_empty(), "pages {undetected:?} of {pages}");
}

#[test]
fn truncated_and_foreign_files_give_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (good, tokens) = populated_database(dir.path());
    let bytes = std::fs::read(&good).unwrap();
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "half of the pages",
            bytes[..bytes.len() / 2 / page_size * page_size].to_vec(),
        ),
        ("one page", bytes[..page_size].to_vec()),
        ("half a page", bytes[..page_size / 2].to_vec()),
        ("the header only", bytes[..100].to_vec()),
        ("50 bytes", bytes[..50].to_vec()),
        ("random bytes", noise(16_384, 99)),
        (
            "a text file",
            b"these are my notes, not a database\n".repeat(200),
        ),
        ("a JSON file", br#"{"sessions": []}"#.to_vec()),
    ];
    for (name, content) in cases {
        let path = dir.path().join("damaged.db");
        std::fs::write(&path, &content).unwrap();
        let errors = exercise(&path, &tokens);
        assert!(!errors.is_empty(), "{name}: a damaged file went unnoticed");
        assert!(
            errors.iter().any(|e| e.kind() == ErrorKind::Corrupt),
            "{name}: {errors:?}"
        );
        let _ = std::fs::remove_file(dir.path().join("damaged.db-wal"));
        let _ = std::fs::remove_file(dir.path().join("damaged.db-shm"));
    }
}

#[test]
fn an_empty_file_is_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let m = SessionManager::open(Arc::new(store), Config::default()).unwrap();
    let c = block_on(m.create(NewSession::new("alice", ClientKind::Web))).unwrap();
    assert_eq!(
        block_on(m.validate(c.token.as_str())).unwrap().user_id,
        "alice"
    );
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert_eq!(
        normalised_schema(&Connection::open(&path).unwrap()),
        fresh_schema()
    );
}

#[test]
fn a_state_blob_with_a_flipped_bit_is_corrupt_and_nothing_else_is_affected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flipped.db");
    let store = SqliteStore::open(&path).unwrap();
    let m = SessionManager::open(Arc::new(store), Config::default()).unwrap();
    let small = block_on(m.create(NewSession::new("alice", ClientKind::Web))).unwrap();
    let large = block_on(m.create(NewSession::new("alice", ClientKind::Mobile))).unwrap();
    block_on(m.put_state(&small.session.id, &json!({ "tab": "inbox" }), None)).unwrap();
    let lines: Vec<String> = (0..2000).map(|i| format!("line {i}")).collect();
    block_on(m.put_state(&large.session.id, &json!({ "lines": lines }), None)).unwrap();
    assert!(
        block_on(m.get_state(&large.session.id))
            .unwrap()
            .unwrap()
            .compressed
    );

    let conn = Connection::open(&path).unwrap();
    let read_blob = |id: &SessionId| -> Vec<u8> {
        conn.query_row(
            "SELECT blob FROM session_state WHERE session_id = ?1",
            [id.as_bytes().as_slice()],
            |row| row.get(0),
        )
        .unwrap()
    };
    let write_blob = |id: &SessionId, blob: &[u8]| {
        conn.execute(
            "UPDATE session_state SET blob = ?2 WHERE session_id = ?1",
            rusqlite::params![id.as_bytes().as_slice(), blob],
        )
        .unwrap();
    };
    for session in [&small, &large] {
        let id = session.session.id;
        let original = read_blob(&id);
        // Header (magic, version, codec, length, checksum) and payload: first, middle, last.
        let positions = [0, 4, 5, 6, 14, 18, original.len() / 2, original.len() - 1];
        for position in positions {
            for bit in [0, 7] {
                let mut flipped = original.clone();
                flipped[position] ^= 1 << bit;
                write_blob(&id, &flipped);
                let err = block_on(m.get_state(&id)).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Corrupt, "byte {position} bit {bit}");
                assert!(err.to_string().starts_with("corrupt data: state"), "{err}");
                // A patch reads the state first: refused, and the damaged blob stays as it is.
                let err = block_on(m.patch_state(&id, &json!({ "x": 1 }), None)).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Corrupt);
                assert_eq!(read_blob(&id), flipped);
                // The session itself is unaffected.
                assert!(block_on(m.validate(session.token.as_str())).is_ok());
            }
        }
        write_blob(&id, &original);
        assert!(block_on(m.get_state(&id)).unwrap().is_some());
    }
}

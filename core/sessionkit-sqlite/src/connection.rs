//! Opening and configuring connections: the version check that must precede any write, the
//! pragmas every connection gets, and the writer's WAL switch and schema upgrade.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sessionkit::Error;

use crate::error::StoreResult;
use crate::migrations;

/// How long a connection waits for another's lock before failing with `Storage`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_millis(5_000);

/// Prepared statements kept per connection: more than the store has, so none is re-prepared.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// Refuses an existing database written by a newer (or unknown) schema, opening it read-only
/// so that nothing — not even the journal mode — is changed. A file that is not a SQLite
/// database is `Corrupt`. A missing file passes (it will be created).
pub(crate) fn check_existing(path: &Path) -> StoreResult<()> {
    if !path.try_exists().unwrap_or(true) {
        return Ok(());
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    match migrations::read_version(&conn) {
        Ok(found) => Ok(migrations::check_supported(found)?),
        // A hot journal needs a read-write connection to be rolled back first; the writer
        // checks the version again before it writes anything.
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Opens the one writer: creates a missing file owner-only, checks the version again (still
/// without writing), switches to WAL, sets the pragmas and upgrades the schema.
pub(crate) fn open_writer(path: &Path) -> StoreResult<Connection> {
    crate::private_file::create_if_missing(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    migrations::check_supported(migrations::read_version(&conn)?)?;

    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal_mode = %mode, "sqlite did not switch to WAL; readers may block");
    }
    configure(&conn)?;
    let mut conn = conn;
    let found = migrations::migrate(&mut conn)?;
    if found != migrations::SCHEMA_VERSION {
        tracing::info!(
            from = found,
            to = migrations::SCHEMA_VERSION,
            "sessionkit sqlite schema upgraded"
        );
    }
    Ok(conn)
}

/// Opens the connection that runs checkpoints for the writer (read-write, schema untouched:
/// the writer opened first has already checked and upgraded it).
pub(crate) fn open_checkpointer(path: &Path) -> StoreResult<Connection> {
    open_configured(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
}

/// Opens a reader. Read-only at the SQLite level, so no read path can write.
pub(crate) fn open_reader(path: &Path) -> StoreResult<Connection> {
    open_configured(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
}

/// Opens an existing database with `flags`, the busy timeout and the pragmas.
fn open_configured(path: &Path, flags: OpenFlags) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    configure(&conn)?;
    Ok(conn)
}

/// The pragmas every connection gets (none of them writes to the file).
fn configure(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // State rows are removed with their session by `ON DELETE CASCADE`: insist it is on.
    let foreign_keys: i64 = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    if foreign_keys != 1 {
        return Err(Error::storage("this SQLite build cannot enforce foreign keys").into());
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(())
}

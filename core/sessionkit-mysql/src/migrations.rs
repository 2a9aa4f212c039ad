//! The schema and its upgrades: numbered SQL files under `migrations/`, tracked in the one-row
//! table `sessionkit_schema`.
//!
//! Version *n* is reached by running file *n* on a database at version *n − 1*. The version is
//! first read without writing anything: a database at a version this build does not know (newer,
//! or negative) is refused with [`Error::IncompatibleSchema`] untouched.
//!
//! MySQL commits every DDL statement on its own, so an upgrade cannot be one transaction as on
//! PostgreSQL. It is kept safe instead by:
//!
//! 1. **one upgrader at a time**: a named lock (`GET_LOCK`, held by the connection, scoped to the
//!    database's name) serialises upgrades between processes; the version is read again under
//!    it;
//! 2. **idempotent steps**: every statement of a step is `CREATE TABLE IF NOT EXISTS` with its
//!    indexes inside, so a step interrupted half-way (a crash, a lost connection) is simply run
//!    again from its start by the next open;
//! 3. **a shape check**: after the steps, every table must have exactly the columns and indexes
//!    this version defines — a table of the same name left by something else is refused
//!    (`Storage`) rather than taken for ours;
//! 4. **the version row written last**, only once all of the above succeeded: a database is
//!    at version *n* only when the whole of step *n* is there.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use sessionkit::Error;

use crate::error::StoreResult;

/// The upgrade steps, in order: `MIGRATIONS[n - 1]` takes a database from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_initial.sql"),
    include_str!("../migrations/002_events.sql"),
];

/// The newest schema version this build writes (and the only one it reads).
// The list is a handful of entries, so the cast cannot truncate.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The tables of [`SCHEMA_VERSION`] with their columns, in order.
const TABLES: &[(&str, &[&str])] = &[
    ("sessionkit_schema", &["one", "version"]),
    (
        "sessions",
        &[
            "id",
            "token_hash",
            "user_id",
            "created_at",
            "last_active_at",
            "expires_at",
            "absolute_expires_at",
            "client_kind",
            "client_version",
            "device",
            "ip",
            "user_agent",
            "active",
            "metadata",
            "metadata_revision",
            "cleared_state_version",
        ],
    ),
    (
        "session_state",
        &["session_id", "version", "data", "updated_at"],
    ),
    ("sessionkit_users", &["user_id"]),
    (
        "sessionkit_events",
        &["seq", "origin", "created_at", "payload"],
    ),
];

/// The indexes of [`SCHEMA_VERSION`] (besides primary keys), by table.
const INDEXES: &[(&str, &str)] = &[
    ("sessions", "sessions_by_user"),
    ("sessions", "sessions_by_expiry"),
    ("sessionkit_events", "sessionkit_events_by_time"),
];

/// How long an open waits for another process's upgrade, in seconds.
const LOCK_WAIT_SECONDS: u32 = 60;

/// The statements of one step: split at each `;` that ends a line; comments dropped.
fn statements(step: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in step.lines() {
        let code = line.trim_start();
        if code.starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            let statement = current.trim().trim_end_matches(';').trim().to_owned();
            if !statement.is_empty() {
                out.push(statement);
            }
            current.clear();
        }
    }
    let rest = current.trim();
    if !rest.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

/// The database's schema version (0 when it has no sessionkit table). Reads only.
async fn read_version(conn: &mut Conn) -> StoreResult<i64> {
    let exists: Option<i64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = 'sessionkit_schema'",
        )
        .await?;
    if exists.unwrap_or(0) == 0 {
        return Ok(0);
    }
    let version: Option<i64> = conn
        .query_first("SELECT version FROM sessionkit_schema")
        .await?;
    Ok(version.unwrap_or(0))
}

/// Refuses a version this build cannot read.
pub(crate) fn check_supported(found: i64) -> Result<(), Error> {
    if (0..=SCHEMA_VERSION).contains(&found) {
        Ok(())
    } else {
        Err(Error::IncompatibleSchema {
            found,
            supported: SCHEMA_VERSION,
        })
    }
}

/// Brings the database up to [`SCHEMA_VERSION`]; does nothing when it is there already.
/// Returns the version found.
pub(crate) async fn migrate(conn: &mut Conn) -> StoreResult<i64> {
    if conn.opts().db_name().is_none() {
        return Err(Error::invalid_input(
            "db",
            "the URL names no database (mysql://user@host:port/DATABASE)",
        )
        .into());
    }
    let found = read_version(conn).await?;
    check_supported(found)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    let locked: Option<Option<i64>> = conn
        .exec_first(
            "SELECT GET_LOCK(CONCAT('sessionkit_schema:', DATABASE()), ?)",
            (LOCK_WAIT_SECONDS,),
        )
        .await?;
    if locked.flatten() != Some(1) {
        return Err(Error::storage(format!(
            "mysql: another process held the schema upgrade lock for {LOCK_WAIT_SECONDS} s"
        ))
        .into());
    }
    let upgraded = upgrade(conn).await;
    let released = conn
        .query_drop("DO RELEASE_LOCK(CONCAT('sessionkit_schema:', DATABASE()))")
        .await;
    let found = upgraded?;
    released?;
    Ok(found)
}

/// The upgrade proper, under the lock.
async fn upgrade(conn: &mut Conn) -> StoreResult<i64> {
    // Read again under the lock: another process may have upgraded since.
    let found = read_version(conn).await?;
    check_supported(found)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    for (index, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tracing::info!(to_version = index + 1, "upgrading sessionkit mysql schema");
        for statement in statements(step) {
            conn.query_drop(statement).await?;
        }
    }
    check_shape(conn).await?;
    // The versions fit: SCHEMA_VERSION is a handful.
    conn.exec_drop(
        "INSERT INTO sessionkit_schema (one, version) VALUES (1, ?) \
         ON DUPLICATE KEY UPDATE version = VALUES(version)",
        (SCHEMA_VERSION as i32,),
    )
    .await?;
    Ok(found)
}

/// Refuses a database whose tables are not exactly this version's (a table of one of our names
/// made by something else, which `IF NOT EXISTS` kept).
async fn check_shape(conn: &mut Conn) -> StoreResult<()> {
    let columns: Vec<(String, String)> = conn
        .query(
            "SELECT table_name, column_name FROM information_schema.columns \
             WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position",
        )
        .await?;
    for (table, expected) in TABLES {
        let found: Vec<&str> = columns
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, c)| c.as_str())
            .collect();
        if found != *expected {
            return Err(Error::storage(format!(
                "mysql: the table {table} is not sessionkit's (columns {found:?}); \
                 the schema was not upgraded"
            ))
            .into());
        }
    }
    let indexes: Vec<(String, String)> = conn
        .query(
            "SELECT DISTINCT table_name, index_name FROM information_schema.statistics \
             WHERE table_schema = DATABASE()",
        )
        .await?;
    for (table, index) in INDEXES {
        if !indexes.iter().any(|(t, i)| t == table && i == index) {
            return Err(Error::storage(format!(
                "mysql: the table {table} has no index {index}; the schema was not upgraded"
            ))
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_outside_the_known_range_are_refused() {
        assert!(check_supported(0).is_ok());
        assert!(check_supported(SCHEMA_VERSION).is_ok());
        for bad in [-1, SCHEMA_VERSION + 1, 99] {
            assert_eq!(
                check_supported(bad),
                Err(Error::IncompatibleSchema {
                    found: bad,
                    supported: SCHEMA_VERSION
                })
            );
        }
    }

    #[test]
    fn every_step_splits_into_its_statements() {
        let first = statements(MIGRATIONS[0]);
        assert_eq!(first.len(), 4, "{first:#?}");
        assert!(first
            .iter()
            .all(|s| s.starts_with("CREATE TABLE IF NOT EXISTS")));
        assert!(first.iter().all(|s| !s.ends_with(';')));
    }
}

//! The schema and its upgrades: numbered SQL files under `migrations/`, tracked with
//! `PRAGMA user_version`.
//!
//! Version *n* is reached by running file *n* on a database at version *n − 1*. All pending
//! steps run in one `BEGIN IMMEDIATE` transaction that also sets `user_version`, so a database is
//! always at exactly one known version. A database at a version this build does not know (newer,
//! or negative) is refused with [`Error::IncompatibleSchema`] before anything is written to it.

use rusqlite::{Connection, TransactionBehavior};
use sessionkit::Error;

use crate::error::StoreResult;

/// The upgrade steps, in order: `MIGRATIONS[n - 1]` takes a database from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_initial.sql"),
    include_str!("../migrations/002_state_version_survives_clear.sql"),
    include_str!("../migrations/003_metadata_revision.sql"),
    include_str!("../migrations/004_client_replicas.sql"),
];

/// The newest schema version this build writes (and the only one it reads).
// The list is a handful of entries, so the cast cannot truncate.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The database's `user_version` (0 for a new or empty file). Reads only.
pub(crate) fn read_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT user_version FROM pragma_user_version", [], |row| {
        row.get(0)
    })
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

/// Brings the database up to [`SCHEMA_VERSION`] in one transaction; does nothing when it is
/// there already. Returns the version found.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have upgraded since we checked.
    let found = read_version(&tx)?;
    check_supported(found)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tracing::info!(to_version = index + 1, "upgrading sessionkit sqlite schema");
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(found)
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
    fn each_step_applies_on_an_empty_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(read_version(&conn).unwrap(), SCHEMA_VERSION);
        // A second run finds the database current and changes nothing.
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_VERSION);
    }
}

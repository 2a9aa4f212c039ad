//! The schema and its upgrades: numbered SQL files under `migrations/`, tracked in the one-row
//! table `sessionkit_schema`.
//!
//! Version *n* is reached by running file *n* on a database at version *n − 1*. The version is
//! first read without writing anything: a database at a version this build does not know (newer,
//! or negative) is refused with [`Error::IncompatibleSchema`] untouched. Otherwise all pending
//! steps run in one transaction that also sets the version (PostgreSQL's DDL is transactional),
//! under an advisory lock that serialises upgrades between processes, after reading the version
//! again under that lock.

use deadpool_postgres::Object;
use sessionkit::Error;

use crate::error::StoreResult;
use crate::queries;

/// The upgrade steps, in order: `MIGRATIONS[n - 1]` takes a database from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/001_initial.sql")];

/// The newest schema version this build writes (and the only one it reads).
// The list is a handful of entries, so the cast cannot truncate.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The database's schema version (0 when it has no sessionkit table). Reads only.
async fn read_version(client: &impl deadpool_postgres::GenericClient) -> StoreResult<i64> {
    let exists: bool = client
        .query_one(queries::SCHEMA_TABLE_EXISTS, &[])
        .await?
        .try_get(0)?;
    if !exists {
        return Ok(0);
    }
    let row = client.query_opt(queries::SCHEMA_VERSION, &[]).await?;
    Ok(match row {
        Some(row) => i64::from(row.try_get::<_, i32>(0)?),
        None => 0,
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
pub(crate) async fn migrate(client: &mut Object) -> StoreResult<i64> {
    let found = read_version(&*client).await?;
    check_supported(found)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    let tx = client.transaction().await?;
    tx.batch_execute(queries::LOCK_SCHEMA).await?;
    // Read again under the lock: another process may have upgraded since.
    let found = read_version(&tx).await?;
    check_supported(found)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tracing::info!(
            to_version = index + 1,
            "upgrading sessionkit postgres schema"
        );
        tx.batch_execute(sql).await?;
    }
    // The versions fit: SCHEMA_VERSION is a handful.
    tx.execute(queries::SET_SCHEMA_VERSION, &[&(SCHEMA_VERSION as i32)])
        .await?;
    tx.commit().await?;
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
}

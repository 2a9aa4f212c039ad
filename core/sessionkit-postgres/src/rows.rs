//! Converting between records and rows. A stored row that cannot be decoded — an id or hash of
//! the wrong length, an unknown client kind, metadata that is not a JSON object, a negative
//! version — is `Corrupt`, never a panic and never a half-filled record.

use serde_json::{Map, Value};
use sessionkit::{
    ClientInfo, ClientKind, Error, Session, SessionId, SessionPosition, SessionRecord, StateRecord,
    StoredSession, TokenHash,
};
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::error::StoreResult;
pub(crate) use sessionkit::sql::{
    count_from_sql as unsigned, metadata_text, version_from_sql, version_to_sql,
};

/// How many columns a session occupies at the start of a row (see `session_columns!`).
pub(crate) const SESSION_COLUMN_COUNT: usize = 15;

/// Reads column `index` (named `name` in errors), any failure being `Corrupt`.
pub(crate) fn column<'r, T: FromSql<'r>>(row: &'r Row, index: usize, name: &str) -> StoreResult<T> {
    row.try_get(index)
        .map_err(|e| Error::corrupt(format!("stored column {name}: {e}")).into())
}

/// A session id from its stored bytes.
pub(crate) fn session_id(bytes: &[u8]) -> StoreResult<SessionId> {
    Ok(SessionId::from_slice(bytes)?)
}

/// Decodes the session in the first [`SESSION_COLUMN_COUNT`] columns of `row`.
pub(crate) fn session_from_row(row: &Row) -> StoreResult<SessionRecord> {
    let id = session_id(column::<&[u8]>(row, 0, "id")?)?;
    let token_hash = TokenHash::from_slice(column::<&[u8]>(row, 1, "token_hash")?)?;
    let kind_name: &str = column(row, 7, "client_kind")?;
    let kind = ClientKind::parse(kind_name)
        .map_err(|_| Error::corrupt(format!("stored client_kind {kind_name:?}")))?;
    let metadata: Map<String, Value> = serde_json::from_str(column(row, 13, "metadata")?)
        .map_err(|e| Error::corrupt(format!("stored metadata is not a JSON object: {e}")))?;
    let session = Session {
        id,
        user_id: column(row, 2, "user_id")?,
        created_at: column(row, 3, "created_at")?,
        last_active_at: column(row, 4, "last_active_at")?,
        expires_at: column(row, 5, "expires_at")?,
        absolute_expires_at: column(row, 6, "absolute_expires_at")?,
        client: ClientInfo {
            kind,
            version: column(row, 8, "client_version")?,
            device: column(row, 9, "device")?,
        },
        ip: column(row, 10, "ip")?,
        user_agent: column(row, 11, "user_agent")?,
        active: column(row, 12, "active")?,
        metadata,
    };
    let metadata_revision: i64 = column(row, 14, "metadata_revision")?;
    Ok(SessionRecord {
        session,
        token_hash,
        metadata_revision: u64::try_from(metadata_revision)
            .map_err(|_| Error::corrupt(format!("stored metadata_revision {metadata_revision}")))?,
    })
}

/// Decodes an optional state from `version, blob, updated_at` starting at column `start` (all
/// NULL when a LEFT JOIN found none).
pub(crate) fn state_from_row(row: &Row, start: usize) -> StoreResult<Option<StateRecord>> {
    let Some(version) = column::<Option<i64>>(row, start, "version")? else {
        return Ok(None);
    };
    Ok(Some(StateRecord {
        version: version_from_sql(version)?,
        blob: column(row, start + 1, "blob")?,
        updated_at: column(row, start + 2, "updated_at")?,
    }))
}

/// Decodes a scanned session: its session columns, then `version, blob, updated_at,
/// cleared_state_version` (the cleared version counts only when there is no state).
pub(crate) fn stored_session_from_row(row: &Row) -> StoreResult<StoredSession> {
    let state = state_from_row(row, SESSION_COLUMN_COUNT)?;
    let cleared_state_version = match state {
        Some(_) => 0,
        None => version_from_sql(column(
            row,
            SESSION_COLUMN_COUNT + 3,
            "cleared_state_version",
        )?)?,
    };
    Ok(StoredSession {
        record: session_from_row(row)?,
        state,
        cleared_state_version,
    })
}

/// A `last_active_at, id` row.
pub(crate) fn position_from_row(row: &Row) -> StoreResult<SessionPosition> {
    Ok(SessionPosition {
        last_active_at: column(row, 0, "last_active_at")?,
        id: session_id(column::<&[u8]>(row, 1, "id")?)?,
    })
}

//! Converting between records and rows. A stored row that cannot be decoded — an id or hash of
//! the wrong length, an unknown client kind, metadata that is not a JSON object, a value of the
//! wrong type — is `Corrupt`, never a panic and never a half-filled record.

use rusqlite::types::FromSql;
use rusqlite::{params, Connection, Row};
use serde_json::{Map, Value};
use sessionkit::{
    ClientInfo, ClientKind, Error, Session, SessionId, SessionRecord, StateRecord, StoredSession,
    TokenHash,
};

use crate::error::StoreResult;
use crate::queries;
pub(crate) use sessionkit::sql::{metadata_text, version_from_sql, version_to_sql};

/// How many columns a session occupies at the start of a row (see `session_columns!`).
pub(crate) const SESSION_COLUMN_COUNT: usize = 15;

/// Reads column `index` (named `name` in errors), any failure being `Corrupt`.
fn column<T: FromSql>(row: &Row<'_>, index: usize, name: &str) -> StoreResult<T> {
    row.get(index)
        .map_err(|e| Error::corrupt(format!("stored column {name}: {e}")).into())
}

/// A session id from its stored bytes.
pub(crate) fn session_id(bytes: &[u8]) -> StoreResult<SessionId> {
    Ok(SessionId::from_slice(bytes)?)
}

/// Borrows column `index` as a blob (no copy), any other type being `Corrupt`.
fn blob_column<'r>(row: &'r Row<'_>, index: usize, name: &str) -> StoreResult<&'r [u8]> {
    row.get_ref(index)
        .and_then(|value| value.as_blob().map_err(Into::into))
        .map_err(|e| Error::corrupt(format!("stored column {name}: {e}")).into())
}

/// Borrows column `index` as text (no copy), any other type or invalid UTF-8 being `Corrupt`.
fn text_column<'r>(row: &'r Row<'_>, index: usize, name: &str) -> StoreResult<&'r str> {
    row.get_ref(index)
        .and_then(|value| value.as_str().map_err(Into::into))
        .map_err(|e| Error::corrupt(format!("stored column {name}: {e}")).into())
}

/// Decodes the session in the first [`SESSION_COLUMN_COUNT`] columns of `row`. Columns that
/// are only inspected (id, hash, kind, metadata text) are borrowed rather than copied.
pub(crate) fn session_from_row(row: &Row<'_>) -> StoreResult<SessionRecord> {
    let id = session_id(blob_column(row, 0, "id")?)?;
    let token_hash = TokenHash::from_slice(blob_column(row, 1, "token_hash")?)?;
    let kind_name = text_column(row, 7, "client_kind")?;
    let kind = ClientKind::parse(kind_name)
        .map_err(|_| Error::corrupt(format!("stored client_kind {kind_name:?}")))?;
    let active: i64 = column(row, 12, "active")?;
    let metadata: Map<String, Value> = serde_json::from_str(text_column(row, 13, "metadata")?)
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
        active: active != 0,
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
pub(crate) fn state_from_row(row: &Row<'_>, start: usize) -> StoreResult<Option<StateRecord>> {
    let Some(version) = column::<Option<i64>>(row, start, "version")? else {
        return Ok(None);
    };
    Ok(Some(StateRecord {
        version: version_from_sql(version)?,
        blob: column(row, start + 1, "blob")?,
        updated_at: column(row, start + 2, "updated_at")?,
    }))
}

/// Decodes a scanned session from its session columns, then `version, blob, updated_at,
/// cleared_state_version`: the cleared version counts only when there is no state (a later
/// state's version is higher, and the column keeps the old value).
pub(crate) fn stored_session_from_row(row: &Row<'_>) -> StoreResult<StoredSession> {
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

/// Inserts `record` (insert-only: a taken id is a constraint error).
pub(crate) fn insert_session(conn: &Connection, record: &SessionRecord) -> StoreResult<()> {
    let s = &record.session;
    conn.prepare_cached(queries::INSERT_SESSION)?
        .execute(params![
            s.id.as_bytes(),
            record.token_hash.as_bytes(),
            s.user_id,
            s.created_at,
            s.last_active_at,
            s.expires_at,
            s.absolute_expires_at,
            s.client.kind.as_str(),
            s.client.version,
            s.client.device,
            s.ip,
            s.user_agent,
            s.active,
            metadata_text(&s.metadata)?,
            version_to_sql(record.metadata_revision)?,
        ])?;
    Ok(())
}

/// Inserts the state of session `id` as given (import).
pub(crate) fn insert_state(
    conn: &Connection,
    id: &SessionId,
    state: &StateRecord,
) -> StoreResult<()> {
    conn.prepare_cached(queries::INSERT_STATE)?
        .execute(params![
            id.as_bytes(),
            version_to_sql(state.version)?,
            state.blob,
            state.updated_at,
        ])?;
    Ok(())
}

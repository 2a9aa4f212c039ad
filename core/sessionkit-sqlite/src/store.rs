//! `SqliteStore`: the [`Store`](sessionkit::Store) contract over one SQLite file.
//!
//! One writer connection behind a mutex runs every write in a `BEGIN IMMEDIATE` transaction, so
//! each conditional write (`WHERE active = 1`, the state version check, the per-user limit) sees
//! and changes the database atomically; a small pool of read-only connections serves the reads,
//! which WAL lets run beside the writer. Each method matches [`sessionkit::MemoryStore`] outcome
//! for outcome and order for order.
//!
//! The methods are `async` to fit the trait but run SQLite on the calling thread: each is one
//! short transaction, with a 5 s busy timeout when another process holds the lock.

use parking_lot::{Mutex as FairMutex, MutexGuard as FairMutexGuard};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::{Map, Value};
use sessionkit::{
    ClientKind, Error, InsertOutcome, LimitDecision, Liveness, MaintenanceStore, ReplicaStore,
    Result, RevokeBatch, SessionId, SessionLimit, SessionPosition, SessionRecord, SessionStore,
    StateDecision, StateLookup, StatePut, StateStore, StateVersions, StatsQuery, StoreStats,
    StoredSession, UserPageQuery, WriteOutcome,
};

use crate::error::StoreResult;
use crate::pool::ReaderPool;
use crate::rows;
use crate::wal::{Wal, WriteKind, WriteStats};
use crate::{connection, queries};

/// A [`Store`](sessionkit::Store) in a SQLite database file (WAL mode), shareable across threads
/// (`Arc<SqliteStore>`).
pub struct SqliteStore {
    path: PathBuf,
    /// Fair: a writer waiting for it gets it before the holder can take it again (a bulk
    /// deletion's next batch cannot starve a request's write).
    writer: FairMutex<Connection>,
    readers: ReaderPool,
    wal: Wal,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to
    /// [`crate::SCHEMA_VERSION`].
    ///
    /// A database written by a newer version is `IncompatibleSchema` and is left untouched; a
    /// file that is not a SQLite database is `Corrupt`; I/O and locking failures are `Storage`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref();
        Self::open_inner(path).map_err(Error::from)
    }

    fn open_inner(path: &Path) -> StoreResult<SqliteStore> {
        connection::check_existing(path)?;
        let mut writer = connection::open_writer(path)?;
        let wal = Wal::new(&mut writer, connection::open_checkpointer(path)?)?;
        let readers = ReaderPool::open(path)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: FairMutex::new(writer),
            readers,
            wal,
        })
    }

    /// How long write transactions held the lock and what the checkpoints cost, since the
    /// store was opened.
    pub fn write_stats(&self) -> WriteStats {
        self.wal.stats()
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `write` in a `BEGIN IMMEDIATE` transaction on the writer and commits it; an error
    /// rolls everything back. Once the writer is released, checkpoints if the log calls for it.
    fn write<T>(&self, write: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> Result<T> {
        let value = self.transaction(write)?;
        self.wal.after_write(WriteKind::Normal, &self.writer);
        Ok(value)
    }

    /// [`Self::write`] without the checkpoint.
    fn transaction<T>(&self, write: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> Result<T> {
        let run = || -> StoreResult<T> {
            let mut conn = self.writer.lock();
            if !conn.is_autocommit() {
                // A previous rollback failed and left a transaction open: finish it first.
                conn.execute_batch("ROLLBACK")?;
            }
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let locked = Instant::now();
            let value = write(&tx)?;
            tx.commit()?;
            self.wal.committed(locked.elapsed());
            FairMutexGuard::unlock_fair(conn);
            Ok(value)
        };
        run().map_err(Error::from)
    }

    /// Runs `read` on a pooled reader.
    fn read<T>(&self, read: impl FnOnce(&mut Connection) -> StoreResult<T>) -> Result<T> {
        self.readers.with(read).map_err(Error::from)
    }
}

/// Whether session `id` exists (`None` if not) and is active.
fn session_active(conn: &Connection, id: &SessionId) -> StoreResult<Option<bool>> {
    Ok(conn
        .prepare_cached(queries::SESSION_ACTIVE)?
        .query_row([id.as_bytes()], |row| row.get::<_, bool>(0))
        .optional()?)
}

/// Why a conditional write on `id` matched no row: `Missing` or `Inactive`.
fn not_writable(conn: &Connection, id: &SessionId) -> StoreResult<WriteOutcome> {
    Ok(match session_active(conn, id)? {
        None => WriteOutcome::Missing,
        Some(true) => {
            // Unreachable inside the write transaction that just failed to match the row.
            return Err(Error::storage("session became writable during the transaction").into());
        }
        Some(false) => WriteOutcome::Inactive,
    })
}

/// `Err(outcome)` unless `id` exists and is active.
fn writable(
    conn: &Connection,
    id: &SessionId,
) -> StoreResult<std::result::Result<(), WriteOutcome>> {
    Ok(match session_active(conn, id)? {
        None => Err(WriteOutcome::Missing),
        Some(false) => Err(WriteOutcome::Inactive),
        Some(true) => Ok(()),
    })
}

/// Runs a session query and decodes every row.
fn query_sessions(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<SessionRecord>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        records.push(rows::session_from_row(row)?);
    }
    Ok(records)
}

/// A count as the trait reports it.
fn count(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<u64> {
    let n: i64 = conn
        .prepare_cached(sql)?
        .query_row(params, |row| row.get(0))?;
    Ok(u64::try_from(n).map_err(|_| Error::storage(format!("negative count {n}")))?)
}

/// A session's position from `last_active_at, id` columns.
fn position_from_row(row: &rusqlite::Row<'_>) -> StoreResult<SessionPosition> {
    Ok(SessionPosition {
        last_active_at: row.get(0)?,
        id: rows::session_id(&row.get::<_, Vec<u8>>(1)?)?,
    })
}

/// Runs a query of `last_active_at, id` rows.
fn query_positions(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<SessionPosition>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut positions = Vec::new();
    while let Some(row) = rows.next()? {
        positions.push(position_from_row(row)?);
    }
    Ok(positions)
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        self.write(|tx| {
            if session_active(tx, &record.session.id)?.is_some() {
                return Ok(InsertOutcome::IdTaken);
            }
            let evicted = match limit {
                None => Vec::new(),
                Some(limit) => {
                    let live = query_positions(
                        tx,
                        queries::LIVE_POSITIONS_OF_USER,
                        params![
                            record.session.user_id,
                            limit.live.now,
                            limit.live.idle_cutoff,
                            limit.live.absolute_cutoff
                        ],
                    )?;
                    match limit.decide(live) {
                        LimitDecision::Admit { evict } => evict,
                        LimitDecision::Reject => return Ok(InsertOutcome::LimitReached),
                    }
                }
            };
            let mut evict = tx.prepare_cached(queries::EVICT_SESSION)?;
            for id in &evicted {
                evict.execute([id.as_bytes()])?;
            }
            rows::insert_session(tx, record)?;
            Ok(InsertOutcome::Inserted { evicted })
        })
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>> {
        self.read(|conn| {
            Ok(query_sessions(conn, queries::GET_SESSION, [id.as_bytes()])?
                .into_iter()
                .next())
        })
    }

    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
        live: &Liveness,
    ) -> Result<WriteOutcome> {
        self.write(|tx| {
            let changed = tx.prepare_cached(queries::TOUCH_SESSION)?.execute(params![
                id.as_bytes(),
                last_active_at,
                expires_at,
                live.now,
                live.idle_cutoff,
                live.absolute_cutoff
            ])?;
            if changed == 1 {
                return Ok(WriteOutcome::Applied);
            }
            let found: Option<(bool, [i64; 3])> = tx
                .prepare_cached(queries::SESSION_TIMES)?
                .query_row([id.as_bytes()], |row| {
                    Ok((row.get(0)?, [row.get(1)?, row.get(2)?, row.get(3)?]))
                })
                .optional()?;
            Ok(match found {
                None => WriteOutcome::Missing,
                Some((false, _)) => WriteOutcome::Inactive,
                Some((true, [created, last, expires])) => {
                    if live.expired_times(created, last, expires) {
                        WriteOutcome::Expired
                    } else {
                        WriteOutcome::Stale
                    }
                }
            })
        })
    }

    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected_revision: u64,
        metadata: &Map<String, Value>,
        revision: u64,
    ) -> Result<WriteOutcome> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(queries::REPLACE_METADATA)?
                .execute(params![
                    id.as_bytes(),
                    rows::metadata_text(metadata)?,
                    rows::version_to_sql(expected_revision)?,
                    rows::version_to_sql(revision)?,
                ])?;
            if changed == 1 {
                return Ok(WriteOutcome::Applied);
            }
            let found: Option<(bool, i64)> = tx
                .prepare_cached(queries::SESSION_METADATA_REVISION)?
                .query_row([id.as_bytes()], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            Ok(match found {
                None => WriteOutcome::Missing,
                Some((false, _)) => WriteOutcome::Inactive,
                Some((true, _)) => WriteOutcome::Stale,
            })
        })
    }

    async fn rotate_session(
        &self,
        old: &SessionId,
        expected_revision: u64,
        new: &SessionRecord,
    ) -> Result<WriteOutcome> {
        self.write(|tx| {
            let found: Option<(bool, i64)> = tx
                .prepare_cached(queries::SESSION_METADATA_REVISION)?
                .query_row([old.as_bytes()], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            match found {
                None => return Ok(WriteOutcome::Missing),
                Some((false, _)) => return Ok(WriteOutcome::Inactive),
                Some((true, revision)) if revision != rows::version_to_sql(expected_revision)? => {
                    return Ok(WriteOutcome::Stale)
                }
                Some((true, _)) => {}
            }
            if session_active(tx, &new.session.id)?.is_some() {
                return Ok(WriteOutcome::IdTaken);
            }
            rows::insert_session(tx, new)?;
            tx.prepare_cached(queries::MOVE_STATE)?
                .execute([old.as_bytes(), new.session.id.as_bytes()])?;
            tx.prepare_cached(queries::MOVE_CLEARED_STATE_VERSION)?
                .execute([old.as_bytes(), new.session.id.as_bytes()])?;
            tx.prepare_cached(queries::DELETE_SESSION)?
                .execute([old.as_bytes()])?;
            Ok(WriteOutcome::Applied)
        })
    }

    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(queries::REVOKE_SESSION)?
                .execute([id.as_bytes()])?;
            if changed == 1 {
                Ok(WriteOutcome::Applied)
            } else {
                not_writable(tx, id)
            }
        })
    }

    async fn delete_session(&self, id: &SessionId) -> Result<bool> {
        self.write(|tx| {
            let deleted = tx
                .prepare_cached(queries::DELETE_SESSION)?
                .execute([id.as_bytes()])?;
            Ok(deleted > 0)
        })
    }

    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool> {
        self.write(|tx| {
            let deleted = tx
                .prepare_cached(queries::DELETE_EXPIRED_SESSION)?
                .execute(params![
                    id.as_bytes(),
                    live.now,
                    live.idle_cutoff,
                    live.absolute_cutoff
                ])?;
            Ok(deleted > 0)
        })
    }

    async fn list_user_sessions(&self, query: &UserPageQuery) -> Result<Vec<SessionRecord>> {
        let user = query.user_id.as_str();
        let limit = i64::from(query.limit);
        self.read(|conn| match (&query.after, &query.live) {
            (None, None) => query_sessions(conn, queries::LIST_FIRST, params![user, limit]),
            (None, Some(live)) => query_sessions(
                conn,
                queries::LIST_FIRST_LIVE,
                params![
                    user,
                    limit,
                    live.now,
                    live.idle_cutoff,
                    live.absolute_cutoff
                ],
            ),
            (Some(after), None) => query_sessions(
                conn,
                queries::LIST_AFTER,
                params![user, limit, after.last_active_at, after.id.as_bytes()],
            ),
            (Some(after), Some(live)) => query_sessions(
                conn,
                queries::LIST_AFTER_LIVE,
                params![
                    user,
                    limit,
                    after.last_active_at,
                    after.id.as_bytes(),
                    live.now,
                    live.idle_cutoff,
                    live.absolute_cutoff
                ],
            ),
        })
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>> {
        self.write(|tx| {
            query_positions(
                tx,
                queries::REVOKE_USER_SESSIONS,
                params![
                    user_id,
                    except.map(|id| id.as_bytes()),
                    live.now,
                    live.idle_cutoff,
                    live.absolute_cutoff
                ],
            )
        })
    }

    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(queries::DELETE_USER_SESSIONS)?;
            let mut rows = stmt.query(params![user_id, i64::from(max)])?;
            let mut ids = Vec::new();
            while let Some(row) = rows.next()? {
                ids.push(rows::session_id(&row.get::<_, Vec<u8>>(0)?)?);
            }
            Ok(ids)
        })
    }

    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64> {
        self.read(|conn| match (user_id, live) {
            (Some(user), None) => count(conn, queries::COUNT_USER, [user]),
            (Some(user), Some(live)) => {
                let params = params![user, live.now, live.idle_cutoff, live.absolute_cutoff];
                count(conn, queries::COUNT_USER_LIVE, params)
            }
            (None, None) => count(conn, queries::COUNT_ALL, []),
            (None, Some(live)) => count(
                conn,
                queries::COUNT_ALL_LIVE,
                [live.now, live.idle_cutoff, live.absolute_cutoff],
            ),
        })
    }
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(queries::GET_STATE)?;
            let mut rows = stmt.query([id.as_bytes()])?;
            let Some(row) = rows.next()? else {
                return Ok(StateLookup::NoSession);
            };
            Ok(match rows::state_from_row(row, 0)? {
                None => StateLookup::Empty,
                Some(state) => StateLookup::Found(state),
            })
        })
    }

    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut> {
        self.write(|tx| {
            match writable(tx, id)? {
                Err(WriteOutcome::Missing) => return Ok(StatePut::Missing),
                Err(_) => return Ok(StatePut::Inactive),
                Ok(()) => {}
            }
            // `writable` just found the session, so the row is there.
            let (stored, cleared) = tx
                .prepare_cached(queries::STATE_VERSION)?
                .query_row([id.as_bytes()], |row| {
                    Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, i64>(1)?))
                })?;
            let versions = StateVersions {
                current: stored.map(rows::version_from_sql).transpose()?.unwrap_or(0),
                cleared: rows::version_from_sql(cleared)?,
            };
            let version = match versions.decide(expected_version)? {
                StateDecision::Conflict(current) => return Ok(StatePut::Conflict(current)),
                StateDecision::Write(version) => version,
            };
            tx.prepare_cached(queries::UPSERT_STATE)?.execute(params![
                id.as_bytes(),
                rows::version_to_sql(version)?,
                blob,
                updated_at
            ])?;
            Ok(StatePut::Written(version))
        })
    }

    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome> {
        self.write(|tx| {
            if let Err(outcome) = writable(tx, id)? {
                return Ok(outcome);
            }
            let cleared = tx
                .prepare_cached(queries::DELETE_STATE)?
                .query_row([id.as_bytes()], |row| row.get::<_, i64>(0))
                .optional()?;
            if let Some(version) = cleared {
                tx.prepare_cached(queries::SET_CLEARED_STATE_VERSION)?
                    .execute(params![id.as_bytes(), version])?;
            }
            Ok(WriteOutcome::Applied)
        })
    }
}

#[async_trait]
impl MaintenanceStore for SqliteStore {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        let (mut deleted, db_pages) = self.transaction(|tx| {
            let deleted = tx
                .prepare_cached(queries::DELETE_EXPIRED)?
                .execute(params![live.now, i64::from(max)])?;
            let db_pages: i64 = tx.query_row("PRAGMA page_count", [], |row| row.get(0))?;
            Ok((deleted as u64, u64::try_from(db_pages).unwrap_or(0)))
        })?;
        self.wal.after_write(
            WriteKind::BulkDelete {
                full: deleted >= u64::from(max),
                db_pages,
            },
            &self.writer,
        );
        if deleted < u64::from(max) {
            // Then the sessions only the configured timeouts expire. Finding them reads every
            // unexpired session, so it runs on a reader, without the write lock; the deletion
            // checks each again.
            let rest = i64::from(max) - deleted as i64;
            let found = self.read(|conn| {
                let mut stmt = conn.prepare_cached(queries::TIMED_OUT_IDS)?;
                let mut rows = stmt.query(params![
                    live.now,
                    rest,
                    live.idle_cutoff,
                    live.absolute_cutoff
                ])?;
                let mut ids = Vec::new();
                while let Some(row) = rows.next()? {
                    ids.push(row.get::<_, Vec<u8>>(0)?);
                }
                Ok(ids)
            })?;
            if !found.is_empty() {
                deleted += self.write(|tx| {
                    let mut stmt = tx.prepare_cached(queries::DELETE_EXPIRED_SESSION)?;
                    let mut n = 0;
                    for id in &found {
                        n += stmt.execute(params![
                            id,
                            live.now,
                            live.idle_cutoff,
                            live.absolute_cutoff
                        ])? as u64;
                    }
                    Ok(n)
                })?;
            }
        }
        Ok(deleted)
    }

    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch> {
        // The empty blob sorts before every 16-byte id: "from the start".
        let after: &[u8] = after.map_or(&[], |id| id.as_bytes());
        self.write(|tx| {
            let (looked, last): (i64, Option<Vec<u8>>) = tx
                .prepare_cached(queries::NEXT_IDS)?
                .query_row(params![after, i64::from(max)], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
            let Some(last) = last else {
                return Ok(RevokeBatch::default());
            };
            let mut stmt = tx.prepare_cached(queries::REVOKE_LIVE_IN_RANGE)?;
            let mut rows = stmt.query(params![
                after,
                last,
                live.now,
                live.idle_cutoff,
                live.absolute_cutoff
            ])?;
            let mut revoked = Vec::new();
            while let Some(row) = rows.next()? {
                revoked.push(rows::session_id(&row.get::<_, Vec<u8>>(0)?)?);
            }
            let next = if looked == i64::from(max) {
                Some(rows::session_id(&last)?)
            } else {
                None
            };
            Ok(RevokeBatch { revoked, next })
        })
    }

    async fn stats(&self, query: &StatsQuery) -> Result<StoreStats> {
        self.read(|conn| {
            // One snapshot for both queries.
            let tx = conn.transaction()?;
            let totals = tx.prepare_cached(queries::STATS_TOTALS)?.query_row(
                params![
                    query.live.now,
                    query.created_since[0],
                    query.created_since[1],
                    query.live.idle_cutoff,
                    query.live.absolute_cutoff
                ],
                |row| {
                    let mut values = [0i64; 8];
                    for (i, value) in values.iter_mut().enumerate() {
                        *value = row.get(i)?;
                    }
                    Ok(values)
                },
            )?;
            let mut by_kind = Vec::new();
            {
                let mut stmt = tx.prepare_cached(queries::STATS_BY_KIND)?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    let name: String = row.get(0)?;
                    let kind = ClientKind::parse(&name)
                        .map_err(|_| Error::corrupt(format!("stored client_kind {name:?}")))?;
                    by_kind.push((kind, sessionkit::sql::count_from_sql(row.get(1)?)?));
                }
            }
            tx.finish()?;
            let [total, active, day, week, la_hi, la_lo, ca_hi, ca_lo] = totals;
            let duration_sum_ms = (i128::from(la_hi) - i128::from(ca_hi)) * (1i128 << 32)
                + (i128::from(la_lo) - i128::from(ca_lo));
            Ok(StoreStats {
                total: sessionkit::sql::count_from_sql(total)?,
                active: sessionkit::sql::count_from_sql(active)?,
                created_since: [
                    sessionkit::sql::count_from_sql(day)?,
                    sessionkit::sql::count_from_sql(week)?,
                ],
                by_client_kind: by_kind,
                duration_sum_ms,
            })
        })
    }

    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>> {
        // The empty blob sorts before every 16-byte id: "from the start".
        let after: &[u8] = after.map_or(&[], |id| id.as_bytes());
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(queries::SCAN_SESSIONS)?;
            let mut rows = stmt.query(params![after, i64::from(limit)])?;
            let mut page = Vec::new();
            while let Some(row) = rows.next()? {
                page.push(rows::stored_session_from_row(row)?);
            }
            Ok(page)
        })
    }

    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.prepare_cached(queries::REWRITE_STATE)?.execute(params![
                id.as_bytes(),
                rows::version_to_sql(version)?,
                blob
            ])?;
            Ok(changed == 1)
        })
    }

    async fn import_session(&self, session: &StoredSession) -> Result<bool> {
        let id = &session.record.session.id;
        self.write(|tx| {
            if session_active(tx, id)?.is_some() {
                return Ok(false);
            }
            rows::insert_session(tx, &session.record)?;
            if let Some(state) = &session.state {
                rows::insert_state(tx, id, state)?;
            } else if session.cleared_state_version > 0 {
                tx.prepare_cached(queries::SET_CLEARED_STATE_VERSION)?
                    .execute(params![
                        id.as_bytes(),
                        rows::version_to_sql(session.cleared_state_version)?
                    ])?;
            }
            Ok(true)
        })
    }
}

#[async_trait]
impl ReplicaStore for SqliteStore {
    async fn load_replica(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(queries::GET_REPLICA)?
                .query_row([key], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
                })
                .optional()?;
            row.map(|(revision, record)| Ok((rows::version_from_sql(revision)?, record)))
                .transpose()
        })
    }

    async fn save_replica(&self, key: &str, revision: u64, record: &[u8]) -> Result<bool> {
        self.write(|tx| {
            let written = tx.prepare_cached(queries::SAVE_REPLICA)?.execute(params![
                key,
                rows::version_to_sql(revision)?,
                record
            ])?;
            Ok(written == 1)
        })
    }
}

//! `PostgresStore`: the [`Store`](sessionkit::Store) contract over a pool of PostgreSQL
//! connections.
//!
//! Each method is one statement or one short transaction (`READ COMMITTED`):
//!
//! - a conditional write is one `UPDATE ... WHERE id = $1 AND active ...`: PostgreSQL checks the
//!   condition again on the newest version of a row a concurrent writer changed, so no
//!   interleaving revives a revoked session or loses a compare-and-swap; when it matches no row,
//!   a read says why (and the write is tried again in the rare case the read finds the row
//!   writable: another writer changed it in between);
//! - a write that reads first (`put_state`, `clear_state`, `rotate_session`, `import_session`)
//!   locks the session's row (`SELECT ... FOR UPDATE`) before reading;
//! - an insert under the per-user limit takes a transaction-scoped advisory lock on the user id
//!   (`pg_advisory_xact_lock`), so concurrent inserts for one user — on any connection of any
//!   process — read the user's live sessions one after the other, each after the previous one
//!   committed;
//! - `stats` reads in one `REPEATABLE READ` snapshot.
//!
//! Each method matches [`sessionkit::MemoryStore`] outcome for outcome and order for order.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde_json::{Map, Value};
use sessionkit::{
    ClientKind, Error, InsertOutcome, LimitDecision, Liveness, MaintenanceStore, Result,
    RevokeBatch, SessionId, SessionLimit, SessionPosition, SessionRecord, SessionStore,
    StateDecision, StateLookup, StatePut, StateStore, StateVersions, StatsQuery, StoreStats,
    StoredSession, UserPageQuery, WriteOutcome,
};
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use crate::error::{StoreError, StoreResult};
use crate::{migrations, queries, rows};
use sessionkit_netstore::StoreRuntime;

/// How a [`PostgresStore`] is opened.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections in the pool at most (default 16).
    pub max_connections: usize,
    /// How long a caller waits for a free connection before `Storage` (default 30 s).
    pub wait_timeout: Duration,
    /// The runtime that drives the connections; `None` (the default): the store starts its own
    /// (two worker threads), which works from any caller, async or not.
    pub runtime: Option<Handle>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            wait_timeout: Duration::from_secs(30),
            runtime: None,
        }
    }
}

/// A [`Store`](sessionkit::Store) in a PostgreSQL database, shareable across threads
/// (`Arc<PostgresStore>`) and processes.
pub struct PostgresStore {
    pool: Pool,
    /// Where the connections run.
    ///
    /// tokio-postgres splits a connection in two: a `Client` whose futures only talk to a channel
    /// (any executor may poll them: tokio, `pollster::block_on`, a test's thread) and a `Connection`
    /// future that does the socket I/O and must run on a tokio runtime. The pool creates connections
    /// (the TCP connect and the spawn of the `Connection`) inside `Pool::get`, so the store runs every
    /// `Pool::get` as a task on *its* runtime and awaits the task's handle, which any executor can do.
    /// The queries then run on the caller's executor.
    runtime: StoreRuntime,
}

impl fmt::Debug for PostgresStore {
    // The connection string may hold a password: only the pool's shape is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("max_connections", &status.max_size)
            .field("connections", &status.size)
            .finish_non_exhaustive()
    }
}

type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Runs a prepared (and cached) query.
async fn query<C: GenericClient>(c: &C, sql: &str, params: &Params<'_>) -> StoreResult<Vec<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

/// Runs a prepared (and cached) query of at most one row.
async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> StoreResult<Option<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

/// Runs a prepared (and cached) statement; the rows it changed.
async fn execute<C: GenericClient>(c: &C, sql: &str, params: &Params<'_>) -> StoreResult<u64> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.execute(&statement, params).await?)
}

/// Runs a session query and decodes every row.
async fn query_sessions<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> StoreResult<Vec<SessionRecord>> {
    query(c, sql, params)
        .await?
        .iter()
        .map(rows::session_from_row)
        .collect()
}

/// A `count(*)` as the trait reports it.
async fn count<C: GenericClient>(c: &C, sql: &str, params: &Params<'_>) -> StoreResult<u64> {
    let row = query(c, sql, params).await?;
    let n: i64 = rows::column(&row[0], 0, "count")?;
    Ok(rows::unsigned(n)?)
}

/// Inserts `record` unless its id is taken; whether it did.
async fn insert_session<C: GenericClient>(c: &C, record: &SessionRecord) -> StoreResult<bool> {
    let s = &record.session;
    let metadata = rows::metadata_text(&s.metadata)?;
    let revision = rows::version_to_sql(record.metadata_revision)?;
    let inserted = execute(
        c,
        queries::INSERT_SESSION,
        &[
            &s.id.as_bytes().as_slice(),
            &record.token_hash.as_bytes().as_slice(),
            &s.user_id,
            &s.created_at,
            &s.last_active_at,
            &s.expires_at,
            &s.absolute_expires_at,
            &s.client.kind.as_str(),
            &s.client.version,
            &s.client.device,
            &s.ip,
            &s.user_agent,
            &s.active,
            &metadata,
            &revision,
        ],
    )
    .await?;
    Ok(inserted == 1)
}

/// Whether session `id` exists (`None` if not) and is active, its row locked until the end of
/// the transaction; with its cleared-state version.
async fn lock_session<C: GenericClient>(c: &C, id: &[u8]) -> StoreResult<Option<(bool, i64)>> {
    let row = query_opt(c, queries::LOCK_SESSION, &[&id]).await?;
    row.map(|row| {
        Ok((
            rows::column(&row, 0, "active")?,
            rows::column(&row, 1, "cleared_state_version")?,
        ))
    })
    .transpose()
}

/// How many times a conditional write is tried when the read that explains its failure finds
/// the row writable (another writer changed it in between).
const RETRIES: usize = 8;

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname`, or the
    /// `key=value` form) with the default options, and brings its schema up to
    /// [`crate::SCHEMA_VERSION`]. Blocks until done; callable from sync and async code.
    ///
    /// A database whose schema is newer is `IncompatibleSchema` and is left untouched; a bad URL
    /// is `InvalidInput { field: "db" }`; a server that cannot be reached is `Storage`.
    pub fn open(url: &str) -> Result<PostgresStore> {
        Self::open_with(url, PostgresOptions::default())
    }

    /// [`PostgresStore::open`] with `options`. With `options.runtime`, blocks the calling thread
    /// while the runtime connects: do not call it from that runtime's only worker (use
    /// [`PostgresStore::connect`] there).
    pub fn open_with(url: &str, options: PostgresOptions) -> Result<PostgresStore> {
        let store = Self::build(url, &options)?;
        let pool = store.pool.clone();
        let migrated = store.runtime.handle().spawn(async move {
            let mut client = pool.get().await?;
            migrations::migrate(&mut client).await
        });
        pollster::block_on(migrated)
            .map_err(|e| Error::storage(format!("postgres: the schema task failed: {e}")))??;
        Ok(store)
    }

    /// [`PostgresStore::open_with`] for async callers: awaits instead of blocking.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<PostgresStore> {
        let store = Self::build(url, &options)?;
        let mut client = store.client().await?;
        migrations::migrate(&mut client).await?;
        drop(client);
        Ok(store)
    }

    fn build(url: &str, options: &PostgresOptions) -> Result<PostgresStore> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| {
            Error::invalid_input("db", format!("not a PostgreSQL connection string: {e}"))
        })?;
        let runtime =
            StoreRuntime::shared_or_own(options.runtime.clone(), "sessionkit-postgres", 2)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| Error::storage(format!("postgres pool: {e}")))?;
        Ok(PostgresStore { pool, runtime })
    }

    /// A pooled connection. Taken on the store's runtime, which connects (when the pool makes a
    /// new connection) and runs the connection's I/O task; the caller's executor can be any.
    async fn client(&self) -> StoreResult<Object> {
        let pool = self.pool.clone();
        self.runtime
            .handle()
            .spawn(async move { pool.get().await })
            .await
            .map_err(|e| Error::storage(format!("postgres: the connection task failed: {e}")))?
            .map_err(StoreError::from)
    }
}

/// Runs `$body` with `$c` bound to a pooled connection, mapping the error out.
macro_rules! with_client {
    ($self:ident, |$c:ident| $body:expr) => {{
        let run = async {
            #[allow(unused_mut)]
            let mut $c = $self.client().await?;
            $body
        };
        let result: StoreResult<_> = run.await;
        result.map_err(Error::from)
    }};
}

impl PostgresStore {
    /// The bare baseline of the benchmarks: the session row by id (the statement `get_session`
    /// runs), through the same pool, not decoded; how many rows came back.
    #[doc(hidden)]
    pub async fn bench_bare_lookup(&self, id: &SessionId) -> Result<usize> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| Ok(query(&c, queries::GET_SESSION, &[&id])
            .await?
            .len()))
    }

    /// The bare baseline of the benchmarks: one insert statement of `record`, through the same
    /// pool, no transaction, no limit; whether it inserted.
    #[doc(hidden)]
    pub async fn bench_bare_insert(&self, record: &SessionRecord) -> Result<bool> {
        with_client!(self, |c| insert_session(&c, record).await)
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        let id = record.session.id.as_bytes().as_slice();
        if limit.is_none() {
            // No limit to check: the insert-only statement alone is the whole operation.
            return with_client!(self, |c| Ok(if insert_session(&c, record).await? {
                InsertOutcome::Inserted {
                    evicted: Vec::new(),
                }
            } else {
                InsertOutcome::IdTaken
            }));
        }
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            if limit.is_some() {
                execute(&tx, queries::LOCK_USER, &[&record.session.user_id]).await?;
            }
            if query_opt(&tx, queries::SESSION_ACTIVE, &[&id])
                .await?
                .is_some()
            {
                return Ok(InsertOutcome::IdTaken);
            }
            let evicted = match limit {
                None => Vec::new(),
                Some(limit) => {
                    let live = query(
                        &tx,
                        queries::LIVE_POSITIONS_OF_USER,
                        &[
                            &record.session.user_id,
                            &limit.live.now,
                            &limit.live.idle_cutoff,
                            &limit.live.absolute_cutoff,
                        ],
                    )
                    .await?
                    .iter()
                    .map(rows::position_from_row)
                    .collect::<StoreResult<Vec<_>>>()?;
                    match limit.decide(live) {
                        LimitDecision::Admit { evict } => evict,
                        LimitDecision::Reject => return Ok(InsertOutcome::LimitReached),
                    }
                }
            };
            if !evicted.is_empty() {
                let ids: Vec<&[u8]> = evicted.iter().map(|id| id.as_bytes().as_slice()).collect();
                execute(&tx, queries::EVICT_SESSIONS, &[&ids]).await?;
            }
            if !insert_session(&tx, record).await? {
                // Inserted meanwhile by another transaction: dropping `tx` rolls back.
                return Ok(InsertOutcome::IdTaken);
            }
            tx.commit().await?;
            Ok(InsertOutcome::Inserted { evicted })
        })
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            Ok(query_sessions(&c, queries::GET_SESSION, &[&id])
                .await?
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
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            for _ in 0..RETRIES {
                let changed = execute(
                    &c,
                    queries::TOUCH_SESSION,
                    &[
                        &id,
                        &last_active_at,
                        &expires_at,
                        &live.now,
                        &live.idle_cutoff,
                        &live.absolute_cutoff,
                    ],
                )
                .await?;
                if changed == 1 {
                    return Ok(WriteOutcome::Applied);
                }
                let Some(row) = query_opt(&c, queries::SESSION_TIMES, &[&id]).await? else {
                    return Ok(WriteOutcome::Missing);
                };
                let active: bool = rows::column(&row, 0, "active")?;
                let created: i64 = rows::column(&row, 1, "created_at")?;
                let last: i64 = rows::column(&row, 2, "last_active_at")?;
                let expires: i64 = rows::column(&row, 3, "expires_at")?;
                if !active {
                    return Ok(WriteOutcome::Inactive);
                }
                if live.expired_times(created, last, expires) {
                    return Ok(WriteOutcome::Expired);
                }
                if last > last_active_at {
                    return Ok(WriteOutcome::Stale);
                }
            }
            Ok(WriteOutcome::Stale)
        })
    }

    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected_revision: u64,
        metadata: &Map<String, Value>,
        revision: u64,
    ) -> Result<WriteOutcome> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            let text = rows::metadata_text(metadata)?;
            let expected = rows::version_to_sql(expected_revision)?;
            let revision = rows::version_to_sql(revision)?;
            for _ in 0..RETRIES {
                let changed = execute(
                    &c,
                    queries::REPLACE_METADATA,
                    &[&id, &text, &expected, &revision],
                )
                .await?;
                if changed == 1 {
                    return Ok(WriteOutcome::Applied);
                }
                let Some(row) = query_opt(&c, queries::SESSION_METADATA_REVISION, &[&id]).await?
                else {
                    return Ok(WriteOutcome::Missing);
                };
                if !rows::column::<bool>(&row, 0, "active")? {
                    return Ok(WriteOutcome::Inactive);
                }
                if rows::column::<i64>(&row, 1, "metadata_revision")? != expected {
                    return Ok(WriteOutcome::Stale);
                }
            }
            Ok(WriteOutcome::Stale)
        })
    }

    async fn rotate_session(
        &self,
        old: &SessionId,
        expected_revision: u64,
        new: &SessionRecord,
    ) -> Result<WriteOutcome> {
        let old = old.as_bytes().as_slice();
        let new_id = new.session.id.as_bytes().as_slice();
        with_client!(self, |c| {
            let expected = rows::version_to_sql(expected_revision)?;
            let tx = c.transaction().await?;
            let found = query_opt(&tx, queries::LOCK_SESSION_METADATA_REVISION, &[&old]).await?;
            let Some(row) = found else {
                return Ok(WriteOutcome::Missing);
            };
            if !rows::column::<bool>(&row, 0, "active")? {
                return Ok(WriteOutcome::Inactive);
            }
            if rows::column::<i64>(&row, 1, "metadata_revision")? != expected {
                return Ok(WriteOutcome::Stale);
            }
            if !insert_session(&tx, new).await? {
                return Ok(WriteOutcome::IdTaken);
            }
            execute(&tx, queries::MOVE_STATE, &[&old, &new_id]).await?;
            let (_, cleared) = lock_session(&tx, old)
                .await?
                .ok_or_else(|| Error::storage("the locked session vanished"))?;
            execute(
                &tx,
                queries::SET_CLEARED_STATE_VERSION,
                &[&new_id, &cleared],
            )
            .await?;
            execute(&tx, queries::DELETE_SESSION, &[&old]).await?;
            tx.commit().await?;
            Ok(WriteOutcome::Applied)
        })
    }

    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            for _ in 0..RETRIES {
                if execute(&c, queries::REVOKE_SESSION, &[&id]).await? == 1 {
                    return Ok(WriteOutcome::Applied);
                }
                match query_opt(&c, queries::SESSION_ACTIVE, &[&id]).await? {
                    None => return Ok(WriteOutcome::Missing),
                    Some(row) if !rows::column::<bool>(&row, 0, "active")? => {
                        return Ok(WriteOutcome::Inactive)
                    }
                    Some(_) => {}
                }
            }
            Err(Error::storage("the session kept changing during its revocation").into())
        })
    }

    async fn delete_session(&self, id: &SessionId) -> Result<bool> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            Ok(execute(&c, queries::DELETE_SESSION, &[&id]).await? > 0)
        })
    }

    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            let deleted = execute(
                &c,
                queries::DELETE_EXPIRED_SESSION,
                &[&id, &live.now, &live.idle_cutoff, &live.absolute_cutoff],
            )
            .await?;
            Ok(deleted > 0)
        })
    }

    async fn list_user_sessions(&self, page: &UserPageQuery) -> Result<Vec<SessionRecord>> {
        let user = page.user_id.as_str();
        let limit = i64::from(page.limit);
        with_client!(self, |c| match (&page.after, &page.live) {
            (None, None) => query_sessions(&c, queries::LIST_FIRST, &[&user, &limit]).await,
            (None, Some(live)) => {
                query_sessions(
                    &c,
                    queries::LIST_FIRST_LIVE,
                    &[
                        &user,
                        &limit,
                        &live.now,
                        &live.idle_cutoff,
                        &live.absolute_cutoff,
                    ],
                )
                .await
            }
            (Some(after), None) => {
                query_sessions(
                    &c,
                    queries::LIST_AFTER,
                    &[
                        &user,
                        &limit,
                        &after.last_active_at,
                        &after.id.as_bytes().as_slice(),
                    ],
                )
                .await
            }
            (Some(after), Some(live)) => {
                query_sessions(
                    &c,
                    queries::LIST_AFTER_LIVE,
                    &[
                        &user,
                        &limit,
                        &after.last_active_at,
                        &after.id.as_bytes().as_slice(),
                        &live.now,
                        &live.idle_cutoff,
                        &live.absolute_cutoff,
                    ],
                )
                .await
            }
        })
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>> {
        let except = except.map(|id| id.as_bytes().as_slice());
        with_client!(self, |c| {
            query(
                &c,
                queries::REVOKE_USER_SESSIONS,
                &[
                    &user_id,
                    &except,
                    &live.now,
                    &live.idle_cutoff,
                    &live.absolute_cutoff,
                ],
            )
            .await?
            .iter()
            .map(rows::position_from_row)
            .collect()
        })
    }

    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>> {
        with_client!(self, |c| {
            query(
                &c,
                queries::DELETE_USER_SESSIONS,
                &[&user_id, &i64::from(max)],
            )
            .await?
            .iter()
            .map(|row| rows::session_id(rows::column::<&[u8]>(row, 0, "id")?))
            .collect()
        })
    }

    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64> {
        with_client!(self, |c| match (user_id, live) {
            (Some(user), None) => count(&c, queries::COUNT_USER, &[&user]).await,
            (Some(user), Some(live)) => {
                count(
                    &c,
                    queries::COUNT_USER_LIVE,
                    &[&user, &live.now, &live.idle_cutoff, &live.absolute_cutoff],
                )
                .await
            }
            (None, None) => count(&c, queries::COUNT_ALL, &[]).await,
            (None, Some(live)) => {
                count(
                    &c,
                    queries::COUNT_ALL_LIVE,
                    &[&live.now, &live.idle_cutoff, &live.absolute_cutoff],
                )
                .await
            }
        })
    }
}

#[async_trait]
impl StateStore for PostgresStore {
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            let Some(row) = query_opt(&c, queries::GET_STATE, &[&id]).await? else {
                return Ok(StateLookup::NoSession);
            };
            Ok(match rows::state_from_row(&row, 0)? {
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
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            let cleared = match lock_session(&tx, id).await? {
                None => return Ok(StatePut::Missing),
                Some((false, _)) => return Ok(StatePut::Inactive),
                Some((true, cleared)) => cleared,
            };
            let stored = query_opt(&tx, queries::STATE_VERSION, &[&id]).await?;
            let current = match stored {
                Some(row) => rows::version_from_sql(rows::column(&row, 0, "version")?)?,
                None => 0,
            };
            let versions = StateVersions {
                current,
                cleared: rows::version_from_sql(cleared)?,
            };
            let version = match versions.decide(expected_version)? {
                StateDecision::Conflict(current) => return Ok(StatePut::Conflict(current)),
                StateDecision::Write(version) => version,
            };
            let sql_version = rows::version_to_sql(version)?;
            execute(
                &tx,
                queries::UPSERT_STATE,
                &[&id, &sql_version, &blob, &updated_at],
            )
            .await?;
            tx.commit().await?;
            Ok(StatePut::Written(version))
        })
    }

    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            match lock_session(&tx, id).await? {
                None => return Ok(WriteOutcome::Missing),
                Some((false, _)) => return Ok(WriteOutcome::Inactive),
                Some((true, _)) => {}
            }
            if let Some(row) = query_opt(&tx, queries::DELETE_STATE, &[&id]).await? {
                let version: i64 = rows::column(&row, 0, "version")?;
                execute(&tx, queries::SET_CLEARED_STATE_VERSION, &[&id, &version]).await?;
            }
            tx.commit().await?;
            Ok(WriteOutcome::Applied)
        })
    }
}

#[async_trait]
impl MaintenanceStore for PostgresStore {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        with_client!(self, |c| {
            let mut deleted =
                execute(&c, queries::DELETE_EXPIRED, &[&live.now, &i64::from(max)]).await?;
            if deleted < u64::from(max) {
                // Then the sessions only the configured timeouts expire.
                let rest = i64::from(max) - deleted as i64;
                deleted += execute(
                    &c,
                    queries::DELETE_TIMED_OUT,
                    &[&live.now, &rest, &live.idle_cutoff, &live.absolute_cutoff],
                )
                .await?;
            }
            Ok(deleted)
        })
    }

    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch> {
        // The empty bytea sorts before every 16-byte id: "from the start".
        let after: &[u8] = after.map_or(&[], |id| id.as_bytes().as_slice());
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            let rows = query(&tx, queries::NEXT_IDS, &[&after, &i64::from(max)]).await?;
            let looked: i64 = rows::column(&rows[0], 0, "count")?;
            let Some(last) = rows::column::<Option<Vec<u8>>>(&rows[0], 1, "max")? else {
                return Ok(RevokeBatch::default());
            };
            let revoked = query(
                &tx,
                queries::REVOKE_LIVE_IN_RANGE,
                &[
                    &after,
                    &last,
                    &live.now,
                    &live.idle_cutoff,
                    &live.absolute_cutoff,
                ],
            )
            .await?
            .iter()
            .map(|row| rows::session_id(rows::column::<&[u8]>(row, 0, "id")?))
            .collect::<StoreResult<Vec<_>>>()?;
            tx.commit().await?;
            let next = if looked == i64::from(max) {
                Some(rows::session_id(&last)?)
            } else {
                None
            };
            Ok(RevokeBatch { revoked, next })
        })
    }

    async fn stats(&self, stats: &StatsQuery) -> Result<StoreStats> {
        with_client!(self, |c| {
            // One snapshot for both queries.
            let tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let totals = query(
                &tx,
                queries::STATS_TOTALS,
                &[
                    &stats.live.now,
                    &stats.created_since[0],
                    &stats.created_since[1],
                    &stats.live.idle_cutoff,
                    &stats.live.absolute_cutoff,
                ],
            )
            .await?;
            let row = &totals[0];
            let mut counts = [0u64; 4];
            for (i, value) in counts.iter_mut().enumerate() {
                *value = rows::unsigned(rows::column(row, i, "count")?)?;
            }
            let sum: &str = rows::column(row, 4, "duration sum")?;
            let duration_sum_ms = i128::from_str(sum)
                .map_err(|e| Error::storage(format!("duration sum {sum:?}: {e}")))?;
            let mut by_client_kind = Vec::new();
            for row in query(&tx, queries::STATS_BY_KIND, &[]).await? {
                let name: &str = rows::column(&row, 0, "client_kind")?;
                let kind = ClientKind::parse(name)
                    .map_err(|_| Error::corrupt(format!("stored client_kind {name:?}")))?;
                by_client_kind.push((kind, rows::unsigned(rows::column(&row, 1, "count")?)?));
            }
            tx.commit().await?;
            let [total, active, day, week] = counts;
            Ok(StoreStats {
                total,
                active,
                created_since: [day, week],
                by_client_kind,
                duration_sum_ms,
            })
        })
    }

    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>> {
        let after: &[u8] = after.map_or(&[], |id| id.as_bytes().as_slice());
        with_client!(self, |c| {
            query(&c, queries::SCAN_SESSIONS, &[&after, &i64::from(limit)])
                .await?
                .iter()
                .map(rows::stored_session_from_row)
                .collect()
        })
    }

    async fn import_session(&self, session: &StoredSession) -> Result<bool> {
        let id = session.record.session.id.as_bytes().as_slice();
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            if !insert_session(&tx, &session.record).await? {
                return Ok(false);
            }
            if let Some(state) = &session.state {
                let version = rows::version_to_sql(state.version)?;
                execute(
                    &tx,
                    queries::INSERT_STATE,
                    &[&id, &version, &state.blob, &state.updated_at],
                )
                .await?;
            } else if session.cleared_state_version > 0 {
                let cleared = rows::version_to_sql(session.cleared_state_version)?;
                execute(&tx, queries::SET_CLEARED_STATE_VERSION, &[&id, &cleared]).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool> {
        let id = id.as_bytes().as_slice();
        with_client!(self, |c| {
            let version = rows::version_to_sql(version)?;
            Ok(execute(&c, queries::REWRITE_STATE, &[&id, &version, &blob]).await? == 1)
        })
    }
}

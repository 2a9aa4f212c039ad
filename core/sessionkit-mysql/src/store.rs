//! `MysqlStore`: the [`Store`](sessionkit::Store) contract over a pool of MySQL/MariaDB
//! connections.
//!
//! Every connection runs at `READ COMMITTED` with strict SQL mode and `CLIENT_FOUND_ROWS` (an
//! `UPDATE` reports the rows it matched, not only those whose values changed). Each method is
//! one statement or one short InnoDB transaction:
//!
//! - a conditional write is one `UPDATE ... WHERE id = ? AND active ...`: InnoDB evaluates the
//!   condition on the newest committed version of a row once it holds the row's lock, so no
//!   interleaving revives a revoked session or loses a compare-and-swap; when it matches no
//!   row, a read says why (and the write is tried again in the rare case the read finds the row
//!   writable: another writer changed it in between);
//! - a write that reads first (`put_state`, `clear_state`, `rotate_session`, `import_session`)
//!   locks the session's row (`SELECT ... FOR UPDATE`) before reading;
//! - writes that must report which rows they changed (MySQL has no `UPDATE ... RETURNING`)
//!   lock those rows with `SELECT ... FOR UPDATE`, then change exactly the ids they locked;
//! - an insert under the per-user limit first locks the user's row in `sessionkit_users`
//!   (`INSERT ... ON DUPLICATE KEY UPDATE`, held to commit), so concurrent inserts for one user
//!   — on any connection of any process — read the user's live sessions one after the other,
//!   each after the previous one committed (`GET_LOCK` would not do: it belongs to the
//!   connection, not the transaction);
//! - creation is insert-only: a taken id is the server's duplicate-key refusal, never an
//!   overwrite (no `INSERT IGNORE`, no `REPLACE`);
//! - `stats` reads in one `REPEATABLE READ` consistent snapshot.
//!
//! Each method matches [`sessionkit::MemoryStore`] outcome for outcome and order for order.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{
    Conn, IsolationLevel, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, Transaction,
    TxOpts, Value,
};
use serde_json::{Map, Value as Json};
use sessionkit::{
    ClientKind, Error, InsertOutcome, LimitDecision, Liveness, MaintenanceStore, Result,
    RevokeBatch, SessionId, SessionLimit, SessionPosition, SessionRecord, SessionStore,
    StateDecision, StateLookup, StatePut, StateStore, StateVersions, StatsQuery, StoreStats,
    StoredSession, UserPageQuery, WriteOutcome,
};
use tokio::runtime::Handle;

use crate::error::{StoreError, StoreResult};
use crate::{migrations, queries, rows};
use sessionkit_netstore::StoreRuntime;

/// How a [`MysqlStore`] is opened.
#[derive(Debug, Clone)]
pub struct MysqlOptions {
    /// Connections in the pool at most (default 16).
    pub max_connections: usize,
    /// How long a caller waits for a connection before `Storage` (default 30 s).
    pub wait_timeout: Duration,
    /// The runtime that runs the store's operations; `None` (the default): the store starts its
    /// own (two worker threads), which works from any caller, async or not.
    pub runtime: Option<Handle>,
}

impl Default for MysqlOptions {
    fn default() -> Self {
        MysqlOptions {
            max_connections: 16,
            wait_timeout: Duration::from_secs(30),
            runtime: None,
        }
    }
}

/// A [`Store`](sessionkit::Store) in a MySQL (8.0 or newer) or MariaDB (10.8 or newer)
/// database, shareable across threads (`Arc<MysqlStore>`) and processes.
pub struct MysqlStore {
    pool: Pool,
    /// Where the operations run.
    ///
    /// mysql_async's connections poll their own sockets with tokio's reactor and its pool spawns its
    /// recycler on tokio, so — unlike a channel-based client — no part of an operation may be polled
    /// on another executor. The store runs each *whole* operation (taking the connection, every
    /// statement, the commit) as one task on this runtime and awaits the task's handle, which any
    /// executor can do: tokio tasks, `pollster::block_on`, a plain thread.
    ///
    runtime: StoreRuntime,
    wait_timeout: Duration,
    max_connections: usize,
}

impl fmt::Debug for MysqlStore {
    // The connection string may hold a password: only the pool's shape is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlStore")
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// Statement parameters, in order.
macro_rules! p {
    ($($value:expr),* $(,)?) => {
        vec![$(Value::from($value)),*]
    };
}

/// What a statement changed: the rows it matched (`CLIENT_FOUND_ROWS`).
trait Affected {
    fn affected(&self) -> u64;
}

impl Affected for Conn {
    fn affected(&self) -> u64 {
        self.affected_rows()
    }
}

impl Affected for Transaction<'_> {
    fn affected(&self) -> u64 {
        self.affected_rows()
    }
}

/// Runs a statement; the rows it matched.
async fn execute<C: Queryable + Affected>(
    c: &mut C,
    sql: &str,
    params: Vec<Value>,
) -> StoreResult<u64> {
    c.exec_drop(sql, params).await?;
    Ok(c.affected())
}

/// Runs a query; its rows.
async fn query<C: Queryable>(c: &mut C, sql: &str, params: Vec<Value>) -> StoreResult<Vec<Row>> {
    Ok(c.exec(sql, params).await?)
}

/// Runs a query of at most one row.
async fn query_opt<C: Queryable>(
    c: &mut C,
    sql: &str,
    params: Vec<Value>,
) -> StoreResult<Option<Row>> {
    Ok(c.exec_first(sql, params).await?)
}

/// Runs a session query and decodes every row.
async fn query_sessions<C: Queryable>(
    c: &mut C,
    sql: &str,
    params: Vec<Value>,
) -> StoreResult<Vec<SessionRecord>> {
    query(c, sql, params)
        .await?
        .iter_mut()
        .map(rows::session_from_row)
        .collect()
}

/// A `COUNT(*)` as the trait reports it.
async fn count<C: Queryable>(c: &mut C, sql: &str, params: Vec<Value>) -> StoreResult<u64> {
    let mut row = query_opt(c, sql, params)
        .await?
        .ok_or_else(|| Error::storage("mysql: a count returned no row"))?;
    Ok(rows::unsigned(rows::column(&mut row, 0, "count")?)?)
}

/// Inserts `record` unless its id is taken; whether it did. A failed insert changes nothing
/// (MySQL rolls back the one statement; the transaction goes on).
async fn insert_session<C: Queryable + Affected>(
    c: &mut C,
    record: &SessionRecord,
) -> StoreResult<bool> {
    match execute(c, queries::INSERT_SESSION, rows::session_params(record)?).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_duplicate_key() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether session `id` exists (`None` if not) and is active, its row locked until the end of
/// the transaction; with its cleared-state version.
async fn lock_session<C: Queryable>(c: &mut C, id: &[u8]) -> StoreResult<Option<(bool, i64)>> {
    match query_opt(c, queries::LOCK_SESSION, p![id]).await? {
        Some(mut row) => Ok(Some((
            rows::column(&mut row, 0, "active")?,
            rows::column(&mut row, 1, "cleared_state_version")?,
        ))),
        None => Ok(None),
    }
}

/// The sizes an id list is padded to (by repeating its last id), so a handful of statement
/// texts serve every list and the per-connection statement cache is not churned.
const IN_LIST_SIZES: [usize; 6] = [1, 4, 16, 64, 256, 1024];

/// Runs `prefix` (`... WHERE id IN `) over `ids`, in padded chunks; the rows matched.
async fn execute_for_ids<C: Queryable + Affected>(
    c: &mut C,
    prefix: &str,
    ids: &[SessionId],
) -> StoreResult<u64> {
    let mut matched = 0;
    for chunk in ids.chunks(IN_LIST_SIZES[IN_LIST_SIZES.len() - 1]) {
        let size = IN_LIST_SIZES
            .iter()
            .copied()
            .find(|&n| n >= chunk.len())
            .unwrap_or(chunk.len());
        let mut sql = String::with_capacity(prefix.len() + size * 3 + 2);
        sql.push_str(prefix);
        sql.push('(');
        let mut params = Vec::with_capacity(size);
        for i in 0..size {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
            let id = chunk.get(i).unwrap_or(&chunk[chunk.len() - 1]);
            params.push(Value::from(id.as_bytes().as_slice()));
        }
        sql.push(')');
        matched += execute(c, &sql, params).await?;
    }
    Ok(matched)
}

/// How many times a conditional write is tried when the read that explains its failure finds
/// the row writable (another writer changed it in between).
const RETRIES: usize = 8;

/// How long an idle pooled connection is kept open.
pub(crate) const IDLE_CONNECTION_TTL: Duration = Duration::from_secs(60);

/// Statements run on every connection when it is made.
const SESSION_SETUP: [&str; 2] = [
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'",
];

/// A transaction at the connections' level, `READ COMMITTED`.
fn read_committed() -> TxOpts {
    let mut options = TxOpts::new();
    options.with_isolation_level(IsolationLevel::ReadCommitted);
    options
}

/// The connection options of `url` (`mariadb://` is another name for `mysql://`), which must
/// name a database; else `InvalidInput { field: "db" }`. The store and the event relay share it.
pub(crate) fn connection_opts(url: &str) -> Result<Opts> {
    let url = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
            format!("mysql://{rest}")
        }
        _ => url.to_owned(),
    };
    let opts = Opts::from_str(&url)
        .map_err(|e| Error::invalid_input("db", format!("not a MySQL connection URL: {e}")))?;
    if opts.db_name().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(
            "db",
            "the URL names no database (mysql://user@host:port/DATABASE)",
        ));
    }
    Ok(opts)
}

impl MysqlStore {
    /// Connects to the database at `url` (`mysql://user:password@host:port/dbname`) with the
    /// default options, and brings its schema up to [`crate::SCHEMA_VERSION`]. Blocks until
    /// done; callable from sync and async code.
    ///
    /// A database whose schema is newer is `IncompatibleSchema` and is left untouched; a bad URL
    /// (or one naming no database) is `InvalidInput { field: "db" }`; a server that cannot be
    /// reached is `Storage`.
    pub fn open(url: &str) -> Result<MysqlStore> {
        Self::open_with(url, MysqlOptions::default())
    }

    /// [`MysqlStore::open`] with `options`. With `options.runtime`, blocks the calling thread
    /// while the runtime connects: do not call it from that runtime's only worker (use
    /// [`MysqlStore::connect`] there).
    pub fn open_with(url: &str, options: MysqlOptions) -> Result<MysqlStore> {
        let store = Self::build(url, &options)?;
        pollster::block_on(store.migrate())?;
        Ok(store)
    }

    /// [`MysqlStore::open_with`] for async callers: awaits instead of blocking.
    pub async fn connect(url: &str, options: MysqlOptions) -> Result<MysqlStore> {
        let store = Self::build(url, &options)?;
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        self.run(|mut conn| async move {
            migrations::migrate(&mut conn).await?;
            Ok(())
        })
        .await
    }

    fn build(url: &str, options: &MysqlOptions) -> Result<MysqlStore> {
        let opts = connection_opts(url)?;
        let max = options.max_connections.max(1);
        let constraints = PoolConstraints::new(0, max)
            .ok_or_else(|| Error::invalid_input("max_connections", "must be at least 1"))?;
        let opts = OptsBuilder::from_opts(opts)
            .client_found_rows(true)
            .setup(SESSION_SETUP.to_vec())
            // A connection handed back stays open, idle, for a minute (with the driver's
            // default of 0 it would be closed at once: a new connection per operation), and
            // keeps its session (the setup above; the driver rolls back a transaction left
            // open): resetting it each time would cost three round trips per operation.
            .pool_opts(
                PoolOpts::default()
                    .with_constraints(constraints)
                    .with_inactive_connection_ttl(IDLE_CONNECTION_TTL)
                    .with_reset_connection(false),
            );
        let runtime = StoreRuntime::shared_or_own(options.runtime.clone(), "sessionkit-mysql", 2)?;
        Ok(MysqlStore {
            pool: Pool::new(opts),
            runtime,
            wait_timeout: options.wait_timeout,
            max_connections: max,
        })
    }

    /// The bare baseline of the benchmarks: the session row by id (the statement `get_session`
    /// runs), through the same pool, not decoded; how many rows came back.
    #[doc(hidden)]
    pub async fn bench_bare_lookup(&self, id: &SessionId) -> Result<usize> {
        let id = *id.as_bytes();
        self.run(move |mut c| async move {
            Ok(query(&mut c, queries::GET_SESSION, p![&id[..]])
                .await?
                .len())
        })
        .await
    }

    /// The bare baseline of the benchmarks: one insert statement of `record`, through the same
    /// pool, no transaction, no limit; whether it inserted.
    #[doc(hidden)]
    pub async fn bench_bare_insert(&self, record: &SessionRecord) -> Result<bool> {
        let record = record.clone();
        self.run(move |mut c| async move { insert_session(&mut c, &record).await })
            .await
    }

    /// Runs one whole operation on a pooled connection, as a task on the store's runtime (the
    /// driver's sockets belong to it); any executor can await the result.
    async fn run<T, F, Fut>(&self, operation: F) -> Result<T>
    where
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = StoreResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let wait = self.wait_timeout;
        let task = self.runtime.handle().spawn(async move {
            let conn = match tokio::time::timeout(wait, pool.get_conn()).await {
                Ok(conn) => conn?,
                Err(_) => {
                    return Err(StoreError::from(Error::storage(format!(
                        "mysql: no connection within {} ms",
                        wait.as_millis()
                    ))))
                }
            };
            operation(conn).await
        });
        task.await
            .map_err(|e| Error::storage(format!("mysql: the operation's task failed: {e}")))?
            .map_err(Error::from)
    }
}

#[async_trait]
impl SessionStore for MysqlStore {
    async fn insert_session(
        &self,
        record: &SessionRecord,
        limit: Option<&SessionLimit>,
    ) -> Result<InsertOutcome> {
        let record = record.clone();
        let limit = limit.cloned();
        if limit.is_none() {
            // No limit to check: the insert-only statement alone is the whole operation.
            return self
                .run(move |mut c| async move {
                    Ok(if insert_session(&mut c, &record).await? {
                        InsertOutcome::Inserted {
                            evicted: Vec::new(),
                        }
                    } else {
                        InsertOutcome::IdTaken
                    })
                })
                .await;
        }
        self.run(move |mut c| async move {
            let id = record.session.id.as_bytes().as_slice();
            let user = record.session.user_id.as_bytes();
            let mut tx = c.start_transaction(read_committed()).await?;
            if limit.is_some() {
                execute(&mut tx, queries::LOCK_USER, p![user]).await?;
            }
            if query_opt(&mut tx, queries::SESSION_ACTIVE, p![id])
                .await?
                .is_some()
            {
                return Ok(InsertOutcome::IdTaken);
            }
            let evicted = match &limit {
                None => Vec::new(),
                Some(limit) => {
                    let live = query(
                        &mut tx,
                        queries::LIVE_POSITIONS_OF_USER,
                        p![
                            user,
                            limit.live.now,
                            limit.live.idle_cutoff,
                            limit.live.absolute_cutoff
                        ],
                    )
                    .await?
                    .iter_mut()
                    .map(rows::position_from_row)
                    .collect::<StoreResult<Vec<_>>>()?;
                    match limit.decide(live) {
                        LimitDecision::Admit { evict } => evict,
                        LimitDecision::Reject => return Ok(InsertOutcome::LimitReached),
                    }
                }
            };
            if !evicted.is_empty() {
                execute_for_ids(&mut tx, queries::REVOKE_IDS, &evicted).await?;
            }
            if !insert_session(&mut tx, &record).await? {
                // Inserted meanwhile by another transaction: dropping `tx` rolls back.
                return Ok(InsertOutcome::IdTaken);
            }
            tx.commit().await?;
            Ok(InsertOutcome::Inserted { evicted })
        })
        .await
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>> {
        let id = *id.as_bytes();
        self.run(move |mut c| async move {
            Ok(query_sessions(&mut c, queries::GET_SESSION, p![&id[..]])
                .await?
                .into_iter()
                .next())
        })
        .await
    }

    async fn touch_session(
        &self,
        id: &SessionId,
        last_active_at: i64,
        expires_at: i64,
        live: &Liveness,
    ) -> Result<WriteOutcome> {
        let id = *id.as_bytes();
        let live = *live;
        self.run(move |mut c| async move {
            let id = &id[..];
            for _ in 0..RETRIES {
                let changed = execute(
                    &mut c,
                    queries::TOUCH_SESSION,
                    p![
                        last_active_at,
                        expires_at,
                        id,
                        live.now,
                        live.idle_cutoff,
                        live.absolute_cutoff,
                        last_active_at
                    ],
                )
                .await?;
                if changed == 1 {
                    return Ok(WriteOutcome::Applied);
                }
                let Some(mut row) = query_opt(&mut c, queries::SESSION_TIMES, p![id]).await? else {
                    return Ok(WriteOutcome::Missing);
                };
                let active: bool = rows::column(&mut row, 0, "active")?;
                let created: i64 = rows::column(&mut row, 1, "created_at")?;
                let last: i64 = rows::column(&mut row, 2, "last_active_at")?;
                let expires: i64 = rows::column(&mut row, 3, "expires_at")?;
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
        .await
    }

    async fn replace_metadata(
        &self,
        id: &SessionId,
        expected_revision: u64,
        metadata: &Map<String, Json>,
        revision: u64,
    ) -> Result<WriteOutcome> {
        let id = *id.as_bytes();
        let text = rows::metadata_text(metadata)?;
        let expected = rows::version_to_sql(expected_revision)?;
        let revision = rows::version_to_sql(revision)?;
        self.run(move |mut c| async move {
            let id = &id[..];
            for _ in 0..RETRIES {
                let changed = execute(
                    &mut c,
                    queries::REPLACE_METADATA,
                    p![text.as_str(), revision, id, expected],
                )
                .await?;
                if changed == 1 {
                    return Ok(WriteOutcome::Applied);
                }
                let Some(mut row) =
                    query_opt(&mut c, queries::SESSION_METADATA_REVISION, p![id]).await?
                else {
                    return Ok(WriteOutcome::Missing);
                };
                if !rows::column::<bool>(&mut row, 0, "active")? {
                    return Ok(WriteOutcome::Inactive);
                }
                if rows::column::<i64>(&mut row, 1, "metadata_revision")? != expected {
                    return Ok(WriteOutcome::Stale);
                }
            }
            Ok(WriteOutcome::Stale)
        })
        .await
    }

    async fn rotate_session(
        &self,
        old: &SessionId,
        expected_revision: u64,
        new: &SessionRecord,
    ) -> Result<WriteOutcome> {
        let old = *old.as_bytes();
        let new = new.clone();
        let expected = rows::version_to_sql(expected_revision)?;
        self.run(move |mut c| async move {
            let old = &old[..];
            let new_id = new.session.id.as_bytes().as_slice();
            let mut tx = c.start_transaction(read_committed()).await?;
            let found =
                query_opt(&mut tx, queries::LOCK_SESSION_METADATA_REVISION, p![old]).await?;
            let Some(mut row) = found else {
                return Ok(WriteOutcome::Missing);
            };
            if !rows::column::<bool>(&mut row, 0, "active")? {
                return Ok(WriteOutcome::Inactive);
            }
            if rows::column::<i64>(&mut row, 1, "metadata_revision")? != expected {
                return Ok(WriteOutcome::Stale);
            }
            if !insert_session(&mut tx, &new).await? {
                return Ok(WriteOutcome::IdTaken);
            }
            execute(&mut tx, queries::MOVE_STATE, p![new_id, old]).await?;
            let (_, cleared) = lock_session(&mut tx, old)
                .await?
                .ok_or_else(|| Error::storage("the locked session vanished"))?;
            execute(
                &mut tx,
                queries::SET_CLEARED_STATE_VERSION,
                p![cleared, new_id],
            )
            .await?;
            execute(&mut tx, queries::DELETE_SESSION, p![old]).await?;
            tx.commit().await?;
            Ok(WriteOutcome::Applied)
        })
        .await
    }

    async fn revoke_session(&self, id: &SessionId) -> Result<WriteOutcome> {
        let id = *id.as_bytes();
        self.run(move |mut c| async move {
            let id = &id[..];
            for _ in 0..RETRIES {
                if execute(&mut c, queries::REVOKE_SESSION, p![id]).await? == 1 {
                    return Ok(WriteOutcome::Applied);
                }
                let Some(mut row) = query_opt(&mut c, queries::SESSION_ACTIVE, p![id]).await?
                else {
                    return Ok(WriteOutcome::Missing);
                };
                if !rows::column::<bool>(&mut row, 0, "active")? {
                    return Ok(WriteOutcome::Inactive);
                }
            }
            Err(Error::storage("the session kept changing during its revocation").into())
        })
        .await
    }

    async fn delete_session(&self, id: &SessionId) -> Result<bool> {
        let id = *id.as_bytes();
        self.run(move |mut c| async move {
            Ok(execute(&mut c, queries::DELETE_SESSION, p![&id[..]]).await? > 0)
        })
        .await
    }

    async fn delete_expired_session(&self, id: &SessionId, live: &Liveness) -> Result<bool> {
        let id = *id.as_bytes();
        let live = *live;
        self.run(move |mut c| async move {
            let deleted = execute(
                &mut c,
                queries::DELETE_EXPIRED_SESSION,
                p![&id[..], live.now, live.idle_cutoff, live.absolute_cutoff],
            )
            .await?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list_user_sessions(&self, page: &UserPageQuery) -> Result<Vec<SessionRecord>> {
        let page = page.clone();
        self.run(move |mut c| async move {
            let user = page.user_id.as_bytes();
            let limit = i64::from(page.limit);
            let (sql, params) = match (&page.after, &page.live) {
                (None, None) => (queries::LIST_FIRST, p![user, limit]),
                (None, Some(live)) => (
                    queries::LIST_FIRST_LIVE,
                    p![
                        user,
                        live.now,
                        live.idle_cutoff,
                        live.absolute_cutoff,
                        limit
                    ],
                ),
                (Some(after), None) => (
                    queries::LIST_AFTER,
                    p![
                        user,
                        after.last_active_at,
                        after.last_active_at,
                        after.id.as_bytes().as_slice(),
                        limit
                    ],
                ),
                (Some(after), Some(live)) => (
                    queries::LIST_AFTER_LIVE,
                    p![
                        user,
                        after.last_active_at,
                        after.last_active_at,
                        after.id.as_bytes().as_slice(),
                        live.now,
                        live.idle_cutoff,
                        live.absolute_cutoff,
                        limit
                    ],
                ),
            };
            query_sessions(&mut c, sql, params).await
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
        live: &Liveness,
    ) -> Result<Vec<SessionPosition>> {
        let user = user_id.to_owned();
        // The empty id differs from every stored one: "except none".
        let except: Vec<u8> = except.map_or_else(Vec::new, |id| id.as_bytes().to_vec());
        let live = *live;
        self.run(move |mut c| async move {
            let mut tx = c.start_transaction(read_committed()).await?;
            let positions = query(
                &mut tx,
                queries::LOCK_LIVE_OF_USER,
                p![
                    user.as_bytes(),
                    except.as_slice(),
                    live.now,
                    live.idle_cutoff,
                    live.absolute_cutoff
                ],
            )
            .await?
            .iter_mut()
            .map(rows::position_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
            if !positions.is_empty() {
                let ids: Vec<SessionId> = positions.iter().map(|p| p.id).collect();
                execute_for_ids(&mut tx, queries::REVOKE_IDS, &ids).await?;
            }
            tx.commit().await?;
            Ok(positions)
        })
        .await
    }

    async fn delete_user_sessions(&self, user_id: &str, max: u32) -> Result<Vec<SessionId>> {
        let user = user_id.to_owned();
        self.run(move |mut c| async move {
            let mut tx = c.start_transaction(read_committed()).await?;
            let ids = query(
                &mut tx,
                queries::LOCK_USER_SESSIONS,
                p![user.as_bytes(), i64::from(max)],
            )
            .await?
            .iter_mut()
            .map(rows::id_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
            if !ids.is_empty() {
                execute_for_ids(&mut tx, queries::DELETE_IDS, &ids).await?;
            }
            tx.commit().await?;
            Ok(ids)
        })
        .await
    }

    async fn count_sessions(&self, user_id: Option<&str>, live: Option<&Liveness>) -> Result<u64> {
        let user = user_id.map(str::to_owned);
        let live = live.copied();
        self.run(move |mut c| async move {
            match (&user, live) {
                (Some(user), None) => count(&mut c, queries::COUNT_USER, p![user.as_bytes()]).await,
                (Some(user), Some(live)) => {
                    count(
                        &mut c,
                        queries::COUNT_USER_LIVE,
                        p![
                            user.as_bytes(),
                            live.now,
                            live.idle_cutoff,
                            live.absolute_cutoff
                        ],
                    )
                    .await
                }
                (None, None) => count(&mut c, queries::COUNT_ALL, p![]).await,
                (None, Some(live)) => {
                    count(
                        &mut c,
                        queries::COUNT_ALL_LIVE,
                        p![live.now, live.idle_cutoff, live.absolute_cutoff],
                    )
                    .await
                }
            }
        })
        .await
    }
}

#[async_trait]
impl StateStore for MysqlStore {
    async fn get_state(&self, id: &SessionId) -> Result<StateLookup> {
        let id = *id.as_bytes();
        self.run(move |mut c| async move {
            let Some(mut row) = query_opt(&mut c, queries::GET_STATE, p![&id[..]]).await? else {
                return Ok(StateLookup::NoSession);
            };
            Ok(match rows::state_from_row(&mut row, 0)? {
                None => StateLookup::Empty,
                Some(state) => StateLookup::Found(state),
            })
        })
        .await
    }

    async fn put_state(
        &self,
        id: &SessionId,
        expected_version: Option<u64>,
        blob: &[u8],
        updated_at: i64,
    ) -> Result<StatePut> {
        let id = *id.as_bytes();
        let blob = blob.to_vec();
        self.run(move |mut c| async move {
            let id = &id[..];
            let mut tx = c.start_transaction(read_committed()).await?;
            let cleared = match lock_session(&mut tx, id).await? {
                None => return Ok(StatePut::Missing),
                Some((false, _)) => return Ok(StatePut::Inactive),
                Some((true, cleared)) => cleared,
            };
            let current = match query_opt(&mut tx, queries::STATE_VERSION, p![id]).await? {
                Some(mut row) => rows::version_from_sql(rows::column(&mut row, 0, "version")?)?,
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
                &mut tx,
                queries::UPSERT_STATE,
                p![id, sql_version, blob, updated_at],
            )
            .await?;
            tx.commit().await?;
            Ok(StatePut::Written(version))
        })
        .await
    }

    async fn clear_state(&self, id: &SessionId) -> Result<WriteOutcome> {
        let id = *id.as_bytes();
        self.run(move |mut c| async move {
            let id = &id[..];
            let mut tx = c.start_transaction(read_committed()).await?;
            match lock_session(&mut tx, id).await? {
                None => return Ok(WriteOutcome::Missing),
                Some((false, _)) => return Ok(WriteOutcome::Inactive),
                Some((true, _)) => {}
            }
            if let Some(mut row) = query_opt(&mut tx, queries::STATE_VERSION, p![id]).await? {
                let version: i64 = rows::column(&mut row, 0, "version")?;
                execute(&mut tx, queries::DELETE_STATE, p![id]).await?;
                execute(&mut tx, queries::SET_CLEARED_STATE_VERSION, p![version, id]).await?;
            }
            tx.commit().await?;
            Ok(WriteOutcome::Applied)
        })
        .await
    }
}

#[async_trait]
impl MaintenanceStore for MysqlStore {
    async fn delete_expired(&self, live: &Liveness, max: u32) -> Result<u64> {
        let live = *live;
        self.run(move |mut c| async move {
            let mut deleted = execute(
                &mut c,
                queries::DELETE_EXPIRED,
                p![live.now, i64::from(max)],
            )
            .await?;
            if deleted < u64::from(max) {
                // Then the sessions only the configured timeouts expire.
                let rest = u64::from(max) - deleted;
                deleted += execute(
                    &mut c,
                    queries::DELETE_TIMED_OUT,
                    p![live.now, live.idle_cutoff, live.absolute_cutoff, rest],
                )
                .await?;
            }
            Ok(deleted)
        })
        .await
    }

    async fn revoke_live_sessions(
        &self,
        after: Option<&SessionId>,
        max: u32,
        live: &Liveness,
    ) -> Result<RevokeBatch> {
        // The empty id sorts before every 16-byte id: "from the start".
        let after: Vec<u8> = after.map_or_else(Vec::new, |id| id.as_bytes().to_vec());
        let live = *live;
        self.run(move |mut c| async move {
            let mut tx = c.start_transaction(read_committed()).await?;
            let mut batch = query_opt(
                &mut tx,
                queries::NEXT_IDS,
                p![after.as_slice(), i64::from(max)],
            )
            .await?
            .ok_or_else(|| Error::storage("mysql: the batch query returned no row"))?;
            let looked: i64 = rows::column(&mut batch, 0, "count")?;
            let Some(last) = rows::column::<Option<Vec<u8>>>(&mut batch, 1, "max")? else {
                return Ok(RevokeBatch::default());
            };
            let revoked = query(
                &mut tx,
                queries::LOCK_LIVE_IN_RANGE,
                p![
                    after.as_slice(),
                    last.as_slice(),
                    live.now,
                    live.idle_cutoff,
                    live.absolute_cutoff
                ],
            )
            .await?
            .iter_mut()
            .map(rows::id_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
            if !revoked.is_empty() {
                execute_for_ids(&mut tx, queries::REVOKE_IDS, &revoked).await?;
            }
            tx.commit().await?;
            let next = if looked == i64::from(max) {
                Some(rows::session_id(&last)?)
            } else {
                None
            };
            Ok(RevokeBatch { revoked, next })
        })
        .await
    }

    async fn stats(&self, stats: &StatsQuery) -> Result<StoreStats> {
        let stats = *stats;
        self.run(move |mut c| async move {
            // One snapshot for both queries.
            let mut options = TxOpts::new();
            options
                .with_isolation_level(IsolationLevel::RepeatableRead)
                .with_consistent_snapshot(true)
                .with_readonly(true);
            let mut tx = c.start_transaction(options).await?;
            let mut row = query_opt(
                &mut tx,
                queries::STATS_TOTALS,
                p![
                    stats.live.now,
                    stats.live.idle_cutoff,
                    stats.live.absolute_cutoff,
                    stats.created_since[0],
                    stats.created_since[1]
                ],
            )
            .await?
            .ok_or_else(|| Error::storage("mysql: the totals query returned no row"))?;
            let mut counts = [0u64; 4];
            for (i, value) in counts.iter_mut().enumerate() {
                *value = rows::unsigned(rows::column(&mut row, i, "count")?)?;
            }
            let sum: String = rows::column(&mut row, 4, "duration sum")?;
            let duration_sum_ms = i128::from_str(&sum)
                .map_err(|e| Error::storage(format!("duration sum {sum:?}: {e}")))?;
            let mut by_client_kind = Vec::new();
            for mut row in query(&mut tx, queries::STATS_BY_KIND, p![]).await? {
                let name: String = rows::column(&mut row, 0, "client_kind")?;
                let kind = ClientKind::parse(&name)
                    .map_err(|_| Error::corrupt(format!("stored client_kind {name:?}")))?;
                by_client_kind.push((kind, rows::unsigned(rows::column(&mut row, 1, "count")?)?));
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
        .await
    }

    async fn scan_sessions(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<StoredSession>> {
        let after: Vec<u8> = after.map_or_else(Vec::new, |id| id.as_bytes().to_vec());
        self.run(move |mut c| async move {
            query(
                &mut c,
                queries::SCAN_SESSIONS,
                p![after.as_slice(), i64::from(limit)],
            )
            .await?
            .iter_mut()
            .map(rows::stored_session_from_row)
            .collect()
        })
        .await
    }

    async fn import_session(&self, session: &StoredSession) -> Result<bool> {
        let session = session.clone();
        self.run(move |mut c| async move {
            let id = session.record.session.id.as_bytes().as_slice();
            let mut tx = c.start_transaction(read_committed()).await?;
            if !insert_session(&mut tx, &session.record).await? {
                return Ok(false);
            }
            if let Some(state) = &session.state {
                let version = rows::version_to_sql(state.version)?;
                execute(
                    &mut tx,
                    queries::INSERT_STATE,
                    p![id, version, state.blob.as_slice(), state.updated_at],
                )
                .await?;
            } else if session.cleared_state_version > 0 {
                let cleared = rows::version_to_sql(session.cleared_state_version)?;
                execute(&mut tx, queries::SET_CLEARED_STATE_VERSION, p![cleared, id]).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn rewrite_state(&self, id: &SessionId, version: u64, blob: &[u8]) -> Result<bool> {
        let id = *id.as_bytes();
        let blob = blob.to_vec();
        let version = rows::version_to_sql(version)?;
        self.run(move |mut c| async move {
            Ok(execute(&mut c, queries::REWRITE_STATE, p![blob, &id[..], version]).await? == 1)
        })
        .await
    }
}

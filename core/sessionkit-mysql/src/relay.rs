//! Events across servers on MySQL/MariaDB, which has no `LISTEN/NOTIFY`: an events table,
//! polled.
//!
//! A [`MysqlEventRelay`] appends what its process [`publish`](MysqlEventRelay::publish)es — the
//! engine's events, after their change is stored — to `sessionkit_events` (queued, so a
//! manager's listener never waits for the network), and reads every
//! [`poll_interval`](MysqlRelayOptions::poll_interval) the rows after the last one it saw,
//! handing the other processes' events to its [`subscribe`](MysqlEventRelay::subscribe)rs (its
//! own are skipped by their origin, a random id). So an event reaches the other servers within
//! one poll interval (200 ms by default), plus the query.
//!
//! - **Order and gaps.** Rows are read in `seq` (auto-increment) order. A transaction may commit
//!   a lower `seq` after a higher one is visible, so a missing `seq` below the newest seen is
//!   looked for again at each poll for [`GAP_WAIT`] before it is given up (an insert that
//!   failed or rolled back leaves a `seq` that never appears).
//! - **Retention.** Rows older than [`retention`](MysqlRelayOptions::retention) (5 minutes by
//!   default) are deleted by each relay every 30 s, in batches of 10,000 (up to ten a pass):
//!   the table stays bounded.
//!   A relay whose database was unreachable for a while catches up from the table when it comes
//!   back, as far as the retention reaches.
//! - A relay starts from the newest row there is: it receives what is published from then on.
//!
//! The engine stays free of I/O: the relay is the store crate's, wired by the face that runs a
//! server (the CLI's `serve`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::{OptsBuilder, Pool, PoolConstraints, PoolOpts};
use serde::{Deserialize, Serialize};
use sessionkit::{Error, Event, Result};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::StoreResult;
use crate::migrations;
use sessionkit_netstore::StoreRuntime;

/// How long a missing `seq` below the newest seen one is waited for.
pub const GAP_WAIT: Duration = Duration::from_secs(2);

/// Remote events buffered per subscriber before it is told it lagged.
const SUBSCRIBER_CAPACITY: usize = 1024;
/// Rows read per poll at most.
const POLL_BATCH: i64 = 1000;
/// Rows deleted per retention pass at most.
const RETENTION_BATCH: i64 = 10_000;
/// How often old rows are deleted.
const RETENTION_EVERY: Duration = Duration::from_secs(30);
/// Missing `seq`s tracked at most (beyond, a jump is taken as final).
const MAX_GAPS: i64 = 10_000;

/// How a [`MysqlEventRelay`] polls and keeps events.
#[derive(Debug, Clone)]
pub struct MysqlRelayOptions {
    /// How often the table is read (default 200 ms): the latency of an event between servers.
    pub poll_interval: Duration,
    /// How long rows are kept (default 5 minutes).
    pub retention: Duration,
}

impl Default for MysqlRelayOptions {
    fn default() -> Self {
        MysqlRelayOptions {
            poll_interval: Duration::from_millis(200),
            retention: Duration::from_secs(300),
        }
    }
}

/// What a row's payload holds.
#[derive(Serialize, Deserialize)]
struct Payload {
    event: Event,
}

/// Publishes this process's events to, and receives the events of, every other process on one
/// MySQL/MariaDB database. Dropping it stops its task.
pub struct MysqlEventRelay {
    outgoing: mpsc::UnboundedSender<String>,
    incoming: broadcast::Sender<Event>,
    // Declared last: dropped after the channels, so its task sees them close first.
    _runtime: StoreRuntime,
}

impl fmt::Debug for MysqlEventRelay {
    // No connection string: it may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlEventRelay").finish_non_exhaustive()
    }
}

impl MysqlEventRelay {
    /// Connects to the database at `url` (bringing its schema up to date, as opening the store
    /// does) and starts polling from the newest event there is. Runs on its own small runtime,
    /// or on `runtime`'s (which must outlive the relay). Blocks the calling thread while
    /// connecting: callable from sync code and from a multi-thread runtime's worker.
    ///
    /// A bad URL is `InvalidInput { field: "db" }`; a server that cannot be reached is
    /// `Storage`; a newer schema is `IncompatibleSchema`.
    pub fn start(
        url: &str,
        options: MysqlRelayOptions,
        runtime: Option<tokio::runtime::Handle>,
    ) -> Result<Self> {
        let opts = crate::store::connection_opts(url)?;
        let constraints = PoolConstraints::new(0, 2).expect("0 <= 2");
        let pool = Pool::new(
            OptsBuilder::from_opts(opts).pool_opts(
                PoolOpts::default()
                    .with_constraints(constraints)
                    .with_inactive_connection_ttl(crate::store::IDLE_CONNECTION_TTL),
            ),
        );
        let runtime = StoreRuntime::shared_or_own(runtime, "sessionkit-relay", 1)?;
        let mut origin = [0u8; 16];
        getrandom::fill(&mut origin)
            .map_err(|e| Error::storage(format!("no randomness for the relay's id: {e}")))?;
        let (outgoing, queue) = mpsc::unbounded_channel();
        let (incoming, _) = broadcast::channel(SUBSCRIBER_CAPACITY);
        let (ready_tx, ready_rx) = oneshot::channel();
        runtime.handle().spawn(run(
            pool,
            options,
            origin,
            queue,
            incoming.clone(),
            ready_tx,
        ));
        pollster::block_on(ready_rx)
            .map_err(|_| Error::storage("mysql relay: the polling task stopped"))??;
        Ok(MysqlEventRelay {
            outgoing,
            incoming,
            _runtime: runtime,
        })
    }

    /// Sends `event` to every other relay on the database. Never blocks: the row is queued and
    /// written by the relay's task. Fit for a manager listener.
    pub fn publish(&self, event: &Event) {
        match serde_json::to_string(&Payload {
            event: event.clone(),
        }) {
            // A closed queue means the relay is being dropped: nothing to send to.
            Ok(payload) => {
                let _ = self.outgoing.send(payload);
            }
            Err(e) => tracing::warn!(error = %e, "mysql relay: an event did not serialize"),
        }
    }

    /// The events other processes publish, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.incoming.subscribe()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Which rows a relay has seen: everything up to `floor`, and `seen` above it; `gaps` are the
/// missing `seq`s between, with when each was first missed.
struct Cursor {
    floor: i64,
    seen: BTreeSet<i64>,
    gaps: BTreeMap<i64, Instant>,
}

impl Cursor {
    /// Records `seq`; whether it is new.
    fn take(&mut self, seq: i64) -> bool {
        if seq <= self.floor {
            return false;
        }
        self.gaps.remove(&seq);
        self.seen.insert(seq)
    }

    /// After a poll: notes the new gaps, gives up the old ones, and moves the floor up.
    fn settle(&mut self, now: Instant) {
        let newest = self.seen.last().copied().unwrap_or(self.floor);
        if newest - self.floor <= MAX_GAPS {
            for seq in self.floor + 1..newest {
                if !self.seen.contains(&seq) {
                    self.gaps.entry(seq).or_insert(now);
                }
            }
        }
        self.gaps
            .retain(|_, first| now.duration_since(*first) < GAP_WAIT);
        self.floor = match self.gaps.keys().next() {
            Some(&gap) => gap - 1,
            None => newest,
        };
        let floor = self.floor;
        self.seen.retain(|&seq| seq > floor);
    }
}

/// The relay's task.
async fn run(
    pool: Pool,
    options: MysqlRelayOptions,
    origin: [u8; 16],
    mut queue: mpsc::UnboundedReceiver<String>,
    incoming: broadcast::Sender<Event>,
    ready: oneshot::Sender<Result<()>>,
) {
    let start: StoreResult<i64> = async {
        let mut conn = pool.get_conn().await?;
        migrations::migrate(&mut conn).await?;
        let newest: Option<i64> = conn
            .query_first("SELECT COALESCE(MAX(seq), 0) FROM sessionkit_events")
            .await?;
        Ok(newest.unwrap_or(0))
    }
    .await;
    let floor = match start {
        Ok(floor) => {
            let _ = ready.send(Ok(()));
            floor
        }
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    let mut cursor = Cursor {
        floor,
        seen: BTreeSet::new(),
        gaps: BTreeMap::new(),
    };
    let mut poll = tokio::time::interval(options.poll_interval.max(Duration::from_millis(1)));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retention = tokio::time::interval(RETENTION_EVERY);
    retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let retention_ms = i64::try_from(options.retention.as_millis()).unwrap_or(i64::MAX);
    loop {
        tokio::select! {
            payload = queue.recv() => {
                let Some(payload) = payload else {
                    // The relay was dropped.
                    let _ = pool.disconnect().await;
                    return;
                };
                // Whatever else is queued goes in the same round trip.
                let mut batch = vec![payload];
                while let Ok(more) = queue.try_recv() {
                    batch.push(more);
                }
                if let Err(e) = append(&pool, &origin, batch).await {
                    tracing::warn!(error = %sessionkit::Error::from(e), "mysql relay: events were not sent");
                }
            }
            _ = poll.tick() => {
                if let Err(e) = read(&pool, &origin, &mut cursor, &incoming).await {
                    tracing::warn!(error = %sessionkit::Error::from(e), "mysql relay: polling failed");
                }
            }
            _ = retention.tick() => {
                let before = now_ms().saturating_sub(retention_ms);
                let deleted = async {
                    let mut conn = pool.get_conn().await?;
                    // Batches until a short one (at most ten a pass: the table stays bounded
                    // while events come faster than one batch per pass).
                    for _ in 0..10 {
                        conn.exec_drop(
                            "DELETE FROM sessionkit_events WHERE created_at < ? LIMIT ?",
                            (before, RETENTION_BATCH),
                        )
                        .await?;
                        if conn.affected_rows() < RETENTION_BATCH as u64 {
                            break;
                        }
                    }
                    StoreResult::Ok(())
                }
                .await;
                if let Err(e) = deleted {
                    tracing::warn!(error = %sessionkit::Error::from(e), "mysql relay: retention failed");
                }
            }
        }
    }
}

/// Appends events, in order.
async fn append(pool: &Pool, origin: &[u8; 16], payloads: Vec<String>) -> StoreResult<()> {
    let mut conn = pool.get_conn().await?;
    let at = now_ms();
    conn.exec_batch(
        "INSERT INTO sessionkit_events (origin, created_at, payload) VALUES (?, ?, ?)",
        payloads
            .into_iter()
            .map(|payload| (origin.as_slice(), at, payload)),
    )
    .await?;
    Ok(())
}

/// Reads the rows after the cursor and hands the other relays' events out.
async fn read(
    pool: &Pool,
    origin: &[u8; 16],
    cursor: &mut Cursor,
    incoming: &broadcast::Sender<Event>,
) -> StoreResult<()> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<(i64, Vec<u8>, String)> = conn
        .exec(
            "SELECT seq, origin, payload FROM sessionkit_events WHERE seq > ? ORDER BY seq LIMIT ?",
            (cursor.floor, POLL_BATCH),
        )
        .await?;
    drop(conn);
    for (seq, from, payload) in rows {
        if !cursor.take(seq) || from.as_slice() == origin.as_slice() {
            continue;
        }
        match serde_json::from_str::<Payload>(&payload) {
            // No subscriber is fine: nobody is listening.
            Ok(payload) => {
                let _ = incoming.send(payload.event);
            }
            Err(e) => tracing::warn!(error = %e, "mysql relay: an unreadable event"),
        }
    }
    cursor.settle(Instant::now());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_waits_for_a_gap_then_gives_it_up() {
        let t0 = Instant::now();
        let mut cursor = Cursor {
            floor: 10,
            seen: BTreeSet::new(),
            gaps: BTreeMap::new(),
        };
        assert!(cursor.take(11));
        assert!(cursor.take(13));
        cursor.settle(t0);
        // 12 is missing: the floor stays below it, and 13 is not taken twice.
        assert_eq!(cursor.floor, 11);
        assert!(!cursor.take(13));
        assert!(!cursor.take(11));
        // 12 commits late: taken once, the floor moves past 13.
        assert!(cursor.take(12));
        cursor.settle(t0);
        assert_eq!(cursor.floor, 13);
        assert!(cursor.seen.is_empty());
        // A gap that never fills is given up after GAP_WAIT.
        assert!(cursor.take(15));
        cursor.settle(t0);
        assert_eq!(cursor.floor, 13);
        cursor.settle(t0 + GAP_WAIT);
        assert_eq!(cursor.floor, 15);
        assert!(!cursor.take(14), "a given-up seq is below the floor");
    }
}

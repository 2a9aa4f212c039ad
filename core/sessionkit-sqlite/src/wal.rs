//! WAL checkpoints, run outside the write lock.
//!
//! SQLite's automatic checkpoint runs inside the committing call on the writer connection: the
//! write lock is already released, but the writer (and so every other write of this store)
//! waits for the copy and its `fsync`s. Here the writer's WAL hook only records the log's size
//! after each commit, and the store runs a `PASSIVE` checkpoint on a connection of its own once
//! the writer is free. Readers and writers — of this store or any other process — carry on
//! while it copies.
//!
//! When: after an ordinary write, once the log holds [`NORMAL_LIMIT`] pages not yet copied back
//! (SQLite's own default). While expired sessions are being deleted in batches, a page of the
//! random-order b-trees (the primary key, the by-user index) is rewritten by many batches, and
//! checkpointing after every batch copies and flushes it each time: a bulk deletion lets the
//! log grow to twice the size of the database, at most [`BULK_LIMIT_MAX`] pages, so that a
//! checkpoint copies each page once for many batches. Those checkpoints take seconds, and the
//! call that runs one waits for it: so while a deletion is under way (until [`BULK_GRACE`] after
//! its last full batch's call returned) only the deleting calls checkpoint, and ordinary writes
//! — requests served meanwhile — never wait for one. The deletion's last (short) batch
//! checkpoints whatever the log holds; a deletion abandoned half-way is checkpointed by the
//! first ordinary write after the grace period.
//!
//! A checkpoint has two steps. The first copies the log without the write lock (again, a few
//! times at most, while many pages were written meanwhile). Pages that writers commit during it
//! are not copied, and a log never copied back entirely is never started over: it would grow
//! for as long as writes keep coming. So the second step takes this store's write lock and
//! copies the rest, after which the next write starts the log from its beginning.
//!
//! The log file keeps its largest size until the store closes (SQLite's default: truncating
//! it would happen inside the next write transaction).
//!
//! A checkpoint that fails (another process is checkpointing) is logged and retried after the
//! next write: the data it would copy is already durable in the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parking_lot::Mutex as FairMutex;

use rusqlite::wal::CheckpointMode;
use rusqlite::Connection;

use crate::error::StoreResult;

/// Log size, in pages, that triggers a checkpoint after an ordinary write.
pub(crate) const NORMAL_LIMIT: u64 = 1_000;
/// Upper bound, in pages, on the log a bulk deletion lets grow (1 GiB of 4 KiB pages).
pub(crate) const BULK_LIMIT_MAX: u64 = 262_144;
/// Pages written during a checkpoint that its locked step may copy; above, another pass runs
/// without the lock first (at most [`UNLOCKED_PASSES`] more).
const CATCH_UP_PAGES: i32 = 64;
const UNLOCKED_PASSES: usize = 3;
/// How long after the last full deletion batch's call ordinary writes leave checkpoints to it.
pub(crate) const BULK_GRACE: Duration = Duration::from_secs(1);

/// Write-lock and checkpoint figures of one store since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Write transactions committed.
    pub transactions: u64,
    /// The longest time one of them held the write lock (from `BEGIN IMMEDIATE` returning to
    /// `COMMIT` returning).
    pub longest_transaction: Duration,
    /// The longest time a checkpoint's second step held the write lock (see the module docs).
    pub longest_catch_up: Duration,
    /// Checkpoints run (outside the write lock).
    pub checkpoints: u64,
    /// Time spent in them, in total.
    pub checkpoint_time: Duration,
    /// The longest of them.
    pub longest_checkpoint: Duration,
    /// Pages in the write-ahead log after the last commit.
    pub wal_pages: u64,
    /// Of those, pages not yet copied back into the database.
    pub wal_pending: u64,
}

/// What a committed write was, for the checkpoint policy.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WriteKind {
    /// Any write other than the deletion of expired sessions.
    Normal,
    /// A batch of expired sessions deleted; `full` when it deleted as many as asked (more may
    /// follow); `db_pages` is the database's size.
    BulkDelete { full: bool, db_pages: u64 },
}

#[derive(Debug, Default)]
struct Bulk {
    /// Until when ordinary writes use `limit` (a deletion is in progress).
    until: Option<Instant>,
    limit: u64,
}

/// The checkpoint connection, the log size the writer's hook reports, and the figures.
#[derive(Debug)]
pub(crate) struct Wal {
    checkpointer: Mutex<Connection>,
    /// Pages in the log after the writer's last commit (written by its WAL hook).
    pages: Arc<AtomicU64>,
    /// Pages of the log copied back by the last checkpoint (written under the write lock; the
    /// hook sets it to 0 when the log starts over).
    copied: Arc<AtomicU64>,
    bulk: Mutex<Bulk>,
    /// Everything but `wal_pages` and `wal_pending`, which are read from `pages` and `copied`.
    counters: Mutex<WriteStats>,
}

impl Wal {
    /// Takes over checkpointing from `writer` (its hook replaces the automatic checkpoint) with
    /// `checkpointer`, a read-write connection to the same file.
    pub(crate) fn new(writer: &mut Connection, checkpointer: Connection) -> StoreResult<Wal> {
        let pages = Arc::new(AtomicU64::new(0));
        let copied = Arc::new(AtomicU64::new(0));
        let (hook_pages, hook_copied) = (Arc::clone(&pages), Arc::clone(&copied));
        writer.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, n: i32| {
            let n = u64::try_from(n).unwrap_or(0);
            if n < hook_pages.swap(n, Ordering::Relaxed) {
                // The log started over.
                hook_copied.store(0, Ordering::Relaxed);
            }
            Ok(())
        }))?;
        Ok(Wal {
            checkpointer: Mutex::new(checkpointer),
            pages,
            copied,
            bulk: Mutex::new(Bulk::default()),
            counters: Mutex::new(WriteStats::default()),
        })
    }

    /// Records a committed transaction that held the write lock for `held`.
    pub(crate) fn committed(&self, held: Duration) {
        if let Ok(mut c) = self.counters.lock() {
            c.transactions += 1;
            c.longest_transaction = c.longest_transaction.max(held);
        }
    }

    /// Called after a write committed and `writer` was released: checkpoints if the log has
    /// reached the limit that applies.
    pub(crate) fn after_write(&self, kind: WriteKind, writer: &FairMutex<Connection>) {
        let limit = self.limit_after(kind, Instant::now());
        if self.pending() >= limit {
            self.checkpoint(writer);
            if let WriteKind::BulkDelete { full: true, .. } = kind {
                // The grace period runs from the end of the deleting call: its checkpoint may
                // have taken longer than the period itself.
                self.deletion_call_ended(Instant::now());
            }
        }
    }

    /// Pages of the log not yet copied back.
    fn pending(&self) -> u64 {
        let pages = self.pages.load(Ordering::Relaxed);
        pages.saturating_sub(self.copied.load(Ordering::Relaxed))
    }

    /// Restarts the grace period of a deletion under way at `now`.
    fn deletion_call_ended(&self, now: Instant) {
        if let Ok(mut bulk) = self.bulk.lock() {
            if bulk.until.is_some() {
                bulk.until = Some(now + BULK_GRACE);
            }
        }
    }

    /// The log size that calls for a checkpoint after a write of `kind` at `now`.
    fn limit_after(&self, kind: WriteKind, now: Instant) -> u64 {
        let Ok(mut bulk) = self.bulk.lock() else {
            return NORMAL_LIMIT;
        };
        match kind {
            WriteKind::BulkDelete {
                full: true,
                db_pages,
            } => {
                bulk.until = Some(now + BULK_GRACE);
                bulk.limit = (2 * db_pages).clamp(NORMAL_LIMIT, BULK_LIMIT_MAX);
                bulk.limit
            }
            WriteKind::BulkDelete { full: false, .. } => {
                // The deletion is over: copy back whatever the log holds.
                bulk.until = None;
                1
            }
            WriteKind::Normal => match bulk.until {
                // The deletion's next batch checks the log against its limit.
                Some(until) if now < until => u64::MAX,
                _ => {
                    bulk.until = None;
                    NORMAL_LIMIT
                }
            },
        }
    }

    /// A checkpoint on the checkpoint connection, unless one is already running: `PASSIVE`
    /// without the write lock, then, with `writer` locked, `PASSIVE` again for what was written
    /// meanwhile (see the module docs).
    fn checkpoint(&self, writer: &FairMutex<Connection>) {
        let Ok(conn) = self.checkpointer.try_lock() else {
            return;
        };
        let start = Instant::now();
        let mut result = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE);
        // Without the lock again while the pages written meanwhile are many: what is left for
        // the locked step should be little.
        for _ in 0..UNLOCKED_PASSES {
            match result {
                Ok((log, copied)) if log - copied > CATCH_UP_PAGES => {
                    result = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE);
                }
                _ => break,
            }
        }
        let mut catch_up = Duration::ZERO;
        if result.is_ok() {
            let _writer = writer.lock();
            let locked = Instant::now();
            if matches!(result, Ok((log, copied)) if copied < log) {
                result = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE);
            }
            if let Ok((_, copied)) = result {
                // Under the write lock: the log cannot start over before this is recorded.
                self.copied
                    .store(u64::try_from(copied).unwrap_or(0), Ordering::Relaxed);
            }
            catch_up = locked.elapsed();
        }
        let took = start.elapsed();
        drop(conn);
        match result {
            Ok((log, copied)) => {
                tracing::debug!(log, copied, took_us = took.as_micros() as u64, "checkpoint");
            }
            Err(e) => tracing::debug!(error = %e, "checkpoint did not run; retried later"),
        }
        if let Ok(mut c) = self.counters.lock() {
            c.checkpoints += 1;
            c.checkpoint_time += took;
            c.longest_checkpoint = c.longest_checkpoint.max(took);
            c.longest_catch_up = c.longest_catch_up.max(catch_up);
        }
    }

    /// The figures so far.
    pub(crate) fn stats(&self) -> WriteStats {
        let counters = self.counters.lock().map(|c| *c).unwrap_or_default();
        WriteStats {
            wal_pages: self.pages.load(Ordering::Relaxed),
            wal_pending: self.pending(),
            ..counters
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal() -> Wal {
        let mut writer = Connection::open_in_memory().unwrap();
        Wal::new(&mut writer, Connection::open_in_memory().unwrap()).unwrap()
    }

    fn full(db_pages: u64) -> WriteKind {
        WriteKind::BulkDelete {
            full: true,
            db_pages,
        }
    }

    #[test]
    fn a_bulk_deletion_raises_the_limit_to_twice_the_database_within_bounds() {
        let wal = wal();
        let t = Instant::now();
        assert_eq!(wal.limit_after(WriteKind::Normal, t), NORMAL_LIMIT);
        assert_eq!(wal.limit_after(full(10_000), t), 20_000);
        assert_eq!(wal.limit_after(full(10), t), NORMAL_LIMIT);
        assert_eq!(wal.limit_after(full(1 << 30), t), BULK_LIMIT_MAX);
    }

    #[test]
    fn ordinary_writes_leave_checkpoints_to_a_deletion_only_within_the_grace_period() {
        let wal = wal();
        let t = Instant::now();
        assert_eq!(wal.limit_after(full(10_000), t), 20_000);
        let soon = t + BULK_GRACE / 2;
        assert_eq!(wal.limit_after(WriteKind::Normal, soon), u64::MAX);
        // The deletion's own batches still checkpoint at its limit (and extend the period).
        assert_eq!(wal.limit_after(full(10_000), soon), 20_000);
        // A deleting call that ends (after a long checkpoint) restarts the period.
        let ended = soon + 3 * BULK_GRACE;
        wal.deletion_call_ended(ended);
        assert_eq!(wal.limit_after(WriteKind::Normal, ended), u64::MAX);
        let late = ended + BULK_GRACE + Duration::from_millis(1);
        assert_eq!(wal.limit_after(WriteKind::Normal, late), NORMAL_LIMIT);
        // Once lapsed, it stays lapsed.
        assert_eq!(wal.limit_after(WriteKind::Normal, soon), NORMAL_LIMIT);
        wal.deletion_call_ended(late);
        assert_eq!(wal.limit_after(WriteKind::Normal, late), NORMAL_LIMIT);
    }

    #[test]
    fn pages_copied_back_are_counted_until_the_log_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let checkpointer = Connection::open(&path).unwrap();
        // (A connection opens the log when it first reads.)
        checkpointer
            .query_row("SELECT count(*) FROM t", [], |_| Ok(()))
            .unwrap();
        let wal = Wal::new(&mut conn, checkpointer).unwrap();
        let writer = FairMutex::new(conn);
        let write = |rows: usize| {
            let conn = writer.lock();
            for _ in 0..rows {
                conn.execute("INSERT INTO t VALUES (zeroblob(3000))", [])
                    .unwrap();
            }
        };
        write(20);
        let written = wal.stats().wal_pages;
        assert!(written >= 20, "{:?}", wal.stats());
        assert_eq!(wal.stats().wal_pending, written);

        wal.checkpoint(&writer);
        assert_eq!(wal.stats().wal_pages, written);
        assert_eq!(wal.stats().wal_pending, 0);
        assert_eq!(wal.stats().checkpoints, 1);

        // Everything was copied back: the next write starts the log over.
        write(1);
        let restarted = wal.stats();
        assert!(restarted.wal_pages < written, "{restarted:?}");
        assert_eq!(restarted.wal_pending, restarted.wal_pages);
    }

    #[test]
    fn the_short_batch_ends_the_deletion_and_checkpoints_any_log() {
        let wal = wal();
        let t = Instant::now();
        wal.limit_after(full(10_000), t);
        let last = WriteKind::BulkDelete {
            full: false,
            db_pages: 10_000,
        };
        assert_eq!(wal.limit_after(last, t), 1);
        assert_eq!(wal.limit_after(WriteKind::Normal, t), NORMAL_LIMIT);
    }
}

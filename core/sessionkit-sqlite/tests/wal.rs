//! Checkpoints run by the store, outside the write lock: ordinary writes keep the log near
//! SQLite's usual size, a bulk deletion lets it grow to the database's size and copies it back
//! when it ends, and the figures the store reports add up.

mod common;

use std::path::Path;

use pollster::block_on;
use rusqlite::Connection;
use serde_json::json;
use sessionkit::{Liveness, MaintenanceStore, SessionId, SessionStore};
use sessionkit_sqlite::SqliteStore;

/// Sessions with ids from `rng`, each carrying ~600 bytes of metadata so that a few thousand of
/// them fill more pages than one checkpoint interval. Returns the largest log seen after a
/// commit.
fn fill(store: &SqliteStore, n: usize, expires: i64, rng: &mut common::Rng) -> u64 {
    let padding = "x".repeat(600);
    let mut largest_log = 0;
    for i in 0..n {
        let mut bytes = [0u8; SessionId::LEN];
        bytes[..8].copy_from_slice(&rng.next().to_le_bytes());
        bytes[8..].copy_from_slice(&rng.next().to_le_bytes());
        let mut record = common::record(
            SessionId::from_bytes(bytes),
            &format!("user-{}", i % 97),
            0,
            expires,
        );
        record.session.metadata = json!({ "padding": padding, "i": i })
            .as_object()
            .cloned()
            .unwrap();
        block_on(store.insert_session(&record, None)).expect("insert");
        largest_log = largest_log.max(store.write_stats().wal_pages);
    }
    largest_log
}

/// Sessions in the main database file alone, as a process that opened it without the log
/// would see them: a copy of the file without its `-wal`.
fn sessions_in_main_file(path: &Path) -> i64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("main-only.db");
    std::fs::copy(path, &copy).expect("copy the main file");
    Connection::open(&copy)
        .expect("open the copy")
        .query_row("SELECT count(*) FROM sessions", [], |row| row.get(0))
        .expect("count")
}

#[test]
fn ordinary_writes_checkpoint_at_the_usual_log_size() {
    let (_dir, path, store) = common::temp_store();
    let mut rng = common::Rng::new(1);
    let largest_log = fill(&store, 3_000, i64::MAX / 2, &mut rng);
    let stats = store.write_stats();
    assert_eq!(stats.transactions, 3_000);
    assert!(
        stats.checkpoints >= 1,
        "no checkpoint after {} pages: {stats:?}",
        largest_log
    );
    // One insert adds a handful of pages: the log restarts soon after reaching 1000.
    assert!(
        (1_000..1_100).contains(&largest_log),
        "the log reached {largest_log} pages: {stats:?}"
    );
    // Everything but the tail since the last checkpoint is in the main file already.
    let in_main = sessions_in_main_file(&path);
    assert!(
        in_main >= 2_500,
        "only {in_main} of 3000 sessions were checkpointed"
    );
}

#[test]
fn a_bulk_deletion_checkpoints_less_often_and_leaves_nothing_in_the_log() {
    let (_dir, path, store) = common::temp_store();
    let mut rng = common::Rng::new(2);
    fill(&store, 6_000, 100, &mut rng);
    let db_pages: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    let db_pages = db_pages as u64;
    assert!(
        db_pages > 1_500,
        "the fixture is too small: {db_pages} pages"
    );
    let before = store.write_stats();

    // The manager's loop: batches until a short one.
    let mut deleted = 0;
    let mut batches = 0;
    let mut largest_log = 0;
    loop {
        let n = block_on(store.delete_expired(&Liveness::at(1_000), 500)).expect("delete");
        deleted += n;
        batches += 1;
        largest_log = largest_log.max(store.write_stats().wal_pages);
        if n < 500 {
            break;
        }
    }
    assert_eq!(deleted, 6_000);
    let after = store.write_stats();
    let checkpoints = after.checkpoints - before.checkpoints;
    // Each 500-row batch rewrites hundreds of pages: the log went past the usual 1000 pages
    // without a checkpoint, but never far past twice the database's size.
    assert!(largest_log > 1_000, "the log stayed at {largest_log} pages");
    assert!(
        largest_log < 2 * db_pages + 1_000,
        "the log reached {largest_log} pages for a {db_pages}-page database"
    );
    assert!(
        checkpoints >= 1 && checkpoints < batches,
        "{checkpoints} checkpoints for {batches} batches"
    );
    // The short batch ended it with a checkpoint: the main file alone has no session left.
    assert_eq!(sessions_in_main_file(&path), 0);
    assert!(after.longest_transaction > std::time::Duration::ZERO);
    assert_eq!(after.transactions - before.transactions, batches);
}

#[test]
fn writes_after_a_finished_bulk_deletion_checkpoint_as_usual() {
    let (_dir, path, store) = common::temp_store();
    let mut rng = common::Rng::new(3);
    fill(&store, 3_000, 100, &mut rng);
    // One full batch, then the short one that ends the deletion.
    assert_eq!(
        block_on(store.delete_expired(&Liveness::at(1_000), 2_000)).unwrap(),
        2_000
    );
    assert_eq!(
        block_on(store.delete_expired(&Liveness::at(1_000), 2_000)).unwrap(),
        1_000
    );
    assert_eq!(sessions_in_main_file(&path), 0);

    let checkpoints = store.write_stats().checkpoints;
    let largest_log = fill(&store, 2_000, i64::MAX / 2, &mut rng);
    let stats = store.write_stats();
    assert!(stats.checkpoints > checkpoints, "{stats:?}");
    assert!(largest_log < 1_100, "the log reached {largest_log} pages");
}

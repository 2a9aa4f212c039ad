//! The store test kit on the SQLite store, each part on fresh database files: every
//! conformance scenario, the seeded differential run against the memory store, and the
//! concurrency invariants (workers on threads sharing one `SqliteStore`).

use std::sync::Arc;

use sessionkit::testing::kit::{check_store, Options};
use sessionkit::Store;
use sessionkit_sqlite::SqliteStore;

#[test]
fn the_sqlite_store_passes_the_store_kit() {
    let dir = tempfile::tempdir().unwrap();
    let report = pollster::block_on(check_store(&Options::default(), |name| {
        let path = dir.path().join(format!("{name}.db"));
        async move { Arc::new(SqliteStore::open(path).expect("open store")) as Arc<dyn Store> }
    }));
    eprintln!("sqlite store: {report}");
    report.assert_passed("sqlite store");
    assert!(report.scenarios > 100 && report.compared > 10_000 && report.invariants > 10);
}

#[test]
fn the_sqlite_store_keeps_client_replicas_as_the_kit_says() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("replicas.db")).expect("open store");
    let checks = pollster::block_on(sessionkit::testing::kit::check_replica_store(&store)).unwrap();
    assert!(checks >= 10);
    // The record survives the store being closed and opened again.
    drop(store);
    let store = SqliteStore::open(dir.path().join("replicas.db")).expect("reopen store");
    use sessionkit::ReplicaStore;
    let (revision, _) = pollster::block_on(store.load_replica("a"))
        .unwrap()
        .unwrap();
    assert_eq!(revision, 5);
}

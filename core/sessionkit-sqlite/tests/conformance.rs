//! Runs every scenario of the repository's `tests/conformance/` against the SQLite store, each
//! on a fresh database file.

use std::sync::Arc;

use sessionkit::testing::{load_dir, run_all, scenario_dir};
use sessionkit::Store;
use sessionkit_sqlite::SqliteStore;

#[test]
fn every_scenario_passes_on_the_sqlite_store() {
    let scenarios = load_dir(&scenario_dir(env!("CARGO_MANIFEST_DIR"))).expect("scenarios load");
    assert!(!scenarios.is_empty(), "no scenarios found");
    let dir = tempfile::tempdir().unwrap();
    let failures = pollster::block_on(run_all(&scenarios, |scenario| {
        let path = dir.path().join(format!("{}.db", scenario.name));
        async move { Arc::new(SqliteStore::open(path).expect("open store")) as Arc<dyn Store> }
    }));
    for failure in &failures {
        eprintln!("FAILED {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed on the sqlite store",
        failures.len(),
        scenarios.len()
    );
    eprintln!("{} scenarios passed on the sqlite store", scenarios.len());
}

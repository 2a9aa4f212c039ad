//! The store test kit on the memory store (the reference itself): every conformance scenario,
//! the differential run (memory against memory: it checks the kit) and the concurrency
//! invariants.

use std::sync::Arc;

use sessionkit::testing::kit::{check_store, Options};
use sessionkit::{MemoryStore, Store};

#[test]
fn the_memory_store_passes_the_store_kit() {
    let report = pollster::block_on(check_store(&Options::default(), |_| async {
        Arc::new(MemoryStore::new()) as Arc<dyn Store>
    }));
    eprintln!("memory store: {report}");
    report.assert_passed("memory store");
    assert!(report.scenarios > 100 && report.compared > 10_000 && report.invariants > 10);
}

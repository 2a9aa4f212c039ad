//! Runs every scenario of `tests/conformance/` against the memory store.

use std::sync::Arc;

use sessionkit::testing::{load_dir, run_all, scenario_dir};
use sessionkit::{MemoryStore, Store};

#[test]
fn every_scenario_passes_on_the_memory_store() {
    let scenarios = load_dir(&scenario_dir(env!("CARGO_MANIFEST_DIR"))).expect("scenarios load");
    assert!(!scenarios.is_empty(), "no scenarios found");
    let failures = pollster::block_on(run_all(&scenarios, |_| async {
        Arc::new(MemoryStore::new()) as Arc<dyn Store>
    }));
    for failure in &failures {
        eprintln!("FAILED {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed on the memory store",
        failures.len(),
        scenarios.len()
    );
    eprintln!("{} scenarios passed on the memory store", scenarios.len());
}

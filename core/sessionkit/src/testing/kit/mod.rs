//! The store test kit: everything a backend must pass, from one call.
//!
//! [`check_store`] runs, each part on stores its `open` callback makes fresh (one per name):
//!
//! 1. **conformance**: every JSON scenario of the repository's `tests/conformance/` (embedded
//!    at build time, so it runs on wasm too), each on its own store;
//! 2. **differential**: seeded pseudo-random sequences of every store method against
//!    [`crate::MemoryStore`], the reference — outcomes, records and errors must be equal, and
//!    the runs must reach every interesting outcome (evictions, cleared versions, imports, …);
//! 3. **concurrency**: no lost compare-and-swap update, no resurrection of a revoked, deleted
//!    or rotated session, the per-user limit never exceeded under concurrent creates (workers
//!    on threads natively, interleaved on wasm).
//!
//! A store's whole wiring, natively:
//!
//! ```ignore
//! #[test]
//! fn the_store_passes_the_kit() {
//!     let dir = tempfile::tempdir().unwrap();
//!     let report = pollster::block_on(sessionkit::testing::kit::check_store(
//!         &sessionkit::testing::kit::Options::default(),
//!         |name| {
//!             let path = dir.path().join(format!("{name}.db"));
//!             async move { Arc::new(MyStore::open(path).unwrap()) as Arc<dyn Store> }
//!         },
//!     ));
//!     report.assert_passed("my store");
//! }
//! ```

mod concurrency;
mod differential;
#[cfg(not(target_arch = "wasm32"))]
mod server_stores;

#[cfg(not(target_arch = "wasm32"))]
pub use server_stores::{check_limit_across_stores, check_writes_survive_a_kill};

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::Store;

/// How much each part does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Run the conformance scenarios.
    pub conformance: bool,
    /// Seeds of the differential run (none: skip it).
    pub seeds: Vec<u64>,
    /// Operations per seed.
    pub steps: usize,
    /// Attempts per worker in the concurrency checks (0: skip them).
    pub attempts: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            conformance: true,
            seeds: vec![1, 0x5eed, 0xdead_beef, 42_424_242],
            steps: 3_000,
            attempts: 50,
        }
    }
}

/// What the kit ran and what failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Scenarios run.
    pub scenarios: usize,
    /// Store operations compared with the memory store.
    pub compared: usize,
    /// Concurrency invariants checked.
    pub invariants: usize,
    /// Every failure, with the part it came from.
    pub failures: Vec<String>,
}

impl Report {
    /// Panics, listing every failure, unless everything passed.
    pub fn assert_passed(&self, label: &str) {
        assert!(
            self.failures.is_empty(),
            "{label}: {} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} scenarios, {} operations compared with the memory store, {} concurrency \
             invariants; {} failed",
            self.scenarios,
            self.compared,
            self.invariants,
            self.failures.len()
        )
    }
}

/// Runs the whole kit (as `options` says) on stores from `open(name)`, each fresh and empty.
pub async fn check_store<Open, Fut>(options: &Options, mut open: Open) -> Report
where
    Open: FnMut(String) -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let mut report = Report::default();
    if options.conformance {
        let scenarios = super::embedded_scenarios();
        report.scenarios = scenarios.len();
        if scenarios.is_empty() {
            report.failures.push(
                "conformance: no scenarios were embedded (tests/conformance missing?)".into(),
            );
        }
        for scenario in &scenarios {
            let store = open(format!("scenario-{}", scenario.name)).await;
            if let Err(failure) = super::run(scenario, store).await {
                report.failures.push(format!("conformance: {failure}"));
            }
        }
    }
    if !options.seeds.is_empty() {
        match differential::run(&options.seeds, options.steps, &mut open).await {
            Ok(compared) => report.compared = compared,
            Err(problems) => report
                .failures
                .extend(problems.into_iter().map(|p| format!("differential: {p}"))),
        }
    }
    if options.attempts > 0 {
        match concurrency::run(options.attempts, &mut open).await {
            Ok(checks) => report.invariants = checks,
            Err(problems) => report
                .failures
                .extend(problems.into_iter().map(|p| format!("concurrency: {p}"))),
        }
    }
    report
}

/// The replica part of the kit, for stores that keep sync client replicas on a device
/// ([`crate::ReplicaStore`]): a missing key, a save read back whole, an older or equal revision
/// refused without a change, a newer one replacing, keys independent, large records intact.
/// Returns the number of checks, or what failed.
pub async fn check_replica_store(store: &dyn crate::ReplicaStore) -> Result<usize, Vec<String>> {
    let mut failures = Vec::new();
    let mut checks = 0;
    let mut check = |ok: bool, what: &str| {
        checks += 1;
        if !ok {
            failures.push(format!("replica store: {what}"));
        }
    };
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let steps = async {
        check(
            store.load_replica("a").await?.is_none(),
            "a missing key reads as none",
        );
        check(
            store.save_replica("a", 1, b"one").await?,
            "the first save writes",
        );
        check(
            store.load_replica("a").await? == Some((1, b"one".to_vec())),
            "a save reads back",
        );
        check(
            !store.save_replica("a", 1, b"again").await?,
            "an equal revision is refused",
        );
        check(
            !store.save_replica("a", 0, b"old").await?,
            "an older revision is refused",
        );
        check(
            store.load_replica("a").await? == Some((1, b"one".to_vec())),
            "a refused save changes nothing",
        );
        check(
            store.save_replica("a", 5, &big).await?,
            "a newer revision writes",
        );
        check(
            store.load_replica("a").await? == Some((5, big.clone())),
            "a large record reads back whole",
        );
        check(
            store.load_replica("b").await?.is_none(),
            "keys are independent",
        );
        check(
            store.save_replica("b", 1, b"").await?,
            "another key saves from revision 1",
        );
        check(
            store.load_replica("a").await?.map(|(r, _)| r) == Some(5),
            "saving one key leaves the others",
        );
        Ok::<(), crate::Error>(())
    };
    if let Err(e) = steps.await {
        failures.push(format!("replica store: unexpected error {e}"));
    }
    if failures.is_empty() {
        Ok(checks)
    } else {
        Err(failures)
    }
}

//! The store test kit on MySQL/MariaDB, each store on a fresh database: every conformance
//! scenario, the seeded differential run against the memory store, and the concurrency
//! invariants (workers on threads, each call on a pooled connection of its own).

mod common;

use std::sync::{Arc, Mutex};

use sessionkit::testing::kit::{check_store, Options};
use sessionkit::Store;

#[test]
fn the_mysql_store_passes_the_store_kit() {
    let Some(server) = common::server_url("the_mysql_store_passes_the_store_kit") else {
        return;
    };
    let databases = Mutex::new(Vec::new());
    let report = pollster::block_on(check_store(&Options::default(), |_name| {
        let db = common::TestDb::create(&server);
        let store = db.open();
        databases.lock().unwrap().push(db);
        async move { store as Arc<dyn Store> }
    }));
    eprintln!("mysql store: {report}");
    report.assert_passed("mysql store");
    assert!(report.scenarios > 100 && report.compared > 10_000 && report.invariants > 10);
}

//! Opening a manager over a store the face creates: the configuration is validated before the
//! store is opened, so a bad one creates nothing.

use std::cell::Cell;
use std::sync::Arc;

use sessionkit::{Config, ErrorKind, ManualClock, MemoryStore, SessionManager, Store};

fn bad_configs() -> Vec<Config> {
    vec![
        Config {
            idle_timeout_ms: 0,
            ..Config::default()
        },
        Config {
            max_sessions_per_user: Some(0),
            ..Config::default()
        },
        Config {
            touch_interval_ms: Config::default().idle_timeout_ms,
            ..Config::default()
        },
    ]
}

fn opener(calls: &Cell<u32>) -> impl FnOnce() -> sessionkit::Result<Arc<dyn Store>> + '_ {
    move || {
        calls.set(calls.get() + 1);
        Ok(Arc::new(MemoryStore::new()) as Arc<dyn Store>)
    }
}

#[test]
fn a_bad_configuration_never_opens_the_store() {
    let clock = Arc::new(ManualClock::new(0));
    for config in bad_configs() {
        let calls = Cell::new(0);
        let err = SessionManager::open_store_with(config.clone(), clock.clone(), opener(&calls))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = pollster::block_on(SessionManager::open_store_with_async(
            config,
            clock.clone(),
            || async { opener(&calls)() },
        ))
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            calls.get(),
            0,
            "the store was opened for a bad configuration"
        );
    }
}

#[test]
fn a_good_configuration_opens_the_store_once() {
    let calls = Cell::new(0);
    let clock = Arc::new(ManualClock::new(0));
    SessionManager::open_store_with(Config::default(), clock.clone(), opener(&calls)).unwrap();
    pollster::block_on(SessionManager::open_store_with_async(
        Config::default(),
        clock,
        || async { opener(&calls)() },
    ))
    .unwrap();
    assert_eq!(calls.get(), 2);
}

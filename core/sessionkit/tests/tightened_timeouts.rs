//! A timeout tightened in the configuration reaches the sessions written under the looser one:
//! liveness is judged by the earliest of the stored expiry, last activity + the configured idle
//! timeout and creation + the configured absolute timeout — in `validate`, in listings, counts,
//! statistics and cleanup — and a touch never writes an expiry past the configured ones.

use std::sync::Arc;

use pollster::block_on;
use sessionkit::{
    ClientKind, Config, Error, ListOptions, ManualClock, MemoryStore, NewSession, SessionManager,
    Store,
};

const T0: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn loose() -> Config {
    Config {
        idle_timeout_ms: 7 * DAY,
        absolute_timeout_ms: 30 * DAY,
        ..Config::default()
    }
}

fn tight() -> Config {
    Config {
        idle_timeout_ms: HOUR,
        absolute_timeout_ms: 12 * HOUR,
        ..Config::default()
    }
}

fn manager(store: &Arc<dyn Store>, config: Config, clock: &ManualClock) -> SessionManager {
    SessionManager::open_with_clock(store.clone(), config, Arc::new(clock.clone())).unwrap()
}

/// Creates `n` sessions of `alice` under the loose configuration at `T0`; returns their tokens.
fn loose_sessions(store: &Arc<dyn Store>, n: usize) -> Vec<String> {
    let m = manager(store, loose(), &ManualClock::new(T0));
    (0..n)
        .map(|_| {
            let created = block_on(m.create(NewSession::new("alice", ClientKind::Web))).unwrap();
            created.token.as_str().to_owned()
        })
        .collect()
}

#[test]
fn a_tightened_absolute_timeout_expires_older_sessions_everywhere() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let tokens = loose_sessions(&store, 3);
    // 13 h later, kept active meanwhile by the loose manager: alive under the old rules only.
    let clock = ManualClock::new(T0 + 13 * HOUR);
    let old = manager(&store, loose(), &clock);
    for token in &tokens {
        block_on(old.validate(token)).unwrap();
    }
    let m = manager(&store, tight(), &clock);
    assert_eq!(block_on(m.count_active()), Ok(0));
    assert_eq!(block_on(m.count_user_sessions("alice", true)), Ok(0));
    assert_eq!(block_on(m.count_user_sessions("alice", false)), Ok(3));
    let listed = block_on(m.list_user_sessions(
        "alice",
        &ListOptions {
            active_only: true,
            ..ListOptions::default()
        },
    ))
    .unwrap();
    assert!(listed.items.is_empty(), "{listed:?}");
    assert_eq!(block_on(m.stats()).unwrap().active, 0);
    // Reported with the expiry the configuration gives.
    let all = block_on(m.list_user_sessions("alice", &ListOptions::default())).unwrap();
    assert!(all
        .items
        .iter()
        .all(|s| s.expires_at == T0 + 12 * HOUR && s.absolute_expires_at == T0 + 12 * HOUR));
    assert_eq!(block_on(m.validate(&tokens[0])), Err(Error::Expired));
    assert_eq!(block_on(m.cleanup_expired()), Ok(2));
    assert_eq!(block_on(m.count_user_sessions("alice", false)), Ok(0));
}

#[test]
fn a_tightened_idle_timeout_expires_idle_sessions_everywhere() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let tokens = loose_sessions(&store, 2);
    let clock = ManualClock::new(T0 + 2 * HOUR);
    let m = manager(&store, tight(), &clock);
    assert_eq!(block_on(m.count_active()), Ok(0));
    assert_eq!(block_on(m.validate(&tokens[0])), Err(Error::Expired));
    assert_eq!(block_on(m.cleanup_expired()), Ok(1));
    assert_eq!(block_on(m.count_user_sessions("alice", false)), Ok(0));
}

#[test]
fn a_touch_writes_no_expiry_past_the_configured_timeouts() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let tokens = loose_sessions(&store, 1);
    let clock = ManualClock::new(T0 + 30 * 60_000);
    let config = Config {
        idle_timeout_ms: 6 * HOUR,
        ..tight()
    };
    let m = manager(&store, config, &clock);
    let session = block_on(m.validate(&tokens[0])).unwrap();
    assert_eq!(session.expires_at, T0 + 30 * 60_000 + 6 * HOUR);
    assert_eq!(session.absolute_expires_at, T0 + 12 * HOUR);
    let stored = block_on(store.get_session(&session.id)).unwrap().unwrap();
    assert_eq!(stored.session.expires_at, T0 + 30 * 60_000 + 6 * HOUR);
    // Later, the configured absolute timeout caps what a touch writes.
    clock.set(T0 + 6 * HOUR + 20 * 60_000);
    let touched = block_on(m.touch(&session.id)).unwrap();
    assert_eq!(touched.expires_at, T0 + 12 * HOUR);
    let stored = block_on(store.get_session(&session.id)).unwrap().unwrap();
    assert_eq!(stored.session.expires_at, T0 + 12 * HOUR);
    // The rotated session keeps the capped absolute expiry.
    let rotated = block_on(m.rotate(&session.id)).unwrap();
    assert_eq!(rotated.session.absolute_expires_at, T0 + 12 * HOUR);
    let stored = block_on(store.get_session(&rotated.session.id))
        .unwrap()
        .unwrap();
    assert_eq!(stored.session.absolute_expires_at, T0 + 12 * HOUR);
}

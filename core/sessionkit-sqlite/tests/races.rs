//! Races through the engine on a SQLite file: compare-and-swap state updates from many threads
//! (one shared manager, and two managers on two stores over the same file, as two processes
//! would), `validate`/`touch`/`put_state` racing `revoke`/`delete`, and `cleanup_expired` running
//! beside writes.
//!
//! The compare-and-swap tests make 10,000 attempts per thread (about 45 s for both in the dev
//! profile on two cores); `SESSIONKIT_QUICK_TESTS=1` makes it 1,000.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use pollster::block_on;
use rusqlite::Connection;
use serde_json::{json, Value};
use sessionkit::{
    ClientKind, Config, Error, ErrorKind, ManualClock, NewSession, SessionId, SessionManager,
};
use sessionkit_sqlite::SqliteStore;

const THREADS: usize = 8;
const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

fn attempts_per_thread() -> u64 {
    match std::env::var("SESSIONKIT_QUICK_TESTS") {
        Ok(v) if !v.is_empty() && v != "0" => 1_000,
        _ => 10_000,
    }
}

fn manager(path: &std::path::Path, config: Config, clock: &ManualClock) -> Arc<SessionManager> {
    let store = SqliteStore::open(path).expect("open store");
    Arc::new(
        SessionManager::open_with_clock(Arc::new(store), config, Arc::new(clock.clone()))
            .expect("open manager"),
    )
}

/// What one thread of the compare-and-swap test saw.
#[derive(Debug, Default)]
struct CasTally {
    successes: u64,
    conflicts: u64,
}

/// Each attempt reads the state, increments this thread's counter and the total in it, and
/// writes it back with `expected_version` = the version read. Odd threads use `patch_state`,
/// even ones `put_state`, so both compare-and-swap paths race each other.
fn cas_worker(m: &SessionManager, id: SessionId, thread: usize, attempts: u64) -> CasTally {
    let key = format!("t{thread}");
    let mut tally = CasTally::default();
    for _ in 0..attempts {
        let (version, data) = match block_on(m.get_state(&id)).expect("get_state") {
            Some(state) => (state.version, state.data),
            None => (0, json!({})),
        };
        let mine = data.get(&key).and_then(Value::as_u64).unwrap_or(0);
        let total = data.get("total").and_then(Value::as_u64).unwrap_or(0);
        let written = if thread % 2 == 0 {
            let mut next = data.clone();
            next[&key] = json!(mine + 1);
            next["total"] = json!(total + 1);
            block_on(m.put_state(&id, &next, Some(version)))
        } else {
            let patch = json!({ key.as_str(): mine + 1, "total": total + 1 });
            block_on(m.patch_state(&id, &patch, Some(version)))
        };
        match written {
            Ok(new_version) => {
                assert!(
                    new_version > version,
                    "version went from {version} to {new_version}"
                );
                tally.successes += 1;
            }
            Err(Error::Conflict { current_version }) => {
                assert_ne!(
                    current_version, version,
                    "a conflict must report a version other than the one expected"
                );
                tally.conflicts += 1;
            }
            Err(other) => panic!("thread {thread}: expected Ok or Conflict, got {other:?}"),
        }
    }
    tally
}

/// Runs the compare-and-swap race with `managers` (shared round-robin by the threads) and checks
/// that nothing was lost.
fn cas_race(label: &str, managers: &[Arc<SessionManager>]) {
    let attempts = attempts_per_thread();
    let created = block_on(managers[0].create(NewSession::new("cas", ClientKind::Web))).unwrap();
    let id = created.session.id;
    let start = Arc::new(Barrier::new(THREADS));
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let m = Arc::clone(&managers[t % managers.len()]);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                cas_worker(&m, id, t, attempts)
            })
        })
        .collect();
    let tallies: Vec<CasTally> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let elapsed = started.elapsed();

    let successes: u64 = tallies.iter().map(|t| t.successes).sum();
    let conflicts: u64 = tallies.iter().map(|t| t.conflicts).sum();
    println!(
        "{label}: {THREADS} threads x {attempts} attempts: {successes} successes, \
         {conflicts} conflicts ({elapsed:?})"
    );
    assert_eq!(successes + conflicts, THREADS as u64 * attempts);
    assert!(successes > 0);

    for m in managers {
        let state = block_on(m.get_state(&id)).unwrap().expect("state written");
        assert_eq!(
            state.version, successes,
            "{label}: one version per successful write"
        );
        let mut expected = BTreeMap::new();
        for (t, tally) in tallies.iter().enumerate() {
            if tally.successes > 0 {
                expected.insert(format!("t{t}"), json!(tally.successes));
            }
        }
        expected.insert("total".to_owned(), json!(successes));
        let expected = Value::Object(expected.into_iter().collect());
        assert_eq!(
            state.data, expected,
            "{label}: every successful update is in the data, and only those"
        );
    }
}

#[test]
fn cas_from_eight_threads_through_one_manager_loses_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let m = manager(&dir.path().join("cas.db"), Config::default(), &clock);
    cas_race("one manager", &[m]);
}

#[test]
fn cas_from_eight_threads_through_two_stores_on_one_file_loses_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cas.db");
    let clock = ManualClock::new(T0);
    let first = manager(&path, Config::default(), &clock);
    let second = manager(&path, Config::default(), &clock);
    cas_race("two stores", &[first, second]);
}

/// `(active, has_state)` of the stored row of `id`, or `None` when there is none, read with a
/// connection of its own.
fn stored_row(path: &std::path::Path, id: &SessionId) -> Option<(bool, bool)> {
    let conn = Connection::open(path).unwrap();
    let row = conn.query_row(
        "SELECT active, (SELECT count(*) FROM session_state WHERE session_id = id) \
         FROM sessions WHERE id = ?1",
        [id.as_bytes().as_slice()],
        |row| Ok((row.get::<_, bool>(0)?, row.get::<_, i64>(1)? > 0)),
    );
    match row {
        Ok((active, states)) => Some((active, states)),
        Err(rusqlite::Error::QueryReturnedNoRows) => None,
        Err(e) => panic!("{e}"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    Revoke,
    Delete,
}

/// Four threads validate, touch and write the state of one session while a fifth revokes or
/// deletes it. Nothing may succeed once the revoke/delete has returned, and the stored row must
/// end revoked (or absent) whatever wrote last.
fn race_against(ending: Ending) {
    const ROUNDS: usize = 20;
    const RACERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.db");
    let clock = ManualClock::new(T0);
    // Every validate writes (touch interval 0) and the clock moves on each call, so the racers
    // really write while the session is being ended.
    let config = Config {
        touch_interval_ms: 0,
        ..Config::default()
    };
    let m = manager(&path, config, &clock);
    let mut late_failures = 0u64;
    for round in 0..ROUNDS {
        let created =
            block_on(m.create(NewSession::new(format!("user-{round}"), ClientKind::Mobile)))
                .unwrap();
        let id = created.session.id;
        let token = created.token.as_str().to_owned();
        let ended = Arc::new(AtomicBool::new(false));
        let successes = Arc::new(AtomicU64::new(0));
        let racers: Vec<_> = (0..RACERS)
            .map(|r| {
                let (m, clock, token) = (Arc::clone(&m), clock.clone(), token.clone());
                let (ended, successes) = (Arc::clone(&ended), Arc::clone(&successes));
                thread::spawn(move || {
                    let mut failures_after_end = 0u64;
                    // Keep going until a few calls have failed after the end was announced.
                    while failures_after_end < 20 {
                        let ended_before = ended.load(Ordering::SeqCst);
                        clock.advance(1);
                        let (op, result) = match r % 3 {
                            0 => ("validate", block_on(m.validate(&token)).map(drop)),
                            1 => ("touch", block_on(m.touch(&id)).map(drop)),
                            _ => (
                                "put_state",
                                block_on(m.put_state(&id, &json!({ "racer": r }), None)).map(drop),
                            ),
                        };
                        match result {
                            Ok(()) => {
                                assert!(
                                    !ended_before,
                                    "{ending:?}: {op} succeeded after the session was ended"
                                );
                                successes.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => {
                                let allowed: &[ErrorKind] = match (ending, op) {
                                    (Ending::Revoke, _) => &[ErrorKind::Revoked],
                                    (Ending::Delete, "validate") => &[ErrorKind::InvalidToken],
                                    (Ending::Delete, _) => &[ErrorKind::NotFound],
                                };
                                assert!(allowed.contains(&e.kind()), "{ending:?}: {op}: {e:?}");
                                if ended_before {
                                    failures_after_end += 1;
                                }
                            }
                        }
                    }
                    failures_after_end
                })
            })
            .collect();
        // Let the racers get going (each success is a completed write) before ending it.
        while successes.load(Ordering::SeqCst) < 10 {
            thread::yield_now();
        }
        match ending {
            Ending::Revoke => block_on(m.revoke(&id)).unwrap(),
            Ending::Delete => block_on(m.delete(&id)).unwrap(),
        }
        ended.store(true, Ordering::SeqCst);
        for racer in racers {
            late_failures += racer.join().unwrap();
        }
        // The last word is the revoke/delete, whatever the racers did after it.
        match (ending, stored_row(&path, &id)) {
            (Ending::Revoke, Some((false, _))) => {}
            (Ending::Delete, None) => {
                let conn = Connection::open(&path).unwrap();
                let orphans: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM session_state WHERE session_id = ?1",
                        [id.as_bytes().as_slice()],
                        |row| row.get(0),
                    )
                    .unwrap();
                assert_eq!(orphans, 0, "state of a deleted session was written back");
            }
            (_, row) => panic!("{ending:?}: stored row afterwards is {row:?}"),
        }
        let expected = match ending {
            Ending::Revoke => ErrorKind::Revoked,
            Ending::Delete => ErrorKind::InvalidToken,
        };
        assert_eq!(block_on(m.validate(&token)).unwrap_err().kind(), expected);
    }
    assert_eq!(late_failures, (ROUNDS * RACERS * 20) as u64);
}

#[test]
fn nothing_succeeds_after_revoke_returns_and_the_row_stays_revoked() {
    race_against(Ending::Revoke);
}

#[test]
fn nothing_succeeds_after_delete_returns_and_nothing_is_written_back() {
    race_against(Ending::Delete);
}

#[test]
fn cleanup_during_writes_removes_only_expired_sessions() {
    const DOOMED: usize = 300;
    const LIVE: usize = 40;
    const WRITERS: usize = 4;
    const WRITES: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cleanup.db");
    let clock = ManualClock::new(T0);
    let config = Config {
        idle_timeout_ms: 10 * MINUTE,
        ..Config::default()
    };
    let m = manager(&path, config, &clock);

    // Doomed sessions expire at T0 + 10 min; the live ones, created 5 minutes later, at
    // T0 + 15 min. The race runs at T0 + 11 min, with the clock standing still.
    let mut doomed = Vec::new();
    for n in 0..DOOMED {
        let c = block_on(m.create(NewSession::new(
            format!("doomed-{}", n % 7),
            ClientKind::Web,
        )))
        .unwrap();
        block_on(m.put_state(&c.session.id, &json!({ "n": n }), None)).unwrap();
        doomed.push(c.session.id);
    }
    clock.advance(5 * MINUTE);
    let mut live = Vec::new();
    for n in 0..LIVE {
        let c = block_on(m.create(NewSession::new(
            format!("live-{}", n % 5),
            ClientKind::Desktop,
        )))
        .unwrap();
        live.push((c.session.id, c.token.as_str().to_owned()));
    }
    clock.advance(6 * MINUTE);

    let start = Arc::new(Barrier::new(WRITERS + 1));
    let live = Arc::new(live);
    let doomed = Arc::new(doomed);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (m, live, doomed, start) = (
                Arc::clone(&m),
                Arc::clone(&live),
                Arc::clone(&doomed),
                Arc::clone(&start),
            );
            thread::spawn(move || {
                start.wait();
                let mut created = Vec::new();
                for n in 0..WRITES {
                    // A new session, a state write and a touch on live sessions this writer
                    // owns (each live session belongs to one writer, so its version is known).
                    let c =
                        block_on(m.create(NewSession::new(format!("new-{w}"), ClientKind::Other)))
                            .unwrap();
                    created.push((c.session.id, c.token.as_str().to_owned()));
                    for (i, (id, _)) in live.iter().enumerate().filter(|(i, _)| i % WRITERS == w) {
                        if n % 5 == 0 {
                            block_on(m.put_state(id, &json!({ "w": w, "n": n, "i": i }), None))
                                .unwrap();
                        }
                        block_on(m.touch(id)).unwrap();
                    }
                    // Expired sessions are refused (Expired, or NotFound once cleaned up) and
                    // never written to.
                    let gone = doomed[(w * WRITES + n) % doomed.len()];
                    let err = block_on(m.touch(&gone)).unwrap_err();
                    assert!(
                        matches!(err.kind(), ErrorKind::Expired | ErrorKind::NotFound),
                        "{err:?}"
                    );
                }
                created
            })
        })
        .collect();
    let cleaner = {
        let (m, start) = (Arc::clone(&m), Arc::clone(&start));
        thread::spawn(move || {
            start.wait();
            (0..20)
                .map(|_| block_on(m.cleanup_expired()).unwrap())
                .sum::<u64>()
        })
    };
    let created: Vec<(SessionId, String)> = writers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let mut removed = cleaner.join().unwrap();
    // Whatever the cleaner had not reached yet goes now; touches may have removed some too.
    removed += block_on(m.cleanup_expired()).unwrap();
    assert!(removed <= DOOMED as u64);

    let conn = Connection::open(&path).unwrap();
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored as usize,
        LIVE + WRITERS * WRITES,
        "only live sessions remain"
    );
    for id in doomed.iter() {
        assert_eq!(stored_row(&path, id), None, "expired session left behind");
    }
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM session_state WHERE session_id NOT IN (SELECT id FROM sessions)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    for (i, (id, token)) in live.iter().enumerate() {
        let session = block_on(m.validate(token)).unwrap();
        assert_eq!(session.id, *id);
        let state = block_on(m.get_state(id)).unwrap().expect("state kept");
        let w = i % WRITERS;
        assert_eq!(state.version, (WRITES / 5) as u64);
        assert_eq!(state.data, json!({ "w": w, "n": WRITES - 5, "i": i }));
    }
    for (id, token) in &created {
        assert_eq!(block_on(m.validate(token)).unwrap().id, *id);
    }
    assert_eq!(
        block_on(m.count_active()).unwrap() as usize,
        LIVE + WRITERS * WRITES
    );
}

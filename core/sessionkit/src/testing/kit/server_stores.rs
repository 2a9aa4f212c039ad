//! Two checks for stores over a database server (PostgreSQL, MySQL), where several processes'
//! worth of connections meet and the server itself can die: each store crate wires them to its
//! own throwaway server in a few lines.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    ClientKind, Config, Error, NewSession, SessionId, SessionLimitPolicy, SessionManager, Store,
};

/// Threads per store in [`check_limit_across_stores`], and creates per thread.
const THREADS_PER_STORE: usize = 8;
const CREATES_PER_THREAD: usize = 6;

/// The per-user limit under concurrent creates through several stores over one database (as
/// several servers would have them, each with its pool): every thread creates sessions for one
/// user at once. Under `Reject` exactly `limit` are admitted and the others refused with
/// `LimitExceeded`; under `EvictOldest` every create succeeds and `limit` stay live. The stores
/// must be over a fresh database. Returns what it saw, or what went wrong.
pub fn check_limit_across_stores(
    stores: Vec<Arc<dyn Store>>,
    policy: SessionLimitPolicy,
    limit: u32,
) -> Result<String, String> {
    let config = Config {
        max_sessions_per_user: Some(limit),
        session_limit_policy: policy,
        ..Config::default()
    };
    let managers: Vec<Arc<SessionManager>> = stores
        .into_iter()
        .map(|s| SessionManager::open(s, config.clone()).map(Arc::new))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("open: {e}"))?;
    let threads = managers.len() * THREADS_PER_STORE;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let manager = Arc::clone(&managers[t % managers.len()]);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                (0..CREATES_PER_THREAD)
                    .map(|_| {
                        pollster::block_on(
                            manager.create(NewSession::new("alice", ClientKind::Web)),
                        )
                        .map(drop)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<Result<(), Error>> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect();
    let admitted = outcomes.iter().filter(|o| o.is_ok()).count();
    if let Some(e) = outcomes
        .iter()
        .filter_map(|o| o.as_ref().err())
        .find(|e| !matches!(e, Error::LimitExceeded { .. }))
    {
        return Err(format!("a create failed with {e:?}"));
    }
    let count = |live| pollster::block_on(managers[0].count_user_sessions("alice", live));
    let live = count(true).map_err(|e| format!("count: {e}"))?;
    let stored = count(false).map_err(|e| format!("count: {e}"))?;
    let total = threads * CREATES_PER_THREAD;
    let expected_admitted = match policy {
        SessionLimitPolicy::Reject => limit as usize,
        SessionLimitPolicy::EvictOldest => total,
    };
    if admitted != expected_admitted
        || live != u64::from(limit)
        || stored != expected_admitted as u64
    {
        return Err(format!(
            "{policy:?}: {admitted} of {total} creates admitted (expected {expected_admitted}), \
             {live} live (limit {limit}), {stored} stored"
        ));
    }
    Ok(format!(
        "{policy:?}: {admitted} of {total} concurrent creates admitted, {live} live"
    ))
}

/// Writers create sessions and write their state through `store`, recording each write once it
/// is acknowledged; `kill_and_restart` kills the database server mid-stream (SIGKILL) and starts
/// it again; then every acknowledged session and state version must be read back through the
/// store `reopen` gives. Returns what it saw, or what was lost.
pub fn check_writes_survive_a_kill(
    store: Arc<dyn Store>,
    kill_and_restart: impl FnOnce(),
    reopen: impl FnOnce() -> Arc<dyn Store>,
) -> Result<String, String> {
    const WRITERS: usize = 4;
    let manager =
        Arc::new(SessionManager::open(store, Config::default()).map_err(|e| e.to_string())?);
    // Acknowledged writes: session id -> the last state version the store confirmed.
    let acked: Arc<Mutex<HashMap<SessionId, u64>>> = Arc::default();
    let acks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (manager, acked, acks, stop) =
                (manager.clone(), acked.clone(), acks.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let new = NewSession::new(format!("writer-{w}"), ClientKind::Web);
                    let Ok(created) = pollster::block_on(manager.create(new)) else {
                        continue;
                    };
                    let id = created.session.id;
                    acked
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, 0);
                    acks.fetch_add(1, Ordering::SeqCst);
                    for v in 1..=3u64 {
                        let data = json!({ "n": n, "v": v });
                        match pollster::block_on(manager.put_state(&id, &data, None)) {
                            Ok(version) => {
                                acked
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .insert(id, version);
                                acks.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(_) => break,
                        }
                    }
                }
            })
        })
        .collect();
    // Let writes flow, then kill the server mid-stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.load(Ordering::SeqCst) < 200 {
        if Instant::now() > deadline {
            stop.store(true, Ordering::SeqCst);
            return Err("the writers made no progress".into());
        }
        std::thread::yield_now();
    }
    kill_and_restart();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().map_err(|_| "a writer panicked".to_owned())?;
    }
    let after = SessionManager::open(reopen(), Config::default()).map_err(|e| e.to_string())?;
    let acked = acked.lock().unwrap_or_else(|e| e.into_inner());
    if acked.len() < 50 {
        return Err(format!("too few writes before the kill: {}", acked.len()));
    }
    for (id, version) in acked.iter() {
        pollster::block_on(after.get(id)).map_err(|e| format!("session {id}: {e}"))?;
        let state =
            pollster::block_on(after.get_state(id)).map_err(|e| format!("state {id}: {e}"))?;
        // A write in flight at the kill may or may not be there; an acknowledged one must.
        let stored = state.map_or(0, |s| s.version);
        if stored < *version {
            return Err(format!(
                "session {id}: acknowledged state version {version}, found {stored}"
            ));
        }
    }
    Ok(format!(
        "{} sessions, {} acknowledged writes: all there after the kill",
        acked.len(),
        acks.load(Ordering::SeqCst)
    ))
}

//! The concurrency invariants, through the engine on one shared store: workers run at once
//! (on OS threads natively, interleaved futures on wasm, where IndexedDB requests interleave)
//! and what they leave behind must be exactly what their successful calls wrote.
//!
//! - no lost update: compare-and-swap state writes and metadata updates that report success
//!   are all in the final value, and every version was handed out once;
//! - no resurrection: a revoked session stays revoked and a deleted (or rotated-away) one stays
//!   gone, whatever touches, writes and rotations raced them;
//! - the per-user limit: concurrent creates never leave more live sessions than the limit,
//!   under both policies.

use std::future::Future;
use std::sync::Arc;

use serde_json::json;

use crate::{
    ClientKind, Config, Error, ManualClock, NewSession, SessionId, SessionLimitPolicy,
    SessionManager, StateLookup, Store,
};

const WORKERS: usize = 4;
const NOW: i64 = 1_700_000_000_000;

/// Runs `work(0..workers)` at once and collects what each returned, in worker order.
#[cfg(not(target_arch = "wasm32"))]
async fn together<F, Fut, T>(workers: usize, work: F) -> Vec<T>
where
    F: Fn(usize) -> Fut + Sync,
    Fut: Future<Output = T>,
    T: Send,
{
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = (0..workers)
            .map(|i| scope.spawn(move || pollster::block_on(work(i))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked"))
            .collect()
    })
}

/// Runs `work(0..workers)` at once and collects what each returned, in worker order.
#[cfg(target_arch = "wasm32")]
async fn together<F, Fut, T>(workers: usize, work: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T>,
{
    use std::pin::Pin;
    use std::task::Poll;
    let mut running: Vec<Pin<Box<Fut>>> = (0..workers).map(|i| Box::pin(work(i))).collect();
    let mut done: Vec<Option<T>> = (0..workers).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (future, slot) in running.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                if let Poll::Ready(value) = future.as_mut().poll(cx) {
                    *slot = Some(value);
                }
            }
        }
        if done.iter().all(Option::is_some) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    done.into_iter().map(|v| v.expect("finished")).collect()
}

fn manager(store: Arc<dyn Store>, config: Config) -> SessionManager {
    SessionManager::open_with_clock(store, config, Arc::new(ManualClock::new(NOW)))
        .expect("the kit's configuration is valid")
}

fn check(failures: &mut Vec<String>, ok: bool, what: impl FnOnce() -> String) {
    if !ok {
        failures.push(what());
    }
}

/// Runs every invariant, each on a store from `open`; returns how many checks passed, or what
/// failed.
pub(crate) async fn run<Open, Fut>(attempts: usize, mut open: Open) -> Result<usize, Vec<String>>
where
    Open: FnMut(String) -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let mut failures = Vec::new();
    let mut checks = 0;
    checks += no_lost_state_update(open("cas-state".into()).await, attempts, &mut failures).await;
    checks +=
        no_lost_metadata_update(open("cas-metadata".into()).await, attempts, &mut failures).await;
    checks += no_resurrection(open("resurrection".into()).await, attempts, &mut failures).await;
    for policy in [SessionLimitPolicy::Reject, SessionLimitPolicy::EvictOldest] {
        let store = open(format!("limit-{}", policy.as_str())).await;
        checks += limit_holds(store, policy, attempts, &mut failures).await;
    }
    if failures.is_empty() {
        Ok(checks)
    } else {
        Err(failures)
    }
}

async fn no_lost_state_update(
    store: Arc<dyn Store>,
    attempts: usize,
    failures: &mut Vec<String>,
) -> usize {
    let m = manager(store, Config::default());
    let id = match m.create(NewSession::new("cas", ClientKind::Other)).await {
        Ok(created) => created.session.id,
        Err(e) => {
            failures.push(format!("state CAS: create failed: {e}"));
            return 0;
        }
    };
    let m = &m;
    // Each attempt reads the counter and writes it + 1, expecting the version it read: by
    // `put_state` on even workers, `patch_state` on odd ones.
    let tallies = together(WORKERS, |worker| async move {
        let (mut won, mut errors) = (0u64, Vec::new());
        for _ in 0..attempts {
            let (version, n) = match m.get_state(&id).await {
                Ok(Some(s)) => (s.version, s.data["n"].as_u64().unwrap_or(0)),
                Ok(None) => (0, 0),
                Err(e) => {
                    errors.push(format!("get_state: {e}"));
                    continue;
                }
            };
            let written = if worker % 2 == 0 {
                m.put_state(&id, &json!({ "n": n + 1 }), Some(version))
                    .await
            } else {
                m.patch_state(&id, &json!({ "n": n + 1 }), Some(version))
                    .await
            };
            match written {
                Ok(v) if v == version + 1 => won += 1,
                Ok(v) => errors.push(format!("wrote version {v} after reading {version}")),
                Err(Error::Conflict { current_version }) if current_version != version => {}
                Err(e) => errors.push(format!("write expecting {version}: {e:?}")),
            }
        }
        (won, errors)
    })
    .await;
    let won: u64 = tallies.iter().map(|(w, _)| w).sum();
    for (_, errors) in tallies {
        failures.extend(errors.into_iter().map(|e| format!("state CAS: {e}")));
    }
    let (version, n) = match m.get_state(&id).await {
        Ok(Some(s)) => (s.version, s.data["n"].as_u64().unwrap_or(0)),
        other => {
            failures.push(format!("state CAS: final read {other:?}"));
            return 0;
        }
    };
    check(failures, won > 0, || "state CAS: no write ever won".into());
    check(failures, version == won && n == won, || {
        format!("state CAS: {won} writes succeeded, final version {version} and counter {n}")
    });
    2
}

async fn no_lost_metadata_update(
    store: Arc<dyn Store>,
    attempts: usize,
    failures: &mut Vec<String>,
) -> usize {
    let m = manager(store, Config::default());
    let id = match m.create(NewSession::new("meta", ClientKind::Other)).await {
        Ok(created) => created.session.id,
        Err(e) => {
            failures.push(format!("metadata CAS: create failed: {e}"));
            return 0;
        }
    };
    let m = &m;
    // Every worker sets keys of its own; each update that reports success must be kept.
    let applied = together(WORKERS, |worker| async move {
        let mut applied = Vec::new();
        for n in 0..attempts {
            let key = format!("w{worker}-{n}");
            match m.update_metadata(&id, &json!({ key.clone(): n })).await {
                Ok(_) => applied.push(key),
                // Gave up after losing every retry: nothing claimed, nothing to keep.
                Err(Error::Storage { .. }) => {}
                Err(e) => applied.push(format!("unexpected error {e:?}")),
            }
        }
        applied
    })
    .await;
    let metadata = match m.get(&id).await {
        Ok(session) => session.metadata,
        Err(e) => {
            failures.push(format!("metadata CAS: final read: {e}"));
            return 0;
        }
    };
    let applied: Vec<String> = applied.into_iter().flatten().collect();
    let lost: Vec<&String> = applied
        .iter()
        .filter(|k| !metadata.contains_key(*k))
        .collect();
    check(failures, lost.is_empty(), || {
        format!("metadata CAS: updates reported applied but lost: {lost:?}")
    });
    check(failures, metadata.len() == applied.len(), || {
        format!(
            "metadata CAS: {} keys stored, {} updates applied",
            metadata.len(),
            applied.len()
        )
    });
    2
}

async fn no_resurrection(
    store: Arc<dyn Store>,
    attempts: usize,
    failures: &mut Vec<String>,
) -> usize {
    let m = manager(
        store.clone(),
        Config {
            touch_interval_ms: 0,
            ..Config::default()
        },
    );
    let mut targets = Vec::new();
    for _ in 0..3 {
        match m.create(NewSession::new("target", ClientKind::Web)).await {
            Ok(created) => targets.push(created),
            Err(e) => {
                failures.push(format!("resurrection: create failed: {e}"));
                return 0;
            }
        }
    }
    let [revoked, deleted, rotated]: [SessionId; 3] = [
        targets[0].session.id,
        targets[1].session.id,
        targets[2].session.id,
    ];
    let m = &m;
    // Worker 0 revokes, worker 1 deletes, worker 2 rotates, each half-way; every worker writes
    // to all three sessions throughout.
    let outcomes = together(WORKERS, |worker| async move {
        let mut rotations = Vec::new();
        for n in 0..attempts {
            if n == attempts / 2 {
                match worker {
                    0 => drop(m.revoke(&revoked).await),
                    1 => drop(m.delete(&deleted).await),
                    _ => {
                        if let Ok(created) = m.rotate(&rotated).await {
                            rotations.push(created.session.id);
                        }
                    }
                }
            }
            for id in [revoked, deleted, rotated] {
                let _ = m.touch(&id).await;
                let _ = m
                    .put_state(&id, &json!({ "w": worker, "n": n }), None)
                    .await;
                let _ = m.update_metadata(&id, &json!({ "w": worker })).await;
            }
        }
        rotations
    })
    .await;
    let rotations: Vec<SessionId> = outcomes.into_iter().flatten().collect();
    let mut checks = 0;
    checks += 1;
    check(
        failures,
        matches!(m.get(&revoked).await, Ok(s) if !s.active),
        || "resurrection: a revoked session is active again".into(),
    );
    checks += 1;
    check(
        failures,
        m.validate(targets[0].token.as_str()).await == Err(Error::Revoked),
        || "resurrection: a revoked session's token validates".into(),
    );
    for (what, id) in [("deleted", deleted), ("rotated-away", rotated)] {
        checks += 2;
        check(failures, m.get(&id).await == Err(Error::NotFound), || {
            format!("resurrection: the {what} session exists again")
        });
        check(
            failures,
            matches!(store.get_state(&id).await, Ok(StateLookup::NoSession)),
            || format!("resurrection: the {what} session's state exists again"),
        );
    }
    checks += 1;
    check(failures, rotations.len() == 1, || {
        format!(
            "resurrection: {} of the racing rotations succeeded",
            rotations.len()
        )
    });
    checks += 1;
    check(
        failures,
        m.count_user_sessions("target", false).await == Ok(2),
        || "resurrection: sessions other than the revoked and the rotated one are stored".into(),
    );
    checks
}

async fn limit_holds(
    store: Arc<dyn Store>,
    policy: SessionLimitPolicy,
    attempts: usize,
    failures: &mut Vec<String>,
) -> usize {
    const MAX: u32 = 3;
    let m = manager(
        store,
        Config {
            max_sessions_per_user: Some(MAX),
            session_limit_policy: policy,
            ..Config::default()
        },
    );
    let m = &m;
    let created = together(WORKERS, |_| async move {
        let mut created = 0u64;
        let mut errors = Vec::new();
        for _ in 0..attempts.min(10) {
            match m.create(NewSession::new("crowd", ClientKind::Mobile)).await {
                Ok(_) => created += 1,
                Err(Error::LimitExceeded { .. }) if policy == SessionLimitPolicy::Reject => {}
                Err(e) => errors.push(format!("create: {e}")),
            }
        }
        (created, errors)
    })
    .await;
    let total: u64 = created.iter().map(|(n, _)| n).sum();
    for (_, errors) in created {
        failures.extend(
            errors
                .into_iter()
                .map(|e| format!("limit ({policy:?}): {e}")),
        );
    }
    let live = m.count_user_sessions("crowd", true).await;
    check(failures, live == Ok(u64::from(MAX)), || {
        format!("limit ({policy:?}): {live:?} live sessions, the limit is {MAX}")
    });
    let expected_created = match policy {
        SessionLimitPolicy::Reject => u64::from(MAX),
        SessionLimitPolicy::EvictOldest => (WORKERS * attempts.min(10)) as u64,
    };
    check(failures, total == expected_created, || {
        format!("limit ({policy:?}): {total} creates succeeded, expected {expected_created}")
    });
    2
}

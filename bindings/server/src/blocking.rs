//! Engine calls off the async workers. The SQLite store runs each operation on the calling
//! thread, so every call goes to tokio's blocking pool: a slow disk or a long cleanup never
//! stalls the threads that accept and answer other requests.
//!
//! Request handlers reach the engine through [`Engine`], which lets at most a few calls into
//! the engine at once (twice the cores, at least 4): the others wait for a slot without holding
//! a thread. Unbounded, 64 connections ran up to 64 blocking threads, each read beyond the SQLite
//! store's idle readers opened a connection of its own, and a third of the server's CPU went to
//! scheduling them (BENCHMARKS.md). The background cleanup takes no slot, so it never keeps a
//! request waiting for one.

use std::future::Future;
use std::sync::Arc;

use sessionkit::SessionManager;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The engine as request handlers call it: the manager and the slots that bound the calls in it.
pub struct Engine {
    manager: Arc<SessionManager>,
    slots: Semaphore,
}

impl Engine {
    /// Over `manager`, with as many slots as twice the cores (at least 4).
    pub(crate) fn new(manager: Arc<SessionManager>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self::with_slots(manager, (2 * cores).max(4))
    }

    fn with_slots(manager: Arc<SessionManager>, slots: usize) -> Self {
        Engine {
            manager,
            slots: Semaphore::new(slots),
        }
    }

    /// The manager.
    pub fn manager(&self) -> &Arc<SessionManager> {
        &self.manager
    }
}

/// Runs `f` against the manager on the blocking pool once a slot is free, and waits for it.
pub async fn call<T, F, Fut>(engine: &Engine, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(Arc<SessionManager>) -> Fut + Send + 'static,
    Fut: Future<Output = sessionkit::Result<T>>,
{
    let _slot = engine
        .slots
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the engine is closed"))?;
    call_unbounded(&engine.manager, f).await
}

/// Runs `f` against the manager on the blocking pool without waiting for a slot (the
/// background cleanup), and waits for it.
pub async fn call_unbounded<T, F, Fut>(manager: &Arc<SessionManager>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(Arc<SessionManager>) -> Fut + Send + 'static,
    Fut: Future<Output = sessionkit::Result<T>>,
{
    let manager = Arc::clone(manager);
    match tokio::task::spawn_blocking(move || pollster::block_on(f(manager))).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::internal("the engine call did not finish")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_calls_than_slots_are_in_the_engine_at_once() {
        const SLOTS: usize = 4;
        let manager = Arc::new(
            SessionManager::open(
                Arc::new(sessionkit::MemoryStore::new()),
                sessionkit::Config::default(),
            )
            .unwrap(),
        );
        let engine = Arc::new(Engine::with_slots(manager, SLOTS));
        // Each wave of SLOTS calls meets at the barrier: every slot is usable at once (fewer
        // slots would never get there), and the count inside never goes above the slots.
        let barrier = Arc::new(Barrier::new(SLOTS));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let calls = (0..SLOTS * 5).map(|_| {
            let (engine, barrier, inside, most) = (
                engine.clone(),
                barrier.clone(),
                inside.clone(),
                most.clone(),
            );
            tokio::spawn(async move {
                call(&engine, move |_| async move {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    barrier.wait();
                    inside.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
            })
        });
        for call in calls.collect::<Vec<_>>() {
            call.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), SLOTS);
    }
}

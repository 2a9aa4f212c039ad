//! What sessionkit's network database stores (`sessionkit-postgres`, `sessionkit-mysql`) share:
//! [`StoreRuntime`], the tokio runtime their connection work runs on, and — with the `testing`
//! feature — [`testing`], the helpers their tests use to find a server and make a database.
//! Nothing here decides anything about sessions: that is the engine's.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "testing")]
pub mod testing;

use tokio::runtime::{Builder, Handle, Runtime};

/// The runtime a store (or an event relay) spawns its connection work on: either its own (a
/// small multi-thread runtime, shut down in the background when dropped — also from inside
/// another runtime, where a blocking shutdown would panic) or a handle the caller passes, whose
/// runtime must outlive the store.
///
/// Why a store needs one at all is the driver's business; each store says so where it uses it.
pub struct StoreRuntime {
    handle: Handle,
    owned: Option<Runtime>,
}

impl StoreRuntime {
    /// A runtime of the store's own: `threads` worker threads named `name`.
    pub fn own(name: &str, threads: usize) -> sessionkit::Result<StoreRuntime> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|e| {
                sessionkit::Error::storage(format!("cannot start a tokio runtime: {e}"))
            })?;
        Ok(StoreRuntime {
            handle: runtime.handle().clone(),
            owned: Some(runtime),
        })
    }

    /// The caller's runtime.
    pub fn shared(handle: Handle) -> StoreRuntime {
        StoreRuntime {
            handle,
            owned: None,
        }
    }

    /// The caller's runtime when there is one, else one of the store's own.
    pub fn shared_or_own(
        handle: Option<Handle>,
        name: &str,
        threads: usize,
    ) -> sessionkit::Result<StoreRuntime> {
        match handle {
            Some(handle) => Ok(StoreRuntime::shared(handle)),
            None => StoreRuntime::own(name, threads),
        }
    }

    /// The handle tasks are spawned on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for StoreRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.owned.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_own_runtime_runs_tasks_and_drops_inside_another_runtime() {
        let own = StoreRuntime::own("sk-test", 1).unwrap();
        let answer = own.handle().spawn(async { 42 });
        let outer = Builder::new_current_thread().build().unwrap();
        assert_eq!(outer.block_on(answer).unwrap(), 42);
        // Dropping inside a runtime would panic with a blocking shutdown.
        outer.block_on(async move { drop(own) });
    }

    #[test]
    fn a_shared_runtime_is_the_callers() {
        let outer = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let shared = StoreRuntime::shared_or_own(Some(outer.handle().clone()), "x", 1).unwrap();
        let answer = shared.handle().spawn(async { 7 });
        assert_eq!(outer.block_on(answer).unwrap(), 7);
        drop(shared);
        // The caller's runtime still runs after the store let go of it.
        assert_eq!(outer.block_on(async { 1 }), 1);
    }
}

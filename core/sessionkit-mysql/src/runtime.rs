//! The tokio runtime that drives the pool's connections.
//!
//! mysql_async's connections poll their own sockets with tokio's reactor and its pool spawns its
//! recycler on tokio, so — unlike a channel-based client — no part of an operation may be polled
//! on another executor. The store runs each *whole* operation (taking the connection, every
//! statement, the commit) as one task on this runtime and awaits the task's handle, which any
//! executor can do: tokio tasks, `pollster::block_on`, a plain thread.
//!
//! The runtime is either the store's own (a small multi-thread runtime, shut down in the
//! background when the store is dropped — also from inside another runtime, where a blocking
//! shutdown would panic) or a handle the caller passes, whose runtime must outlive the store.

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::StoreResult;

/// The runtime the store spawns its connection work on.
pub(crate) struct StoreRuntime {
    handle: Handle,
    owned: Option<Runtime>,
}

impl StoreRuntime {
    /// A runtime of the store's own: `threads` worker threads.
    pub(crate) fn own(name: &str, threads: usize) -> StoreResult<StoreRuntime> {
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
    pub(crate) fn shared(handle: Handle) -> StoreRuntime {
        StoreRuntime {
            handle,
            owned: None,
        }
    }

    /// The handle tasks are spawned on.
    pub(crate) fn handle(&self) -> &Handle {
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

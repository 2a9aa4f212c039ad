//! Opening the IndexedDB store (browsers; wasm32 only).

use std::sync::Arc;

use sessionkit::{Result, Store};

/// Opens (creating or upgrading) the IndexedDB database `name`.
#[cfg(target_arch = "wasm32")]
pub async fn open(name: &str) -> Result<Arc<dyn Store>> {
    let store = sessionkit_indexeddb::IndexedDbStore::open(name).await?;
    // The engine shares stores as `Arc<dyn Store>`; on wasm32 `Store` has no `Send` bound and
    // this one (holding browser handles) is used on this one thread only.
    #[allow(clippy::arc_with_non_send_sync)]
    let store: Arc<dyn Store> = Arc::new(store);
    Ok(store)
}

/// IndexedDB exists only in browsers (wasm32): elsewhere opening it is a `Storage` error.
#[cfg(not(target_arch = "wasm32"))]
pub async fn open(_name: &str) -> Result<Arc<dyn Store>> {
    Err(sessionkit::Error::storage(
        "IndexedDB is only available in the wasm32 build",
    ))
}

//! # sessionkit-indexeddb
//!
//! The browser store of sessionkit: [`IndexedDbStore`] implements [`sessionkit::Store`] over
//! IndexedDB, for `wasm32-unknown-unknown` in browsers (windows and workers). On other targets
//! this crate is empty.
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")]
//! # async fn demo() -> sessionkit::Result<()> {
//! use std::sync::Arc;
//! use sessionkit::{ClientKind, Config, NewSession, SessionManager};
//! use sessionkit_indexeddb::IndexedDbStore;
//!
//! let store = IndexedDbStore::open("my-app-sessions").await?;
//! let manager = SessionManager::open(Arc::new(store), Config::default())?;
//! let created = manager.create(NewSession::new("alice", ClientKind::Web)).await?;
//! # let _ = created;
//! # Ok(())
//! # }
//! ```
//!
//! ## Layout
//!
//! - object store `sessions`, key path `i` (the 16-byte id as a binary key: binary keys compare
//!   bytewise, the same order as [`sessionkit::SessionId`], so ties resolve id-descending as on
//!   every other store), with the indexes
//!   - `user_activity` on `[u, a, i]` (user, last activity, id): a user's sessions newest first
//!     are a `prev` cursor over the user's key range, and a keyset page starts strictly below
//!     the cursor's `(last_active_at, id)` position, so a page costs the same at any depth;
//!   - `expiry` on `e` (expires_at): cleanup walks the expired prefix, ties by id;
//! - object store `states`, keyed by the session id, holding the encoded blob;
//! - object store `client_replicas` (schema 3), keyed by a sync client's name, holding its
//!   replica record `{r: revision, b: bytes}` ([`sessionkit::ReplicaStore`], docs/SPEC.md §9).
//!
//! Records are compact objects with one-letter keys: `i` id, `u` user, `c`/`a`/`e`/`x` created,
//! last active, expires and absolute expiry, `k` client kind, `v`/`d` client version and device,
//! `p` IP, `g` user agent, `r` active, `m` metadata as JSON text, `h` token hash (32 bytes);
//! state records are `{v: version, b: blob, t: updated_at}`, and a cleared state leaves
//! `{v: version, t: cleared_at}` behind so versions never repeat. Absent optional fields are left
//! out. Times are integer JavaScript numbers, exact within ±(2^53 − 1) ms (about ±285,000
//! years); a time outside that range is refused with `Error::Storage` rather than rounded.
//!
//! Each operation is one transaction (read-only unless it writes) that awaits nothing but its own
//! requests, so IndexedDB cannot auto-commit it half-way; conditional writes (the active check,
//! insert-only `add`, compare-and-swap on the state version, the per-user limit) happen inside
//! that transaction. A write reports success only after the transaction's `complete` event. An
//! operation that fails, or whose future is dropped before it finishes, aborts its transaction.
//!
//! ## Why `web-sys` directly
//!
//! `indexed_db_futures` 0.6 and `rexie` 0.6 both build here, but this crate talks to IndexedDB
//! through `web-sys` with three small adapters (a request, a cursor and a transaction future,
//! about 400 lines with their docs, in `request.rs` and `transaction.rs`):
//!
//! - **The transaction rules are the store's correctness.** "Await only this transaction's
//!   requests", "abort on error or drop", "report a write only once `complete` fired", "a failed
//!   `add` is an outcome, not an abort" are exactly what the adapters encode, in plain sight.
//!   With a wrapper crate they would depend on its version's policies (drop semantics, error
//!   event handling, when it commits), which have changed between releases.
//! - **Lockstep versions.** `web-sys` is released with `wasm-bindgen`; pinning
//!   `wasm-bindgen = "=0.2.129"` pins it too. No extra crate has to agree with that pin.
//! - **Size.** The npm package ships this code; `web-sys` bindings add only what is used, with
//!   no serde bridge or extra executor.
//! - **Errors.** DOM errors are mapped by their `name` (`ConstraintError`, `VersionError`,
//!   `QuotaExceededError`, …) straight to [`sessionkit::Error`].
//!
//! Futures are driven by `wasm-bindgen-futures`, which polls woken tasks in microtasks; a
//! microtask queued from a request's `success` handler runs while the transaction is still
//! active, so awaiting a request and issuing the next one keeps the transaction alive.

#![cfg(target_arch = "wasm32")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod open;
mod record;
mod request;
mod schema;
mod store;
mod transaction;

pub use open::delete_database;
pub use schema::SCHEMA_VERSION;
pub use store::IndexedDbStore;

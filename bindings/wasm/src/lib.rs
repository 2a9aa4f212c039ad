//! # sessionkit-wasm
//!
//! The wasm-bindgen face of sessionkit, packaged by `web/` as the npm package `sessionkit`.
//! Conversion only: JS arguments are checked and converted ([`convert`]), the engine applies
//! every rule, and results come back as plain JS objects with camelCase field names
//! ([`records`]). Errors reject with `{kind, message, …fields}` objects that the package's
//! JavaScript turns into `SessionkitError`s.
//!
//! Exports: `SessionManagerCore` (memory or IndexedDB store, every operation returning a Promise),
//! `ManualClockCore`, and `SyncClientCore` (the sync client's state machine, §9, which the
//! package's `SessionClient` drives) with `ReplicaStoreCore` (its replicas in IndexedDB). The crate also builds natively (without events and IndexedDB), so the
//! workspace builds and its record conversions are unit-tested on the host.

#![warn(missing_docs)]

mod client;
mod clock;
pub mod convert;
mod error;
#[cfg(target_arch = "wasm32")]
mod events;
mod indexeddb;
mod manager;
pub mod records;
mod replicas;

pub use client::SyncClientCore;
pub use clock::ManualClockCore;
pub use manager::SessionManagerCore;
pub use replicas::ReplicaStoreCore;

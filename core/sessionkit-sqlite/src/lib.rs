//! # sessionkit-sqlite
//!
//! The native [`sessionkit::Store`]: sessions and their client state in one SQLite file
//! (rusqlite, SQLite bundled).
//!
//! - WAL journal, `synchronous=NORMAL`, a 5 s `busy_timeout`, foreign keys on.
//! - One writer connection, every write one `BEGIN IMMEDIATE` transaction; a small pool of
//!   read-only connections for reads, which WAL runs beside the writer.
//! - The schema is versioned with `PRAGMA user_version` and upgraded in one transaction; a
//!   database from a newer build is refused with [`sessionkit::Error::IncompatibleSchema`] and
//!   left untouched.
//! - Checkpoints run on a connection of their own after the write lock is released, never
//!   inside a write; a bulk deletion of expired sessions lets the log grow to twice the size
//!   of the database (at most 1 GiB) before one, so a page rewritten by many batches is
//!   copied back once, not once a batch.
//! - Every query is served by the primary key or an index (sessions by user and activity,
//!   sessions by expiry).
//! - A new database file is created owner-only (0600 on Unix; its `-wal` and `-shm` follow it),
//!   never through a symbolic link.
//!
//! ```
//! use std::sync::Arc;
//! use sessionkit::{ClientKind, Config, NewSession, SessionManager};
//! use sessionkit_sqlite::SqliteStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("sessions.db"))?;
//! let manager = SessionManager::open(Arc::new(store), Config::default())?;
//!
//! pollster::block_on(async {
//!     let created = manager.create(NewSession::new("alice", ClientKind::Desktop)).await?;
//!     let session = manager.validate(created.token.as_str()).await?;
//!     assert_eq!(session.user_id, "alice");
//!     Ok::<(), sessionkit::Error>(())
//! })?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connection;
mod error;
mod migrations;
mod pool;
mod private_file;
mod queries;
mod rows;
mod store;
mod wal;

pub use migrations::SCHEMA_VERSION;
#[doc(hidden)]
pub use queries::hot_path_statements;
pub use store::SqliteStore;
pub use wal::WriteStats;

/// The repository README's Rust example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

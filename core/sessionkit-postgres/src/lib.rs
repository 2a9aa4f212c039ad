//! # sessionkit-postgres
//!
//! A [`sessionkit::Store`] in PostgreSQL (12 or newer): sessions and their client state shared
//! by every server that connects to one database.
//!
//! - **Driver and pool.** [tokio-postgres] (pure Rust, no libpq, pipelined, typed binary
//!   parameters) with [deadpool-postgres] (a small tokio pool made for it, with a per-connection
//!   statement cache). Every statement is prepared once per connection and parameterised.
//! - **Runtime.** The pool's connections are driven by a tokio runtime: the store's own (two
//!   worker threads, the default) or one the caller hands over ([`PostgresOptions::runtime`]).
//!   The store takes connections on that runtime and awaits the result through a task handle, so
//!   its methods can be awaited from anywhere: tokio tasks, `pollster::block_on` inside the
//!   server's `spawn_blocking` threads, or the CLI's plain `main` thread with no runtime at all.
//! - **Schema** versioned in the table `sessionkit_schema`; upgrades run in one transaction; a
//!   database from a newer build is refused with [`sessionkit::Error::IncompatibleSchema`] and
//!   left untouched.
//! - **Indexes** as the SQLite store's: sessions by id (primary key), by
//!   `(user_id, last_active_at DESC, id DESC)` and by `(expires_at, id)`.
//! - **Concurrency.** See [`PostgresStore`]: conditional single-statement writes, row locks
//!   where a write reads first, a per-user advisory lock under the session limit.
//! - **Events across servers** through `LISTEN/NOTIFY`: [`PostgresEventRelay`].
//! - TLS is not built in: connect over a local socket or a private network.
//!
//! [tokio-postgres]: https://docs.rs/tokio-postgres
//! [deadpool-postgres]: https://docs.rs/deadpool-postgres

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod migrations;
mod queries;
mod relay;
mod rows;
mod store;

pub use migrations::SCHEMA_VERSION;
#[doc(hidden)]
pub use queries::hot_path_statements;
pub use relay::{PostgresEventRelay, EVENT_CHANNEL};
pub use store::{PostgresOptions, PostgresStore};

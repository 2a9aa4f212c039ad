//! # sessionkit-mysql
//!
//! A [`sessionkit::Store`] in MySQL (8.0 or newer) or MariaDB (10.8 or newer: descending
//! indexes): sessions and their client state shared by every server that connects to one
//! database.
//!
//! - **Driver and pool.** [mysql_async] (0.37): pure Rust, tokio-native, the binary protocol
//!   with a per-connection prepared-statement cache, and a pool of its own. Chosen over
//!   sqlx-mysql, whose current release needs a newer Rust than this workspace's minimum and
//!   brings sqlx's whole runtime and macro layer for a store that needs none of it. Every
//!   statement is prepared once per connection and parameterised.
//! - **Runtime.** mysql_async polls its sockets on tokio, so each *whole* operation runs as a
//!   task on a tokio runtime — the store's own (two worker threads, the default) or one the
//!   caller hands over ([`MysqlOptions::runtime`]) — and the caller awaits the task's handle:
//!   the methods can be awaited from anywhere (tokio tasks, `pollster::block_on` inside the
//!   server's `spawn_blocking` threads, the CLI's plain `main` thread).
//! - **Schema** versioned in the table `sessionkit_schema`. MySQL's DDL commits on its own, so
//!   an upgrade is made safe by a named lock, idempotent steps, a check of the resulting tables
//!   and the version row written last (see the `migrations` module); a database from a newer
//!   build is refused with [`sessionkit::Error::IncompatibleSchema`] and left untouched.
//! - **Indexes** as the other stores': sessions by id (primary key), by
//!   `(user_id, last_active_at DESC, id DESC)` and by `(expires_at, id)`.
//! - **Text.** User ids are stored as bytes (`VARBINARY`), compared byte for byte — the
//!   `utf8mb4_bin` collation pads trailing spaces on MariaDB, which would make `"alice"` and
//!   `"alice "` one user; other text is `utf8mb4` with a binary collation.
//! - **Concurrency.** See [`MysqlStore`]: conditional single-statement writes, row locks where
//!   a write reads first, a per-user lock row under the session limit.
//! - **Events across servers**: MySQL has no `LISTEN/NOTIFY`, so [`MysqlEventRelay`] appends
//!   each event to a table that every server polls (200 ms by default), with a bounded
//!   retention.
//! - TLS is not built in: connect over a local socket or a private network.
//!
//! [mysql_async]: https://docs.rs/mysql_async

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
pub use relay::{MysqlEventRelay, MysqlRelayOptions, GAP_WAIT};
pub use store::{MysqlOptions, MysqlStore};

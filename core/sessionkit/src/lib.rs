//! # sessionkit
//!
//! One engine for sessions and per-session client state, used unchanged by web apps (wasm over
//! IndexedDB), mobile apps (uniffi over SQLite) and servers and tools (Rust, Python, a CLI).
//!
//! The engine applies every rule — token format, expiry, limits, compare-and-swap, the state codec —
//! and delegates persistence to a [`Store`]. It performs no I/O of its own and builds for native
//! targets and `wasm32-unknown-unknown`.
//!
//! The behaviour is specified in `docs/SPEC.md` at the repository root; "SPEC §N" in these docs
//! and comments means its section N.
//!
//! ```
//! use std::sync::Arc;
//! use sessionkit::{ClientKind, Config, ManualClock, MemoryStore, NewSession, SessionManager};
//!
//! # pollster::block_on(async {
//! let clock = ManualClock::new(1_700_000_000_000);
//! let manager = SessionManager::open_with_clock(
//!     Arc::new(MemoryStore::new()),
//!     Config::default(),
//!     Arc::new(clock.clone()),
//! )?;
//!
//! let created = manager.create(NewSession::new("alice", ClientKind::Web)).await?;
//! let token = created.token.as_str().to_owned(); // hand this to the client, once
//!
//! let session = manager.validate(&token).await?;
//! assert_eq!(session.user_id, "alice");
//!
//! clock.advance(31 * 60 * 1000); // past the 30-minute idle timeout
//! assert_eq!(
//!     manager.validate(&token).await.unwrap_err().kind(),
//!     sessionkit::ErrorKind::Expired
//! );
//! # Ok::<(), sessionkit::Error>(())
//! # }).unwrap();
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
mod clock;
mod config;
mod context;
mod cursor;
mod error;
mod events;
mod export;
mod id;
mod manager;
mod memory;
mod metadata;
mod model;
mod policy;
mod random;
mod send;
pub mod sql;
mod state_codec;
mod state_crypto;
mod store;
mod token;
mod validation;

#[cfg(feature = "testing")]
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, SessionLimitPolicy};
pub use context::{ContextPolicy, RequestContext};
pub use cursor::PageCursor;
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, EventListener, ListenerFn, Subscription};
pub use export::{ExportRecord, ExportedState};
pub use id::SessionId;
pub use manager::{SessionManager, StateBlob};
pub use memory::MemoryStore;
pub use model::{
    ClientInfo, ClientKind, Created, ListOptions, NewSession, Page, Session, SessionStatus, State,
    Stats,
};
pub use policy::DAY_MS;
pub use send::{SendOutsideWasm, SyncOutsideWasm};
pub use state_codec::{
    checksum_text as state_checksum_text, DecodedState, EncodedState, StateCodec,
};
pub use state_crypto::{
    is_encrypted as state_is_encrypted, key_id as state_key_id, StateKeys,
    KEY_LEN as STATE_KEY_LEN, NONCE_LEN as STATE_NONCE_LEN,
};
pub use store::{
    next_counter, InsertOutcome, LimitDecision, Liveness, MaintenanceStore, ReplicaStore,
    RevokeBatch, SessionLimit, SessionPosition, SessionRecord, SessionStore, StateDecision,
    StateLookup, StatePut, StateRecord, StateStore, StateVersions, StatsQuery, Store, StoreStats,
    StoredSession, UserPageQuery, WriteOutcome, MAX_COUNTER,
};
pub use token::{Token, TokenHash};
pub use validation::is_hidden_char;

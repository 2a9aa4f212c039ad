//! # sessionkit-ffi
//!
//! The uniffi face of sessionkit: one native library and generated bindings for Kotlin
//! (JVM/Android), Swift (iOS/macOS) and Python. It only converts: arguments in, engine call, result
//! out. Every rule (tokens, expiry, limits, compare-and-swap, the state codec) is the engine's.
//!
//! - Records carry SPEC §1 field names; each language applies its own case.
//! - JSON values (metadata, state data, patches, export records) are [`Json`], a custom type
//!   lowered to JSON text: Kotlin and Swift see a JSON `String`, Python dict/list/… values.
//! - Times are `i64` milliseconds since the Unix epoch.
//! - The client kind and the two policies are enums ([`ClientKind`], [`SessionLimitPolicy`],
//!   [`ContextPolicy`]); `parse_*` reads their SPEC names.
//! - Every failure is one error type, [`SessionkitError`], with one variant per SPEC §5 kind.
//! - Methods block until the engine is done (see the README for why); the bindings release the
//!   caller's interpreter lock where they have one.
//!
//! The bindings are generated from the built library by this crate's `uniffi-bindgen` binary
//! (library mode; no UDL file).
//!
//! The same API from Rust (what the foreign calls do underneath):
//!
//! ```
//! use sessionkit_ffi::{ClientKind, Config, ManualClock, NewSession, SessionManager};
//!
//! let clock = ManualClock::new(1_700_000_000_000);
//! let manager = SessionManager::open_memory(Config::default(), Some(clock.clone()), None)?;
//! let created = manager.create(NewSession {
//!     user_id: "alice".into(),
//!     client_kind: ClientKind::Web,
//!     client_version: None,
//!     device: None,
//!     ip: None,
//!     user_agent: None,
//!     metadata: Some(r#"{"theme":"dark"}"#.into()),
//! })?;
//! let session = manager.validate(created.token.clone())?;
//! assert_eq!(session.metadata.as_str(), r#"{"theme":"dark"}"#);
//!
//! clock.advance(31 * 60 * 1000);
//! let err = manager.validate(created.token).unwrap_err();
//! assert_eq!(err.kind(), "Expired");
//! # Ok::<(), sessionkit_ffi::SessionkitError>(())
//! ```

#![warn(missing_docs)]

mod client;
mod clock;
mod codec;
mod config;
mod enums;
mod error;
mod events;
mod json;
mod manager;
mod records;

pub use client::{
    ClientEvent, ClientListener, ClientMetrics, ClientOptions, ClientSubscription,
    ConflictResolver, ConnectionState, RecoveryResult, SessionClient, SyncResult,
};
pub use clock::ManualClock;
pub use codec::{DecodedState, EncodedState, StateCodec};
pub use config::{default_config, Config};
pub use enums::{
    parse_client_kind, parse_context_policy, parse_session_limit_policy, ClientKind, ContextPolicy,
    SessionLimitPolicy,
};
pub use error::SessionkitError;
pub use events::{Event, EventListener, Subscription};
pub use json::Json;
pub use manager::SessionManager;
pub use records::{
    ClientInfo, Created, ImportSummary, ListOptions, NewSession, Page, Session, State, Stats,
};

uniffi::setup_scaffolding!("sessionkit");

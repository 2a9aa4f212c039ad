//! The sync client (docs/SPEC.md §9), once, without I/O.
//!
//! A client holds its own signed-in session and a replica of its state, and keeps both in step
//! with a §8 server across a network that fails. [`SyncMachine`] is the whole behaviour: a face
//! (the browser's `SessionClient`, the native HTTP driver) feeds it what happened — answers,
//! stream events, timer firings, connectivity, the app's calls — and carries out what it returns:
//! requests to send ([`HttpRequest`], built here), timers to set, events to emit, the replica to
//! persist. Deterministic given its inputs and the jitter seed, so a simulation replays.

mod backoff;
mod http;
mod machine;
mod replica;

pub use backoff::{Backoff, Jitter};
pub use http::{error_from_body, Call, Failure, HttpRequest, Reply};
pub use machine::{
    Channel, ClientConfig, ClientEvent, ClientMetrics, ConnectionState, Input, OpId, Outcome,
    Output, RecoveryOutcome, RecoveryResult, SyncMachine, SyncResult, Timer,
};
pub use replica::{Change, ConflictPolicy, QueuedChange, Replica, Resolution, Resolver};

//! `SessionClient` (SPEC §9) for Kotlin, Swift and Python: the native driver
//! (`sessionkit-client`) converted, nothing re-written. JSON values are [`Json`] (the conflict resolver's arguments and answer: JSON text).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Result, SessionkitError};
use crate::{Json, Session};

/// How a client behaves; every field has a default.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ClientOptions {
    /// The server's heartbeat period (`sessionkit serve --heartbeat-ms`, default 25 s).
    #[uniffi(default = 25000)]
    pub heartbeat_ms: u64,
    /// `"merge"` (default), `"server_wins"`, `"client_wins"` or `"custom"` (with a resolver).
    #[uniffi(default = "merge")]
    pub conflict_policy: String,
    /// The first reconnect delay's ceiling (default 1 s).
    #[uniffi(default = 1000)]
    pub backoff_initial_ms: u64,
    /// How the ceiling grows per failed attempt (default 1.6).
    #[uniffi(default = 1.6)]
    pub backoff_multiplier: f64,
    /// The largest ceiling (default 60 s).
    #[uniffi(default = 60000)]
    pub backoff_max_ms: u64,
    /// `session_expiring` fires this long before expiry (default 60 s).
    #[uniffi(default = 60000)]
    pub expiring_within_ms: u64,
    /// A request slower than this counts as failed (default 15 s).
    #[uniffi(default = 15000)]
    pub request_timeout_ms: u64,
    /// The replica's key in the local store (default `"default"`).
    #[uniffi(default = "default")]
    pub key: String,
}

impl ClientOptions {
    fn engine(&self) -> Result<sessionkit::client::ClientConfig> {
        let conflict_policy =
            serde_json::from_value(serde_json::Value::String(self.conflict_policy.clone()))
                .map_err(|_| SessionkitError::InvalidInput {
                    field: "conflict_policy".into(),
                    reason: "must be merge, server_wins, client_wins or custom".into(),
                })?;
        Ok(sessionkit::client::ClientConfig {
            heartbeat_ms: self.heartbeat_ms,
            conflict_policy,
            backoff: sessionkit::client::Backoff {
                initial_ms: self.backoff_initial_ms,
                multiplier: self.backoff_multiplier,
                max_ms: self.backoff_max_ms,
            },
            expiring_within_ms: self.expiring_within_ms,
            ..sessionkit::client::ClientConfig::default()
        })
    }
}

/// What the client tells the app (SPEC §9 events).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClientEvent {
    /// The first connection since the client opened or signed in.
    ConnectionEstablished,
    /// A connection was lost.
    ConnectionLost,
    /// Connected again after a loss.
    ConnectionRestored,
    /// The session ended: sign in again.
    AuthRequired {
        /// `revoked`, `expired`, `rotated`, `deleted` or `invalid_token`.
        reason: String,
    },
    /// The session expires soon.
    SessionExpiring {
        /// When (ms since the epoch).
        expires_at: i64,
    },
    /// The local state rests on this server version.
    StateSynchronized {
        /// The version.
        version: u64,
    },
    /// Local changes met newer server changes.
    SyncConflict {
        /// `merge`, `server_wins`, `client_wins` or `custom`.
        resolution: String,
    },
    /// Something failed that the app may want to know.
    Error {
        /// The SPEC §5 kind.
        kind: String,
        /// What happened.
        message: String,
    },
}

fn snake<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl From<&sessionkit_client::ClientEvent> for ClientEvent {
    fn from(event: &sessionkit_client::ClientEvent) -> Self {
        use sessionkit_client::ClientEvent as E;
        match event {
            E::ConnectionEstablished => ClientEvent::ConnectionEstablished,
            E::ConnectionLost => ClientEvent::ConnectionLost,
            E::ConnectionRestored => ClientEvent::ConnectionRestored,
            E::AuthRequired { reason } => ClientEvent::AuthRequired {
                reason: reason.clone(),
            },
            E::SessionExpiring { expires_at } => ClientEvent::SessionExpiring {
                expires_at: *expires_at,
            },
            E::StateSynchronized { version } => {
                ClientEvent::StateSynchronized { version: *version }
            }
            E::SyncConflict { resolution } => ClientEvent::SyncConflict {
                resolution: snake(resolution),
            },
            E::Error { kind, message } => ClientEvent::Error {
                kind: kind.clone(),
                message: message.clone(),
            },
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ConnectionState {
    /// Offline, or not started.
    Disconnected,
    /// Connecting.
    Connecting,
    /// Connected.
    Connected,
    /// Waiting to try again.
    Reconnecting {
        /// The next attempt's number.
        attempt: u32,
        /// The delay chosen before it.
        retry_in_ms: u64,
    },
    /// No session.
    SignedOut,
}

impl From<sessionkit_client::ConnectionState> for ConnectionState {
    fn from(state: sessionkit_client::ConnectionState) -> Self {
        use sessionkit_client::ConnectionState as S;
        match state {
            S::Disconnected => ConnectionState::Disconnected,
            S::Connecting => ConnectionState::Connecting,
            S::Connected => ConnectionState::Connected,
            S::Reconnecting {
                attempt,
                retry_in_ms,
            } => ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            },
            S::SignedOut => ConnectionState::SignedOut,
        }
    }
}

/// What `sync()` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncResult {
    /// Pushes acknowledged.
    pub pushed: u64,
    /// Server states taken in.
    pub pulled: u64,
    /// Conflicts settled.
    pub conflicts: u64,
    /// The server version the replica rests on.
    pub version: u64,
    /// Local changes still waiting.
    pub pending: u64,
    /// The server could not be reached; the changes wait.
    pub offline: bool,
}

/// What `recover()` found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecoveryResult {
    /// `restored`, `signed_out` or `offline`.
    pub outcome: String,
    /// Why it is signed out, when it is.
    pub reason: Option<String>,
    /// The server version the replica rests on.
    pub version: u64,
    /// Local changes still waiting.
    pub pending: u64,
}

/// Per-session figures.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientMetrics {
    /// Pushes acknowledged and server states taken in.
    pub syncs: u64,
    /// Conflicts settled.
    pub conflicts: u64,
    /// Reconnect attempts after failures.
    pub retries: u64,
    /// Connections restored after a loss.
    pub reconnects: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Response bytes received.
    pub bytes_received: u64,
    /// The last request's round trip (ms).
    pub last_round_trip_ms: Option<u64>,
    /// Time signed in but not connected (ms).
    pub offline_ms: u64,
    /// Local changes waiting.
    pub pending_changes: u64,
}

/// Receives the client's events (a Kotlin/Swift class, a Python object). Called on the client's
/// own thread: return quickly, and don't wait on the client's blocking calls from it.
#[uniffi::export(with_foreign)]
pub trait ClientListener: Send + Sync {
    /// Called once per event.
    fn on_event(&self, event: ClientEvent) -> std::result::Result<(), SessionkitError>;
}

/// The app's conflict resolver for `conflict_policy = "custom"`: JSON text in, JSON text out
/// (`None` where there is no state).
#[uniffi::export(with_foreign)]
pub trait ConflictResolver: Send + Sync {
    /// The state to push instead of the local view.
    fn resolve(
        &self,
        base: Option<String>,
        local: Option<String>,
        remote: Option<String>,
    ) -> String;
}

/// A live subscription to a client's events; `unsubscribe` (or releasing it) stops them.
#[derive(uniffi::Object)]
pub struct ClientSubscription {
    inner: Mutex<Option<sessionkit_client::Subscription>>,
}

#[uniffi::export]
impl ClientSubscription {
    /// Stops delivery now.
    pub fn unsubscribe(&self) {
        let taken = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(taken);
    }
}

/// A signed-in client of a sessionkit server (SPEC §9): its session, a local replica of its
/// state kept in sync, the connection kept alive. Calls block (except the `_async` forms).
#[derive(uniffi::Object)]
pub struct SessionClient {
    inner: sessionkit_client::SessionClient,
}

impl SessionClient {
    fn open(
        base_url: String,
        store: Arc<dyn sessionkit::ReplicaStore>,
        options: ClientOptions,
        resolver: Option<Arc<dyn ConflictResolver>>,
    ) -> Result<Arc<Self>> {
        let mut engine = sessionkit_client::ClientOptions::new(base_url, store);
        engine.config = options.engine()?;
        engine.key = options.key;
        engine.request_timeout = Duration::from_millis(options.request_timeout_ms.max(1));
        engine.resolver = resolver.map(|r| {
            let resolve = move |base: Option<&serde_json::Value>,
                                local: Option<&serde_json::Value>,
                                remote: Option<&serde_json::Value>| {
                let text = |v: Option<&serde_json::Value>| v.map(|v| v.to_string());
                let answer = r.resolve(text(base), text(local), text(remote));
                // An answer that is not JSON keeps the local view (what client_wins would do).
                serde_json::from_str(&answer)
                    .unwrap_or_else(|_| local.cloned().unwrap_or(serde_json::Value::Null))
            };
            Box::new(resolve) as Box<dyn sessionkit::client::Resolver + Send>
        });
        Ok(Arc::new(SessionClient {
            inner: sessionkit_client::SessionClient::open(engine)?,
        }))
    }
}

#[uniffi::export]
impl SessionClient {
    /// A client whose replica lives in memory (scripts, tests): gone when the process ends.
    #[uniffi::constructor(default(resolver = None, options))]
    pub fn open_memory(
        base_url: String,
        options: ClientOptions,
        resolver: Option<Arc<dyn ConflictResolver>>,
    ) -> Result<Arc<Self>> {
        Self::open(
            base_url,
            Arc::new(sessionkit::MemoryStore::new()),
            options,
            resolver,
        )
    }

    /// A client whose replica (session, state, queued changes) lives in the SQLite file at
    /// `path` (created with mode 0600), so it survives app restarts.
    #[uniffi::constructor(default(resolver = None, options))]
    pub fn open_sqlite(
        base_url: String,
        path: String,
        options: ClientOptions,
        resolver: Option<Arc<dyn ConflictResolver>>,
    ) -> Result<Arc<Self>> {
        let store = sessionkit_sqlite::SqliteStore::open(path)?;
        Self::open(base_url, Arc::new(store), options, resolver)
    }

    /// Signs in with a session token from the app's backend; connecting goes on in the
    /// background (`recover()` waits for the outcome).
    pub fn sign_in(&self, token: String) -> Result<()> {
        Ok(self.inner.sign_in(&token)?)
    }

    /// Revokes the session on the server (when reachable) and clears it here.
    pub fn sign_out(&self) -> Result<()> {
        Ok(self.inner.sign_out()?)
    }

    /// The session as last seen, or none when signed out.
    pub fn session(&self) -> Result<Option<Session>> {
        self.inner.session().map(Session::try_from).transpose()
    }

    /// The local state (instant, offline too), or none.
    pub fn state(&self) -> Result<Option<Json>> {
        self.inner.state().map(|s| Json::of(&s)).transpose()
    }

    /// Replaces the state locally at once; pushed when online.
    pub fn put_state(&self, data: Json) -> Result<()> {
        Ok(self.inner.put_state(data.value("data")?)?)
    }

    /// Merge-patches the state (RFC 7396) locally at once; pushed when online.
    pub fn patch_state(&self, patch: Json) -> Result<()> {
        Ok(self.inner.patch_state(patch.value("patch")?)?)
    }

    /// Pulls and pushes now; returns when the replica and the server agree or the server is
    /// out of reach (`offline`).
    pub fn sync(&self) -> Result<SyncResult> {
        Ok(sync_result(self.inner.sync()?))
    }

    /// `sync` for Kotlin coroutines, Swift async and Python asyncio.
    pub async fn sync_async(&self) -> Result<SyncResult> {
        Ok(sync_result(self.inner.sync_async().await?))
    }

    /// After a restart or a reconnect: re-validates the session and reconciles the replica.
    pub fn recover(&self) -> Result<RecoveryResult> {
        Ok(recovery_result(self.inner.recover()?))
    }

    /// `recover` for Kotlin coroutines, Swift async and Python asyncio.
    pub async fn recover_async(&self) -> Result<RecoveryResult> {
        Ok(recovery_result(self.inner.recover_async().await?))
    }

    /// This user's devices: the server's page (`items`, `next_cursor`; the caller's own item
    /// has `current: true`).
    pub fn devices(&self) -> Result<Json> {
        Json::of(&self.inner.devices()?)
    }

    /// Revokes one of this user's other devices.
    pub fn revoke_device(&self, id: String) -> Result<()> {
        Ok(self.inner.revoke_device(&id)?)
    }

    /// Revokes every other device of this user; returns how many were live.
    pub fn revoke_other_devices(&self) -> Result<u64> {
        Ok(self.inner.revoke_other_devices()?)
    }

    /// The figures so far.
    pub fn metrics(&self) -> ClientMetrics {
        let m = self.inner.metrics();
        ClientMetrics {
            syncs: m.syncs,
            conflicts: m.conflicts,
            retries: m.retries,
            reconnects: m.reconnects,
            bytes_sent: m.bytes_sent,
            bytes_received: m.bytes_received,
            last_round_trip_ms: m.last_round_trip_ms,
            offline_ms: m.offline_ms,
            pending_changes: m.pending_changes,
        }
    }

    /// Where the connection stands.
    pub fn connection_state(&self) -> ConnectionState {
        self.inner.connection_state().into()
    }

    /// The host's connectivity hint (Android `ConnectivityManager`, Apple `NWPathMonitor`).
    pub fn set_online(&self, online: bool) -> Result<()> {
        Ok(self.inner.set_online(online)?)
    }

    /// Delivers every event to `listener` until the subscription is released.
    pub fn subscribe(&self, listener: Arc<dyn ClientListener>) -> Arc<ClientSubscription> {
        let subscription = self.inner.subscribe(move |event| {
            if let Err(err) = listener.on_event(ClientEvent::from(event)) {
                tracing::warn!(%err, "client event listener failed");
            }
        });
        Arc::new(ClientSubscription {
            inner: Mutex::new(Some(subscription)),
        })
    }

    /// Stops the client's thread now (its replica is already saved); releasing the object
    /// does the same. Named `shutdown` because Kotlin's `close()` is `AutoCloseable`'s, which
    /// releases it.
    pub fn shutdown(&self) {
        self.inner.close();
    }
}

fn sync_result(r: sessionkit_client::SyncResult) -> SyncResult {
    SyncResult {
        pushed: r.pushed,
        pulled: r.pulled,
        conflicts: r.conflicts,
        version: r.version,
        pending: r.pending,
        offline: r.offline,
    }
}

fn recovery_result(r: sessionkit_client::RecoveryResult) -> RecoveryResult {
    let (outcome, reason) = match r.outcome {
        sessionkit_client::RecoveryOutcome::Restored => ("restored", None),
        sessionkit_client::RecoveryOutcome::SignedOut { reason } => ("signed_out", Some(reason)),
        sessionkit_client::RecoveryOutcome::Offline => ("offline", None),
    };
    RecoveryResult {
        outcome: outcome.into(),
        reason,
        version: r.version,
        pending: r.pending,
    }
}

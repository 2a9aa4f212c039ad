//! The sync client's state machine (docs/SPEC.md §9), without I/O: a face feeds it [`Input`]s
//! with the current time and carries out the [`Output`]s it returns.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::backoff::{Backoff, Jitter};
use super::http::{Call, Failure, HttpRequest, Reply};
use super::replica::{rebase, Change, ConflictPolicy, Replica, Resolution, Resolver};
use crate::{Error, Result, Session};

/// How the client behaves; every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Reconnect delays.
    pub backoff: Backoff,
    /// How conflicts are settled.
    pub conflict_policy: ConflictPolicy,
    /// The server's heartbeat period; a stream silent for twice as long (plus a second) is lost.
    pub heartbeat_ms: u64,
    /// How long a connection must stay up before the backoff starts again from its first delay.
    pub stable_after_ms: u64,
    /// `session_expiring` fires this long before the session expires.
    pub expiring_within_ms: u64,
    /// Before the idle expiry, validate once more (which slides it) instead of letting it lapse.
    pub keep_alive: bool,
    /// Where server events come from.
    pub channel: Channel,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            conflict_policy: ConflictPolicy::Merge,
            heartbeat_ms: 25_000,
            stable_after_ms: 10_000,
            expiring_within_ms: 60_000,
            keep_alive: true,
            channel: Channel::Stream,
        }
    }
}

impl ClientConfig {
    /// Checks the values; a bad one is `InvalidInput`.
    pub fn check(&self) -> Result<()> {
        self.backoff.check()?;
        if self.heartbeat_ms == 0 || self.heartbeat_ms > 3_600_000 {
            return Err(Error::invalid_input(
                "heartbeat_ms",
                "must be 1 ms to 1 hour",
            ));
        }
        Ok(())
    }

    fn silence_limit_ms(&self) -> u64 {
        self.heartbeat_ms.saturating_mul(2).saturating_add(1_000)
    }
}

/// Where server events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A push channel (Server-Sent Events or a WebSocket) the face opens on [`Output::OpenStream`].
    Stream,
    /// No push channel: validate and pull every `heartbeat_ms`.
    Poll,
}

/// Where the connection stands (`connection_state()` of §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Not connected: offline, or never started.
    Disconnected,
    /// A connection is being made.
    Connecting,
    /// Connected: changes are pushed as they happen, server events arrive.
    Connected,
    /// Waiting to try again.
    Reconnecting {
        /// The attempt that comes next (1 for the first retry).
        attempt: u32,
        /// The delay chosen before it.
        retry_in_ms: u64,
    },
    /// No session: sign in first.
    SignedOut,
}

/// What the client tells the app (§9 events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// The first connection since the client started or signed in.
    ConnectionEstablished,
    /// A connection was lost.
    ConnectionLost,
    /// Connected again after a loss.
    ConnectionRestored,
    /// The session ended (`revoked`, `expired`, `rotated`, `deleted`, `invalid_token`).
    AuthRequired {
        /// Why.
        reason: String,
    },
    /// The session expires soon.
    SessionExpiring {
        /// When (ms since the epoch).
        expires_at: i64,
    },
    /// The local state now rests on this server version.
    StateSynchronized {
        /// The server's version.
        version: u64,
    },
    /// Local changes met newer server changes; how it was settled.
    SyncConflict {
        /// The resolution.
        resolution: Resolution,
    },
    /// Something failed that the app may want to know about.
    Error {
        /// The §5 kind.
        kind: String,
        /// What happened.
        message: String,
    },
}

/// The timers a face keeps, one of each kind: setting one replaces the previous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Try to connect again.
    Reconnect,
    /// The stream has been silent too long.
    Watchdog,
    /// The connection has stayed up long enough to reset the backoff.
    Stable,
    /// The session's expiry approaches.
    Expiring,
    /// Poll the server (without a push channel).
    Poll,
}

/// An app call that completes later (a face maps it to a promise or a blocking call).
pub type OpId = u64;

/// Something that happened: feed it to [`SyncMachine::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Begin: connect if the restored replica holds a session.
    Start,
    /// The app's backend signed the user in and handed over this session token.
    SignIn {
        /// The bearer token.
        token: String,
    },
    /// Sign out: revoke the session on the server (best effort) and clear it locally.
    SignOut {
        /// Completes when done.
        op: OpId,
    },
    /// Replace the state (locally at once; queued for the server).
    PutState(Value),
    /// Merge-patch the state (locally at once; queued for the server).
    PatchState(Value),
    /// Pull and push now; completes with a [`SyncResult`].
    Sync {
        /// Completes when the replica and the server agree, or when that cannot happen now.
        op: OpId,
    },
    /// Re-validate and reconcile; completes with a [`RecoveryResult`].
    Recover {
        /// Completes when the outcome is known.
        op: OpId,
    },
    /// A plain request for the app (devices, revoke a device, …); completes with its JSON.
    Call {
        /// Completes with the answer.
        op: OpId,
        /// The request.
        call: Call,
    },
    /// The platform says the network is (un)available.
    Online(bool),
    /// The answer to [`Output::Send`] as it came off the wire: the machine reads it as the
    /// request it sent says ([`Call::parse`]).
    HttpResponse {
        /// The request's id.
        id: u64,
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header.
        retry_after: Option<String>,
        /// The `ETag` header.
        etag: Option<String>,
        /// The body text.
        body: String,
    },
    /// [`Output::Send`] got no answer (network failure, timeout).
    NetworkFailure {
        /// The request's id.
        id: u64,
    },
    /// The answer to [`Output::Send`], already read.
    Response {
        /// The request's id.
        id: u64,
        /// What came back.
        result: std::result::Result<Reply, Failure>,
        /// Bytes received, for the metrics.
        bytes_received: u64,
    },
    /// The push channel is open.
    StreamOpened,
    /// An event arrived on the push channel (`heartbeat`, `state_changed`, `auth`, …).
    StreamEvent {
        /// The event's name.
        name: String,
        /// Its data.
        data: Value,
    },
    /// The push channel closed or failed.
    StreamClosed {
        /// A `Retry-After` that came with it, in ms.
        retry_after_ms: Option<u64>,
    },
    /// A timer set by [`Output::SetTimer`] fired.
    Timer(Timer),
    /// Another copy of this client (another tab) saved a newer replica.
    Adopt(Replica),
}

/// Something for the face to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this request; answer with [`Input::Response`] and the same id.
    Send {
        /// The request's id.
        id: u64,
        /// The request.
        request: HttpRequest,
    },
    /// Open the push channel (SSE or WebSocket) with this token; answer with
    /// [`Input::StreamOpened`], then [`Input::StreamEvent`]s, and [`Input::StreamClosed`].
    OpenStream {
        /// The bearer token.
        token: String,
    },
    /// Close the push channel.
    CloseStream,
    /// Fire [`Input::Timer`] after this long (replacing a pending timer of the kind).
    SetTimer {
        /// Which.
        timer: Timer,
        /// After how long.
        after_ms: u64,
    },
    /// Cancel a pending timer.
    CancelTimer(Timer),
    /// Tell the app.
    Emit(ClientEvent),
    /// Save the replica atomically in the local store (replacing the previous record).
    Persist(Box<Replica>),
    /// An app call completed.
    Done {
        /// Which.
        op: OpId,
        /// Its result.
        result: Result<Outcome>,
    },
}

/// What an app call returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// `sync()`.
    Sync(SyncResult),
    /// `recover()`.
    Recovery(RecoveryResult),
    /// A plain request's JSON answer (`null` for none).
    Json(Value),
}

/// What `sync()` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// True when the server could not be reached: the changes wait in the queue.
    pub offline: bool,
}

/// What `recover()` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryResult {
    /// `restored`, `signed_out` or `offline`.
    pub outcome: RecoveryOutcome,
    /// The server version the replica rests on.
    pub version: u64,
    /// Local changes still waiting.
    pub pending: u64,
}

/// How a recovery ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RecoveryOutcome {
    /// The session stands and the replica is reconciled with the server.
    Restored,
    /// The session is gone.
    SignedOut {
        /// Why.
        reason: String,
    },
    /// The server could not be reached; the replica waits.
    Offline,
}

/// Per-session figures (`metrics()` of §9).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetrics {
    /// Pushes acknowledged and server states taken in.
    pub syncs: u64,
    /// Conflicts settled.
    pub conflicts: u64,
    /// Reconnect attempts scheduled after a failure.
    pub retries: u64,
    /// Connections restored after a loss.
    pub reconnects: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Response bytes received.
    pub bytes_received: u64,
    /// The last request's round trip, in ms.
    pub last_round_trip_ms: Option<u64>,
    /// Time spent signed in but not connected, in ms.
    pub offline_ms: u64,
    /// Local changes waiting for the server.
    pub pending_changes: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Push {
    upto: u64,
    expected: u64,
    data: Value,
}

#[derive(Debug, Clone)]
enum Pending {
    Validate,
    Heartbeat,
    Pull,
    Push(Push),
    Op(OpId),
    /// The revocation of a sign-out; the sign-out completes with its answer (or its failure).
    SignOut(OpId),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Link {
    /// Not started, or no connection wanted.
    Idle,
    /// The platform is offline.
    Offline,
    /// Validating the session before anything else.
    Validating(u64),
    /// Validated; `stream_up` once the push channel is open.
    Open { stream_up: bool },
    /// Waiting for the reconnect timer.
    Waiting { attempt: u32, retry_in_ms: u64 },
    /// No session.
    SignedOut,
}

#[derive(Debug, Clone, Copy)]
enum Waiter {
    Sync {
        op: OpId,
        pushed: u64,
        pulled: u64,
        conflicts: u64,
    },
    Recover(OpId),
}

/// The sync client's state machine. Everything it knows is in memory; everything it wants done
/// comes out of [`SyncMachine::handle`].
pub struct SyncMachine {
    config: ClientConfig,
    jitter: Jitter,
    resolver: Option<Box<dyn Resolver>>,
    replica: Replica,
    online: bool,
    link: Link,
    attempt: u32,
    ever_connected: bool,
    lost_at: Option<i64>,
    /// Requests in flight: `(id, why, sent at, the call)`. A handful at most, so a list (a map
    /// would cost the wasm build a B-tree of its own).
    requests: Vec<(u64, Pending, i64, Call)>,
    state_request: Option<u64>,
    pull_wanted: bool,
    unconfirmed: Option<Push>,
    next_id: u64,
    waiters: Vec<Waiter>,
    metrics: ClientMetrics,
    pushed: u64,
    pulled: u64,
    warned_for: Option<i64>,
    now: i64,
    out: Vec<Output>,
}

impl std::fmt::Debug for SyncMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncMachine")
            .field("replica", &self.replica)
            .field("link", &self.link)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl SyncMachine {
    /// A machine over a replica read back from the local store (`Replica::default()` when there
    /// was none). `seed` seeds the reconnect jitter.
    pub fn new(config: ClientConfig, replica: Replica, seed: u64) -> Result<Self> {
        config.check()?;
        let link = if replica.token.is_some() {
            Link::Idle
        } else {
            Link::SignedOut
        };
        Ok(Self {
            config,
            jitter: Jitter::new(seed),
            resolver: None,
            replica,
            online: true,
            link,
            attempt: 0,
            ever_connected: false,
            lost_at: None,
            requests: Vec::new(),
            state_request: None,
            pull_wanted: false,
            unconfirmed: None,
            next_id: 1,
            waiters: Vec::new(),
            metrics: ClientMetrics::default(),
            pushed: 0,
            pulled: 0,
            warned_for: None,
            now: 0,
            out: Vec::new(),
        })
    }

    /// Sets the resolver [`ConflictPolicy::Custom`] asks.
    pub fn set_resolver(&mut self, resolver: Box<dyn Resolver>) {
        self.resolver = Some(resolver);
    }

    /// The session as last seen (`None` when signed out or not yet validated).
    pub fn session(&self) -> Option<&Session> {
        self.replica
            .token
            .as_ref()
            .and(self.replica.session.as_ref())
    }

    /// The local view of the state: instant, offline too.
    pub fn state(&self) -> Option<Value> {
        self.replica.view()
    }

    /// The replica as it would be persisted.
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Whether a session token is held.
    pub fn signed_in(&self) -> bool {
        self.replica.token.is_some()
    }

    /// Where the connection stands.
    pub fn connection_state(&self) -> ConnectionState {
        match self.link {
            Link::SignedOut => ConnectionState::SignedOut,
            Link::Idle | Link::Offline => ConnectionState::Disconnected,
            Link::Validating(_) | Link::Open { stream_up: false } => ConnectionState::Connecting,
            Link::Open { stream_up: true } => ConnectionState::Connected,
            Link::Waiting {
                attempt,
                retry_in_ms,
            } => ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            },
        }
    }

    /// The figures so far.
    pub fn metrics(&self, now: i64) -> ClientMetrics {
        let mut m = self.metrics.clone();
        m.pending_changes = self.replica.queue.len() as u64;
        if let Some(lost) = self.lost_at {
            m.offline_ms += now.saturating_sub(lost).max(0) as u64;
        }
        m
    }

    /// Takes one input at time `now` (ms since the epoch) and returns what to do, in order.
    pub fn handle(&mut self, now: i64, input: Input) -> Vec<Output> {
        self.now = now;
        match input {
            Input::Start => {
                if self.signed_in() && matches!(self.link, Link::Idle) {
                    self.connect(now);
                }
            }
            Input::SignIn { token } => self.sign_in(now, token),
            Input::SignOut { op } => self.sign_out(now, op),
            Input::PutState(data) => self.change(Change::Put(data)),
            Input::PatchState(patch) => self.change(Change::Patch(patch)),
            Input::Sync { op } => self.sync(now, op),
            Input::Recover { op } => self.recover(now, op),
            Input::Call { op, call } => {
                if self.signed_in() {
                    self.send(now, Pending::Op(op), call);
                } else {
                    self.done(op, Err(Error::InvalidToken));
                }
            }
            Input::Online(online) => self.set_online(now, online),
            Input::Response {
                id,
                result,
                bytes_received,
            } => self.on_response(now, id, result, bytes_received),
            Input::HttpResponse {
                id,
                status,
                retry_after,
                etag,
                body,
            } => {
                if let Some((_, _, _, call)) = self.requests.iter().find(|r| r.0 == id) {
                    let result = call.parse(status, retry_after.as_deref(), etag.as_deref(), &body);
                    self.on_response(now, id, result, body.len() as u64);
                }
            }
            Input::NetworkFailure { id } => self.on_response(now, id, Err(Failure::Network), 0),
            Input::StreamOpened => self.on_stream_opened(now),
            Input::StreamEvent { name, data } => self.on_stream_event(now, &name, &data),
            Input::StreamClosed { retry_after_ms } => {
                if matches!(self.link, Link::Open { .. }) {
                    self.lose(now, retry_after_ms);
                }
            }
            Input::Timer(timer) => self.on_timer(now, timer),
            Input::Adopt(replica) => {
                if replica.revision > self.replica.revision {
                    let signed_in = replica.token.is_some();
                    self.replica = replica;
                    if !signed_in {
                        self.link = Link::SignedOut;
                    } else if matches!(self.link, Link::SignedOut) {
                        self.link = Link::Idle;
                    }
                }
            }
        }
        self.settle(now);
        std::mem::take(&mut self.out)
    }

    // ---- app calls ----

    fn sign_in(&mut self, now: i64, token: String) {
        self.close_stream();
        let revision = self.replica.revision;
        self.replica = Replica {
            token: Some(token),
            revision,
            ..Replica::default()
        };
        self.persist();
        self.attempt = 0;
        self.ever_connected = false;
        self.lost_at = None;
        self.unconfirmed = None;
        self.state_request = None;
        self.requests
            .retain(|(_, p, _, _)| matches!(p, Pending::Op(_) | Pending::SignOut(_)));
        self.connect(now);
    }

    /// Clears the session here at once; when online, it completes once the server answered
    /// the revocation (or could not be reached), so a caller that exits right after it does not
    /// cut the request off.
    fn sign_out(&mut self, now: i64, op: OpId) {
        let revoking = self.replica.token.is_some() && self.online;
        if revoking {
            self.send(now, Pending::SignOut(op), Call::SignOut);
        }
        if self.replica.token.is_some() {
            self.end_session(None);
        }
        if !revoking {
            self.done(op, Ok(Outcome::Json(Value::Null)));
        }
    }

    fn change(&mut self, change: Change) {
        self.replica.push(change);
        self.persist();
        self.kick();
    }

    fn sync(&mut self, now: i64, op: OpId) {
        if !self.signed_in() {
            return self.done(op, Err(Error::InvalidToken));
        }
        self.waiters.push(Waiter::Sync {
            op,
            pushed: self.pushed,
            pulled: self.pulled,
            conflicts: self.metrics.conflicts,
        });
        match self.link {
            Link::Open { .. } => {
                self.pull_wanted = true;
                self.kick();
            }
            // A failed or idle connection: try now rather than at the timer.
            Link::Waiting { .. } | Link::Idle if self.online => self.connect(now),
            _ => {}
        }
    }

    fn recover(&mut self, now: i64, op: OpId) {
        if !self.signed_in() {
            let result = RecoveryResult {
                outcome: RecoveryOutcome::SignedOut {
                    reason: "signed_out".into(),
                },
                version: 0,
                pending: 0,
            };
            return self.done(op, Ok(Outcome::Recovery(result)));
        }
        self.waiters.push(Waiter::Recover(op));
        if self.online {
            // Start over: validate, then reconcile.
            self.close_stream();
            self.connect(now);
        }
    }

    fn set_online(&mut self, now: i64, online: bool) {
        if self.online == online {
            return;
        }
        self.online = online;
        if !self.signed_in() {
            return;
        }
        if online {
            if matches!(self.link, Link::Offline | Link::Waiting { .. } | Link::Idle) {
                self.connect(now);
            }
        } else {
            let was_open = matches!(self.link, Link::Open { stream_up: true });
            self.close_stream();
            self.cancel_connection_timers();
            self.link = Link::Offline;
            if was_open {
                self.lost_at = Some(now);
                self.emit(ClientEvent::ConnectionLost);
            }
        }
    }

    // ---- connection ----

    fn connect(&mut self, now: i64) {
        if !self.signed_in() {
            self.link = Link::SignedOut;
            return;
        }
        self.out.push(Output::CancelTimer(Timer::Reconnect));
        if !self.online {
            self.link = Link::Offline;
            return;
        }
        let id = self.send(now, Pending::Validate, Call::Validate);
        self.link = Link::Validating(id);
    }

    fn on_validated(&mut self, now: i64, session: Session) {
        self.take_session(now, session);
        self.link = Link::Open { stream_up: false };
        self.pull_wanted = true;
        match self.config.channel {
            Channel::Stream => {
                let token = self.replica.token.clone().unwrap_or_default();
                self.out.push(Output::OpenStream { token });
            }
            Channel::Poll => self.on_stream_opened(now),
        }
        self.kick();
    }

    fn on_stream_opened(&mut self, now: i64) {
        if !matches!(self.link, Link::Open { stream_up: false }) {
            return;
        }
        self.link = Link::Open { stream_up: true };
        let event = if self.ever_connected {
            self.metrics.reconnects += 1;
            ClientEvent::ConnectionRestored
        } else {
            ClientEvent::ConnectionEstablished
        };
        self.ever_connected = true;
        if let Some(lost) = self.lost_at.take() {
            self.metrics.offline_ms += now.saturating_sub(lost).max(0) as u64;
        }
        self.emit(event);
        self.set_timer(Timer::Stable, self.config.stable_after_ms);
        match self.config.channel {
            Channel::Stream => self.set_timer(Timer::Watchdog, self.config.silence_limit_ms()),
            Channel::Poll => self.set_timer(Timer::Poll, self.config.heartbeat_ms),
        }
    }

    /// The connection failed: tell the app if it was up, and schedule the next attempt.
    fn lose(&mut self, now: i64, retry_after_ms: Option<u64>) {
        if matches!(self.link, Link::SignedOut | Link::Waiting { .. }) {
            return;
        }
        let was_up = matches!(self.link, Link::Open { stream_up: true });
        self.close_stream();
        self.cancel_connection_timers();
        if was_up {
            self.emit(ClientEvent::ConnectionLost);
        }
        if self.lost_at.is_none() && self.ever_connected {
            self.lost_at = Some(now);
        }
        if !self.online {
            self.link = Link::Offline;
            return;
        }
        let delay = self
            .config
            .backoff
            .delay(self.attempt, &mut self.jitter, retry_after_ms);
        self.attempt = self.attempt.saturating_add(1);
        self.metrics.retries += 1;
        self.link = Link::Waiting {
            attempt: self.attempt,
            retry_in_ms: delay,
        };
        self.set_timer(Timer::Reconnect, delay);
    }

    fn on_timer(&mut self, now: i64, timer: Timer) {
        match timer {
            Timer::Reconnect => {
                if matches!(self.link, Link::Waiting { .. }) {
                    self.connect(now);
                }
            }
            Timer::Watchdog => {
                if matches!(self.link, Link::Open { .. }) {
                    self.lose(now, None);
                }
            }
            Timer::Stable => {
                if matches!(self.link, Link::Open { stream_up: true }) {
                    self.attempt = 0;
                }
            }
            Timer::Expiring => self.check_expiry(now, true),
            Timer::Poll => {
                if matches!(self.link, Link::Open { .. }) {
                    self.send(now, Pending::Heartbeat, Call::Validate);
                    self.pull_wanted = true;
                    self.kick();
                    self.set_timer(Timer::Poll, self.config.heartbeat_ms);
                }
            }
        }
    }

    fn on_stream_event(&mut self, now: i64, name: &str, data: &Value) {
        if !matches!(self.link, Link::Open { .. }) {
            return;
        }
        if self.config.channel == Channel::Stream {
            self.set_timer(Timer::Watchdog, self.config.silence_limit_ms());
        }
        let own = self.replica.session.as_ref().map(|s| s.id.to_string());
        let about_own = data.get("session_id").and_then(Value::as_str) == own.as_deref();
        match name {
            "heartbeat" if about_own => {
                if let Some(expires_at) = data.get("expires_at").and_then(Value::as_i64) {
                    if let Some(session) = self.replica.session.as_mut() {
                        session.expires_at = expires_at;
                    }
                    self.check_expiry(now, false);
                }
            }
            "state_changed" if about_own => {
                let version = data.get("version").and_then(Value::as_u64);
                // The echo of this client's own push in flight (the stream can be faster than
                // the push's answer) is not news: the answer will say it landed.
                let own_push = self.state_request.is_some_and(|id| {
                    self.requests.iter().any(|(rid, pending, _, _)| {
                        *rid == id
                            && matches!(pending, Pending::Push(p) if Some(p.expected + 1) == version)
                    })
                });
                if !own_push && version.is_none_or(|v| v != self.replica.base_version) {
                    self.pull_wanted = true;
                    self.kick();
                }
            }
            "auth" => {
                let reason = data
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("revoked")
                    .to_owned();
                self.end_session(Some(reason));
            }
            "error" => self.lose(now, None),
            _ => {}
        }
    }

    fn take_session(&mut self, now: i64, session: Session) {
        let changed = self.replica.session.as_ref() != Some(&session);
        self.replica.session = Some(session);
        if changed {
            self.persist();
        }
        self.check_expiry(now, false);
    }

    fn check_expiry(&mut self, now: i64, fired: bool) {
        let Some(session) = self.session() else {
            return;
        };
        let expires_at = session.expires_at;
        let idle_expiry = expires_at < session.absolute_expires_at;
        let warn_at = expires_at.saturating_sub(self.config.expiring_within_ms as i64);
        if now < warn_at {
            self.set_timer(Timer::Expiring, (warn_at - now) as u64);
            return;
        }
        if fired && self.config.keep_alive && idle_expiry && matches!(self.link, Link::Open { .. })
        {
            // Validating slides the idle expiry; the answer re-arms the timer.
            self.send(now, Pending::Heartbeat, Call::Validate);
            return;
        }
        if self.warned_for != Some(expires_at) && now < expires_at {
            self.warned_for = Some(expires_at);
            self.emit(ClientEvent::SessionExpiring { expires_at });
        }
    }

    /// The session is over: clear it locally, tell the app (with a reason) and stop.
    fn end_session(&mut self, reason: Option<String>) {
        self.close_stream();
        self.cancel_connection_timers();
        self.out.push(Output::CancelTimer(Timer::Expiring));
        let revision = self.replica.revision;
        self.replica = Replica {
            revision,
            next_seq: self.replica.next_seq,
            ..Replica::default()
        };
        self.persist();
        self.link = Link::SignedOut;
        self.state_request = None;
        self.pull_wanted = false;
        self.unconfirmed = None;
        self.lost_at = None;
        if let Some(reason) = reason {
            self.emit(ClientEvent::AuthRequired { reason });
        }
    }

    // ---- state sync ----

    /// Starts the next state request if none is in flight: a wanted pull first, then a push.
    fn kick(&mut self) {
        if self.state_request.is_some() || !matches!(self.link, Link::Open { .. }) {
            return;
        }
        let now = self.now;
        if self.pull_wanted {
            self.pull_wanted = false;
            let id = self.send(now, Pending::Pull, Call::GetState);
            self.state_request = Some(id);
        } else if let Some(last) = self.replica.queue.last() {
            let data = self.replica.view().unwrap_or(Value::Null);
            if self.replica.base.as_ref() == Some(&data) {
                // The server's state already is the local view (a lost push that landed, or the
                // same edit made elsewhere): nothing to write, so nothing is written twice.
                self.replica.queue.clear();
                self.persist();
                let version = self.replica.base_version;
                self.emit(ClientEvent::StateSynchronized { version });
                return;
            }
            let push = Push {
                upto: last.seq,
                expected: self.replica.base_version,
                data,
            };
            let call = Call::PutState {
                data: push.data.clone(),
                expected_version: push.expected,
            };
            let id = self.send(now, Pending::Push(push), call);
            self.state_request = Some(id);
        }
    }

    /// The server's state is `(version, data)`: take it in, settling any conflict.
    fn take_remote(&mut self, version: u64, data: Option<Value>) {
        // A push whose answer was lost may have landed: recognise it, don't write it again.
        if let Some(lost) = self.unconfirmed.take() {
            if version == lost.expected + 1 && data.as_ref() == Some(&lost.data) {
                self.acknowledge(&lost, version);
                return;
            }
        }
        if version == self.replica.base_version && data == self.replica.base {
            return;
        }
        self.pulled += 1;
        self.metrics.syncs += 1;
        if self.replica.queue.is_empty() {
            self.replica.base_version = version;
            self.replica.base = data;
        } else {
            let resolver = self.resolver.as_deref();
            let resolution = rebase(
                &mut self.replica,
                self.config.conflict_policy,
                resolver,
                version,
                data,
            );
            self.metrics.conflicts += 1;
            self.emit(ClientEvent::SyncConflict { resolution });
        }
        self.persist();
        if self.replica.queue.is_empty() {
            self.emit(ClientEvent::StateSynchronized { version });
        }
    }

    fn acknowledge(&mut self, push: &Push, version: u64) {
        self.replica
            .acknowledge(push.upto, version, Some(push.data.clone()));
        self.pushed += 1;
        self.metrics.syncs += 1;
        self.persist();
        if self.replica.queue.is_empty() {
            self.emit(ClientEvent::StateSynchronized { version });
        }
    }

    // ---- responses ----

    fn on_response(
        &mut self,
        now: i64,
        id: u64,
        result: std::result::Result<Reply, Failure>,
        bytes_received: u64,
    ) {
        let Some(at) = self.requests.iter().position(|r| r.0 == id) else {
            return;
        };
        let (_, pending, sent_at, _) = self.requests.swap_remove(at);
        self.metrics.bytes_received += bytes_received;
        self.metrics.last_round_trip_ms = Some(now.saturating_sub(sent_at).max(0) as u64);
        if self.state_request == Some(id) {
            self.state_request = None;
        }
        if let Err(failure) = &result {
            if let Some(reason) = failure.signed_out_reason() {
                if !matches!(pending, Pending::SignOut(_)) && self.signed_in() {
                    self.end_session(Some(reason.to_owned()));
                }
                match pending {
                    Pending::Op(op) => self.done(op, Err(failure.clone().into_error())),
                    // Already revoked or expired: signed out all the same.
                    Pending::SignOut(op) => self.done(op, Ok(Outcome::Json(Value::Null))),
                    _ => {}
                }
                return;
            }
        }
        match (pending, result) {
            (Pending::Validate, result) => {
                if self.link != Link::Validating(id) {
                    return;
                }
                match result {
                    Ok(Reply::Session(session)) => self.on_validated(now, session),
                    Ok(_) => self.lose(now, None),
                    Err(failure) => self.fail(now, failure),
                }
            }
            (Pending::Heartbeat, Ok(Reply::Session(session))) => self.take_session(now, session),
            (Pending::Heartbeat, Err(failure)) => self.fail(now, failure),
            (Pending::Heartbeat, Ok(_)) => {}
            (Pending::Pull, Ok(Reply::State(state))) => {
                let (version, data) = state.map_or((0, None), |(v, d)| (v, Some(d)));
                self.take_remote(version, data);
            }
            (Pending::Pull, Ok(_)) => {}
            (Pending::Pull, Err(failure)) => self.fail(now, failure),
            (Pending::Push(push), Ok(Reply::Written(version))) => {
                self.unconfirmed = None;
                self.acknowledge(&push, version);
            }
            (Pending::Push(_), Ok(_)) => {}
            (Pending::Push(push), Err(failure)) => self.on_push_failed(now, push, failure),
            (Pending::Op(op), result) => {
                let result = match result {
                    Ok(Reply::Json(json)) => Ok(Outcome::Json(json)),
                    Ok(_) => Ok(Outcome::Json(Value::Null)),
                    Err(failure) => Err(failure.into_error()),
                };
                self.done(op, result);
            }
            (Pending::SignOut(op), _) => self.done(op, Ok(Outcome::Json(Value::Null))),
        }
        self.kick();
    }

    fn on_push_failed(&mut self, now: i64, push: Push, failure: Failure) {
        match failure {
            Failure::Api {
                error: Error::Conflict { .. },
                current: Some((version, data)),
                ..
            } => {
                if version == push.expected + 1 && data.as_ref() == Some(&push.data) {
                    // The same write landed before (a retried request): not applied twice.
                    self.unconfirmed = None;
                    self.acknowledge(&push, version);
                } else {
                    self.take_remote(version, data);
                }
            }
            Failure::Api {
                error: Error::Conflict { .. },
                ..
            } => self.pull_wanted = true,
            failure if failure.transient() => {
                self.unconfirmed = Some(push);
                self.fail(now, failure);
            }
            failure => {
                // The server refuses these changes for good (too large, invalid): drop them
                // rather than retry forever, and say so.
                self.replica.queue.retain(|q| q.seq > push.upto);
                self.persist();
                let error = failure.into_error();
                self.emit(ClientEvent::Error {
                    kind: error.kind().as_str().to_owned(),
                    message: format!("local changes refused by the server: {error}"),
                });
            }
        }
    }

    fn fail(&mut self, now: i64, failure: Failure) {
        let retry_after = match &failure {
            Failure::Api { retry_after_ms, .. } => *retry_after_ms,
            Failure::Network => None,
        };
        if !failure.transient() {
            let error = failure.into_error();
            self.emit(ClientEvent::Error {
                kind: error.kind().as_str().to_owned(),
                message: error.to_string(),
            });
        }
        self.lose(now, retry_after);
    }

    // ---- completion of waiting calls ----

    fn settle(&mut self, _now: i64) {
        if self.waiters.is_empty() {
            return;
        }
        let idle = self.state_request.is_none() && !self.pull_wanted;
        let synced = idle && self.replica.queue.is_empty();
        let open = matches!(self.link, Link::Open { .. });
        let failed = matches!(self.link, Link::Waiting { .. } | Link::Offline | Link::Idle);
        let signed_out = matches!(self.link, Link::SignedOut);
        if !(signed_out || failed || (open && synced)) {
            return;
        }
        let version = self.replica.base_version;
        let pending = self.replica.queue.len() as u64;
        for waiter in std::mem::take(&mut self.waiters) {
            let (op, result) = match waiter {
                Waiter::Sync {
                    op,
                    pushed,
                    pulled,
                    conflicts,
                } => {
                    let result = if signed_out {
                        Err(Error::InvalidToken)
                    } else {
                        Ok(Outcome::Sync(SyncResult {
                            pushed: self.pushed - pushed,
                            pulled: self.pulled - pulled,
                            conflicts: self.metrics.conflicts - conflicts,
                            version,
                            pending,
                            offline: !open,
                        }))
                    };
                    (op, result)
                }
                Waiter::Recover(op) => {
                    let outcome = if signed_out {
                        RecoveryOutcome::SignedOut {
                            reason: self.last_reason(),
                        }
                    } else if open {
                        RecoveryOutcome::Restored
                    } else {
                        RecoveryOutcome::Offline
                    };
                    let result = RecoveryResult {
                        outcome,
                        version,
                        pending,
                    };
                    (op, Ok(Outcome::Recovery(result)))
                }
            };
            self.out.push(Output::Done { op, result });
        }
    }

    fn last_reason(&self) -> String {
        self.out
            .iter()
            .rev()
            .find_map(|o| match o {
                Output::Emit(ClientEvent::AuthRequired { reason }) => Some(reason.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "signed_out".into())
    }

    // ---- outputs ----

    fn send(&mut self, now: i64, pending: Pending, call: Call) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let token = self.replica.token.as_deref().unwrap_or_default();
        let request = call.to_http(token);
        self.metrics.bytes_sent += request.body.as_ref().map_or(0, |b| b.len() as u64);
        self.requests.push((id, pending, now, call));
        self.out.push(Output::Send { id, request });
        id
    }

    fn set_timer(&mut self, timer: Timer, after_ms: u64) {
        self.out.push(Output::SetTimer { timer, after_ms });
    }

    fn cancel_connection_timers(&mut self) {
        for timer in [
            Timer::Reconnect,
            Timer::Watchdog,
            Timer::Stable,
            Timer::Poll,
        ] {
            self.out.push(Output::CancelTimer(timer));
        }
    }

    fn close_stream(&mut self) {
        if matches!(self.link, Link::Open { .. }) && self.config.channel == Channel::Stream {
            self.out.push(Output::CloseStream);
        }
    }

    fn emit(&mut self, event: ClientEvent) {
        self.out.push(Output::Emit(event));
    }

    fn persist(&mut self) {
        self.replica.revision += 1;
        self.out
            .push(Output::Persist(Box::new(self.replica.clone())));
    }

    fn done(&mut self, op: OpId, result: Result<Outcome>) {
        self.out.push(Output::Done { op, result });
    }
}

//! The sync client's native face (docs/SPEC.md §9): [`SessionClient`] runs the engine's
//! [`SyncMachine`] on a thread of its own and does its I/O — HTTP requests (reqwest over rustls),
//! the Server-Sent Events stream, timers, saving the replica in a [`ReplicaStore`] — and nothing
//! else: every decision is the machine's. The CLI's `sessionkit client` and the Python, Kotlin
//! and Swift faces all use this one driver.
//!
//! ```no_run
//! # fn main() -> sessionkit::Result<()> {
//! use std::sync::Arc;
//! use sessionkit_client::{ClientOptions, SessionClient};
//!
//! let store = Arc::new(sessionkit::MemoryStore::new());
//! let client = SessionClient::open(ClientOptions::new("http://127.0.0.1:8080", store))?;
//! client.sign_in("<token from the app's backend>")?;
//! let _subscription = client.subscribe(|event| println!("{event:?}"));
//! client.patch_state(serde_json::json!({"theme": "dark"}))?; // local at once, pushed when online
//! let result = client.sync()?;
//! println!("server version {}", result.version);
//! # Ok(()) }
//! ```
//!
//! Listeners run on the client's thread: they may read (`state()`, `session()`, …) but must not
//! wait on the client's blocking calls.

mod sse;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

pub use sessionkit::client::{
    Backoff, Channel, ClientConfig, ClientEvent, ClientMetrics, ConflictPolicy, ConnectionState,
    RecoveryOutcome, RecoveryResult, Resolution, Resolver, SyncResult,
};
use sessionkit::client::{Call, Input, OpId, Outcome, Output, Replica, SyncMachine, Timer};
use sessionkit::{Error, ReplicaStore, Result, Session, SessionId};

/// How to open a [`SessionClient`].
pub struct ClientOptions {
    /// The server's base URL (`http://host:port` or `https://…`), without a trailing path.
    pub base_url: String,
    /// Where the replica is kept (a `SqliteStore` on a device, a `MemoryStore` for scripts).
    pub store: Arc<dyn ReplicaStore>,
    /// The replica's key in the store: one per signed-in client kept there.
    pub key: String,
    /// The state machine's settings (backoff, conflict policy, heartbeat, …).
    pub config: ClientConfig,
    /// The resolver [`ConflictPolicy::Custom`] asks.
    pub resolver: Option<Box<dyn Resolver + Send>>,
    /// How long a request may take before it counts as failed.
    pub request_timeout: Duration,
}

impl ClientOptions {
    /// Defaults for everything but the server and the store.
    pub fn new(base_url: impl Into<String>, store: Arc<dyn ReplicaStore>) -> Self {
        Self {
            base_url: base_url.into(),
            store,
            key: "default".into(),
            config: ClientConfig::default(),
            resolver: None,
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// A listener for the client's events.
pub type Listener = Arc<dyn Fn(&ClientEvent) + Send + Sync>;

/// What the app can read at any time without waiting for the client's thread.
#[derive(Debug, Clone)]
struct View {
    /// SHA-256 of the token held, to tell whether a given token is the one signed in.
    token_digest: Option<[u8; 32]>,
    session: Option<Session>,
    state: Option<Value>,
    signed_in: bool,
    connection: ConnectionState,
    metrics: ClientMetrics,
}

struct Shared {
    view: Mutex<View>,
    listeners: Mutex<Vec<(u64, Listener)>>,
    next_listener: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A listener that panicked poisons nothing we rely on: the data is plain values.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Command {
    /// An input whose handling (and the replica's saving) the caller waits for.
    Input(Box<Input>, oneshot::Sender<()>),
    /// An app call that completes later.
    Op(Op, oneshot::Sender<Result<Outcome>>),
    Close,
}

enum Op {
    Sync,
    Recover,
    SignOut,
    Call(Call),
}

/// Keeps a listener subscribed until dropped (or [`Subscription::unsubscribe`]d).
pub struct Subscription {
    shared: Weak<Shared>,
    id: u64,
}

impl Subscription {
    /// Stops the listener.
    pub fn unsubscribe(self) {}
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.listeners).retain(|(id, _)| *id != self.id);
        }
    }
}

/// A signed-in client of a sessionkit server: its session, a replica of its state kept in sync,
/// the connection kept alive. Cheap to call from any thread.
pub struct SessionClient {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for SessionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionClient")
            .field("connection", &self.connection_state())
            .finish_non_exhaustive()
    }
}

fn closed() -> Error {
    Error::Storage {
        message: "the client is closed".into(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl SessionClient {
    /// Opens the client: reads the replica saved under `options.key` (a session and queued
    /// changes survive restarts) and, if it holds a session, starts connecting.
    pub fn open(options: ClientOptions) -> Result<Self> {
        options.config.check()?;
        let base_url = options.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::invalid_input(
                "base_url",
                "must be an http:// or https:// URL",
            ));
        }
        let replica = match pollster::block_on(options.store.load_replica(&options.key))? {
            Some((_, bytes)) => Replica::decode(&bytes)?,
            None => Replica::default(),
        };
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|_| Error::Storage {
            message: "no random source".into(),
        })?;
        let seed = u64::from_le_bytes(seed);
        // The machine is made on the client's thread (a resolver need not be `Sync`); this one
        // checks the settings and gives the first view.
        let initial = view_of(&SyncMachine::new(
            options.config.clone(),
            replica.clone(),
            seed,
        )?);
        let config = options.config;
        let http = reqwest::Client::builder()
            .connect_timeout(options.request_timeout)
            .build()
            .map_err(|e| Error::Storage {
                message: format!("HTTP client: {e}"),
            })?;
        let shared = Arc::new(Shared {
            view: Mutex::new(initial),
            listeners: Mutex::new(Vec::new()),
            next_listener: AtomicU64::new(1),
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        let driver_shared = shared.clone();
        let resolver = options.resolver;
        let store = options.store;
        let key = options.key;
        let timeout = options.request_timeout;
        let thread = std::thread::Builder::new()
            .name("sessionkit-client".into())
            .spawn(move || {
                let Ok(mut machine) = SyncMachine::new(config, replica, seed) else {
                    return;
                };
                if let Some(resolver) = resolver {
                    machine.set_resolver(resolver);
                }
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        tracing::error!(error = %e, "the client's runtime could not start");
                        return;
                    }
                };
                let driver = Driver {
                    machine,
                    store,
                    key,
                    base_url,
                    http,
                    timeout,
                    shared: driver_shared,
                    internal: mpsc::unbounded_channel(),
                    timers: HashMap::new(),
                    stream: None,
                    generation: 0,
                    ops: HashMap::new(),
                    next_op: 1,
                };
                runtime.block_on(driver.run(receiver));
            })
            .map_err(|e| Error::Storage {
                message: format!("the client's thread could not start: {e}"),
            })?;
        Ok(Self {
            shared,
            commands,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn view(&self) -> View {
        lock(&self.shared.view).clone()
    }

    /// Signs in with a session token the app's backend obtained (`POST /v1/admin/sessions`);
    /// replaces any previous session and replica. Returns once saved; connecting goes on in the
    /// background (`recover()` waits for its outcome).
    pub fn sign_in(&self, token: &str) -> Result<()> {
        if token.trim().is_empty() {
            return Err(Error::invalid_input("token", "must not be empty"));
        }
        self.input(Input::SignIn {
            token: token.to_owned(),
        })
    }

    /// Whether the client holds a session signed in with `token` (compared by digest, in
    /// constant time), e.g. to skip signing in again with a token it already holds.
    pub fn holds_token(&self, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.view()
            .token_digest
            .is_some_and(|held| bool::from(held.ct_eq(&digest(token))))
    }

    /// Revokes the session on the server (when reachable) and clears it here.
    pub fn sign_out(&self) -> Result<()> {
        self.op(Op::SignOut).map(drop)
    }

    /// The session as last seen; `None` when signed out (or not yet validated).
    pub fn session(&self) -> Option<Session> {
        self.view().session
    }

    /// The local state: instant, offline too.
    pub fn state(&self) -> Option<Value> {
        self.view().state
    }

    /// Replaces the state locally at once; queued for the server.
    pub fn put_state(&self, data: Value) -> Result<()> {
        self.require_session()?;
        self.input(Input::PutState(data))
    }

    /// Merge-patches the state (RFC 7396) locally at once; queued for the server.
    pub fn patch_state(&self, patch: Value) -> Result<()> {
        self.require_session()?;
        self.input(Input::PatchState(patch))
    }

    /// Pulls and pushes now; returns when the replica and the server agree, or when the
    /// server cannot be reached (`offline: true`, the changes wait).
    pub fn sync(&self) -> Result<SyncResult> {
        match self.op(Op::Sync)? {
            Outcome::Sync(result) => Ok(result),
            _ => Err(closed()),
        }
    }

    /// After a restart or a reconnect: re-validates the session and reconciles the replica.
    pub fn recover(&self) -> Result<RecoveryResult> {
        match self.op(Op::Recover)? {
            Outcome::Recovery(result) => Ok(result),
            _ => Err(closed()),
        }
    }

    /// This user's devices (sessions), a page as JSON; the caller's own is `current: true`.
    pub fn devices(&self) -> Result<Value> {
        self.call(Call::Devices {
            active_only: false,
            limit: None,
            cursor: None,
        })
    }

    /// Revokes one of the same user's other devices.
    pub fn revoke_device(&self, id: &str) -> Result<()> {
        let id: SessionId = id.parse()?;
        self.call(Call::RevokeDevice(id)).map(drop)
    }

    /// Revokes every other device of this user; returns how many were live.
    pub fn revoke_other_devices(&self) -> Result<u64> {
        let answer = self.call(Call::RevokeOthers)?;
        Ok(answer["revoked"].as_u64().unwrap_or(0))
    }

    /// Syncs, conflicts, retries, reconnects, bytes, round trip, time offline, pending changes.
    pub fn metrics(&self) -> ClientMetrics {
        self.view().metrics
    }

    /// Where the connection stands.
    pub fn connection_state(&self) -> ConnectionState {
        self.view().connection
    }

    /// The host's connectivity hint (Android `ConnectivityManager`, Apple `NWPathMonitor`):
    /// offline stops trying; online connects at once instead of waiting for the backoff.
    pub fn set_online(&self, online: bool) -> Result<()> {
        self.input(Input::Online(online))
    }

    /// Calls `listener` with every event until the subscription is dropped.
    pub fn subscribe(
        &self,
        listener: impl Fn(&ClientEvent) + Send + Sync + 'static,
    ) -> Subscription {
        let id = self.shared.next_listener.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.listeners).push((id, Arc::new(listener)));
        Subscription {
            shared: Arc::downgrade(&self.shared),
            id,
        }
    }

    /// Stops the client's thread (the replica is already saved).
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
        if let Some(thread) = lock(&self.thread).take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    fn require_session(&self) -> Result<()> {
        if self.view().signed_in {
            Ok(())
        } else {
            Err(Error::InvalidToken)
        }
    }

    fn input(&self, input: Input) -> Result<()> {
        let (done, wait) = oneshot::channel();
        self.commands
            .send(Command::Input(Box::new(input), done))
            .map_err(|_| closed())?;
        pollster::block_on(wait).map_err(|_| closed())
    }

    fn op(&self, op: Op) -> Result<Outcome> {
        pollster::block_on(self.op_async(op))
    }

    async fn op_async(&self, op: Op) -> Result<Outcome> {
        let (done, wait) = oneshot::channel();
        self.commands
            .send(Command::Op(op, done))
            .map_err(|_| closed())?;
        wait.await.map_err(|_| closed())?
    }

    fn call(&self, call: Call) -> Result<Value> {
        match self.op(Op::Call(call))? {
            Outcome::Json(value) => Ok(value),
            _ => Err(closed()),
        }
    }

    /// [`SessionClient::sync`] for async callers.
    pub async fn sync_async(&self) -> Result<SyncResult> {
        match self.op_async(Op::Sync).await? {
            Outcome::Sync(result) => Ok(result),
            _ => Err(closed()),
        }
    }

    /// [`SessionClient::recover`] for async callers.
    pub async fn recover_async(&self) -> Result<RecoveryResult> {
        match self.op_async(Op::Recover).await? {
            Outcome::Recovery(result) => Ok(result),
            _ => Err(closed()),
        }
    }
}

impl Drop for SessionClient {
    fn drop(&mut self) {
        self.close();
    }
}

fn digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

fn view_of(machine: &SyncMachine) -> View {
    View {
        token_digest: machine.replica().token.as_deref().map(digest),
        session: machine.session().cloned(),
        state: machine.state(),
        signed_in: machine.signed_in(),
        connection: machine.connection_state(),
        metrics: machine.metrics(now_ms()),
    }
}

/// What the client's own tasks (requests, the stream, timers) report back.
enum Internal {
    Input(Input),
    /// From the stream of this generation (a closed stream's leftovers are dropped).
    Stream(u64, Input),
    /// A timer of this generation fired.
    Timer(Timer, u64),
}

struct Driver {
    machine: SyncMachine,
    store: Arc<dyn ReplicaStore>,
    key: String,
    base_url: String,
    http: reqwest::Client,
    timeout: Duration,
    shared: Arc<Shared>,
    internal: (
        mpsc::UnboundedSender<Internal>,
        mpsc::UnboundedReceiver<Internal>,
    ),
    timers: HashMap<Timer, (u64, AbortHandle)>,
    stream: Option<(u64, AbortHandle)>,
    generation: u64,
    ops: HashMap<OpId, oneshot::Sender<Result<Outcome>>>,
    next_op: OpId,
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        self.process(Input::Start).await;
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None | Some(Command::Close) => break,
                    Some(Command::Input(input, done)) => {
                        self.process(*input).await;
                        let _ = done.send(());
                    }
                    Some(Command::Op(op, done)) => {
                        let id = self.next_op;
                        self.next_op += 1;
                        self.ops.insert(id, done);
                        let input = match op {
                            Op::Sync => Input::Sync { op: id },
                            Op::Recover => Input::Recover { op: id },
                            Op::SignOut => Input::SignOut { op: id },
                            Op::Call(call) => Input::Call { op: id, call },
                        };
                        self.process(input).await;
                    }
                },
                Some(internal) = self.internal.1.recv() => match internal {
                    Internal::Input(input) => self.process(input).await,
                    Internal::Stream(generation, input) => {
                        if self.stream.as_ref().is_some_and(|(g, _)| *g == generation) {
                            if matches!(input, Input::StreamClosed { .. }) {
                                self.stream = None;
                            }
                            self.process(input).await;
                        }
                    }
                    Internal::Timer(timer, generation) => {
                        if self.timers.get(&timer).is_some_and(|(g, _)| *g == generation) {
                            self.timers.remove(&timer);
                            self.process(Input::Timer(timer)).await;
                        }
                    }
                },
            }
        }
        for (_, (_, handle)) in self.timers.drain() {
            handle.abort();
        }
        if let Some((_, handle)) = self.stream.take() {
            handle.abort();
        }
    }

    async fn process(&mut self, input: Input) {
        let outputs = self.machine.handle(now_ms(), input);
        let mut events = Vec::new();
        let mut done = Vec::new();
        for output in outputs {
            match output {
                Output::Send { id, request } => self.send(id, request),
                Output::OpenStream { token } => self.open_stream(token),
                Output::CloseStream => {
                    if let Some((_, handle)) = self.stream.take() {
                        handle.abort();
                    }
                }
                Output::SetTimer { timer, after_ms } => {
                    self.generation += 1;
                    let generation = self.generation;
                    let tx = self.internal.0.clone();
                    let handle = tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(after_ms)).await;
                        let _ = tx.send(Internal::Timer(timer, generation));
                    })
                    .abort_handle();
                    if let Some((_, old)) = self.timers.insert(timer, (generation, handle)) {
                        old.abort();
                    }
                }
                Output::CancelTimer(timer) => {
                    if let Some((_, handle)) = self.timers.remove(&timer) {
                        handle.abort();
                    }
                }
                Output::Emit(event) => events.push(event),
                Output::Persist(replica) => {
                    let saved = self
                        .store
                        .save_replica(&self.key, replica.revision, &replica.encode())
                        .await;
                    if let Err(e) = saved {
                        tracing::warn!(error = %e, "the client's replica could not be saved");
                        events.push(ClientEvent::Error {
                            kind: e.kind().as_str().to_owned(),
                            message: format!("the local replica could not be saved: {e}"),
                        });
                    }
                }
                Output::Done { op, result } => done.push((op, result)),
            }
        }
        // The view first, so a caller woken by its result reads what the machine knows now.
        *lock(&self.shared.view) = view_of(&self.machine);
        for (op, result) in done {
            if let Some(waiter) = self.ops.remove(&op) {
                let _ = waiter.send(result);
            }
        }
        if !events.is_empty() {
            let listeners: Vec<Listener> = lock(&self.shared.listeners)
                .iter()
                .map(|(_, l)| l.clone())
                .collect();
            for event in &events {
                for listener in &listeners {
                    let listener = listener.clone();
                    // A panicking listener must not take the client down with it.
                    let _ =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener(event)));
                }
            }
        }
    }

    fn send(&self, id: u64, request: sessionkit::client::HttpRequest) {
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self
            .http
            .request(method, format!("{}{}", self.base_url, request.path))
            .timeout(self.timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let tx = self.internal.0.clone();
        tokio::spawn(async move {
            let input = match builder.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let header = |name: reqwest::header::HeaderName| {
                        response
                            .headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    let retry_after = header(reqwest::header::RETRY_AFTER);
                    let etag = header(reqwest::header::ETAG);
                    match response.text().await {
                        Ok(body) => Input::HttpResponse {
                            id,
                            status,
                            retry_after,
                            etag,
                            body,
                        },
                        Err(_) => Input::NetworkFailure { id },
                    }
                }
                Err(_) => Input::NetworkFailure { id },
            };
            let _ = tx.send(Internal::Input(input));
        });
    }

    fn open_stream(&mut self, token: String) {
        if let Some((_, handle)) = self.stream.take() {
            handle.abort();
        }
        self.generation += 1;
        let generation = self.generation;
        let tx = self.internal.0.clone();
        let request = self
            .http
            .get(format!("{}/v1/session/events", self.base_url))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        let handle = tokio::spawn(async move {
            let send = |input| tx.send(Internal::Stream(generation, input)).is_ok();
            let response = match request.send().await {
                Ok(response) if response.status().is_success() => response,
                Ok(response) => {
                    let retry_after_ms = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| s * 1_000);
                    send(Input::StreamClosed { retry_after_ms });
                    return;
                }
                Err(_) => {
                    send(Input::StreamClosed {
                        retry_after_ms: None,
                    });
                    return;
                }
            };
            if !send(Input::StreamOpened) {
                return;
            }
            let mut parser = sse::SseParser::default();
            let mut body = response.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                for (name, data) in parser.feed(&chunk) {
                    let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                    if !send(Input::StreamEvent { name, data }) {
                        return;
                    }
                }
            }
            send(Input::StreamClosed {
                retry_after_ms: None,
            });
        })
        .abort_handle();
        self.stream = Some((generation, handle));
    }
}

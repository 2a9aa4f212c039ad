//! Deterministic simulation of the sync client (docs/SPEC.md §9).
//!
//! Several [`SyncMachine`]s talk to the real engine (a [`SessionManager`] over a
//! [`MemoryStore`], under a manual clock) through a simulated network that drops, delays,
//! duplicates and reorders messages; the server restarts, clients go offline and restart from
//! their persisted replica, streams break, the admin writes the same state, and in some runs a
//! second device revokes the first. Everything is drawn from one seed, so a failure replays:
//!
//! ```text
//! SIM_SEED=1234 cargo test -p sessionkit --test sync_simulation -- --nocapture
//! SIM_SEEDS=20000 cargo test --release -p sessionkit --test sync_simulation   # the long mode
//! ```
//!
//! After each schedule the network heals, every client syncs, and the invariants are checked:
//! no acknowledged change lost (and, for clients still signed in, no queued change lost either);
//! no write that changes nothing (a change applied twice); every replica equal to the server's
//! state; reconnect delays within their bounds; a revoked session signed out on every client.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use pollster::block_on;
use serde_json::{json, Value};
use sessionkit::client::{
    Backoff, Call, ClientConfig, ClientEvent, ConflictPolicy, ConnectionState, Failure,
    HttpRequest, Input, Jitter, Outcome, Output, Replica, Reply, SyncMachine, Timer,
};
use sessionkit::{
    ClientKind, Config, Error, Event, EventListener, ManualClock, MemoryStore, NewSession,
    ReplicaStore, SessionId, SessionManager, Subscription,
};

const HEARTBEAT_MS: u64 = 5_000;
const TIMEOUT_MS: i64 = 8_000;
const RETRY_AFTER_MS: u64 = 2_000;
const START: i64 = 1_800_000_000_000;

/// The fault rates of one schedule (per mille) and its length.
#[derive(Debug, Clone, Copy)]
struct Faults {
    drop_request: u64,
    drop_response: u64,
    duplicate: u64,
    max_delay_ms: u64,
    actions: u32,
    revoke: bool,
}

#[derive(Debug)]
enum Msg {
    /// A request reaches the server.
    Request {
        client: usize,
        epoch: u32,
        id: u64,
        request: HttpRequest,
        answer: bool,
    },
    /// An answer (or its absence) reaches a client.
    Response {
        client: usize,
        epoch: u32,
        id: u64,
        result: Result<Reply, Failure>,
    },
    /// A stream connection attempt reaches the server.
    StreamOpen {
        client: usize,
        epoch: u32,
        conn: u64,
    },
    /// Something arrives on a client's stream.
    Stream {
        client: usize,
        epoch: u32,
        conn: u64,
        input: Input,
    },
    Timer {
        client: usize,
        epoch: u32,
        timer: Timer,
        generation: u64,
    },
    Heartbeat,
    ServerUp,
    Action,
}

struct Client {
    machine: SyncMachine,
    epoch: u32,
    session: SessionId,
    persisted: MemoryStore,
    online: bool,
    conn: u64,
    timers: HashMap<Timer, u64>,
    /// The changes not yet acknowledged, by the queued change that carries them.
    changes: BTreeMap<u64, Vec<(String, Value)>>,
    /// The changes acknowledged.
    acked: Vec<(String, Value)>,
    auth_required: Vec<String>,
    next_op: u64,
    sync_ops: Vec<u64>,
}

struct ServerStream {
    client: usize,
    epoch: u32,
    conn: u64,
    session: SessionId,
    last_delivery: i64,
}

struct Sim {
    seed: u64,
    rng: Jitter,
    faults: Faults,
    policy: ConflictPolicy,
    clock: Arc<ManualClock>,
    manager: SessionManager,
    events: Arc<Mutex<Vec<Event>>>,
    _subscription: Subscription,
    now: i64,
    seq: u64,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    msgs: HashMap<u64, Msg>,
    clients: Vec<Client>,
    tokens: Vec<String>,
    streams: Vec<ServerStream>,
    server_up: bool,
    healing: bool,
    admin_changes: Vec<(SessionId, String, Value)>,
    revoked: Option<SessionId>,
    problems: Vec<String>,
    steps: u64,
}

fn machine(policy: ConflictPolicy, replica: Replica, seed: u64) -> SyncMachine {
    let config = ClientConfig {
        heartbeat_ms: HEARTBEAT_MS,
        conflict_policy: policy,
        ..ClientConfig::default()
    };
    let mut machine = SyncMachine::new(config, replica, seed).unwrap();
    if policy == ConflictPolicy::Custom {
        // The app's resolver: the union of both sides' keys, the local side winning a shared key.
        machine.set_resolver(Box::new(
            |_base: Option<&Value>, local: Option<&Value>, remote: Option<&Value>| {
                let mut union = remote.cloned().unwrap_or_else(|| json!({}));
                if let (Some(union), Some(Value::Object(local))) = (union.as_object_mut(), local) {
                    union.extend(local.clone());
                }
                union
            },
        ));
    }
    machine
}

impl Sim {
    fn new(seed: u64, policy: ConflictPolicy) -> Self {
        let mut rng = Jitter::new(seed);
        let faults = Faults {
            drop_request: rng.below(150),
            drop_response: rng.below(150),
            duplicate: rng.below(100),
            max_delay_ms: 5 + rng.below(800),
            actions: 20 + rng.below(80) as u32,
            revoke: rng.below(4) == 0,
        };
        let clock = Arc::new(ManualClock::new(START));
        let manager = SessionManager::open_with_clock(
            Arc::new(MemoryStore::new()),
            Config::default(),
            clock.clone(),
        )
        .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let listener: EventListener =
            Arc::new(move |e: &Event| sink.lock().unwrap().push(e.clone()));
        let subscription = manager.subscribe(listener);
        // Session A is shared by clients 0 and 1 (two devices of one script, or a tab and a
        // worker); session B, the same user's second device, is client 2.
        let a = block_on(manager.create(NewSession::new("user", ClientKind::Web))).unwrap();
        let b = block_on(manager.create(NewSession::new("user", ClientKind::Mobile))).unwrap();
        let mut sim = Sim {
            seed,
            rng,
            faults,
            policy,
            clock,
            manager,
            events,
            _subscription: subscription,
            now: START,
            seq: 0,
            queue: BinaryHeap::new(),
            msgs: HashMap::new(),
            clients: Vec::new(),
            tokens: Vec::new(),
            streams: Vec::new(),
            server_up: true,
            healing: false,
            admin_changes: Vec::new(),
            revoked: None,
            problems: Vec::new(),
            steps: 0,
        };
        for (session, token) in [
            (a.session.id, a.token.as_str().to_owned()),
            (a.session.id, a.token.as_str().to_owned()),
            (b.session.id, b.token.as_str().to_owned()),
        ] {
            let seed = sim.rng.next_u64();
            let machine = machine(policy, Replica::default(), seed);
            sim.clients.push(Client {
                machine,
                epoch: 0,
                session,
                persisted: MemoryStore::new(),
                online: true,
                conn: 0,
                timers: HashMap::new(),
                changes: BTreeMap::new(),
                acked: Vec::new(),
                auth_required: Vec::new(),
                next_op: 1,
                sync_ops: Vec::new(),
            });
            sim.tokens.push(token);
        }
        for i in 0..sim.clients.len() {
            let token = sim.tokens[i].clone();
            sim.input(i, Input::SignIn { token });
        }
        sim.schedule(HEARTBEAT_MS as i64, Msg::Heartbeat);
        sim.schedule(100, Msg::Action);
        sim
    }

    fn schedule(&mut self, after: i64, msg: Msg) {
        self.seq += 1;
        self.queue
            .push(Reverse((self.now + after.max(0), self.seq)));
        self.msgs.insert(self.seq, msg);
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        !self.healing && self.rng.below(1_000) < per_mille
    }

    fn delay(&mut self) -> i64 {
        let max = if self.healing {
            20
        } else {
            self.faults.max_delay_ms
        };
        1 + self.rng.below(max) as i64
    }

    fn fail(&mut self, problem: String) {
        if self.problems.len() < 20 {
            self.problems
                .push(format!("t+{}ms: {problem}", self.now - START));
        }
    }

    // ---- the client side ----

    fn input(&mut self, i: usize, input: Input) {
        let before: Vec<u64> = self.clients[i]
            .machine
            .replica()
            .queue
            .iter()
            .map(|q| q.seq)
            .collect();
        let outputs = self.clients[i].machine.handle(self.now, input);
        let client = &mut self.clients[i];
        // A change that left the queue of a client still signed in was acknowledged.
        if client.machine.signed_in() {
            let after: Vec<u64> = client
                .machine
                .replica()
                .queue
                .iter()
                .map(|q| q.seq)
                .collect();
            let gone: Vec<u64> = before
                .iter()
                .filter(|s| !after.contains(s))
                .copied()
                .collect();
            let added = after.iter().filter(|s| !before.contains(s)).max().copied();
            for seq in gone {
                let Some(changes) = client.changes.remove(&seq) else {
                    continue;
                };
                match added {
                    // A conflict folded the queue into one new change (client_wins, a resolver):
                    // not acknowledged yet, only carried.
                    Some(into) => client.changes.entry(into).or_default().extend(changes),
                    None => client.acked.extend(changes),
                }
            }
        }
        for output in outputs {
            self.output(i, output);
        }
    }

    fn output(&mut self, i: usize, output: Output) {
        let epoch = self.clients[i].epoch;
        match output {
            Output::Send { id, request } => {
                if !self.clients[i].online {
                    let after = self.delay().min(10);
                    self.schedule(
                        after,
                        Msg::Response {
                            client: i,
                            epoch,
                            id,
                            result: Err(Failure::Network),
                        },
                    );
                    return;
                }
                if self.chance(self.faults.drop_request) {
                    self.schedule(
                        TIMEOUT_MS,
                        Msg::Response {
                            client: i,
                            epoch,
                            id,
                            result: Err(Failure::Network),
                        },
                    );
                    return;
                }
                let after = self.delay();
                if self.chance(self.faults.duplicate) {
                    // A copy arrives too; only one answer comes back.
                    let copy_after = self.delay();
                    self.schedule(
                        copy_after,
                        Msg::Request {
                            client: i,
                            epoch,
                            id,
                            request: request.clone(),
                            answer: false,
                        },
                    );
                }
                self.schedule(
                    after,
                    Msg::Request {
                        client: i,
                        epoch,
                        id,
                        request,
                        answer: true,
                    },
                );
            }
            Output::OpenStream { token: _ } => {
                let client = &mut self.clients[i];
                client.conn += 1;
                let conn = client.conn;
                if !client.online {
                    self.schedule(
                        5,
                        Msg::Stream {
                            client: i,
                            epoch,
                            conn,
                            input: Input::StreamClosed {
                                retry_after_ms: None,
                            },
                        },
                    );
                    return;
                }
                let after = self.delay();
                self.schedule(
                    after,
                    Msg::StreamOpen {
                        client: i,
                        epoch,
                        conn,
                    },
                );
            }
            Output::CloseStream => {
                self.clients[i].conn += 1;
                self.streams
                    .retain(|s| !(s.client == i && s.epoch == epoch));
            }
            Output::SetTimer { timer, after_ms } => {
                if timer == Timer::Reconnect {
                    self.check_backoff(i, after_ms);
                }
                let generation = self.clients[i].timers.get(&timer).copied().unwrap_or(0) + 1;
                self.clients[i].timers.insert(timer, generation);
                self.schedule(
                    after_ms as i64,
                    Msg::Timer {
                        client: i,
                        epoch,
                        timer,
                        generation,
                    },
                );
            }
            Output::CancelTimer(timer) => {
                *self.clients[i].timers.entry(timer).or_insert(0) += 1;
            }
            Output::Emit(event) => {
                if let ClientEvent::AuthRequired { reason } = event {
                    self.clients[i].auth_required.push(reason);
                }
            }
            Output::Persist(replica) => {
                let saved = block_on(self.clients[i].persisted.save_replica(
                    "client",
                    replica.revision,
                    &replica.encode(),
                ))
                .unwrap();
                if !saved {
                    self.fail(format!(
                        "client {i}: a persist at revision {} was refused",
                        replica.revision
                    ));
                }
            }
            Output::Done { op, result } => {
                let client = &mut self.clients[i];
                if let Some(pos) = client.sync_ops.iter().position(|o| *o == op) {
                    client.sync_ops.remove(pos);
                    if let Ok(Outcome::Sync(r)) = &result {
                        if !r.offline && r.pending != 0 {
                            self.fail(format!(
                                "client {i}: sync finished online with {} pending",
                                r.pending
                            ));
                        }
                    }
                }
            }
        }
    }

    fn check_backoff(&mut self, i: usize, after_ms: u64) {
        let backoff = Backoff::default();
        match self.clients[i].machine.connection_state() {
            ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            } => {
                let bound = backoff
                    .ceiling(attempt.saturating_sub(1))
                    .max(RETRY_AFTER_MS);
                if retry_in_ms != after_ms || after_ms > bound || attempt == 0 {
                    self.fail(format!("client {i}: reconnect in {after_ms} ms at attempt {attempt} (bound {bound})"));
                }
            }
            other => self.fail(format!("client {i}: a reconnect timer while {other:?}")),
        }
    }

    fn restart_client(&mut self, i: usize) {
        let stored = block_on(self.clients[i].persisted.load_replica("client")).unwrap();
        let replica = stored.map_or_else(Replica::default, |(_, bytes)| {
            Replica::decode(&bytes).unwrap()
        });
        let seed = self.rng.next_u64();
        let epoch = self.clients[i].epoch + 1;
        self.streams.retain(|s| s.client != i);
        let client = &mut self.clients[i];
        client.machine = machine(self.policy, replica, seed);
        client.epoch = epoch;
        client.timers.clear();
        client.sync_ops.clear();
        if !client.online {
            self.input(i, Input::Online(false));
        }
        self.input(i, Input::Start);
    }

    // ---- the server side ----

    fn serve(&mut self, request: &HttpRequest) -> Result<Reply, Failure> {
        let api = |error: Error| Failure::Api {
            error,
            retry_after_ms: None,
            current: None,
        };
        let token = request
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .and_then(|(_, v)| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        let session = block_on(self.manager.validate(&token)).map_err(api)?;
        let id = session.id;
        let body: Value = request
            .body
            .as_deref()
            .map_or(Value::Null, |b| serde_json::from_str(b).unwrap());
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/v1/session") => Ok(Reply::Session(session)),
            ("DELETE", "/v1/session") => {
                block_on(self.manager.revoke(&id)).map_err(api)?;
                Ok(Reply::Json(Value::Null))
            }
            ("GET", "/v1/session/state") => {
                let state = block_on(self.manager.get_state(&id)).map_err(api)?;
                Ok(Reply::State(state.map(|s| (s.version, s.data))))
            }
            ("PUT", "/v1/session/state") => {
                let data = body["data"].clone();
                let expected = body["expected_version"].as_u64();
                let current = block_on(self.manager.get_state(&id)).map_err(api)?;
                match block_on(self.manager.put_state(&id, &data, expected)) {
                    Ok(version) => {
                        if current.as_ref().is_some_and(|c| c.data == data) {
                            self.fail(format!("a write of session {id} at version {version} changed nothing (applied twice)"));
                        }
                        Ok(Reply::Written(version))
                    }
                    Err(error @ Error::Conflict { .. }) => Err(Failure::Api {
                        error,
                        retry_after_ms: None,
                        current: Some(current.map_or((0, None), |s| (s.version, Some(s.data)))),
                    }),
                    Err(e) => Err(api(e)),
                }
            }
            ("DELETE", path) if path.starts_with("/v1/session/devices/") => {
                let target: SessionId = path.rsplit('/').next().unwrap().parse().unwrap();
                let other = block_on(self.manager.get(&target)).map_err(api)?;
                if other.user_id != session.user_id {
                    return Err(api(Error::NotFound));
                }
                block_on(self.manager.revoke(&target)).map_err(api)?;
                self.revoked = Some(target);
                Ok(Reply::Json(Value::Null))
            }
            other => panic!("the simulation does not serve {other:?}"),
        }
    }

    fn on_request(
        &mut self,
        client: usize,
        epoch: u32,
        id: u64,
        request: HttpRequest,
        answer: bool,
    ) {
        let result = if self.server_up {
            let result = self.serve(&request);
            self.dispatch_events();
            result
        } else if self.rng.below(2) == 0 {
            Err(Failure::Network)
        } else {
            Err(Failure::Api {
                error: Error::Storage {
                    message: "restarting".into(),
                },
                retry_after_ms: Some(RETRY_AFTER_MS),
                current: None,
            })
        };
        if !answer {
            return;
        }
        if self.chance(self.faults.drop_response) {
            // The server did the work; the answer is lost and the client times out.
            self.schedule(
                TIMEOUT_MS,
                Msg::Response {
                    client,
                    epoch,
                    id,
                    result: Err(Failure::Network),
                },
            );
        } else {
            let after = self.delay();
            self.schedule(
                after,
                Msg::Response {
                    client,
                    epoch,
                    id,
                    result,
                },
            );
        }
    }

    fn on_stream_open(&mut self, client: usize, epoch: u32, conn: u64) {
        let token = self.tokens[client].clone();
        let session = if self.server_up {
            block_on(self.manager.validate(&token)).ok()
        } else {
            None
        };
        let Some(session) = session else {
            let after = self.delay();
            self.schedule(
                after,
                Msg::Stream {
                    client,
                    epoch,
                    conn,
                    input: Input::StreamClosed {
                        retry_after_ms: None,
                    },
                },
            );
            return;
        };
        let at = self.now + self.delay();
        self.streams.push(ServerStream {
            client,
            epoch,
            conn,
            session: session.id,
            last_delivery: at,
        });
        let k = self.streams.len() - 1;
        self.send_on(k, Input::StreamOpened);
        let beat = json!({"session_id": session.id, "expires_at": session.expires_at});
        self.send_event(k, "heartbeat", beat);
    }

    /// Sends on stream `k` in order (a stream is one connection: it does not reorder).
    fn send_on(&mut self, k: usize, input: Input) {
        let delay = self.delay();
        let stream = &mut self.streams[k];
        let at = (self.now + delay).max(stream.last_delivery + 1);
        stream.last_delivery = at;
        let msg = Msg::Stream {
            client: stream.client,
            epoch: stream.epoch,
            conn: stream.conn,
            input,
        };
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq)));
        self.msgs.insert(self.seq, msg);
    }

    fn send_event(&mut self, k: usize, name: &str, data: Value) {
        let name = name.to_owned();
        self.send_on(k, Input::StreamEvent { name, data });
    }

    /// Ends stream `k`: an `auth` event first when the session ended, then the close.
    fn close_stream(&mut self, k: usize, reason: Option<&str>) {
        if let Some(reason) = reason {
            self.send_event(k, "auth", json!({ "reason": reason }));
        }
        let closed = Input::StreamClosed {
            retry_after_ms: None,
        };
        self.send_on(k, closed);
        self.streams.remove(k);
    }

    fn dispatch_events(&mut self) {
        let events: Vec<Event> = std::mem::take(&mut *self.events.lock().unwrap());
        for event in events {
            let (id, name, data, end) = match &event {
                Event::StateChanged {
                    session_id,
                    version,
                } => (
                    *session_id,
                    "state_changed",
                    json!({"session_id": session_id, "version": version}),
                    None,
                ),
                Event::Revoked { session_id } => (
                    *session_id,
                    "revoked",
                    json!({"session_id": session_id}),
                    Some("revoked"),
                ),
                _ => continue,
            };
            let mut k = 0;
            while k < self.streams.len() {
                if self.streams[k].session == id {
                    self.send_event(k, name, data.clone());
                    if let Some(reason) = end {
                        self.close_stream(k, Some(reason));
                        continue;
                    }
                }
                k += 1;
            }
        }
    }

    fn heartbeat(&mut self) {
        let mut k = 0;
        while k < self.streams.len() {
            let id = self.streams[k].session;
            match block_on(self.manager.get(&id)) {
                Ok(s) if s.active && s.expires_at > self.now => {
                    let beat = json!({"session_id": id, "expires_at": s.expires_at});
                    self.send_event(k, "heartbeat", beat);
                    k += 1;
                }
                _ => self.close_stream(k, Some("revoked")),
            }
        }
    }

    // ---- the workload ----

    fn action(&mut self) {
        let n = self.steps;
        match self.rng.below(100) {
            0..=49 => {
                let i = self.rng.below(self.clients.len() as u64) as usize;
                if self.clients[i].machine.signed_in() {
                    let key = format!("c{i}-{n}");
                    let value = json!(n);
                    self.input(i, Input::PatchState(json!({ key.clone(): value.clone() })));
                    let client = &mut self.clients[i];
                    let seq = client.machine.replica().queue.last().map(|q| q.seq);
                    if let Some(seq) = seq {
                        client.changes.entry(seq).or_default().push((key, value));
                    }
                }
            }
            50..=59 => {
                let id = self.clients[0].session;
                let key = format!("admin-{n}");
                if block_on(
                    self.manager
                        .patch_state(&id, &json!({ key.clone(): n }), None),
                )
                .is_ok()
                {
                    self.admin_changes.push((id, key, json!(n)));
                }
                self.dispatch_events();
            }
            60..=71 => {
                let i = self.rng.below(self.clients.len() as u64) as usize;
                let online = !self.clients[i].online;
                self.clients[i].online = online;
                if !online {
                    self.streams.retain(|s| s.client != i);
                    let conn = self.clients[i].conn;
                    let epoch = self.clients[i].epoch;
                    self.schedule(
                        1,
                        Msg::Stream {
                            client: i,
                            epoch,
                            conn,
                            input: Input::StreamClosed {
                                retry_after_ms: None,
                            },
                        },
                    );
                }
                self.input(i, Input::Online(online));
            }
            72..=77 => {
                let i = self.rng.below(self.clients.len() as u64) as usize;
                self.restart_client(i);
            }
            78..=81 => {
                if self.server_up {
                    self.server_up = false;
                    while !self.streams.is_empty() {
                        self.close_stream(0, None);
                    }
                    let down = 500 + self.rng.below(20_000) as i64;
                    self.schedule(down, Msg::ServerUp);
                }
            }
            82..=87 => {
                if !self.streams.is_empty() {
                    let k = self.rng.below(self.streams.len() as u64) as usize;
                    self.close_stream(k, None);
                }
            }
            88..=95 => {
                let i = self.rng.below(self.clients.len() as u64) as usize;
                let op = self.clients[i].next_op;
                self.clients[i].next_op += 1;
                self.clients[i].sync_ops.push(op);
                self.input(i, Input::Sync { op });
            }
            _ => {
                if self.faults.revoke
                    && self.revoked.is_none()
                    && self.clients[2].machine.signed_in()
                {
                    let op = self.clients[2].next_op;
                    self.clients[2].next_op += 1;
                    let target = self.clients[0].session;
                    self.input(
                        2,
                        Input::Call {
                            op,
                            call: Call::RevokeDevice(target),
                        },
                    );
                }
            }
        }
    }

    // ---- running ----

    fn step(&mut self) -> bool {
        let Some(Reverse((at, seq))) = self.queue.pop() else {
            return false;
        };
        let msg = self.msgs.remove(&seq).unwrap();
        self.now = at.max(self.now);
        self.clock.set(self.now);
        self.steps += 1;
        let live = |sim: &Sim, client: usize, epoch: u32| sim.clients[client].epoch == epoch;
        match msg {
            Msg::Request {
                client,
                epoch,
                id,
                request,
                answer,
            } => self.on_request(client, epoch, id, request, answer),
            Msg::Response {
                client,
                epoch,
                id,
                result,
            } => {
                if live(self, client, epoch) {
                    self.input(
                        client,
                        Input::Response {
                            id,
                            result,
                            bytes_received: 100,
                        },
                    );
                }
            }
            Msg::StreamOpen {
                client,
                epoch,
                conn,
            } => {
                if live(self, client, epoch) && self.clients[client].conn == conn {
                    self.on_stream_open(client, epoch, conn);
                }
            }
            Msg::Stream {
                client,
                epoch,
                conn,
                input,
            } => {
                if live(self, client, epoch) && self.clients[client].conn == conn {
                    self.input(client, input);
                }
            }
            Msg::Timer {
                client,
                epoch,
                timer,
                generation,
            } => {
                if live(self, client, epoch)
                    && self.clients[client].timers.get(&timer) == Some(&generation)
                {
                    self.input(client, Input::Timer(timer));
                }
            }
            Msg::Heartbeat => {
                if self.server_up {
                    self.heartbeat();
                }
                self.schedule(HEARTBEAT_MS as i64, Msg::Heartbeat);
            }
            Msg::ServerUp => self.server_up = true,
            Msg::Action => {
                if !self.healing {
                    self.action();
                    if self.steps < u64::MAX && self.faults.actions > 0 {
                        self.faults.actions -= 1;
                        let after = 50 + self.rng.below(6_000) as i64;
                        self.schedule(after, Msg::Action);
                    }
                }
            }
        }
        true
    }

    fn run_until(&mut self, until: i64) {
        while let Some(Reverse((at, _))) = self.queue.peek() {
            if *at > until {
                break;
            }
            self.step();
        }
        self.now = until;
        self.clock.set(until);
    }

    fn run(mut self) -> Result<Summary, String> {
        // The schedule: actions until they are used up.
        while self.faults.actions > 0 {
            let next = self.now + 1_000;
            self.run_until(next);
        }
        // Heal: the server up, every client online, no more faults; let reconnects play out
        // (the longest backoff is 60 s), then sync every client still signed in.
        self.healing = true;
        self.server_up = true;
        for i in 0..self.clients.len() {
            if !self.clients[i].online {
                self.clients[i].online = true;
                self.input(i, Input::Online(true));
            }
        }
        let settle = self.now + 130_000;
        self.run_until(settle);
        for i in 0..self.clients.len() {
            let op = self.clients[i].next_op;
            self.clients[i].next_op += 1;
            self.clients[i].sync_ops.push(op);
            self.input(i, Input::Sync { op });
        }
        let settle = self.now + 130_000;
        self.run_until(settle);
        self.check();
        if std::env::var("SIM_SEED").is_ok() {
            for (i, c) in self.clients.iter().enumerate() {
                eprintln!(
                    "client {i}: {} changes unacknowledged, {} acknowledged, signed in {}, {:?}, auth {:?}",
                    c.changes.values().map(Vec::len).sum::<usize>(),
                    c.acked.len(),
                    c.machine.signed_in(),
                    c.machine.metrics(self.now),
                    c.auth_required
                );
            }
            eprintln!(
                "{} steps, faults {:?}, revoked {:?}",
                self.steps, self.faults, self.revoked
            );
        }
        if self.problems.is_empty() {
            let metrics: Vec<_> = self
                .clients
                .iter()
                .map(|c| c.machine.metrics(self.now))
                .collect();
            Ok(Summary {
                steps: self.steps,
                revoked: u64::from(self.revoked.is_some()),
                conflicts: metrics.iter().map(|m| m.conflicts).sum(),
                reconnects: metrics.iter().map(|m| m.reconnects).sum(),
                changes: self
                    .clients
                    .iter()
                    .map(|c| {
                        (c.acked.len() + c.changes.values().map(Vec::len).sum::<usize>()) as u64
                    })
                    .sum(),
            })
        } else {
            Err(format!(
                "seed {} ({:?}, {:?}): {}\nreplay: SIM_SEED={} cargo test -p sessionkit --test sync_simulation -- --nocapture",
                self.seed,
                self.policy,
                self.faults,
                self.problems.join("\n  "),
                self.seed
            ))
        }
    }

    fn check(&mut self) {
        let server_state = |sim: &Sim, id: &SessionId| {
            block_on(sim.manager.get_state(id))
                .unwrap()
                .map(|s| (s.version, s.data))
        };
        let revoked = self.revoked;
        for i in 0..self.clients.len() {
            let client = &self.clients[i];
            let session = client.session;
            let state = server_state(self, &session);
            let data = state.as_ref().map(|s| s.1.clone());
            let mut problems = Vec::new();
            if Some(session) == revoked {
                if client.machine.signed_in() {
                    problems.push(format!(
                        "client {i}: its session was revoked but it is signed in"
                    ));
                }
                if !client.auth_required.iter().any(|r| r == "revoked") {
                    problems.push(format!(
                        "client {i}: revoked without auth_required(revoked): {:?}",
                        client.auth_required
                    ));
                }
            } else if !client.machine.signed_in() {
                problems.push(format!(
                    "client {i}: signed out ({:?}) though its session stands",
                    client.auth_required
                ));
            } else {
                if client.machine.state() != data {
                    problems.push(format!(
                        "client {i}: replica {:?} != server {:?}",
                        client.machine.state(),
                        data
                    ));
                }
                if client.machine.replica().base_version != state.as_ref().map_or(0, |s| s.0) {
                    problems.push(format!(
                        "client {i}: base version {} != server {:?}",
                        client.machine.replica().base_version,
                        state.as_ref().map(|s| s.0)
                    ));
                }
                if !client.machine.replica().queue.is_empty() {
                    problems.push(format!(
                        "client {i}: {} changes still queued",
                        client.machine.replica().queue.len()
                    ));
                }
                if client.machine.connection_state() != ConnectionState::Connected {
                    problems.push(format!(
                        "client {i}: {:?} after healing",
                        client.machine.connection_state()
                    ));
                }
            }
            if matches!(self.policy, ConflictPolicy::Merge | ConflictPolicy::Custom) {
                // Acknowledged changes are never lost; a client still signed in loses none at all.
                let mut must: Vec<&(String, Value)> = client.acked.iter().collect();
                if client.machine.signed_in() {
                    must.extend(client.changes.values().flatten());
                }
                for (key, value) in must {
                    if data.as_ref().and_then(|d| d.get(key)) != Some(value) {
                        problems.push(format!(
                            "client {i}: change {key}={value} lost (server {data:?})"
                        ));
                    }
                }
            }
            for p in problems {
                self.fail(p);
            }
        }
        if matches!(self.policy, ConflictPolicy::Merge | ConflictPolicy::Custom) {
            for (id, key, value) in self.admin_changes.clone() {
                let data = server_state(self, &id).map(|s| s.1);
                if data.as_ref().and_then(|d| d.get(&key)) != Some(&value) {
                    self.fail(format!("admin change {key} lost"));
                }
            }
        }
    }
}

/// What the schedules exercised, summed.
#[derive(Debug, Default)]
struct Summary {
    steps: u64,
    revoked: u64,
    conflicts: u64,
    reconnects: u64,
    changes: u64,
}

fn seeds(default: u64, salt: u64) -> Vec<u64> {
    if let Ok(seed) = std::env::var("SIM_SEED") {
        return vec![seed.parse().expect("SIM_SEED is a number")];
    }
    let count = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    (0..count).map(|n| n * 7_919 + salt).collect()
}

fn run_many(policy: ConflictPolicy, default: u64, salt: u64) {
    let seeds = seeds(default, salt);
    let mut failures = Vec::new();
    let mut total = Summary::default();
    for &seed in &seeds {
        match Sim::new(seed, policy).run() {
            Ok(s) => {
                total.steps += s.steps;
                total.revoked += s.revoked;
                total.conflicts += s.conflicts;
                total.reconnects += s.reconnects;
                total.changes += s.changes;
            }
            Err(e) => failures.push(e),
        }
    }
    eprintln!(
        "{policy:?}: {} schedules, {} failed; {total:?}",
        seeds.len(),
        failures.len()
    );
    // The schedules reach what they are meant to test.
    if failures.is_empty() && seeds.len() >= 100 {
        assert!(
            total.revoked * 20 >= seeds.len() as u64,
            "too few revocations: {total:?}"
        );
        assert!(
            total.conflicts >= seeds.len() as u64 / 4,
            "too few conflicts: {total:?}"
        );
        assert!(
            total.reconnects >= seeds.len() as u64,
            "too few reconnects: {total:?}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} schedules failed; first:\n{}",
        failures.len(),
        seeds.len(),
        failures[0]
    );
}

#[test]
fn merge_loses_nothing_and_converges_under_faults() {
    run_many(ConflictPolicy::Merge, 2_000, 1);
}

#[test]
fn a_union_resolver_loses_nothing_and_converges_under_faults() {
    run_many(ConflictPolicy::Custom, 300, 4);
}

#[test]
fn server_wins_and_client_wins_converge_under_faults() {
    run_many(ConflictPolicy::ServerWins, 300, 2);
    run_many(ConflictPolicy::ClientWins, 300, 3);
}

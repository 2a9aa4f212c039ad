//! `SyncClientCore`: the engine's sync client state machine (docs/SPEC.md §9) for JavaScript.
//!
//! Conversion only. Each method feeds the machine one input — an app call, an HTTP answer, a
//! stream event, a timer firing, a connectivity change — at the time `now` the caller gives, and
//! returns what the machine wants done as an array of plain objects (`{type: 'send', …}`,
//! `{type: 'set_timer', …}`, …), which the npm package's `SessionClient` carries out with
//! `fetch`, timers and its local store. The machine decides everything.

use serde::Serialize;
use serde_json::Value;
use sessionkit::client::{
    Call, ClientConfig, ClientEvent, ConnectionState, Input, Outcome, Output, RecoveryOutcome,
    Replica, Resolution, Resolver, SyncMachine, Timer,
};
use sessionkit::{Error, Result};
use wasm_bindgen::prelude::*;

use crate::convert;
use crate::error::to_js;
use crate::records::{to_json_text, JsSession};

/// One copy of the sync client's state machine. Every input method returns the outputs to carry
/// out, in order.
#[wasm_bindgen]
pub struct SyncClientCore {
    machine: SyncMachine,
    /// The newest replica to save, encoded only when the package asks (`takeRecord`): after the
    /// requests of the same step went out, and never for a record a newer one replaced.
    unsaved: Option<Box<Replica>>,
}

/// `now` as the machine's milliseconds (any safe integer).
fn now_ms(now: &JsValue) -> std::result::Result<i64, JsValue> {
    convert::millis(now, "now").map_err(|e| to_js(&e))
}

/// A record or JSON value as a plain JS object (through JSON text, so integers stay exact).
fn js<T: Serialize>(value: &T) -> std::result::Result<JsValue, JsValue> {
    let text = to_json_text(value).map_err(|e| to_js(&e))?;
    js_sys::JSON::parse(&text)
}

/// The client's settings, under the engine's field names (`{heartbeat_ms?, conflict_policy?,
/// backoff?: {initial_ms?, multiplier?, max_ms?}, …}`; the package's JavaScript renames its
/// camelCase options, which saves the wasm a key-renaming pass). Unknown fields are refused.
fn client_config(value: &JsValue) -> Result<ClientConfig> {
    let Some(json) = convert::opt_json(value, "config")? else {
        return Ok(ClientConfig::default());
    };
    if !json.is_object() {
        return Err(Error::invalid_input("config", "must be an object"));
    }
    // Through text: the JSON reader the rest of the package uses (no second deserializer).
    serde_json::from_str(&to_json_text(&json)?)
        .map_err(|e| Error::invalid_input("config", e.to_string()))
}

/// The app's resolver, a JS function `(base, local, remote) => data`. A resolver that throws or
/// returns something that is not JSON leaves the local view standing.
struct JsResolver(js_sys::Function);

impl Resolver for JsResolver {
    fn resolve(
        &self,
        base: Option<&Value>,
        local: Option<&Value>,
        remote: Option<&Value>,
    ) -> Value {
        let arg = |v: Option<&Value>| v.and_then(|v| js(v).ok()).unwrap_or(JsValue::NULL);
        self.0
            .call3(&JsValue::NULL, &arg(base), &arg(local), &arg(remote))
            .ok()
            .and_then(|data| convert::json(&data, "resolver").ok())
            .unwrap_or_else(|| local.cloned().unwrap_or(Value::Null))
    }
}

/// A plain JS object built field by field: the machine's outputs, events and figures set as
/// they are, without a JSON text in between (serde code per output type weighed more in the
/// wasm than these few calls).
struct Obj(js_sys::Object);

impl Obj {
    /// `{[tag]: name}`: the start of a tagged record (`{type: 'send', …}`, `{state: …}`).
    fn tagged(tag: &str, name: &str) -> Obj {
        let obj = Obj(js_sys::Object::new());
        obj.str(tag, name);
        obj
    }

    #[inline(never)]
    fn set(&self, key: &str, value: &JsValue) {
        // The object is a fresh plain object: defining a field on it cannot fail.
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(key), value);
    }

    fn str(&self, key: &str, value: &str) {
        self.set(key, &JsValue::from_str(value));
    }

    /// A count, version or time: a JS number (exact up to 2^53, as `JSON.parse` would read it).
    fn num(&self, key: &str, n: f64) {
        self.set(key, &JsValue::from_f64(n));
    }

    fn done(self) -> JsValue {
        self.0.into()
    }
}

/// The timers by the names the package's JavaScript uses (`set_timer`, `timer(name)`).
const TIMERS: [(Timer, &str); 5] = [
    (Timer::Reconnect, "reconnect"),
    (Timer::Watchdog, "watchdog"),
    (Timer::Stable, "stable"),
    (Timer::Expiring, "expiring"),
    (Timer::Poll, "poll"),
];

fn timer_name(timer: Timer) -> &'static str {
    TIMERS
        .iter()
        .find(|(t, _)| *t == timer)
        .map_or("", |(_, name)| name)
}

fn timer_of(name: &str) -> Result<Timer> {
    TIMERS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(t, _)| *t)
        .ok_or_else(|| Error::invalid_input("timer", format!("unknown timer {name:?}")))
}

/// A §9 event: `type` in snake_case as §9 names it, fields camelCase.
fn event(event: &ClientEvent) -> JsValue {
    let obj = |name| Obj::tagged("type", name);
    match event {
        ClientEvent::ConnectionEstablished => obj("connection_established"),
        ClientEvent::ConnectionLost => obj("connection_lost"),
        ClientEvent::ConnectionRestored => obj("connection_restored"),
        ClientEvent::AuthRequired { reason } => {
            let o = obj("auth_required");
            o.str("reason", reason);
            o
        }
        ClientEvent::SessionExpiring { expires_at } => {
            let o = obj("session_expiring");
            o.num("expiresAt", *expires_at as f64);
            o
        }
        ClientEvent::StateSynchronized { version } => {
            let o = obj("state_synchronized");
            o.num("version", *version as f64);
            o
        }
        ClientEvent::SyncConflict { resolution } => {
            let o = obj("sync_conflict");
            o.str(
                "resolution",
                match resolution {
                    Resolution::Merge => "merge",
                    Resolution::ServerWins => "server_wins",
                    Resolution::ClientWins => "client_wins",
                    Resolution::Custom => "custom",
                },
            );
            o
        }
        ClientEvent::Error { kind, message } => {
            let o = obj("error");
            o.str("kind", kind);
            o.str("message", message);
            o
        }
    }
    .done()
}

/// A completed call's value: `sync()`'s result, `recover()`'s (flat: `{outcome, reason?,
/// version, pending}`), or a request's JSON answer as the server sent it.
fn outcome(outcome: &Outcome) -> JsResult<JsValue> {
    let obj = Obj(js_sys::Object::new());
    match outcome {
        Outcome::Sync(r) => {
            obj.num("pushed", r.pushed as f64);
            obj.num("pulled", r.pulled as f64);
            obj.num("conflicts", r.conflicts as f64);
            obj.num("version", r.version as f64);
            obj.num("pending", r.pending as f64);
            obj.set("offline", &JsValue::from_bool(r.offline));
        }
        Outcome::Recovery(r) => {
            match &r.outcome {
                RecoveryOutcome::Restored => obj.str("outcome", "restored"),
                RecoveryOutcome::SignedOut { reason } => {
                    obj.str("outcome", "signed_out");
                    obj.str("reason", reason);
                }
                RecoveryOutcome::Offline => obj.str("outcome", "offline"),
            }
            obj.num("version", r.version as f64);
            obj.num("pending", r.pending as f64);
        }
        Outcome::Json(value) => return js(value),
    }
    Ok(obj.done())
}

/// What the machine wants done, as a plain object for the package's JavaScript.
fn output(output: &Output) -> JsResult<JsValue> {
    let obj = |name| Obj::tagged("type", name);
    Ok(match output {
        Output::Send { id, request } => {
            let o = obj("send");
            o.num("id", *id as f64);
            o.str("method", &request.method);
            o.str("path", &request.path);
            let headers: js_sys::Array = request
                .headers
                .iter()
                .map(|(name, value)| {
                    js_sys::Array::of2(&JsValue::from_str(name), &JsValue::from_str(value))
                })
                .collect();
            o.set("headers", &headers);
            if let Some(body) = &request.body {
                o.str("body", body);
            }
            o
        }
        Output::OpenStream { token } => {
            let o = obj("open_stream");
            o.str("token", token);
            o
        }
        Output::CloseStream => obj("close_stream"),
        Output::SetTimer { timer, after_ms } => {
            let o = obj("set_timer");
            o.str("timer", timer_name(*timer));
            o.num("afterMs", *after_ms as f64);
            o
        }
        Output::CancelTimer(timer) => {
            let o = obj("cancel_timer");
            o.str("timer", timer_name(*timer));
            o
        }
        Output::Emit(e) => {
            let o = obj("emit");
            o.set("event", &event(e));
            o
        }
        Output::Persist(replica) => {
            let o = obj("persist");
            o.num("revision", replica.revision as f64);
            o
        }
        Output::Done { op, result } => {
            let o = obj("done");
            o.num("op", *op as f64);
            match result {
                Ok(value) => o.set("value", &outcome(value)?),
                Err(e) => o.set("error", &to_js(e)),
            }
            o
        }
    }
    .done())
}

type JsResult<T> = std::result::Result<T, JsValue>;

impl SyncClientCore {
    fn run(&mut self, now: &JsValue, input: Input) -> JsResult<JsValue> {
        let now = now_ms(now)?;
        let mut outputs = self.machine.handle(now, input);
        for output in &mut outputs {
            if let Output::Persist(replica) = output {
                // Keep the record for `takeRecord`; the output keeps only its revision.
                let revision = replica.revision;
                self.unsaved = Some(Box::new(std::mem::take(&mut **replica)));
                replica.revision = revision;
            }
        }
        let array = js_sys::Array::new();
        for output in &outputs {
            array.push(&self::output(output)?);
        }
        Ok(array.into())
    }

    fn op(value: &JsValue) -> JsResult<u64> {
        convert::opt_u64(value, "op")
            .and_then(|op| op.ok_or_else(|| Error::invalid_input("op", "is required")))
            .map_err(|e| to_js(&e))
    }

    fn call(&mut self, now: &JsValue, op: &JsValue, call: Result<Call>) -> JsResult<JsValue> {
        let op = Self::op(op)?;
        let call = call.map_err(|e| to_js(&e))?;
        self.run(now, Input::Call { op, call })
    }
}

#[wasm_bindgen]
impl SyncClientCore {
    /// A machine with settings `config` (engine names; every field optional) over the replica
    /// record read back from the local store (`undefined` when there is none). `seed` (a safe
    /// integer from a random source) seeds the reconnect jitter.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, record: Option<String>, seed: JsValue) -> JsResult<SyncClientCore> {
        let made = || -> Result<SyncClientCore> {
            let config = client_config(&config)?;
            let replica = match record {
                Some(text) => Replica::decode(text.as_bytes())?,
                None => Replica::default(),
            };
            let seed = convert::opt_u64(&seed, "seed")?.unwrap_or(0);
            Ok(SyncClientCore {
                machine: SyncMachine::new(config, replica, seed)?,
                unsaved: None,
            })
        };
        made().map_err(|e| to_js(&e))
    }

    /// Sets the function `(base, local, remote) => data` the `custom` conflict policy asks.
    #[wasm_bindgen(js_name = setResolver)]
    pub fn set_resolver(&mut self, resolver: js_sys::Function) {
        self.machine.set_resolver(Box::new(JsResolver(resolver)));
    }

    /// Begin: connect if the replica holds a session.
    pub fn start(&mut self, now: JsValue) -> JsResult<JsValue> {
        self.run(&now, Input::Start)
    }

    /// The app's backend signed the user in and handed over `token`.
    #[wasm_bindgen(js_name = signIn)]
    pub fn sign_in(&mut self, now: JsValue, token: JsValue) -> JsResult<JsValue> {
        let token = convert::text(&token, "token").map_err(|e| to_js(&e))?;
        if token.is_empty() {
            return Err(to_js(&Error::invalid_input("token", "must not be empty")));
        }
        self.run(&now, Input::SignIn { token })
    }

    /// Sign out (completes `op`).
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&mut self, now: JsValue, op: JsValue) -> JsResult<JsValue> {
        let op = Self::op(&op)?;
        self.run(&now, Input::SignOut { op })
    }

    /// Replaces the state locally at once and queues it for the server.
    #[wasm_bindgen(js_name = putState)]
    pub fn put_state(&mut self, now: JsValue, data: JsValue) -> JsResult<JsValue> {
        let data = convert::json(&data, "data").map_err(|e| to_js(&e))?;
        self.run(&now, Input::PutState(data))
    }

    /// Merge-patches the state locally at once and queues the patch for the server.
    #[wasm_bindgen(js_name = patchState)]
    pub fn patch_state(&mut self, now: JsValue, patch: JsValue) -> JsResult<JsValue> {
        let patch = convert::json(&patch, "patch").map_err(|e| to_js(&e))?;
        if !patch.is_object() {
            return Err(to_js(&Error::invalid_input(
                "patch",
                "must be a JSON object",
            )));
        }
        self.run(&now, Input::PatchState(patch))
    }

    /// Pull and push now (completes `op` with `{pushed, pulled, conflicts, version, pending,
    /// offline}`).
    pub fn sync(&mut self, now: JsValue, op: JsValue) -> JsResult<JsValue> {
        let op = Self::op(&op)?;
        self.run(&now, Input::Sync { op })
    }

    /// Re-validate and reconcile (completes `op` with `{outcome, reason?, version, pending}`).
    pub fn recover(&mut self, now: JsValue, op: JsValue) -> JsResult<JsValue> {
        let op = Self::op(&op)?;
        self.run(&now, Input::Recover { op })
    }

    /// The user's devices (completes `op` with the server's page). The package's JavaScript
    /// checks the arguments' types; the server checks their values.
    pub fn devices(
        &mut self,
        now: JsValue,
        op: JsValue,
        active_only: bool,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> JsResult<JsValue> {
        let call = Call::Devices {
            active_only,
            limit,
            cursor,
        };
        self.call(&now, &op, Ok(call))
    }

    /// Revokes one of the user's sessions (completes `op`).
    #[wasm_bindgen(js_name = revokeDevice)]
    pub fn revoke_device(&mut self, now: JsValue, op: JsValue, id: JsValue) -> JsResult<JsValue> {
        let call = convert::session_id(&id).map(Call::RevokeDevice);
        self.call(&now, &op, call)
    }

    /// Revokes every other session of the user (completes `op` with `{revoked}`).
    #[wasm_bindgen(js_name = revokeOtherDevices)]
    pub fn revoke_other_devices(&mut self, now: JsValue, op: JsValue) -> JsResult<JsValue> {
        self.call(&now, &op, Ok(Call::RevokeOthers))
    }

    /// The platform says the network is (un)available.
    pub fn online(&mut self, now: JsValue, online: bool) -> JsResult<JsValue> {
        self.run(&now, Input::Online(online))
    }

    /// The answer to request `id` as it came off the wire.
    #[wasm_bindgen(js_name = httpResponse)]
    pub fn http_response(
        &mut self,
        now: JsValue,
        id: JsValue,
        status: u16,
        retry_after: Option<String>,
        etag: Option<String>,
        body: String,
    ) -> JsResult<JsValue> {
        let id = Self::op(&id)?;
        self.run(
            &now,
            Input::HttpResponse {
                id,
                status,
                retry_after,
                etag,
                body,
            },
        )
    }

    /// Request `id` got no answer (network failure, timeout).
    #[wasm_bindgen(js_name = networkFailure)]
    pub fn network_failure(&mut self, now: JsValue, id: JsValue) -> JsResult<JsValue> {
        let id = Self::op(&id)?;
        self.run(&now, Input::NetworkFailure { id })
    }

    /// The push channel is open.
    #[wasm_bindgen(js_name = streamOpened)]
    pub fn stream_opened(&mut self, now: JsValue) -> JsResult<JsValue> {
        self.run(&now, Input::StreamOpened)
    }

    /// An event arrived on the push channel: its name and its `data:` text.
    #[wasm_bindgen(js_name = streamEvent)]
    pub fn stream_event(&mut self, now: JsValue, name: String, data: String) -> JsResult<JsValue> {
        let data = serde_json::from_str(&data).unwrap_or(Value::Null);
        self.run(&now, Input::StreamEvent { name, data })
    }

    /// The push channel closed or failed (`retryAfterMs` if the server asked for a delay).
    #[wasm_bindgen(js_name = streamClosed)]
    pub fn stream_closed(&mut self, now: JsValue, retry_after_ms: JsValue) -> JsResult<JsValue> {
        let retry_after_ms =
            convert::opt_u64(&retry_after_ms, "retry_after_ms").map_err(|e| to_js(&e))?;
        self.run(&now, Input::StreamClosed { retry_after_ms })
    }

    /// The timer `name` (`reconnect`, `watchdog`, `stable`, `expiring`, `poll`) fired.
    pub fn timer(&mut self, now: JsValue, name: String) -> JsResult<JsValue> {
        let timer = timer_of(&name).map_err(|e| to_js(&e))?;
        self.run(&now, Input::Timer(timer))
    }

    /// Another copy of this client (another tab) saved this newer replica record.
    pub fn adopt(&mut self, now: JsValue, record: String) -> JsResult<JsValue> {
        let replica = Replica::decode(record.as_bytes()).map_err(|e| to_js(&e))?;
        self.run(&now, Input::Adopt(replica))
    }

    /// The session as last seen (`null` when signed out).
    pub fn session(&self) -> JsResult<JsValue> {
        match self.machine.session() {
            Some(session) => js(&JsSession::from(session)),
            None => Ok(JsValue::NULL),
        }
    }

    /// The local view of the state (`null` when there is none): instant, offline too.
    pub fn state(&self) -> JsResult<JsValue> {
        match self.machine.state() {
            Some(data) => js(&data),
            None => Ok(JsValue::NULL),
        }
    }

    /// Whether a session token is held.
    #[wasm_bindgen(js_name = signedIn)]
    pub fn signed_in(&self) -> bool {
        self.machine.signed_in()
    }

    /// The replica's revision (grows with every save).
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> f64 {
        self.machine.replica().revision as f64
    }

    /// The replica record, as it would be persisted.
    pub fn record(&self) -> String {
        String::from_utf8(self.machine.replica().encode()).unwrap_or_default()
    }

    /// The newest replica a `persist` output asked to save, `{revision, record}` (the record is
    /// JSON text), or null when it was taken already.
    #[wasm_bindgen(js_name = takeRecord)]
    pub fn take_record(&mut self) -> JsResult<JsValue> {
        let Some(replica) = self.unsaved.take() else {
            return Ok(JsValue::NULL);
        };
        let obj = Obj(js_sys::Object::new());
        obj.num("revision", replica.revision as f64);
        obj.str(
            "record",
            &String::from_utf8(replica.encode()).unwrap_or_default(),
        );
        Ok(obj.done())
    }

    /// Where the connection stands: `{state, attempt?, retryInMs?}`.
    #[wasm_bindgen(js_name = connectionState)]
    pub fn connection_state(&self) -> JsValue {
        let obj = |name| Obj::tagged("state", name);
        match self.machine.connection_state() {
            ConnectionState::Disconnected => obj("disconnected"),
            ConnectionState::Connecting => obj("connecting"),
            ConnectionState::Connected => obj("connected"),
            ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            } => {
                let o = obj("reconnecting");
                o.num("attempt", attempt.into());
                o.num("retryInMs", retry_in_ms as f64);
                o
            }
            ConnectionState::SignedOut => obj("signed_out"),
        }
        .done()
    }

    /// The figures so far, camelCase (`lastRoundTripMs` is null before the first answer).
    pub fn metrics(&self, now: JsValue) -> JsResult<JsValue> {
        let m = self.machine.metrics(now_ms(&now)?);
        let obj = Obj(js_sys::Object::new());
        obj.num("syncs", m.syncs as f64);
        obj.num("conflicts", m.conflicts as f64);
        obj.num("retries", m.retries as f64);
        obj.num("reconnects", m.reconnects as f64);
        obj.num("bytesSent", m.bytes_sent as f64);
        obj.num("bytesReceived", m.bytes_received as f64);
        obj.set(
            "lastRoundTripMs",
            &m.last_round_trip_ms
                .map_or(JsValue::NULL, |ms| JsValue::from_f64(ms as f64)),
        );
        obj.num("offlineMs", m.offline_ms as f64);
        obj.num("pendingChanges", m.pending_changes as f64);
        Ok(obj.done())
    }
}

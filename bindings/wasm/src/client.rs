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
use crate::records::{to_json_text, JsError, JsSession};

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

/// A record as a plain JS object (through JSON text, so integers stay exact).
fn parse(text: &str) -> std::result::Result<JsValue, JsValue> {
    js_sys::JSON::parse(text)
}

fn js<T: Serialize>(value: &T) -> std::result::Result<JsValue, JsValue> {
    let text = to_json_text(value).map_err(|e| to_js(&e))?;
    parse(&text)
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

/// What the machine wants done, as plain data for the package's JavaScript.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum JsOutput<'a> {
    Send {
        id: u64,
        method: &'a str,
        path: &'a str,
        headers: &'a [(String, String)],
        /// Set on the parsed object as a string of its own (not escaped into the JSON text).
        #[serde(skip)]
        body: Option<&'a str>,
    },
    OpenStream {
        token: &'a str,
    },
    CloseStream,
    SetTimer {
        timer: Timer,
        #[serde(rename = "afterMs")]
        after_ms: u64,
    },
    CancelTimer {
        timer: Timer,
    },
    Emit {
        event: JsClientEvent<'a>,
    },
    Persist {
        revision: u64,
    },
    Done {
        op: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<JsOutcome<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<JsError<'a>>,
    },
}

/// A §9 event: `type` in snake_case as §9 names it, fields camelCase.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum JsClientEvent<'a> {
    ConnectionEstablished,
    ConnectionLost,
    ConnectionRestored,
    AuthRequired {
        reason: &'a str,
    },
    SessionExpiring {
        #[serde(rename = "expiresAt")]
        expires_at: i64,
    },
    StateSynchronized {
        version: u64,
    },
    SyncConflict {
        resolution: Resolution,
    },
    Error {
        kind: &'a str,
        message: &'a str,
    },
}

impl<'a> From<&'a ClientEvent> for JsClientEvent<'a> {
    fn from(event: &'a ClientEvent) -> Self {
        match event {
            ClientEvent::ConnectionEstablished => Self::ConnectionEstablished,
            ClientEvent::ConnectionLost => Self::ConnectionLost,
            ClientEvent::ConnectionRestored => Self::ConnectionRestored,
            ClientEvent::AuthRequired { reason } => Self::AuthRequired { reason },
            ClientEvent::SessionExpiring { expires_at } => Self::SessionExpiring {
                expires_at: *expires_at,
            },
            ClientEvent::StateSynchronized { version } => {
                Self::StateSynchronized { version: *version }
            }
            ClientEvent::SyncConflict { resolution } => Self::SyncConflict {
                resolution: *resolution,
            },
            ClientEvent::Error { kind, message } => Self::Error { kind, message },
        }
    }
}

/// A completed call's value: `sync()`'s result, `recover()`'s (flat: `{outcome, reason?,
/// version, pending}`), or a request's JSON answer as the server sent it.
#[derive(Serialize)]
#[serde(untagged)]
enum JsOutcome<'a> {
    Sync(&'a sessionkit::client::SyncResult),
    Recovery {
        outcome: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        version: u64,
        pending: u64,
    },
    Json(&'a Value),
}

impl<'a> From<&'a Outcome> for JsOutcome<'a> {
    fn from(outcome: &'a Outcome) -> Self {
        match outcome {
            Outcome::Sync(result) => Self::Sync(result),
            Outcome::Recovery(result) => {
                let (outcome, reason) = match &result.outcome {
                    RecoveryOutcome::Restored => ("restored", None),
                    RecoveryOutcome::SignedOut { reason } => ("signed_out", Some(reason.as_str())),
                    RecoveryOutcome::Offline => ("offline", None),
                };
                Self::Recovery {
                    outcome,
                    reason,
                    version: result.version,
                    pending: result.pending,
                }
            }
            Outcome::Json(value) => Self::Json(value),
        }
    }
}

impl<'a> From<&'a Output> for JsOutput<'a> {
    fn from(output: &'a Output) -> Self {
        match output {
            Output::Send { id, request } => Self::Send {
                id: *id,
                method: &request.method,
                path: &request.path,
                headers: &request.headers,
                body: request.body.as_deref(),
            },
            Output::OpenStream { token } => Self::OpenStream { token },
            Output::CloseStream => Self::CloseStream,
            Output::SetTimer { timer, after_ms } => Self::SetTimer {
                timer: *timer,
                after_ms: *after_ms,
            },
            Output::CancelTimer(timer) => Self::CancelTimer { timer: *timer },
            Output::Emit(event) => Self::Emit {
                event: event.into(),
            },
            Output::Persist(replica) => Self::Persist {
                revision: replica.revision,
            },
            Output::Done { op, result } => Self::Done {
                op: *op,
                value: result.as_ref().ok().map(JsOutcome::from),
                error: result.as_ref().err().map(JsError::from),
            },
        }
    }
}

/// Where the connection stands: `{state, attempt?, retryInMs?}`.
#[derive(Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum JsConnectionState {
    Disconnected,
    Connecting,
    Connected,
    Reconnecting {
        attempt: u32,
        #[serde(rename = "retryInMs")]
        retry_in_ms: u64,
    },
    SignedOut,
}

/// `metrics()`, camelCase.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsMetrics {
    syncs: u64,
    conflicts: u64,
    retries: u64,
    reconnects: u64,
    bytes_sent: u64,
    bytes_received: u64,
    last_round_trip_ms: Option<u64>,
    offline_ms: u64,
    pending_changes: u64,
}

fn timer_of(name: &str) -> Result<Timer> {
    Ok(match name {
        "reconnect" => Timer::Reconnect,
        "watchdog" => Timer::Watchdog,
        "stable" => Timer::Stable,
        "expiring" => Timer::Expiring,
        "poll" => Timer::Poll,
        other => {
            return Err(Error::invalid_input(
                "timer",
                format!("unknown timer {other:?}"),
            ))
        }
    })
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
        let outputs: Vec<JsOutput<'_>> = outputs.iter().map(JsOutput::from).collect();
        let array = js(&outputs)?;
        // A request body joins its parsed object as a string of its own: escaping it into the
        // JSON text and parsing it back cost more.
        for (i, output) in outputs.iter().enumerate() {
            if let JsOutput::Send {
                body: Some(body), ..
            } = output
            {
                let object = js_sys::Reflect::get_u32(&array, i as u32)?;
                js_sys::Reflect::set(
                    &object,
                    &JsValue::from_str("body"),
                    &JsValue::from_str(body),
                )?;
            }
        }
        Ok(array)
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
        let object = js_sys::Object::new();
        let record = String::from_utf8(replica.encode()).unwrap_or_default();
        js_sys::Reflect::set(
            &object,
            &JsValue::from_str("revision"),
            &JsValue::from_f64(replica.revision as f64),
        )?;
        js_sys::Reflect::set(
            &object,
            &JsValue::from_str("record"),
            &JsValue::from_str(&record),
        )?;
        Ok(object.into())
    }

    /// Where the connection stands: `{state, attempt?, retryInMs?}`.
    #[wasm_bindgen(js_name = connectionState)]
    pub fn connection_state(&self) -> JsResult<JsValue> {
        js(&match self.machine.connection_state() {
            ConnectionState::Disconnected => JsConnectionState::Disconnected,
            ConnectionState::Connecting => JsConnectionState::Connecting,
            ConnectionState::Connected => JsConnectionState::Connected,
            ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            } => JsConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            },
            ConnectionState::SignedOut => JsConnectionState::SignedOut,
        })
    }

    /// The figures so far.
    pub fn metrics(&self, now: JsValue) -> JsResult<JsValue> {
        let m = self.machine.metrics(now_ms(&now)?);
        js(&JsMetrics {
            syncs: m.syncs,
            conflicts: m.conflicts,
            retries: m.retries,
            reconnects: m.reconnects,
            bytes_sent: m.bytes_sent,
            bytes_received: m.bytes_received,
            last_round_trip_ms: m.last_round_trip_ms,
            offline_ms: m.offline_ms,
            pending_changes: m.pending_changes,
        })
    }
}

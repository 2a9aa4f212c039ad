//! `SessionManagerCore`: every `SessionManager` operation as a Promise-returning method taking
//! JS values. Each method converts its arguments (rejecting bad ones with `InvalidInput`), awaits
//! the engine, and converts the result into a plain JS object. The npm package wraps it as
//! `SessionManager`, turning rejections into `SessionkitError`s.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use js_sys::Promise;
use serde::Serialize;
use sessionkit::{Clock, MemoryStore, Result, SessionManager, SystemClock};
use wasm_bindgen::prelude::*;

use crate::clock::ManualClockCore;
use crate::convert;
use crate::error::to_js;
use crate::records::{
    state_json_text, to_json_text, JsConfig, JsCreated, JsPage, JsSession, JsStats,
};

/// A session manager over one store. Cheap to share; every method returns a Promise.
#[wasm_bindgen]
pub struct SessionManagerCore {
    manager: Rc<SessionManager>,
    #[cfg(target_arch = "wasm32")]
    subscriptions: crate::events::Subscriptions,
}

/// Runs `work` as a Promise: resolved with its value, rejected with the error's JS form.
pub(crate) fn promise<F>(work: F) -> Promise
where
    F: Future<Output = Result<JsValue>> + 'static,
{
    boxed_promise(Box::pin(work))
}

/// The one instance of the Promise adapter: every operation's future goes through it boxed,
/// instead of monomorphizing the adapter per operation (which cost ~4 KiB of wasm each).
fn boxed_promise(work: Pin<Box<dyn Future<Output = Result<JsValue>>>>) -> Promise {
    js_sys::futures::future_to_promise(async move { work.await.map_err(|e| to_js(&e)) })
}

/// A record as a plain JS object (through JSON text, so integers stay exact).
fn record<T: Serialize>(value: &T) -> Result<JsValue> {
    parse_record(&to_json_text(value)?)
}

fn parse_record(text: &str) -> Result<JsValue> {
    js_sys::JSON::parse(text).map_err(|_| sessionkit::Error::storage("could not build a result"))
}

/// A count or version as a JS number (exact below 2^53).
fn number(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn clock_of(clock: Option<ManualClockCore>) -> Arc<dyn Clock> {
    match clock {
        Some(clock) => Arc::new(clock.into_clock()),
        None => Arc::new(SystemClock),
    }
}

/// The manager, encrypting state under `keys` when given.
fn with_keys(manager: SessionManager, keys: Option<sessionkit::StateKeys>) -> SessionManager {
    match keys {
        Some(keys) => manager.with_state_keys(keys),
        None => manager,
    }
}

impl SessionManagerCore {
    fn new(manager: SessionManager) -> Self {
        SessionManagerCore {
            manager: Rc::new(manager),
            #[cfg(target_arch = "wasm32")]
            subscriptions: Default::default(),
        }
    }

    /// The manager, for a Promise's future to own.
    fn shared(&self) -> Rc<SessionManager> {
        Rc::clone(&self.manager)
    }
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
impl SessionManagerCore {
    /// Calls `callback` with every event (`{type, sessionId, …}`) from now on; returns an id for
    /// `unsubscribe`. Exceptions thrown by the callback are not the engine's: they are ignored
    /// here (the npm package reports them on the console).
    pub fn subscribe(&self, callback: js_sys::Function) -> u32 {
        self.subscriptions.add(&self.manager, callback)
    }

    /// Stops the subscription `id` (no effect if it was already stopped).
    pub fn unsubscribe(&self, id: u32) {
        self.subscriptions.remove(id);
    }
}

#[wasm_bindgen]
impl SessionManagerCore {
    /// Opens a manager over a fresh in-memory store (gone when the manager is). `options`:
    /// `{stateKeys?}` encrypts state at rest (see `convert::open_options`).
    #[wasm_bindgen(js_name = openMemory)]
    pub fn open_memory(
        config: JsValue,
        clock: Option<ManualClockCore>,
        options: JsValue,
    ) -> Promise {
        let opened = convert::config(&config)
            .and_then(|config| Ok((config, convert::open_options(&options)?)))
            .and_then(|(config, keys)| {
                let manager = SessionManager::open_store_with(config, clock_of(clock), || {
                    Ok(Arc::new(MemoryStore::new()))
                })?;
                Ok(with_keys(manager, keys))
            });
        promise(async move { opened.map(|m| JsValue::from(Self::new(m))) })
    }

    /// Opens (creating or upgrading) the IndexedDB database `name` and a manager over it.
    /// `options` as in `openMemory`.
    #[wasm_bindgen(js_name = openIndexedDb)]
    pub fn open_indexed_db(
        name: JsValue,
        config: JsValue,
        clock: Option<ManualClockCore>,
        options: JsValue,
    ) -> Promise {
        let args = convert::text(&name, "name").and_then(|name| {
            Ok((
                name,
                convert::config(&config)?,
                convert::open_options(&options)?,
            ))
        });
        let clock = clock_of(clock);
        promise(async move {
            // Every argument, the state keys included, is checked before the database is opened
            // (and so created); the engine then validates the configuration first: bad input
            // leaves no database behind.
            let (name, config, keys) = args?;
            let manager = SessionManager::open_store_with_async(config, clock, || {
                crate::indexeddb::open(&name)
            })
            .await?;
            Ok(JsValue::from(Self::new(with_keys(manager, keys))))
        })
    }

    /// The configuration in force, every field filled in (camelCase).
    pub fn config(&self) -> core::result::Result<JsValue, JsValue> {
        record(&JsConfig::from(self.manager.config())).map_err(|e| to_js(&e))
    }

    /// Starts a session: `{session, token}`; the token is shown only here.
    pub fn create(&self, session: JsValue) -> Promise {
        let (m, new) = (self.shared(), convert::new_session(&session));
        promise(async move { record(&JsCreated::from(&m.create(new?).await?)) })
    }

    /// Checks a token and returns its session (sliding its idle expiry).
    pub fn validate(&self, token: JsValue) -> Promise {
        let (m, token) = (self.shared(), convert::text(&token, "token"));
        promise(async move { record(&JsSession::from(&m.validate(&token?).await?)) })
    }

    /// As `validate`, comparing `{ip, userAgent}` with the session's stored ones: a difference
    /// emits `ContextChanged`; with `contextPolicy: "strict"` it refuses with `InvalidToken`.
    #[wasm_bindgen(js_name = validateInContext)]
    pub fn validate_in_context(&self, token: JsValue, context: JsValue) -> Promise {
        let m = self.shared();
        let token = convert::text(&token, "token");
        let context = convert::request_context(&context);
        promise(async move {
            record(&JsSession::from(
                &m.validate_in_context(&token?, &context?).await?,
            ))
        })
    }

    /// The session with this id, whatever its status.
    pub fn get(&self, id: JsValue) -> Promise {
        let (m, id) = (self.shared(), convert::session_id(&id));
        promise(async move { record(&JsSession::from(&m.get(&id?).await?)) })
    }

    /// Marks a live session active now.
    pub fn touch(&self, id: JsValue) -> Promise {
        let (m, id) = (self.shared(), convert::session_id(&id));
        promise(async move { record(&JsSession::from(&m.touch(&id?).await?)) })
    }

    /// Applies a JSON Merge Patch (an object) to a live session's metadata.
    #[wasm_bindgen(js_name = updateMetadata)]
    pub fn update_metadata(&self, id: JsValue, patch: JsValue) -> Promise {
        let m = self.shared();
        let args =
            convert::session_id(&id).and_then(|id| Ok((id, convert::json(&patch, "patch")?)));
        promise(async move {
            let (id, patch) = args?;
            record(&JsSession::from(&m.update_metadata(&id, &patch).await?))
        })
    }

    /// Replaces a live session with a new id and token: `{session, token}`.
    pub fn rotate(&self, id: JsValue) -> Promise {
        let (m, id) = (self.shared(), convert::session_id(&id));
        promise(async move { record(&JsCreated::from(&m.rotate(&id?).await?)) })
    }

    /// Revokes a session (soft).
    pub fn revoke(&self, id: JsValue) -> Promise {
        let (m, id) = (self.shared(), convert::session_id(&id));
        promise(async move {
            m.revoke(&id?).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Deletes a session and its state.
    pub fn delete(&self, id: JsValue) -> Promise {
        let (m, id) = (self.shared(), convert::session_id(&id));
        promise(async move {
            m.delete(&id?).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// One page of a user's sessions, newest activity first: `{items, nextCursor}`.
    #[wasm_bindgen(js_name = listUserSessions)]
    pub fn list_user_sessions(&self, user_id: JsValue, options: JsValue) -> Promise {
        let m = self.shared();
        let args = convert::text(&user_id, "user_id")
            .and_then(|user| Ok((user, convert::list_options(&options)?)));
        promise(async move {
            let (user_id, options) = args?;
            record(&JsPage::from(
                &m.list_user_sessions(&user_id, &options).await?,
            ))
        })
    }

    /// Revokes every active session of a user except `except`; resolves with the count.
    #[wasm_bindgen(js_name = revokeUserSessions)]
    pub fn revoke_user_sessions(&self, user_id: JsValue, except: JsValue) -> Promise {
        let m = self.shared();
        let args = convert::text(&user_id, "user_id").and_then(|user| {
            let except = match convert::opt_text(&except, "except")? {
                Some(id) => Some(sessionkit::SessionId::parse(&id)?),
                None => None,
            };
            Ok((user, except))
        });
        promise(async move {
            let (user_id, except) = args?;
            Ok(number(
                m.revoke_user_sessions(&user_id, except.as_ref()).await?,
            ))
        })
    }

    /// Revokes every live session of every user; resolves with the count.
    #[wasm_bindgen(js_name = revokeAllSessions)]
    pub fn revoke_all_sessions(&self) -> Promise {
        let m = self.shared();
        promise(async move { Ok(number(m.revoke_all_sessions().await?)) })
    }

    /// Deletes every session (and state) of a user; resolves with the count.
    #[wasm_bindgen(js_name = deleteUserSessions)]
    pub fn delete_user_sessions(&self, user_id: JsValue) -> Promise {
        let (m, user_id) = (self.shared(), convert::text(&user_id, "user_id"));
        promise(async move { Ok(number(m.delete_user_sessions(&user_id?).await?)) })
    }

    /// Removes every expired session; resolves with the count.
    #[wasm_bindgen(js_name = cleanupExpired)]
    pub fn cleanup_expired(&self) -> Promise {
        let m = self.shared();
        promise(async move { Ok(number(m.cleanup_expired().await?)) })
    }

    /// Sessions neither revoked nor expired.
    #[wasm_bindgen(js_name = countActive)]
    pub fn count_active(&self) -> Promise {
        let m = self.shared();
        promise(async move { Ok(number(m.count_active().await?)) })
    }

    /// A user's stored sessions (only live ones with `activeOnly`).
    #[wasm_bindgen(js_name = countUserSessions)]
    pub fn count_user_sessions(&self, user_id: JsValue, active_only: JsValue) -> Promise {
        let m = self.shared();
        let args = convert::text(&user_id, "user_id")
            .and_then(|user| Ok((user, convert::flag(&active_only, "active_only")?)));
        promise(async move {
            let (user_id, active_only) = args?;
            Ok(number(m.count_user_sessions(&user_id, active_only).await?))
        })
    }

    /// Aggregate figures over all stored sessions.
    pub fn stats(&self) -> Promise {
        let m = self.shared();
        promise(async move { record(&JsStats::from(&m.stats().await?)) })
    }

    /// The session's state, or `null` when it has none.
    #[wasm_bindgen(js_name = getState)]
    pub fn get_state(&self, id: JsValue) -> Promise {
        let (m, id) = (self.shared(), convert::session_id(&id));
        promise(async move {
            match m.get_state_json(&id?).await? {
                Some(state) => parse_record(&state_json_text(&state)?),
                None => Ok(JsValue::NULL),
            }
        })
    }

    /// Replaces the state (compare-and-swap on `expectedVersion` when given); resolves with the
    /// new version.
    #[wasm_bindgen(js_name = putState)]
    pub fn put_state(&self, id: JsValue, data: JsValue, expected_version: JsValue) -> Promise {
        let m = self.shared();
        let args = convert::session_id(&id).and_then(|id| {
            let data = convert::json(&data, "data")?;
            Ok((
                id,
                data,
                convert::opt_u64(&expected_version, "expected_version")?,
            ))
        });
        promise(async move {
            let (id, data, expected) = args?;
            Ok(number(m.put_state(&id, &data, expected).await?))
        })
    }

    /// Applies a JSON Merge Patch to the state; resolves with the new version.
    #[wasm_bindgen(js_name = patchState)]
    pub fn patch_state(&self, id: JsValue, patch: JsValue, expected_version: JsValue) -> Promise {
        let m = self.shared();
        let args = convert::session_id(&id).and_then(|id| {
            let patch = convert::json(&patch, "patch")?;
            Ok((
                id,
                patch,
                convert::opt_u64(&expected_version, "expected_version")?,
            ))
        });
        promise(async move {
            let (id, patch, expected) = args?;
            Ok(number(m.patch_state(&id, &patch, expected).await?))
        })
    }

    /// Removes the state of a live session.
    #[wasm_bindgen(js_name = clearState)]
    pub fn clear_state(&self, id: JsValue) -> Promise {
        let (m, id) = (self.shared(), convert::session_id(&id));
        promise(async move {
            m.clear_state(&id?).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Up to `limit` sessions in id order after `after`, in the interchange format shared with
    /// the CLI's `export` (snake_case records with the token hash and the encoded state).
    pub fn export(&self, options: JsValue) -> Promise {
        let (m, args) = (self.shared(), convert::export_options(&options));
        promise(async move {
            let (after, limit) = args?;
            record(&m.export(after.as_ref(), limit).await?)
        })
    }

    /// Imports one exported record (insert-only); resolves with false when its id exists.
    pub fn import(&self, exported: JsValue) -> Promise {
        let m = self.shared();
        let parsed = convert::json(&exported, "record").and_then(|value| {
            serde_json::from_value::<sessionkit::ExportRecord>(value)
                .map_err(|e| sessionkit::Error::invalid_input("record", e.to_string()))
        });
        promise(async move { Ok(JsValue::from_bool(m.import(parsed?).await?)) })
    }
}

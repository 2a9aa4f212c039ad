//! `SessionManager`: every operation of SPEC §1–§4, converted and delegated to the engine.
//! Each call blocks until the engine is done (the README says why).

use std::sync::Arc;

use sessionkit::SessionId;

use crate::error::Result;
use crate::error::SessionkitError;
use crate::events::{EventListener, Subscription};
use crate::{
    Config, Created, ImportSummary, Json, ListOptions, ManualClock, NewSession, Page, Session,
    State, Stats,
};

/// The entry point: one manager per store, safe to share between threads.
#[derive(Debug, uniffi::Object)]
pub struct SessionManager {
    inner: sessionkit::SessionManager,
}

/// Parses a session id argument; malformed is `InvalidInput { field: "id" }`.
fn id(text: &str) -> Result<SessionId> {
    Ok(SessionId::parse(text)?)
}

impl SessionManager {
    /// Validates `config` and the state keys, then (only if both are valid) opens the store and
    /// a manager over it.
    fn open(
        config: sessionkit::Config,
        clock: Option<Arc<ManualClock>>,
        state_keys: Option<String>,
        open_store: impl FnOnce() -> sessionkit::Result<Arc<dyn sessionkit::Store>>,
    ) -> Result<Arc<Self>> {
        let clock: Arc<dyn sessionkit::Clock> = match clock {
            Some(clock) => clock.engine_clock(),
            None => Arc::new(sessionkit::SystemClock),
        };
        // Parsed before anything is opened: bad keys create nothing. The text is wiped after.
        let keys = state_keys
            .map(zeroize::Zeroizing::new)
            .map(|text| sessionkit::StateKeys::parse(&text))
            .transpose()?;
        let inner = sessionkit::SessionManager::open_store_with(config, clock, open_store)?;
        let inner = match keys {
            Some(keys) => inner.with_state_keys(keys),
            None => inner,
        };
        Ok(Arc::new(SessionManager { inner }))
    }
}

#[uniffi::export]
impl SessionManager {
    /// Opens a manager over a fresh in-memory store (tests, ephemeral use). Invalid `config`
    /// is `InvalidInput`. Without `clock`, the wall clock.
    ///
    /// `state_keys` encrypts state at rest (XChaCha20-Poly1305): one `<id>:<base64 of 32 bytes>`
    /// a line, the first the current key, the others older keys still read (SPEC §11).
    #[uniffi::constructor(default(clock = None, state_keys = None, config))]
    pub fn open_memory(
        config: Config,
        clock: Option<Arc<ManualClock>>,
        state_keys: Option<String>,
    ) -> Result<Arc<Self>> {
        let config = sessionkit::Config::try_from(config)?;
        Self::open(config, clock, state_keys, || {
            Ok(Arc::new(sessionkit::MemoryStore::new()))
        })
    }

    /// Opens (creating or upgrading) the SQLite database at `path`. The configuration is checked
    /// before the file is touched; a database from a newer build is `IncompatibleSchema`.
    /// `state_keys` as in `open_memory`.
    #[uniffi::constructor(default(clock = None, state_keys = None, config))]
    pub fn open_sqlite(
        path: String,
        config: Config,
        clock: Option<Arc<ManualClock>>,
        state_keys: Option<String>,
    ) -> Result<Arc<Self>> {
        let config = sessionkit::Config::try_from(config)?;
        Self::open(config, clock, state_keys, || {
            Ok(Arc::new(sessionkit_sqlite::SqliteStore::open(&path)?))
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> Config {
        self.inner.config().clone().into()
    }

    /// The manager's current time (ms since the Unix epoch).
    pub fn now(&self) -> i64 {
        self.inner.now()
    }

    /// Calls `listener` with every event from now on, until the returned subscription is
    /// unsubscribed or released.
    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> Arc<Subscription> {
        Arc::new(Subscription::new(&self.inner, listener))
    }

    /// Starts a session. The token in the result is shown once and never stored.
    pub fn create(&self, new_session: NewSession) -> Result<Created> {
        let new = sessionkit::NewSession::try_from(new_session)?;
        pollster::block_on(self.inner.create(new))?.try_into()
    }

    /// Checks a token and returns its session, sliding the idle expiry. Malformed tokens,
    /// unknown ids and wrong secrets are all `InvalidToken`.
    pub fn validate(&self, token: String) -> Result<Session> {
        pollster::block_on(self.inner.validate(&token))?.try_into()
    }

    /// As `validate`, comparing the request's IP address and User-Agent (either may be unknown)
    /// with the session's stored ones: a difference emits `ContextChanged`, and with
    /// `context_policy = Strict` refuses the request with `InvalidToken`.
    pub fn validate_in_context(
        &self,
        token: String,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<Session> {
        let context = sessionkit::RequestContext { ip, user_agent };
        pollster::block_on(self.inner.validate_in_context(&token, &context))?.try_into()
    }

    /// The session with this id, whatever its status.
    pub fn get(&self, id: String) -> Result<Session> {
        pollster::block_on(self.inner.get(&self::id(&id)?))?.try_into()
    }

    /// Marks a live session active now, sliding its idle expiry.
    pub fn touch(&self, id: String) -> Result<Session> {
        pollster::block_on(self.inner.touch(&self::id(&id)?))?.try_into()
    }

    /// Applies a JSON Merge Patch (RFC 7396, must be an object) to a live session's metadata.
    pub fn update_metadata(&self, id: String, patch: Json) -> Result<Session> {
        let id = self::id(&id)?;
        let patch = patch.value("patch")?;
        pollster::block_on(self.inner.update_metadata(&id, &patch))?.try_into()
    }

    /// Replaces a live session with a new id and token; the old token stops working at once.
    pub fn rotate(&self, id: String) -> Result<Created> {
        pollster::block_on(self.inner.rotate(&self::id(&id)?))?.try_into()
    }

    /// Revokes a session (soft: it stays listed with `active = false`).
    pub fn revoke(&self, id: String) -> Result<()> {
        Ok(pollster::block_on(self.inner.revoke(&self::id(&id)?))?)
    }

    /// Deletes a session and its state.
    pub fn delete(&self, id: String) -> Result<()> {
        Ok(pollster::block_on(self.inner.delete(&self::id(&id)?))?)
    }

    /// One page of a user's sessions, newest activity first.
    #[uniffi::method(default(options))]
    pub fn list_user_sessions(&self, user_id: String, options: ListOptions) -> Result<Page> {
        let options = sessionkit::ListOptions::from(options);
        pollster::block_on(self.inner.list_user_sessions(&user_id, &options))?.try_into()
    }

    /// Revokes every active session of a user except `except` ("sign out everywhere else").
    /// Returns how many were revoked.
    #[uniffi::method(default(except = None))]
    pub fn revoke_user_sessions(&self, user_id: String, except: Option<String>) -> Result<u64> {
        let except = except.as_deref().map(self::id).transpose()?;
        Ok(pollster::block_on(
            self.inner.revoke_user_sessions(&user_id, except.as_ref()),
        )?)
    }

    /// Revokes every live session of every user ("end every user's sessions"), in bounded
    /// batches. Returns how many were revoked.
    pub fn revoke_all_sessions(&self) -> Result<u64> {
        Ok(pollster::block_on(self.inner.revoke_all_sessions())?)
    }

    /// Deletes every session of a user, whatever its status, with its state (account deletion,
    /// erasure requests). Returns how many were deleted.
    pub fn delete_user_sessions(&self, user_id: String) -> Result<u64> {
        Ok(pollster::block_on(
            self.inner.delete_user_sessions(&user_id),
        )?)
    }

    /// Removes every expired session (and its state). Returns how many were removed.
    pub fn cleanup_expired(&self) -> Result<u64> {
        Ok(pollster::block_on(self.inner.cleanup_expired())?)
    }

    /// Sessions neither revoked nor expired.
    pub fn count_active(&self) -> Result<u64> {
        Ok(pollster::block_on(self.inner.count_active())?)
    }

    /// A user's stored sessions; with `active_only`, only those neither revoked nor expired.
    #[uniffi::method(default(active_only = false))]
    pub fn count_user_sessions(&self, user_id: String, active_only: bool) -> Result<u64> {
        Ok(pollster::block_on(
            self.inner.count_user_sessions(&user_id, active_only),
        )?)
    }

    /// Aggregate figures over all stored sessions.
    pub fn stats(&self) -> Result<Stats> {
        Ok(pollster::block_on(self.inner.stats())?.into())
    }

    /// The session's state, verified; absent when it has none.
    pub fn get_state(&self, id: String) -> Result<Option<State>> {
        Ok(pollster::block_on(self.inner.get_state_json(&self::id(&id)?))?.map(State::from))
    }

    /// Replaces the state (a JSON value) of a live session. With `expected_version`, only if the
    /// stored version is that one (0 = no state yet), else `Conflict`. Returns the new version.
    #[uniffi::method(default(expected_version = None))]
    pub fn put_state(&self, id: String, data: Json, expected_version: Option<u64>) -> Result<u64> {
        let id = self::id(&id)?;
        let data = data.value("data")?;
        Ok(pollster::block_on(self.inner.put_state(
            &id,
            &data,
            expected_version,
        ))?)
    }

    /// Applies a JSON Merge Patch to the state of a live session, with the same
    /// compare-and-swap as `put_state`. Returns the new version.
    #[uniffi::method(default(expected_version = None))]
    pub fn patch_state(
        &self,
        id: String,
        patch: Json,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        let id = self::id(&id)?;
        let patch = patch.value("patch")?;
        Ok(pollster::block_on(self.inner.patch_state(
            &id,
            &patch,
            expected_version,
        ))?)
    }

    /// Removes the state of a live session.
    pub fn clear_state(&self, id: String) -> Result<()> {
        Ok(pollster::block_on(self.inner.clear_state(&self::id(&id)?))?)
    }

    /// Up to `limit` sessions in id order after the session id `after`, each one JSON record
    /// in the interchange format of the CLI's `export` lines and the npm package's `export`
    /// (snake_case, with the token hash and the encoded state; never a token). Pass the last
    /// record's `session.id` as `after` for the next page; an empty list is the end.
    #[uniffi::method(default(after = None, limit = 100))]
    pub fn export_sessions(&self, after: Option<String>, limit: u32) -> Result<Vec<Json>> {
        let after = after.as_deref().map(self::id).transpose()?;
        pollster::block_on(self.inner.export(after.as_ref(), limit))?
            .iter()
            .map(Json::of)
            .collect()
    }

    /// Imports exported records (as `export_sessions` returns them), insert-only: a
    /// record whose session id exists already is skipped. Every record is parsed and checked
    /// as strictly as `create` checks its arguments before any is written: a bad one is
    /// refused (`InvalidInput` naming `records[i]`) and nothing is imported. An import can
    /// mint sessions: import only what your own export wrote.
    pub fn import_sessions(&self, records: Vec<Json>) -> Result<ImportSummary> {
        let parsed = records
            .iter()
            .enumerate()
            .map(|(i, json)| {
                let record = serde_json::from_str::<sessionkit::ExportRecord>(json.as_str())
                    .map_err(|e| SessionkitError::InvalidInput {
                        field: format!("records[{i}]"),
                        reason: format!("not an export record: {e}"),
                    })?;
                self.inner
                    .check_import(&record)
                    .map_err(|e| within(i, e.into()))?;
                Ok(record)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut summary = ImportSummary {
            imported: 0,
            skipped: 0,
        };
        for (i, record) in parsed.into_iter().enumerate() {
            match pollster::block_on(self.inner.import(record)) {
                Ok(true) => summary.imported += 1,
                Ok(false) => summary.skipped += 1,
                Err(e) => return Err(within(i, e.into())),
            }
        }
        Ok(summary)
    }
}

/// Names record `i` of an import batch in an `InvalidInput` error's field.
fn within(i: usize, err: SessionkitError) -> SessionkitError {
    match err {
        SessionkitError::InvalidInput { field, reason } => SessionkitError::InvalidInput {
            field: format!("records[{i}].{field}"),
            reason,
        },
        other => other,
    }
}

//! `SessionManager`: every operation of SPEC §1–§4, applying the policies (tokens, expiry,
//! limits, compare-and-swap, the state codec, events) on top of a [`Store`].

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::cursor::PageCursor;
use crate::events::{Event, EventBus, EventListener, Subscription};
use crate::policy;
use crate::state_codec::{checksum_text, StateCodec};
use crate::state_crypto::{self, StateKeys};
use crate::store::*;
use crate::token::{ParsedToken, Token};
use crate::{
    metadata, validation, ClientInfo, ClientKind, Clock, Created, Error, ListOptions, NewSession,
    Page, Result, Session, SessionId, SessionStatus, State, Stats, SystemClock,
};

/// How many times an operation retries after losing an optimistic race (an id collision, a
/// metadata or state write that raced another writer) before giving up with `Storage`.
mod encoded_state;
pub use encoded_state::StateBlob;

const MAX_ATTEMPTS: usize = 16;
/// Sessions deleted per `cleanup_expired` transaction: small enough that no batch holds the
/// write lock for long, large enough to amortize each transaction's cost.
const CLEANUP_BATCH: u32 = 1_000;
/// Sessions read per page by `rekey_states` (each with its state blob).
const REKEY_BATCH: u32 = 100;

/// The entry point: one manager per store, shared freely (it is `Send + Sync` natively).
pub struct SessionManager {
    store: Arc<dyn Store>,
    config: Config,
    clock: Arc<dyn Clock>,
    codec: StateCodec,
    /// With keys, state is written encrypted under the current one (`state_crypto.rs`).
    state_keys: Option<Arc<StateKeys>>,
    events: EventBus,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("store", &self.store)
            .field("config", &self.config)
            .field("state_keys", &self.state_keys)
            .finish_non_exhaustive()
    }
}

impl SessionManager {
    /// Opens a manager over `store` with the wall clock. Invalid `config` is `InvalidInput`.
    pub fn open(store: Arc<dyn Store>, config: Config) -> Result<Self> {
        Self::open_with_clock(store, config, Arc::new(SystemClock))
    }

    /// Opens a manager with a caller-supplied clock (a [`crate::ManualClock`] in tests).
    pub fn open_with_clock(
        store: Arc<dyn Store>,
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        config.validate()?;
        Ok(Self::new(store, config, clock))
    }

    /// Validates `config` and only then calls `open_store`, so a bad configuration opens or
    /// creates no store (no file, no database); then opens a manager over the store. The way
    /// every face opens a store it creates.
    pub fn open_store_with(
        config: Config,
        clock: Arc<dyn Clock>,
        open_store: impl FnOnce() -> Result<Arc<dyn Store>>,
    ) -> Result<Self> {
        config.validate()?;
        Ok(Self::new(open_store()?, config, clock))
    }

    /// [`SessionManager::open_store_with`] for a store that opens asynchronously (IndexedDB).
    pub async fn open_store_with_async<F, Fut>(
        config: Config,
        clock: Arc<dyn Clock>,
        open_store: F,
    ) -> Result<Self>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Arc<dyn Store>>>,
    {
        config.validate()?;
        Ok(Self::new(open_store().await?, config, clock))
    }

    /// A manager over `store` with `config`, which the caller has validated.
    fn new(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        SessionManager {
            codec: StateCodec::new(config.state_compression_threshold, config.state_max_bytes),
            store,
            config,
            clock,
            state_keys: None,
            events: EventBus::default(),
        }
    }

    /// Encrypts state at rest with `keys` (XChaCha20-Poly1305): every state written from now on
    /// is encrypted under the current key; states written under an older key, or before
    /// encryption (plain), still read. A state encrypted under a key not in `keys` is `Corrupt`,
    /// as is every encrypted state read by a manager without keys. Export carries the stored
    /// (encrypted) blobs; [`rekey_states`](Self::rekey_states) moves old ones to the current key.
    pub fn with_state_keys(mut self, keys: StateKeys) -> Self {
        self.state_keys = Some(Arc::new(keys));
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The manager's current time.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Calls `listener` with every event from now on, until the returned handle is dropped.
    pub fn subscribe(&self, listener: EventListener) -> Subscription {
        self.events.subscribe(listener)
    }

    // ---- sessions -------------------------------------------------------------------------

    /// Starts a session. The token in the result is shown once and never stored.
    pub async fn create(&self, new: NewSession) -> Result<Created> {
        validation::new_session(&new)?;
        let metadata = match new.metadata {
            Some(value) => metadata::object("metadata", value)?,
            None => Map::new(),
        };
        metadata::to_text(&metadata)?;
        let now = self.now();
        let absolute_expires_at = now.saturating_add(self.config.absolute_timeout_ms);
        let limit = self.config.max_sessions_per_user.map(|max| SessionLimit {
            max,
            policy: self.config.session_limit_policy,
            live: self.liveness(now),
        });
        let mut session = Session {
            id: SessionId::from_bytes([0; SessionId::LEN]),
            user_id: new.user_id,
            created_at: now,
            last_active_at: now,
            expires_at: self.idle_expiry(now, absolute_expires_at),
            absolute_expires_at,
            client: ClientInfo {
                kind: new.client_kind,
                version: new.client_version,
                device: new.device,
            },
            ip: new.ip,
            user_agent: new.user_agent,
            active: true,
            metadata,
        };
        for _ in 0..MAX_ATTEMPTS {
            session.id = SessionId::random()?;
            let (token, token_hash) = Token::generate(session.id)?;
            let record = SessionRecord::new(session, token_hash);
            match self.store.insert_session(&record, limit.as_ref()).await? {
                InsertOutcome::Inserted { evicted } => {
                    for id in evicted {
                        self.events.emit(Event::Revoked { session_id: id });
                    }
                    let session = record.session;
                    tracing::debug!(session_id = %session.id, "session created");
                    self.events.emit(Event::Created {
                        session_id: session.id,
                        user_id: session.user_id.clone(),
                    });
                    return Ok(Created { session, token });
                }
                InsertOutcome::LimitReached => {
                    return Err(Error::limit_exceeded("max_sessions_per_user"))
                }
                // A 128-bit collision: draw again, never overwrite.
                InsertOutcome::IdTaken => session = record.session,
            }
        }
        Err(Error::storage("could not allocate a unique session id"))
    }

    /// Checks a token and returns its session, sliding the idle expiry (written at most once
    /// per `touch_interval_ms`). Malformed tokens, unknown ids and wrong secrets are all
    /// `InvalidToken`; `Expired` and `Revoked` are reported only to the holder of the secret.
    pub async fn validate(&self, token: &str) -> Result<Session> {
        self.validate_with(token, None).await
    }

    /// As [`validate`](Self::validate), comparing the request's IP and User-Agent with the
    /// session's stored ones (SPEC §11): a difference emits `ContextChanged`, and under
    /// `ContextPolicy::Strict` refuses the request with `InvalidToken`, changing nothing. Parts
    /// of `context` that are `None`, and sessions stored without them, never count as changes.
    pub async fn validate_in_context(
        &self,
        token: &str,
        context: &crate::RequestContext,
    ) -> Result<Session> {
        self.validate_with(token, Some(context)).await
    }

    async fn validate_with(
        &self,
        token: &str,
        context: Option<&crate::RequestContext>,
    ) -> Result<Session> {
        let parsed = ParsedToken::parse(token)?;
        let Some(record) = self.store.get_session(&parsed.id).await? else {
            parsed.match_nothing();
            return Err(Error::InvalidToken);
        };
        if !parsed.matches(&record.token_hash) {
            return Err(Error::InvalidToken);
        }
        let mut session = policy::effective(&self.config, record.session);
        self.check_live(&session).await?;
        if let Some(context) = context {
            let change = crate::context::compare(&session, context);
            if change.any() {
                self.events.emit(Event::ContextChanged {
                    session_id: session.id,
                    ip_changed: change.ip_changed,
                    user_agent_changed: change.user_agent_changed,
                });
                if self.config.context_policy == crate::ContextPolicy::Strict {
                    return Err(Error::InvalidToken);
                }
            }
        }
        let now = self.now();
        if now.saturating_sub(session.last_active_at) >= self.config.touch_interval_ms
            && now > session.last_active_at
        {
            let expires_at = self.idle_expiry(now, session.absolute_expires_at);
            let live = self.liveness(now);
            match self
                .store
                .touch_session(&session.id, now, expires_at, &live)
                .await?
            {
                WriteOutcome::Applied => {
                    session.last_active_at = now;
                    session.expires_at = expires_at;
                }
                // A later activity was recorded meanwhile: the session is live.
                WriteOutcome::Stale => {}
                WriteOutcome::Expired => return self.expire(&session.id, now).await,
                WriteOutcome::Inactive => return Err(Error::Revoked),
                WriteOutcome::Missing | WriteOutcome::IdTaken => return Err(Error::InvalidToken),
            }
        }
        Ok(session)
    }

    /// The session with this id, whatever its status (revoked and expired ones included).
    pub async fn get(&self, id: &SessionId) -> Result<Session> {
        Ok(self.record(id).await?.session)
    }

    /// Marks a live session active now, sliding its idle expiry (never past the absolute one).
    pub async fn touch(&self, id: &SessionId) -> Result<Session> {
        let mut session = self.live(id).await?.session;
        let now = self.now().max(session.last_active_at);
        let expires_at = self.idle_expiry(now, session.absolute_expires_at);
        let live = self.liveness(now);
        match self.store.touch_session(id, now, expires_at, &live).await? {
            // A later activity was recorded meanwhile: report the session as it is now.
            WriteOutcome::Stale => return self.get(id).await,
            WriteOutcome::Expired => return self.expire(id, now).await,
            outcome => self.expect_applied(outcome)?,
        }
        session.last_active_at = now;
        session.expires_at = expires_at;
        Ok(session)
    }

    /// Applies a JSON Merge Patch (RFC 7396; must be an object) to a live session's metadata.
    pub async fn update_metadata(&self, id: &SessionId, patch: &Value) -> Result<Session> {
        for _ in 0..MAX_ATTEMPTS {
            let record = self.live(id).await?;
            let mut session = record.session;
            let merged = metadata::merge(&session.metadata, patch)?;
            metadata::to_text(&merged)?;
            let expected = record.metadata_revision;
            let revision = next_counter("metadata_revision", expected)?;
            match self
                .store
                .replace_metadata(id, expected, &merged, revision)
                .await?
            {
                WriteOutcome::Stale => continue,
                outcome => self.expect_applied(outcome)?,
            }
            session.metadata = merged;
            self.events.emit(Event::MetadataUpdated { session_id: *id });
            return Ok(session);
        }
        Err(Error::storage("metadata update kept racing other writers"))
    }

    /// Replaces a live session with a new id and token (after a privilege change). The old
    /// token stops working at once; metadata, state, `created_at` and the absolute expiry carry
    /// over.
    pub async fn rotate(&self, id: &SessionId) -> Result<Created> {
        for _ in 0..MAX_ATTEMPTS {
            // Read (again, after a lost race) what carries over: the store swaps only if the
            // metadata is still the one read, so a concurrent update is never undone.
            let old = self.live(id).await?;
            let now = self.now().max(old.session.last_active_at);
            let new_id = SessionId::random()?;
            let (token, token_hash) = Token::generate(new_id)?;
            let session = Session {
                id: new_id,
                last_active_at: now,
                expires_at: self.idle_expiry(now, old.session.absolute_expires_at),
                ..old.session.clone()
            };
            let record = SessionRecord {
                metadata_revision: old.metadata_revision,
                ..SessionRecord::new(session, token_hash)
            };
            match self
                .store
                .rotate_session(id, old.metadata_revision, &record)
                .await?
            {
                WriteOutcome::IdTaken | WriteOutcome::Stale => continue,
                outcome => self.expect_applied(outcome)?,
            }
            let old = old.session;
            self.events.emit(Event::Rotated {
                old_session_id: *id,
                session_id: new_id,
                user_id: old.user_id.clone(),
            });
            return Ok(Created {
                session: record.session,
                token,
            });
        }
        Err(Error::storage("rotation kept racing other writers"))
    }

    /// Revokes a session (soft: it stays listed with `active = false` until it expires and is
    /// cleaned up). Revoking a revoked session does nothing.
    pub async fn revoke(&self, id: &SessionId) -> Result<()> {
        match self.store.revoke_session(id).await? {
            WriteOutcome::Applied => {
                self.events.emit(Event::Revoked { session_id: *id });
                Ok(())
            }
            WriteOutcome::Inactive => Ok(()),
            WriteOutcome::Missing
            | WriteOutcome::Stale
            | WriteOutcome::IdTaken
            | WriteOutcome::Expired => Err(Error::NotFound),
        }
    }

    /// Deletes a session and its state.
    pub async fn delete(&self, id: &SessionId) -> Result<()> {
        if self.store.delete_session(id).await? {
            self.events.emit(Event::Deleted { session_id: *id });
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// One page of a user's sessions, newest activity first (ties by id), continuing after
    /// `options.cursor`. Each page is an index seek, whatever its depth.
    pub async fn list_user_sessions(
        &self,
        user_id: &str,
        options: &ListOptions,
    ) -> Result<Page<Session>> {
        validation::user_id(user_id)?;
        if options.limit == 0 || options.limit > ListOptions::MAX_LIMIT {
            return Err(Error::invalid_input("limit", "must be between 1 and 1000"));
        }
        let after = match options.cursor.as_deref() {
            Some(text) => {
                let c = PageCursor::decode(text, user_id, options.active_only)?;
                Some(SessionPosition {
                    last_active_at: c.last_active_at,
                    id: c.id,
                })
            }
            None => None,
        };
        let query = UserPageQuery {
            user_id: user_id.to_owned(),
            live: options.active_only.then(|| self.liveness(self.now())),
            after,
            limit: options.limit + 1,
        };
        let mut items: Vec<Session> = self
            .store
            .list_user_sessions(&query)
            .await?
            .into_iter()
            .map(|r| policy::effective(&self.config, r.session))
            .collect();
        let next_cursor = if items.len() > options.limit as usize {
            items.truncate(options.limit as usize);
            items.last().map(|last| {
                PageCursor {
                    last_active_at: last.last_active_at,
                    id: last.id,
                }
                .encode(user_id, options.active_only)
            })
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Revokes every live session of a user except `except` ("sign out everywhere else").
    /// Returns how many were revoked; expired sessions are not counted (cleanup removes them).
    pub async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
    ) -> Result<u64> {
        validation::user_id(user_id)?;
        let live = self.liveness(self.now());
        let revoked = self
            .store
            .revoke_user_sessions(user_id, except, &live)
            .await?;
        for id in policy::newest_first(&revoked) {
            self.events.emit(Event::Revoked { session_id: id });
        }
        Ok(revoked.len() as u64)
    }

    /// Revokes every live session of every user ("end every user's sessions"), in bounded
    /// batches in id order (each one short transaction, as cleanup's). Returns how many were
    /// revoked; expired sessions are not counted (cleanup removes them). A session created
    /// while it runs may be missed if its id sorts before the batch under way.
    pub async fn revoke_all_sessions(&self) -> Result<u64> {
        let live = self.liveness(self.now());
        let (mut after, mut revoked) = (None, 0);
        loop {
            let batch = self
                .store
                .revoke_live_sessions(after.as_ref(), CLEANUP_BATCH, &live)
                .await?;
            revoked += batch.revoked.len() as u64;
            // One event per session; within a batch, in no particular order.
            for id in batch.revoked {
                self.events.emit(Event::Revoked { session_id: id });
            }
            match batch.next {
                Some(id) => after = Some(id),
                None => break,
            }
        }
        tracing::debug!(revoked, "every live session revoked");
        Ok(revoked)
    }

    /// Deletes every session of `user_id`, whatever its status, with its state (account
    /// deletion, erasure requests), in bounded batches. Returns how many were deleted.
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64> {
        validation::user_id(user_id)?;
        let mut deleted = 0;
        loop {
            let ids = self
                .store
                .delete_user_sessions(user_id, CLEANUP_BATCH)
                .await?;
            deleted += ids.len() as u64;
            let last_batch = ids.len() < CLEANUP_BATCH as usize;
            // One event per session; within a batch, in no particular order.
            for id in ids {
                self.events.emit(Event::Deleted { session_id: id });
            }
            if last_batch {
                return Ok(deleted);
            }
        }
    }

    /// Removes every session expired by now (and its state), in bounded batches through the
    /// expiry index. Returns how many were removed.
    pub async fn cleanup_expired(&self) -> Result<u64> {
        let live = self.liveness(self.now());
        let mut removed = 0;
        loop {
            let batch = self.store.delete_expired(&live, CLEANUP_BATCH).await?;
            removed += batch;
            if batch < u64::from(CLEANUP_BATCH) {
                break;
            }
        }
        tracing::debug!(removed, "expired sessions cleaned up");
        self.events.emit(Event::CleanupCompleted { removed });
        Ok(removed)
    }

    /// Sessions neither revoked nor expired.
    pub async fn count_active(&self) -> Result<u64> {
        let live = self.liveness(self.now());
        self.store.count_sessions(None, Some(&live)).await
    }

    /// A user's stored sessions; with `active_only`, only those neither revoked nor expired.
    pub async fn count_user_sessions(&self, user_id: &str, active_only: bool) -> Result<u64> {
        validation::user_id(user_id)?;
        let live = active_only.then(|| self.liveness(self.now()));
        self.store
            .count_sessions(Some(user_id), live.as_ref())
            .await
    }

    /// Aggregate figures over all stored sessions.
    pub async fn stats(&self) -> Result<Stats> {
        let s = self
            .store
            .stats(&policy::stats_query(self.liveness(self.now())))
            .await?;
        let mut by_client_kind: std::collections::BTreeMap<String, u64> = ClientKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), 0))
            .collect();
        for (kind, n) in s.by_client_kind {
            *by_client_kind.entry(kind.as_str().to_owned()).or_default() += n;
        }
        let average_duration_ms = if s.total == 0 {
            0
        } else {
            i64::try_from(s.duration_sum_ms / i128::from(s.total)).unwrap_or(i64::MAX)
        };
        Ok(Stats {
            total: s.total,
            active: s.active,
            created_last_24h: s.created_since[0],
            created_last_7d: s.created_since[1],
            by_client_kind,
            average_duration_ms,
        })
    }

    // ---- state ----------------------------------------------------------------------------

    /// The session's state, verified; `None` when it has none. A blob that fails verification
    /// is `Corrupt` and is never returned.
    pub async fn get_state(&self, id: &SessionId) -> Result<Option<State>> {
        // Parsing is the check that the text is JSON.
        let Some(state) = self.state_text(id, false).await? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&state.data).map_err(|_| Error::corrupt("state JSON"))?;
        Ok(Some(State {
            version: state.version,
            data,
            checksum: state.checksum,
            size: state.size,
            compressed: state.compressed,
            stored_size: state.stored_size,
            updated_at: state.updated_at,
        }))
    }

    /// As [`get_state`](Self::get_state), with the state as the canonical JSON text it is stored
    /// as (compact, object keys sorted), verified by its checksum and checked to be JSON but not
    /// parsed into values: for a caller that hands the text on or parses it itself (the bindings
    /// do), it saves building the value and serializing it again.
    pub async fn get_state_json(&self, id: &SessionId) -> Result<Option<State<String>>> {
        self.state_text(id, true).await
    }

    /// The state's text, verified; with `check_json`, also checked to be JSON.
    async fn state_text(&self, id: &SessionId, check_json: bool) -> Result<Option<State<String>>> {
        match self.store.get_state(id).await? {
            StateLookup::NoSession => Err(Error::NotFound),
            StateLookup::Empty => Ok(None),
            StateLookup::Found(state) => {
                let plain = state_crypto::unwrap_blob(self.state_keys.as_deref(), &state.blob)?;
                let (data, compressed, crc32) = if check_json {
                    self.codec.decode_json_checked(&plain)?
                } else {
                    let (json, compressed, crc32) = self.codec.decode_json(&plain)?;
                    let data = String::from_utf8(json).map_err(|_| Error::corrupt("state JSON"))?;
                    (data, compressed, crc32)
                };
                let size = data.len() as u64;
                Ok(Some(State {
                    version: state.version,
                    data,
                    checksum: checksum_text(crc32),
                    size,
                    compressed,
                    stored_size: state.blob.len() as u64,
                    updated_at: state.updated_at,
                }))
            }
        }
    }

    /// Replaces the state of a live session. With `expected_version`, only if the stored
    /// version is that one (0 = no state yet); a mismatch is `Conflict` and writes nothing.
    /// Returns the new version.
    pub async fn put_state(
        &self,
        id: &SessionId,
        data: &Value,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        let blob = self.sealed(self.codec.encode(data)?.blob)?;
        self.live(id).await?;
        let put = self
            .store
            .put_state(id, expected_version, &blob, self.now())
            .await?;
        self.state_written(id, put)
    }

    /// Applies a JSON Merge Patch to the state of a live session (compare-and-swap on
    /// `expected_version` when given; retried internally against concurrent writers when not).
    /// Returns the new version.
    pub async fn patch_state(
        &self,
        id: &SessionId,
        patch: &Value,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        for _ in 0..MAX_ATTEMPTS {
            self.live(id).await?;
            let (current_version, mut data) = match self.get_state(id).await? {
                Some(state) => (state.version, state.data),
                None => (0, Value::Null),
            };
            if let Some(expected) = expected_version {
                if expected != current_version {
                    return Err(Error::Conflict { current_version });
                }
            }
            json_patch::merge(&mut data, patch);
            let blob = self.sealed(self.codec.encode(&data)?.blob)?;
            let put = self
                .store
                .put_state(id, Some(current_version), &blob, self.now())
                .await?;
            match put {
                StatePut::Conflict(_) if expected_version.is_none() => continue,
                put => return self.state_written(id, put),
            }
        }
        Err(Error::storage("state patch kept racing other writers"))
    }

    /// Removes the state of a live session.
    pub async fn clear_state(&self, id: &SessionId) -> Result<()> {
        self.live(id).await?;
        self.expect_applied(self.store.clear_state(id).await?)?;
        self.events.emit(Event::StateChanged {
            session_id: *id,
            version: 0,
        });
        Ok(())
    }

    // ---- export and import ----------------------------------------------------------------

    /// Up to `limit` sessions (with their encoded state) in id order, after `after`; pass the
    /// last id of one page as `after` for the next. An empty page is the end.
    pub async fn export(
        &self,
        after: Option<&SessionId>,
        limit: u32,
    ) -> Result<Vec<crate::ExportRecord>> {
        if limit == 0 {
            return Err(Error::invalid_input("limit", "must be at least 1"));
        }
        Ok(self
            .store
            .scan_sessions(after, limit)
            .await?
            .into_iter()
            .map(crate::ExportRecord::from_stored)
            .collect())
    }

    /// Imports one exported session (insert-only). Returns false, changing nothing, when a
    /// session with its id exists already. Every field is checked as strictly as `create`
    /// checks its arguments (lifetimes within this manager's timeouts, no time in the future)
    /// and the state verified first. An import file can mint sessions: see [`crate::ExportRecord`].
    pub async fn import(&self, record: crate::ExportRecord) -> Result<bool> {
        let stored = record.into_stored(
            &self.codec,
            self.state_keys.as_deref(),
            &self.config,
            self.now(),
        )?;
        self.store.import_session(&stored).await
    }

    /// Checks an exported session exactly as [`import`](Self::import) would, writing nothing:
    /// a face importing a batch checks every record first, so that a bad one imports none.
    pub fn check_import(&self, record: &crate::ExportRecord) -> Result<()> {
        record
            .clone()
            .into_stored(
                &self.codec,
                self.state_keys.as_deref(),
                &self.config,
                self.now(),
            )
            .map(drop)
    }

    /// Rewrites every stored state not yet under the current state key (encrypted under an
    /// older key, or plain) under the current key, keeping its version and time. Each blob is
    /// verified before it is rewritten; one that fails is `Corrupt` and stops the pass (states
    /// rewritten before it stay rewritten; running it again continues). A state written
    /// meanwhile is left as written. Returns how many were rewritten. Without keys:
    /// `InvalidInput { field: "state_keys" }`.
    pub async fn rekey_states(&self) -> Result<u64> {
        let keys = self
            .state_keys
            .as_deref()
            .ok_or_else(|| Error::invalid_input("state_keys", "no state keys are configured"))?;
        let mut after: Option<SessionId> = None;
        let mut rewritten = 0;
        loop {
            let page = self
                .store
                .scan_sessions(after.as_ref(), REKEY_BATCH)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record.session.id);
            for stored in page {
                let Some(state) = stored.state else { continue };
                if state_crypto::key_id(&state.blob) == Some(keys.current_id()) {
                    continue;
                }
                let plain = state_crypto::unwrap_blob(Some(keys), &state.blob)?;
                self.codec.decode_json(&plain)?;
                let sealed = keys.seal(&plain)?;
                let id = stored.record.session.id;
                if self
                    .store
                    .rewrite_state(&id, state.version, &sealed)
                    .await?
                {
                    rewritten += 1;
                }
            }
        }
        tracing::debug!(rewritten, "states rekeyed");
        Ok(rewritten)
    }

    // ---- helpers --------------------------------------------------------------------------

    /// What "live" means now, under this configuration.
    fn liveness(&self, now: i64) -> Liveness {
        policy::liveness(&self.config, now)
    }

    /// The expiry a session active at `last_active_at` gets: the idle timeout later, never past
    /// its (effective) absolute expiry.
    /// The blob to store for an encoded state: encrypted under the current key when keys are
    /// configured.
    fn sealed(&self, blob: Vec<u8>) -> Result<Vec<u8>> {
        match &self.state_keys {
            Some(keys) => keys.seal(&blob),
            None => Ok(blob),
        }
    }

    fn idle_expiry(&self, last_active_at: i64, absolute_expires_at: i64) -> i64 {
        last_active_at
            .saturating_add(self.config.idle_timeout_ms)
            .min(absolute_expires_at)
    }

    /// The stored record, its session's expiries as the configuration judges them.
    async fn record(&self, id: &SessionId) -> Result<SessionRecord> {
        let mut record = self.store.get_session(id).await?.ok_or(Error::NotFound)?;
        record.session = policy::effective(&self.config, record.session);
        Ok(record)
    }

    /// The session if it can be used: `NotFound`, `Revoked`, or `Expired` (removing it) if not.
    async fn live(&self, id: &SessionId) -> Result<SessionRecord> {
        let record = self.record(id).await?;
        self.check_live(&record.session).await?;
        Ok(record)
    }

    async fn check_live(&self, session: &Session) -> Result<()> {
        let now = self.now();
        match session.status_at(now) {
            SessionStatus::Active => Ok(()),
            SessionStatus::Revoked => Err(Error::Revoked),
            SessionStatus::Expired => self.expire(&session.id, now).await,
        }
    }

    /// `Expired`, after removing the session if it is still expired at `now` when the store
    /// looks (a concurrent touch may have extended it since it was read).
    async fn expire<T>(&self, id: &SessionId, now: i64) -> Result<T> {
        if self
            .store
            .delete_expired_session(id, &self.liveness(now))
            .await?
        {
            self.events.emit(Event::Expired { session_id: *id });
        }
        Err(Error::Expired)
    }

    fn expect_applied(&self, outcome: WriteOutcome) -> Result<()> {
        match outcome {
            WriteOutcome::Applied => Ok(()),
            WriteOutcome::Missing => Err(Error::NotFound),
            WriteOutcome::Inactive => Err(Error::Revoked),
            WriteOutcome::Expired => Err(Error::Expired),
            WriteOutcome::Stale | WriteOutcome::IdTaken => Err(Error::storage("concurrent write")),
        }
    }

    fn state_written(&self, id: &SessionId, put: StatePut) -> Result<u64> {
        match put {
            StatePut::Written(version) => {
                self.events.emit(Event::StateChanged {
                    session_id: *id,
                    version,
                });
                Ok(version)
            }
            StatePut::Conflict(current_version) => Err(Error::Conflict { current_version }),
            StatePut::Missing => Err(Error::NotFound),
            StatePut::Inactive => Err(Error::Revoked),
        }
    }
}

//! The demo's building blocks: each calls the engine once (or a few times), checks the answer
//! against the ledger, records the expected events and narrates what happened.

use serde_json::Value;
use sessionkit::{ClientKind, Clock, ErrorKind, NewSession, Session, SessionId, State};

use super::ledger::{Handle, Tracked, DAY_MS};
use super::{check, Demo, HOUR_MS, MINUTE_MS};
use crate::error::{CliError, CliResult};

/// A client device of one of the demo's users.
#[derive(Debug, Clone, Copy)]
pub struct Device {
    /// Device name for device lists.
    pub name: &'static str,
    /// Client kind.
    pub kind: ClientKind,
    /// Client app version.
    pub version: &'static str,
    /// IP address it connects from.
    pub ip: &'static str,
    /// User agent it sends.
    pub user_agent: &'static str,
    /// When in the day it is routinely used: (hour, minute).
    pub slot: (i64, i64),
}

/// The first 8 characters of an id, enough to tell sessions apart in the narrative.
pub fn short(id: &SessionId) -> String {
    let text = id.to_string();
    format!("{}…", text.get(..8).unwrap_or(&text))
}

impl Demo<'_> {
    /// The short name of user `user` (`alice`).
    pub(super) fn name(&self, user: usize) -> &'static str {
        super::USER_NAMES.get(user).copied().unwrap_or("someone")
    }

    /// `alice's MacBook Pro`.
    pub(super) fn label(&self, h: Handle) -> String {
        let t = self.ledger.get(h);
        format!("{}'s {}", self.name(t.user), t.device)
    }

    /// Signs `user` in on `device`; checks the new session is what was asked for.
    pub(super) async fn sign_in(
        &mut self,
        user: usize,
        device: &Device,
        metadata: Option<Value>,
    ) -> CliResult<Handle> {
        let mut new = NewSession::new(self.users[user].clone(), device.kind);
        new.client_version = Some(device.version.into());
        new.device = Some(device.name.into());
        new.ip = Some(device.ip.into());
        new.user_agent = Some(device.user_agent.into());
        new.metadata = metadata;
        let created = self.m.create(new).await?;
        let s = &created.session;
        let now = self.clock.now_ms();
        check(
            s.created_at == now
                && s.last_active_at == now
                && s.active
                && s.client.kind == device.kind
                && s.absolute_expires_at == now + self.config.absolute_timeout_ms,
            || format!("create returned an unexpected session: {s:?}"),
        )?;
        self.ledger.expect_event("Created");
        let h = self.ledger.add(Tracked {
            user,
            device: device.name,
            slot_ms: device.slot.0 * HOUR_MS + device.slot.1 * MINUTE_MS,
            kind: device.kind,
            id: s.id,
            token: created.token.clone(),
            created_at: now,
            last_active_at: now,
            revoked: false,
            gone: false,
        });
        self.say(&format!(
            "{} signs in on {} ({} {}, from {}): session {}",
            self.name(user),
            device.name,
            device.kind.as_str(),
            device.version,
            device.ip,
            short(&s.id)
        ))?;
        Ok(h)
    }

    /// The client of `h` presents its token; it must be accepted.
    pub(super) async fn use_ok(&mut self, h: Handle) -> CliResult<Session> {
        let now = self.clock.now_ms();
        let session = self.m.validate(self.ledger.get(h).token.as_str()).await?;
        self.ledger.record_use(h, now);
        let t = self.ledger.get(h);
        check(
            session.id == t.id && session.last_active_at == t.last_active_at,
            || {
                format!(
                    "validate of {} returned last_active_at {} where {} was expected",
                    self.label(h),
                    session.last_active_at,
                    t.last_active_at
                )
            },
        )?;
        Ok(session)
    }

    /// The client of `h` presents its token; it must be refused with `kind`.
    pub(super) async fn use_refused(&mut self, h: Handle, kind: ErrorKind) -> CliResult<()> {
        let answer = self.m.validate(self.ledger.get(h).token.as_str()).await;
        self.expect_error(answer.map(|_| ()), kind, &self.label(h))?;
        if kind == ErrorKind::Expired {
            // validate removes an expired session it finds.
            self.ledger.get_mut(h).gone = true;
            self.ledger.expect_event("Expired");
        }
        Ok(())
    }

    /// Presents an arbitrary token text; it must be refused with `kind`.
    pub(super) async fn try_token(&mut self, token: &str, kind: ErrorKind) -> CliResult<()> {
        let answer = self.m.validate(token).await;
        self.expect_error(answer.map(|_| ()), kind, "a made-up token")
    }

    /// Checks `answer` is the error `kind`.
    pub(super) fn expect_error(
        &self,
        answer: sessionkit::Result<()>,
        kind: ErrorKind,
        what: &str,
    ) -> CliResult<()> {
        match answer {
            Err(e) if e.kind() == kind => Ok(()),
            Err(e) => Err(CliError::DemoCheck(format!(
                "{what}: expected {kind}, the engine answered {} ({e})",
                e.kind()
            ))),
            Ok(()) => Err(CliError::DemoCheck(format!(
                "{what}: expected {kind}, the engine accepted it"
            ))),
        }
    }

    /// Everyday use on `day`: each device validates at its usual time; one line sums it up.
    pub(super) async fn routine(&mut self, day: i64, handles: &[Handle]) -> CliResult<()> {
        let mut order: Vec<Handle> = handles.to_vec();
        order.sort_by_key(|&h| self.ledger.get(h).slot_ms);
        let first = order.first().map(|&h| self.ledger.get(h).slot_ms);
        for &h in &order {
            let slot = self.ledger.get(h).slot_ms;
            self.at(day, slot / HOUR_MS, slot % HOUR_MS / MINUTE_MS)?;
            self.use_ok(h).await?;
        }
        let mut by_user: Vec<String> = Vec::new();
        for user in 0..self.users.len() {
            let devices: Vec<&str> = order
                .iter()
                .map(|&h| self.ledger.get(h))
                .filter(|t| t.user == user)
                .map(|t| t.device)
                .collect();
            if !devices.is_empty() {
                by_user.push(format!("{} ({})", self.name(user), devices.join(", ")));
            }
        }
        if let Some(first) = first {
            let now = self.clock.now_ms();
            let day_start = self.t0 + day * DAY_MS;
            self.printer.narrate(&format!(
                "  {:02}:{:02}  everyday use until {:02}:{:02}, {} validations accepted: {}",
                first / HOUR_MS,
                first % HOUR_MS / MINUTE_MS,
                (now - day_start) / HOUR_MS,
                (now - day_start) % HOUR_MS / MINUTE_MS,
                order.len(),
                by_user.join("; ")
            ))?;
        }
        Ok(())
    }

    /// Revokes one session.
    pub(super) async fn revoke(&mut self, h: Handle) -> CliResult<()> {
        self.m.revoke(&self.ledger.get(h).id).await?;
        self.ledger.get_mut(h).revoked = true;
        self.ledger.expect_event("Revoked");
        self.expect_revoked(h).await
    }

    /// Checks the engine holds `h` as revoked.
    pub(super) async fn expect_revoked(&mut self, h: Handle) -> CliResult<()> {
        let session = self.m.get(&self.ledger.get(h).id).await?;
        check(!session.active, || {
            format!("{} should be revoked but is active", self.label(h))
        })
    }

    /// Records that the per-user limit revoked `h`, and checks it did.
    pub(super) async fn evicted(&mut self, h: Handle) -> CliResult<()> {
        self.ledger.get_mut(h).revoked = true;
        self.ledger.expect_event("Revoked");
        self.expect_revoked(h).await
    }

    /// "Sign out everywhere else": revokes every active session of `user` but `keep`.
    pub(super) async fn sign_out_everywhere_else(
        &mut self,
        user: usize,
        keep: Handle,
    ) -> CliResult<u64> {
        let keep_id = self.ledger.get(keep).id;
        let revoked = self
            .m
            .revoke_user_sessions(&self.users[user], Some(&keep_id))
            .await?;
        // Revoked are all sessions still marked active in storage, expired-but-stored included.
        let others: Vec<Handle> = self
            .ledger
            .handles()
            .filter(|&h| {
                let t = self.ledger.get(h);
                t.user == user && h != keep && !t.gone && !t.revoked
            })
            .collect();
        check(revoked == others.len() as u64, || {
            format!(
                "revoke_user_sessions revoked {revoked}, the demo expected {}",
                others.len()
            )
        })?;
        for h in others {
            self.ledger.get_mut(h).revoked = true;
            self.ledger.expect_event("Revoked");
            self.expect_revoked(h).await?;
        }
        Ok(revoked)
    }

    /// Deletes one session (hard) and checks it is gone.
    pub(super) async fn delete(&mut self, h: Handle) -> CliResult<()> {
        let id = self.ledger.get(h).id;
        self.m.delete(&id).await?;
        self.ledger.get_mut(h).gone = true;
        self.ledger.expect_event("Deleted");
        let after = self.m.get(&id).await.map(|_| ());
        self.expect_error(after, ErrorKind::NotFound, "a deleted session")
    }

    /// Rotates `h`: a new id and token replace it; returns the new session's handle.
    pub(super) async fn rotate(&mut self, h: Handle) -> CliResult<Handle> {
        let now = self.clock.now_ms();
        let created = self.m.rotate(&self.ledger.get(h).id).await?;
        let old = self.ledger.get(h);
        check(
            created.session.created_at == old.created_at
                && created.session.absolute_expires_at
                    == old.created_at + self.config.absolute_timeout_ms
                && created.session.id != old.id,
            || "rotate did not keep created_at and the absolute expiry".into(),
        )?;
        let tracked = Tracked {
            user: old.user,
            device: old.device,
            slot_ms: old.slot_ms,
            kind: old.kind,
            id: created.session.id,
            token: created.token.clone(),
            created_at: old.created_at,
            last_active_at: now.max(old.last_active_at),
            revoked: false,
            gone: false,
        };
        self.ledger.get_mut(h).gone = true;
        self.ledger.expect_event("Rotated");
        Ok(self.ledger.add(tracked))
    }

    /// Applies a metadata merge patch to `h`; returns the merged metadata.
    pub(super) async fn update_metadata(&mut self, h: Handle, patch: Value) -> CliResult<Value> {
        let session = self
            .m
            .update_metadata(&self.ledger.get(h).id, &patch)
            .await?;
        self.ledger.expect_event("MetadataUpdated");
        Ok(Value::Object(session.metadata))
    }

    /// Writes the state of `h` (compare-and-swap when `expected` is given).
    pub(super) async fn put_state(
        &mut self,
        h: Handle,
        data: &Value,
        expected: Option<u64>,
    ) -> CliResult<u64> {
        let version = self
            .m
            .put_state(&self.ledger.get(h).id, data, expected)
            .await?;
        self.ledger.expect_event("StateChanged");
        Ok(version)
    }

    /// Patches the state of `h` (compare-and-swap when `expected` is given).
    pub(super) async fn patch_state(
        &mut self,
        h: Handle,
        patch: &Value,
        expected: Option<u64>,
    ) -> CliResult<u64> {
        let version = self
            .m
            .patch_state(&self.ledger.get(h).id, patch, expected)
            .await?;
        self.ledger.expect_event("StateChanged");
        Ok(version)
    }

    /// Reads the state of `h`; it must exist.
    pub(super) async fn state(&self, h: Handle) -> CliResult<State> {
        self.m
            .get_state(&self.ledger.get(h).id)
            .await?
            .ok_or_else(|| CliError::DemoCheck(format!("{} has no state", self.label(h))))
    }

    /// Clears the state of `h`.
    pub(super) async fn clear_state(&mut self, h: Handle) -> CliResult<()> {
        self.m.clear_state(&self.ledger.get(h).id).await?;
        self.ledger.expect_event("StateChanged");
        let left = self.m.get_state(&self.ledger.get(h).id).await?;
        check(left.is_none(), || {
            "state still there after clear_state".into()
        })
    }

    /// Runs `cleanup_expired`; checks it removed at least the demo's expired sessions (exactly
    /// those on a fresh database). Returns how many it removed in all.
    pub(super) async fn cleanup(&mut self) -> CliResult<(u64, u64)> {
        let now = self.clock.now_ms();
        let ours = self.ledger.expired_stored(now);
        let removed = self.m.cleanup_expired().await?;
        self.ledger.expect_event("CleanupCompleted");
        let fresh = self.facts.existing_sessions == 0;
        let ours_n = ours.len() as u64;
        check(removed == ours_n || (!fresh && removed > ours_n), || {
            format!("cleanup_expired removed {removed}, the demo expected {ours_n}")
        })?;
        for h in ours {
            self.ledger.get_mut(h).gone = true;
            let id = self.ledger.get(h).id;
            let after = self.m.get(&id).await.map(|_| ());
            self.expect_error(after, ErrorKind::NotFound, "a cleaned-up session")?;
        }
        Ok((removed, ours_n))
    }
}

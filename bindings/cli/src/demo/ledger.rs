//! The demo's own account of what it did: every session it made, what happened to each, and the
//! events it caused. At the end the engine's figures are checked against it.
//!
//! The ledger predicts with the rules the demo configured (idle and absolute expiry, the touch
//! interval). It is a test oracle, not a second engine: nothing it computes is ever stored.

use std::collections::BTreeMap;

use sessionkit::{ClientKind, Config, SessionId, Token};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// A session the demo created, as the demo believes it to be.
#[derive(Debug)]
pub struct Tracked {
    /// Index of the owner in the demo's user list.
    pub user: usize,
    /// The device name, for the narrative.
    pub device: &'static str,
    /// When in the day the device is routinely used (ms after midnight).
    pub slot_ms: i64,
    /// The client kind it was created with.
    pub kind: ClientKind,
    /// Its id.
    pub id: SessionId,
    /// Its token (kept in memory to play the client; never printed).
    pub token: Token,
    /// When it was created.
    pub created_at: i64,
    /// When its activity was last written.
    pub last_active_at: i64,
    /// Revoked (still stored until it expires and is cleaned up).
    pub revoked: bool,
    /// No longer stored (expired and removed, deleted, or rotated away).
    pub gone: bool,
}

/// A handle on a tracked session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle(usize);

/// Figures the engine's `stats()` must report for the demo's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expected {
    /// Sessions stored.
    pub total: u64,
    /// Stored, not revoked, not expired.
    pub active: u64,
    /// Created in the 24 hours before now.
    pub created_last_24h: u64,
    /// Created in the 7 days before now.
    pub created_last_7d: u64,
    /// Stored sessions per client kind (every kind present).
    pub by_client_kind: BTreeMap<String, u64>,
    /// Sum of `last_active_at - created_at` over stored sessions.
    pub duration_sum_ms: i128,
}

/// Everything the demo did.
#[derive(Debug)]
pub struct Ledger {
    sessions: Vec<Tracked>,
    idle_timeout_ms: i64,
    absolute_timeout_ms: i64,
    touch_interval_ms: i64,
    /// Events the demo's operations must have emitted, by name.
    pub events: BTreeMap<&'static str, u64>,
}

impl Ledger {
    /// An empty ledger predicting with `config`'s timeouts.
    pub fn new(config: &Config) -> Self {
        Ledger {
            sessions: Vec::new(),
            idle_timeout_ms: config.idle_timeout_ms,
            absolute_timeout_ms: config.absolute_timeout_ms,
            touch_interval_ms: config.touch_interval_ms,
            events: BTreeMap::new(),
        }
    }

    /// Records a new session; returns its handle.
    pub fn add(&mut self, tracked: Tracked) -> Handle {
        self.sessions.push(tracked);
        Handle(self.sessions.len() - 1)
    }

    /// The session behind a handle (handles come only from [`Ledger::add`]).
    pub fn get(&self, h: Handle) -> &Tracked {
        &self.sessions[h.0]
    }

    /// The session behind a handle, to update it.
    pub fn get_mut(&mut self, h: Handle) -> &mut Tracked {
        &mut self.sessions[h.0]
    }

    /// A handle on every tracked session, in creation order.
    pub fn handles(&self) -> impl Iterator<Item = Handle> {
        (0..self.sessions.len()).map(Handle)
    }

    /// Counts one expected event.
    pub fn expect_event(&mut self, name: &'static str) {
        *self.events.entry(name).or_default() += 1;
    }

    /// A validate at `now` writes activity at most once per touch interval.
    pub fn record_use(&mut self, h: Handle, now: i64) {
        let interval = self.touch_interval_ms;
        let t = self.get_mut(h);
        if now - t.last_active_at >= interval && now > t.last_active_at {
            t.last_active_at = now;
        }
    }

    /// When a tracked session expires: the earlier of idle and absolute expiry.
    pub fn expires_at(&self, t: &Tracked) -> i64 {
        (t.last_active_at + self.idle_timeout_ms).min(t.created_at + self.absolute_timeout_ms)
    }

    /// Stored sessions expired by `now` (what `cleanup_expired` must remove of the demo's).
    pub fn expired_stored(&self, now: i64) -> Vec<Handle> {
        self.handles()
            .filter(|&h| {
                let t = self.get(h);
                !t.gone && now >= self.expires_at(t)
            })
            .collect()
    }

    /// The stored sessions of user `user`.
    pub fn stored_of(&self, user: usize) -> impl Iterator<Item = &Tracked> {
        self.sessions
            .iter()
            .filter(move |t| !t.gone && t.user == user)
    }

    /// Whether a tracked session is live at `now`.
    pub fn is_live(&self, t: &Tracked, now: i64) -> bool {
        !t.gone && !t.revoked && now < self.expires_at(t)
    }

    /// The figures `stats()` must show for the demo's sessions at `now`.
    pub fn expected(&self, now: i64) -> Expected {
        let mut e = Expected {
            by_client_kind: ClientKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), 0))
                .collect(),
            ..Expected::default()
        };
        for t in self.sessions.iter().filter(|t| !t.gone) {
            e.total += 1;
            e.active += u64::from(self.is_live(t, now));
            e.created_last_24h += u64::from(t.created_at >= now - DAY_MS);
            e.created_last_7d += u64::from(t.created_at >= now - 7 * DAY_MS);
            *e.by_client_kind
                .entry(t.kind.as_str().to_owned())
                .or_default() += 1;
            e.duration_sum_ms += i128::from(t.last_active_at - t.created_at);
        }
        e
    }
}

//! The manual test clock (SPEC §1: every binding offers one, so expiry is testable without
//! sleeping).

use std::sync::Arc;

/// A clock that only moves when told to. Pass it to `open_memory`/`open_sqlite`, then
/// `advance` it; the manager sees the new time at once.
#[derive(Debug, uniffi::Object)]
pub struct ManualClock {
    inner: sessionkit::ManualClock,
}

#[uniffi::export]
impl ManualClock {
    /// A clock that reads `start_ms` (ms since the Unix epoch) until advanced.
    #[uniffi::constructor]
    pub fn new(start_ms: i64) -> Arc<Self> {
        Arc::new(ManualClock {
            inner: sessionkit::ManualClock::new(start_ms),
        })
    }

    /// Moves the clock forward (or back, with a negative value) by `ms`; returns the new time.
    pub fn advance(&self, ms: i64) -> i64 {
        self.inner.advance(ms)
    }

    /// Sets the clock to `now_ms`.
    pub fn set(&self, now_ms: i64) {
        self.inner.set(now_ms)
    }

    /// The clock's current time in ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        sessionkit::Clock::now_ms(&self.inner)
    }
}

impl ManualClock {
    /// The engine clock this wraps (clones share the same time).
    pub(crate) fn engine_clock(&self) -> Arc<dyn sessionkit::Clock> {
        Arc::new(self.inner.clone())
    }
}

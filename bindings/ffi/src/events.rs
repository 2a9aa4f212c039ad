//! Events (SPEC §4) delivered to a foreign listener (a Kotlin/Swift interface, a Python object),
//! and the subscription handle that stops delivery when closed or released.

use std::sync::{Arc, Mutex};

use crate::SessionkitError;

/// Something that happened to a session, after it was stored. Names sessions by id only.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Event {
    /// A session was created.
    Created {
        /// The new session.
        session_id: String,
        /// Its owner.
        user_id: String,
    },
    /// A session was replaced by a new one with a new token (and id).
    Rotated {
        /// The id that no longer exists.
        old_session_id: String,
        /// The id that replaces it.
        session_id: String,
        /// The owner.
        user_id: String,
    },
    /// A session's metadata changed.
    MetadataUpdated {
        /// The session.
        session_id: String,
    },
    /// A session was revoked (by `revoke`, `revoke_user_sessions` or the evict policy).
    Revoked {
        /// The session.
        session_id: String,
    },
    /// A session was deleted by `delete`.
    Deleted {
        /// The session.
        session_id: String,
    },
    /// A session was found expired and removed.
    Expired {
        /// The session.
        session_id: String,
    },
    /// A request's IP address or User-Agent differed from the session's stored ones.
    ContextChanged {
        /// The session.
        session_id: String,
        /// The IP address differed.
        ip_changed: bool,
        /// The User-Agent differed.
        user_agent_changed: bool,
    },
    /// A session's state was written or cleared.
    StateChanged {
        /// The session.
        session_id: String,
        /// The new version (0 after `clear_state`).
        version: u64,
    },
    /// `cleanup_expired` finished.
    CleanupCompleted {
        /// How many expired sessions it removed.
        removed: u64,
    },
}

impl From<&sessionkit::Event> for Event {
    fn from(event: &sessionkit::Event) -> Self {
        use sessionkit::Event as E;
        match event {
            E::Created {
                session_id,
                user_id,
            } => Event::Created {
                session_id: session_id.to_string(),
                user_id: user_id.clone(),
            },
            E::Rotated {
                old_session_id,
                session_id,
                user_id,
            } => Event::Rotated {
                old_session_id: old_session_id.to_string(),
                session_id: session_id.to_string(),
                user_id: user_id.clone(),
            },
            E::MetadataUpdated { session_id } => Event::MetadataUpdated {
                session_id: session_id.to_string(),
            },
            E::Revoked { session_id } => Event::Revoked {
                session_id: session_id.to_string(),
            },
            E::Deleted { session_id } => Event::Deleted {
                session_id: session_id.to_string(),
            },
            E::Expired { session_id } => Event::Expired {
                session_id: session_id.to_string(),
            },
            E::StateChanged {
                session_id,
                version,
            } => Event::StateChanged {
                session_id: session_id.to_string(),
                version: *version,
            },
            E::ContextChanged {
                session_id,
                ip_changed,
                user_agent_changed,
            } => Event::ContextChanged {
                session_id: session_id.to_string(),
                ip_changed: *ip_changed,
                user_agent_changed: *user_agent_changed,
            },
            E::CleanupCompleted { removed } => Event::CleanupCompleted { removed: *removed },
        }
    }
}

/// Receives events. Implemented in the foreign language (a Kotlin or Swift class, a Python
/// object); called on the thread that performed the operation, after the change is stored.
/// It should return quickly. An exception thrown from it is logged and otherwise ignored: the
/// operation has already happened.
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    /// Called once per event.
    fn on_event(&self, event: Event) -> Result<(), SessionkitError>;
}

/// A live subscription: events flow to its listener until `unsubscribe` is called or the handle
/// is released (`close()` in Kotlin, `deinit` in Swift, garbage collection in Python).
#[derive(Debug, uniffi::Object)]
pub struct Subscription {
    inner: Mutex<Option<sessionkit::Subscription>>,
}

#[uniffi::export]
impl Subscription {
    /// Stops delivery now. Calling it again does nothing.
    pub fn unsubscribe(&self) {
        let taken = match self.inner.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(taken);
    }

    /// Whether events are still delivered.
    pub fn is_active(&self) -> bool {
        match self.inner.lock() {
            Ok(guard) => guard.is_some(),
            Err(poisoned) => poisoned.into_inner().is_some(),
        }
    }
}

impl Subscription {
    /// Subscribes `listener` to `manager`'s events.
    pub(crate) fn new(
        manager: &sessionkit::SessionManager,
        listener: Arc<dyn EventListener>,
    ) -> Self {
        let subscription = manager.subscribe(Arc::new(move |event: &sessionkit::Event| {
            if let Err(err) = listener.on_event(Event::from(event)) {
                tracing::warn!(event = event.name(), %err, "event listener failed");
            }
        }));
        Subscription {
            inner: Mutex::new(Some(subscription)),
        }
    }
}

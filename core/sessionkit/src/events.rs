//! Events (docs/SPEC.md §4): what happened to which session, delivered to subscribed listeners.
//! Events name sessions by id only; no event carries a token.

use std::sync::{Arc, Mutex, Weak};

use serde::{Deserialize, Serialize};

use crate::send::{SendOutsideWasm, SyncOutsideWasm};
use crate::SessionId;

/// Something that happened, after it was stored. Serialized with its variant as `type`; it reads
/// back from the same JSON (an event relayed between processes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A session was created.
    Created {
        /// The new session.
        session_id: SessionId,
        /// Its owner.
        user_id: String,
    },
    /// A session was replaced by a new one with a new token (and id).
    Rotated {
        /// The id that no longer exists.
        old_session_id: SessionId,
        /// The id that replaces it.
        session_id: SessionId,
        /// The owner.
        user_id: String,
    },
    /// A session's metadata changed.
    MetadataUpdated {
        /// The session.
        session_id: SessionId,
    },
    /// A session was revoked (by `revoke`, `revoke_user_sessions`, `revoke_all_sessions` or the
    /// evict policy).
    Revoked {
        /// The session.
        session_id: SessionId,
    },
    /// A session was deleted by `delete` or `delete_user_sessions`.
    Deleted {
        /// The session.
        session_id: SessionId,
    },
    /// A session was found expired and removed.
    Expired {
        /// The session.
        session_id: SessionId,
    },
    /// A session's state was written or cleared.
    StateChanged {
        /// The session.
        session_id: SessionId,
        /// The new version (0 after `clear_state`).
        version: u64,
    },
    /// A request's IP address or User-Agent differed from the session's stored ones
    /// (`validate_in_context`; a signal, or a refusal under the strict policy).
    ContextChanged {
        /// The session.
        session_id: SessionId,
        /// The IP address differed.
        ip_changed: bool,
        /// The User-Agent differed.
        user_agent_changed: bool,
    },
    /// `cleanup_expired` finished.
    CleanupCompleted {
        /// How many expired sessions it removed.
        removed: u64,
    },
}

impl Event {
    /// The event's name, e.g. `"StateChanged"`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Created { .. } => "Created",
            Event::Rotated { .. } => "Rotated",
            Event::MetadataUpdated { .. } => "MetadataUpdated",
            Event::Revoked { .. } => "Revoked",
            Event::Deleted { .. } => "Deleted",
            Event::Expired { .. } => "Expired",
            Event::StateChanged { .. } => "StateChanged",
            Event::ContextChanged { .. } => "ContextChanged",
            Event::CleanupCompleted { .. } => "CleanupCompleted",
        }
    }
}

/// A subscriber's callback. It runs on the caller's thread after the change is stored; it should
/// return quickly and must not panic.
pub type EventListener = Arc<dyn ListenerFn>;

/// A callable that can listen: `Fn(&Event)`, `Send + Sync` on native targets.
pub trait ListenerFn: Fn(&Event) + SendOutsideWasm + SyncOutsideWasm {}
impl<F: Fn(&Event) + SendOutsideWasm + SyncOutsideWasm + ?Sized> ListenerFn for F {}

type Listeners = Mutex<Vec<(u64, EventListener)>>;

/// The listeners of one manager.
#[derive(Default)]
pub(crate) struct EventBus {
    listeners: Arc<Listeners>,
    next_id: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.listeners.lock().map(|l| l.len()).unwrap_or(0);
        f.debug_struct("EventBus")
            .field("listeners", &count)
            .finish()
    }
}

impl EventBus {
    pub(crate) fn subscribe(&self, listener: EventListener) -> Subscription {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.push((id, listener));
        }
        Subscription {
            listeners: Arc::downgrade(&self.listeners),
            id,
        }
    }

    /// Calls every listener with `event`. Listeners are called outside the lock, so one may
    /// subscribe or unsubscribe from inside its callback.
    pub(crate) fn emit(&self, event: Event) {
        let snapshot: Vec<EventListener> = match self.listeners.lock() {
            Ok(listeners) if !listeners.is_empty() => {
                listeners.iter().map(|(_, l)| Arc::clone(l)).collect()
            }
            _ => return,
        };
        tracing::debug!(event = event.name(), "sessionkit event");
        for listener in snapshot {
            listener(&event);
        }
    }
}

/// A live subscription. Dropping it (or calling [`Subscription::unsubscribe`]) removes the
/// listener.
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    listeners: Weak<Listeners>,
    id: u64,
}

impl Subscription {
    /// Removes the listener now (the same as dropping the subscription).
    pub fn unsubscribe(self) {}
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(listeners) = self.listeners.upgrade() {
            if let Ok(mut listeners) = listeners.lock() {
                listeners.retain(|(id, _)| *id != self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_subscription_stops_delivery() {
        let bus = EventBus::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let sub = bus.subscribe(Arc::new(move |e: &Event| {
            sink.lock().unwrap().push(e.name())
        }));
        bus.emit(Event::CleanupCompleted { removed: 1 });
        drop(sub);
        bus.emit(Event::CleanupCompleted { removed: 2 });
        assert_eq!(*seen.lock().unwrap(), vec!["CleanupCompleted"]);
    }
}

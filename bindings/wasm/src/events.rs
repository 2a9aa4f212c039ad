//! Events (SPEC §4) delivered to JS callbacks. A subscription lives until `unsubscribe(id)` is
//! called (or the manager is freed): it is kept here, not in a JS handle, so garbage collection
//! of an ignored handle never silently stops delivery. wasm32 only: JS functions are not `Send`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use sessionkit::{Event, SessionManager, Subscription};
use wasm_bindgen::JsValue;

use crate::records::{to_json_text, JsEvent};

/// The live subscriptions of one manager, by id.
#[derive(Default)]
pub(crate) struct Subscriptions {
    live: RefCell<HashMap<u32, Subscription>>,
    next_id: Cell<u32>,
}

impl Subscriptions {
    /// Calls `callback` with every event of `manager` (`{type, sessionId, …}`) from now on;
    /// returns an id for [`Subscriptions::remove`]. Exceptions thrown by the callback are not
    /// the engine's: they are ignored here (the npm package reports them on the console).
    pub(crate) fn add(&self, manager: &SessionManager, callback: js_sys::Function) -> u32 {
        // The engine's listener type is an `Arc` (shared across threads natively); on wasm32 it
        // has no `Send` bound and is only ever used on this one thread.
        #[allow(clippy::arc_with_non_send_sync)]
        let listener = Arc::new(move |event: &Event| {
            let value = to_json_text(&JsEvent::from(event))
                .ok()
                .and_then(|text| js_sys::JSON::parse(&text).ok());
            if let Some(value) = value {
                let _ = callback.call1(&JsValue::UNDEFINED, &value);
            }
        });
        let subscription = manager.subscribe(listener);
        let id = self.next_id.get().wrapping_add(1);
        self.next_id.set(id);
        self.live.borrow_mut().insert(id, subscription);
        id
    }

    /// Stops the subscription `id` (no effect if it was already stopped).
    pub(crate) fn remove(&self, id: u32) {
        // Take it out first, so dropping it (which locks the engine's listener list) happens
        // outside the borrow.
        let removed = self.live.borrow_mut().remove(&id);
        drop(removed);
    }
}

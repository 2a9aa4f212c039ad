//! Awaiting IndexedDB requests: adapters from a request's `success`/`error` events to Rust
//! futures, and a cursor that steps through a range one `continue()` at a time.
//!
//! Handlers are installed when the request is wrapped (right after it is issued, before any
//! event can be dispatched) and removed when the wrapper is dropped, so a late event never calls
//! into freed Rust closures. An `error` event is marked handled (`preventDefault`): whether the
//! transaction must be aborted is the operation's decision (see [`crate::transaction`]).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbCursor, IdbCursorWithValue, IdbRequest};

use crate::error::DomError;

/// Where an event handler leaves its outcome for the future that waits on it.
pub(crate) struct Slot<T> {
    outcome: Option<T>,
    waker: Option<Waker>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            outcome: None,
            waker: None,
        }
    }
}

/// A [`Slot`] shared between a handler and a future.
pub(crate) type SharedSlot<T> = Rc<RefCell<Slot<T>>>;

impl<T> Slot<T> {
    /// Stores `outcome` and wakes the waiting future (after releasing the borrow).
    pub(crate) fn fill(slot: &RefCell<Slot<T>>, outcome: T) {
        let waker = {
            let mut slot = slot.borrow_mut();
            slot.outcome = Some(outcome);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Takes the outcome if it arrived, otherwise registers the task to be woken.
    pub(crate) fn poll_take(slot: &RefCell<Slot<T>>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = slot.borrow_mut();
        match slot.outcome.take() {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// An event handler closure as the DOM setters take it.
pub(crate) type Handler = Closure<dyn FnMut(Event)>;

/// A pending IndexedDB request. Each `success` or `error` event it fires can be awaited once
/// with [`Request::wait`] (a cursor's request fires `success` once per step).
pub(crate) struct Request {
    request: IdbRequest,
    slot: SharedSlot<Result<JsValue, DomError>>,
    _on_success: Handler,
    _on_error: Handler,
}

impl Request {
    /// Wraps a request just issued.
    pub(crate) fn new(request: IdbRequest) -> Self {
        let slot: SharedSlot<Result<JsValue, DomError>> = Rc::default();
        let on_success = {
            let slot = Rc::clone(&slot);
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                let outcome = match target_request(&event) {
                    Some(request) => request.result().map_err(|e| DomError::from_js(&e)),
                    None => Err(DomError::other("success event without its request")),
                };
                Slot::fill(&slot, outcome);
            })
        };
        let on_error = {
            let slot = Rc::clone(&slot);
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                // Handled: the operation decides whether the transaction aborts.
                event.prevent_default();
                let error = target_request(&event)
                    .and_then(|request| request.error().ok().flatten())
                    .map(|dom| DomError::from_js(&dom))
                    .unwrap_or_else(|| DomError::other("request failed without an error"));
                Slot::fill(&slot, Err(error));
            })
        };
        request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Request {
            request,
            slot,
            _on_success: on_success,
            _on_error: on_error,
        }
    }

    /// Waits for the request's next `success` (its `result`) or `error` event.
    pub(crate) fn wait(&self) -> Wait<'_> {
        Wait { request: self }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        self.request.set_onsuccess(None);
        self.request.set_onerror(None);
    }
}

/// The future of [`Request::wait`].
pub(crate) struct Wait<'a> {
    request: &'a Request,
}

impl Future for Wait<'_> {
    type Output = Result<JsValue, DomError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Slot::poll_take(&self.request.slot, cx)
    }
}

fn target_request(event: &Event) -> Option<IdbRequest> {
    event.target()?.dyn_into::<IdbRequest>().ok()
}

/// One record a cursor stands on.
pub(crate) struct CursorItem {
    /// The record's primary key (for index cursors too).
    pub(crate) primary_key: JsValue,
    /// The record (`undefined` for key cursors).
    pub(crate) value: JsValue,
}

/// Steps through the records of an `openCursor`/`openKeyCursor` request.
pub(crate) struct Cursor {
    request: Request,
    current: Option<IdbCursor>,
    finished: bool,
}

impl Cursor {
    /// Wraps the request returned by `openCursor`/`openKeyCursor`.
    pub(crate) fn new(request: IdbRequest) -> Self {
        Cursor {
            request: Request::new(request),
            current: None,
            finished: false,
        }
    }

    /// The next record, `None` past the end.
    pub(crate) async fn next(&mut self) -> Result<Option<CursorItem>, DomError> {
        if self.finished {
            return Ok(None);
        }
        if let Some(cursor) = self.current.take() {
            cursor.continue_().map_err(|e| DomError::from_js(&e))?;
        }
        let result = self.request.wait().await?;
        if result.is_null() || result.is_undefined() {
            self.finished = true;
            return Ok(None);
        }
        let cursor: IdbCursor = result
            .dyn_into()
            .map_err(|_| DomError::other("cursor request returned something else"))?;
        let primary_key = cursor.primary_key().map_err(|e| DomError::from_js(&e))?;
        let value = match cursor.dyn_ref::<IdbCursorWithValue>() {
            Some(with_value) => with_value.value().map_err(|e| DomError::from_js(&e))?,
            None => JsValue::UNDEFINED,
        };
        self.current = Some(cursor);
        Ok(Some(CursorItem { primary_key, value }))
    }
}

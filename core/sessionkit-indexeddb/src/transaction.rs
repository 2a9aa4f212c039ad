//! One IndexedDB transaction per store operation, with the rules that keep it atomic.
//!
//! - Created with the object stores it touches, read-only unless the operation writes.
//! - Only its own requests are awaited while it is open (the request helpers here are the
//!   only awaits an operation body makes); anything else would let IndexedDB auto-commit it.
//! - [`Tx::finish`] ends it: on `Ok`, a read-write transaction is awaited until `complete`
//!   (so a reported write is committed, and a late failure such as a quota error is an error);
//!   on `Err`, it is aborted so nothing of a half-done operation persists.
//! - Dropped without `finish` (the operation's future was dropped mid-way), it aborts.

use std::cell::Cell;
use std::rc::Rc;

use sessionkit::Result;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Event, IdbCursorDirection, IdbDatabase, IdbIndex, IdbObjectStore, IdbRequest, IdbTransaction,
    IdbTransactionMode,
};

use crate::error::{thrown, DomError};
use crate::request::{Cursor, Handler, Request, SharedSlot, Slot};

/// An open transaction and the handlers that report how it ended.
pub(crate) struct Tx {
    tx: IdbTransaction,
    writes: bool,
    ended: SharedSlot<std::result::Result<(), DomError>>,
    settled: Cell<bool>,
    /// The `complete` and `abort` handlers; only a read-write transaction needs them (a read
    /// is done once its requests answered), so a read-only one installs none.
    _handlers: Option<(Handler, Handler)>,
}

impl Tx {
    /// Begins a read-only transaction over `stores`.
    pub(crate) fn read(db: &IdbDatabase, stores: &[&str]) -> Result<Tx> {
        Tx::begin(db, stores, IdbTransactionMode::Readonly)
    }

    /// Begins a read-write transaction over `stores`.
    pub(crate) fn write(db: &IdbDatabase, stores: &[&str]) -> Result<Tx> {
        Tx::begin(db, stores, IdbTransactionMode::Readwrite)
    }

    fn begin(db: &IdbDatabase, stores: &[&str], mode: IdbTransactionMode) -> Result<Tx> {
        let tx = match stores {
            // One store by name: no scope array to build and hand over.
            [store] => db.transaction_with_str_and_mode(store, mode),
            _ => {
                let names = js_sys::Array::new();
                for store in stores {
                    names.push(&JsValue::from_str(store));
                }
                db.transaction_with_str_sequence_and_mode(&names, mode)
            }
        }
        .map_err(thrown("begin transaction"))?;
        let ended: SharedSlot<std::result::Result<(), DomError>> = Rc::default();
        let writes = mode == IdbTransactionMode::Readwrite;
        if !writes {
            return Ok(Tx {
                tx,
                writes,
                ended,
                settled: Cell::new(false),
                _handlers: None,
            });
        }
        let on_complete = {
            let ended = Rc::clone(&ended);
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| Slot::fill(&ended, Ok(())))
        };
        let on_abort = {
            let ended = Rc::clone(&ended);
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                let cause = event
                    .target()
                    .and_then(|t| t.dyn_into::<IdbTransaction>().ok())
                    .and_then(|tx| tx.error())
                    .map(|dom| DomError::from_js(&dom))
                    .unwrap_or_else(|| DomError::other("transaction aborted"));
                Slot::fill(&ended, Err(cause));
            })
        };
        tx.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
        tx.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        Ok(Tx {
            tx,
            writes,
            ended,
            settled: Cell::new(false),
            _handlers: Some((on_complete, on_abort)),
        })
    }

    /// An object store in this transaction's scope.
    pub(crate) fn store(&self, name: &str) -> Result<IdbObjectStore> {
        self.tx
            .object_store(name)
            .map_err(thrown("open object store"))
    }

    /// Ends the transaction with the operation's result: commits (awaiting `complete` when it
    /// wrote) on `Ok`, aborts on `Err`.
    pub(crate) async fn finish<T>(self, result: Result<T>) -> Result<T> {
        self.settled.set(true);
        match result {
            Ok(value) => {
                if self.writes {
                    let ended = std::future::poll_fn(|cx| Slot::poll_take(&self.ended, cx)).await;
                    ended.map_err(|e| e.storage("commit"))?;
                }
                Ok(value)
            }
            Err(err) => {
                self.abort();
                Err(err)
            }
        }
    }

    fn abort(&self) {
        // Throws InvalidStateError when already committing or finished; nothing to undo then.
        let _ = self.tx.abort();
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if !self.settled.get() {
            self.abort();
        }
        if self._handlers.is_some() {
            self.tx.set_oncomplete(None);
            self.tx.set_onabort(None);
        }
    }
}

/// Awaits a request issued in the current transaction.
async fn run(
    issued: std::result::Result<IdbRequest, JsValue>,
    doing: &'static str,
) -> Result<JsValue> {
    let request = Request::new(issued.map_err(thrown(doing))?);
    request.wait().await.map_err(|e| e.storage(doing))
}

/// `get(key)`: the record, `None` when absent.
pub(crate) async fn get(store: &IdbObjectStore, key: &JsValue) -> Result<Option<JsValue>> {
    let value = run(store.get(key), "get").await?;
    Ok((!value.is_undefined()).then_some(value))
}

/// A `get(key)` issued now and awaited later with [`PendingGet::value`], so that several
/// requests of one transaction are in flight together (IndexedDB runs them in issue order).
pub(crate) struct PendingGet(Request);

/// Issues `get(key)` without waiting for it.
pub(crate) fn issue_get(store: &IdbObjectStore, key: &JsValue) -> Result<PendingGet> {
    Ok(PendingGet(Request::new(
        store.get(key).map_err(thrown("get"))?,
    )))
}

impl PendingGet {
    /// The record, `None` when absent.
    pub(crate) async fn value(self) -> Result<Option<JsValue>> {
        let value = self.0.wait().await.map_err(|e| e.storage("get"))?;
        Ok((!value.is_undefined()).then_some(value))
    }
}

/// A `count(key)` issued now and awaited later with [`PendingCount::exists`].
pub(crate) struct PendingCount(Request);

/// Issues `count(key)` without waiting for it.
pub(crate) fn issue_count(store: &IdbObjectStore, key: &JsValue) -> Result<PendingCount> {
    Ok(PendingCount(Request::new(
        store.count_with_key(key).map_err(thrown("count"))?,
    )))
}

impl PendingCount {
    /// Whether a record has the key.
    pub(crate) async fn exists(self) -> Result<bool> {
        let count = self.0.wait().await.map_err(|e| e.storage("count"))?;
        Ok(count.as_f64().unwrap_or(0.0) > 0.0)
    }
}

/// `count(key)` on a store: whether a record has this key.
pub(crate) async fn exists(store: &IdbObjectStore, key: &JsValue) -> Result<bool> {
    let count = run(store.count_with_key(key), "count").await?;
    Ok(count.as_f64().unwrap_or(0.0) > 0.0)
}

/// `count()` of a whole store, or of an index over a key range.
pub(crate) async fn count(source: &CountSource<'_>) -> Result<u64> {
    let issued = match source {
        CountSource::Store(store) => store.count(),
        CountSource::IndexRange(index, range) => index.count_with_key(range),
    };
    let count = run(issued, "count").await?;
    count
        .as_f64()
        .map(|n| n as u64)
        .ok_or_else(|| sessionkit::Error::storage("IndexedDB count: not a number"))
}

/// What [`count`] counts.
pub(crate) enum CountSource<'a> {
    /// Every record of a store.
    Store(&'a IdbObjectStore),
    /// The records of an index within a key range.
    IndexRange(&'a IdbIndex, &'a JsValue),
}

/// `add(value[, key])`: inserts, never replaces. False when the key is taken
/// (`ConstraintError`); the failed request is handled, so the transaction goes on.
pub(crate) async fn add(
    store: &IdbObjectStore,
    value: &JsValue,
    key: Option<&JsValue>,
) -> Result<bool> {
    let issued = match key {
        Some(key) => store.add_with_key(value, key),
        None => store.add(value),
    };
    let request = Request::new(issued.map_err(thrown("add"))?);
    match request.wait().await {
        Ok(_) => Ok(true),
        Err(e) if e.is("ConstraintError") => Ok(false),
        Err(e) => Err(e.storage("add")),
    }
}

/// `put(value[, key])`: inserts or replaces.
pub(crate) async fn put(
    store: &IdbObjectStore,
    value: &JsValue,
    key: Option<&JsValue>,
) -> Result<()> {
    let issued = match key {
        Some(key) => store.put_with_key(value, key),
        None => store.put(value),
    };
    run(issued, "put").await.map(drop)
}

/// `delete(key)`.
pub(crate) async fn delete(store: &IdbObjectStore, key: &JsValue) -> Result<()> {
    run(store.delete(key), "delete").await.map(drop)
}

/// A value cursor over an index, within `range`, in `direction`.
pub(crate) fn index_cursor(
    index: &IdbIndex,
    range: &JsValue,
    direction: IdbCursorDirection,
) -> Result<Cursor> {
    index
        .open_cursor_with_range_and_direction(range, direction)
        .map(Cursor::new)
        .map_err(thrown("open cursor"))
}

/// A key cursor (primary keys only) over an index, within `range`, in `direction`.
pub(crate) fn index_key_cursor(
    index: &IdbIndex,
    range: &JsValue,
    direction: IdbCursorDirection,
) -> Result<Cursor> {
    index
        .open_key_cursor_with_range_and_direction(range, direction)
        .map(Cursor::new)
        .map_err(thrown("open cursor"))
}

/// A value cursor over a store in key order, within `range` (everything when `None`).
pub(crate) fn store_cursor(store: &IdbObjectStore, range: Option<&JsValue>) -> Result<Cursor> {
    match range {
        Some(range) => store.open_cursor_with_range(range),
        None => store.open_cursor(),
    }
    .map(Cursor::new)
    .map_err(thrown("open cursor"))
}

/// Steps a cursor, mapping DOM errors.
pub(crate) async fn step(cursor: &mut Cursor) -> Result<Option<crate::request::CursorItem>> {
    cursor.next().await.map_err(|e| e.storage("cursor"))
}

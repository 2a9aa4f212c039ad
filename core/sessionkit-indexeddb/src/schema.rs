//! The database schema, as an ordered list of versions. Opening a database older than
//! [`SCHEMA_VERSION`] runs, inside the `versionchange` transaction of `onupgradeneeded`, the
//! step of every version after the one found, oldest first; a failing step aborts the upgrade
//! and leaves the database as it was. A database newer than the code is refused (see
//! [`crate::IndexedDbStore::open`]).
//!
//! To change the schema: add a variant, its step, and bump [`SchemaVersion::LATEST`]. A step
//! never edits an earlier one; released steps are history.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Event, IdbCursorWithValue, IdbDatabase, IdbIndexParameters, IdbObjectStoreParameters,
    IdbRequest, IdbTransaction,
};

/// Object store of sessions, key path [`KEY_ID`].
pub(crate) const SESSIONS: &str = "sessions";
/// Object store of encoded client state, out-of-line keys (the session id).
pub(crate) const STATES: &str = "states";
/// Object store of sync client replicas (docs/SPEC.md §9), out-of-line keys (the client's name):
/// `{r: revision, b: record bytes}`.
pub(crate) const CLIENT_REPLICAS: &str = "client_replicas";
/// Index of `sessions` on `[user, last activity, id]`.
pub(crate) const USER_ACTIVITY: &str = "user_activity";
/// Index of `sessions` on expiry.
pub(crate) const EXPIRY: &str = "expiry";

/// Key of the session id in a session record (also the primary key path).
pub(crate) const KEY_ID: &str = "i";

/// The schema version this build creates and understands (the IndexedDB database version).
pub const SCHEMA_VERSION: u32 = SchemaVersion::LATEST.number();

/// Every schema version, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaVersion {
    /// Sessions with the user-activity and expiry indexes; states by session id.
    V1 = 1,
    /// Every session record carries its metadata revision `n` (0 for existing ones), which the
    /// metadata compare-and-swap compares instead of the metadata text.
    V2 = 2,
    /// The sync client's replicas get their own object store.
    V3 = 3,
}

impl SchemaVersion {
    /// The newest version.
    pub(crate) const LATEST: SchemaVersion = SchemaVersion::V3;
    /// All versions in upgrade order.
    const ALL: [SchemaVersion; 3] = [SchemaVersion::V1, SchemaVersion::V2, SchemaVersion::V3];

    /// The IndexedDB version number.
    pub(crate) const fn number(self) -> u32 {
        self as u32
    }

    /// Brings a database at the previous version to this one, inside the upgrade transaction
    /// `tx` (requests issued here complete before the upgrade commits; a failing one aborts it).
    fn apply(self, db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
        match self {
            SchemaVersion::V1 => {
                let params = IdbObjectStoreParameters::new();
                params.set_key_path(&JsValue::from_str(KEY_ID));
                let sessions =
                    db.create_object_store_with_optional_parameters(SESSIONS, &params)?;
                let by_user = js_sys::Array::of3(
                    &JsValue::from_str("u"),
                    &JsValue::from_str("a"),
                    &JsValue::from_str(KEY_ID),
                );
                let unique = IdbIndexParameters::new();
                unique.set_unique(false);
                sessions.create_index_with_str_sequence_and_optional_parameters(
                    USER_ACTIVITY,
                    &by_user,
                    &unique,
                )?;
                sessions.create_index_with_str_and_optional_parameters(EXPIRY, "e", &unique)?;
                db.create_object_store(STATES)?;
                Ok(())
            }
            SchemaVersion::V2 => add_metadata_revisions(tx),
            SchemaVersion::V3 => db.create_object_store(CLIENT_REPLICAS).map(drop),
        }
    }
}

/// Writes `n: 0` into every session record that has no `n`, walking the store with a cursor
/// inside the upgrade transaction. The cursor's handler must outlive this call (it runs once per
/// record, after the `onupgradeneeded` handler returned) and is dropped by nobody: it is leaked,
/// once per upgraded database.
fn add_metadata_revisions(tx: &IdbTransaction) -> Result<(), JsValue> {
    let sessions = tx.object_store(SESSIONS)?;
    let request = sessions.open_cursor()?;
    let upgrade = tx.clone();
    let on_success = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        let Some(request) = event.target().and_then(|t| t.dyn_into::<IdbRequest>().ok()) else {
            return;
        };
        let Ok(cursor) = request
            .result()
            .and_then(|c| c.dyn_into::<IdbCursorWithValue>())
        else {
            return; // null: past the last record
        };
        let step = || -> Result<(), JsValue> {
            let value = cursor.value()?;
            let revision = js_sys::Reflect::get(&value, &JsValue::from_str("n"))?;
            if revision.is_undefined() {
                js_sys::Reflect::set(&value, &JsValue::from_str("n"), &JsValue::from_f64(0.0))?;
                cursor.update(&value)?;
            }
            cursor.continue_()
        };
        if step().is_err() {
            // Nothing of a half-done upgrade may stay: the open then fails.
            let _ = upgrade.abort();
        }
    });
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    on_success.forget();
    Ok(())
}

/// Runs, oldest first, the step of every version newer than `old_version`, in the upgrade
/// transaction `tx`.
pub(crate) fn upgrade(
    db: &IdbDatabase,
    tx: &IdbTransaction,
    old_version: u32,
) -> Result<(), JsValue> {
    SchemaVersion::ALL
        .into_iter()
        .filter(|v| v.number() > old_version)
        .try_for_each(|v| v.apply(db, tx))
}

//! The database schema, as an ordered list of versions. Opening a database older than
//! [`SCHEMA_VERSION`] runs, inside the `versionchange` transaction of `onupgradeneeded`, the
//! step of every version after the one found, oldest first; a failing step aborts the upgrade
//! and leaves the database as it was. A database newer than the code is refused (see
//! [`crate::IndexedDbStore::open`]).
//!
//! To change the schema: add a variant, its step, and bump [`SchemaVersion::LATEST`]. A step
//! never edits an earlier one; released steps are history.

use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbIndexParameters, IdbObjectStoreParameters};

/// Object store of sessions, key path [`KEY_ID`].
pub(crate) const SESSIONS: &str = "sessions";
/// Object store of encoded client state, out-of-line keys (the session id).
pub(crate) const STATES: &str = "states";
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
}

impl SchemaVersion {
    /// The newest version.
    pub(crate) const LATEST: SchemaVersion = SchemaVersion::V1;
    /// All versions in upgrade order.
    const ALL: [SchemaVersion; 1] = [SchemaVersion::V1];

    /// The IndexedDB version number.
    pub(crate) const fn number(self) -> u32 {
        self as u32
    }

    /// Brings a database at the previous version to this one.
    ///
    /// Steps that change stores created by an earlier version will need the upgrade
    /// transaction (`IDBOpenDBRequest.transaction`); pass it in when the first such step lands.
    fn apply(self, db: &IdbDatabase) -> Result<(), JsValue> {
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
        }
    }
}

/// Runs, oldest first, the step of every version newer than `old_version`.
pub(crate) fn upgrade(db: &IdbDatabase, old_version: u32) -> Result<(), JsValue> {
    SchemaVersion::ALL
        .into_iter()
        .filter(|v| v.number() > old_version)
        .try_for_each(|v| v.apply(db))
}

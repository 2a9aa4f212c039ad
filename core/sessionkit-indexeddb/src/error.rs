//! DOM errors and their mapping to [`sessionkit::Error`].
//!
//! IndexedDB reports failures as `DOMException`s, either thrown by a method call or delivered
//! by a request's `error` event; both are reduced to a [`DomError`] (name and message), and
//! become `Error::Storage` unless the caller gives a name a meaning (`ConstraintError` on `add`
//! means the key is taken, `VersionError` on open means the database is newer than this code).

use std::fmt;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

/// A failed IndexedDB call: the exception's `name` (e.g. `ConstraintError`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DomError {
    /// The DOMException name, or `Error` for other JavaScript values.
    pub(crate) name: String,
    /// The human-readable message.
    pub(crate) message: String,
}

impl DomError {
    /// Builds one from anything JavaScript threw or reported.
    pub(crate) fn from_js(value: &JsValue) -> Self {
        if let Some(dom) = value.dyn_ref::<DomException>() {
            return DomError {
                name: dom.name(),
                message: dom.message(),
            };
        }
        if let Some(error) = value.dyn_ref::<js_sys::Error>() {
            return DomError {
                name: String::from(error.name()),
                message: String::from(error.message()),
            };
        }
        DomError {
            name: "Error".to_owned(),
            message: value.as_string().unwrap_or_else(|| format!("{value:?}")),
        }
    }

    /// An error that has no exception behind it (an event without `error`, a wrong type).
    pub(crate) fn other(message: impl Into<String>) -> Self {
        DomError {
            name: "Error".to_owned(),
            message: message.into(),
        }
    }

    /// Whether this is the DOMException named `name`.
    pub(crate) fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// `Error::Storage` naming what was being done.
    pub(crate) fn storage(&self, doing: &str) -> sessionkit::Error {
        sessionkit::Error::storage(format!("IndexedDB {doing}: {self}"))
    }
}

impl fmt::Display for DomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

/// Maps a thrown JavaScript value to `Error::Storage`, naming what was being done.
pub(crate) fn thrown(doing: &'static str) -> impl Fn(JsValue) -> sessionkit::Error {
    move |value| DomError::from_js(&value).storage(doing)
}

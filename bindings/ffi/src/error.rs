//! The one error type of the bindings: SPEC §5's variants with their fields. Kotlin sees it as
//! `SessionkitException`, Swift and Python as `SessionkitError`; `kind()` names the variant.

use std::fmt;

/// Everything that can go wrong, one variant per SPEC §5 kind, with that kind's fields.
/// No variant ever carries a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
#[uniffi::export(Display)]
pub enum SessionkitError {
    /// The token is malformed, names no session, or its secret does not match.
    InvalidToken,
    /// No session with that id.
    NotFound,
    /// The session passed its idle or absolute expiry.
    Expired,
    /// The session was revoked.
    Revoked,
    /// A compare-and-swap on the state version failed; nothing was written.
    Conflict {
        /// The version stored now (0 when there is no state).
        current_version: u64,
    },
    /// A configured limit would be exceeded; nothing was written.
    LimitExceeded {
        /// Which limit, e.g. `state_max_bytes` or `max_sessions_per_user`.
        what: String,
    },
    /// An argument or configuration value is not acceptable; nothing was written.
    InvalidInput {
        /// The argument or configuration field at fault.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// Stored data failed verification (checksum, format); it was not returned.
    Corrupt {
        /// What was found corrupt.
        what: String,
    },
    /// The database was written by a newer (or unknown) schema version and was left untouched.
    IncompatibleSchema {
        /// The schema version found in the database.
        found: i64,
        /// The newest schema version this build understands.
        supported: i64,
    },
    /// The storage layer failed (I/O, locking, a driver error).
    Storage {
        /// The storage layer's message.
        message: String,
    },
}

#[uniffi::export]
impl SessionkitError {
    /// The SPEC §5 name of this error's variant, e.g. `"Conflict"`.
    pub fn kind(&self) -> String {
        sessionkit::Error::from(self.clone())
            .kind()
            .as_str()
            .to_owned()
    }

    /// A human-readable description, the engine's wording (never includes a token or secret).
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl std::error::Error for SessionkitError {}

/// The engine's wording, so every face says the same thing (exported: `toString()` in Kotlin,
/// `description` in Swift, `str()` in Python). Never includes a token or secret.
impl fmt::Display for SessionkitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        sessionkit::Error::from(self.clone()).fmt(f)
    }
}

impl From<sessionkit::Error> for SessionkitError {
    fn from(err: sessionkit::Error) -> Self {
        use sessionkit::Error as E;
        match err {
            E::InvalidToken => SessionkitError::InvalidToken,
            E::NotFound => SessionkitError::NotFound,
            E::Expired => SessionkitError::Expired,
            E::Revoked => SessionkitError::Revoked,
            E::Conflict { current_version } => SessionkitError::Conflict { current_version },
            E::LimitExceeded { what } => SessionkitError::LimitExceeded { what },
            E::InvalidInput { field, reason } => SessionkitError::InvalidInput { field, reason },
            E::Corrupt { what } => SessionkitError::Corrupt { what },
            E::IncompatibleSchema { found, supported } => {
                SessionkitError::IncompatibleSchema { found, supported }
            }
            E::Storage { message } => SessionkitError::Storage { message },
        }
    }
}

impl From<SessionkitError> for sessionkit::Error {
    fn from(err: SessionkitError) -> Self {
        use sessionkit::Error as E;
        match err {
            SessionkitError::InvalidToken => E::InvalidToken,
            SessionkitError::NotFound => E::NotFound,
            SessionkitError::Expired => E::Expired,
            SessionkitError::Revoked => E::Revoked,
            SessionkitError::Conflict { current_version } => E::Conflict { current_version },
            SessionkitError::LimitExceeded { what } => E::LimitExceeded { what },
            SessionkitError::InvalidInput { field, reason } => E::InvalidInput { field, reason },
            SessionkitError::Corrupt { what } => E::Corrupt { what },
            SessionkitError::IncompatibleSchema { found, supported } => {
                E::IncompatibleSchema { found, supported }
            }
            SessionkitError::Storage { message } => E::Storage { message },
        }
    }
}

/// A foreign event listener that threw: reported to Rust as an error (which the manager logs
/// and ignores) instead of a panic.
impl From<uniffi::UnexpectedUniFFICallbackError> for SessionkitError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SessionkitError::Storage {
            message: format!("event listener failed: {}", err.reason),
        }
    }
}

/// Result of every fallible binding call.
pub(crate) type Result<T, E = SessionkitError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_with_its_fields() {
        let errors = vec![
            sessionkit::Error::InvalidToken,
            sessionkit::Error::NotFound,
            sessionkit::Error::Expired,
            sessionkit::Error::Revoked,
            sessionkit::Error::Conflict { current_version: 3 },
            sessionkit::Error::limit_exceeded("state_max_bytes"),
            sessionkit::Error::invalid_input("id", "bad"),
            sessionkit::Error::corrupt("checksum"),
            sessionkit::Error::IncompatibleSchema {
                found: 9,
                supported: 1,
            },
            sessionkit::Error::storage("disk full"),
        ];
        assert_eq!(errors.len(), sessionkit::ErrorKind::ALL.len());
        for err in errors {
            let ffi = SessionkitError::from(err.clone());
            assert_eq!(ffi.kind(), err.kind().as_str());
            assert_eq!(ffi.to_string(), err.to_string());
            assert_eq!(sessionkit::Error::from(ffi), err);
        }
    }
}

//! The one error set of sessionkit (docs/SPEC.md §5), shared by every store and every binding.

use std::fmt;

/// Result alias used throughout sessionkit.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, typed. Bindings map each variant to an exception whose `kind`
/// names the variant.
///
/// No variant ever carries a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The token is malformed, names no session, or its secret does not match.
    /// Deliberately indistinguishable, so the answer reveals nothing about which ids exist.
    #[error("invalid token")]
    InvalidToken,
    /// No session with that id.
    #[error("session not found")]
    NotFound,
    /// The session passed its idle or absolute expiry.
    #[error("session expired")]
    Expired,
    /// The session was revoked.
    #[error("session revoked")]
    Revoked,
    /// A compare-and-swap on the state version failed; nothing was written.
    #[error("version conflict: current version is {current_version}")]
    Conflict {
        /// The version stored now (0 when there is no state).
        current_version: u64,
    },
    /// A configured limit would be exceeded; nothing was written.
    #[error("limit exceeded: {what}")]
    LimitExceeded {
        /// Which limit, e.g. `state_max_bytes` or `max_sessions_per_user`.
        what: String,
    },
    /// An argument or configuration value is not acceptable; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument or configuration field at fault.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// Stored data failed verification (checksum, format); it was not returned.
    #[error("corrupt data: {what}")]
    Corrupt {
        /// What was found corrupt.
        what: String,
    },
    /// The database was written by a newer (or unknown) schema version and was left untouched.
    #[error("incompatible schema: found version {found}, this build supports up to {supported}")]
    IncompatibleSchema {
        /// The schema version found in the database.
        found: i64,
        /// The newest schema version this build understands.
        supported: i64,
    },
    /// The storage layer failed (I/O, locking, a driver error).
    #[error("storage error: {message}")]
    Storage {
        /// The storage layer's message.
        message: String,
    },
}

/// The name of an [`Error`] variant, as bindings expose it in `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// See [`Error::InvalidToken`].
    InvalidToken,
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::Expired`].
    Expired,
    /// See [`Error::Revoked`].
    Revoked,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::LimitExceeded`].
    LimitExceeded,
    /// See [`Error::InvalidInput`].
    InvalidInput,
    /// See [`Error::Corrupt`].
    Corrupt,
    /// See [`Error::IncompatibleSchema`].
    IncompatibleSchema,
    /// See [`Error::Storage`].
    Storage,
}

impl ErrorKind {
    /// Every kind, in SPEC order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::InvalidToken,
        ErrorKind::NotFound,
        ErrorKind::Expired,
        ErrorKind::Revoked,
        ErrorKind::Conflict,
        ErrorKind::LimitExceeded,
        ErrorKind::InvalidInput,
        ErrorKind::Corrupt,
        ErrorKind::IncompatibleSchema,
        ErrorKind::Storage,
    ];

    /// The variant's name, e.g. `"InvalidToken"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidToken => "InvalidToken",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Expired => "Expired",
            ErrorKind::Revoked => "Revoked",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::LimitExceeded => "LimitExceeded",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::Corrupt => "Corrupt",
            ErrorKind::IncompatibleSchema => "IncompatibleSchema",
            ErrorKind::Storage => "Storage",
        }
    }

    /// Parses a variant name as produced by [`ErrorKind::as_str`].
    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The variant's name.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidToken => ErrorKind::InvalidToken,
            Error::NotFound => ErrorKind::NotFound,
            Error::Expired => ErrorKind::Expired,
            Error::Revoked => ErrorKind::Revoked,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::LimitExceeded { .. } => ErrorKind::LimitExceeded,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::IncompatibleSchema { .. } => ErrorKind::IncompatibleSchema,
            Error::Storage { .. } => ErrorKind::Storage,
        }
    }

    /// An [`Error::InvalidInput`] for `field`.
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::LimitExceeded`] naming `what`.
    pub fn limit_exceeded(what: impl Into<String>) -> Self {
        Error::LimitExceeded { what: what.into() }
    }

    /// An [`Error::Corrupt`] describing `what`.
    pub fn corrupt(what: impl Into<String>) -> Self {
        Error::Corrupt { what: what.into() }
    }

    /// An [`Error::Storage`] carrying the storage layer's message.
    pub fn storage(message: impl fmt::Display) -> Self {
        Error::Storage {
            message: message.to_string(),
        }
    }
}

//! Errors inside the store: SQLite's own, or a sessionkit error raised while decoding a row or
//! checking an argument. Everything leaves the crate as a [`sessionkit::Error`]: driver failures
//! become `Storage`, a file that is not a (sound) SQLite database becomes `Corrupt`.

use rusqlite::ErrorCode;
use sessionkit::Error;

/// The store's internal error: lets `?` work on both rusqlite and sessionkit results.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// SQLite or the driver failed.
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    /// A sessionkit error (a corrupt row, a refused argument, an incompatible schema).
    #[error(transparent)]
    Engine(#[from] Error),
}

/// Internal result alias.
pub(crate) type StoreResult<T> = std::result::Result<T, StoreError>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Engine(e) => e,
            StoreError::Sql(e) => from_sql(e),
        }
    }
}

/// Maps a rusqlite error to the public error set.
pub(crate) fn from_sql(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            Error::corrupt("the file is not a SQLite database (or is encrypted)")
        }
        Some(ErrorCode::DatabaseCorrupt) => Error::corrupt(format!("database disk image: {e}")),
        _ => Error::storage(e),
    }
}

/// A lock poisoned by a panic in another thread.
pub(crate) fn poisoned(what: &str) -> StoreError {
    StoreError::Engine(Error::storage(format!(
        "sqlite store {what} lock poisoned by a panic"
    )))
}

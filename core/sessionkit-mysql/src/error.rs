//! Errors inside the store: the driver's, or a sessionkit error raised while decoding a row or
//! checking an argument. Everything leaves the crate as a [`sessionkit::Error`]: driver and
//! server failures become `Storage`.

use sessionkit::Error;

/// The store's internal error: lets `?` work on driver and sessionkit results.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// MySQL, the driver or its pool failed.
    #[error("mysql: {0}")]
    Sql(#[from] mysql_async::Error),
    /// A sessionkit error (a corrupt row, a refused argument, an incompatible schema).
    #[error(transparent)]
    Engine(#[from] Error),
}

/// Internal result alias.
pub(crate) type StoreResult<T> = std::result::Result<T, StoreError>;

/// The server's error code for a duplicate key (`ER_DUP_ENTRY`).
pub(crate) const DUPLICATE_KEY: u16 = 1062;

impl StoreError {
    /// Whether this is the server refusing a duplicate key.
    pub(crate) fn is_duplicate_key(&self) -> bool {
        matches!(self, StoreError::Sql(mysql_async::Error::Server(e)) if e.code == DUPLICATE_KEY)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Engine(e) => e,
            // The server's code and SQLSTATE only: its message may quote a key's value.
            StoreError::Sql(mysql_async::Error::Server(e)) if e.code == DUPLICATE_KEY => {
                Error::storage(format!("mysql: duplicate key ({}, {})", e.code, e.state))
            }
            StoreError::Sql(mysql_async::Error::Server(e)) => {
                Error::storage(format!("mysql: {} ({}, {})", e.message, e.code, e.state))
            }
            StoreError::Sql(e) => Error::storage(format!("mysql: {e}")),
        }
    }
}

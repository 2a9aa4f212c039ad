//! Errors inside the store: the driver's, the pool's, or a sessionkit error raised while decoding
//! a row or checking an argument. Everything leaves the crate as a [`sessionkit::Error`]: driver
//! and pool failures become `Storage`.

use sessionkit::Error;

/// The store's internal error: lets `?` work on driver, pool and sessionkit results.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// PostgreSQL or the driver failed.
    #[error("postgres: {0}")]
    Sql(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[error("postgres pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
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
            StoreError::Sql(e) => match e.as_db_error() {
                // The server's own message, with its SQLSTATE (never a parameter value).
                Some(db) => {
                    Error::storage(format!("postgres: {} ({})", db.message(), db.code().code()))
                }
                None => Error::storage(format!("postgres: {e}")),
            },
            other => Error::storage(other),
        }
    }
}

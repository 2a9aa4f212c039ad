//! A small pool of read-only connections. In WAL mode readers never block the writer nor each
//! other, so reads take a pooled connection instead of queueing behind the writer's lock.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use crate::connection;
use crate::error::{poisoned, StoreResult};

/// Idle readers kept for reuse; extra ones opened under load are closed after use.
const MAX_IDLE: usize = 4;

/// Reader connections to one database file, opened on demand.
#[derive(Debug)]
pub(crate) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    /// A pool over `path` holding one reader opened now, so that a database readers cannot open
    /// fails at open time rather than on the first read.
    pub(crate) fn open(path: &Path) -> StoreResult<Self> {
        let first = connection::open_reader(path)?;
        Ok(ReaderPool {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
        })
    }

    /// Runs `read` on a reader: an idle one, or a new one when all are busy.
    pub(crate) fn with<T>(
        &self,
        read: impl FnOnce(&mut Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let idle = self.idle.lock().map_err(|_| poisoned("reader pool"))?.pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => connection::open_reader(&self.path)?,
        };
        let result = read(&mut conn);
        // A connection left inside a transaction (a failed rollback) is not reused.
        if conn.is_autocommit() {
            if let Ok(mut idle) = self.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
            }
        }
        result
    }
}

//! Opening the session database: the configuration from the command line and a
//! [`SessionManager`] over the SQLite file or the PostgreSQL or MySQL/MariaDB database `--db`
//! names.

use std::path::Path;
use std::sync::Arc;

use sessionkit::{Clock, Config, Error, SessionLimitPolicy, SessionManager, Store, SystemClock};

use crate::cli::ConfigArgs;
use crate::error::{CliError, CliResult};

/// Whether opening may create the database file when it does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create it (commands that add sessions: `create`, `import`, `demo`).
    Create,
    /// Refuse (every other command: a mistyped `--db` should not quietly make an empty file).
    Refuse,
}

/// The engine's default configuration with the command line's overrides applied. The engine
/// validates the result when the manager is opened.
pub fn config(args: &ConfigArgs) -> CliResult<Config> {
    let mut config = Config::default();
    if let Some(v) = args.idle_timeout_ms {
        config.idle_timeout_ms = v;
    }
    if let Some(v) = args.absolute_timeout_ms {
        config.absolute_timeout_ms = v;
    }
    if let Some(v) = args.touch_interval_ms {
        config.touch_interval_ms = v;
    }
    if let Some(v) = args.max_sessions_per_user {
        config.max_sessions_per_user = Some(v);
    }
    if let Some(name) = &args.session_limit_policy {
        config.session_limit_policy = SessionLimitPolicy::parse(name)?;
    }
    if let Some(v) = args.state_compression_threshold {
        config.state_compression_threshold = v;
    }
    if let Some(name) = &args.context_policy {
        config.context_policy = sessionkit::ContextPolicy::parse(name)?;
    }
    if let Some(v) = args.state_max_bytes {
        config.state_max_bytes = v;
    }
    Ok(config)
}

/// The database `--db` names when it is a server's URL rather than a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// `postgres://` or `postgresql://`: [`sessionkit_postgres::PostgresStore`].
    Postgres,
    /// `mysql://` or `mariadb://`: [`sessionkit_mysql::MysqlStore`].
    Mysql,
}

/// Which server `db` names, if it is a URL (`None`: a SQLite file).
pub fn server(db: &Path) -> Option<Server> {
    let text = db.to_str()?;
    let scheme = text.split_once("://")?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Some(Server::Postgres),
        "mysql" | "mariadb" => Some(Server::Mysql),
        _ => None,
    }
}

/// Opens the store `db` names: a PostgreSQL or MySQL/MariaDB database by URL
/// (`postgres://user@host:port/db`, `mysql://user@host:port/db`; the database must exist, its
/// schema is created or upgraded on open, so `missing` does not apply), else the SQLite file at
/// that path.
pub fn open_store(db: &Path, missing: Missing) -> CliResult<Arc<dyn Store>> {
    match server(db) {
        Some(Server::Postgres) => {
            // A path is UTF-8 when `server` recognised it.
            let url = db.to_str().unwrap_or_default();
            return Ok(Arc::new(sessionkit_postgres::PostgresStore::open(url)?));
        }
        Some(Server::Mysql) => {
            let url = db.to_str().unwrap_or_default();
            return Ok(Arc::new(sessionkit_mysql::MysqlStore::open(url)?));
        }
        None => {}
    }
    let path = db;
    if missing == Missing::Refuse && !path.exists() {
        return Err(Error::invalid_input(
            "db",
            format!(
                "no database at {} (pass --db PATH, or start one with `sessionkit create` or \
                 `sessionkit demo`)",
                path.display()
            ),
        )
        .into());
    }
    Ok(Arc::new(sessionkit_sqlite::SqliteStore::open(path)?))
}

/// Opens a manager over the file at `path` with `config` and `clock`.
pub fn open_manager(
    path: &Path,
    missing: Missing,
    config: Config,
    clock: Arc<dyn Clock>,
) -> CliResult<SessionManager> {
    // The engine refuses a bad configuration before the file is created or touched.
    let mut refused = None;
    let opened = SessionManager::open_store_with(config, clock, || {
        open_store(path, missing).map_err(|e| {
            refused = Some(e);
            Error::storage("the database could not be opened")
        })
    });
    match (opened, refused) {
        (_, Some(e)) => Err(e),
        (opened, None) => opened.map_err(CliError::from),
    }
}

/// Opens a manager over the file at `path` with the wall clock.
pub fn open(path: &Path, missing: Missing, args: &ConfigArgs) -> CliResult<SessionManager> {
    open_manager(path, missing, config(args)?, Arc::new(SystemClock))
}

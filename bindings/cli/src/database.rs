//! Opening the session database: the configuration from the command line and a
//! [`SessionManager`] over the SQLite file.

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

/// Opens the store in the file at `path`.
pub fn open_store(path: &Path, missing: Missing) -> CliResult<Arc<dyn Store>> {
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

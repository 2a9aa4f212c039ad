//! `sessionkit serve`: the HTTP API over the database, until SIGTERM or SIGINT.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sessionkit::{Error, SessionManager};
use sessionkit_server::{Server, ServerConfig};

use crate::cli::ServeArgs;
use crate::error::{CliError, CliResult};

/// Environment variable holding the admin key when no `--admin-key-file` is given.
pub const ADMIN_KEY_ENV: &str = "SESSIONKIT_ADMIN_KEY";

/// Runs the server until a signal asks it to stop.
pub fn run(manager: SessionManager, db: &Path, args: &ServeArgs) -> CliResult<()> {
    init_logging(&args.log_format);
    let admin_key = admin_key(db, args)?;
    let mut config = ServerConfig {
        cors_origins: args.cors_origins.clone(),
        trusted_proxy_header: args.trusted_proxy_header.clone(),
        cookie_mode: args.cookie_mode,
        demo: args.demo,
        demo_package: args.demo_package.clone(),
        ..ServerConfig::default()
    };
    if args.demo {
        if let Some(problem) = sessionkit_server::demo_package_problem(args.demo_package.as_deref())
        {
            eprintln!("sessionkit serve: {problem}");
        }
    }
    if let Some(ms) = args.heartbeat_ms {
        if ms == 0 {
            return Err(Error::invalid_input("heartbeat_ms", "must be at least 1").into());
        }
        config.heartbeat_ms = ms;
    }
    if let Some(ms) = args.cleanup_interval_ms {
        config.cleanup_interval_ms = ms;
    }
    // A database shared by several servers: their events cross between them.
    let url = db.to_str().unwrap_or_default();
    let relay = match crate::database::server(db) {
        Some(crate::database::Server::Postgres) => Some(Arc::new(Relay::Postgres(
            sessionkit_postgres::PostgresEventRelay::start(url, None)?,
        ))),
        Some(crate::database::Server::Mysql) => Some(Arc::new(Relay::Mysql(
            sessionkit_mysql::MysqlEventRelay::start(url, Default::default(), None)?,
        ))),
        None => None,
    };
    let server = Server::new(Arc::new(manager), &admin_key, config)?;
    drop(admin_key);
    // This server's events go out to the others (after each change is stored; `publish` only
    // queues), theirs come in to this server's streams (below, on the runtime).
    let _publishing = relay.as_ref().map(|relay| {
        let relay = Arc::clone(relay);
        server
            .manager()
            .subscribe(Arc::new(move |event: &sessionkit::Event| {
                relay.publish(event)
            }))
    });
    let listener = std::net::TcpListener::bind(&args.listen)
        .map_err(|e| CliError::io(format!("cannot listen on {}", args.listen), e))?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::io("cannot read the listening address", e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| CliError::io("cannot set up the listener", e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io("cannot start the async runtime", e))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| CliError::io("cannot set up the listener", e))?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{address}")
            .and_then(|()| {
                if args.demo {
                    writeln!(
                        stdout,
                        "demo: open http://{address}/ in a window and a private window (the tabs \
                         of one browser profile share one session) and sign in as the same name"
                    )?;
                }
                stdout.flush()
            })
            .map_err(|e| CliError::io("cannot write to stdout", e))?;
        drop(stdout);
        if let Some(relay) = &relay {
            let mut remote = relay.subscribe();
            let server = server.clone();
            tokio::spawn(async move {
                loop {
                    match remote.recv().await {
                        Ok(event) => server.relay_event(event),
                        // Missed some: each stream reads its own session at its next heartbeat.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "relayed events were dropped");
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                }
            });
            tracing::info!("relaying events with the other servers on this database");
        }
        tracing::info!(%address, demo = args.demo, "listening");
        server
            .serve(listener, shutdown_signal())
            .await
            .map_err(|e| CliError::io("the server failed", e))?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// The relay of events between the servers on one database: `LISTEN/NOTIFY` on PostgreSQL, a
/// polled events table on MySQL/MariaDB.
enum Relay {
    Postgres(sessionkit_postgres::PostgresEventRelay),
    Mysql(sessionkit_mysql::MysqlEventRelay),
}

impl Relay {
    fn publish(&self, event: &sessionkit::Event) {
        match self {
            Relay::Postgres(relay) => relay.publish(event),
            Relay::Mysql(relay) => relay.publish(event),
        }
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<sessionkit::Event> {
        match self {
            Relay::Postgres(relay) => relay.subscribe(),
            Relay::Mysql(relay) => relay.subscribe(),
        }
    }
}

/// The admin key: the trimmed content of `--admin-key-file` (created with a new key when
/// missing), else `SESSIONKIT_ADMIN_KEY`, else the file `<db>.admin-key` beside the database
/// (created likewise). The key itself is never printed or logged.
fn admin_key(db: &Path, args: &ServeArgs) -> CliResult<String> {
    if args.admin_key_file.is_none() {
        if let Ok(key) = std::env::var(ADMIN_KEY_ENV) {
            return Ok(key.trim().to_owned());
        }
    }
    if args.admin_key_file.is_none() && crate::database::server(db).is_some() {
        return Err(sessionkit::Error::invalid_input(
            "admin_key_file",
            format!(
                "with a database server, pass --admin-key-file PATH or set {ADMIN_KEY_ENV} \
                 (there is no database file to keep the key beside)"
            ),
        )
        .into());
    }
    let path = args.admin_key_file.clone().unwrap_or_else(|| {
        let mut name = db.as_os_str().to_owned();
        name.push(".admin-key");
        PathBuf::from(name)
    });
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = new_key()?;
            write_private(&path, &key)?;
            tracing::info!(path = %path.display(), "wrote a new admin key");
            Ok(key)
        }
        Err(e) => Err(CliError::io(
            format!("cannot read the admin key file {}", path.display()),
            e,
        )),
    }
}

/// 256 random bits, base64url: 43 characters.
fn new_key() -> CliResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::storage(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates `path` (which must not exist) readable by its owner only, holding `text`.
fn write_private(path: &Path, text: &str) -> CliResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let context = || format!("cannot write the admin key file {}", path.display());
    let mut file = options.open(path).map_err(|e| CliError::io(context(), e))?;
    writeln!(file, "{text}").map_err(|e| CliError::io(context(), e))
}

/// Completes on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

fn init_logging(format: &str) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second subscriber (tests calling twice) is refused quietly.
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

//! `sessionkit client …`: the sync client (docs/SPEC.md §9) from the command line, over a
//! server URL and a token file. The replica (session, state, queued changes) lives in a SQLite
//! file beside the token file (`<token-file>.replica.db`), so a change made while the server is
//! out of reach is kept and pushed by the next command that reaches it. The native driver does
//! the work; this file converts arguments and prints.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sessionkit::Error;
use sessionkit_client::{
    ClientEvent, ClientOptions, ConnectionState, RecoveryOutcome, SessionClient,
};

use crate::cli::{ClientArgs, ClientCommand, ClientStateCommand};
use crate::error::{CliError, CliResult};
use crate::output::Printer;

/// Runs one `client` subcommand.
pub fn run(args: &ClientArgs, printer: &Printer) -> CliResult<()> {
    let (Some(server), Some(token_file)) = (&args.server, &args.token_file) else {
        return Err(CliError::Usage(
            "client needs --server URL (or SESSIONKIT_SERVER) and --token-file PATH \
             (or SESSIONKIT_TOKEN_FILE)"
                .into(),
        ));
    };
    if let ClientCommand::SignIn { token } = &args.command {
        let token = crate::input::token(token.as_deref(), printer)?;
        write_token_file(token_file, &token)?;
    }
    let token = read_token_file(token_file)?;
    let client = open(args, server, token_file)?;
    if !client.holds_token(&token) {
        client.sign_in(&token)?;
    }
    let result = command(args, token_file, &client, printer);
    client.close();
    result
}

fn open(args: &ClientArgs, server: &str, token_file: &Path) -> CliResult<SessionClient> {
    let replica = replica_path(token_file);
    let store = sessionkit_sqlite::SqliteStore::open(&replica)?;
    let mut options = ClientOptions::new(server, Arc::new(store));
    options.config.heartbeat_ms = args.heartbeat_ms;
    options.request_timeout = Duration::from_millis(args.timeout_ms.max(1));
    Ok(SessionClient::open(options)?)
}

fn command(
    args: &ClientArgs,
    token_file: &Path,
    client: &SessionClient,
    printer: &Printer,
) -> CliResult<()> {
    match &args.command {
        ClientCommand::SignIn { .. } => {
            let recovered = client.recover()?;
            signed_in(&recovered.outcome)?;
            status(client, printer, &recovered.outcome)
        }
        ClientCommand::Status => {
            let recovered = client.recover()?;
            status(client, printer, &recovered.outcome)
        }
        ClientCommand::State(ClientStateCommand::Get) => {
            let recovered = client.recover()?;
            signed_in(&recovered.outcome)?;
            printer.json_document(&client.state().unwrap_or(Value::Null))
        }
        ClientCommand::State(ClientStateCommand::Put { data }) => {
            client.recover()?;
            client.put_state(crate::input::json("data", data)?)?;
            sync(client, printer)
        }
        ClientCommand::State(ClientStateCommand::Patch { patch }) => {
            client.recover()?;
            client.patch_state(crate::input::json("patch", patch)?)?;
            sync(client, printer)
        }
        ClientCommand::Sync => {
            let recovered = client.recover()?;
            signed_in(&recovered.outcome)?;
            sync(client, printer)
        }
        ClientCommand::Devices => printer.json_document(&client.devices()?),
        ClientCommand::RevokeDevice { id } => {
            client.revoke_device(id)?;
            printer.narrate(&format!("revoked {id}"))
        }
        ClientCommand::SignOut => {
            client.sign_out()?;
            std::fs::remove_file(token_file)
                .map_err(|e| CliError::io(format!("removing {}", token_file.display()), e))?;
            printer.narrate("signed out")
        }
        ClientCommand::Watch => watch(client),
    }
}

/// Refuses to go on when the session is gone (exit code by the reason).
fn signed_in(outcome: &RecoveryOutcome) -> CliResult<()> {
    match outcome {
        RecoveryOutcome::SignedOut { reason } => Err(CliError::Engine(match reason.as_str() {
            "revoked" => Error::Revoked,
            "expired" => Error::Expired,
            _ => Error::InvalidToken,
        })),
        _ => Ok(()),
    }
}

fn sync(client: &SessionClient, printer: &Printer) -> CliResult<()> {
    let result = client.sync()?;
    let document = json!({
        "pushed": result.pushed,
        "pulled": result.pulled,
        "conflicts": result.conflicts,
        "version": result.version,
        "pending": result.pending,
        "offline": result.offline,
    });
    if printer.is_json() {
        printer.json_document(&document)
    } else if result.offline {
        printer.narrate(&format!(
            "server out of reach: {} change(s) kept and queued",
            result.pending
        ))
    } else {
        printer.narrate(&format!("in sync at version {}", result.version))
    }
}

fn status(client: &SessionClient, printer: &Printer, outcome: &RecoveryOutcome) -> CliResult<()> {
    let metrics = client.metrics();
    let session = client.session();
    let document = json!({
        "outcome": outcome,
        "connection": client.connection_state(),
        "session": session,
        "pending_changes": metrics.pending_changes,
        "metrics": metrics,
    });
    if printer.is_json() {
        return printer.json_document(&document);
    }
    match (&session, outcome) {
        (Some(s), _) => printer.narrate(&format!(
            "signed in as {} (session {}), {} change(s) pending, {}",
            s.user_id,
            s.id,
            metrics.pending_changes,
            describe(client.connection_state())
        )),
        (None, RecoveryOutcome::SignedOut { reason }) => {
            printer.narrate(&format!("signed out ({reason})"))
        }
        (None, _) => printer.narrate(&format!(
            "not validated yet ({}), {} change(s) pending",
            describe(client.connection_state()),
            metrics.pending_changes
        )),
    }
}

fn describe(state: ConnectionState) -> String {
    match state {
        ConnectionState::Reconnecting {
            attempt,
            retry_in_ms,
        } => format!("reconnecting (attempt {attempt} in {retry_in_ms} ms)"),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v["state"].as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

/// Prints every event and connection state as a JSON line until the session ends (exit code by
/// its reason) or SIGINT/SIGTERM (exit 0).
fn watch(client: &SessionClient) -> CliResult<()> {
    let (tx, rx) = std::sync::mpsc::channel::<Option<ClientEvent>>();
    let events = tx.clone();
    let _subscription = client.subscribe(move |event| {
        let _ = events.send(Some(event.clone()));
    });
    let stop = tx;
    std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(crate::commands::serve::shutdown_signal());
        }
        let _ = stop.send(None);
    });
    let mut last = None;
    loop {
        let state = client.connection_state();
        if last != Some(state) {
            line(&json!({"connection": state}))?;
            last = Some(state);
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(event)) => {
                line(&json!({"event": event}))?;
                if let ClientEvent::AuthRequired { reason } = event {
                    return signed_in(&RecoveryOutcome::SignedOut { reason });
                }
            }
            Ok(None) => return Ok(()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

fn line(value: &Value) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("writing to stdout", e))
}

fn replica_path(token_file: &Path) -> PathBuf {
    let mut name = token_file.as_os_str().to_owned();
    name.push(".replica.db");
    PathBuf::from(name)
}

fn write_token_file(path: &Path, token: &str) -> CliResult<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::invalid_input("token", "must not be empty").into());
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
    // An existing file keeps its mode on open: make it private too.
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| writeln!(file, "{token}"))
        .map_err(|e| CliError::io(format!("writing {}", path.display()), e))
}

fn read_token_file(path: &Path) -> CliResult<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::io(
            format!(
                "reading {} (sign in first: sessionkit client sign-in)",
                path.display()
            ),
            e,
        )
    })?;
    let token = text.trim().to_owned();
    if token.is_empty() {
        return Err(Error::InvalidToken.into());
    }
    Ok(token)
}

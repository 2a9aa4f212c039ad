//! The command line as clap sees it: global options, subcommands and their arguments.
//!
//! Arguments are taken as text here and converted by the engine's own parsers in the commands
//! (`SessionId::parse`, `ClientKind::parse`, `SessionLimitPolicy::parse`, JSON objects), so a bad
//! value is reported as the engine's `InvalidInput` naming the field, exactly as every other face
//! reports it. Clap itself only checks the shape of the command line (usage errors).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit codes, listed in `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other failure (Storage, Corrupt, IncompatibleSchema, I/O, a failed demo check)
  2  usage error or InvalidInput
  3  InvalidToken
  4  NotFound
  5  Expired
  6  Revoked
  7  Conflict
  8  LimitExceeded

Errors are printed as `error: <message>` on stderr. With --json they are printed instead as one
JSON document on stdout: {\"error\": {\"kind\": \"...\", \"message\": \"...\", ...fields}}.";

/// `sessionkit`: sessions over a SQLite file.
#[derive(Debug, Parser)]
#[command(
    name = "sessionkit",
    version,
    about = "Inspect, revoke, clean up, export and import sessions stored in a SQLite file.",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    /// Options accepted before or after the subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand (clap `global = true`).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The SQLite database file, or a PostgreSQL or MySQL/MariaDB database by URL
    /// (postgres://user@host:port/db, mysql://user@host:port/db) [default: sessionkit.db].
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Print machine-readable JSON (one document per command; JSON lines for `export`).
    #[arg(long, global = true)]
    pub json: bool,

    /// Encrypt state at rest with the keys in this file: one `<id>:<base64 of 32 bytes>` a
    /// line, the first the current key (new writes), the others older keys (still read). The
    /// file must be readable by its owner only (mode 0600). Default: $SESSIONKIT_STATE_KEYS.
    #[arg(long, global = true, value_name = "PATH")]
    pub state_key_file: Option<PathBuf>,

    /// Configuration for this invocation (not stored in the database).
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Configuration overrides; unset ones keep the engine's defaults.
///
/// Numeric options accept a leading `-` as part of their value, so `--limit -1` is refused as a
/// bad value of `--limit` (or, for a timeout, by the engine naming the field) rather than as an
/// unknown flag.
///
/// They apply to the operation being run (a `create` computes expiry with them, a `validate`
/// slides it with them); the database does not remember them.
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Configuration (defaults are the engine's)")]
pub struct ConfigArgs {
    /// A session unused this long expires [default: 1800000 = 30 min].
    #[arg(long, global = true, value_name = "MS", allow_negative_numbers = true)]
    pub idle_timeout_ms: Option<i64>,

    /// A session expires this long after creation, however active [default: 30 days].
    #[arg(long, global = true, value_name = "MS", allow_negative_numbers = true)]
    pub absolute_timeout_ms: Option<i64>,

    /// `validate` writes the slid expiry at most this often [default: 60000].
    #[arg(long, global = true, value_name = "MS", allow_negative_numbers = true)]
    pub touch_interval_ms: Option<i64>,

    /// Live sessions allowed per user [default: no limit].
    #[arg(long, global = true, value_name = "N", allow_negative_numbers = true)]
    pub max_sessions_per_user: Option<u32>,

    /// What `create` does at the limit: reject or evict_oldest [default: reject].
    #[arg(long, global = true, value_name = "POLICY")]
    pub session_limit_policy: Option<String>,

    /// State larger than this many bytes is stored compressed [default: 10240].
    #[arg(
        long,
        global = true,
        value_name = "BYTES",
        allow_negative_numbers = true
    )]
    pub state_compression_threshold: Option<u64>,

    /// What validation in a request's context does on a changed IP or User-Agent: signal
    /// (an event) or strict (refuse) [default: signal]; used by `serve`.
    #[arg(long, global = true, value_name = "POLICY")]
    pub context_policy: Option<String>,

    /// State larger than this many bytes is refused [default: 5242880].
    #[arg(
        long,
        global = true,
        value_name = "BYTES",
        allow_negative_numbers = true
    )]
    pub state_max_bytes: Option<u64>,
}

impl GlobalArgs {
    /// The database file: `--db`, or `sessionkit.db` in the current directory.
    ///
    /// The default is never a symbolic link: whoever can write to the current directory could
    /// otherwise point it at a database (or a place to create one) of their choosing. Naming a
    /// link with `--db` is a deliberate choice and is followed.
    pub fn db_path(&self) -> Result<PathBuf, sessionkit::Error> {
        if let Some(path) = &self.db {
            return Ok(path.clone());
        }
        let path = PathBuf::from(DEFAULT_DB);
        match path.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => Err(sessionkit::Error::invalid_input(
                "db",
                format!(
                    "./{DEFAULT_DB} is a symbolic link, which the default database path never \
                     follows (pass --db PATH to use it deliberately)"
                ),
            )),
            _ => Ok(path),
        }
    }
}

/// The database file used without `--db`.
pub const DEFAULT_DB: &str = "sessionkit.db";

impl ConfigArgs {
    /// Whether any override was given.
    pub fn any(&self) -> bool {
        self.idle_timeout_ms.is_some()
            || self.absolute_timeout_ms.is_some()
            || self.touch_interval_ms.is_some()
            || self.max_sessions_per_user.is_some()
            || self.session_limit_policy.is_some()
            || self.state_compression_threshold.is_some()
            || self.state_max_bytes.is_some()
            || self.context_policy.is_some()
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a realistic scenario (4 users, their devices, 9 simulated days) against the database.
    Demo,

    /// Start a session; prints it and its token (shown this once).
    Create(CreateArgs),

    /// Check a token read from stdin; prints its session or why it is refused.
    ///
    /// Pipe the token in (`sessionkit validate < token.txt`, or `-` as the argument): a token
    /// on the command line is visible to other users in `ps` and stays in shell history.
    Validate {
        /// Omit (or pass `-`) to read the token from stdin, the recommended form; a token
        /// `<id>.<secret>` given here is still accepted, for scripts that have no other way.
        #[arg(allow_hyphen_values = true, value_name = "TOKEN")]
        token: Option<String>,
    },

    /// List a user's sessions, newest activity first, one page at a time.
    List(ListArgs),

    /// Show one session and a summary of its state.
    Show {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },

    /// Revoke a session (soft: it stays listed as revoked until it expires).
    Revoke {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },

    /// Delete a session and its state (hard).
    Delete {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },

    /// Revoke every active session of a user ("sign out everywhere"), optionally but one.
    RevokeUser {
        /// The user.
        #[arg(long)]
        user: String,
        /// Keep this session ("sign out everywhere else").
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        except: Option<String>,
    },

    /// Revoke every live session of every user ("end every user's sessions"), in batches.
    RevokeAll,

    /// Delete every session and state of a user (account deletion, erasure requests).
    DeleteUser {
        /// The user.
        #[arg(long)]
        user: String,
    },

    /// Mark a session active now, sliding its idle expiry.
    Touch {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },

    /// Replace a session with a new id and token (after a privilege change); prints the token.
    Rotate {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },

    /// Apply a JSON Merge Patch (RFC 7396) to a session's metadata.
    Metadata {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The patch, a JSON object; `null` members remove keys.
        #[arg(long, value_name = "JSON")]
        patch: String,
    },

    /// Remove every expired session and its state.
    Cleanup,

    /// Aggregate figures over all stored sessions.
    Stats,

    /// Count sessions, of everyone or of one user.
    Count {
        /// Only this user's sessions.
        #[arg(long)]
        user: Option<String>,
        /// Only sessions neither revoked nor expired.
        #[arg(long)]
        active_only: bool,
    },

    /// Read and write a session's client state.
    #[command(subcommand)]
    State(StateCommand),

    /// Write every session (with its encoded state) as JSON lines; tokens are never exported.
    Export {
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },

    /// Rewrite every state not yet under the current state key (older keys, or plain) under it.
    ///
    /// Needs --state-key-file (or $SESSIONKIT_STATE_KEYS) with the current key first and every
    /// key still in use after it; once it reports success, the older keys can be removed.
    Rekey,

    /// Read JSON lines written by `export`; sessions whose id exists already are skipped.
    Import {
        /// Read from this file instead of stdin.
        #[arg(long = "in", value_name = "FILE")]
        input: Option<PathBuf>,
    },

    /// Serve the HTTP API (docs/SPEC.md §8) over the database; prints `listening on
    /// http://HOST:PORT` once it accepts connections. SIGTERM or SIGINT stop it cleanly.
    Serve(ServeArgs),

    /// The sync client (docs/SPEC.md §9) against a running server: sign in, read and change the
    /// session's state (kept locally and pushed when the server is reachable), devices, watch.
    Client(ClientArgs),
}

/// Arguments of `client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server's base URL [env: SESSIONKIT_SERVER].
    #[arg(long, env = "SESSIONKIT_SERVER", value_name = "URL", global = true)]
    pub server: Option<String>,

    /// The file holding the session token (written by `sign-in` with mode 0600); the replica
    /// lives beside it in `<token-file>.replica.db` [env: SESSIONKIT_TOKEN_FILE].
    #[arg(
        long,
        env = "SESSIONKIT_TOKEN_FILE",
        value_name = "PATH",
        global = true
    )]
    pub token_file: Option<PathBuf>,

    /// The server's heartbeat period (its --heartbeat-ms).
    #[arg(long, value_name = "MS", default_value_t = 25_000, global = true)]
    pub heartbeat_ms: u64,

    /// A request slower than this counts as failed.
    #[arg(long, value_name = "MS", default_value_t = 15_000, global = true)]
    pub timeout_ms: u64,

    /// What to do.
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// `client` subcommands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Store a token from the app's backend in the token file and validate it.
    SignIn {
        /// The token; read from stdin when absent or `-` (keeps it out of `ps` and history).
        #[arg(long)]
        token: Option<String>,
    },
    /// The session, the connection and pending changes.
    Status,
    /// Read or change the session's state.
    #[command(subcommand)]
    State(ClientStateCommand),
    /// Pull and push now.
    Sync,
    /// This user's devices (sessions).
    Devices,
    /// Revoke one of this user's other devices.
    RevokeDevice {
        /// The device's session id.
        id: String,
    },
    /// Revoke this session and remove the token file.
    SignOut,
    /// Print events and connection states as JSON lines until the session ends or SIGINT.
    Watch,
}

/// `client state` subcommands.
#[derive(Debug, Subcommand)]
pub enum ClientStateCommand {
    /// Print the state (JSON).
    Get,
    /// Replace the state; kept and queued when the server is out of reach.
    Put {
        /// The new state, JSON.
        data: String,
    },
    /// Merge-patch the state (RFC 7396); kept and queued when the server is out of reach.
    Patch {
        /// The patch, JSON.
        patch: String,
    },
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// File holding the admin key (created with a new random key, mode 0600, when missing)
    /// [default: SESSIONKIT_ADMIN_KEY, else <db>.admin-key].
    #[arg(long, value_name = "PATH")]
    pub admin_key_file: Option<PathBuf>,

    /// An origin allowed to call the API from a browser (repeat for more).
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,

    /// Log lines as text or as JSON objects (on stderr).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Also serve the demo page at / with a demo-only sign-in (anyone can sign in as anyone).
    #[arg(long)]
    pub demo: bool,

    /// The built npm package the demo page runs on (web/ after `npm run build`, or an installed
    /// node_modules/sessionkit); its src/*.js and dist/wasm/* are served under /demo/pkg/.
    #[arg(long, value_name = "DIR", requires = "demo")]
    pub demo_package: Option<PathBuf>,

    /// A header a trusted reverse proxy sets to the client address (e.g. x-forwarded-for);
    /// its last entry feeds the context signal instead of the peer address.
    #[arg(long, value_name = "NAME")]
    pub trusted_proxy_header: Option<String>,

    /// Browser cookie mode: POST /v1/session/cookie trades a token for an HttpOnly, Secure,
    /// SameSite=Lax __Host- cookie, with a CSRF guard on unsafe methods.
    #[arg(long)]
    pub cookie_mode: bool,

    /// Event stream heartbeat period [default: 25000].
    #[arg(long, value_name = "MS")]
    pub heartbeat_ms: Option<u64>,

    /// Background cleanup period, 0 for none [default: 300000].
    #[arg(long, value_name = "MS")]
    pub cleanup_interval_ms: Option<u64>,
}

/// Arguments of `create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The owner.
    #[arg(long)]
    pub user: String,
    /// The client kind: web, mobile, desktop or other.
    #[arg(long)]
    pub kind: String,
    /// The client app's version.
    #[arg(long)]
    pub version: Option<String>,
    /// A device name for device lists.
    #[arg(long)]
    pub device: Option<String>,
    /// The client's IP address.
    #[arg(long)]
    pub ip: Option<String>,
    /// The client's user agent.
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Initial metadata, a JSON object.
    #[arg(long, value_name = "JSON")]
    pub metadata: Option<String>,
}

/// Arguments of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The user whose sessions to list.
    #[arg(long)]
    pub user: String,
    /// Only sessions neither revoked nor expired.
    #[arg(long)]
    pub active_only: bool,
    /// Page size, 1 to 1000.
    #[arg(long, default_value_t = 50, allow_negative_numbers = true)]
    pub limit: u32,
    /// The cursor printed with the previous page.
    #[arg(long, allow_hyphen_values = true)]
    pub cursor: Option<String>,
}

/// `state` subcommands.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Print a session's state and its version, size and checksum.
    Get {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Replace a session's state.
    Put {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The new state, as JSON text.
        #[arg(
            long,
            value_name = "JSON",
            conflicts_with = "file",
            required_unless_present = "file"
        )]
        data: Option<String>,
        /// Read the new state from this JSON file (`-` for stdin).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Write only if the stored version is this one (0 = no state yet).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        expected_version: Option<u64>,
    },
    /// Apply a JSON Merge Patch (RFC 7396) to a session's state.
    Patch {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The patch, as JSON text.
        #[arg(long, value_name = "JSON")]
        patch: String,
        /// Write only if the stored version is this one.
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        expected_version: Option<u64>,
    },
    /// Remove a session's state.
    Clear {
        /// The session id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

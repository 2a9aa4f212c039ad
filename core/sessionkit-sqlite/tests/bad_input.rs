//! Bad input through the Rust API on a SQLite file (docs/SPEC.md §5: "bad input never changes
//! stored data"). Each case is refused with the expected `ErrorKind` and a message naming the
//! field or the reason, and the database's full dump is the same before and after — except where
//! docs/SPEC.md §1 says an expired session found by the call is removed, and then exactly that
//! session goes.

#[path = "support/dump.rs"]
mod dump;

use std::path::PathBuf;
use std::sync::Arc;

use pollster::block_on;
use serde_json::{json, Value};
use sessionkit::{
    ClientKind, Config, ErrorKind, ExportRecord, ListOptions, ManualClock, NewSession, SessionId,
    SessionLimitPolicy, SessionManager,
};
use sessionkit_sqlite::SqliteStore;

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
/// Small, so the over-the-limit cases stay cheap.
const STATE_MAX: u64 = 4096;
const SQL_INJECTION: &str = "'; DROP TABLE sessions; --";

/// A database with sessions in every condition the cases need.
struct Fx {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: ManualClock,
    m: SessionManager,
    alice: (SessionId, String),
    revoked: (SessionId, String),
    deleted: (SessionId, String),
    /// Expired (not yet cleaned up); each case that touches one removes it, so each has its own.
    expired: Vec<(SessionId, String)>,
    alice_cursor: String,
    bob_cursor: String,
    alice_export: ExportRecord,
}

fn config() -> Config {
    Config {
        state_max_bytes: STATE_MAX,
        state_compression_threshold: 1024,
        ..Config::default()
    }
}

fn open(path: &std::path::Path, config: Config, clock: &ManualClock) -> SessionManager {
    let store = SqliteStore::open(path).expect("open store");
    SessionManager::open_with_clock(Arc::new(store), config, Arc::new(clock.clone()))
        .expect("open manager")
}

fn create(m: &SessionManager, user: &str) -> (SessionId, String) {
    let mut new = NewSession::new(user, ClientKind::Mobile);
    new.device = Some("Pixel 8".into());
    new.ip = Some("2001:db8::1".into());
    new.metadata = Some(json!({ "theme": "dark" }));
    let created = block_on(m.create(new)).expect("create");
    (created.session.id, created.token.as_str().to_owned())
}

impl Fx {
    fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad-input.db");
        let clock = ManualClock::new(T0);
        let m = open(&path, config(), &clock);
        // Created at T0: expired at T0 + 30 min.
        let expired: Vec<_> = (0..6).map(|_| create(&m, "erin")).collect();
        for (id, _) in &expired {
            block_on(m.put_state(id, &json!({ "left": "behind" }), None)).unwrap();
        }
        // Created at T0 + 20 min: live until T0 + 50 min.
        clock.advance(20 * MINUTE);
        let alice = create(&m, "alice");
        block_on(m.put_state(&alice.0, &json!({ "tab": "inbox" }), Some(0))).unwrap();
        create(&m, "alice");
        for _ in 0..3 {
            create(&m, "bob");
        }
        let revoked = create(&m, "rita");
        block_on(m.put_state(&revoked.0, &json!({ "n": 1 }), None)).unwrap();
        block_on(m.revoke(&revoked.0)).unwrap();
        let deleted = create(&m, "dan");
        block_on(m.delete(&deleted.0)).unwrap();
        clock.advance(11 * MINUTE);

        let first_page = |user: &str| {
            let options = ListOptions {
                limit: 1,
                ..ListOptions::default()
            };
            block_on(m.list_user_sessions(user, &options))
                .unwrap()
                .next_cursor
                .expect("a second page")
        };
        let alice_cursor = first_page("alice");
        let bob_cursor = first_page("bob");
        let alice_export = block_on(m.export(None, 100))
            .unwrap()
            .into_iter()
            .find(|r| r.session.id == alice.0)
            .unwrap();
        Fx {
            _dir: dir,
            path,
            clock,
            m,
            alice,
            revoked,
            deleted,
            expired,
            alice_cursor,
            bob_cursor,
            alice_export,
        }
    }
}

type Run = Box<dyn Fn(&Fx) -> sessionkit::Result<()>>;

struct Case {
    name: &'static str,
    kind: ErrorKind,
    /// Must appear in the error's message (it names the field or the reason).
    message: &'static str,
    /// The expired session this call finds and removes, if any.
    removes: Option<SessionId>,
    run: Run,
}

macro_rules! case {
    ($name:expr, $kind:ident, $message:expr,
     { $(let $v:ident = $e:expr;)* move |$fx:ident| $body:expr }) => {{
        $(let $v = $e;)*
        case!($name, $kind, $message, |$fx| $body)
    }};
    ($name:expr, $kind:ident, $message:expr, |$fx:ident| $body:expr) => {
        Case {
            name: $name,
            kind: ErrorKind::$kind,
            message: $message,
            removes: None,
            run: Box::new(move |$fx: &Fx| $body.map(drop)),
        }
    };
}

fn new_session(user: &str) -> NewSession {
    NewSession::new(user, ClientKind::Web)
}

fn with(edit: impl Fn(&mut NewSession)) -> NewSession {
    let mut new = new_session("alice");
    edit(&mut new);
    new
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!(1), |inner, _| json!([inner]))
}

fn bad_config(edit: impl Fn(&mut Config)) -> Config {
    let mut c = config();
    edit(&mut c);
    c
}

/// Opens another manager on the fixture's file with `config`.
fn open_with(fx: &Fx, config: Config) -> sessionkit::Result<SessionManager> {
    let store = SqliteStore::open(&fx.path)?;
    SessionManager::open_with_clock(Arc::new(store), config, Arc::new(fx.clock.clone()))
}

fn list(user: &str, active_only: bool, limit: u32, cursor: Option<&str>) -> Run {
    let (user, cursor) = (user.to_owned(), cursor.map(str::to_owned));
    Box::new(move |fx: &Fx| {
        let options = ListOptions {
            active_only,
            limit,
            cursor: cursor.clone(),
        };
        block_on(fx.m.list_user_sessions(&user, &options)).map(drop)
    })
}

fn import(edit: impl Fn(&mut ExportRecord) + 'static) -> Run {
    Box::new(move |fx: &Fx| {
        let mut record = fx.alice_export.clone();
        record.session.id = SessionId::from_bytes([0x5a; 16]);
        edit(&mut record);
        block_on(fx.m.import(record)).map(drop)
    })
}

fn cases(fx: &Fx) -> Vec<Case> {
    let (a_id, a_token) = fx.alice.clone();
    let (r_id, r_token) = fx.revoked.clone();
    let (d_id, d_token) = fx.deleted.clone();
    let unknown = SessionId::from_bytes([0xee; 16]);
    let secret_of = |token: &str| token[SessionId::TEXT_LEN + 1..].to_owned();
    let a_secret = secret_of(&a_token);
    let ac = fx.alice_cursor.clone();
    let bc = fx.bob_cursor.clone();

    let mut cases = vec![
        // ---- user ids ----------------------------------------------------------------------
        case!(
            "create: empty user_id",
            InvalidInput,
            "invalid user_id: must not be empty",
            |fx| block_on(fx.m.create(new_session("")))
        ),
        case!(
            "create: 257-byte user_id",
            InvalidInput,
            "invalid user_id: must be at most 256 bytes",
            |fx| block_on(fx.m.create(new_session(&"u".repeat(257))))
        ),
        case!(
            "create: 129 two-byte characters",
            InvalidInput,
            "invalid user_id: must be at most 256 bytes",
            |fx| block_on(fx.m.create(new_session(&"é".repeat(129))))
        ),
        case!(
            "create: 1 MiB user_id",
            InvalidInput,
            "invalid user_id: must be at most 256 bytes",
            |fx| block_on(fx.m.create(new_session(&"x".repeat(1 << 20))))
        ),
        case!(
            "create: NUL in user_id",
            InvalidInput,
            "invalid user_id: must not contain control characters",
            |fx| block_on(fx.m.create(new_session("ali\0ce")))
        ),
        case!(
            "create: BEL in user_id",
            InvalidInput,
            "invalid user_id: must not contain control characters",
            |fx| block_on(fx.m.create(new_session("alice\u{7}")))
        ),
        case!(
            "create: newline in user_id",
            InvalidInput,
            "invalid user_id: must not contain control characters",
            |fx| block_on(fx.m.create(new_session("alice\nadmin")))
        ),
        case!(
            "create: C1 control (NEL) in user_id",
            InvalidInput,
            "invalid user_id: must not contain control characters",
            |fx| block_on(fx.m.create(new_session("alice\u{85}")))
        ),
        case!(
            "create: terminal escape in user_id",
            InvalidInput,
            "invalid user_id: must not contain control characters",
            |fx| block_on(fx.m.create(new_session("\u{1b}[2Jalice")))
        ),
        case!(
            "create: DEL in user_id",
            InvalidInput,
            "invalid user_id: must not contain control characters",
            |fx| block_on(fx.m.create(new_session("alice\u{7f}")))
        ),
        // ---- other fields of a new session -------------------------------------------------
        case!(
            "create: newline in device",
            InvalidInput,
            "invalid device: must not contain control characters",
            |fx| block_on(fx.m.create(with(|n| n.device = Some("Pixel\n8".into()))))
        ),
        case!(
            "create: 257-byte device",
            InvalidInput,
            "invalid device: must be at most 256 bytes",
            |fx| block_on(fx.m.create(with(|n| n.device = Some("d".repeat(257)))))
        ),
        case!(
            "create: 257-byte client_version",
            InvalidInput,
            "invalid client_version: must be at most 256 bytes",
            |fx| block_on(fx.m.create(with(|n| n.client_version = Some("1".repeat(257)))))
        ),
        case!(
            "create: 1025-byte user_agent",
            InvalidInput,
            "invalid user_agent: must be at most 1024 bytes",
            |fx| block_on(fx.m.create(with(|n| n.user_agent = Some("a".repeat(1025)))))
        ),
        case!(
            "create: host name as ip",
            InvalidInput,
            "invalid ip: must be an IPv4 or IPv6 address",
            |fx| block_on(fx.m.create(with(|n| n.ip = Some("localhost".into()))))
        ),
        case!("create: SQL in ip", InvalidInput, "invalid ip", |fx| {
            block_on(fx.m.create(with(|n| n.ip = Some(format!("10.0.0.1{SQL_INJECTION}")))))
        }),
        case!(
            "create: out-of-range IPv4",
            InvalidInput,
            "invalid ip",
            |fx| block_on(fx.m.create(with(|n| n.ip = Some("256.1.1.1".into()))))
        ),
        case!(
            "create: array metadata",
            InvalidInput,
            "invalid metadata: must be a JSON object, got an array",
            |fx| block_on(fx.m.create(with(|n| n.metadata = Some(json!([1, 2])))))
        ),
        case!(
            "create: string metadata",
            InvalidInput,
            "invalid metadata: must be a JSON object, got a string",
            |fx| block_on(fx.m.create(with(|n| n.metadata = Some(json!("{}")))))
        ),
        case!(
            "create: null metadata",
            InvalidInput,
            "invalid metadata: must be a JSON object, got null",
            |fx| block_on(fx.m.create(with(|n| n.metadata = Some(Value::Null))))
        ),
        case!(
            "create: number metadata",
            InvalidInput,
            "invalid metadata: must be a JSON object, got a number",
            |fx| block_on(fx.m.create(with(|n| n.metadata = Some(json!(42)))))
        ),
        case!(
            "create: metadata over 64 KiB",
            LimitExceeded,
            "limit exceeded: metadata_max_bytes",
            |fx| block_on(fx.m.create(with(
                |n| n.metadata = Some(json!({ "k": "v".repeat(70_000) }))
            )))
        ),
        case!(
            "create: metadata nested 200 deep",
            InvalidInput,
            "invalid metadata: nested deeper than",
            |fx| block_on(fx.m.create(with(|n| n.metadata = Some(json!({ "k": nested(200) })))))
        ),
        case!(
            "client kind: unknown name",
            InvalidInput,
            "invalid client_kind: expected desktop, mobile, web or other",
            |_fx| ClientKind::parse("tablet")
        ),
        case!(
            "client kind: SQL",
            InvalidInput,
            "invalid client_kind",
            |_fx| ClientKind::parse(SQL_INJECTION)
        ),
        // ---- tokens -------------------------------------------------------------------------
        case!(
            "validate: empty token",
            InvalidToken,
            "invalid token",
            |fx| block_on(fx.m.validate(""))
        ),
        case!(
            "validate: truncated token",
            InvalidToken,
            "invalid token",
            {
                let t = a_token.clone();
                move |fx| block_on(fx.m.validate(&t[..t.len() - 1]))
            }
        ),
        case!(
            "validate: token with an extra character",
            InvalidToken,
            "invalid token",
            {
                let t = format!("{a_token}A");
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!(
            "validate: 1 MiB token",
            InvalidToken,
            "invalid token",
            |fx| block_on(fx.m.validate(&"A".repeat(1 << 20)))
        ),
        case!(
            "validate: NUL inside the token",
            InvalidToken,
            "invalid token",
            {
                let t = format!("{}\0{}", &a_token[..5], &a_token[6..]);
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!(
            "validate: separator replaced",
            InvalidToken,
            "invalid token",
            {
                let t = a_token.replacen('.', "-", 1);
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!("validate: wrong secret", InvalidToken, "invalid token", {
            let first = if a_secret.starts_with('A') { 'B' } else { 'A' };
            let t = format!("{a_id}.{first}{}", &a_secret[1..]);
            move |fx| block_on(fx.m.validate(&t))
        }),
        case!(
            "validate: unknown id with a well-formed secret",
            InvalidToken,
            "invalid token",
            {
                let t = format!("{unknown}.{a_secret}");
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!(
            "validate: live id with another session's secret",
            InvalidToken,
            "invalid token",
            {
                let t = format!("{a_id}.{}", secret_of(&r_token));
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!(
            "validate: non-ASCII character in the token",
            InvalidToken,
            "invalid token",
            {
                let t = format!("{}é{}", &a_token[..30], &a_token[32..]);
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!("validate: leading space", InvalidToken, "invalid token", {
            let t = format!(" {a_token}");
            move |fx| block_on(fx.m.validate(&t))
        }),
        case!(
            "validate: trailing newline",
            InvalidToken,
            "invalid token",
            {
                let t = format!("{a_token}\n");
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!(
            "validate: SQL as token",
            InvalidToken,
            "invalid token",
            |fx| block_on(fx.m.validate(SQL_INJECTION))
        ),
        case!(
            "validate: revoked session's token",
            Revoked,
            "session revoked",
            {
                let t = r_token.clone();
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!(
            "validate: deleted session's token",
            InvalidToken,
            "invalid token",
            {
                let t = d_token.clone();
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        // ---- session ids --------------------------------------------------------------------
        case!(
            "id: too short",
            InvalidInput,
            "invalid id: expected a 22-character base64url session id",
            |_fx| SessionId::parse("nope")
        ),
        case!("id: 23 characters", InvalidInput, "invalid id", |_fx| {
            SessionId::parse(&"A".repeat(23))
        }),
        case!("id: padded", InvalidInput, "invalid id", |_fx| {
            SessionId::parse("AAAAAAAAAAAAAAAAAAAA==")
        }),
        case!(
            "id: non-canonical last character",
            InvalidInput,
            "invalid id",
            |_fx| SessionId::parse("AAAAAAAAAAAAAAAAAAAAAB")
        ),
        case!("id: SQL", InvalidInput, "invalid id", |_fx| {
            SessionId::parse(SQL_INJECTION)
        }),
        // ---- listing: cursors, limits, users -----------------------------------------------
        Case {
            name: "list: another user's cursor",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor: cursor belongs to a different listing",
            removes: None,
            run: list("alice", false, 10, Some(&bc)),
        },
        Case {
            name: "list: cursor of the unfiltered listing with active_only",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor: cursor belongs to a different listing",
            removes: None,
            run: list("alice", true, 10, Some(&ac)),
        },
        Case {
            name: "list: garbled cursor",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor: not a cursor returned by list_user_sessions",
            removes: None,
            run: list("alice", false, 10, Some("!!!!")),
        },
        Case {
            name: "list: truncated cursor",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor: not a cursor returned by list_user_sessions",
            removes: None,
            run: list("alice", false, 10, Some(&ac[..ac.len() - 3])),
        },
        Case {
            name: "list: cursor with extra characters",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor: not a cursor returned by list_user_sessions",
            removes: None,
            run: list("alice", false, 10, Some(&format!("{ac}AAAA"))),
        },
        Case {
            name: "list: forged cursor version",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor: unknown cursor version",
            removes: None,
            // The first character carries the high bits of the version byte (1 -> 5).
            run: list("alice", false, 10, Some(&format!("B{}", &ac[1..]))),
        },
        Case {
            name: "list: 1 MiB cursor",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor",
            removes: None,
            run: list("alice", false, 10, Some(&"A".repeat(1 << 20))),
        },
        Case {
            name: "list: SQL as cursor",
            kind: ErrorKind::InvalidInput,
            message: "invalid cursor",
            removes: None,
            run: list("alice", false, 10, Some(SQL_INJECTION)),
        },
        Case {
            name: "list: limit 0",
            kind: ErrorKind::InvalidInput,
            message: "invalid limit: must be between 1 and 1000",
            removes: None,
            run: list("alice", false, 0, None),
        },
        Case {
            name: "list: limit 1001",
            kind: ErrorKind::InvalidInput,
            message: "invalid limit: must be between 1 and 1000",
            removes: None,
            run: list("alice", false, 1001, None),
        },
        Case {
            name: "list: limit u32::MAX",
            kind: ErrorKind::InvalidInput,
            message: "invalid limit: must be between 1 and 1000",
            removes: None,
            run: list("alice", false, u32::MAX, None),
        },
        Case {
            name: "list: empty user_id",
            kind: ErrorKind::InvalidInput,
            message: "invalid user_id: must not be empty",
            removes: None,
            run: list("", false, 10, None),
        },
        Case {
            name: "list: NUL in user_id",
            kind: ErrorKind::InvalidInput,
            message: "invalid user_id: must not contain control characters",
            removes: None,
            run: list("al\0ice", false, 10, None),
        },
        case!(
            "revoke_user_sessions: empty user_id",
            InvalidInput,
            "invalid user_id: must not be empty",
            |fx| block_on(fx.m.revoke_user_sessions("", None))
        ),
        case!(
            "revoke_user_sessions: 257-byte user_id",
            InvalidInput,
            "invalid user_id: must be at most 256 bytes",
            |fx| block_on(fx.m.revoke_user_sessions(&"u".repeat(257), None))
        ),
        case!(
            "count_user_sessions: BEL in user_id",
            InvalidInput,
            "invalid user_id: must not contain control characters",
            |fx| block_on(fx.m.count_user_sessions("a\u{7}", true))
        ),
        case!(
            "export: limit 0",
            InvalidInput,
            "invalid limit: must be at least 1",
            |fx| block_on(fx.m.export(None, 0))
        ),
        // ---- state --------------------------------------------------------------------------
        case!(
            "put_state: over state_max_bytes",
            LimitExceeded,
            "limit exceeded: state_max_bytes",
            |fx| block_on(fx.m.put_state(
                &a_id,
                &json!({ "big": "x".repeat(STATE_MAX as usize) }),
                None
            ))
        ),
        case!(
            "put_state: nested 200 deep",
            InvalidInput,
            "invalid data: nested deeper than",
            |fx| block_on(fx.m.put_state(&a_id, &nested(200), None))
        ),
        case!(
            "put_state: expected version ahead",
            Conflict,
            "version conflict: current version is 1",
            |fx| block_on(fx.m.put_state(&a_id, &json!({}), Some(5)))
        ),
        case!(
            "put_state: expected 0 when there is state",
            Conflict,
            "version conflict: current version is 1",
            |fx| block_on(fx.m.put_state(&a_id, &json!({}), Some(0)))
        ),
        case!(
            "put_state: expected u64::MAX",
            Conflict,
            "version conflict: current version is 1",
            |fx| block_on(fx.m.put_state(&a_id, &json!({}), Some(u64::MAX)))
        ),
        case!(
            "patch_state: wrong expected version",
            Conflict,
            "version conflict: current version is 1",
            |fx| block_on(fx.m.patch_state(&a_id, &json!({ "x": 1 }), Some(2)))
        ),
        case!(
            "patch_state: result over state_max_bytes",
            LimitExceeded,
            "limit exceeded: state_max_bytes",
            |fx| block_on(fx.m.patch_state(
                &a_id,
                &json!({ "big": "x".repeat(STATE_MAX as usize) }),
                Some(1)
            ))
        ),
        case!(
            "put_state: revoked session",
            Revoked,
            "session revoked",
            |fx| block_on(fx.m.put_state(&r_id, &json!({ "n": 2 }), None))
        ),
        case!(
            "put_state: unknown session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.put_state(&unknown, &json!({}), None))
        ),
        case!(
            "put_state: deleted session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.put_state(&d_id, &json!({}), None))
        ),
        case!(
            "patch_state: revoked session",
            Revoked,
            "session revoked",
            |fx| block_on(fx.m.patch_state(&r_id, &json!({ "n": 2 }), Some(1)))
        ),
        case!(
            "clear_state: revoked session",
            Revoked,
            "session revoked",
            |fx| block_on(fx.m.clear_state(&r_id))
        ),
        case!(
            "clear_state: unknown session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.clear_state(&unknown))
        ),
        case!(
            "get_state: unknown session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.get_state(&unknown))
        ),
        // ---- session operations -------------------------------------------------------------
        case!(
            "update_metadata: array patch",
            InvalidInput,
            "invalid patch: must be a JSON object, got an array",
            |fx| block_on(fx.m.update_metadata(&a_id, &json!(["x"])))
        ),
        case!(
            "update_metadata: null patch",
            InvalidInput,
            "invalid patch: must be a JSON object, got null",
            |fx| block_on(fx.m.update_metadata(&a_id, &Value::Null))
        ),
        case!(
            "update_metadata: result over 64 KiB",
            LimitExceeded,
            "limit exceeded: metadata_max_bytes",
            |fx| block_on(fx.m.update_metadata(&a_id, &json!({ "k": "v".repeat(70_000) })))
        ),
        case!(
            "update_metadata: revoked session",
            Revoked,
            "session revoked",
            |fx| block_on(fx.m.update_metadata(&r_id, &json!({ "x": 1 })))
        ),
        case!("touch: revoked session", Revoked, "session revoked", |fx| {
            block_on(fx.m.touch(&r_id))
        }),
        case!(
            "touch: unknown session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.touch(&unknown))
        ),
        case!(
            "rotate: revoked session",
            Revoked,
            "session revoked",
            |fx| block_on(fx.m.rotate(&r_id))
        ),
        case!(
            "rotate: deleted session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.rotate(&d_id))
        ),
        case!(
            "revoke: unknown session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.revoke(&unknown))
        ),
        case!(
            "delete: deleted session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.delete(&d_id))
        ),
        case!(
            "get: unknown session",
            NotFound,
            "session not found",
            |fx| block_on(fx.m.get(&unknown))
        ),
        case!(
            "create: at max_sessions_per_user with reject",
            LimitExceeded,
            "limit exceeded: max_sessions_per_user",
            |fx| {
                let limited = open_with(
                    fx,
                    Config {
                        max_sessions_per_user: Some(2),
                        session_limit_policy: SessionLimitPolicy::Reject,
                        ..config()
                    },
                )?;
                block_on(limited.create(new_session("alice")))
            }
        ),
        // ---- configuration ------------------------------------------------------------------
        case!(
            "config: idle_timeout_ms 0",
            InvalidInput,
            "invalid idle_timeout_ms: must be greater than zero",
            |fx| open_with(fx, bad_config(|c| c.idle_timeout_ms = 0))
        ),
        case!(
            "config: negative idle_timeout_ms",
            InvalidInput,
            "invalid idle_timeout_ms: must be greater than zero",
            |fx| open_with(fx, bad_config(|c| c.idle_timeout_ms = -1))
        ),
        case!(
            "config: negative absolute_timeout_ms",
            InvalidInput,
            "invalid absolute_timeout_ms: must be greater than zero",
            |fx| open_with(fx, bad_config(|c| c.absolute_timeout_ms = -5))
        ),
        case!(
            "config: absolute_timeout_ms i64::MAX",
            InvalidInput,
            "invalid absolute_timeout_ms: must be at most 100 years",
            |fx| open_with(fx, bad_config(|c| c.absolute_timeout_ms = i64::MAX))
        ),
        case!(
            "config: idle_timeout_ms i64::MIN",
            InvalidInput,
            "invalid idle_timeout_ms",
            |fx| open_with(fx, bad_config(|c| c.idle_timeout_ms = i64::MIN))
        ),
        case!(
            "config: idle longer than absolute",
            InvalidInput,
            "invalid idle_timeout_ms: must not be longer than absolute_timeout_ms",
            |fx| open_with(
                fx,
                bad_config(|c| {
                    c.idle_timeout_ms = 10 * MINUTE;
                    c.absolute_timeout_ms = MINUTE;
                    c.touch_interval_ms = 0;
                })
            )
        ),
        case!(
            "config: negative touch_interval_ms",
            InvalidInput,
            "invalid touch_interval_ms: must not be negative",
            |fx| open_with(fx, bad_config(|c| c.touch_interval_ms = -1))
        ),
        case!(
            "config: touch_interval_ms not below idle",
            InvalidInput,
            "invalid touch_interval_ms: must be shorter than idle_timeout_ms",
            |fx| open_with(fx, bad_config(|c| c.touch_interval_ms = c.idle_timeout_ms))
        ),
        case!(
            "config: max_sessions_per_user 0",
            InvalidInput,
            "invalid max_sessions_per_user: must be at least 1",
            |fx| open_with(fx, bad_config(|c| c.max_sessions_per_user = Some(0)))
        ),
        case!(
            "config: state_max_bytes 0",
            InvalidInput,
            "invalid state_max_bytes: must be greater than zero",
            |fx| open_with(fx, bad_config(|c| c.state_max_bytes = 0))
        ),
        case!(
            "config: state_max_bytes 2 GiB",
            InvalidInput,
            "invalid state_max_bytes: must be at most 1 GiB",
            |fx| open_with(fx, bad_config(|c| c.state_max_bytes = 2 << 30))
        ),
        case!(
            "config: state_max_bytes u64::MAX",
            InvalidInput,
            "invalid state_max_bytes: must be at most 1 GiB",
            |fx| open_with(fx, bad_config(|c| c.state_max_bytes = u64::MAX))
        ),
        case!(
            "config: unknown limit policy",
            InvalidInput,
            "invalid session_limit_policy: expected \"reject\" or \"evict_oldest\"",
            |_fx| SessionLimitPolicy::parse("drop_all")
        ),
        // ---- import ---------------------------------------------------------------------------
        Case {
            name: "import: token_hash not base64url",
            kind: ErrorKind::InvalidInput,
            message: "invalid token_hash: must be base64url",
            removes: None,
            run: import(|r| r.token_hash = "not base64!".into()),
        },
        Case {
            name: "import: token_hash of 31 bytes",
            kind: ErrorKind::InvalidInput,
            message: "invalid token_hash: must be 32 bytes",
            removes: None,
            run: import(|r| r.token_hash = "A".repeat(42)),
        },
        Case {
            name: "import: state blob with a flipped bit",
            kind: ErrorKind::Corrupt,
            message: "corrupt data: state",
            removes: None,
            run: import(|r| {
                let state = r.state.as_mut().unwrap();
                let last = state.blob.pop().unwrap();
                state.blob.push(if last == 'A' { 'Q' } else { 'A' });
            }),
        },
        Case {
            name: "import: state version 0",
            kind: ErrorKind::InvalidInput,
            message: "invalid state.version: must be at least 1",
            removes: None,
            run: import(|r| r.state.as_mut().unwrap().version = 0),
        },
        Case {
            name: "import: cleared_state_version beside a state",
            kind: ErrorKind::InvalidInput,
            message:
                "invalid cleared_state_version: must be absent (0) when the session has a state",
            removes: None,
            run: import(|r| r.cleared_state_version = 3),
        },
        Case {
            name: "import: expiry after the absolute expiry",
            kind: ErrorKind::InvalidInput,
            message: "invalid session: times are inconsistent",
            removes: None,
            run: import(|r| r.session.expires_at = r.session.absolute_expires_at + 1),
        },
        Case {
            name: "import: empty user_id",
            kind: ErrorKind::InvalidInput,
            message: "invalid user_id: must not be empty",
            removes: None,
            run: import(|r| r.session.user_id.clear()),
        },
        Case {
            name: "import: user_id with a right-to-left override",
            kind: ErrorKind::InvalidInput,
            message: "invalid user_id: must not contain invisible or bidirectional",
            removes: None,
            run: import(|r| r.session.user_id = "alice\u{202E}nimda".into()),
        },
        Case {
            name: "import: invalid IP",
            kind: ErrorKind::InvalidInput,
            message: "invalid ip: must be an IPv4 or IPv6 address",
            removes: None,
            run: import(|r| r.session.ip = Some("999.1.1.1".into())),
        },
        Case {
            name: "import: terminal escape codes in device",
            kind: ErrorKind::InvalidInput,
            message: "invalid device: must not contain control characters",
            removes: None,
            run: import(|r| r.session.client.device = Some("\u{1b}[2J\u{1b}[31mPixel".into())),
        },
        Case {
            name: "import: device of 257 bytes",
            kind: ErrorKind::InvalidInput,
            message: "invalid device: must be at most 256 bytes",
            removes: None,
            run: import(|r| r.session.client.device = Some("d".repeat(257))),
        },
        Case {
            name: "import: client version with a C1 control",
            kind: ErrorKind::InvalidInput,
            message: "invalid client_version: must not contain control characters",
            removes: None,
            run: import(|r| r.session.client.version = Some("1.0\u{9b}".into())),
        },
        Case {
            name: "import: user agent of 200 KB",
            kind: ErrorKind::InvalidInput,
            message: "invalid user_agent: must be at most 1024 bytes",
            removes: None,
            run: import(|r| r.session.user_agent = Some("a".repeat(200_000))),
        },
        Case {
            name: "import: absolute expiry at i64::MAX",
            kind: ErrorKind::InvalidInput,
            message: "invalid session: absolute_expires_at is further from created_at",
            removes: None,
            run: import(|r| r.session.absolute_expires_at = i64::MAX),
        },
        Case {
            name: "import: idle expiry beyond the idle timeout",
            kind: ErrorKind::InvalidInput,
            message: "invalid session: expires_at is further from last_active_at",
            removes: None,
            run: import(|r| r.session.expires_at = r.session.last_active_at + 31 * MINUTE),
        },
        Case {
            name: "import: created in the future",
            kind: ErrorKind::InvalidInput,
            message: "invalid session: times are in the future",
            removes: None,
            run: import(|r| {
                r.session.created_at += 60 * MINUTE;
                r.session.last_active_at += 60 * MINUTE;
                r.session.expires_at += 60 * MINUTE;
                r.session.absolute_expires_at += 60 * MINUTE;
            }),
        },
        Case {
            name: "import: state written in the future",
            kind: ErrorKind::InvalidInput,
            message: "invalid state.updated_at: must not be in the future",
            removes: None,
            run: import(|r| r.state.as_mut().unwrap().updated_at = i64::MAX),
        },
        Case {
            name: "import: hash of the all-zero secret",
            kind: ErrorKind::InvalidInput,
            message: "invalid token_hash: is the hash of a known secret",
            removes: None,
            run: import(|r| {
                use base64::Engine;
                use sha2::Digest;
                let hash = sha2::Sha256::digest([0u8; 32]);
                r.token_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash);
            }),
        },
        case!(
            "create: user_id with a zero-width space",
            InvalidInput,
            "invalid user_id: must not contain invisible or bidirectional",
            |fx| block_on(fx.m.create(NewSession::new("ad\u{200b}min", ClientKind::Web)))
        ),
    ];

    // ---- expired sessions: refused as Expired, and removed (docs/SPEC.md §1) ----------------
    let expired = fx.expired.clone();
    let e = |i: usize| expired[i].clone();
    let mut on_expired: Vec<Case> = vec![
        case!(
            "validate: expired session's token",
            Expired,
            "session expired",
            {
                let t = e(0).1;
                move |fx| block_on(fx.m.validate(&t))
            }
        ),
        case!("touch: expired session", Expired, "session expired", {
            let id = e(1).0;
            move |fx| block_on(fx.m.touch(&id))
        }),
        case!("put_state: expired session", Expired, "session expired", {
            let id = e(2).0;
            move |fx| block_on(fx.m.put_state(&id, &json!({}), None))
        }),
        case!(
            "patch_state: expired session",
            Expired,
            "session expired",
            {
                let id = e(3).0;
                move |fx| block_on(fx.m.patch_state(&id, &json!({}), Some(1)))
            }
        ),
        case!("rotate: expired session", Expired, "session expired", {
            let id = e(4).0;
            move |fx| block_on(fx.m.rotate(&id))
        }),
        case!(
            "update_metadata: expired session",
            Expired,
            "session expired",
            {
                let id = e(5).0;
                move |fx| block_on(fx.m.update_metadata(&id, &json!({ "x": 1 })))
            }
        ),
    ];
    for (i, case) in on_expired.iter_mut().enumerate() {
        case.removes = Some(expired[i].0);
    }
    cases.extend(on_expired);
    cases
}

#[test]
fn every_bad_input_is_refused_typed_and_changes_nothing() {
    let fx = Fx::new();
    let cases = cases(&fx);
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut names = std::collections::BTreeSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case {:?}", case.name);
        let before = dump::dump(&fx.path);
        let result = (case.run)(&fx);
        let after = dump::dump(&fx.path);
        let err = match result {
            Ok(()) => panic!("{}: accepted, expected {:?}", case.name, case.kind),
            Err(e) => e,
        };
        assert_eq!(err.kind(), case.kind, "{}: {err:?}", case.name);
        let message = err.to_string();
        assert!(
            message.contains(case.message),
            "{}: message {message:?} does not contain {:?}",
            case.name,
            case.message
        );
        let expected = match case.removes {
            None => before.clone(),
            Some(id) => {
                let expected = before.without_session(id.as_bytes());
                assert!(
                    expected.row_count("sessions") < before.row_count("sessions"),
                    "{}: the expired session was not there to begin with",
                    case.name
                );
                expected
            }
        };
        assert!(
            after == expected,
            "{}: stored data changed: {}",
            case.name,
            after.first_difference(&expected)
        );
    }
    println!("{} bad inputs refused", cases.len());
}

#[test]
fn sql_metacharacters_are_stored_and_matched_literally() {
    let fx = Fx::new();
    let before = dump::dump(&fx.path);
    // A user id made of SQL is a valid opaque id: stored as is, and it matches only itself.
    for user in [
        SQL_INJECTION,
        "' OR '1'='1",
        "alice' --",
        "\"; DELETE FROM session_state; --",
    ] {
        assert!(
            block_on(fx.m.list_user_sessions(user, &ListOptions::default()))
                .unwrap()
                .items
                .is_empty()
        );
        assert_eq!(block_on(fx.m.revoke_user_sessions(user, None)).unwrap(), 0);
        assert_eq!(block_on(fx.m.count_user_sessions(user, false)).unwrap(), 0);
    }
    assert!(dump::dump(&fx.path) == before, "lookups changed nothing");

    let mut new = NewSession::new(SQL_INJECTION, ClientKind::Other);
    new.device = Some(SQL_INJECTION.into());
    new.user_agent = Some("Robert'); DROP TABLE session_state;--".into());
    new.metadata = Some(json!({ SQL_INJECTION: SQL_INJECTION }));
    let created = block_on(fx.m.create(new)).unwrap();
    let session = block_on(fx.m.validate(created.token.as_str())).unwrap();
    assert_eq!(session.user_id, SQL_INJECTION);
    assert_eq!(session.client.device.as_deref(), Some(SQL_INJECTION));
    let page = block_on(fx.m.list_user_sessions(SQL_INJECTION, &ListOptions::default())).unwrap();
    assert_eq!(page.items.len(), 1);
    block_on(fx.m.put_state(&session.id, &json!({ "q": SQL_INJECTION }), Some(0))).unwrap();

    let after = dump::dump(&fx.path);
    assert_eq!(
        after.schema, before.schema,
        "no table was dropped or altered"
    );
    assert_eq!(
        after.row_count("sessions"),
        before.row_count("sessions") + 1
    );
    let conn = rusqlite::Connection::open(&fx.path).unwrap();
    let (user, device): (String, String) = conn
        .query_row(
            "SELECT user_id, device FROM sessions WHERE id = ?1",
            [session.id.as_bytes().as_slice()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (user.as_str(), device.as_str()),
        (SQL_INJECTION, SQL_INJECTION)
    );
    // Other users were not matched by the SQL text: alice's sessions are untouched.
    assert!(block_on(fx.m.validate(&fx.alice.1)).is_ok());
}

#[test]
fn unusual_but_valid_user_ids_are_stored_as_given() {
    let fx = Fx::new();
    // The id is opaque and stored byte for byte: not normalised, so an NFC id and its NFD twin
    // are two users. Only control characters and invisible or bidi formatting characters are
    // refused (the bad-input table covers those).
    let exactly_256 = "é".repeat(128);
    let nfc = "Jos\u{e9}";
    let nfd = "Jose\u{301}";
    for user in [
        "用户",
        "🙂",
        "\u{5e9}\u{5dc}\u{5d5}\u{5dd}",
        exactly_256.as_str(),
        " padded ",
        nfc,
        nfd,
    ] {
        let created = block_on(fx.m.create(NewSession::new(user, ClientKind::Web))).unwrap();
        let session = block_on(fx.m.validate(created.token.as_str())).unwrap();
        assert_eq!(session.user_id, user);
        let page = block_on(fx.m.list_user_sessions(user, &ListOptions::default())).unwrap();
        assert_eq!(page.items.len(), 1, "{user:?}");
    }
    assert_eq!(block_on(fx.m.count_user_sessions(nfc, false)).unwrap(), 1);
    assert_eq!(block_on(fx.m.count_user_sessions(nfd, false)).unwrap(), 1);
}

//! Store parity through the engine: one arbitrary sequence of operations runs against
//! `MemoryStore` and `SqliteStore` (one file per process, in `$SESSIONKIT_FUZZ_TMP` or
//! `/dev/shm`, emptied before each run) via two `SessionManager`s sharing one `ManualClock`,
//! and every result must be the same, operation by operation: values, versions, listings and
//! error kinds (with their details).
//!
//! Session ids are random, so each side's ids are mapped to the order in which the sessions
//! appeared, and compared by that. The clock moves at least 1 ms per operation, so no two
//! sessions share a `last_active_at` and orderings never fall back to the (different) ids.

#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pollster::block_on;
use serde_json::{json, Value};
use sessionkit::{
    ClientKind, Config, Error, ListOptions, ManualClock, MemoryStore, NewSession, SessionId,
    SessionLimitPolicy, SessionManager,
};
use sessionkit_fuzz::Json;
use sessionkit_sqlite::SqliteStore;

const USERS: [&str; 3] = ["alice", "bob", "carol"];
const MAX_OPS: usize = 48;

#[derive(Arbitrary, Debug)]
struct Input {
    limit: u8,
    evict: bool,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Create {
        user: u8,
        kind: u8,
        device: Option<String>,
        metadata: Option<Json>,
    },
    Validate {
        session: u8,
        tamper: bool,
    },
    Get {
        session: u8,
    },
    Touch {
        session: u8,
    },
    UpdateMetadata {
        session: u8,
        patch: Json,
    },
    Rotate {
        session: u8,
    },
    Revoke {
        session: u8,
    },
    Delete {
        session: u8,
    },
    List {
        user: u8,
        active_only: bool,
        limit: u8,
    },
    ListWithCursor {
        user: u8,
        cursor: String,
    },
    RevokeUser {
        user: u8,
        except: Option<u8>,
    },
    Cleanup,
    Count {
        user: Option<u8>,
        active_only: bool,
    },
    Stats,
    GetState {
        session: u8,
    },
    PutState {
        session: u8,
        data: Json,
        expected: Option<u8>,
    },
    PatchState {
        session: u8,
        patch: Json,
        expected: Option<u8>,
    },
    ClearState {
        session: u8,
    },
    Advance {
        ms: u16,
    },
}

/// One side: its manager, and its ids and tokens in order of appearance.
struct Side {
    manager: SessionManager,
    ids: Vec<SessionId>,
    tokens: Vec<String>,
    index: HashMap<SessionId, usize>,
}

impl Side {
    fn new(manager: SessionManager) -> Self {
        Side {
            manager,
            ids: Vec::new(),
            tokens: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn learn(&mut self, id: SessionId, token: &str) {
        self.index.insert(id, self.ids.len());
        self.ids.push(id);
        self.tokens.push(token.to_owned());
    }

    /// The session a reference names: one seen so far, or (one past the end) an unknown id.
    fn id(&self, session: u8) -> SessionId {
        let n = usize::from(session) % (self.ids.len() + 1);
        self.ids
            .get(n)
            .copied()
            .unwrap_or(SessionId::from_bytes([0xee; 16]))
    }

    fn token(&self, session: u8, tamper: bool) -> String {
        let n = usize::from(session) % (self.ids.len() + 1);
        let mut token = self.tokens.get(n).cloned().unwrap_or_default();
        // A different character inside the secret (never its last, whose low bits are
        // unused): each side's token is wrong in the same way.
        if tamper && token.len() > 40 {
            let replacement = if token.as_bytes()[40] == b'A' {
                "B"
            } else {
                "A"
            };
            token.replace_range(40..41, replacement);
        }
        token
    }

    /// A session as JSON with its id replaced by its order of appearance.
    fn session(&self, session: &sessionkit::Session) -> Value {
        let mut value = serde_json::to_value(session).unwrap();
        value["id"] = json!(self.index.get(&session.id).copied());
        value
    }
}

/// An error as compared: its kind and the detail every store must agree on.
fn error(err: &Error) -> Value {
    match err {
        Error::Conflict { current_version } => json!({"Conflict": current_version}),
        Error::LimitExceeded { what } => json!({"LimitExceeded": what}),
        Error::InvalidInput { field, .. } => json!({"InvalidInput": field}),
        Error::Corrupt { .. } | Error::Storage { .. } | Error::IncompatibleSchema { .. } => {
            panic!("a store failed: {err:?}")
        }
        other => json!(other.kind().as_str()),
    }
}

fn result<T>(r: sessionkit::Result<T>, ok: impl FnOnce(T) -> Value) -> Value {
    match r {
        Ok(v) => json!({ "ok": ok(v) }),
        Err(e) => json!({ "err": error(&e) }),
    }
}

/// The SQLite side's store, opened once per process (opening, with its schema, costs more
/// than a whole run), and a raw connection that empties it before each run.
struct Sqlite {
    store: Arc<SqliteStore>,
    wipe: Mutex<rusqlite::Connection>,
}

fn sqlite() -> &'static Sqlite {
    static SQLITE: OnceLock<Sqlite> = OnceLock::new();
    SQLITE.get_or_init(|| {
        // scripts/fuzz.sh names a scratch directory it removes afterwards.
        let base = match std::env::var_os("SESSIONKIT_FUZZ_TMP") {
            Some(dir) => PathBuf::from(dir),
            None if std::path::Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
            None => std::env::temp_dir(),
        };
        let path = base.join(format!("differential-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let wipe = rusqlite::Connection::open(&path).unwrap();
        wipe.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        Sqlite {
            store,
            wipe: Mutex::new(wipe),
        }
    })
}

/// Deletes every row of every table (whatever the schema version), leaving the schema.
fn wipe(conn: &rusqlite::Connection) {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut sql = String::from("PRAGMA foreign_keys = OFF; BEGIN;");
    for table in tables {
        sql.push_str(&format!("DELETE FROM \"{}\";", table.replace('"', "\"\"")));
    }
    sql.push_str("COMMIT;");
    conn.execute_batch(&sql).unwrap();
}

async fn run(op: &Op, side: &mut Side) -> Value {
    let m = &side.manager;
    match op {
        Op::Create {
            user,
            kind,
            device,
            metadata,
        } => {
            let mut new = NewSession::new(
                USERS[usize::from(*user) % USERS.len()],
                ClientKind::ALL[usize::from(*kind) % ClientKind::ALL.len()],
            );
            new.device = device.clone();
            new.metadata = metadata.as_ref().map(Json::to_value);
            match m.create(new).await {
                Ok(created) => {
                    side.learn(created.session.id, created.token.as_str());
                    json!({ "ok": side.session(&created.session) })
                }
                Err(e) => json!({ "err": error(&e) }),
            }
        }
        Op::Validate { session, tamper } => {
            let r = m.validate(&side.token(*session, *tamper)).await;
            result(r, |s| side.session(&s))
        }
        Op::Get { session } => result(m.get(&side.id(*session)).await, |s| side.session(&s)),
        Op::Touch { session } => result(m.touch(&side.id(*session)).await, |s| side.session(&s)),
        Op::UpdateMetadata { session, patch } => {
            let r = m
                .update_metadata(&side.id(*session), &patch.to_value())
                .await;
            result(r, |s| side.session(&s))
        }
        Op::Rotate { session } => match m.rotate(&side.id(*session)).await {
            Ok(created) => {
                side.learn(created.session.id, created.token.as_str());
                json!({ "ok": side.session(&created.session) })
            }
            Err(e) => json!({ "err": error(&e) }),
        },
        Op::Revoke { session } => result(m.revoke(&side.id(*session)).await, |()| json!(null)),
        Op::Delete { session } => result(m.delete(&side.id(*session)).await, |()| json!(null)),
        Op::List {
            user,
            active_only,
            limit,
        } => {
            let user = USERS[usize::from(*user) % USERS.len()];
            let mut options = ListOptions {
                active_only: *active_only,
                limit: u32::from(*limit % 4) + 1,
                cursor: None,
            };
            let mut pages = Vec::new();
            loop {
                match m.list_user_sessions(user, &options).await {
                    Ok(page) => {
                        let items: Vec<Value> =
                            page.items.iter().map(|s| side.session(s)).collect();
                        pages.push(json!({ "items": items, "more": page.next_cursor.is_some() }));
                        match page.next_cursor {
                            Some(cursor) if pages.len() < 64 => options.cursor = Some(cursor),
                            _ => break,
                        }
                    }
                    Err(e) => {
                        pages.push(json!({ "err": error(&e) }));
                        break;
                    }
                }
            }
            json!(pages)
        }
        Op::ListWithCursor { user, cursor } => {
            let options = ListOptions {
                cursor: Some(cursor.clone()),
                ..ListOptions::default()
            };
            let user = USERS[usize::from(*user) % USERS.len()];
            result(m.list_user_sessions(user, &options).await, |page| {
                json!(page.items.len())
            })
        }
        Op::RevokeUser { user, except } => {
            let user = USERS[usize::from(*user) % USERS.len()];
            let except = except.map(|s| side.id(s));
            result(m.revoke_user_sessions(user, except.as_ref()).await, |n| {
                json!(n)
            })
        }
        Op::Cleanup => result(m.cleanup_expired().await, |n| json!(n)),
        Op::Count { user, active_only } => match user {
            Some(user) => {
                let user = USERS[usize::from(*user) % USERS.len()];
                result(m.count_user_sessions(user, *active_only).await, |n| {
                    json!(n)
                })
            }
            None => result(m.count_active().await, |n| json!(n)),
        },
        Op::Stats => result(m.stats().await, |s| serde_json::to_value(s).unwrap()),
        Op::GetState { session } => result(m.get_state(&side.id(*session)).await, |s| {
            serde_json::to_value(s).unwrap()
        }),
        Op::PutState {
            session,
            data,
            expected,
        } => {
            let r = m
                .put_state(
                    &side.id(*session),
                    &data.to_value(),
                    expected.map(u64::from),
                )
                .await;
            result(r, |v| json!(v))
        }
        Op::PatchState {
            session,
            patch,
            expected,
        } => {
            let r = m
                .patch_state(
                    &side.id(*session),
                    &patch.to_value(),
                    expected.map(u64::from),
                )
                .await;
            result(r, |v| json!(v))
        }
        Op::ClearState { session } => {
            result(m.clear_state(&side.id(*session)).await, |()| json!(null))
        }
        Op::Advance { .. } => json!(null),
    }
}

fuzz_target!(|input: Input| {
    let config = Config {
        idle_timeout_ms: 20_000,
        absolute_timeout_ms: 60_000,
        touch_interval_ms: 1_000,
        max_sessions_per_user: match input.limit % 4 {
            0 => None,
            n => Some(u32::from(n)),
        },
        session_limit_policy: if input.evict {
            SessionLimitPolicy::EvictOldest
        } else {
            SessionLimitPolicy::Reject
        },
        state_compression_threshold: 64,
        state_max_bytes: 4 * 1024,
        context_policy: sessionkit::ContextPolicy::Signal,
    };
    let clock = ManualClock::new(1_700_000_000_000);
    let sqlite = sqlite();
    wipe(&sqlite.wipe.lock().unwrap());
    let open = |store: Arc<dyn sessionkit::Store>| {
        SessionManager::open_with_clock(store, config.clone(), Arc::new(clock.clone())).unwrap()
    };
    let mut memory = Side::new(open(Arc::new(MemoryStore::new())));
    let mut sql = Side::new(open(sqlite.store.clone()));

    block_on(async {
        for (n, op) in input.ops.iter().take(MAX_OPS).enumerate() {
            let step = match op {
                Op::Advance { ms } => 1 + i64::from(*ms),
                _ => 1,
            };
            clock.advance(step);
            let expected = run(op, &mut memory).await;
            let actual = run(op, &mut sql).await;
            assert_eq!(
                expected, actual,
                "operation {n} ({op:?}): memory store and SQLite store disagree"
            );
        }
    });
});

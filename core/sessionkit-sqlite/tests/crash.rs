//! Crash safety: a child process writes to one SQLite file through `SessionManager` (creates,
//! state puts and patches with compare-and-swap, metadata updates, revocations) and is killed
//! with SIGKILL at random moments, many times over, resuming on the same file each time.
//!
//! The child announces each operation on its stdout before calling it (`@intent …`) and
//! acknowledges it after the call returned `Ok` (`@ack …`), flushing each line. The parent
//! waits on that pipe (never on a timer): after a random number of acknowledgements, plus a
//! random spin, it kills the child, reads what the child printed up to its death, and checks
//! the database against a model of every acknowledged operation:
//!
//! - `PRAGMA integrity_check` is `ok` and `PRAGMA foreign_key_check` finds nothing, on a raw
//!   connection; `SqliteStore::open` then opens the file;
//! - every session and every state decodes (no `Corrupt`);
//! - every acknowledged operation is there, exactly: sessions with their fields and metadata,
//!   state versions and contents, revoked sessions still revoked;
//! - the one operation in flight at the kill is either wholly applied or not at all (an
//!   unknown session must be the announced one, complete; a state is the old one or the
//!   announced one), and nothing else changed.
//!
//! `SESSIONKIT_CRASH_KILLS` sets the number of kills (default 24; the long mode is 200) and
//! `SESSIONKIT_CRASH_SEED` the seed (default: from the clock; printed either way).
//!
//! ```sh
//! SESSIONKIT_CRASH_KILLS=200 cargo test -p sessionkit-sqlite --test crash -- --nocapture
//! ```

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use pollster::block_on;
use serde_json::{json, Map, Value};
use sessionkit::{
    ClientKind, Config, ErrorKind, ManualClock, NewSession, SessionId, SessionManager,
};
use sessionkit_sqlite::SqliteStore;

use common::Rng;

/// Set in the child's environment: `<seed> <database path>`.
const CHILD_ENV: &str = "SESSIONKIT_CRASH_CHILD";
const KILLS_ENV: &str = "SESSIONKIT_CRASH_KILLS";
const SEED_ENV: &str = "SESSIONKIT_CRASH_SEED";
const DEFAULT_KILLS: u64 = 24;
/// SIGKILL's number (9 on every Unix); `Child::kill` sends it.
const SIGKILL: i32 = 9;
const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
const START_MS: i64 = 1_700_000_000_000;
/// A child stops by itself after this many operations (it is always killed long before).
const CHILD_MAX_OPS: u64 = 100_000;

/// Sessions never expire during the test: time stands still and the timeouts are long.
fn manager(path: &Path) -> SessionManager {
    let config = Config {
        idle_timeout_ms: 365 * 86_400_000,
        absolute_timeout_ms: 365 * 86_400_000,
        ..Config::default()
    };
    let store = SqliteStore::open(path).expect("open the store");
    SessionManager::open_with_clock(
        Arc::new(store),
        config,
        Arc::new(ManualClock::new(START_MS)),
    )
    .expect("open the manager")
}

/// State content `n`: small, medium, large and compressible (stored with zstd), or large and
/// noisy, so both codecs and several page sizes are written.
fn content(n: u64) -> Value {
    let mut rng = Rng::new(n);
    match n % 4 {
        0 => json!({ "n": n, "tab": "inbox" }),
        1 => {
            json!({ "n": n, "items": (0..40).map(|i| format!("item {i} of {n}")).collect::<Vec<_>>() })
        }
        2 => json!({ "n": n, "text": format!("same words again {n} ").repeat(1_500) }),
        _ => {
            json!({ "n": n, "noise": (0..800).map(|_| format!("{:016x}", rng.next())).collect::<String>() })
        }
    }
}

/// The state patch `n` (RFC 7396): sets two keys, removes one.
fn state_patch(n: u64) -> Value {
    json!({ "patched": n, format!("k{}", n % 5): n, format!("k{}", (n + 2) % 5): null })
}

/// The metadata patch `n`.
fn metadata_patch(n: u64) -> Value {
    json!({ format!("m{}", n % 4): n, "last": n, format!("m{}", (n + 1) % 4): null })
}

/// The metadata a session is created with.
fn initial_metadata(n: u64) -> Value {
    json!({ "n": n, "pad": "p".repeat((n % 300) as usize) })
}

/// RFC 7396, for the model.
fn merge(target: &Value, patch: &Value) -> Value {
    let Value::Object(patch) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    for (key, value) in patch {
        if value.is_null() {
            out.remove(key);
        } else {
            let current = out.get(key).cloned().unwrap_or(Value::Null);
            out.insert(key.clone(), merge(&current, value));
        }
    }
    Value::Object(out)
}

// ---- the child ------------------------------------------------------------------------------

/// The child process: started by `crash_safety_under_sigkill` with `CHILD_ENV` set; does
/// nothing otherwise.
#[test]
#[ignore = "the writer process of crash_safety_under_sigkill, which starts it"]
fn crash_writer_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (seed, path) = spec.split_once(' ').expect("`<seed> <path>`");
    let seed: u64 = seed.parse().expect("seed");
    block_on(write_until_killed(seed, Path::new(path)));
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The parent gone, there is no one left to report to.
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

async fn write_until_killed(seed: u64, path: &Path) {
    let m = manager(path);
    let mut rng = Rng::new(seed);
    // Resume: the live sessions already in the file.
    let mut live: Vec<SessionId> = Vec::new();
    let mut after = None;
    loop {
        let page = m.export(after.as_ref(), 500).await.expect("export");
        let Some(last) = page.last() else { break };
        after = Some(last.session.id);
        live.extend(
            page.iter()
                .filter(|r| r.session.active)
                .map(|r| r.session.id),
        );
    }
    for _ in 0..CHILD_MAX_OPS {
        // Distinct across cycles: names contents and patches.
        let n = rng.next() >> 16;
        let roll = rng.below(100);
        if live.is_empty() || roll < 20 {
            let user = USERS[rng.below(USERS.len() as u64) as usize];
            say(&format!("@intent create {n} {user}"));
            let mut new = NewSession::new(user, ClientKind::Mobile);
            new.device = Some(format!("device {n}"));
            new.metadata = Some(initial_metadata(n));
            let created = m.create(new).await.expect("create");
            live.push(created.session.id);
            say(&format!("@ack create {n} {user} {}", created.session.id));
            continue;
        }
        let id = live[rng.below(live.len() as u64) as usize];
        let version = m
            .get_state(&id)
            .await
            .expect("get_state")
            .map_or(0, |s| s.version);
        if roll < 55 {
            say(&format!("@intent put {id} {} {n}", version + 1));
            let written = m
                .put_state(&id, &content(n), Some(version))
                .await
                .expect("put_state");
            say(&format!("@ack put {id} {written} {n}"));
        } else if roll < 70 {
            say(&format!("@intent patch {id} {} {n}", version + 1));
            let written = m
                .patch_state(&id, &state_patch(n), Some(version))
                .await
                .expect("patch_state");
            say(&format!("@ack patch {id} {written} {n}"));
        } else if roll < 90 {
            say(&format!("@intent meta {id} {n}"));
            m.update_metadata(&id, &metadata_patch(n))
                .await
                .expect("update_metadata");
            say(&format!("@ack meta {id} {n}"));
        } else {
            say(&format!("@intent revoke {id}"));
            m.revoke(&id).await.expect("revoke");
            live.retain(|other| *other != id);
            say(&format!("@ack revoke {id}"));
        }
    }
}

// ---- the parent -----------------------------------------------------------------------------

/// What the acknowledged operations say a session is.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    user: String,
    device: String,
    metadata: Value,
    active: bool,
    /// `(version, data)`.
    state: Option<(u64, Value)>,
}

/// An operation the child announced.
#[derive(Debug, Clone)]
enum Op {
    Create { n: u64, user: String },
    Put { id: SessionId, version: u64, n: u64 },
    Patch { id: SessionId, version: u64, n: u64 },
    Meta { id: SessionId, n: u64 },
    Revoke { id: SessionId },
}

fn parse(words: &[&str]) -> (Op, Option<SessionId>) {
    let id = |w: &str| SessionId::parse(w).expect("session id");
    let num = |w: &str| w.parse::<u64>().expect("number");
    match words {
        ["create", n, user] => (
            Op::Create {
                n: num(n),
                user: user.to_string(),
            },
            None,
        ),
        ["create", n, user, created] => (
            Op::Create {
                n: num(n),
                user: user.to_string(),
            },
            Some(id(created)),
        ),
        ["put", s, v, n] => (
            Op::Put {
                id: id(s),
                version: num(v),
                n: num(n),
            },
            None,
        ),
        ["patch", s, v, n] => (
            Op::Patch {
                id: id(s),
                version: num(v),
                n: num(n),
            },
            None,
        ),
        ["meta", s, n] => (
            Op::Meta {
                id: id(s),
                n: num(n),
            },
            None,
        ),
        ["revoke", s] => (Op::Revoke { id: id(s) }, None),
        other => panic!("unexpected line {other:?}"),
    }
}

/// `expected` with `op` applied (`created` names the session a create made).
fn apply(model: &mut BTreeMap<SessionId, Expected>, op: &Op, created: Option<SessionId>) {
    match op {
        Op::Create { n, user } => {
            let id = created.expect("a create names its session");
            let fresh = Expected {
                user: user.clone(),
                device: format!("device {n}"),
                metadata: initial_metadata(*n),
                active: true,
                state: None,
            };
            assert!(
                model.insert(id, fresh).is_none(),
                "session {id} created twice"
            );
        }
        Op::Put { id, version, n } => {
            let s = model.get_mut(id).expect("put on a known session");
            s.state = Some((*version, content(*n)));
        }
        Op::Patch { id, version, n } => {
            let s = model.get_mut(id).expect("patch on a known session");
            let current = s
                .state
                .as_ref()
                .map_or(Value::Null, |(_, data)| data.clone());
            s.state = Some((*version, merge(&current, &state_patch(*n))));
        }
        Op::Meta { id, n } => {
            let s = model.get_mut(id).expect("meta on a known session");
            s.metadata = merge(&s.metadata, &metadata_patch(*n));
        }
        Op::Revoke { id } => model.get_mut(id).expect("revoke of a known session").active = false,
    }
}

/// Everything in the database, read back through the store (every state decoded).
fn read_back(path: &Path) -> BTreeMap<SessionId, Expected> {
    let raw = rusqlite::Connection::open(path).expect("raw open");
    let integrity: String = raw
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok", "integrity_check after a kill");
    let dangling: i64 = raw
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .expect("foreign_key_check");
    assert_eq!(
        dangling, 0,
        "rows referring to missing sessions after a kill"
    );
    drop(raw);

    let m = manager(path);
    block_on(async {
        let mut found = BTreeMap::new();
        let mut after = None;
        loop {
            let page = m
                .export(after.as_ref(), 500)
                .await
                .expect("export after a kill");
            let Some(last) = page.last() else { break };
            after = Some(last.session.id);
            for record in page {
                let session = m.get(&record.session.id).await.expect("get after a kill");
                let state = match m.get_state(&session.id).await {
                    Ok(state) => state.map(|s| (s.version, s.data)),
                    Err(e) => {
                        assert_ne!(e.kind(), ErrorKind::Corrupt, "state of {}", session.id);
                        panic!("get_state of {} after a kill: {e}", session.id);
                    }
                };
                let stored = Expected {
                    user: session.user_id.clone(),
                    device: session.client.device.clone().unwrap_or_default(),
                    metadata: Value::Object(session.metadata.clone()),
                    active: session.active,
                    state,
                };
                found.insert(session.id, stored);
            }
        }
        found
    })
}

/// Kills the child if the test fails while it runs.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default)]
struct Counts {
    kills: u64,
    acked: u64,
    checks: u64,
    in_flight_applied: u64,
    in_flight_absent: u64,
}

#[test]
fn crash_safety_under_sigkill() {
    let kills: u64 = std::env::var(KILLS_ENV)
        .ok()
        .map(|v| v.parse().expect("SESSIONKIT_CRASH_KILLS is a number"))
        .unwrap_or(DEFAULT_KILLS);
    let seed: u64 = std::env::var(SEED_ENV)
        .ok()
        .map(|v| v.parse().expect("SESSIONKIT_CRASH_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("crash test: seed {seed} (rerun with {SEED_ENV}={seed}), {kills} kills");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = Rng::new(seed);
    let mut model: BTreeMap<SessionId, Expected> = BTreeMap::new();
    let mut counts = Counts::default();

    for cycle in 0..kills {
        let child = Command::new(&exe)
            .args(["--exact", "crash_writer_child", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(
                CHILD_ENV,
                format!("{} {}", seed ^ (cycle + 1), path.display()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the writer");
        let mut child = Running(child);
        let mut out = BufReader::new(child.0.stdout.take().expect("stdout"));

        // Kill after this many acknowledgements (plus a spin, so the kill lands anywhere in
        // the next operation: before, inside or after its transaction).
        let kill_after = 1 + rng.below(30);
        let spin = rng.below(3_000_000);
        let mut acks_seen = 0;
        let mut pending: Option<Op> = None;
        let mut line = String::new();
        let mut killed = false;
        loop {
            line.clear();
            let read = out.read_line(&mut line).expect("read the writer's output");
            if read == 0 {
                break;
            }
            // A line cut by the kill is no acknowledgement.
            let Some(complete) = line.strip_suffix('\n') else {
                break;
            };
            // The harness starts its own line (`test crash_writer_child ... `) before the
            // child's first output, so a message may follow other text on its line.
            let message = complete.find('@').map_or("", |at| &complete[at..]);
            let words: Vec<&str> = message.split(' ').collect();
            match words.first() {
                Some(&"@intent") => {
                    assert!(pending.is_none(), "two operations in flight");
                    pending = Some(parse(&words[1..]).0);
                }
                Some(&"@ack") => {
                    let (op, created) = parse(&words[1..]);
                    assert!(
                        pending.take().is_some(),
                        "acknowledged without intent: {op:?}"
                    );
                    apply(&mut model, &op, created);
                    counts.acked += 1;
                    acks_seen += 1;
                    if acks_seen == kill_after && !killed {
                        let mut x = 0u64;
                        for i in 0..spin {
                            x = std::hint::black_box(x.wrapping_add(i));
                        }
                        child.0.kill().expect("SIGKILL");
                        killed = true;
                    }
                }
                // The test harness's own lines.
                _ => {}
            }
        }
        let status = child.0.wait().expect("wait for the writer");
        assert_eq!(
            status.signal(),
            Some(SIGKILL),
            "the writer ended by itself ({status}) in cycle {cycle}"
        );
        counts.kills += 1;

        // Check the file against the model, allowing the operation in flight either way.
        let found = read_back(&path);
        let mut with_pending = model.clone();
        let pending_applies = match &pending {
            None => false,
            Some(op @ Op::Create { n, user }) => {
                let extra: Vec<_> = found.keys().filter(|id| !model.contains_key(id)).collect();
                match extra.as_slice() {
                    [] => false,
                    [id] => {
                        apply(&mut with_pending, op, Some(**id));
                        assert_eq!(
                            found[*id], with_pending[*id],
                            "half-made session {n} of {user}"
                        );
                        true
                    }
                    many => panic!("{} unknown sessions after one create", many.len()),
                }
            }
            Some(op) => {
                apply(&mut with_pending, op, None);
                found == with_pending
            }
        };
        if pending_applies {
            assert_eq!(
                found, with_pending,
                "cycle {cycle}: in-flight {pending:?} half-applied"
            );
            model = with_pending;
            counts.in_flight_applied += 1;
        } else {
            if found != model {
                report_difference(&model, &found);
                panic!("cycle {cycle} (seed {seed}): database differs from the acknowledged operations (in flight: {pending:?})");
            }
            counts.in_flight_absent += u64::from(pending.is_some());
        }
        counts.checks += counts.acked;
    }

    println!(
        "crash test: seed {seed}: {} kills survived, {} acknowledged operations verified \
         ({} re-checks across kills), {} sessions; the operation in flight at a kill was \
         applied {} times and absent {} times",
        counts.kills,
        counts.acked,
        counts.checks,
        model.len(),
        counts.in_flight_applied,
        counts.in_flight_absent
    );
    assert!(
        counts.acked >= kills,
        "each cycle acknowledges at least one operation"
    );
}

fn report_difference(model: &BTreeMap<SessionId, Expected>, found: &BTreeMap<SessionId, Expected>) {
    for (id, expected) in model {
        match found.get(id) {
            None => eprintln!("missing session {id}: {expected:?}"),
            Some(stored) if stored != expected => {
                eprintln!("session {id}\n  expected {expected:?}\n  found    {stored:?}")
            }
            Some(_) => {}
        }
    }
    for id in found.keys().filter(|id| !model.contains_key(id)) {
        eprintln!("unexpected session {id}");
    }
}

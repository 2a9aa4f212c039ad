//! Parity with the reference store: long pseudo-random sequences of every `Store` operation run
//! against `MemoryStore` and `SqliteStore`, and every result — outcomes, records, orderings,
//! errors — must be equal. Few ids, few users and a narrow clock make collisions, ties in
//! activity and expiry, revoked and expired sessions common.

mod common;

use std::collections::BTreeMap;
use std::fmt::Debug;

use pollster::block_on;
use serde_json::{Map, Value};
use sessionkit::{
    ClientInfo, ClientKind, Liveness, MaintenanceStore, MemoryStore, Session, SessionId,
    SessionLimit, SessionLimitPolicy, SessionPosition, SessionRecord, SessionStore, StateRecord,
    StatsQuery, Store, StoredSession, TokenHash, UserPageQuery,
};

use common::Rng;

const USERS: [&str; 3] = ["alice", "bob", "carol"];

struct World {
    rng: Rng,
    ids: Vec<SessionId>,
    now: i64,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let ids = (0..24)
            .map(|i| {
                let mut bytes = [0u8; 16];
                // Some ids share a long prefix so byte order (not just the first byte) matters.
                bytes[0] = if i % 3 == 0 { 0x80 } else { rng.next() as u8 };
                for b in &mut bytes[1..] {
                    *b = if i % 3 == 0 { 0 } else { rng.next() as u8 };
                }
                bytes[15] = i as u8;
                SessionId::from_bytes(bytes)
            })
            .collect();
        World {
            rng,
            ids,
            now: 1_700_000_000_000,
        }
    }

    fn id(&mut self) -> SessionId {
        *self.rng.pick(&self.ids)
    }

    fn time(&mut self) -> i64 {
        self.now - 3_000 + self.rng.below(7) as i64 * 1_000
    }

    fn metadata(&mut self) -> Map<String, Value> {
        let mut map = Map::new();
        for key in ["b", "a", "ü", "z"] {
            if self.rng.chance(40) {
                map.insert(key.to_owned(), Value::from(self.rng.below(3)));
            }
        }
        if self.rng.chance(10) {
            map.insert(
                "nested".to_owned(),
                serde_json::json!({"y": [1.5, null, "s"]}),
            );
        }
        map
    }

    fn record(&mut self) -> SessionRecord {
        let created_at = self.time() - 2_000;
        let last_active_at = created_at + self.rng.below(3) as i64 * 1_000;
        let kind = *self.rng.pick(&ClientKind::ALL);
        let some = |rng: &mut Rng, text: &str| rng.chance(50).then(|| text.to_owned());
        SessionRecord {
            metadata_revision: self.rng.below(3),
            session: Session {
                id: self.id(),
                user_id: self.rng.pick(&USERS).to_string(),
                created_at,
                last_active_at,
                expires_at: last_active_at + self.rng.below(6) as i64 * 1_000,
                absolute_expires_at: created_at + 100_000,
                client: ClientInfo {
                    kind,
                    version: some(&mut self.rng, "2.0"),
                    device: some(&mut self.rng, "Pixel 8"),
                },
                ip: some(&mut self.rng, "2001:db8::1"),
                user_agent: some(&mut self.rng, "Mozilla/5.0"),
                active: !self.rng.chance(10),
                metadata: self.metadata(),
            },
            token_hash: TokenHash::from_bytes([self.rng.next() as u8; 32]),
        }
    }

    fn state(&mut self) -> StateRecord {
        let len = self.rng.below(40) as usize;
        StateRecord {
            version: 1 + self.rng.below(5),
            blob: (0..len).map(|_| self.rng.next() as u8).collect(),
            updated_at: self.time(),
        }
    }

    fn limit(&mut self) -> Option<SessionLimit> {
        self.rng.chance(60).then(|| SessionLimit {
            max: 1 + self.rng.below(3) as u32,
            policy: if self.rng.chance(50) {
                SessionLimitPolicy::Reject
            } else {
                SessionLimitPolicy::EvictOldest
            },
            live: Liveness { now: self.now },
        })
    }
}

/// Asserts both results are equal and names the outcome (for the coverage check).
fn same<T: PartialEq + Debug>(step: usize, op: &str, memory: T, sqlite: T) -> String {
    assert_eq!(memory, sqlite, "step {step}: {op} differs (left: memory)");
    let text = format!("{memory:?}");
    let outcome = if let Some(rest) = text.strip_prefix("Ok(") {
        if rest.starts_with("[]") || rest.starts_with("0)") || rest.starts_with("None") {
            "empty".to_owned()
        } else if rest.starts_with('[') || rest.starts_with("Some") {
            "some".to_owned()
        } else if rest.contains("evicted: [S") {
            "Inserted+evicted".to_owned()
        } else if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            "number".to_owned()
        } else {
            rest.split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("")
                .to_owned()
        }
    } else {
        text.split(|c: char| !c.is_alphanumeric())
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!("{op}:{outcome}")
}

/// Runs one random operation on both stores, compares the results and names the outcome.
fn step(step: usize, w: &mut World, memory: &MemoryStore, sqlite: &dyn Store) -> String {
    macro_rules! both {
        ($name:literal, |$s:ident| $body:expr) => {{
            let m = {
                let $s: &dyn Store = memory;
                block_on(async { $body })
            };
            let q = {
                let $s: &dyn Store = sqlite;
                block_on(async { $body })
            };
            same(step, $name, m, q)
        }};
    }

    let outcome = match w.rng.below(20) {
        0..=2 => {
            let record = w.record();
            let limit = w.limit();
            both!("insert_session", |s| s
                .insert_session(&record, limit.as_ref())
                .await)
        }
        3 => {
            let id = w.id();
            both!("get_session", |s| s.get_session(&id).await)
        }
        4 => {
            let id = w.id();
            let at = w.time();
            let expires = at + w.rng.below(4) as i64 * 1_000;
            both!("touch_session", |s| s.touch_session(&id, at, expires).await)
        }
        5 => {
            let id = w.id();
            let current = block_on(memory.get_session(&id)).unwrap();
            let expected = match current {
                Some(r) if !w.rng.chance(20) => r.metadata_revision,
                _ => 99,
            };
            let metadata = w.metadata();
            both!("replace_metadata", |s| s
                .replace_metadata(&id, expected, &metadata, expected + 1)
                .await)
        }
        6 => {
            let old = w.id();
            let new = w.record();
            both!("rotate_session", |s| s.rotate_session(&old, &new).await)
        }
        7 => {
            let id = w.id();
            both!("revoke_session", |s| s.revoke_session(&id).await)
        }
        8 => {
            let id = w.id();
            both!("delete_session", |s| s.delete_session(&id).await)
        }
        9 | 10 => {
            let after = if w.rng.chance(50) {
                None
            } else {
                Some(SessionPosition {
                    last_active_at: w.time(),
                    id: w.id(),
                })
            };
            let query = UserPageQuery {
                user_id: w.rng.pick(&USERS).to_string(),
                live: w.rng.chance(50).then_some(Liveness { now: w.now }),
                after,
                limit: w.rng.below(6) as u32,
            };
            both!("list_user_sessions", |s| s.list_user_sessions(&query).await)
        }
        11 => {
            let user = *w.rng.pick(&USERS);
            let except = w.rng.chance(50).then(|| w.id());
            let live = Liveness { now: w.now };
            both!("revoke_user_sessions", |s| s
                .revoke_user_sessions(user, except.as_ref(), &live)
                .await
                .map(sorted))
        }
        12 => {
            let max = w.rng.below(4) as u32;
            let live = Liveness { now: w.now };
            both!("delete_expired", |s| s.delete_expired(&live, max).await)
        }
        13 => {
            let user = w.rng.chance(60).then(|| *w.rng.pick(&USERS));
            let live = w.rng.chance(50).then_some(Liveness { now: w.now });
            both!("count_sessions", |s| s
                .count_sessions(user, live.as_ref())
                .await)
        }
        14 => {
            let query = stats_query(w.now);
            both!("stats", |s| s.stats(&query).await.map(|mut st| {
                st.by_client_kind.sort_unstable();
                st
            }))
        }
        15 => {
            let id = w.id();
            both!("get_state", |s| s.get_state(&id).await)
        }
        16 => {
            let id = w.id();
            let expected = w.rng.chance(60).then(|| w.rng.below(4));
            let state = w.state();
            both!("put_state", |s| s
                .put_state(&id, expected, &state.blob, state.updated_at)
                .await)
        }
        17 => {
            let id = w.id();
            both!("clear_state", |s| s.clear_state(&id).await)
        }
        18 => {
            let after = w.rng.chance(50).then(|| w.id());
            let limit = w.rng.below(8) as u32;
            both!("scan_sessions", |s| s
                .scan_sessions(after.as_ref(), limit)
                .await)
        }
        _ => {
            let record = w.record();
            let state = w.rng.chance(50).then(|| w.state());
            let cleared = match state {
                None if w.rng.chance(30) => w.rng.below(9),
                _ => 0,
            };
            let session = StoredSession {
                record,
                state,
                cleared_state_version: cleared,
            };
            both!("import_session", |s| s.import_session(&session).await)
        }
    };
    // The clock moves on, slowly enough that many sessions stay live.
    if w.rng.chance(20) {
        w.now += 1_000;
    }
    outcome
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort_unstable();
    items
}

fn stats_query(now: i64) -> StatsQuery {
    StatsQuery {
        live: Liveness { now },
        created_since: [now - 86_400_000, now - 7 * 86_400_000],
    }
}

fn everything(store: &dyn Store) -> Vec<StoredSession> {
    block_on(store.scan_sessions(None, u32::MAX)).unwrap()
}

#[test]
fn random_operation_sequences_match_the_memory_store() {
    let mut seen = BTreeMap::<String, usize>::new();
    for seed in [1, 0x5eed, 0xdead_beef, 42_424_242] {
        let memory = MemoryStore::new();
        let (_dir, _path, sqlite) = common::temp_store();
        let mut world = World::new(seed);
        for i in 0..3_000 {
            *seen
                .entry(step(i, &mut world, &memory, &sqlite))
                .or_default() += 1;
            if i % 500 == 0 {
                assert_eq!(
                    everything(&memory),
                    everything(&sqlite),
                    "seed {seed}, step {i}"
                );
            }
        }
        assert_eq!(
            everything(&memory),
            everything(&sqlite),
            "seed {seed}: final contents"
        );
    }
    // The comparison only means something if the runs reached every interesting outcome.
    let required = [
        "insert_session:Inserted",
        "insert_session:Inserted+evicted",
        "insert_session:LimitReached",
        "insert_session:IdTaken",
        "get_session:some",
        "get_session:empty",
        "touch_session:Applied",
        "touch_session:Missing",
        "touch_session:Inactive",
        "replace_metadata:Applied",
        "replace_metadata:Stale",
        "replace_metadata:Missing",
        "replace_metadata:Inactive",
        "rotate_session:Applied",
        "rotate_session:IdTaken",
        "rotate_session:Missing",
        "rotate_session:Inactive",
        "revoke_session:Applied",
        "revoke_session:Inactive",
        "delete_session:true",
        "delete_session:false",
        "list_user_sessions:some",
        "list_user_sessions:empty",
        "revoke_user_sessions:some",
        "delete_expired:number",
        "count_sessions:number",
        "stats:StoreStats",
        "get_state:Found",
        "get_state:Empty",
        "get_state:NoSession",
        "put_state:Written",
        "put_state:Conflict",
        "put_state:Missing",
        "put_state:Inactive",
        "clear_state:Applied",
        "scan_sessions:some",
        "import_session:true",
        "import_session:false",
    ];
    let missing: Vec<&str> = required
        .into_iter()
        .filter(|key| !seen.contains_key(*key))
        .collect();
    assert!(
        missing.is_empty(),
        "never reached {missing:?}; saw {seen:#?}"
    );
}

#[test]
fn stats_sums_durations_exactly_at_the_extremes() {
    let memory = MemoryStore::new();
    let (_dir, _path, sqlite) = common::temp_store();
    let extremes = [
        (i64::MIN, i64::MAX),
        (i64::MIN, i64::MAX),
        (i64::MAX, i64::MIN),
        (-1, 0),
        (0, -1),
        (i64::MIN + 1, 1 << 40),
        (-(1 << 33) - 7, (1 << 32) + 3),
    ];
    for (n, (created_at, last_active_at)) in extremes.into_iter().enumerate() {
        let mut record = common::record(common::id(n as u8), "u", created_at, i64::MAX);
        record.session.last_active_at = last_active_at;
        for store in [&memory as &dyn Store, &sqlite] {
            let session = StoredSession::new(record.clone(), None);
            assert!(block_on(store.import_session(&session)).unwrap());
        }
        // (MemoryStore computes `now - 24h` unchecked, so `now` stays clear of i64::MIN.)
        for now in [0, 1_700_000_000_000, i64::MAX] {
            let m = block_on(memory.stats(&stats_query(now))).unwrap();
            let mut s = block_on(sqlite.stats(&stats_query(now))).unwrap();
            s.by_client_kind.sort_unstable();
            assert_eq!(m, s, "after {n} sessions, now {now}");
        }
    }
}

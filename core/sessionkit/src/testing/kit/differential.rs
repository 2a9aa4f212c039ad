//! The seeded differential run: long pseudo-random sequences of every store method run against
//! [`MemoryStore`], the reference, and the store under test, and every result — outcomes,
//! records, errors — must be equal. Few ids, few users and a narrow clock make collisions, ties
//! in activity and expiry, revoked and expired sessions, limits, imports and cleared state
//! versions common. Orders the contract leaves to the store (revoked positions, kinds in the
//! statistics) are compared sorted.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde_json::{Map, Value};

use crate::store::*;
use crate::{
    ClientInfo, ClientKind, MemoryStore, Session, SessionId, SessionLimitPolicy, TokenHash,
};

const USERS: [&str; 3] = ["alice", "bob", "carol"];

/// xorshift64*: deterministic, so a failing seed can be replayed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

struct World {
    rng: Rng,
    ids: Vec<SessionId>,
    now: i64,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
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

    /// Bounds at `now`, with configured timeouts that sometimes expire sessions whose stored
    /// expiry is still ahead.
    fn live(&mut self) -> Liveness {
        let idle = [i64::MAX, 2_500, 4_000][self.rng.below(3) as usize];
        let absolute = [i64::MAX, 4_500, 6_000][self.rng.below(3) as usize];
        Liveness {
            now: self.now,
            idle_cutoff: self.now.saturating_sub(idle),
            absolute_cutoff: self.now.saturating_sub(absolute),
        }
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
            live: self.live(),
        })
    }

    fn stats_query(&mut self) -> StatsQuery {
        StatsQuery {
            live: self.live(),
            created_since: [self.now - 2_000, self.now - 4_000],
        }
    }
}

/// Names the outcome of a result (for the coverage check).
fn outcome_name<T: Debug>(op: &str, result: &T) -> String {
    let text = format!("{result:?}");
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

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort_unstable();
    items
}

fn sorted_stats(mut stats: StoreStats) -> StoreStats {
    stats.by_client_kind.sort_unstable();
    stats
}

/// Runs one random operation on both stores; `Err` when the results differ, else the outcome.
async fn step(w: &mut World, memory: &dyn Store, store: &dyn Store) -> Result<String, String> {
    macro_rules! both {
        ($name:literal, |$s:ident| $body:expr) => {{
            let m = {
                let $s: &dyn Store = memory;
                $body
            };
            let q = {
                let $s: &dyn Store = store;
                $body
            };
            if m != q {
                return Err(format!(
                    "{} differs:\n  memory: {m:?}\n  store:  {q:?}",
                    $name
                ));
            }
            outcome_name($name, &m)
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
            let live = w.live();
            both!("touch_session", |s| s
                .touch_session(&id, at, expires, &live)
                .await)
        }
        5 => {
            let id = w.id();
            let expected = match memory.get_session(&id).await {
                Ok(Some(r)) if !w.rng.chance(20) => r.metadata_revision,
                _ => w.rng.below(3),
            };
            let metadata = w.metadata();
            both!("replace_metadata", |s| s
                .replace_metadata(&id, expected, &metadata, expected + 1)
                .await)
        }
        6 => {
            let old = w.id();
            let expected = match memory.get_session(&old).await {
                Ok(Some(r)) if !w.rng.chance(20) => r.metadata_revision,
                _ => w.rng.below(3),
            };
            let new = w.record();
            both!("rotate_session", |s| s
                .rotate_session(&old, expected, &new)
                .await)
        }
        7 => {
            let id = w.id();
            both!("revoke_session", |s| s.revoke_session(&id).await)
        }
        8 => {
            let id = w.id();
            if w.rng.chance(50) {
                both!("delete_session", |s| s.delete_session(&id).await)
            } else {
                let live = w.live();
                both!("delete_expired_session", |s| s
                    .delete_expired_session(&id, &live)
                    .await)
            }
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
                live: w.rng.chance(50).then(|| w.live()),
                after,
                limit: w.rng.below(6) as u32,
            };
            both!("list_user_sessions", |s| s.list_user_sessions(&query).await)
        }
        11 => {
            let user = *w.rng.pick(&USERS);
            let except = w.rng.chance(50).then(|| w.id());
            let live = w.live();
            both!("revoke_user_sessions", |s| s
                .revoke_user_sessions(user, except.as_ref(), &live)
                .await
                .map(sorted))
        }
        12 => {
            let max = w.rng.below(4) as u32;
            let live = w.live();
            both!("delete_expired", |s| s.delete_expired(&live, max).await)
        }
        13 if w.rng.chance(15) => {
            let after = w.rng.chance(60).then(|| w.id());
            let max = w.rng.below(5) as u32;
            let live = w.live();
            both!("revoke_live_sessions", |s| s
                .revoke_live_sessions(after.as_ref(), max, &live)
                .await
                .map(|mut batch| {
                    batch.revoked.sort_unstable();
                    batch
                }))
        }
        13 if w.rng.chance(15) => {
            let user = *w.rng.pick(&USERS);
            let max = w.rng.below(3) as u32;
            both!("delete_user_sessions", |s| s
                .delete_user_sessions(user, max)
                .await
                .map(sorted))
        }
        13 => {
            let user = w.rng.chance(60).then(|| *w.rng.pick(&USERS));
            let live = w.rng.chance(50).then(|| w.live());
            both!("count_sessions", |s| s
                .count_sessions(user, live.as_ref())
                .await)
        }
        14 => {
            let query = w.stats_query();
            both!("stats", |s| s.stats(&query).await.map(sorted_stats))
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
    Ok(outcome)
}

/// Every outcome the runs must reach for the comparison to mean something.
const REQUIRED: &[&str] = &[
    "insert_session:Inserted",
    "insert_session:Inserted+evicted",
    "insert_session:LimitReached",
    "insert_session:IdTaken",
    "get_session:some",
    "get_session:empty",
    "touch_session:Applied",
    "touch_session:Missing",
    "touch_session:Inactive",
    "touch_session:Expired",
    "touch_session:Stale",
    "replace_metadata:Applied",
    "replace_metadata:Stale",
    "replace_metadata:Missing",
    "replace_metadata:Inactive",
    "rotate_session:Applied",
    "rotate_session:IdTaken",
    "rotate_session:Stale",
    "rotate_session:Missing",
    "rotate_session:Inactive",
    "revoke_session:Applied",
    "revoke_session:Inactive",
    "delete_session:true",
    "delete_session:false",
    "delete_expired_session:true",
    "delete_expired_session:false",
    "list_user_sessions:some",
    "list_user_sessions:empty",
    "revoke_user_sessions:some",
    "delete_expired:number",
    "count_sessions:number",
    "revoke_live_sessions:RevokeBatch",
    "delete_user_sessions:some",
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

async fn everything(store: &dyn Store) -> Result<Vec<StoredSession>, String> {
    store
        .scan_sessions(None, u32::MAX)
        .await
        .map_err(|e| format!("scan: {e}"))
}

/// Runs `steps` operations from each seed on `open()`'s stores and a fresh [`MemoryStore`];
/// returns how many operations were compared, or every problem found.
pub(crate) async fn run<Open, Fut>(
    seeds: &[u64],
    steps: usize,
    mut open: Open,
) -> Result<usize, Vec<String>>
where
    Open: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = std::sync::Arc<dyn Store>>,
{
    let mut seen = BTreeMap::<String, usize>::new();
    let mut compared = 0;
    for &seed in seeds {
        let memory = MemoryStore::new();
        let store = open(format!("differential-{seed:x}")).await;
        let mut world = World::new(seed);
        for i in 0..steps {
            match step(&mut world, &memory, store.as_ref()).await {
                Ok(outcome) => *seen.entry(outcome).or_default() += 1,
                Err(diff) => return Err(vec![format!("seed {seed:#x}, step {i}: {diff}")]),
            }
            compared += 1;
            if i % 500 == 499 || i + 1 == steps {
                let (m, s) = (everything(&memory).await, everything(store.as_ref()).await);
                if m != s {
                    return Err(vec![format!(
                        "seed {seed:#x}, step {i}: contents differ:\n  memory: {m:?}\n  store:  {s:?}"
                    )]);
                }
            }
        }
    }
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|key| !seen.contains_key(**key))
        .map(|key| format!("the differential run never reached {key}"))
        .collect();
    if missing.is_empty() {
        Ok(compared)
    } else {
        Err(missing)
    }
}

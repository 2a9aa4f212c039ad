//! Session files for the benchmarks, built fast and cached.
//!
//! A fixture is a database created by `SqliteStore::open` (so it has exactly the store's schema)
//! and then filled directly with rusqlite: rows in primary-key order inside one transaction, the
//! secondary indexes dropped first and recreated from their own stored SQL afterwards (a sort
//! instead of a million random inserts). A million sessions take seconds, not a million
//! `create` calls. Files are cached under the fixture directory, named by size, heavy-user
//! count, schema version and fixture format, and only appear once complete (built under a
//! temporary name, then renamed).
//!
//! Row `i` is fully determined by `i`: its id, its token's secret (so any row's token can be
//! rebuilt to validate it), its user and its times. At the clock [`T0`] every session is live
//! and was active less than a minute ago (so `validate` does not write: the touch is throttled);
//! at [`T0`] + 1 day every session has expired.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, Connection};
use sessionkit::{Config, ManualClock, SessionId, SessionManager};
use sessionkit_sqlite::SqliteStore;
use sha2::{Digest, Sha256};

/// The fixture clock: every session is live and recently active.
pub const T0: i64 = 1_700_000_000_000;
/// A clock at which every fixture session has expired.
pub const AFTER_ALL_EXPIRED: i64 = T0 + 86_400_000;
/// Bumped whenever the rows a fixture holds change, so stale cached files are not reused.
const FIXTURE_FORMAT: u32 = 1;
/// The user owning the first `heavy` sessions of a fixture.
pub const HEAVY_USER: &str = "heavy-user";
/// Sessions per ordinary user.
const SESSIONS_PER_USER: usize = 10;
const KINDS: [&str; 4] = ["desktop", "mobile", "web", "other"];
/// The user agent every fixture row (and every baseline insert) carries.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A built fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The database file.
    pub path: PathBuf,
    /// Sessions in it.
    pub n: usize,
    /// Sessions owned by [`HEAVY_USER`] (the first `heavy` rows).
    pub heavy: usize,
}

impl Fixture {
    /// Ordinary users (each with about ten sessions).
    pub fn users(&self) -> usize {
        users(self.n, self.heavy)
    }

    /// The bearer token of row `i`.
    pub fn token(&self, i: usize) -> String {
        format!(
            "{}.{}",
            SessionId::from_bytes(row_id(i)),
            URL_SAFE_NO_PAD.encode(row_secret(i))
        )
    }
}

fn users(n: usize, heavy: usize) -> usize {
    (n.saturating_sub(heavy) / SESSIONS_PER_USER).max(1)
}

/// The 16-byte id of row `i`.
pub fn row_id(i: usize) -> [u8; 16] {
    let digest = Sha256::digest((i as u64).to_le_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}

/// The token secret of row `i`.
fn row_secret(i: usize) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"secret");
    hasher.update((i as u64).to_le_bytes());
    hasher.finalize().into()
}

/// The user of ordinary user number `u`.
pub fn user_name(u: usize) -> String {
    format!("user-{u:07}")
}

/// One session row's column values, in the store's column order.
pub struct Row {
    /// id
    pub id: [u8; 16],
    /// token_hash
    pub token_hash: [u8; 32],
    /// user_id
    pub user_id: String,
    /// created_at
    pub created_at: i64,
    /// last_active_at
    pub last_active_at: i64,
    /// expires_at
    pub expires_at: i64,
    /// absolute_expires_at
    pub absolute_expires_at: i64,
    /// client_kind
    pub client_kind: &'static str,
    /// device
    pub device: String,
    /// ip
    pub ip: String,
}

/// Row `i` of a fixture with `n` sessions, `heavy` of them owned by [`HEAVY_USER`].
pub fn row(i: usize, n: usize, heavy: usize) -> Row {
    let (user_id, age) = if i < heavy {
        // Distinct activity times, all within the last minute.
        (HEAVY_USER.to_owned(), 10_000 + 2 * (i as i64 % 20_000))
    } else {
        (
            user_name((i - heavy) % users(n, heavy)),
            10_000 + (i as i64 % 45_000),
        )
    };
    let last_active_at = T0 - age;
    let created_at = T0 - 3_600_000 - (i as i64 % 100_000);
    Row {
        id: row_id(i),
        token_hash: Sha256::digest(row_secret(i)).into(),
        user_id,
        created_at,
        last_active_at,
        expires_at: last_active_at + 30 * 60_000,
        absolute_expires_at: created_at + 30 * 86_400_000,
        client_kind: KINDS[i % KINDS.len()],
        device: format!("Device {}", i % 100),
        ip: format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
    }
}

/// The insert both the fixture builder and the `create` baseline use.
pub const INSERT_ROW: &str = "INSERT INTO sessions (id, token_hash, user_id, created_at, \
     last_active_at, expires_at, absolute_expires_at, client_kind, client_version, device, ip, \
     user_agent, active, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '1.4.2', ?9, ?10, ?11, 1, '{}')";

/// Inserts `row` with a prepared [`INSERT_ROW`].
pub fn insert_row(stmt: &mut rusqlite::Statement<'_>, row: &Row) -> rusqlite::Result<usize> {
    stmt.execute(params![
        row.id,
        row.token_hash,
        row.user_id,
        row.created_at,
        row.last_active_at,
        row.expires_at,
        row.absolute_expires_at,
        row.client_kind,
        row.device,
        row.ip,
        USER_AGENT,
    ])
}

/// The fixture with `n` sessions (`heavy` of them one user's) in `dir`, built if missing.
pub fn fixture(dir: &Path, n: usize, heavy: usize) -> Fixture {
    let name = format!(
        "fixture-n{n}-h{heavy}-schema{}-f{FIXTURE_FORMAT}.db",
        sessionkit_sqlite::SCHEMA_VERSION
    );
    let path = dir.join(name);
    let fixture = Fixture { path, n, heavy };
    if fixture.path.exists() {
        return fixture;
    }
    std::fs::create_dir_all(dir).expect("create the fixture directory");
    let tmp = fixture.path.with_extension("building");
    remove_db(&tmp);
    let start = std::time::Instant::now();
    drop(SqliteStore::open(&tmp).expect("create the fixture schema"));
    fill(&tmp, n, heavy).expect("fill the fixture");
    std::fs::rename(&tmp, &fixture.path).expect("move the fixture in place");
    eprintln!(
        "built {} in {:.1} s",
        fixture.path.display(),
        start.elapsed().as_secs_f64()
    );
    fixture
}

fn fill(path: &Path, n: usize, heavy: usize) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -262_144)?;
    let tx = conn.transaction()?;
    let indexes: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = 'sessions' AND sql IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    let mut order: Vec<([u8; 16], u32)> = (0..n).map(|i| (row_id(i), i as u32)).collect();
    order.sort_unstable();
    {
        let mut stmt = tx.prepare(INSERT_ROW)?;
        for (_, i) in &order {
            insert_row(&mut stmt, &row(*i as usize, n, heavy))?;
        }
    }
    for (_, sql) in &indexes {
        tx.execute_batch(sql)?;
    }
    tx.commit()?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Removes a database file and its WAL and shared-memory files.
pub fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Copies a (closed, checkpointed) fixture to `to`, replacing whatever was there.
pub fn copy_db(from: &Path, to: &Path) {
    remove_db(to);
    std::fs::copy(from, to).expect("copy the fixture");
    // Flushed before the run: otherwise the kernel writes the copy back during it, and the
    // run's own writes wait behind that (a cleanup's longest transaction moved by 100 ms).
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .expect("flush the copy");
}

/// A manager over a store on `path` with a manual clock at `now` and the default config.
pub fn manager(path: &Path, now: i64) -> (Arc<SqliteStore>, SessionManager) {
    let store = Arc::new(SqliteStore::open(path).expect("open the store"));
    let manager = SessionManager::open_with_clock(
        store.clone(),
        Config::default(),
        Arc::new(ManualClock::new(now)),
    )
    .expect("open the manager");
    (store, manager)
}

/// A bare rusqlite connection with the store's pragmas (WAL, `synchronous=NORMAL`, foreign
/// keys on, the same busy timeout).
pub fn bare(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open a bare connection");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("WAL");
    assert!(mode.eq_ignore_ascii_case("wal"), "bare connection in WAL");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous");
    conn.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys");
    conn
}

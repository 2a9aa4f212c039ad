//! Peer benchmark: tower-sessions' SQLite store (tower-sessions-sqlx-store over sqlx) on a fresh
//! database file in WAL mode with `synchronous=NORMAL`, the settings sessionkit-sqlite uses — or,
//! with `--db postgres://…` / `--db mysql://…`, its PostgreSQL or MySQL store on that (fresh,
//! empty) database, for `sessionkit-bench db`.
//!
//! Per operation, median over rounds after a warm-up round:
//! - `create`: `SessionStore::create` of a new record carrying a 200-byte payload;
//! - `load`:   `SessionStore::load` by id with `n` records present;
//! - `save`:   `SessionStore::save` of an existing record (an update).
//!
//! Writes `{"create_ns":..,"load_ns":..,"save_ns":..,"n":..,"payload_bytes":200,"rounds":..}`
//! to `--out` (default `target/bench/peer.json`). `--quick` uses tiny sizes. Times are printed
//! and recorded, never asserted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::SessionStore;
use tower_sessions_sqlx_store::{MySqlStore, PostgresStore, SqliteStore};

const PAYLOAD_BYTES: usize = 200;

struct Params {
    /// Records present while loading and saving.
    n: usize,
    /// Timed rounds (after one untimed warm-up round).
    rounds: usize,
    /// Operations per round; a round's time divided by this is one sample.
    batch: usize,
    out: PathBuf,
    /// A PostgreSQL or MySQL database instead of a SQLite file.
    db: Option<String>,
}

fn parse_args() -> Result<Params, String> {
    let mut quick = false;
    let mut out = PathBuf::from("target/bench/peer.json");
    let mut db = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => out = args.next().ok_or("--out needs a path")?.into(),
            "--db" => db = Some(args.next().ok_or("--db needs a URL")?),
            "-h" | "--help" => {
                println!("usage: peer-tower-bench [--quick] [--out PATH] [--db URL]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(if quick {
        Params {
            n: 200,
            rounds: 3,
            batch: 50,
            out,
            db,
        }
    } else {
        Params {
            n: 10_000,
            rounds: 7,
            batch: 1_000,
            out,
            db,
        }
    })
}

/// A record as an app would store it: one key holding a 200-byte string, one day to live.
fn record(payload: &str) -> Record {
    let mut data = HashMap::new();
    data.insert(
        "payload".to_owned(),
        serde_json::Value::String(payload.to_owned()),
    );
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + time::Duration::days(1),
    }
}

/// A deterministic pseudo-random index (xorshift), so load/save touch ids all over the table.
struct Picker(u64);
impl Picker {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2.0
    }
}

fn per_op_ns(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_nanos() as f64 / ops as f64
}

type BoxError = Box<dyn std::error::Error>;

async fn open(path: &Path) -> Result<SqliteStore, BoxError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new().connect_with(options).await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;
    Ok(store)
}

/// The store `params` names (a SQLite file in `dir` by default), migrated, then [`run`].
async fn run_on(params: &Params, dir: &Path) -> Result<[f64; 3], BoxError> {
    match params.db.as_deref() {
        Some(url) if url.starts_with("postgres") => {
            let pool = PgPoolOptions::new().connect(url).await?;
            let store = PostgresStore::new(pool);
            store.migrate().await?;
            run(params, store).await
        }
        Some(url) if url.starts_with("mysql") || url.starts_with("mariadb") => {
            let pool = MySqlPoolOptions::new().connect(url).await?;
            let store = MySqlStore::new(pool);
            store.migrate().await?;
            run(params, store).await
        }
        Some(other) => Err(format!("--db {other:?}: not a postgres:// or mysql:// URL").into()),
        None => run(params, open(&dir.join("sessions.db")).await?).await,
    }
}

async fn run<S: SessionStore>(params: &Params, store: S) -> Result<[f64; 3], BoxError> {
    let payload = "x".repeat(PAYLOAD_BYTES);

    // The records present for load and save.
    let mut present = Vec::with_capacity(params.n);
    for _ in 0..params.n {
        let mut r = record(&payload);
        store.create(&mut r).await?;
        present.push(r);
    }
    let mut picker = Picker(0x9E37_79B9_7F4A_7C15);

    let (mut creates, mut loads, mut saves) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=params.rounds {
        let timed = round > 0; // round 0 warms up caches, the pool and the page cache

        // create: new records on top of the n present; removed again (untimed) so every
        // round and every other operation sees n records.
        let mut fresh: Vec<Record> = (0..params.batch).map(|_| record(&payload)).collect();
        let start = Instant::now();
        for r in &mut fresh {
            store.create(r).await?;
        }
        let create = per_op_ns(start.elapsed(), params.batch);
        for r in &fresh {
            store.delete(&r.id).await?;
        }

        // load by id.
        let ids: Vec<Id> = (0..params.batch)
            .map(|_| present[picker.next(present.len())].id)
            .collect();
        let start = Instant::now();
        for id in &ids {
            let loaded = store.load(id).await?;
            std::hint::black_box(loaded.ok_or("a present record did not load")?);
        }
        let load = per_op_ns(start.elapsed(), params.batch);

        // save: update existing records (a changed payload, a later expiry).
        let updates: Vec<Record> = (0..params.batch)
            .map(|i| {
                let mut r = present[picker.next(present.len())].clone();
                r.data.insert(
                    "payload".to_owned(),
                    serde_json::Value::String(format!("{:0>width$}", i, width = PAYLOAD_BYTES)),
                );
                r.expiry_date = OffsetDateTime::now_utc() + time::Duration::days(2);
                r
            })
            .collect();
        let start = Instant::now();
        for r in &updates {
            store.save(r).await?;
        }
        let save = per_op_ns(start.elapsed(), params.batch);

        if timed {
            println!(
                "round {round}: create {create:.0} ns, load {load:.0} ns, save {save:.0} ns per op"
            );
            creates.push(create);
            loads.push(load);
            saves.push(save);
        }
    }
    Ok([median(creates), median(loads), median(saves)])
}

fn main() {
    let params = match parse_args() {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "peer-tower-bench: {e}\nusage: peer-tower-bench [--quick] [--out PATH] [--db URL]"
            );
            std::process::exit(2);
        }
    };
    let dir = std::env::temp_dir().join(format!("peer-tower-bench-{}", std::process::id()));
    let result = (|| -> Result<[f64; 3], Box<dyn std::error::Error>> {
        std::fs::create_dir_all(&dir)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(run_on(&params, &dir))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let [create, load, save] = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("peer-tower-bench: {e}");
            std::process::exit(1);
        }
    };

    let json = format!(
        "{{\"create_ns\":{:.0},\"load_ns\":{:.0},\"save_ns\":{:.0},\"n\":{},\"payload_bytes\":{},\"rounds\":{}}}\n",
        create, load, save, params.n, PAYLOAD_BYTES, params.rounds
    );
    if let Some(parent) = params.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(parent) {
            eprintln!("peer-tower-bench: creating {}: {e}", parent.display());
            std::process::exit(1);
        }
    }
    if let Err(e) = std::fs::write(&params.out, &json) {
        eprintln!("peer-tower-bench: writing {}: {e}", params.out.display());
        std::process::exit(1);
    }
    print!("{json}");
    println!("wrote {}", params.out.display());
}

//! The database stores (`scripts/bench.sh --pg`): PostgreSQL and MariaDB, each against a bare
//! statement through the same store's pool — `validate` against the bare point lookup of the
//! session row, `create` against one bare insert statement, a deep page of
//! `list_user_sessions` against page 1. Interleaved rounds, medians (see `measure`). Writes a
//! Markdown section; nothing here asserts a time.
//!
//! With `--peer-bin` (benches/peer-tower's `peer-tower-bench`) and a second fresh database per
//! server (`--peer-pg URL`, `--peer-mysql URL`), also `validate` against tower-sessions' sqlx
//! store `load` on the same server: ops/s, higher is better.
//!
//! `sessionkit-bench db --pg URL --mysql URL [--peer-bin PATH --peer-pg URL --peer-mysql URL]
//! [--out FILE] [--quick]`, each URL a fresh, empty database (scripts/bench.sh makes them on
//! throwaway servers).

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use pollster::block_on;
use sessionkit::{
    ClientKind, Config, ListOptions, MaintenanceStore, MemoryStore, NewSession, SessionManager,
    SessionRecord, Store,
};
use sessionkit_mysql::MysqlStore;
use sessionkit_postgres::PostgresStore;

use crate::measure::{fmt_ns, interleave, time_ops, Contender, Rng};
use crate::report::ratio;

/// Sessions in the table before timing (1,000 users of ten, and the deep user's).
const SESSIONS: usize = 10_000;
/// The sessions of the user whose listing is paged deep.
const DEEP_USER_SESSIONS: usize = 1_000;
/// Page size of the listing.
const PAGE: u32 = 50;

/// One database's store, typed, for its bare baselines.
enum Db {
    Postgres(Arc<PostgresStore>),
    Mysql(Arc<MysqlStore>),
}

impl Db {
    fn store(&self) -> Arc<dyn Store> {
        match self {
            Db::Postgres(s) => Arc::clone(s) as Arc<dyn Store>,
            Db::Mysql(s) => Arc::clone(s) as Arc<dyn Store>,
        }
    }

    fn bare_lookup(&self, id: &sessionkit::SessionId) -> usize {
        match self {
            Db::Postgres(s) => block_on(s.bench_bare_lookup(id)),
            Db::Mysql(s) => block_on(s.bench_bare_lookup(id)),
        }
        .expect("bare lookup")
    }

    fn bare_insert(&self, record: &SessionRecord) -> bool {
        match self {
            Db::Postgres(s) => block_on(s.bench_bare_insert(record)),
            Db::Mysql(s) => block_on(s.bench_bare_insert(record)),
        }
        .expect("bare insert")
    }
}

/// Records made by the engine (over a memory store) for the bare inserts: real ids, hashes and
/// metadata, never in the database.
fn fresh_records(n: usize) -> Vec<SessionRecord> {
    let memory = Arc::new(MemoryStore::new());
    let manager = SessionManager::open(memory.clone(), Config::default()).expect("memory");
    for k in 0..n {
        let mut new = NewSession::new(format!("bare-{}", k % 1000), ClientKind::Web);
        new.device = Some(format!("Device {}", k % 100));
        block_on(manager.create(new)).expect("create in memory");
    }
    block_on(memory.scan_sessions(None, u32::try_from(n).unwrap()))
        .expect("scan")
        .into_iter()
        .map(|s| s.record)
        .collect()
}

/// Times one database; its Markdown rows and the median `validate` in ns.
fn bench(name: &str, db: &Db, rounds: usize, batch: usize) -> (String, f64) {
    let manager = SessionManager::open(db.store(), Config::default()).expect("open manager");
    let mut tokens = Vec::with_capacity(SESSIONS);
    let mut ids = Vec::with_capacity(SESSIONS);
    for k in 0..SESSIONS - DEEP_USER_SESSIONS {
        let mut new = NewSession::new(format!("user-{}", k % 1000), ClientKind::Web);
        new.device = Some(format!("Device {}", k % 100));
        let created = block_on(manager.create(new)).expect("create");
        ids.push(created.session.id);
        tokens.push(created.token.as_str().to_owned());
    }
    for _ in 0..DEEP_USER_SESSIONS {
        block_on(manager.create(NewSession::new("deep", ClientKind::Web))).expect("create");
    }

    // validate vs the bare point lookup, on random sessions.
    let mut rng = Rng::new(7);
    let picks: Vec<usize> = (0..batch * (rounds + 1))
        .map(|_| rng.below(tokens.len()))
        .collect();
    let validate = {
        let mut contenders: Vec<Contender<'_>> = vec![
            Box::new(|round| {
                time_ops(batch, |i| {
                    let token = &tokens[picks[round * batch + i]];
                    black_box(block_on(manager.validate(token)).expect("validate"));
                })
            }),
            Box::new(|round| {
                time_ops(batch, |i| {
                    black_box(db.bare_lookup(&ids[picks[round * batch + i]]));
                })
            }),
        ];
        interleave(rounds, &mut contenders)
    };

    // create vs one bare insert statement.
    let writes = batch / 2;
    let records = fresh_records(writes * (rounds + 1));
    let create = {
        let mut contenders: Vec<Contender<'_>> = vec![
            Box::new(|round| {
                time_ops(writes, |k| {
                    let mut new = NewSession::new(
                        format!("user-{}", (round * writes + k) % 1000),
                        ClientKind::Web,
                    );
                    new.device = Some(format!("Device {}", k % 100));
                    black_box(block_on(manager.create(new)).expect("create"));
                })
            }),
            Box::new(|round| {
                time_ops(writes, |k| {
                    assert!(db.bare_insert(&records[round * writes + k]));
                })
            }),
        ];
        interleave(rounds, &mut contenders)
    };

    // A page at depth (the last full page of the deep user) vs page 1.
    let mut options = ListOptions {
        limit: PAGE,
        ..ListOptions::default()
    };
    let mut depth = 0;
    while depth + 2 * PAGE as usize <= DEEP_USER_SESSIONS {
        let page = block_on(manager.list_user_sessions("deep", &options)).expect("list");
        options.cursor = page.next_cursor;
        depth += PAGE as usize;
    }
    let deep_options = options.clone();
    let first_options = ListOptions {
        limit: PAGE,
        ..ListOptions::default()
    };
    let reads = (batch / 4).max(1);
    let list = {
        let mut contenders: Vec<Contender<'_>> = vec![
            Box::new(|_| {
                time_ops(reads, |_| {
                    black_box(block_on(manager.list_user_sessions("deep", &first_options)))
                        .expect("page 1");
                })
            }),
            Box::new(|_| {
                time_ops(reads, |_| {
                    black_box(block_on(manager.list_user_sessions("deep", &deep_options)))
                        .expect("deep page");
                })
            }),
        ];
        interleave(rounds, &mut contenders)
    };

    let row = |case: &str, ours: f64, base: f64, target: f64| {
        let met = if ours / base <= target {
            "met"
        } else {
            "**not met**"
        };
        format!(
            "| {name} | {case} | {} | {} | {} | ≤ {target}× {met} |\n",
            fmt_ns(ours),
            fmt_ns(base),
            ratio(ours, base)
        )
    };
    let mut out = String::new();
    out += &row(
        "validate vs bare point lookup",
        validate[0],
        validate[1],
        1.3,
    );
    out += &row("create vs bare insert", create[0], create[1], 1.2);
    out += &row(
        &format!("list page of {PAGE} at depth {depth} vs page 1"),
        list[1],
        list[0],
        1.2,
    );
    (out, validate[0])
}

/// tower-sessions' sqlx store on the fresh database `url`: the peer's median `load` in ns.
fn peer_load_ns(bin: &Path, url: &str, quick: bool) -> f64 {
    let out = std::env::temp_dir().join(format!("sk-peer-db-{}.json", std::process::id()));
    let mut cmd = Command::new(bin);
    cmd.arg("--db").arg(url).arg("--out").arg(&out);
    if quick {
        cmd.arg("--quick");
    }
    let status = cmd.status().expect("run the peer");
    assert!(status.success(), "the peer failed on {url}: {status}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("the peer's output")).expect("JSON");
    let _ = std::fs::remove_file(&out);
    json["load_ns"].as_f64().expect("load_ns")
}

/// The row of `validate` against the peer's `load`, as operations per second.
fn peer_row(name: &str, validate_ns: f64, load_ns: f64) -> String {
    let (ours, theirs) = (1e9 / validate_ns, 1e9 / load_ns);
    let met = if ours / theirs >= 3.0 {
        "met"
    } else {
        "**not met**"
    };
    format!(
        "| {name} | validate vs tower-sessions sqlx store `load` (ops/s) | {ours:.0} ops/s | \
         {theirs:.0} ops/s | {:.2}× the ops/s | ≥ 3× {met} |\n",
        ours / theirs
    )
}

/// `sessionkit-bench db ...`.
pub fn main(args: &[String]) {
    let mut pg = None;
    let mut my = None;
    let mut out = None;
    let (mut peer_bin, mut peer_pg, mut peer_my) = (None, None, None);
    let mut quick = false;
    let (mut rounds, mut batch) = (15, 200);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().expect("a value after the option");
        match arg.as_str() {
            "--pg" => pg = Some(value()),
            "--mysql" => my = Some(value()),
            "--out" => out = Some(value()),
            "--peer-bin" => peer_bin = Some(value()),
            "--peer-pg" => peer_pg = Some(value()),
            "--peer-mysql" => peer_my = Some(value()),
            "--quick" => {
                (rounds, batch) = (3, 20);
                quick = true;
            }
            other => panic!("sessionkit-bench db: unknown argument {other:?}"),
        }
    }
    let mut rows = String::new();
    let peer = |name: &str, validate_ns: f64, url: &Option<String>| {
        if let (Some(bin), Some(url)) = (&peer_bin, url) {
            peer_row(name, validate_ns, peer_load_ns(Path::new(bin), url, quick))
        } else {
            String::new()
        }
    };
    if let Some(url) = pg {
        let store = Arc::new(PostgresStore::open(&url).expect("open postgres"));
        let (table, validate_ns) = bench("PostgreSQL", &Db::Postgres(store), rounds, batch);
        rows += &table;
        rows += &peer("PostgreSQL", validate_ns, &peer_pg);
    }
    if let Some(url) = my {
        let store = Arc::new(MysqlStore::open(&url).expect("open mysql"));
        let (table, validate_ns) = bench("MariaDB", &Db::Mysql(store), rounds, batch);
        rows += &table;
        rows += &peer("MariaDB", validate_ns, &peer_my);
    }
    let section = format!(
        "## Database stores (`scripts/bench.sh --pg`)\n\n\
         Each store over a pool of loopback connections to a throwaway server, {SESSIONS} \
         sessions in the table ({DEEP_USER_SESSIONS} of them one user's), every call through \
         `pollster::block_on` as the server's blocking threads make it. The bare baselines run \
         through the same store's pool and prepared-statement cache: the session row by id, \
         not decoded; one `INSERT` statement of an engine-made record, no transaction. \
         Medians of {rounds} interleaved rounds ({batch} validations, {} creates, {} pages a \
         round). Both sides of a pair make the same round trips to the server, so a ratio \
         measures the engine's own work against a loopback round trip; on a shared, loaded \
         machine a ratio below 1.00× is noise, not a faster path. The peer (tower-sessions 0.14's \
         sqlx store, `benches/peer-tower`, when built) runs on a fresh database of the same \
         server after ours: {} records of a 200-byte payload, `load` by id, its own rounds.\n\n\
         | database | case | ours | baseline | ratio | target |\n|---|---|---|---|---|---|\n{rows}",
        batch / 2,
        (batch / 4).max(1),
        if quick { 200 } else { 10_000 }
    );
    match out {
        Some(path) => std::fs::write(&path, &section).expect("write the section"),
        None => print!("{section}"),
    }
}

//! A PostgreSQL server killed with SIGKILL during writes loses no acknowledged write: writers
//! create sessions and write their state, recording each write once the store acknowledged it;
//! the server (postmaster and every backend) is killed mid-stream, started again, and every
//! acknowledged session and state version is there.
//!
//! Needs the throwaway server of scripts/pg-mysql.sh (its data directory and pg_ctl, from
//! `SESSIONKIT_TEST_POSTGRES_DATA` / `SESSIONKIT_TEST_PG_CTL`): this test restarts it, so it is
//! a test binary of its own (cargo runs test binaries one after another).

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pollster::block_on;
use serde_json::json;
use sessionkit::{ClientKind, Config, NewSession, SessionId, SessionManager, Store};
use sessionkit_postgres::PostgresStore;

const WRITERS: usize = 4;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run this test through scripts/pg-mysql.sh"))
}

/// The postmaster's pid and those of its children.
fn server_pids(data: &str) -> Vec<u32> {
    let pid_file = std::fs::read_to_string(format!("{data}/postmaster.pid")).unwrap();
    let postmaster: u32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
    let mut pids = vec![postmaster];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: the fields after the last ')'.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
        if ppid == postmaster {
            pids.push(pid);
        }
    }
    pids
}

/// Whether the process is still there (a zombie not yet reaped counts: PostgreSQL's start
/// refuses a data directory whose postmaster pid still exists).
fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn postgres_sigkill_during_writes_loses_no_acknowledged_write() {
    let Some(server) =
        common::server_url("postgres_sigkill_during_writes_loses_no_acknowledged_write")
    else {
        return;
    };
    let data = env("SESSIONKIT_TEST_POSTGRES_DATA");
    let pg_ctl = env("SESSIONKIT_TEST_PG_CTL");
    let log = env("SESSIONKIT_TEST_POSTGRES_LOG");
    let port = env("SESSIONKIT_TEST_POSTGRES_PORT");
    let db = common::TestDb::create(&server);
    let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&db.url).unwrap());
    let manager = Arc::new(SessionManager::open(store, Config::default()).unwrap());

    // Acknowledged writes: session id -> the last state version the store confirmed.
    let acked: Arc<Mutex<HashMap<SessionId, u64>>> = Arc::default();
    let acks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (manager, acked, acks, stop) = (
                Arc::clone(&manager),
                Arc::clone(&acked),
                Arc::clone(&acks),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let user = format!("writer-{w}");
                    let Ok(created) =
                        block_on(manager.create(NewSession::new(&user, ClientKind::Web)))
                    else {
                        continue;
                    };
                    let id = created.session.id;
                    acked.lock().unwrap().insert(id, 0);
                    acks.fetch_add(1, Ordering::SeqCst);
                    for v in 1..=3u64 {
                        match block_on(manager.put_state(&id, &json!({ "n": n, "v": v }), None)) {
                            Ok(version) => {
                                acked.lock().unwrap().insert(id, version);
                                acks.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(_) => break,
                        }
                    }
                }
            })
        })
        .collect();

    // Let writes flow, then kill the whole server at once, mid-stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.load(Ordering::SeqCst) < 200 {
        assert!(Instant::now() < deadline, "the writers made no progress");
        std::thread::yield_now();
    }
    let pids = server_pids(&data);
    let status = Command::new("kill")
        .arg("-9")
        .args(pids.iter().map(u32::to_string))
        .status()
        .unwrap();
    assert!(status.success());
    let acked_at_kill = acks.load(Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids.iter().any(|&pid| exists(pid)) {
        assert!(Instant::now() < deadline, "the killed server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().unwrap();
    }

    // Start it again (crash recovery replays the WAL).
    let status = Command::new("su")
        .args(["postgres", "-s", "/bin/bash", "-c"])
        .arg(format!(
            "'{pg_ctl}' -D '{data}' -l '{log}' -w -o \"-p {port} -k '{data}' \
             -c listen_addresses=127.0.0.1 -c max_connections=400\" start"
        ))
        .status()
        .unwrap();
    assert!(status.success(), "the server did not start again");

    // Every acknowledged write is there, read through a new store.
    let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&db.url).unwrap());
    let after = SessionManager::open(store, Config::default()).unwrap();
    let acked = acked.lock().unwrap();
    assert!(
        acked.len() >= 50,
        "too few writes before the kill: {}",
        acked.len()
    );
    for (id, version) in acked.iter() {
        let session = block_on(after.get(id)).unwrap();
        assert_eq!(session.id, *id);
        let state = block_on(after.get_state(id)).unwrap();
        // A write in flight at the kill may or may not be there; an acknowledged one must.
        let stored = state.map_or(0, |s| s.version);
        assert!(
            stored >= *version,
            "session {id}: acknowledged state version {version}, found {stored}"
        );
    }
    eprintln!(
        "{} sessions, {acked_at_kill} acknowledged writes before the kill: all there",
        acked.len()
    );
}

//! A MariaDB/MySQL server killed with SIGKILL during writes loses no acknowledged write:
//! writers create sessions and write their state, recording each write once the store
//! acknowledged it; the server is killed mid-stream, started again, and every acknowledged
//! session and state version is there (InnoDB with its defaults: the redo log is flushed at
//! each commit).
//!
//! Needs the throwaway server of scripts/pg-mysql.sh (its data directory and port, from
//! `SESSIONKIT_TEST_MYSQL_DATA` / `SESSIONKIT_TEST_MYSQL_PORT`): this test restarts it, so it is
//! a test binary of its own (cargo runs test binaries one after another).

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pollster::block_on;
use serde_json::json;
use sessionkit::{ClientKind, Config, NewSession, SessionId, SessionManager, Store};
use sessionkit_mysql::MysqlStore;

const WRITERS: usize = 4;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run this test through scripts/pg-mysql.sh"))
}

fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn mysql_sigkill_during_writes_loses_no_acknowledged_write() {
    let Some(server) =
        common::server_url("mysql_sigkill_during_writes_loses_no_acknowledged_write")
    else {
        return;
    };
    let data = env("SESSIONKIT_TEST_MYSQL_DATA");
    let port = env("SESSIONKIT_TEST_MYSQL_PORT");
    let log = env("SESSIONKIT_TEST_MYSQL_LOG");
    let db = common::TestDb::create(&server);
    let store: Arc<dyn Store> = Arc::new(MysqlStore::open(&db.url).unwrap());
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

    // Let writes flow, then kill the server mid-stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.load(Ordering::SeqCst) < 200 {
        assert!(Instant::now() < deadline, "the writers made no progress");
        std::thread::yield_now();
    }
    let pid: u32 = std::fs::read_to_string(format!("{data}/pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let acked_at_kill = acks.load(Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while exists(pid) {
        assert!(Instant::now() < deadline, "the killed server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().unwrap();
    }

    // Start it again, forked into a session of its own (it outlives this test; scripts/pg-mysql.sh stops
    // it by the pid file); InnoDB recovers from its redo log.
    let log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
        .unwrap();
    let started = Command::new("setsid")
        .args([
            "--fork",
            "mariadbd",
            "--no-defaults",
            "--user=mysql",
            &format!("--datadir={data}"),
            &format!("--port={port}"),
            &format!("--socket={data}/sock"),
            "--bind-address=127.0.0.1",
            &format!("--pid-file={data}/pid"),
            "--max-connections=500",
            "--skip-name-resolve",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .status()
        .unwrap();
    assert!(started.success(), "the server could not be started again");
    let deadline = Instant::now() + Duration::from_secs(60);
    let store = loop {
        match MysqlStore::open(&db.url) {
            Ok(store) => break store,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "the server did not start again: {e}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };

    // Every acknowledged write is there, read through a new store.
    let store: Arc<dyn Store> = Arc::new(store);
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

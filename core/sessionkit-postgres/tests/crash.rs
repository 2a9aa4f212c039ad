//! A PostgreSQL server killed with SIGKILL during writes loses no acknowledged write: writers
//! create sessions and write their state, recording each write once the store acknowledged it;
//! the server (postmaster and every backend) is killed mid-stream, started again, and every
//! acknowledged session and state version is there.
//!
//! Needs the throwaway server of scripts/pg-mysql.sh (its data directory and pg_ctl, from
//! `SESSIONKIT_TEST_POSTGRES_DATA` / `SESSIONKIT_TEST_PG_CTL`): this test restarts it, so it is
//! a test binary of its own (cargo runs test binaries one after another).

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sessionkit::testing::kit::check_writes_survive_a_kill;
use sessionkit::Store;
use sessionkit_postgres::PostgresStore;

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
    let kill_and_restart = || {
        // Kill the whole server at once (postmaster and every backend), mid-stream.
        let pids = server_pids(&data);
        let status = Command::new("kill")
            .arg("-9")
            .args(pids.iter().map(u32::to_string))
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while pids.iter().any(|&pid| exists(pid)) {
            assert!(Instant::now() < deadline, "the killed server did not exit");
            std::thread::sleep(Duration::from_millis(50));
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
    };
    let reopen = || Arc::new(PostgresStore::open(&db.url).unwrap()) as Arc<dyn Store>;
    let seen = check_writes_survive_a_kill(store, kill_and_restart, reopen).unwrap();
    eprintln!("{seen}");
}

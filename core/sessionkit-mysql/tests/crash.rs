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

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sessionkit::testing::kit::check_writes_survive_a_kill;
use sessionkit::Store;
use sessionkit_mysql::MysqlStore;

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
    let kill_and_restart = || {
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
        let deadline = Instant::now() + Duration::from_secs(30);
        while exists(pid) {
            assert!(Instant::now() < deadline, "the killed server did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
        // Start it again, forked into a session of its own (it outlives this test;
        // scripts/pg-mysql.sh stops it by the pid file); InnoDB recovers from its redo log.
        let log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&log)
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
    };
    // The restarted server accepts connections once its recovery is done.
    let reopen = || {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match MysqlStore::open(&db.url) {
                Ok(store) => break Arc::new(store) as Arc<dyn Store>,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "the server did not start again: {e}"
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    };
    let seen = check_writes_survive_a_kill(store, kill_and_restart, reopen).unwrap();
    eprintln!("{seen}");
}

//! The per-user limit holds across processes: two processes create sessions for one user in
//! one SQLite file at the same moments, under both policies, while the clock moves on between
//! rounds so that earlier sessions expire and free room.
//!
//! Each process is this test binary run again (`limit_child`), driven through its stdin: "at
//! time T, create K sessions". Both get the same order at once and race on the file; the parent
//! waits for both answers (no sleeps), then checks the round's arithmetic exactly. Within a
//! round every create uses the same time, so whatever the interleaving, the counts are fixed:
//! under `reject`, `min(2K, max - live before)` inserts succeed and the rest are refused; under
//! `evict_oldest`, all succeed and exactly `live before + 2K - max` sessions are evicted. A limit
//! checked outside the insert's transaction would let both processes fill the same free slot.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;

use pollster::block_on;
use sessionkit::{
    ClientKind, Config, ErrorKind, ManualClock, NewSession, SessionLimitPolicy, SessionManager,
};
use sessionkit_sqlite::SqliteStore;

const CHILD_ENV: &str = "SESSIONKIT_LIMIT_CHILD";
const MARK: &str = "LIMIT-CHILD";
const T0: i64 = 1_700_000_000_000;
/// Time between rounds; sessions live three steps.
const STEP: i64 = 10_000;
const MAX: u32 = 5;
const PER_ROUND: u64 = 20;
const ROUNDS: i64 = 12;
const USER: &str = "shared";

fn config(policy: SessionLimitPolicy) -> Config {
    Config {
        idle_timeout_ms: 3 * STEP,
        touch_interval_ms: 1_000,
        max_sessions_per_user: Some(MAX),
        session_limit_policy: policy,
        ..Config::default()
    }
}

fn manager(path: &Path, policy: SessionLimitPolicy, clock: &ManualClock) -> SessionManager {
    let store = SqliteStore::open(path).expect("open the store");
    SessionManager::open_with_clock(Arc::new(store), config(policy), Arc::new(clock.clone()))
        .expect("open the manager")
}

// ---- the child ------------------------------------------------------------------------------

/// One of the two processes: started by the tests below with `CHILD_ENV` set; does nothing
/// otherwise.
#[test]
#[ignore = "a process of the two-process limit tests, which start it"]
fn limit_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (policy, path) = spec.split_once(' ').expect("`<policy> <path>`");
    let policy = SessionLimitPolicy::parse(policy).expect("a policy");
    let clock = ManualClock::new(T0);
    let m = manager(Path::new(path), policy, &clock);
    let evicted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = Arc::clone(&evicted);
    let _subscription = m.subscribe(Arc::new(move |event: &sessionkit::Event| {
        if let sessionkit::Event::Revoked { .. } = event {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }));
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("an order");
        let mut words = line.split_whitespace();
        let (Some(t), Some(k)) = (words.next(), words.next()) else {
            break; // "quit"
        };
        clock.set(t.parse().expect("a time"));
        evicted.store(0, std::sync::atomic::Ordering::SeqCst);
        let (mut inserted, mut rejected) = (0u64, 0u64);
        for _ in 0..k.parse::<u64>().expect("a count") {
            match block_on(m.create(NewSession::new(USER, ClientKind::Mobile))) {
                Ok(_) => inserted += 1,
                Err(e) if e.kind() == ErrorKind::LimitExceeded => rejected += 1,
                Err(e) => panic!("create: {e}"),
            }
        }
        let evicted = evicted.load(std::sync::atomic::Ordering::SeqCst);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{MARK} {inserted} {rejected} {evicted}").expect("answer");
        out.flush().expect("answer");
    }
}

// ---- the parent -----------------------------------------------------------------------------

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Process {
    fn start(policy: SessionLimitPolicy, path: &Path) -> Process {
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = Command::new(exe)
            .args(["--exact", "limit_child", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_ENV, format!("{} {}", policy.as_str(), path.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a process");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Process {
            child,
            stdin,
            stdout,
        }
    }

    fn order(&mut self, t: i64, k: u64) {
        writeln!(self.stdin, "{t} {k}").expect("send the order");
        self.stdin.flush().expect("send the order");
    }

    /// (inserted, rejected, evicted) of the last order.
    fn answer(&mut self) -> (u64, u64, u64) {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).expect("read the answer");
            assert!(n > 0, "the process ended without answering");
            // The harness may have begun the line (`test limit_child ... `).
            if let Some((_, rest)) = line.trim().split_once(MARK) {
                let v: Vec<u64> = rest
                    .split_whitespace()
                    .map(|n| n.parse().expect("a number"))
                    .collect();
                return (v[0], v[1], v[2]);
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

fn two_processes_hold_the_limit(policy: SessionLimitPolicy) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("limit.db");
    let clock = ManualClock::new(T0);
    let observer = manager(&path, policy, &clock);
    let mut processes = [Process::start(policy, &path), Process::start(policy, &path)];
    let (mut freed_by_expiry, mut total_inserted) = (0, 0);
    for round in 0..ROUNDS {
        // One step a round, and every third round a jump past the idle timeout.
        let t = T0 + round * STEP + (round / 3) * 3 * STEP;
        clock.set(t);
        let live_before = block_on(observer.count_user_sessions(USER, true)).unwrap();
        assert!(live_before <= u64::from(MAX));
        for p in &mut processes {
            p.order(t, PER_ROUND);
        }
        let answers: Vec<_> = processes.iter_mut().map(Process::answer).collect();
        let inserted: u64 = answers.iter().map(|a| a.0).sum();
        let rejected: u64 = answers.iter().map(|a| a.1).sum();
        let evicted: u64 = answers.iter().map(|a| a.2).sum();
        let live_after = block_on(observer.count_user_sessions(USER, true)).unwrap();
        let room = u64::from(MAX) - live_before;
        match policy {
            SessionLimitPolicy::Reject => {
                assert_eq!(inserted, room.min(2 * PER_ROUND), "round {round}");
                assert_eq!(rejected, 2 * PER_ROUND - inserted, "round {round}");
                assert_eq!(evicted, 0, "round {round}");
            }
            SessionLimitPolicy::EvictOldest => {
                assert_eq!(inserted, 2 * PER_ROUND, "round {round}");
                assert_eq!(rejected, 0, "round {round}");
                assert_eq!(
                    evicted,
                    (live_before + 2 * PER_ROUND).saturating_sub(u64::from(MAX)),
                    "round {round}: each eviction revoked exactly one session"
                );
            }
        }
        assert_eq!(
            live_after,
            live_before + inserted - evicted,
            "round {round}"
        );
        assert!(
            live_after <= u64::from(MAX),
            "round {round}: {live_after} live"
        );
        if round > 0 && live_before < u64::from(MAX) {
            freed_by_expiry += 1;
        }
        total_inserted += inserted;
    }
    // The moving clock mattered: sessions expired and their room was taken again.
    assert!(
        freed_by_expiry >= 2,
        "expiry freed room in {freed_by_expiry} rounds"
    );
    assert!(total_inserted > u64::from(MAX));
    assert_eq!(
        block_on(observer.count_user_sessions(USER, false)).unwrap(),
        total_inserted,
        "every insert stored once"
    );
}

#[test]
fn the_per_user_limit_holds_across_two_processes_under_reject() {
    two_processes_hold_the_limit(SessionLimitPolicy::Reject);
}

#[test]
fn the_per_user_limit_holds_across_two_processes_under_evict_oldest() {
    two_processes_hold_the_limit(SessionLimitPolicy::EvictOldest);
}

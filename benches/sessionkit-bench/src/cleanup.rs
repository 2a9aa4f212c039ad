//! `cleanup_expired` on a file where every session has expired, and memory while cleaning up
//! and while paging through every session. Each run happens in a fresh child process of this
//! binary (so its peak RSS is its own) on a fresh copy of the fixture.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pollster::block_on;
use sessionkit::{
    ClientKind, Config, ListOptions, MaintenanceStore, ManualClock, NewSession, SessionManager,
};
use sessionkit_sqlite::SqliteStore;

use crate::fixture::{self, Fixture, AFTER_ALL_EXPIRED, HEAVY_USER, T0};
use crate::measure::{fmt_ns, median, peak_rss_kib};
use crate::report::{ratio, Report};
use crate::timed::TimedStore;
use crate::Params;

/// What one cleanup run measured.
#[derive(Debug, Clone, Copy)]
struct Run {
    total_ns: f64,
    /// The longest time one write transaction held the lock.
    longest_ns: f64,
    /// The longest `delete_expired` call (its transaction, plus a checkpoint after it, which
    /// holds no lock).
    longest_call_ns: f64,
    transactions: u64,
    checkpoints: u64,
    checkpoint_ns: f64,
    longest_checkpoint_ns: f64,
    deleted: u64,
    rss_kib: u64,
    /// With a concurrent writer (`Mode::Probed`): what its operations took.
    probe: Option<Probe>,
}

/// The creates another thread made through the same manager while the cleanup ran.
#[derive(Debug, Clone, Copy)]
struct Probe {
    ops: u64,
    median_ns: f64,
    p99_ns: f64,
    longest_ns: f64,
}

/// Pause between two creates of the concurrent writer.
const PROBE_PAUSE: Duration = Duration::from_millis(5);

/// How a child deletes the expired sessions.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `SessionManager::cleanup_expired`, each store transaction timed.
    Manager,
    /// As `Manager`, while another thread creates a session every `PROBE_PAUSE` through the same
    /// manager and times each create (what a concurrent request sees).
    Probed,
    /// `Store::delete_expired(now, batch)` in a loop, as the manager does, with this batch.
    Store(u32),
    /// One bare `DELETE FROM sessions WHERE expires_at <= ?` with the store's pragmas.
    Bare,
}

impl Mode {
    fn args(self) -> Vec<String> {
        match self {
            Mode::Manager => vec!["manager".into()],
            Mode::Probed => vec!["probed".into()],
            Mode::Store(b) => vec!["store".into(), b.to_string()],
            Mode::Bare => vec!["bare".into()],
        }
    }
}

/// Child entry point: `cleanup-child <db> manager|probed|store <batch>|bare`. Prints one JSON
/// line.
pub fn child_cleanup(args: &[String]) {
    let db = Path::new(args.first().expect("cleanup-child <db> <mode>"));
    let mode = match args.get(1).map(String::as_str) {
        Some("manager") => Mode::Manager,
        Some("probed") => Mode::Probed,
        Some("store") => Mode::Store(
            args.get(2)
                .and_then(|b| b.parse().ok())
                .expect("store <batch>"),
        ),
        Some("bare") => Mode::Bare,
        Some("sql") => return child_sql(db, args),
        other => panic!("unknown cleanup mode {other:?}"),
    };
    let mut probe_times: Option<Vec<u128>> = None;
    // (total, call times, deleted, the store's write figures)
    let (total, calls, deleted, stats) = match mode {
        Mode::Manager | Mode::Probed => {
            let sqlite = Arc::new(SqliteStore::open(db).expect("open the store"));
            let store = Arc::new(TimedStore::new(sqlite.clone()));
            let manager = SessionManager::open_with_clock(
                store.clone(),
                Config::default(),
                Arc::new(ManualClock::new(AFTER_ALL_EXPIRED)),
            )
            .expect("open the manager");
            let stop = AtomicBool::new(false);
            let (total, deleted) = std::thread::scope(|scope| {
                let writer = matches!(mode, Mode::Probed).then(|| {
                    scope.spawn(|| {
                        let mut times = Vec::new();
                        loop {
                            let t = Instant::now();
                            block_on(manager.create(NewSession::new("probe", ClientKind::Web)))
                                .expect("probe create");
                            times.push(t.elapsed().as_nanos());
                            if stop.load(Ordering::Relaxed) {
                                break times;
                            }
                            std::thread::sleep(PROBE_PAUSE);
                        }
                    })
                });
                let start = Instant::now();
                let deleted = block_on(manager.cleanup_expired()).expect("cleanup");
                let total = start.elapsed().as_nanos();
                stop.store(true, Ordering::Relaxed);
                probe_times = writer.map(|w| w.join().expect("probe thread"));
                (total, deleted)
            });
            let calls = store.batches.lock().expect("batch times").clone();
            (total, calls, deleted, Some(sqlite.write_stats()))
        }
        Mode::Store(batch) => {
            let store = SqliteStore::open(db).expect("open the store");
            let mut calls = Vec::new();
            let mut deleted = 0;
            let start = Instant::now();
            loop {
                let t = Instant::now();
                let n = block_on(
                    store.delete_expired(&sessionkit::Liveness::at(AFTER_ALL_EXPIRED), batch),
                )
                .expect("delete");
                calls.push(t.elapsed().as_nanos());
                deleted += n;
                if n < u64::from(batch) {
                    break;
                }
            }
            (
                start.elapsed().as_nanos(),
                calls,
                deleted,
                Some(store.write_stats()),
            )
        }
        Mode::Bare => {
            let conn = fixture::bare(db);
            let start = Instant::now();
            let deleted = conn
                .execute(
                    "DELETE FROM sessions WHERE expires_at <= ?1",
                    [AFTER_ALL_EXPIRED],
                )
                .expect("bare delete");
            let total = start.elapsed().as_nanos();
            (total, vec![total], deleted as u64, None)
        }
    };
    let longest_call = calls.iter().copied().max().unwrap_or(0) as f64;
    // The bare DELETE is one transaction, its commit's automatic checkpoint included.
    let catch_up = stats.map_or(0.0, |s| s.longest_catch_up.as_nanos() as f64);
    let (longest, checkpoints, checkpoint_ns, longest_checkpoint) = match stats {
        Some(s) => (
            s.longest_transaction.max(s.longest_catch_up).as_nanos() as f64,
            s.checkpoints,
            s.checkpoint_time.as_nanos() as f64,
            s.longest_checkpoint.as_nanos() as f64,
        ),
        None => (longest_call, 1, 0.0, 0.0),
    };
    let probe = probe_times.map(|mut times| {
        times.sort_unstable();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize] as f64;
        serde_json::json!({
            "ops": times.len(),
            "median_ns": at(0.5),
            "p99_ns": at(0.99),
            "longest_ns": at(1.0),
        })
    });
    println!(
        "{}",
        serde_json::json!({
            "total_ns": total as f64,
            "longest_ns": longest,
            "longest_call_ns": longest_call,
            "transactions": calls.len(),
            "checkpoints": checkpoints,
            "checkpoint_ns": checkpoint_ns,
            "longest_checkpoint_ns": longest_checkpoint,
            "longest_catch_up_ns": catch_up,
            "deleted": deleted,
            "rss_kib": peak_rss_kib(),
            "probe": probe,
        })
    );
}

/// Experiment: `cleanup-child <db> sql <batch> <pragmas> <statement>`: the statement (with ?1 =
/// now, ?2 = batch) in `BEGIN IMMEDIATE … COMMIT` transactions on a bare connection with extra
/// pragmas (`;`-separated), until a short batch.
fn child_sql(db: &Path, args: &[String]) {
    let batch: i64 = args[2].parse().expect("batch");
    let conn = fixture::bare(db);
    if !args[3].is_empty() {
        conn.execute_batch(&args[3]).expect("pragmas");
    }
    let mut stmt = conn.prepare(&args[4]).expect("statement");
    let mut batches = Vec::new();
    let mut deleted = 0u64;
    let start = Instant::now();
    loop {
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        let n = stmt
            .execute(rusqlite::params![AFTER_ALL_EXPIRED, batch])
            .expect("delete");
        conn.execute_batch("COMMIT").expect("commit");
        batches.push(t.elapsed().as_nanos());
        deleted += n as u64;
        if (n as i64) < batch {
            break;
        }
    }
    let total = start.elapsed().as_nanos();
    let longest = batches.iter().copied().max().unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({
            "total_ns": total as f64, "longest_ns": longest as f64,
            "transactions": batches.len(), "deleted": deleted, "rss_kib": peak_rss_kib(),
        })
    );
}

/// Child entry point: `page-child <db>`: every session of every user, page by page (50 a
/// page, through the API), then every session of the heavy user. Prints one JSON line.
pub fn child_page(args: &[String]) {
    let db = Path::new(args.first().expect("page-child <db> <users>"));
    let users: usize = args
        .get(1)
        .and_then(|u| u.parse().ok())
        .expect("page-child <db> <users>");
    let store = Arc::new(SqliteStore::open(db).expect("open the store"));
    let manager =
        SessionManager::open_with_clock(store, Config::default(), Arc::new(ManualClock::new(T0)))
            .expect("open the manager");
    let start = Instant::now();
    let mut seen = 0u64;
    let mut pages = 0u64;
    let all_users = (0..users)
        .map(fixture::user_name)
        .chain(std::iter::once(HEAVY_USER.to_owned()));
    for user in all_users {
        let mut options = ListOptions::default();
        loop {
            let page = block_on(manager.list_user_sessions(&user, &options)).expect("page");
            seen += page.items.len() as u64;
            pages += 1;
            match page.next_cursor {
                Some(c) => options.cursor = Some(c),
                None => break,
            }
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "total_ns": start.elapsed().as_nanos() as f64,
            "sessions": seen,
            "pages": pages,
            "rss_kib": peak_rss_kib(),
        })
    );
}

fn run_child(args: &[String]) -> serde_json::Value {
    let exe = std::env::current_exe().expect("this executable");
    let out = Command::new(exe)
        .args(args)
        .output()
        .expect("run a bench child");
    assert!(
        out.status.success(),
        "bench child {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().expect("child output");
    serde_json::from_str(line).expect("child JSON")
}

fn cleanup_run(p: &Params, f: &Fixture, mode: Mode) -> Run {
    let db = p.work_dir.join("cleanup.db");
    fixture::copy_db(&f.path, &db);
    let mut args = vec!["cleanup-child".to_owned(), db.display().to_string()];
    args.extend(mode.args());
    let v = run_child(&args);
    fixture::remove_db(&db);
    let num = |k: &str| v[k].as_f64().expect("child figure");
    let run = Run {
        total_ns: num("total_ns"),
        longest_ns: num("longest_ns"),
        longest_call_ns: num("longest_call_ns"),
        transactions: num("transactions") as u64,
        checkpoints: num("checkpoints") as u64,
        checkpoint_ns: num("checkpoint_ns"),
        longest_checkpoint_ns: num("longest_checkpoint_ns"),
        deleted: num("deleted") as u64,
        rss_kib: num("rss_kib") as u64,
        probe: v["probe"].as_object().map(|probe| {
            let num = |k: &str| probe[k].as_f64().expect("probe figure");
            Probe {
                ops: num("ops") as u64,
                median_ns: num("median_ns"),
                p99_ns: num("p99_ns"),
                longest_ns: num("longest_ns"),
            }
        }),
    };
    assert_eq!(run.deleted, f.n as u64, "every session removed");
    eprintln!(
        "  cleanup {mode:?}: {} total, longest transaction {}, longest call {}, {} transactions, \
         {} checkpoints ({}, longest {}), peak RSS {} MiB",
        fmt_ns(run.total_ns),
        fmt_ns(run.longest_ns),
        fmt_ns(run.longest_call_ns),
        run.transactions,
        run.checkpoints,
        fmt_ns(run.checkpoint_ns),
        fmt_ns(run.longest_checkpoint_ns),
        run.rss_kib / 1024
    );
    run
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The cleanup comparison, the batch-size curve and both memory cases.
pub fn cleanup(p: &Params, report: &mut Report, f: &Fixture) {
    // Interleaved: bare, ours, bare, ours, ...
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..p.cleanup_reps {
        bare.push(cleanup_run(p, f, Mode::Bare));
        ours.push(cleanup_run(p, f, Mode::Manager));
    }
    let med =
        |runs: &[Run], get: fn(&Run) -> f64| median(&runs.iter().map(get).collect::<Vec<_>>());
    let ours_total = med(&ours, |r| r.total_ns);
    let ours_longest = med(&ours, |r| r.longest_ns);
    let worst_longest = ours.iter().map(|r| r.longest_ns).fold(0.0, f64::max);
    let bare_total = med(&bare, |r| r.total_ns);
    let transactions = ours[0].transactions;
    let met_total = ours_total / bare_total <= 1.5;
    let met_lock = worst_longest <= 100e6;
    report.check(
        format!("cleanup_expired of {} expired sessions, total", f.n),
        fmt_ns(ours_total),
        fmt_ns(bare_total),
        ratio(ours_total, bare_total),
        "≤ 1.5×",
        met_total,
    );
    report.check(
        format!(
            "cleanup_expired of {} expired sessions, longest transaction",
            f.n
        ),
        fmt_ns(worst_longest),
        format!("{} (one transaction)", fmt_ns(bare_total)),
        fmt_ns(worst_longest),
        "≤ 100 ms",
        met_lock,
    );

    let worst_call = ours.iter().map(|r| r.longest_call_ns).fold(0.0, f64::max);
    let mut md = format!(
        "## cleanup_expired of {n} expired sessions\n\n\
         A copy of the {n}-session fixture at a clock where every session has expired, each run \
         in a fresh child process. Ours: `SessionManager::cleanup_expired` (the store's \
         `delete_expired` in bounded transactions until a short batch). The lock is timed by the \
         store itself (`SqliteStore::write_stats`: from `BEGIN IMMEDIATE` returning to `COMMIT` \
         returning, or a checkpoint's catch-up step under the lock, whichever is longer); the \
         calls by a wrapping store. A call is its transaction plus, when the log \
         calls for one, a checkpoint run after the lock is released, on the store's own \
         checkpoint connection (other writers carry on meanwhile). Baseline: one bare \
         `DELETE FROM sessions WHERE expires_at <= ?` with the same pragmas (WAL, \
         `synchronous=NORMAL`, foreign keys on, default cache), its commit's automatic \
         checkpoint included. Runs alternate bare, ours ({reps} each); medians shown, longest \
         transaction and call are the worst seen.\n\n\
         | case | total | longest write transaction | longest call | transactions | checkpoints | peak RSS | target |\n\
         |---|---|---|---|---|---|---|---|\n\
         | cleanup_expired | {} | {} | {} | {} | {} ({}) | {} | total ≤ 1.5× ({}: {}), lock ≤ 100 ms ({}) |\n\
         | bare single DELETE | {} | {} | {} | 1 | 1 (in the commit) | {} | |\n",
        fmt_ns(ours_total),
        fmt_ns(worst_longest),
        fmt_ns(worst_call),
        transactions,
        ours[0].checkpoints,
        fmt_ns(med(&ours, |r| r.checkpoint_ns)),
        mib(ours.iter().map(|r| r.rss_kib).max().unwrap_or(0)),
        ratio(ours_total, bare_total),
        if met_total { "met" } else { "**not met**" },
        if met_lock { "met" } else { "**not met**" },
        fmt_ns(bare_total),
        fmt_ns(bare_total),
        fmt_ns(bare_total),
        mib(bare.iter().map(|r| r.rss_kib).max().unwrap_or(0)),
        n = f.n,
        reps = p.cleanup_reps,
    );
    let _ = ours_longest;

    // What another writer sees meanwhile.
    let probed = cleanup_run(p, f, Mode::Probed);
    if let Some(probe) = probed.probe {
        let _ = write!(
            md,
            "\nWhile the cleanup runs, another thread of the same process creates a session \
             through the same manager every {pause} ms and times each create (what a concurrent \
             request waits; one run, in which the cleanup took {total}):\n\n\
             | creates | median | p99 | longest | longest write transaction in the run |\n\
             |---|---|---|---|---|\n\
             | {ops} | {median} | {p99} | {longest} | {lock} |\n",
            pause = PROBE_PAUSE.as_millis(),
            total = fmt_ns(probed.total_ns),
            ops = probe.ops,
            median = fmt_ns(probe.median_ns),
            p99 = fmt_ns(probe.p99_ns),
            longest = fmt_ns(probe.longest_ns),
            lock = fmt_ns(probed.longest_ns),
        );
    }

    // The curve: batch size against total time and the longest transaction.
    let _ = write!(
        md,
        "\nBatch size against total time and the longest transaction (`Store::delete_expired` \
         in a loop, one run each):\n\n\
         | batch | total | vs bare DELETE | longest transaction | mean transaction | longest call | checkpoints (time, longest) |\n\
         |---|---|---|---|---|---|---|\n"
    );
    let row = |label: String, r: &Run| {
        format!(
            "| {label} | {} | {} | {} | {} | {} | {} ({}, {}) |",
            fmt_ns(r.total_ns),
            ratio(r.total_ns, bare_total),
            fmt_ns(r.longest_ns),
            fmt_ns((r.total_ns - r.checkpoint_ns) / r.transactions as f64),
            fmt_ns(r.longest_call_ns),
            r.checkpoints,
            fmt_ns(r.checkpoint_ns),
            fmt_ns(r.longest_checkpoint_ns),
        )
    };
    let _ = writeln!(
        md,
        "{}",
        row("1000 (`cleanup_expired`, first run above)".into(), &ours[0])
    );
    for &batch in &p.cleanup_batches {
        let run = cleanup_run(p, f, Mode::Store(batch));
        let _ = writeln!(md, "{}", row(batch.to_string(), &run));
    }
    report.section(md);

    // Memory: cleanup (from the runs above) and paging through every session.
    let cleanup_rss = ours.iter().map(|r| r.rss_kib).max().unwrap_or(0);
    let page = run_child(&[
        "page-child".to_owned(),
        f.path.display().to_string(),
        f.users().to_string(),
    ]);
    let page_rss = page["rss_kib"].as_u64().expect("rss");
    let seen = page["sessions"].as_u64().expect("sessions");
    assert_eq!(seen, f.n as u64, "paging saw every session");
    let limit = 64 * 1024;
    report.check(
        format!("peak RSS, cleanup_expired of {}", f.n),
        mib(cleanup_rss),
        "—",
        mib(cleanup_rss),
        "≤ 64 MiB",
        cleanup_rss <= limit,
    );
    report.check(
        format!("peak RSS, paging through all {} sessions", f.n),
        mib(page_rss),
        "—",
        mib(page_rss),
        "≤ 64 MiB",
        page_rss <= limit,
    );
    report.section(format!(
        "## Memory\n\n\
         Peak resident set (`VmHWM` from `/proc/self/status`) of a fresh child process of the \
         bench binary, the whole process included (binary, SQLite page caches of the writer and \
         readers, allocator).\n\n\
         | case | peak RSS | target |\n|---|---|---|\n\
         | `cleanup_expired` of {n} expired sessions | {} | ≤ 64 MiB {} |\n\
         | paging through all {n} sessions ({} users and one with {}; {} pages of ≤ 50 in {}) | {} | ≤ 64 MiB {} |\n",
        mib(cleanup_rss),
        if cleanup_rss <= limit { "met" } else { "**not met**" },
        f.users(),
        f.heavy,
        page["pages"],
        fmt_ns(page["total_ns"].as_f64().unwrap_or(0.0)),
        mib(page_rss),
        if page_rss <= limit { "met" } else { "**not met**" },
        n = f.n,
    ));
}

//! The HTTP benchmark: `sessionkit serve` under load from wrk (a second process, on loopback),
//! against a bare axum handler (the ceiling) and the same route on axum + tower-sessions (the
//! peer), each a separate server process on a free port of 127.0.0.1, stopped by its pid.
//!
//! Cases, each run in interleaved rounds (rotating which contender goes first) after a short
//! warm-up round, medians reported:
//! - `GET /v1/session` (validate) at 64 connections: sessionkit, bare axum returning the same
//!   bytes (a Session JSON fetched from sessionkit at the start), tower-sessions (if built);
//! - `PUT /v1/session/state` of the 16 KiB corpus document, as JSON and as the encoded blob;
//! - `GET /v1/session` latency while `POST /v1/admin/cleanup` removes expired sessions (a
//!   copy of the cached fixture, every row of which has expired by the real clock), against the
//!   same load on the same server just before.
//!
//! Writes the checks and the markdown section as JSON (`run` includes them in BENCHMARKS.md)
//! and, with `--splice`, puts them straight into an existing BENCHMARKS.md.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pollster::block_on;
use serde_json::{json, Value};
use sessionkit::{ClientKind, Config, NewSession, SessionManager};
use sessionkit_sqlite::SqliteStore;
use sha2::{Digest, Sha256};

use crate::fixture;
use crate::host;
use crate::measure::{median, sig3};
use crate::report::Check;

/// The wrk script: pre-formatted requests over many sessions, results as one JSON line.
const WRK_LUA: &str = include_str!("wrk.lua");
/// The media type of the encoded state.
const STATE_MEDIA_TYPE: &str = "application/vnd.sessionkit.state";

/// Sizes and durations of one HTTP run.
#[derive(Debug, Clone)]
struct Params {
    quick: bool,
    /// Sessions in the validate and state database.
    sessions: usize,
    /// Concurrent connections of the load.
    connections: u32,
    /// wrk threads.
    threads: u32,
    /// Seconds per timed load run.
    seconds: u32,
    /// Seconds of the warm-up round.
    warm_seconds: u32,
    /// Timed rounds per comparison.
    rounds: usize,
    /// Expired sessions removed by the cleanup case.
    cleanup_n: usize,
    /// Live sessions the cleanup case's load validates.
    cleanup_live: usize,
    /// Rounds of the cleanup case (each on a fresh copy, behind one calibration round).
    cleanup_rounds: usize,
}

impl Params {
    fn full() -> Self {
        Params {
            quick: false,
            sessions: 10_000,
            connections: 64,
            threads: 2,
            seconds: 8,
            warm_seconds: 2,
            rounds: 5,
            cleanup_n: 100_000,
            cleanup_live: 1_000,
            cleanup_rounds: 3,
        }
    }

    fn quick() -> Self {
        Params {
            quick: true,
            sessions: 200,
            seconds: 1,
            warm_seconds: 1,
            rounds: 1,
            cleanup_n: 5_000,
            cleanup_live: 64,
            cleanup_rounds: 1,
            ..Params::full()
        }
    }
}

struct Options {
    params: Params,
    sessionkit_bin: PathBuf,
    peer_bin: Option<PathBuf>,
    out_json: PathBuf,
    splice: Option<PathBuf>,
    notes: Option<PathBuf>,
    fixtures: PathBuf,
    work_dir: PathBuf,
    corpus: PathBuf,
    command: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: sessionkit-bench http --sessionkit-bin PATH [--quick] [--peer-bin PATH] \
         [--out-json FILE] [--splice BENCHMARKS.md] [--notes FILE] [--fixtures DIR] [--work DIR] \
         [--corpus DIR] [--command TEXT]"
    );
    std::process::exit(2)
}

fn parse(args: &[String]) -> Options {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Options {
        params: if quick {
            Params::quick()
        } else {
            Params::full()
        },
        sessionkit_bin: PathBuf::new(),
        peer_bin: None,
        out_json: PathBuf::from("target/bench/http.json"),
        splice: None,
        notes: None,
        fixtures: PathBuf::from("target/bench/fixtures"),
        work_dir: PathBuf::from("target/bench/work/http"),
        corpus: PathBuf::from("benches/corpus"),
        command: String::from("scripts/bench.sh --http"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--quick" => {}
            "--sessionkit-bin" => o.sessionkit_bin = value().into(),
            "--peer-bin" => o.peer_bin = Some(value().into()),
            "--out-json" => o.out_json = value().into(),
            "--splice" => o.splice = Some(value().into()),
            "--notes" => o.notes = Some(value().into()),
            "--fixtures" => o.fixtures = value().into(),
            "--work" => o.work_dir = value().into(),
            "--corpus" => o.corpus = value().into(),
            "--command" => o.command = value(),
            _ => usage(),
        }
    }
    if o.sessionkit_bin.as_os_str().is_empty() {
        usage();
    }
    o
}

// ---------------------------------------------------------------------------------------------
// Server processes

/// A server started as a child process; stopped by its pid (SIGTERM, then SIGKILL after 10 s).
struct ServerProc {
    name: &'static str,
    child: Child,
    /// `http://HOST:PORT`.
    base: String,
}

impl ServerProc {
    /// Starts `cmd`, whose first stdout line is `listening on http://HOST:PORT`.
    fn start(name: &'static str, mut cmd: Command, log: PathBuf) -> ServerProc {
        let log_file = std::fs::File::create(&log).expect("create the server log");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let base = match (read, line.trim().strip_prefix("listening on ")) {
            (Ok(_), Some(base)) if base.starts_with("http://127.0.0.1:") => base.to_owned(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{name} did not start (stdout {line:?}); its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        eprintln!("  {name}: {base} (pid {})", child.id());
        ServerProc { name, child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("  {} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// One HTTP request with curl: the status, the body written to `out`.
fn curl(args: &[&str], out: &Path) -> u16 {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "600", "-o"])
        .arg(out)
        .args(["-w", "%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        output.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("an HTTP status from curl")
}

// ---------------------------------------------------------------------------------------------
// Load

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    rps: f64,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    p999_us: f64,
    max_us: f64,
    requests: f64,
    /// Read, write and timeout errors (connect and status errors abort the run).
    errors: f64,
}

/// One request shape for wrk.
struct Shape<'a> {
    headers: &'a Path,
    method: &'a str,
    path: &'a str,
    body: Option<(&'a Path, &'a str)>,
}

fn wrk(p: &Params, lua: &Path, base: &str, shape: &Shape<'_>, seconds: u32) -> Load {
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{}", p.threads))
        .arg(format!("-c{}", p.connections))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "30s", "--latency", "-s"])
        .arg(lua)
        .arg(base)
        .arg("--")
        .arg(shape.headers)
        .arg(shape.method)
        .arg(shape.path);
    if let Some((body, content_type)) = shape.body {
        cmd.arg(body).arg(content_type);
    }
    let output = cmd.output().expect("run wrk");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("WRKJSON "))
        .unwrap_or_else(|| panic!("no WRKJSON line in wrk's output:\n{stdout}"));
    let v: Value = serde_json::from_str(line).expect("wrk's JSON line");
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    assert!(
        f("status_errors") == 0.0 && f("connect_errors") == 0.0,
        "{} {} on {base}: {} non-2xx/3xx answers, {} connect errors (a failing request would \
         be timed as a fast one)",
        shape.method,
        shape.path,
        f("status_errors"),
        f("connect_errors")
    );
    assert!(f("requests") > 0.0, "wrk completed no request on {base}");
    Load {
        rps: f("requests") / (f("duration_us") / 1e6),
        p50_us: f("p50_us"),
        p90_us: f("p90_us"),
        p99_us: f("p99_us"),
        p999_us: f("p999_us"),
        max_us: f("max_us"),
        requests: f("requests"),
        errors: f("read_errors") + f("write_errors") + f("timeouts"),
    }
}

/// A contender of an interleaved comparison: one load run of the given seconds.
type Contender<'a> = (&'static str, Box<dyn FnMut(u32) -> Load + 'a>);

/// A warm-up round (not kept), then `p.rounds` rounds, each running every contender once in
/// rotated order. Returns each contender's runs, in the order given.
fn interleave(p: &Params, contenders: &mut [Contender<'_>]) -> Vec<Vec<Load>> {
    let n = contenders.len();
    let mut runs = vec![Vec::new(); n];
    for round in 0..=p.rounds {
        for k in 0..n {
            let which = (k + round) % n;
            let seconds = if round == 0 {
                p.warm_seconds
            } else {
                p.seconds
            };
            let (name, run) = &mut contenders[which];
            let load = run(seconds);
            eprintln!(
                "  round {round} {name}: {:.0} req/s, p50 {} p99 {}",
                load.rps,
                fmt_us(load.p50_us),
                fmt_us(load.p99_us)
            );
            if round > 0 {
                runs[which].push(load);
            }
        }
    }
    runs
}

/// The median of each figure over runs.
fn medians(runs: &[Load]) -> Load {
    let m = |f: fn(&Load) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    Load {
        rps: m(|l| l.rps),
        p50_us: m(|l| l.p50_us),
        p90_us: m(|l| l.p90_us),
        p99_us: m(|l| l.p99_us),
        p999_us: m(|l| l.p999_us),
        max_us: m(|l| l.max_us),
        requests: m(|l| l.requests),
        errors: runs.iter().map(|l| l.errors).sum(),
    }
}

fn fmt_us(us: f64) -> String {
    if us < 1_000.0 {
        format!("{} µs", sig3(us.max(1.0)))
    } else if us < 1_000_000.0 {
        format!("{} ms", sig3(us / 1e3))
    } else {
        format!("{} s", sig3(us / 1e6))
    }
}

fn fmt_rps(rps: f64) -> String {
    format!("{rps:.0}")
}

fn rps_list(runs: &[Load]) -> String {
    runs.iter()
        .map(|l| format!("{:.0}", l.rps))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// Setup

/// The first field of `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// A key for this run's admin API (not a secret worth protecting: a benchmark on loopback).
fn admin_key(work: &Path) -> (PathBuf, String) {
    let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
    let key = base64_url(&Sha256::digest(seed.as_bytes()));
    let path = work.join("admin.key");
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, format!("{key}\n")).expect("write the admin key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("make the admin key file private");
    }
    (path, key)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Creates `count` live sessions (the real clock, default config) in the store at `path`,
/// shaped as a browser sign-in would make them; returns one `Authorization` line per session.
fn create_sessions(path: &Path, count: usize) -> String {
    let store = Arc::new(SqliteStore::open(path).expect("open the store"));
    let manager = SessionManager::open(store, Config::default()).expect("open the manager");
    let mut lines = String::new();
    for i in 0..count {
        let mut new = NewSession::new(format!("user-{:07}", i % 1_000), ClientKind::Web);
        new.client_version = Some("1.4.2".to_owned());
        new.device = Some(format!("Device {}", i % 100));
        new.ip = Some(format!("10.0.{}.{}", (i >> 8) & 255, i & 255));
        new.user_agent = Some(fixture::USER_AGENT.to_owned());
        new.metadata = Some(json!({ "plan": "pro", "locale": "en-GB" }));
        let created = block_on(manager.create(new)).expect("create a session");
        let _ = writeln!(lines, "Authorization: Bearer {}", created.token.as_str());
    }
    lines
}

fn serve_cmd(o: &Options, db: &Path, key_file: &Path) -> Command {
    let mut cmd = Command::new(&o.sessionkit_bin);
    cmd.arg("--db")
        .arg(db)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cleanup-interval-ms",
            "0",
        ])
        .arg("--admin-key-file")
        .arg(key_file);
    cmd
}

/// The first `Authorization` header line (for curl).
fn first_token(lines: &str) -> String {
    lines
        .lines()
        .next()
        .filter(|l| l.starts_with("Authorization: Bearer "))
        .expect("a session")
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// The run

/// What the run produced, for `run` and `--splice`.
struct Outcome {
    checks: Vec<Check>,
    section: String,
}

/// `sessionkit-bench http …`
pub fn main(args: &[String]) {
    let o = parse(args);
    let p = &o.params;
    let started = Instant::now();
    let wrk_version = Command::new("wrk")
        .arg("--version")
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .split(" [")
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default();
    assert!(
        wrk_version.starts_with("wrk"),
        "wrk is not installed (scripts/bench.sh installs it)"
    );
    let work = o.work_dir.clone();
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("create the work directory");
    let lua = work.join("bench.lua");
    std::fs::write(&lua, WRK_LUA).expect("write the wrk script");
    let (key_file, key) = admin_key(&work);

    let mut checks = Vec::new();
    let mut md = String::new();
    let mut facts = Vec::new();

    // --- validate and state --------------------------------------------------------------
    eprintln!("http: {} sessions", p.sessions);
    let db = work.join("http.db");
    let tokens = create_sessions(&db, p.sessions);
    let tokens_file = work.join("tokens.txt");
    std::fs::write(&tokens_file, &tokens).expect("write the tokens");
    let ours = ServerProc::start(
        "sessionkit serve",
        serve_cmd(&o, &db, &key_file),
        work.join("serve.log"),
    );

    // The ceiling answers the very bytes sessionkit answers.
    let session_json = work.join("session.json");
    let auth = first_token(&tokens);
    let status = curl(&["-H", &auth, &ours.url("/v1/session")], &session_json);
    assert_eq!(status, 200, "GET /v1/session on sessionkit");
    let body_len = std::fs::metadata(&session_json)
        .expect("the Session JSON")
        .len();
    let bare = ServerProc::start(
        "bare axum",
        {
            let mut cmd = Command::new(std::env::current_exe().expect("this binary"));
            cmd.arg("bare-http").arg("--body").arg(&session_json);
            cmd
        },
        work.join("bare.log"),
    );
    let check = work.join("check.json");
    assert_eq!(curl(&["-H", &auth, &bare.url("/v1/session")], &check), 200);
    assert_eq!(
        std::fs::metadata(&check).expect("bare body").len(),
        body_len
    );

    let peer_cookies = work.join("peer-cookies.txt");
    let peer = o.peer_bin.as_ref().map(|bin| {
        let mut cmd = Command::new(bin);
        cmd.arg("--db")
            .arg(work.join("peer.db"))
            .arg("--prefill")
            .arg(p.sessions.to_string())
            .arg("--ids-out")
            .arg(&peer_cookies)
            .arg("--body")
            .arg(&session_json);
        ServerProc::start("tower-sessions", cmd, work.join("peer.log"))
    });
    let mut peer_len = None;
    if let Some(peer) = &peer {
        let cookies = std::fs::read_to_string(&peer_cookies).expect("the peer's cookies");
        let cookie = format!(
            "Cookie: {}",
            cookies.lines().next().expect("a peer session")
        );
        assert_eq!(
            curl(&["-H", &cookie, &peer.url("/v1/session")], &check),
            200
        );
        peer_len = Some(std::fs::metadata(&check).expect("peer body").len());
        assert_eq!(
            curl(
                &[
                    "-H",
                    "Cookie: id=AAAAAAAAAAAAAAAAAAAAAA",
                    &peer.url("/v1/session")
                ],
                &check
            ),
            401,
            "the peer refuses an unknown session"
        );
        let lines: String = cookies.lines().map(|c| format!("Cookie: {c}\n")).collect();
        std::fs::write(&peer_cookies, lines).expect("write the peer's headers");
    }
    assert_eq!(
        curl(
            &["-H", "Authorization: Bearer nope", &ours.url("/v1/session")],
            &check
        ),
        401,
        "sessionkit refuses a bad token"
    );

    eprintln!("http: GET /v1/session");
    let validate_start = host::Start::now();
    let load_before = load_average();
    fn get(headers: &Path) -> Shape<'_> {
        Shape {
            headers,
            method: "GET",
            path: "/v1/session",
            body: None,
        }
    }
    let (ours_shape, peer_shape) = (get(&tokens_file), get(&peer_cookies));
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "sessionkit",
            Box::new(|s| wrk(p, &lua, &ours.base, &ours_shape, s)),
        ),
        (
            "bare axum",
            Box::new(|s| wrk(p, &lua, &bare.base, &ours_shape, s)),
        ),
    ];
    if let Some(peer) = &peer {
        contenders.push((
            "tower-sessions",
            Box::new(|s| wrk(p, &lua, &peer.base, &peer_shape, s)),
        ));
    }
    let runs = interleave(p, &mut contenders);
    drop(contenders);
    let validate_span = validate_start.finish("http validate");
    let load_after = load_average();
    let (m_ours, m_bare) = (medians(&runs[0]), medians(&runs[1]));
    let m_peer = runs.get(2).map(|r| medians(r));
    bare.stop();
    if let Some(peer) = peer {
        peer.stop();
    }

    let ceiling = m_ours.rps / m_bare.rps;
    checks.push(check_row(
        "HTTP: GET /v1/session vs bare axum (req/s, 64 conns)",
        &m_ours,
        &m_bare,
        ceiling,
        0.6,
    ));
    let _ = writeln!(
        md,
        "### GET /v1/session (validate), {} connections\n\n\
         {} sessions in a fresh database; every request carries one of their tokens (wrk \
         cycles through them). The bare axum handler answers the same {body_len} bytes \
         sessionkit answered for a session{}. {} rounds of {} s per contender after a {} s \
         warm-up round; medians.\n\n\
         | server | req/s | p50 | p90 | p99 | p99.9 | req/s per round | vs sessionkit |\n\
         |---|---|---|---|---|---|---|---|",
        p.connections,
        p.sessions,
        peer_len.map_or(String::new(), |n| format!(
            "; tower-sessions answers the same document from its store ({n} bytes: serde_json \
             orders the keys)"
        )),
        p.rounds,
        p.seconds,
        p.warm_seconds,
    );
    let mut row = |name: &str, m: &Load, runs: &[Load]| {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} | {:.2}× |",
            fmt_rps(m.rps),
            fmt_us(m.p50_us),
            fmt_us(m.p90_us),
            fmt_us(m.p99_us),
            fmt_us(m.p999_us),
            rps_list(runs),
            m.rps / m_ours.rps
        );
    };
    row("sessionkit serve", &m_ours, &runs[0]);
    row("bare axum (ceiling)", &m_bare, &runs[1]);
    if let Some(m_peer) = &m_peer {
        row("axum + tower-sessions (SQLite)", m_peer, &runs[2]);
    }
    let _ = writeln!(
        md,
        "\nsessionkit reaches **{ceiling:.2}×** the ceiling's requests/s (target ≥ 0.6×: {}).",
        met_text(ceiling >= 0.6)
    );
    if let Some(m_peer) = &m_peer {
        let speedup = m_ours.rps / m_peer.rps;
        checks.push(check_row(
            "HTTP: GET /v1/session vs axum + tower-sessions (req/s)",
            &m_ours,
            m_peer,
            speedup,
            3.0,
        ));
        let _ = writeln!(
            md,
            "sessionkit serves **{speedup:.2}×** the peer's requests/s (target ≥ 3×: {}).",
            met_text(speedup >= 3.0)
        );
    } else {
        let _ = writeln!(
            md,
            "The peer (benches/peer-tower, `peer-tower-http`) was not built for this run."
        );
    }
    facts.push(span_fact(&validate_span, &load_before, &load_after));

    // --- PUT state -------------------------------------------------------------------------
    eprintln!("http: PUT /v1/session/state");
    let doc_path = o.corpus.join("doc_16KiB.json");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&doc_path).expect("the 16 KiB corpus document"))
            .expect("corpus JSON");
    let put_json = work.join("put.json");
    std::fs::write(
        &put_json,
        serde_json::to_vec(&json!({ "data": doc })).expect("JSON"),
    )
    .expect("write the PUT body");
    let put_url = ours.url("/v1/session/state");
    let put_status = curl(
        &[
            "-X",
            "PUT",
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &format!("@{}", put_json.display()),
            &put_url,
        ],
        &check,
    );
    assert_eq!(put_status, 200, "PUT /v1/session/state (JSON)");
    let blob = work.join("state.blob");
    let accept = format!("Accept: {STATE_MEDIA_TYPE}");
    assert_eq!(curl(&["-H", &auth, "-H", &accept, &put_url], &blob), 200);
    let blob_len = std::fs::metadata(&blob).expect("the blob").len();
    let put_json_len = std::fs::metadata(&put_json).expect("the PUT body").len();
    let put_start = host::Start::now();
    let load_before = load_average();
    let json_shape = Shape {
        headers: &tokens_file,
        method: "PUT",
        path: "/v1/session/state",
        body: Some((&put_json, "application/json")),
    };
    let blob_shape = Shape {
        headers: &tokens_file,
        method: "PUT",
        path: "/v1/session/state",
        body: Some((&blob, STATE_MEDIA_TYPE)),
    };
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "PUT JSON",
            Box::new(|s| wrk(p, &lua, &ours.base, &json_shape, s)),
        ),
        (
            "PUT encoded",
            Box::new(|s| wrk(p, &lua, &ours.base, &blob_shape, s)),
        ),
    ];
    let runs = interleave(p, &mut contenders);
    drop(contenders);
    let put_span = put_start.finish("http put");
    let load_after = load_average();
    ours.stop();
    let (m_json, m_blob) = (medians(&runs[0]), medians(&runs[1]));
    let _ = writeln!(
        md,
        "\n### PUT /v1/session/state, 16 KiB document, {} connections\n\n\
         `benches/corpus/doc_16KiB.json` as JSON (`{{\"data\": …}}`, {put_json_len} bytes) and as \
         the encoded blob (`Content-Type: {STATE_MEDIA_TYPE}`, {blob_len} bytes, fetched with \
         that `Accept`), spread over the same sessions, no `If-Match`. Same rounds as above.\n\n\
         | body | req/s | p50 | p99 | p99.9 | req/s per round | MB/s of document |\n\
         |---|---|---|---|---|---|---|",
        p.connections
    );
    let doc_len = std::fs::metadata(&doc_path).map_or(0, |m| m.len()) as f64;
    for (name, m, r) in [("JSON", &m_json, &runs[0]), ("encoded", &m_blob, &runs[1])] {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {:.0} |",
            fmt_rps(m.rps),
            fmt_us(m.p50_us),
            fmt_us(m.p99_us),
            fmt_us(m.p999_us),
            rps_list(r),
            m.rps * doc_len / 1e6
        );
    }
    facts.push(span_fact(&put_span, &load_before, &load_after));

    // --- latency during cleanup ------------------------------------------------------------
    let (cleanup_md, cleanup_span, cleanup_loads) = cleanup_case(&o, &lua, &key_file, &key);
    md.push_str(&cleanup_md);
    facts.push(span_fact(&cleanup_span, &cleanup_loads.0, &cleanup_loads.1));

    let mut section = format!(
        "## HTTP: `sessionkit serve` under load (wrk)\n\n\
         Generated by `{cmd}` ({date}, {minutes:.1} min){quick}. Load from {wrk} in a second \
         process (`-t{t} -c{c} --latency`, a Lua script cycling through pre-formatted requests) \
         on loopback; every server is a separate process on a free port of 127.0.0.1 (the \
         {profile} `sessionkit serve` over SQLite with the background cleanup off; `sessionkit-bench \
         bare-http`; `benches/peer-tower`'s `peer-tower-http`), each with a multi-threaded tokio \
         runtime of one worker per core. wrk and the server share the machine's {cores} cores, so \
         each figure is what the pair reaches together; ratios within the run are what count. \
         Every run is checked for non-2xx answers (a refused request would be timed as a fast \
         one).\n\n- host during the run: {facts}\n\n{md}",
        cmd = o.command,
        date = crate::command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        minutes = started.elapsed().as_secs_f64() / 60.0,
        quick = if p.quick {
            " — **quick mode: 1 s runs, tiny sizes; the figures mean nothing**"
        } else {
            ""
        },
        wrk = wrk_version,
        profile = if p.quick { "given" } else { "release" },
        t = p.threads,
        c = p.connections,
        cores = std::thread::available_parallelism().map_or(0, |n| n.get()),
        facts = facts.join("; "),
    );
    if !section.ends_with('\n') {
        section.push('\n');
    }
    let outcome = Outcome { checks, section };
    write_outcome(&o.out_json, &outcome);
    if let Some(doc) = &o.splice {
        let notes = o.notes.as_deref().map(|path| {
            std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("read the notes {}: {e}", path.display()))
        });
        splice(doc, &outcome, notes.as_deref());
        eprintln!("spliced the HTTP section into {}", doc.display());
    }
    eprintln!(
        "wrote {} in {:.0} s",
        o.out_json.display(),
        started.elapsed().as_secs_f64()
    );
}

fn met_text(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**not met**"
    }
}

fn check_row(case: &str, ours: &Load, base: &Load, ratio: f64, target: f64) -> Check {
    let check = Check {
        case: case.to_owned(),
        ours: format!("{} req/s", fmt_rps(ours.rps)),
        baseline: format!("{} req/s", fmt_rps(base.rps)),
        value: format!("{ratio:.2}×"),
        target: format!("≥ {target}×"),
        met: ratio >= target,
    };
    eprintln!(
        "  {} | {} | {} | {} (target {}) {}",
        check.case,
        check.ours,
        check.baseline,
        check.value,
        check.target,
        if check.met { "met" } else { "NOT MET" }
    );
    check
}

fn span_fact(span: &host::Span, load_before: &str, load_after: &str) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let steal = span.stolen.map_or("steal not reported".to_owned(), |s| {
        format!(
            "steal {s:.1} s of {:.0} s ({:.1} %)",
            span.wall,
            100.0 * s / (span.wall * cores).max(f64::MIN_POSITIVE)
        )
    });
    format!(
        "{}: {steal}, load average {load_before} → {load_after}",
        span.case
    )
}

/// `GET /v1/session` latency while `POST /v1/admin/cleanup` runs, against the same load just
/// before on the same server. One calibration round (timing the cleanup under load) picks the
/// load's duration so that it ends before the cleanup does; each round then runs on a fresh
/// copy of the fixture.
fn cleanup_case(
    o: &Options,
    lua: &Path,
    key_file: &Path,
    key: &str,
) -> (String, host::Span, (String, String)) {
    let p = &o.params;
    eprintln!(
        "http: GET /v1/session during cleanup of {} expired sessions",
        p.cleanup_n
    );
    let fixture = fixture::fixture(&o.fixtures, p.cleanup_n, crate::Params::heavy(p.cleanup_n));
    let work = &o.work_dir;
    let start = host::Start::now();
    let load_before = load_average();
    let admin = format!("Authorization: Bearer {key}");
    let mut baseline = Vec::new();
    let mut during = Vec::new();
    let mut cleanup_secs = Vec::new();
    let mut covered = Vec::new();
    let mut load_secs = 1u32;
    for round in 0..=p.cleanup_rounds {
        let db = work.join("cleanup.db");
        fixture::copy_db(&fixture.path, &db);
        let tokens = create_sessions(&db, p.cleanup_live);
        let tokens_file = work.join("cleanup-tokens.txt");
        std::fs::write(&tokens_file, &tokens).expect("write the tokens");
        let server = ServerProc::start(
            "sessionkit serve (cleanup)",
            serve_cmd(o, &db, key_file),
            work.join(format!("serve-cleanup-{round}.log")),
        );
        let shape = Shape {
            headers: &tokens_file,
            method: "GET",
            path: "/v1/session",
            body: None,
        };
        // Warm, then the load without a cleanup.
        wrk(p, lua, &server.base, &shape, p.warm_seconds);
        let before = wrk(p, lua, &server.base, &shape, load_secs);
        // The cleanup starts, then the same load; the cleanup must outlast it.
        let url = server.url("/v1/admin/cleanup");
        let out = work.join("cleanup-answer.json");
        let (admin2, out2) = (admin.clone(), out.clone());
        let cleanup = std::thread::spawn(move || {
            let t = Instant::now();
            let status = curl(&["-X", "POST", "-H", &admin2, &url], &out2);
            (status, t.elapsed().as_secs_f64())
        });
        let load_start = Instant::now();
        let while_cleaning = wrk(p, lua, &server.base, &shape, load_secs);
        let load_wall = load_start.elapsed().as_secs_f64();
        let (status, secs) = cleanup.join().expect("the cleanup request");
        assert_eq!(status, 200, "POST /v1/admin/cleanup");
        let answer: Value =
            serde_json::from_slice(&std::fs::read(&out).expect("the cleanup answer"))
                .expect("JSON");
        let removed = answer["removed"].as_u64().unwrap_or(0);
        assert_eq!(
            removed, p.cleanup_n as u64,
            "the cleanup removed every expired session"
        );
        server.stop();
        eprintln!(
            "  round {round}: cleanup {secs:.2} s under load; load {load_wall:.2} s: p50 {} → {}, p99 {} → {}",
            fmt_us(before.p50_us),
            fmt_us(while_cleaning.p50_us),
            fmt_us(before.p99_us),
            fmt_us(while_cleaning.p99_us)
        );
        if round == 0 {
            // Calibration: the load runs for whole seconds, at most 80 % of the cleanup.
            load_secs = ((secs * 0.8).floor() as u32).clamp(1, 10);
            continue;
        }
        baseline.push(before);
        during.push(while_cleaning);
        cleanup_secs.push(secs);
        covered.push((secs / load_wall).min(1.0) >= 1.0);
    }
    let span = start.finish("http cleanup");
    let load_after = load_average();
    let (mb, md_) = (medians(&baseline), medians(&during));
    let all_covered = covered.iter().all(|&c| c);
    let mut md = format!(
        "\n### GET /v1/session while a cleanup of {n} expired sessions runs\n\n\
         A copy of the cached {n}-session fixture (every row expired by the real clock) plus \
         {live} live sessions; per round, on a fresh copy and a fresh server: {warm} s of warm-up \
         load, {secs} s of load without a cleanup, then `POST /v1/admin/cleanup` and at once the \
         same load again for {secs} s (chosen from a calibration round so that the cleanup is \
         still running when the load ends{cov}). {rounds} rounds; medians.\n\n\
         | load | req/s | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|\n",
        n = p.cleanup_n,
        live = p.cleanup_live,
        warm = p.warm_seconds,
        secs = load_secs,
        cov = if all_covered {
            ": it was, in every round"
        } else {
            "; **in some rounds it finished first**, so part of that load ran after it"
        },
        rounds = p.cleanup_rounds,
    );
    for (name, m) in [("without cleanup", &mb), ("during cleanup", &md_)] {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            fmt_rps(m.rps),
            fmt_us(m.p50_us),
            fmt_us(m.p90_us),
            fmt_us(m.p99_us),
            fmt_us(m.p999_us),
            fmt_us(m.max_us)
        );
    }
    let _ = writeln!(
        md,
        "\nThe cleanup took {} s under this load (median; per round: {}). During it, p50 is \
         {:.2}× and p99 {:.2}× their values without it.",
        sig3(median(&cleanup_secs)),
        cleanup_secs
            .iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        md_.p50_us / mb.p50_us,
        md_.p99_us / mb.p99_us
    );
    (md, span, (load_before, load_after))
}

// ---------------------------------------------------------------------------------------------
// Output

fn write_outcome(path: &Path, outcome: &Outcome) {
    if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).expect("create the output directory");
    }
    let v = json!({
        "checks": outcome.checks.iter().map(|c| json!({
            "case": c.case, "ours": c.ours, "baseline": c.baseline,
            "value": c.value, "target": c.target, "met": c.met,
        })).collect::<Vec<_>>(),
        "section": outcome.section,
    });
    std::fs::write(path, serde_json::to_string_pretty(&v).expect("JSON")).expect("write http.json");
}

/// The checks and section of a previous `http` run (for `run`), if its file is there.
pub fn read_outcome(path: &Path) -> Option<(Vec<Check>, String)> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let s = |c: &Value, k: &str| c[k].as_str().unwrap_or("").to_owned();
    let checks = v["checks"]
        .as_array()?
        .iter()
        .map(|c| Check {
            case: s(c, "case"),
            ours: s(c, "ours"),
            baseline: s(c, "baseline"),
            value: s(c, "value"),
            target: s(c, "target"),
            met: c["met"].as_bool().unwrap_or(false),
        })
        .collect();
    Some((checks, v["section"].as_str()?.to_owned()))
}

/// Puts this run's section and checks into an existing BENCHMARKS.md: the `## HTTP` section
/// replaced (or added before `## Notes`), the summary's `HTTP:` rows replaced, the count of
/// targets met recomputed, and the notes (from `## Notes` on) replaced by `notes` if given.
fn splice(path: &Path, outcome: &Outcome, notes: Option<&str>) {
    let doc = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n\n".to_owned());
    let mut doc = spliced(&doc, &outcome.checks, &outcome.section);
    if let Some(notes) = notes {
        if let Some(at) = doc.find("\n## Notes") {
            doc.truncate(at + 1);
        }
        doc.push_str(notes);
        if !notes.ends_with('\n') {
            doc.push('\n');
        }
    }
    std::fs::write(path, doc).expect("write the document");
}

fn summary_row(c: &Check) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        c.case,
        c.ours,
        c.baseline,
        c.value,
        c.target,
        if c.met { "yes" } else { "**no**" }
    )
}

fn spliced(doc: &str, checks: &[Check], section: &str) -> String {
    let mut lines: Vec<String> = doc.lines().map(str::to_owned).collect();
    // The section.
    if let Some(start) = lines.iter().position(|l| l.starts_with("## HTTP")) {
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.starts_with("## "))
            .map_or(lines.len(), |i| start + 1 + i);
        lines.drain(start..end);
    }
    let at = lines
        .iter()
        .position(|l| l.starts_with("## Notes"))
        .unwrap_or(lines.len());
    let new: Vec<String> = section
        .lines()
        .map(str::to_owned)
        .chain([String::new()])
        .collect();
    lines.splice(at..at, new);
    // The summary rows.
    lines.retain(|l| !l.starts_with("| HTTP:"));
    if let Some(head) = lines.iter().position(|l| l.starts_with("| case | ours |")) {
        let end = lines[head..]
            .iter()
            .position(|l| !l.starts_with('|'))
            .map_or(lines.len(), |i| head + i);
        let rows: Vec<String> = checks.iter().map(summary_row).collect();
        lines.splice(end..end, rows);
        let table_end = lines[head..]
            .iter()
            .position(|l| !l.starts_with('|'))
            .map_or(lines.len(), |i| head + i);
        let (met, total) = lines[head + 2..table_end].iter().fold((0, 0), |(m, t), l| {
            (m + usize::from(l.ends_with("| yes |")), t + 1)
        });
        for l in &mut lines {
            if l.starts_with("- targets met: ") {
                *l = format!("- targets met: {met} of {total}");
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// The ceiling

/// `sessionkit-bench bare-http --body FILE [--listen ADDR]`: axum answering `GET /v1/session`
/// with the file's bytes as JSON, on the runtime `sessionkit serve` uses.
pub fn bare_http(args: &[String]) {
    let (mut body, mut listen) = (None, String::from("127.0.0.1:0"));
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match (arg.as_str(), it.next()) {
            ("--body", Some(v)) => body = Some(PathBuf::from(v)),
            ("--listen", Some(v)) => listen = v.clone(),
            _ => usage(),
        }
    }
    let body = std::fs::read(body.unwrap_or_else(|| usage())).expect("read the body");
    let body = axum::body::Bytes::from(body);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/v1/session",
            axum::routing::get(move || {
                let body = body.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .expect("bind the listener");
        println!(
            "listening on http://{}",
            listener.local_addr().expect("address")
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            })
            .await
            .expect("serve");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(case: &str, met: bool) -> Check {
        Check {
            case: case.to_owned(),
            ours: "1".into(),
            baseline: "2".into(),
            value: "0.5×".into(),
            target: "≥ 0.6×".into(),
            met,
        }
    }

    #[test]
    fn splicing_replaces_the_section_and_the_rows_and_recounts() {
        let doc = "# Benchmarks\n\n- targets met: 1 of 2\n\n## Summary\n\n\
                   | case | ours | baseline | ratio / figure | target | met |\n|---|---|---|---|---|---|\n\
                   | a | 1 | 2 | 1× | ≤ 2× | yes |\n| HTTP: old | 1 | 2 | 1× | ≥ 1× | yes |\n\n\
                   ## Validate\n\nv\n\n## HTTP: old\n\nold text\n\n## Notes\n\nn\n";
        let out = spliced(
            doc,
            &[check("HTTP: new", false)],
            "## HTTP: new\n\nnew text\n",
        );
        assert!(!out.contains("old"), "{out}");
        assert!(
            out.contains("| HTTP: new | 1 | 2 | 0.5× | ≥ 0.6× | **no** |\n\n## Validate"),
            "{out}"
        );
        assert!(out.contains("- targets met: 1 of 2"), "{out}");
        assert!(
            out.contains("v\n\n## HTTP: new\n\nnew text\n\n## Notes"),
            "{out}"
        );
        // Idempotent.
        let again = spliced(
            &out,
            &[check("HTTP: new", true)],
            "## HTTP: new\n\nnew text\n",
        );
        assert!(again.contains("- targets met: 2 of 2"), "{again}");
        assert_eq!(again.matches("## HTTP").count(), 1, "{again}");
    }
}

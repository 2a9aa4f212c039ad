//! Against a peer: tower-sessions' SQLite store (`benches/peer-tower/`, its own workspace),
//! run as a separate binary alternately with our own `create`, `validate` and
//! `update_metadata` on the same number of sessions with the same 200-byte payload. Also
//! renders the browser benchmark's results when `web/bench` has written them.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use pollster::block_on;
use serde_json::{json, Value};
use sessionkit::{ClientKind, Config, NewSession, SessionId, SessionManager};
use sessionkit_sqlite::SqliteStore;

use crate::fixture;
use crate::measure::{fmt_ns, median, time_ops, Rng};
use crate::report::{ratio, Report};
use crate::Params;

const PAYLOAD_BYTES: usize = 200;

/// One set of our rounds: medians of create, validate and update_metadata (ns/op).
fn our_rounds(p: &Params, manager: &SessionManager, present: &[(SessionId, String)]) -> [f64; 3] {
    let payload = "x".repeat(PAYLOAD_BYTES);
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let (mut creates, mut validates, mut updates) = (Vec::new(), Vec::new(), Vec::new());
    let batch = p.peer_batch;
    for round in 0..=p.peer_rounds {
        let mut fresh = Vec::with_capacity(batch);
        let create = time_ops(batch, |i| {
            let mut new = NewSession::new(format!("peer-user-{i}"), ClientKind::Web);
            new.metadata = Some(json!({ "payload": payload }));
            fresh.push(block_on(manager.create(new)).expect("create").session.id);
        });
        for id in &fresh {
            block_on(manager.delete(id)).expect("delete");
        }
        let picks: Vec<usize> = (0..batch).map(|_| rng.below(present.len())).collect();
        let validate = time_ops(batch, |i| {
            black_box(block_on(manager.validate(&present[picks[i]].1)).expect("validate"));
        });
        let picks: Vec<usize> = (0..batch).map(|_| rng.below(present.len())).collect();
        let patches: Vec<Value> = (0..batch)
            .map(|i| json!({ "payload": format!("{:0>PAYLOAD_BYTES$}", round * batch + i) }))
            .collect();
        let update = time_ops(batch, |i| {
            black_box(
                block_on(manager.update_metadata(&present[picks[i]].0, &patches[i]))
                    .expect("update_metadata"),
            );
        });
        if round > 0 {
            creates.push(create);
            validates.push(validate);
            updates.push(update);
        }
    }
    [median(&creates), median(&validates), median(&updates)]
}

/// The peer comparison, when the peer binary is given.
pub fn peer(p: &Params, report: &mut Report, peer_bin: Option<&Path>) {
    let Some(bin) = peer_bin else {
        report.section(
            "## Peer: tower-sessions (SQLite)\n\nNot run: the peer binary \
             (`benches/peer-tower`) was not built for this run.\n"
                .to_owned(),
        );
        return;
    };
    let path = p.work_dir.join("peer.db");
    fixture::remove_db(&path);
    let store = Arc::new(SqliteStore::open(&path).expect("open the store"));
    let manager = SessionManager::open(store, Config::default()).expect("open the manager");
    let payload = "x".repeat(PAYLOAD_BYTES);
    let present: Vec<(SessionId, String)> = (0..p.peer_n)
        .map(|i| {
            let mut new = NewSession::new(format!("user-{}", i % 1000), ClientKind::Web);
            new.metadata = Some(json!({ "payload": payload }));
            let created = block_on(manager.create(new)).expect("create");
            (created.session.id, created.token.as_str().to_owned())
        })
        .collect();

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for a in 0..p.peer_alternations {
        ours.push(our_rounds(p, &manager, &present));
        let out = p.work_dir.join(format!("peer-{a}.json"));
        let mut cmd = Command::new(bin);
        cmd.arg("--out").arg(&out);
        if p.quick {
            cmd.arg("--quick");
        }
        let status = cmd.output().expect("run the peer benchmark");
        assert!(
            status.status.success(),
            "peer benchmark failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let v: Value =
            serde_json::from_slice(&std::fs::read(&out).expect("peer output")).expect("peer JSON");
        let get = |k: &str| v[k].as_f64().expect("peer figure");
        theirs.push([get("create_ns"), get("load_ns"), get("save_ns"), get("n")]);
        eprintln!(
            "  alternation {a}: ours create/validate/update {:?}, peer create/load/save/n {:?}",
            ours[a], theirs[a]
        );
    }
    drop(manager);
    fixture::remove_db(&path);
    let col = |rows: &[[f64; 3]], k: usize| median(&rows.iter().map(|r| r[k]).collect::<Vec<_>>());
    let pcol = |k: usize| median(&theirs.iter().map(|r| r[k]).collect::<Vec<_>>());
    let (create, validate, update) = (col(&ours, 0), col(&ours, 1), col(&ours, 2));
    let (p_create, p_load, p_save, p_n) = (pcol(0), pcol(1), pcol(2), pcol(3));
    let speedup = p_load / validate;
    let met_v = speedup >= 5.0;
    let met_c = create / p_create <= 1.2;
    let met_u = update / p_save <= 1.2;
    report.check(
        "validate vs tower-sessions load (ops/s)",
        format!("{:.0} ops/s", 1e9 / validate),
        format!("{:.0} ops/s", 1e9 / p_load),
        format!("{speedup:.1}× the ops/s"),
        "≥ 5×",
        met_v,
    );
    report.check(
        "create vs tower-sessions create",
        fmt_ns(create),
        fmt_ns(p_create),
        ratio(create, p_create),
        "≤ 1.2×",
        met_c,
    );
    report.check(
        "update_metadata vs tower-sessions save",
        fmt_ns(update),
        fmt_ns(p_save),
        ratio(update, p_save),
        "≤ 1.2×",
        met_u,
    );
    let mut md = format!(
        "## Peer: tower-sessions 0.14 with tower-sessions-sqlx-store (SQLite)\n\n\
         `benches/peer-tower` (its own workspace; sqlx, a tokio current-thread runtime, WAL, \
         `synchronous=NORMAL`) against our `create`, `validate` and `update_metadata` (a merge \
         patch of the payload) on {} sessions (peer: {}) carrying a {PAYLOAD_BYTES}-byte \
         payload. The two run alternately ({} times each), each time as rounds of {} \
         operations after a warm-up round; medians of the per-run medians.\n\n\
         | operation | sessionkit | tower-sessions | ratio | target |\n|---|---|---|---|---|\n",
        p.peer_n, p_n, p.peer_alternations, p.peer_batch,
    );
    let _ = writeln!(
        md,
        "| validate vs load | {} ({:.0} ops/s) | {} ({:.0} ops/s) | {speedup:.1}× the ops/s | ≥ 5× {} |",
        fmt_ns(validate),
        1e9 / validate,
        fmt_ns(p_load),
        1e9 / p_load,
        if met_v { "met" } else { "**not met**" }
    );
    let _ = writeln!(
        md,
        "| create vs create | {} | {} | {} | ≤ 1.2× {} |",
        fmt_ns(create),
        fmt_ns(p_create),
        ratio(create, p_create),
        if met_c { "met" } else { "**not met**" }
    );
    let _ = writeln!(
        md,
        "| update_metadata vs save | {} | {} | {} | ≤ 1.2× {} |",
        fmt_ns(update),
        fmt_ns(p_save),
        ratio(update, p_save),
        if met_u { "met" } else { "**not met**" }
    );
    report.section(md);
}

/// The browser benchmark's results (`web/bench`), when present.
pub fn browser(report: &mut Report, path: &Path) {
    let Ok(bytes) = std::fs::read(path) else {
        report.section(format!(
            "## Browser (IndexedDB, headless Chromium)\n\nNo results: `{}` was not present \
             for this run (`scripts/bench-web.sh` writes it).\n",
            path.display()
        ));
        return;
    };
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
        report.section(
            "## Browser (IndexedDB, headless Chromium)\n\nUnreadable results file.\n".into(),
        );
        return;
    };
    let mut md = format!(
        "## Browser (IndexedDB, headless Chromium)\n\n\
         From `{}`, written by `web/bench` (`scripts/bench-web.sh`): our IndexedDB store \
         through the npm package against the same operations written directly over `idb`.\n\n\
         | case | sessionkit | idb | ratio | target |\n|---|---|---|---|---|\n",
        path.display()
    );
    for case in v["cases"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let name = case["name"].as_str().unwrap_or("?");
        let ours = case["ours_ns"].as_f64().unwrap_or(f64::NAN);
        let idb = case["idb_ns"].as_f64().unwrap_or(f64::NAN);
        let r = case["ratio"].as_f64().unwrap_or(ours / idb);
        let met = r <= 1.3;
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {r:.2}× | ≤ 1.3× {} |",
            fmt_ns(ours),
            fmt_ns(idb),
            if met { "met" } else { "**not met**" }
        );
        report.check(
            format!("browser: {name}"),
            fmt_ns(ours),
            fmt_ns(idb),
            format!("{r:.2}×"),
            "≤ 1.3×",
            met,
        );
    }
    if let Some(extra) = v.as_object() {
        let facts: Vec<String> = extra
            .iter()
            .filter(|(k, _)| k.as_str() != "cases")
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        if !facts.is_empty() {
            let _ = writeln!(md, "\nRun facts: {}.", facts.join("; "));
        }
    }
    report.section(md);
}

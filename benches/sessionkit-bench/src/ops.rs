//! The per-request cases: `validate`, `create` and `list_user_sessions`, each against bare
//! rusqlite on the same table of the same file, with the same pragmas.

use std::fmt::Write as _;
use std::hint::black_box;

use pollster::block_on;
use rusqlite::params;
use sessionkit::{ClientKind, ListOptions, NewSession, PageCursor, SessionId};

use crate::fixture::{self, Fixture, HEAVY_USER, T0, USER_AGENT};
use crate::measure::{fmt_ns, interleave, time_ops, Contender, Rng};
use crate::report::{ratio, Report};
use crate::Params;

/// Every column of a session row, as the store reads it.
const COLUMNS: &str = "id, token_hash, user_id, created_at, last_active_at, expires_at, \
     absolute_expires_at, client_kind, client_version, device, ip, user_agent, active, metadata";

/// The owned values of one row, as a bare reader would take them.
type BareRow = (
    Vec<u8>,
    Vec<u8>,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    String,
);

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BareRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

/// `validate` at each fixture size against a prepared point lookup by id.
pub fn validate(p: &Params, report: &mut Report, fixtures: &[Fixture]) {
    let mut md = String::from(
        "## validate(token) vs bare point lookup\n\n\
         `SessionManager::validate` with the default config at a clock where every session was \
         active less than a minute ago (the touch is throttled, so it reads only): parse the \
         token, look the row up by id on a pooled reader, SHA-256 the secret, compare in \
         constant time, check status and expiry. Baseline: one prepared `SELECT <all 14 \
         columns> FROM sessions WHERE id = ?` on a bare rusqlite connection to the same file \
         (WAL, `synchronous=NORMAL`), reading every column into owned values. Both look up the \
         same pseudo-random sample of rows.\n\n\
         | sessions | validate | bare lookup | ratio | target |\n|---|---|---|---|---|\n",
    );
    let mut curve = Vec::new();
    for f in fixtures {
        let (_store, manager) = fixture::manager(&f.path, T0);
        let conn = fixture::bare(&f.path);
        let mut rng = Rng::new(0x5E55_1017 + f.n as u64);
        let picks: Vec<usize> = (0..p.sample).map(|_| rng.below(f.n)).collect();
        let tokens: Vec<String> = picks.iter().map(|&i| f.token(i)).collect();
        let ids: Vec<[u8; 16]> = picks.iter().map(|&i| fixture::row_id(i)).collect();
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"))
            .expect("prepare the lookup");
        let batch = p.batch;
        let medians = {
            let mut contenders: Vec<Contender<'_>> = vec![
                Box::new(|round| {
                    time_ops(batch, |i| {
                        let t = &tokens[(round * batch + i) % tokens.len()];
                        black_box(block_on(manager.validate(t)).expect("validate"));
                    })
                }),
                Box::new(|round| {
                    time_ops(batch, |i| {
                        let id = &ids[(round * batch + i) % ids.len()];
                        black_box(stmt.query_row([id], read_row).expect("lookup"));
                    })
                }),
            ];
            interleave(p.rounds, &mut contenders)
        };
        let (ours, base) = (medians[0], medians[1]);
        let met = ours / base <= 1.3;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | ≤ 1.3× {} |",
            f.n,
            fmt_ns(ours),
            fmt_ns(base),
            ratio(ours, base),
            if met { "met" } else { "**not met**" }
        );
        report.check(
            format!("validate, {} sessions", f.n),
            fmt_ns(ours),
            fmt_ns(base),
            ratio(ours, base),
            "≤ 1.3×",
            met,
        );
        curve.push((f.n, ours, base));
    }
    if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
        if last.0 > first.0 {
            let _ = write!(
                md,
                "\nGrowth from {} to {} sessions ({}× the rows): validate {} → {} ({:.2}×), the \
                 bare lookup {} → {} ({:.2}×). A lookup is one descent of the primary-key b-tree: \
                 its cost grows with the tree's depth (logarithmically) and with page-cache misses \
                 once the file outgrows SQLite's cache; the SHA-256 and parsing on top are \
                 constant.\n",
                first.0,
                last.0,
                last.0 / first.0,
                fmt_ns(first.1),
                fmt_ns(last.1),
                last.1 / first.1,
                fmt_ns(first.2),
                fmt_ns(last.2),
                last.2 / first.2,
            );
        }
    }
    report.section(md);
}

/// `create` against a bare insert in its own transaction into the same table.
pub fn create(p: &Params, report: &mut Report, base: &Fixture) {
    let path = p.work_dir.join("create.db");
    fixture::copy_db(&base.path, &path);
    let (_store, manager) = fixture::manager(&path, T0);
    let conn = fixture::bare(&path);
    let mut stmt = conn.prepare(fixture::INSERT_ROW).expect("prepare insert");
    let mut begin = conn.prepare("BEGIN IMMEDIATE").expect("prepare begin");
    let mut commit = conn.prepare("COMMIT").expect("prepare commit");
    let batch = p.write_batch;
    let mut next_row = base.n + 1_000_000;
    let medians = {
        let mut contenders: Vec<Contender<'_>> = vec![
            Box::new(|round| {
                time_ops(batch, |i| {
                    let k = round * batch + i;
                    let mut new = NewSession::new(fixture::user_name(k % 1000), ClientKind::Web);
                    new.client_version = Some("1.4.2".into());
                    new.device = Some(format!("Device {}", k % 100));
                    new.ip = Some(format!("10.9.{}.{}", (k >> 8) & 255, k & 255));
                    new.user_agent = Some(USER_AGENT.into());
                    black_box(block_on(manager.create(new)).expect("create"));
                })
            }),
            Box::new(|_round| {
                time_ops(batch, |_| {
                    let mut row = fixture::row(next_row, base.n, 0);
                    row.user_id = fixture::user_name(next_row % 1000);
                    next_row += 1;
                    begin.execute([]).expect("begin");
                    fixture::insert_row(&mut stmt, &row).expect("insert");
                    commit.execute([]).expect("commit");
                })
            }),
        ];
        interleave(p.rounds, &mut contenders)
    };
    let (ours, bare) = (medians[0], medians[1]);
    let met = ours / bare <= 1.2;
    report.check(
        format!("create, {} sessions present", base.n),
        fmt_ns(ours),
        fmt_ns(bare),
        ratio(ours, bare),
        "≤ 1.2×",
        met,
    );
    report.section(format!(
        "## create vs bare insert\n\n\
         `SessionManager::create` (a fresh id and secret from the OS CSPRNG, SHA-256, the \
         insert-only check and the insert in one `BEGIN IMMEDIATE` transaction) against a bare \
         prepared `INSERT` of the same columns in its own `BEGIN IMMEDIATE … COMMIT`, into the \
         same table (same primary key and indexes) of a copy of the {}-session fixture.\n\n\
         | case | median | ratio | target |\n|---|---|---|---|\n\
         | create | {} | {} | ≤ 1.2× {} |\n| bare insert (own transaction) | {} | 1.00× | |\n",
        base.n,
        fmt_ns(ours),
        ratio(ours, bare),
        if met { "met" } else { "**not met**" },
        fmt_ns(bare),
    ));
    drop(stmt);
    drop(begin);
    drop(commit);
    drop(conn);
    fixture::remove_db(&path);
}

/// `list_user_sessions` deep in one user's sessions against page 1 and bare queries.
pub fn list(p: &Params, report: &mut Report, f: &Fixture) {
    let depth = p.list_depth;
    let (_store, manager) = fixture::manager(&f.path, T0);
    let conn = fixture::bare(&f.path);
    // The position after `depth` rows, as the previous page's cursor would carry it.
    let (at, id): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT last_active_at, id FROM sessions WHERE user_id = ?1 \
             ORDER BY last_active_at DESC, id DESC LIMIT 1 OFFSET ?2",
            params![HEAVY_USER, (depth - 1) as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("cursor row");
    let cursor = PageCursor {
        last_active_at: at,
        id: SessionId::from_slice(&id).expect("id"),
    }
    .encode(HEAVY_USER, false);
    let first = ListOptions::default();
    let deep = ListOptions {
        cursor: Some(cursor),
        ..ListOptions::default()
    };
    let mut keyset = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE user_id = ?1 AND (last_active_at, id) < (?2, ?3) \
             ORDER BY last_active_at DESC, id DESC LIMIT 51"
        ))
        .expect("prepare keyset");
    let mut offset = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE user_id = ?1 \
             ORDER BY last_active_at DESC, id DESC LIMIT 50 OFFSET ?2"
        ))
        .expect("prepare offset");
    let batch = (p.batch / 20).max(5);
    let check_page = |n: usize| assert_eq!(n, 50, "a full page");
    let medians = {
        let mut contenders: Vec<Contender<'_>> = vec![
            Box::new(|_| {
                time_ops(batch, |_| {
                    let page =
                        block_on(manager.list_user_sessions(HEAVY_USER, &first)).expect("page 1");
                    check_page(page.items.len());
                    black_box(page);
                })
            }),
            Box::new(|_| {
                time_ops(batch, |_| {
                    let page =
                        block_on(manager.list_user_sessions(HEAVY_USER, &deep)).expect("deep page");
                    check_page(page.items.len());
                    black_box(page);
                })
            }),
            Box::new(|_| {
                time_ops(batch, |_| {
                    let rows: Vec<BareRow> = keyset
                        .query_map(params![HEAVY_USER, at, id], read_row)
                        .expect("keyset")
                        .collect::<rusqlite::Result<_>>()
                        .expect("keyset rows");
                    black_box(rows);
                })
            }),
            Box::new(|_| {
                time_ops(batch, |_| {
                    let rows: Vec<BareRow> = offset
                        .query_map(params![HEAVY_USER, depth as i64], read_row)
                        .expect("offset")
                        .collect::<rusqlite::Result<_>>()
                        .expect("offset rows");
                    check_page(rows.len());
                    black_box(rows);
                })
            }),
        ];
        interleave(p.rounds, &mut contenders)
    };
    let (page1, deep_ns, bare_keyset, bare_offset) =
        (medians[0], medians[1], medians[2], medians[3]);
    let met_depth = deep_ns / page1 <= 1.2;
    let met_bare = deep_ns / bare_keyset <= 1.3;
    report.check(
        format!("list page of 50 at depth {depth} vs page 1"),
        fmt_ns(deep_ns),
        fmt_ns(page1),
        ratio(deep_ns, page1),
        "≤ 1.2×",
        met_depth,
    );
    report.check(
        format!("list page of 50 at depth {depth} vs bare keyset query"),
        fmt_ns(deep_ns),
        fmt_ns(bare_keyset),
        ratio(deep_ns, bare_keyset),
        "≤ 1.3×",
        met_bare,
    );
    report.section(format!(
        "## list_user_sessions: deep pages\n\n\
         One user with {} sessions in a {}-session file. `list_user_sessions(limit 50)` with \
         the cursor of row {depth} (a keyset seek in `sessions_by_user`, 51 rows read to know \
         whether a next page exists, each decoded with its metadata) against page 1, a bare \
         keyset query (same SQL shape, 51 rows, every column read) and a bare \
         `LIMIT 50 OFFSET {depth}`.\n\n\
         | case | median | vs page 1 | vs bare keyset | target |\n|---|---|---|---|---|\n\
         | page 1 | {} | 1.00× | {} | |\n\
         | page at depth {depth} | {} | {} | {} | ≤ 1.2× page 1 {}, ≤ 1.3× bare keyset {} |\n\
         | bare keyset at depth {depth} | {} | {} | 1.00× | |\n\
         | bare `LIMIT 50 OFFSET {depth}` | {} | {} | {} | (shown for contrast) |\n",
        f.heavy,
        f.n,
        fmt_ns(page1),
        ratio(page1, bare_keyset),
        fmt_ns(deep_ns),
        ratio(deep_ns, page1),
        ratio(deep_ns, bare_keyset),
        if met_depth { "met" } else { "**not met**" },
        if met_bare { "met" } else { "**not met**" },
        fmt_ns(bare_keyset),
        ratio(bare_keyset, page1),
        fmt_ns(bare_offset),
        ratio(bare_offset, page1),
        ratio(bare_offset, bare_keyset),
    ));
}

//! End-to-end tests of the `sessionkit` binary: each runs the built executable against a fresh
//! SQLite file in a temporary directory and checks its output and exit code.

mod common;

use std::path::Path;

use serde_json::Value;

use common::{sk, sk_with_stdin, Db};

impl Db {
    /// Creates a session; returns (id, token).
    fn create(&self, user: &str, kind: &str) -> (String, String) {
        let doc = self.json(&["create", "--user", user, "--kind", kind]);
        let id = doc["session"]["id"].as_str().expect("an id").to_owned();
        let token = doc["token"].as_str().expect("a token").to_owned();
        (id, token)
    }
}

fn dir_of(path: &Path) -> &Path {
    path.parent().expect("a parent directory")
}

#[test]
fn demo_succeeds_on_a_fresh_database_and_its_figures_hold_afterwards() {
    let db = Db::new();
    let run = db.run(&["demo"]).ok();
    let out = &run.stdout;
    for expected in [
        "SIMULATED",
        "Conflict { current_version: 2 }",
        "stored compressed",
        "Event log: a subscriber received 35 events",
        "Created 16",
        "Revoked 5",
        "sessions stored   8",
        "active            7",
        "created last 24h  1",
        "created last 7d   8",
        "desktop 2, mobile 3, other 1, web 2",
        "Checked: stats() equals what the demo did",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The timeline ends now, so the real clock sees what the demo left — judged, as every
    // command judges liveness, by the timeouts in force: the demo's own.
    let stats = db.json(&[
        "stats",
        "--idle-timeout-ms",
        "172800000",
        "--absolute-timeout-ms",
        "604800000",
    ]);
    assert_eq!(stats["total"], 8);
    assert_eq!(stats["active"], 7);
    assert_eq!(stats["created_last_24h"], 1);
    assert_eq!(stats["by_client_kind"]["mobile"], 3);
}

#[test]
fn demo_works_again_on_a_reused_database_and_in_json() {
    let db = Db::new();
    db.run(&["demo"]).ok();
    let doc = db.json(&["demo"]);
    assert_eq!(doc["checks_passed"], true);
    assert_eq!(doc["fresh_database"], false);
    assert_eq!(doc["existing_sessions"], 8);
    assert_eq!(doc["run"]["sessions_stored"], 8);
    assert_eq!(doc["events"]["Created"], 16);
    assert_eq!(doc["stats"]["total"], 16);
    let big = &doc["run"]["large_state"];
    assert!(big["stored_size"].as_u64() < big["size"].as_u64());
}

#[test]
fn create_validate_list_revoke_then_validate_is_revoked() {
    let db = Db::new();
    let created = db.run(&[
        "create",
        "--user",
        "alice",
        "--kind",
        "web",
        "--device",
        "Firefox on Linux",
        "--ip",
        "203.0.113.10",
        "--metadata",
        r#"{"plan": "pro"}"#,
    ]);
    let created = created.ok();
    assert!(
        created.stdout.contains("shown this once"),
        "{}",
        created.stdout
    );
    let (id, token) = db.create("alice", "mobile");

    let valid = db.run(&["validate", &token]).ok();
    assert!(valid.stdout.contains(&id));
    assert!(
        !valid.stdout.contains(&token),
        "validate must not print the token"
    );

    let list = db.run(&["list", "--user", "alice"]).ok();
    assert!(list.stdout.contains(&id) && list.stdout.contains("Firefox on Linux"));
    assert!(
        list.stdout.contains("T") && list.stdout.contains("Z"),
        "ISO-8601 times"
    );
    assert!(!list.stdout.contains(&token));

    let page = db.json(&["list", "--user", "alice", "--limit", "1"]);
    let cursor = page["next_cursor"].as_str().expect("a next cursor");
    let rest = db.json(&[
        "list", "--user", "alice", "--limit", "1", "--cursor", cursor,
    ]);
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert!(rest["next_cursor"].is_null());

    db.run(&["revoke", &id]).ok();
    let refused = db.run(&["validate", &token]);
    assert_eq!(refused.code, 6, "{}", refused.stderr);
    assert_eq!(refused.stderr.trim(), "error: session revoked");
    let doc = db.run(&["--json", "validate", &token]).json();
    assert_eq!(doc["error"]["kind"], "Revoked");
}

#[test]
fn the_token_comes_from_stdin_without_an_argument_or_with_a_dash() {
    let db = Db::new();
    let (id, token) = db.create("bob", "desktop");
    for args in [vec!["validate"], vec!["validate", "-"]] {
        let mut all = vec!["--db", db.arg()];
        all.extend_from_slice(&args);
        let run = sk_with_stdin(&all, &format!("{token}\n")).ok();
        assert!(run.stdout.contains(&id), "{args:?}: {}", run.stdout);
        assert!(
            !run.stdout.contains(&token[23..]),
            "the secret is never printed"
        );
        let refused = sk_with_stdin(&all, "not-a-token\n");
        assert_eq!(refused.code, 3, "{args:?}");
        let empty = sk_with_stdin(&all, "");
        assert_eq!(empty.code, 3, "{args:?}: nothing on stdin is no token");
    }
    // `--help` shows stdin as the way to pass it.
    let help = sk(&["validate", "--help"]).ok();
    assert!(help.stdout.contains("read from stdin") || help.stdout.contains("from stdin"));
    assert!(help.stdout.contains("ps"), "{}", help.stdout);
}

#[test]
fn db_is_accepted_before_and_after_the_subcommand() {
    let db = Db::new();
    sk(&["--db", db.arg(), "create", "--user", "u", "--kind", "web"]).ok();
    sk(&["create", "--user", "u", "--kind", "other", "--db", db.arg()]).ok();
    let before = sk(&["--json", "--db", db.arg(), "count", "--user", "u"]).ok();
    let after = sk(&["count", "--user", "u", "--db", db.arg(), "--json"]).ok();
    assert_eq!(before.json()["count"], 2);
    assert_eq!(after.json()["count"], 2);
}

#[test]
fn bad_inputs_are_clear_errors_with_non_zero_exits() {
    let db = Db::new();
    db.create("alice", "web");
    let cases: &[(&[&str], &str, i32)] = &[
        (
            &["create", "--user", "a", "--kind", "phone"],
            "invalid client_kind",
            2,
        ),
        (&["show", "not-an-id"], "invalid id", 2),
        (&["revoke", "AAAA"], "invalid id", 2),
        (&["validate", "garbage"], "invalid token", 3),
        (
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--metadata",
                "[1, 2]",
            ],
            "must be a JSON object",
            2,
        ),
        (
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--metadata",
                "{oops",
            ],
            "not valid JSON",
            2,
        ),
        (
            &["state", "put", "AAAAAAAAAAAAAAAAAAAAAA", "--data", "{"],
            "not valid JSON",
            2,
        ),
        (&["create", "--kind", "web"], "--user", 2),
        (&["list"], "--user", 2),
        (&["show", "AAAAAAAAAAAAAAAAAAAAAA"], "session not found", 4),
        (&["--idle-timeout-ms", "0", "stats"], "idle_timeout_ms", 2),
        (
            &["--session-limit-policy", "sometimes", "stats"],
            "session_limit_policy",
            2,
        ),
        (&["list", "--user", "alice", "--cursor", "zzz"], "cursor", 2),
    ];
    for (args, message, code) in cases {
        let run = db.run(args);
        assert_eq!(run.code, *code, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error:") && run.stderr.contains(message),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        let mut json_args = vec!["--json"];
        json_args.extend_from_slice(args);
        let doc = db.run(&json_args).json();
        assert!(doc["error"]["kind"].is_string(), "{args:?}: {doc}");
        assert!(doc["error"]["message"].is_string(), "{args:?}: {doc}");
    }
}

#[test]
fn read_commands_refuse_a_missing_database_without_creating_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("typo.db");
    let path = path.to_str().expect("UTF-8");
    let run = sk(&["stats", "--db", path]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no database at"), "{}", run.stderr);
    assert!(!Path::new(path).exists());
}

#[test]
fn export_then_import_round_trips_and_old_tokens_still_work() {
    let source = Db::new();
    let (id, token) = source.create("alice", "web");
    let (_, other_token) = source.create("bob", "mobile");
    source
        .run(&["state", "put", &id, "--data", r#"{"cart": [1, 2, 3]}"#])
        .ok();
    let file = dir_of(&source.path).join("export.jsonl");
    let file = file.to_str().expect("UTF-8");
    let exported = source.run(&["export", "--out", file]).ok();
    assert!(exported.stdout.contains("Exported 2 session(s)"));
    let lines = std::fs::read_to_string(file).expect("the export file");
    assert_eq!(lines.lines().count(), 2);
    for line in lines.lines() {
        let record: Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(record["token_hash"].is_string());
    }
    assert!(!lines.contains(&token), "tokens are never exported");
    let stdout_export = source.run(&["export"]).ok();
    assert_eq!(stdout_export.stdout, lines);

    let target = Db::new();
    let imported = target.json(&["import", "--in", file]);
    assert_eq!(imported["imported"], 2);
    assert_eq!(imported["skipped"], 0);
    let session = target.json(&["validate", &token]);
    assert_eq!(session["id"], id.as_str());
    target.json(&["validate", &other_token]);
    let state = target.json(&["state", "get", &id]);
    assert_eq!(state["data"]["cart"][2], 3);
    assert_eq!(state["version"], 1);

    let again = sk_with_stdin(&["--db", target.arg(), "--json", "import"], &lines).ok();
    assert_eq!(again.json()["skipped"], 2);
}

#[test]
fn a_bad_import_line_is_named_and_changes_nothing_for_it() {
    let source = Db::new();
    source.create("alice", "web");
    let good = source.run(&["export"]).ok().stdout;
    let input = format!("{good}\n{{\"session\": 42}}\n");
    let target = Db::new();
    let run = sk_with_stdin(&["--db", target.arg(), "import"], &input);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: line 3: invalid record"),
        "{}",
        run.stderr
    );
    assert_eq!(target.json(&["count"])["count"], 1);
    let doc = sk_with_stdin(&["--db", target.arg(), "--json", "import"], &input).json();
    assert_eq!(doc["error"]["line"], 3);
    assert_eq!(doc["error"]["skipped"], 1);
}

#[test]
fn state_compare_and_swap_conflict_changes_nothing() {
    let db = Db::new();
    let (id, _) = db.create("carol", "desktop");
    let v = db.json(&[
        "state",
        "put",
        &id,
        "--data",
        r#"{"a": 1}"#,
        "--expected-version",
        "0",
    ]);
    assert_eq!(v["version"], 1);
    let run = db.run(&[
        "--json",
        "state",
        "put",
        &id,
        "--data",
        r#"{"a": 2}"#,
        "--expected-version",
        "0",
    ]);
    assert_eq!(run.code, 7);
    assert_eq!(run.json()["error"]["current_version"], 1);
    let patched = db.json(&["state", "patch", &id, "--patch", r#"{"b": true}"#]);
    assert_eq!(patched["version"], 2);
    let state = db.json(&["state", "get", &id]);
    assert_eq!(state["data"], serde_json::json!({"a": 1, "b": true}));
    let show = db.json(&["show", &id]);
    assert_eq!(show["state"]["version"], 2);
    assert!(
        show["state"].get("data").is_none(),
        "show summarizes the state"
    );
    db.run(&["state", "clear", &id]).ok();
    assert!(db.json(&["state", "get", &id]).is_null());
}

#[test]
fn json_output_parses_for_every_kind_of_command() {
    let db = Db::new();
    let (id, token) = db.create("dave", "mobile");
    let (other, _) = db.create("dave", "web");
    let touched = db.json(&["touch", &id]);
    assert_eq!(touched["id"], id.as_str());
    let meta = db.json(&["metadata", &id, "--patch", r#"{"theme": "dark"}"#]);
    assert_eq!(meta["metadata"]["theme"], "dark");
    let stats = db.json(&["stats"]);
    assert_eq!(stats["total"], 2);
    assert!(stats["average_duration_ms"].is_i64());
    assert_eq!(db.json(&["count", "--active-only"])["count"], 2);
    let revoked = db.json(&["revoke-user", "--user", "dave", "--except", &id]);
    assert_eq!(revoked["revoked"], 1);
    assert_eq!(db.json(&["cleanup"])["removed"], 0);
    let rotated = db.json(&["rotate", &id]);
    assert_eq!(rotated["replaced_session_id"], id.as_str());
    let new_token = rotated["token"].as_str().expect("a new token");
    assert_eq!(db.run(&["validate", &token]).code, 3);
    db.json(&["validate", new_token]);
    assert_eq!(db.json(&["delete", &other])["deleted"], other.as_str());
    let gone = db.run(&["--json", "show", &other]);
    assert_eq!(gone.code, 4);
    assert_eq!(gone.json()["error"]["kind"], "NotFound");
}

#[test]
fn configuration_flags_reach_the_engine() {
    let db = Db::new();
    let limit = ["--max-sessions-per-user", "1"];
    let first = [&limit[..], &["create", "--user", "erin", "--kind", "web"]].concat();
    db.run(&first).ok();
    let second = db.run(&first);
    assert_eq!(second.code, 8, "{}", second.stderr);
    assert!(second.stderr.contains("max_sessions_per_user"));
    let evict = [
        &limit[..],
        &["--session-limit-policy", "evict_oldest", "create"],
        &["--user", "erin", "--kind", "mobile"],
    ]
    .concat();
    db.run(&evict).ok();
    assert_eq!(
        db.json(&["count", "--user", "erin", "--active-only"])["count"],
        1
    );
    let (id, _) = db.create("frank", "web");
    let big = format!(r#"{{"blob": "{}"}}"#, "x".repeat(2000));
    let refused = db.run(&[
        "--state-max-bytes",
        "1000",
        "state",
        "put",
        &id,
        "--data",
        &big,
    ]);
    assert_eq!(refused.code, 8, "{}", refused.stderr);
    db.run(&[
        "--state-compression-threshold",
        "100",
        "state",
        "put",
        &id,
        "--data",
        &big,
    ])
    .ok();
    let state = db.json(&["state", "get", &id]);
    assert_eq!(state["compressed"], true);
}

#[test]
fn stored_escape_codes_and_bidi_overrides_never_reach_the_terminal() {
    // A database written before imports were checked, or edited by hand: its text fields hold
    // terminal escape sequences, a C1 control and bidi overrides.
    let db = Db::new();
    let (id, _) = db.create("mallory", "web");
    let conn = rusqlite::Connection::open(&db.path).expect("open the database");
    conn.execute(
        "UPDATE sessions SET device = ?1, user_agent = ?2, client_version = ?3, metadata = ?4",
        [
            "\u{1b}[2J\u{1b}[31mPixel\u{7}",
            "Mozilla\u{1b}]0;pwned\u{7}\u{202e}gpj.exe",
            "1.0\u{9b}31m",
            "{\"note\":\"\u{2066}hidden\u{2069}\u{200b}\u{85}\"}",
        ],
    )
    .expect("plant the text");
    drop(conn);
    for args in [
        vec!["list", "--user", "mallory"],
        vec!["show", id.as_str()],
        vec!["touch", id.as_str()],
    ] {
        let run = db.run(&args).ok();
        for text in [&run.stdout, &run.stderr] {
            let hidden: Vec<char> = text
                .chars()
                .filter(|&c| c != '\n' && sessionkit::is_hidden_char(c))
                .collect();
            assert!(hidden.is_empty(), "{args:?} printed {hidden:?}:\n{text}");
        }
        assert!(run.stdout.contains("Pixel"), "{args:?}: {}", run.stdout);
    }
    // JSON output keeps the stored value exactly (escaped as JSON escapes it).
    let doc = db.json(&["show", &id]);
    assert_eq!(
        doc["session"]["client"]["device"],
        "\u{1b}[2J\u{1b}[31mPixel\u{7}"
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Runs the binary in `dir` (so the default `./sessionkit.db` is there), without `--db`.
fn sk_in(dir: &Path, args: &[&str]) -> common::Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sessionkit"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[cfg(unix)]
#[test]
fn the_database_and_exports_are_created_owner_only() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    sk_in(dir.path(), &["create", "--user", "alice", "--kind", "web"]).ok();
    for name in ["sessionkit.db", "sessionkit.db-wal", "sessionkit.db-shm"] {
        let path = dir.path().join(name);
        if name == "sessionkit.db" || path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    sk_in(dir.path(), &["export", "--out", "backup.jsonl"]).ok();
    assert_eq!(mode(&dir.path().join("backup.jsonl")), 0o600);
    // Written again over an existing export: still owner-only, and rewritten.
    sk_in(dir.path(), &["export", "--out", "backup.jsonl"]).ok();
    assert_eq!(mode(&dir.path().join("backup.jsonl")), 0o600);
}

#[cfg(unix)]
#[test]
fn a_link_at_the_default_database_path_is_never_followed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let elsewhere = tempfile::tempdir().expect("another directory");
    // A database someone else controls, linked where the CLI looks by default.
    let theirs = elsewhere.path().join("theirs.db");
    let run = sk(&[
        "--db",
        theirs.to_str().expect("UTF-8"),
        "create",
        "--user",
        "mallory",
        "--kind",
        "web",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = std::fs::read(&theirs).expect("their database");
    std::os::unix::fs::symlink(&theirs, dir.path().join("sessionkit.db")).expect("a link");
    for args in [
        vec!["create", "--user", "alice", "--kind", "web"],
        vec!["list", "--user", "mallory"],
        vec!["demo"],
    ] {
        let run = sk_in(dir.path(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is a symbolic link"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(std::fs::read(&theirs).expect("their database"), before);
    // A dangling link (to a place the CLI would create a database) is refused the same way.
    let dangling = tempfile::tempdir().expect("a directory");
    let target = elsewhere.path().join("new.db");
    std::os::unix::fs::symlink(&target, dangling.path().join("sessionkit.db")).expect("a link");
    let run = sk_in(
        dangling.path(),
        &["create", "--user", "alice", "--kind", "web"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!target.exists());
    // Named explicitly, a link is a deliberate choice and is followed.
    let link = dir.path().join("sessionkit.db");
    let run = sk(&[
        "--db",
        link.to_str().expect("UTF-8"),
        "list",
        "--user",
        "mallory",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn revoke_all_ends_everyones_sessions_and_delete_user_erases_one_user() {
    let db = Db::new();
    let (_, alice) = db.create("alice", "web");
    let (_, bob) = db.create("bob", "mobile");
    db.create("bob", "desktop");
    let erased = db
        .run(&["--json", "delete-user", "--user", "bob"])
        .ok()
        .json();
    assert_eq!(erased["deleted"], 2);
    assert_eq!(db.run(&["--json", "count"]).ok().json()["count"], 1);
    let revoked = db.run(&["--json", "revoke-all"]).ok().json();
    assert_eq!(revoked["revoked"], 1);
    let refused = db.run(&["--json", "validate", &alice]);
    assert_eq!(refused.json()["error"]["kind"], "Revoked");
    let refused = db.run(&["--json", "validate", &bob]);
    assert_eq!(refused.json()["error"]["kind"], "InvalidToken");
}

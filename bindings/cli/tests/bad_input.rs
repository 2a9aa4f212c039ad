//! Bad input through the `sessionkit` binary: each case exits with the code its error kind maps
//! to (see `sessionkit --help`), prints `error: <message>` naming the field or reason on stderr
//! (and the same error as JSON with `--json`), and leaves the database's full dump unchanged —
//! except where an expired session found by the command is removed (docs/SPEC.md §1), and then
//! exactly that session goes.
//!
//! Arguments cannot carry NUL bytes through a command line; the Rust API's table covers those.

mod common;
#[path = "../../../core/sessionkit-sqlite/tests/support/dump.rs"]
mod dump;

use serde_json::{json, Value};
use sessionkit::SessionId;

use common::{sk_with_stdin as sk, Db};

const SQL_INJECTION: &str = "'; DROP TABLE sessions; --";

impl Db {
    /// Creates a session; returns (id, token).
    fn create(&self, user: &str) -> (String, String) {
        let doc = self.json(&["create", "--user", user, "--kind", "mobile"]);
        (
            doc["session"]["id"].as_str().expect("id").to_owned(),
            doc["token"].as_str().expect("token").to_owned(),
        )
    }

    fn cursor(&self, user: &str) -> String {
        let doc = self.json(&["list", "--user", user, "--limit", "1"]);
        doc["next_cursor"].as_str().expect("a next page").to_owned()
    }

    /// A session already past its expiry: a live session's export re-imported with times in the
    /// past (its token keeps working, so the expiry is what `validate` reports).
    fn expired(&self, user: &str) -> (String, String) {
        let (id, token) = self.create(user);
        self.json(&["state", "put", &id, "--data", r#"{"old": true}"#]);
        let export = self.dir.path().join("export.jsonl");
        let export_arg = export.to_str().expect("UTF-8");
        self.json(&["export", "--out", export_arg]);
        let line = std::fs::read_to_string(&export)
            .expect("export file")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a record"))
            .find(|r| r["session"]["id"] == json!(id))
            .expect("the session is exported");
        let mut record = line;
        let session = &mut record["session"];
        session["created_at"] = json!(1_000_000);
        session["last_active_at"] = json!(1_000_000);
        session["expires_at"] = json!(2_000_000);
        session["absolute_expires_at"] = json!(3_000_000);
        self.json(&["delete", &id]);
        let import = self.dir.path().join("import.jsonl");
        std::fs::write(&import, format!("{record}\n")).expect("write import");
        let doc = self.json(&["import", "--in", import.to_str().expect("UTF-8")]);
        assert_eq!(doc["imported"], 1);
        (id, token)
    }
}

struct Case {
    args: Vec<String>,
    stdin: String,
    code: i32,
    kind: &'static str,
    message: String,
    /// The expired session this command finds and removes.
    removes: Option<String>,
}

fn case(args: &[&str], code: i32, kind: &'static str, message: &str) -> Case {
    Case {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: String::new(),
        code,
        kind,
        message: message.to_owned(),
        removes: None,
    }
}

#[test]
fn every_bad_input_exits_non_zero_with_a_clear_message_and_changes_nothing() {
    let db = Db::new();
    let (a, a_token) = db.create("alice");
    db.json(&["state", "put", &a, "--data", r#"{"tab": "inbox"}"#]);
    db.create("alice");
    db.create("bob");
    db.create("bob");
    let (r, r_token) = db.create("rita");
    db.json(&["state", "put", &r, "--data", "{}"]);
    db.json(&["revoke", &r]);
    let (d, d_token) = db.create("dan");
    db.json(&["delete", &d]);
    let expired: Vec<(String, String)> = (0..3).map(|_| db.expired("erin")).collect();
    let alice_cursor = db.cursor("alice");
    let bob_cursor = db.cursor("bob");
    let export = db.dir.path().join("good.jsonl");
    db.json(&["export", "--out", export.to_str().expect("UTF-8")]);
    let alice_record: Value = std::fs::read_to_string(&export)
        .expect("export")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a record"))
        .find(|r| r["session"]["id"] == json!(a))
        .expect("alice is exported");

    let unknown = "7u7u7u7u7u7u7u7u7u7u7g";
    assert!(SessionId::parse(unknown).is_ok());
    let a_secret = &a_token[23..];
    let wrong_secret = format!(
        "{a}.{}{}",
        if a_secret.starts_with('A') { 'B' } else { 'A' },
        &a_secret[1..]
    );
    let long_user = "u".repeat(257);
    let long_token = "A".repeat(100_000);
    let long_version = "1".repeat(257);
    let long_agent = "a".repeat(1025);
    let big_metadata = json!({ "k": "v".repeat(70_000) }).to_string();
    let big_state = json!({ "k": "v".repeat(200) }).to_string();
    let truncated = &a_token[..a_token.len() - 1];
    let extended = format!("{a_token}A");
    let sql_ip = format!("10.0.0.1{SQL_INJECTION}");
    let garbled_cursor = format!("{}!", &alice_cursor[..alice_cursor.len() - 1]);
    let missing_file = db.dir.path().join("no-such-file.json");
    let missing_file = missing_file.to_str().expect("UTF-8");

    let imports = std::cell::Cell::new(0);
    let import_with = |edit: &dyn Fn(&mut Value)| -> String {
        let mut record = alice_record.clone();
        record["session"]["id"] = json!("WlpaWlpaWlpaWlpaWlpaWg");
        edit(&mut record);
        imports.set(imports.get() + 1);
        let path = db
            .dir
            .path()
            .join(format!("import-{}.jsonl", imports.get()));
        std::fs::write(&path, format!("{record}\n")).expect("write");
        path.to_str().expect("UTF-8").to_owned()
    };
    let bad_hash = import_with(&|r| r["token_hash"] = json!("not base64!"));
    let short_hash = import_with(&|r| r["token_hash"] = json!("A".repeat(42)));
    let flipped_blob = import_with(&|r| {
        let blob = r["state"]["blob"].as_str().expect("a blob").to_owned();
        let last = if blob.ends_with('A') { "Q" } else { "A" };
        r["state"]["blob"] = json!(format!("{}{last}", &blob[..blob.len() - 1]));
    });
    let inconsistent = import_with(&|r| {
        r["session"]["expires_at"] =
            json!(r["session"]["absolute_expires_at"].as_i64().expect("i64") + 1)
    });
    let escape_device =
        import_with(&|r| r["session"]["client"]["device"] = json!("\u{1b}[2J\u{1b}[31mPixel 8"));
    let bad_ip = import_with(&|r| r["session"]["ip"] = json!("300.1.2.3"));
    let huge_agent = import_with(&|r| r["session"]["user_agent"] = json!("a".repeat(200_000)));
    let bidi_version = import_with(&|r| r["session"]["client"]["version"] = json!("1.0\u{9b}2J"));
    let endless = import_with(&|r| r["session"]["absolute_expires_at"] = json!(i64::MAX));
    let long_idle = import_with(&|r| {
        r["session"]["expires_at"] =
            json!(r["session"]["last_active_at"].as_i64().expect("i64") + 31 * 60_000)
    });
    let future = import_with(&|r| {
        for field in [
            "created_at",
            "last_active_at",
            "expires_at",
            "absolute_expires_at",
        ] {
            let t = r["session"][field].as_i64().expect("i64");
            r["session"][field] = json!(t + 24 * 3_600_000);
        }
    });
    // SHA-256 of 32 zero bytes, base64url: the hash of a secret anyone can write down.
    let zero_secret =
        import_with(&|r| r["token_hash"] = json!("Zmh6rfhivXdsj8GLjp-OIAiXFIVu4jOzkCpZHQ1fKSU"));
    let plain = import_with(&|_| {});
    let bidi_user = import_with(&|r| r["session"]["user_id"] = json!("alice\u{202e}nimda"));
    let not_json = db.dir.path().join("not-json.jsonl");
    std::fs::write(&not_json, "this is not JSON\n").expect("write");
    let not_json = not_json.to_str().expect("UTF-8");

    const USAGE: &str = "Usage";
    const INPUT: &str = "InvalidInput";
    let mut cases = vec![
        // ---- create ---------------------------------------------------------------------------
        case(
            &["create", "--user", "", "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must not be empty",
        ),
        case(
            &["create", "--user", &long_user, "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must be at most 256 bytes",
        ),
        case(
            &["create", "--user", "al\tice", "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must not contain control characters",
        ),
        case(
            &["create", "--user", "\u{1b}[31mred", "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must not contain control characters",
        ),
        case(
            &["create", "--user", "alice\u{85}", "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must not contain control characters",
        ),
        case(
            &["create", "--user", "alice\u{7f}", "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must not contain control characters",
        ),
        case(
            &["create", "--user", "alice\n", "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must not contain control characters",
        ),
        case(
            &["create", "--user", "a", "--kind", "tablet"],
            2,
            INPUT,
            "invalid client_kind: expected desktop, mobile, web or other",
        ),
        case(
            &["create", "--user", "a", "--kind", ""],
            2,
            INPUT,
            "invalid client_kind",
        ),
        case(
            &["create", "--user", "a", "--kind", SQL_INJECTION],
            2,
            INPUT,
            "invalid client_kind",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--ip",
                "localhost",
            ],
            2,
            INPUT,
            "invalid ip: must be an IPv4 or IPv6 address",
        ),
        case(
            &["create", "--user", "a", "--kind", "web", "--ip", &sql_ip],
            2,
            INPUT,
            "invalid ip",
        ),
        case(
            &[
                "create", "--user", "a", "--kind", "web", "--device", "Pixel\n8",
            ],
            2,
            INPUT,
            "invalid device: must not contain control characters",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--version",
                &long_version,
            ],
            2,
            INPUT,
            "invalid client_version: must be at most 256 bytes",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--user-agent",
                &long_agent,
            ],
            2,
            INPUT,
            "invalid user_agent: must be at most 1024 bytes",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--metadata",
                "{oops",
            ],
            2,
            INPUT,
            "invalid metadata: not valid JSON",
        ),
        case(
            &["create", "--user", "a", "--kind", "web", "--metadata", ""],
            2,
            INPUT,
            "invalid metadata: not valid JSON",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--metadata",
                "[1, 2]",
            ],
            2,
            INPUT,
            "invalid metadata: must be a JSON object, got an array",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--metadata",
                "\"text\"",
            ],
            2,
            INPUT,
            "invalid metadata: must be a JSON object, got a string",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--metadata",
                "null",
            ],
            2,
            INPUT,
            "invalid metadata: must be a JSON object, got null",
        ),
        case(
            &[
                "create",
                "--user",
                "a",
                "--kind",
                "web",
                "--metadata",
                &big_metadata,
            ],
            8,
            "LimitExceeded",
            "limit exceeded: metadata_max_bytes",
        ),
        case(
            &[
                "--max-sessions-per-user",
                "2",
                "create",
                "--user",
                "alice",
                "--kind",
                "web",
            ],
            8,
            "LimitExceeded",
            "limit exceeded: max_sessions_per_user",
        ),
        case(&["create", "--kind", "web"], 2, USAGE, "--user"),
        // ---- validate -------------------------------------------------------------------------
        case(&["validate", ""], 3, "InvalidToken", "invalid token"),
        case(&["validate", truncated], 3, "InvalidToken", "invalid token"),
        case(&["validate", &extended], 3, "InvalidToken", "invalid token"),
        case(
            &["validate", &long_token],
            3,
            "InvalidToken",
            "invalid token",
        ),
        case(
            &["validate", &wrong_secret],
            3,
            "InvalidToken",
            "invalid token",
        ),
        case(
            &["validate", &format!("{unknown}.{a_secret}")],
            3,
            "InvalidToken",
            "invalid token",
        ),
        case(
            &["validate", SQL_INJECTION],
            3,
            "InvalidToken",
            "invalid token",
        ),
        case(
            &["validate", &format!("{a_token} ")],
            3,
            "InvalidToken",
            "invalid token",
        ),
        case(&["validate", &r_token], 6, "Revoked", "session revoked"),
        case(&["validate", &d_token], 3, "InvalidToken", "invalid token"),
        Case {
            stdin: "garbage\n".into(),
            ..case(&["validate", "-"], 3, "InvalidToken", "invalid token")
        },
        // ---- one session by id ----------------------------------------------------------------
        case(
            &["show", "nope"],
            2,
            INPUT,
            "invalid id: expected a 22-character base64url session id",
        ),
        case(&["show", SQL_INJECTION], 2, INPUT, "invalid id"),
        case(&["show", "AAAAAAAAAAAAAAAAAAAA=="], 2, INPUT, "invalid id"),
        case(&["show", unknown], 4, "NotFound", "session not found"),
        case(&["revoke", unknown], 4, "NotFound", "session not found"),
        case(&["delete", &d], 4, "NotFound", "session not found"),
        case(&["delete", "' OR '1'='1"], 2, INPUT, "invalid id"),
        case(&["touch", &r], 6, "Revoked", "session revoked"),
        case(&["touch", unknown], 4, "NotFound", "session not found"),
        case(&["rotate", &r], 6, "Revoked", "session revoked"),
        case(&["rotate", &d], 4, "NotFound", "session not found"),
        case(
            &["metadata", &a, "--patch", "[1]"],
            2,
            INPUT,
            "invalid patch: must be a JSON object, got an array",
        ),
        case(
            &["metadata", &a, "--patch", "{bad"],
            2,
            INPUT,
            "invalid patch: not valid JSON",
        ),
        case(
            &["metadata", &a, "--patch", &big_metadata],
            8,
            "LimitExceeded",
            "limit exceeded: metadata_max_bytes",
        ),
        case(
            &["metadata", &r, "--patch", "{}"],
            6,
            "Revoked",
            "session revoked",
        ),
        // ---- listing and counting -------------------------------------------------------------
        case(
            &["list", "--user", ""],
            2,
            INPUT,
            "invalid user_id: must not be empty",
        ),
        case(
            &["list", "--user", "alice", "--limit", "0"],
            2,
            INPUT,
            "invalid limit: must be between 1 and 1000",
        ),
        case(
            &["list", "--user", "alice", "--limit", "1001"],
            2,
            INPUT,
            "invalid limit: must be between 1 and 1000",
        ),
        case(
            &["list", "--user", "alice", "--limit", "-1"],
            2,
            USAGE,
            "--limit",
        ),
        case(
            &["list", "--user", "alice", "--limit", "4294967296"],
            2,
            USAGE,
            "--limit",
        ),
        case(
            &["list", "--user", "alice", "--cursor", &garbled_cursor],
            2,
            INPUT,
            "invalid cursor: not a cursor returned by list_user_sessions",
        ),
        case(
            &["list", "--user", "alice", "--cursor", SQL_INJECTION],
            2,
            INPUT,
            "invalid cursor",
        ),
        case(
            &["list", "--user", "alice", "--cursor", &bob_cursor],
            2,
            INPUT,
            "invalid cursor: cursor belongs to a different listing",
        ),
        case(
            &[
                "list",
                "--user",
                "alice",
                "--active-only",
                "--cursor",
                &alice_cursor,
            ],
            2,
            INPUT,
            "invalid cursor: cursor belongs to a different listing",
        ),
        case(
            &["revoke-user", "--user", ""],
            2,
            INPUT,
            "invalid user_id: must not be empty",
        ),
        case(
            &["revoke-user", "--user", "alice", "--except", "nope"],
            2,
            INPUT,
            "invalid id",
        ),
        case(
            &["count", "--user", "a\u{7}"],
            2,
            INPUT,
            "invalid user_id: must not contain control characters",
        ),
        // ---- state ----------------------------------------------------------------------------
        case(
            &["state", "put", &a, "--data", "{oops"],
            2,
            INPUT,
            "invalid data: not valid JSON",
        ),
        case(
            &[
                "state",
                "put",
                &a,
                "--data",
                "{}",
                "--expected-version",
                "5",
            ],
            7,
            "Conflict",
            "version conflict: current version is 1",
        ),
        case(
            &[
                "state",
                "put",
                &a,
                "--data",
                "{}",
                "--expected-version",
                "0",
            ],
            7,
            "Conflict",
            "version conflict: current version is 1",
        ),
        case(
            &[
                "state",
                "put",
                &a,
                "--data",
                "{}",
                "--expected-version",
                "-1",
            ],
            2,
            USAGE,
            "--expected-version",
        ),
        case(
            &[
                "state",
                "put",
                &a,
                "--data",
                "{}",
                "--expected-version",
                "18446744073709551616",
            ],
            2,
            USAGE,
            "--expected-version",
        ),
        case(
            &[
                "--state-max-bytes",
                "100",
                "state",
                "put",
                &a,
                "--data",
                &big_state,
            ],
            8,
            "LimitExceeded",
            "limit exceeded: state_max_bytes",
        ),
        case(
            &["state", "put", &r, "--data", "{}"],
            6,
            "Revoked",
            "session revoked",
        ),
        case(
            &["state", "put", unknown, "--data", "{}"],
            4,
            "NotFound",
            "session not found",
        ),
        case(
            &["state", "put", &a, "--file", missing_file],
            1,
            "Io",
            "no-such-file.json",
        ),
        case(
            &[
                "state",
                "patch",
                &a,
                "--patch",
                "{}",
                "--expected-version",
                "3",
            ],
            7,
            "Conflict",
            "version conflict: current version is 1",
        ),
        case(
            &["state", "patch", &a, "--patch", "nope"],
            2,
            INPUT,
            "invalid patch: not valid JSON",
        ),
        case(
            &["state", "clear", unknown],
            4,
            "NotFound",
            "session not found",
        ),
        case(&["state", "clear", &r], 6, "Revoked", "session revoked"),
        case(
            &["state", "get", unknown],
            4,
            "NotFound",
            "session not found",
        ),
        // ---- configuration --------------------------------------------------------------------
        case(
            &["--idle-timeout-ms", "0", "stats"],
            2,
            INPUT,
            "invalid idle_timeout_ms: must be greater than zero",
        ),
        case(
            &["--idle-timeout-ms", "-5", "stats"],
            2,
            INPUT,
            "invalid idle_timeout_ms: must be greater than zero",
        ),
        case(
            &["--absolute-timeout-ms", "9223372036854775807", "stats"],
            2,
            INPUT,
            "invalid absolute_timeout_ms: must be at most 100 years",
        ),
        case(
            &["--absolute-timeout-ms", "99999999999999999999", "stats"],
            2,
            USAGE,
            "--absolute-timeout-ms",
        ),
        case(
            &[
                "--idle-timeout-ms",
                "100",
                "--absolute-timeout-ms",
                "50",
                "--touch-interval-ms",
                "0",
                "stats",
            ],
            2,
            INPUT,
            "invalid idle_timeout_ms: must not be longer than absolute_timeout_ms",
        ),
        case(
            &["--touch-interval-ms", "-1", "stats"],
            2,
            INPUT,
            "invalid touch_interval_ms: must not be negative",
        ),
        case(
            &["--touch-interval-ms", "1800000", "stats"],
            2,
            INPUT,
            "invalid touch_interval_ms: must be shorter than idle_timeout_ms",
        ),
        case(
            &["--max-sessions-per-user", "0", "stats"],
            2,
            INPUT,
            "invalid max_sessions_per_user: must be at least 1",
        ),
        case(
            &["--max-sessions-per-user", "-1", "stats"],
            2,
            USAGE,
            "--max-sessions-per-user",
        ),
        case(
            &["--state-max-bytes", "0", "stats"],
            2,
            INPUT,
            "invalid state_max_bytes: must be greater than zero",
        ),
        case(
            &["--state-max-bytes", "2147483648", "stats"],
            2,
            INPUT,
            "invalid state_max_bytes: must be at most 1 GiB",
        ),
        case(
            &["--session-limit-policy", "drop", "stats"],
            2,
            INPUT,
            "invalid session_limit_policy",
        ),
        // ---- import ---------------------------------------------------------------------------
        case(
            &["import", "--in", not_json],
            2,
            INPUT,
            "line 1: invalid record: not an export record",
        ),
        case(
            &["import", "--in", &bad_hash],
            2,
            INPUT,
            "line 1: invalid token_hash: must be base64url",
        ),
        case(
            &["import", "--in", &short_hash],
            2,
            INPUT,
            "line 1: invalid token_hash: must be 32 bytes",
        ),
        case(
            &["import", "--in", &flipped_blob],
            1,
            "Corrupt",
            "line 1: corrupt data: state",
        ),
        case(
            &["import", "--in", &inconsistent],
            2,
            INPUT,
            "line 1: invalid session: times are inconsistent",
        ),
        case(
            &["import", "--in", &escape_device],
            2,
            INPUT,
            "line 1: invalid device: must not contain control characters",
        ),
        case(
            &["import", "--in", &bad_ip],
            2,
            INPUT,
            "line 1: invalid ip: must be an IPv4 or IPv6 address",
        ),
        case(
            &["import", "--in", &huge_agent],
            2,
            INPUT,
            "line 1: invalid user_agent: must be at most 1024 bytes",
        ),
        case(
            &["import", "--in", &bidi_version],
            2,
            INPUT,
            "line 1: invalid client_version: must not contain control characters",
        ),
        case(
            &["import", "--in", &endless],
            2,
            INPUT,
            "line 1: invalid session: absolute_expires_at is further from created_at than \
             absolute_timeout_ms",
        ),
        case(
            &["import", "--in", &long_idle],
            2,
            INPUT,
            "line 1: invalid session: expires_at is further from last_active_at than \
             idle_timeout_ms",
        ),
        // The same file under a shorter configured lifetime than it was written with.
        case(
            &["--absolute-timeout-ms", "3600000", "import", "--in", &plain],
            2,
            INPUT,
            "line 1: invalid session: absolute_expires_at is further from created_at",
        ),
        case(
            &["import", "--in", &future],
            2,
            INPUT,
            "line 1: invalid session: times are in the future",
        ),
        case(
            &["import", "--in", &zero_secret],
            2,
            INPUT,
            "line 1: invalid token_hash: is the hash of a known secret",
        ),
        case(
            &["import", "--in", &bidi_user],
            2,
            INPUT,
            "line 1: invalid user_id: must not contain invisible or bidirectional",
        ),
        case(
            &["create", "--user", "ad\u{200b}min", "--kind", "web"],
            2,
            INPUT,
            "invalid user_id: must not contain invisible or bidirectional",
        ),
    ];
    // Expired sessions: refused as Expired, and removed (docs/SPEC.md §1).
    for (args, (id, token)) in [
        vec!["validate".to_owned(), expired[0].1.clone()],
        vec!["touch".to_owned(), expired[1].0.clone()],
        vec![
            "state".into(),
            "put".into(),
            expired[2].0.clone(),
            "--data".into(),
            "{}".into(),
        ],
    ]
    .into_iter()
    .zip(expired.iter().cloned())
    {
        let _ = token;
        cases.push(Case {
            args,
            removes: Some(id),
            ..case(&[], 5, "Expired", "session expired")
        });
    }

    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for case in &cases {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let shown = format!("{:?}", args).chars().take(200).collect::<String>();
        let before = dump::dump(&db.path);
        let expected = match &case.removes {
            None => before.clone(),
            Some(id) => {
                let id = SessionId::parse(id).expect("an id");
                let expected = before.without_session(id.as_bytes());
                assert!(expected.row_count("sessions") < before.row_count("sessions"));
                expected
            }
        };

        // Human mode: the code, `error: <message>` on stderr, nothing on stdout.
        let out = sk(&db.with_db(&args), &case.stdin);
        assert_eq!(out.code, case.code, "{shown}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("error:") && out.stderr.contains(&case.message),
            "{shown}: stderr {:?} lacks {:?}",
            out.stderr,
            case.message
        );
        assert!(out.stdout.is_empty(), "{shown}: {}", out.stdout);
        let after = dump::dump(&db.path);
        assert!(
            after == expected,
            "{shown}: stored data changed: {}",
            after.first_difference(&expected)
        );

        // JSON mode: the same error as a document (the expired session is gone by now, so
        // those cases are not repeated).
        if case.removes.is_none() {
            let mut json_args = db.with_db(&["--json"]);
            json_args.extend_from_slice(&args);
            let out = sk(&json_args, &case.stdin);
            assert_eq!(out.code, case.code, "{shown} --json");
            let doc: Value = serde_json::from_str(&out.stdout)
                .unwrap_or_else(|e| panic!("{shown} --json: {e}: {}", out.stdout));
            assert_eq!(doc["error"]["kind"], case.kind, "{shown}: {doc}");
            let message = doc["error"]["message"].as_str().expect("a message");
            assert!(message.contains(&case.message), "{shown}: {doc}");
            assert!(
                dump::dump(&db.path) == expected,
                "{shown} --json changed data"
            );
        }
    }
    println!("{} bad inputs refused by the CLI", cases.len());
}

//! Every hot-path statement is served by the index it is meant to use — validation by id,
//! listings, counts and the limit by `(user_id, last_active_at DESC, id DESC)`, cleanup by
//! `(expires_at, id)` — on a table of 20,000 sessions of 2,000 users, as `EXPLAIN` shows it
//! (the statements' real text, from the crate, with values in place of the `?`).

mod common;

/// `sql` with each `?` replaced by a value of the kind its letter in `kinds` names.
fn with_values(name: &str, sql: &str, kinds: &str) -> String {
    let mut kinds = kinds.chars();
    let mut out = String::new();
    for c in sql.chars() {
        if c != '?' {
            out.push(c);
            continue;
        }
        out.push_str(match kinds.next() {
            // An id in the table, a user with ten sessions, a small number (a LIMIT of 500,
            // times before every stored one).
            Some('i') => "X'00000000000000000000000000000100'",
            Some('u') => "'user-7'",
            Some('n') => "500",
            Some('t') => "1800000000000",
            other => panic!("{name}: no value kind {other:?} for a placeholder"),
        });
    }
    assert!(
        kinds.next().is_none(),
        "{name}: more value kinds than placeholders"
    );
    out
}

#[test]
fn mysql_hot_paths_use_their_indexes() {
    let Some(server) = common::server_url("mysql_hot_paths_use_their_indexes") else {
        return;
    };
    let db = common::TestDb::create(&server);
    drop(db.open()); // creates the schema
    common::admin(
        &db.url,
        &[
            "SET SESSION max_recursive_iterations = 100000",
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_active_at, \
             expires_at, absolute_expires_at, client_kind, active, metadata) \
             WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 20000) \
             SELECT UNHEX(LPAD(HEX(i), 32, '0')), UNHEX(REPEAT('ab', 32)), \
             CONCAT('user-', i % 2000), 1700000000000 - i, 1700000000000, \
             1700000000000 + i * 100 - 10000, 1800000000000, 'web', TRUE, '{}' FROM seq",
            "INSERT INTO session_state (session_id, version, data, updated_at) \
             SELECT id, 1, X'00', 0 FROM sessions",
            "ANALYZE TABLE sessions, session_state",
        ],
    );
    let mut failures = Vec::new();
    for (name, sql, index, kinds) in sessionkit_mysql::hot_path_statements() {
        let explained = with_values(name, sql, kinds);
        let plan = common::query_text(&db.url, &format!("EXPLAIN {explained}"));
        // Columns: id, select_type, table, type, possible_keys, key, key_len, ref, rows, Extra.
        let sessions_rows: Vec<_> = plan
            .iter()
            .filter(|row| matches!(row[2].as_deref(), Some("sessions" | "session_state")))
            .collect();
        let uses_index = plan.iter().any(|row| row[5].as_deref() == Some(*index));
        let scans = sessions_rows
            .iter()
            .any(|row| row[2].as_deref() == Some("sessions") && row[3].as_deref() == Some("ALL"));
        if !uses_index || scans {
            failures.push(format!("{name}: expected {index}, got\n{plan:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

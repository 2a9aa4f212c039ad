//! `EXPLAIN QUERY PLAN` of the store's real hot-path statements (not copies): each is served by
//! the primary key or an index — no full scan, no sort — and pages seek in the user index.

use rusqlite::types::Value;
use rusqlite::Connection;
use sessionkit_sqlite::{hot_path_statements, SqliteStore};

/// The plan of every hot-path statement, against a database the store created.
fn plans() -> Vec<(&'static str, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plans.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    hot_path_statements()
        .iter()
        .map(|(name, sql)| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let nulls = vec![Value::Null; stmt.parameter_count()];
            let lines: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(nulls), |row| row.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (*name, lines.join("\n"))
        })
        .collect()
}

fn plan_of(plans: &[(&str, String)], name: &str) -> String {
    plans
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no statement named {name}"))
        .1
        .clone()
}

#[test]
fn no_hot_path_scans_a_table_or_sorts() {
    let plans = plans();
    assert!(plans.len() >= 15);
    for (name, plan) in &plans {
        for line in plan.lines() {
            assert!(!line.starts_with("SCAN"), "{name} scans:\n{plan}");
            assert!(!line.contains("TEMP B-TREE"), "{name} sorts:\n{plan}");
        }
        assert!(
            plan.contains("USING PRIMARY KEY")
                || plan.contains("USING INDEX")
                || plan.contains("USING COVERING INDEX"),
            "{name} uses no index:\n{plan}"
        );
    }
}

#[test]
fn lookups_by_id_use_the_primary_key() {
    let plans = plans();
    for name in [
        "get_session",
        "session_active",
        "touch_session",
        "revoke_session",
        "get_state",
    ] {
        let plan = plan_of(&plans, name);
        assert!(
            plan.contains("SEARCH sessions USING PRIMARY KEY (id=?)"),
            "{name}:\n{plan}"
        );
    }
}

#[test]
fn listing_pages_seek_in_the_user_index() {
    let plans = plans();
    // (A live listing may also seek past the idle cutoff: `user_id=? AND last_active_at>?`.)
    for name in ["list_first", "list_first_live"] {
        let plan = plan_of(&plans, name);
        assert!(
            plan.contains("USING INDEX sessions_by_user (user_id=?"),
            "{name}:\n{plan}"
        );
    }
    // With a cursor, the page starts with a seek past it, whatever its depth.
    for name in ["list_after", "list_after_live"] {
        let plan = plan_of(&plans, name);
        assert!(
            plan.contains("USING INDEX sessions_by_user (user_id=? AND (last_active_at,id)<(?,?))")
                || plan.contains(
                    "USING INDEX sessions_by_user (user_id=? AND last_active_at>? AND \
                     (last_active_at,id)<(?,?))"
                ),
            "{name}:\n{plan}"
        );
    }
}

#[test]
fn counts_and_limits_by_user_use_the_user_index() {
    let plans = plans();
    for name in [
        "count_user",
        "count_user_live",
        "live_positions_of_user",
        "revoke_user_sessions",
    ] {
        let plan = plan_of(&plans, name);
        assert!(
            plan.contains("sessions_by_user (user_id=?"),
            "{name}:\n{plan}"
        );
    }
    assert!(plan_of(&plans, "count_user").contains("COVERING INDEX sessions_by_user"));
}

#[test]
fn cleanup_finds_expired_sessions_through_the_expiry_index() {
    let plan = plan_of(&plans(), "delete_expired");
    assert!(
        plan.contains("USING COVERING INDEX sessions_by_expiry (expires_at<?)"),
        "{plan}"
    );
    assert!(
        plan.contains("SEARCH sessions USING PRIMARY KEY (id=?)"),
        "{plan}"
    );
    // The state rows go by cascade, each through its primary key.
    assert!(
        plan.contains("SEARCH session_state USING PRIMARY KEY"),
        "{plan}"
    );
}

//! The CLI on the database servers (`--db postgres://…`, `--db mysql://…`), each test on a fresh
//! database of the server `SESSIONKIT_TEST_POSTGRES_URL` / `SESSIONKIT_TEST_MYSQL_URL` names
//! (scripts/pg-mysql.sh starts throwaway ones; without them the tests are skipped, or fail when
//! `CI` or `SESSIONKIT_REQUIRE_DB=1` requires the databases): the commands work there, and an
//! export moves SQLite → the server → SQLite unchanged.

mod common;

use common::sk;
use sessionkit_netstore::testing;

#[derive(Clone, Copy)]
enum Backend {
    Postgres,
    Mysql,
}

impl Backend {
    fn server_url(self, test: &str) -> Option<String> {
        let var = match self {
            Backend::Postgres => testing::POSTGRES_URL_VAR,
            Backend::Mysql => testing::MYSQL_URL_VAR,
        };
        testing::server_url(var, test)
    }

    /// Runs one statement on the server as its administrator.
    fn admin(self, url: &str, sql: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            match self {
                Backend::Postgres => {
                    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                        .await
                        .unwrap();
                    let driver = tokio::spawn(connection);
                    client.batch_execute(sql).await.unwrap();
                    drop(client);
                    let _ = driver.await;
                }
                Backend::Mysql => {
                    use mysql_async::prelude::Queryable;
                    let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
                    conn.query_drop(sql).await.unwrap();
                    let _ = conn.disconnect().await;
                }
            }
        });
    }

    /// A fresh database; its URL.
    fn fresh_database(self, server: &str) -> String {
        let name = testing::database_name("sk_cli");
        let create = match self {
            Backend::Postgres => format!("CREATE DATABASE {name} TEMPLATE template0"),
            Backend::Mysql => format!("CREATE DATABASE {name}"),
        };
        self.admin(server, &create);
        testing::with_database(server, &name)
    }
}

fn commands_work(backend: Backend, test: &str) {
    let Some(server) = backend.server_url(test) else {
        return;
    };
    let db = backend.fresh_database(&server);
    let run = |args: &[&str]| {
        let mut all = vec!["--db", db.as_str(), "--json"];
        all.extend_from_slice(args);
        sk(&all).ok().json()
    };
    let created = run(&["create", "--user", "alice", "--kind", "web"]);
    let id = created["session"]["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(run(&["validate", &token])["id"], id.as_str());
    run(&["state", "put", &id, "--data", r#"{"cart":[1,2]}"#]);
    assert_eq!(run(&["state", "get", &id])["version"], 1);
    run(&["metadata", &id, "--patch", r#"{"theme":"dark"}"#]);
    assert_eq!(run(&["show", &id])["session"]["metadata"]["theme"], "dark");
    assert_eq!(
        run(&["list", "--user", "alice"])["items"][0]["id"],
        id.as_str()
    );
    assert_eq!(run(&["count", "--user", "alice"])["count"], 1);
    assert_eq!(run(&["stats"])["total"], 1);
    let rotated = run(&["rotate", &id]);
    let new_id = rotated["session"]["id"].as_str().unwrap().to_owned();
    assert_eq!(run(&["state", "get", &new_id])["version"], 1);
    run(&["revoke", &new_id]);
    let refused = sk(&["--db", db.as_str(), "--json", "validate", &token]);
    assert_ne!(refused.code, 0);
    run(&["cleanup"]);
    run(&["delete-user", "--user", "alice"]);
    assert_eq!(run(&["count"])["count"], 0);
}

fn export_round_trip(backend: Backend, test: &str) {
    let Some(server) = backend.server_url(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (first, last) = (path("first.db"), path("last.db"));
    // A varied source: several users and kinds, metadata, states (one cleared, so its version
    // is carried as cleared_state_version), a revoked and a rotated session.
    let run = |args: &[&str]| {
        let mut all = vec!["--db", first.as_str(), "--json"];
        all.extend_from_slice(args);
        sk(&all).ok().json()
    };
    let mut ids = Vec::new();
    for (n, (user, kind)) in [
        ("alice", "web"),
        ("alice", "mobile"),
        ("bob", "desktop"),
        ("carol", "other"),
    ]
    .iter()
    .enumerate()
    {
        let meta = format!(r#"{{"n":{n},"pi":3.14159,"big":12345678901234567,"s":"é\u0000"}}"#);
        let created = run(&[
            "create",
            "--user",
            user,
            "--kind",
            kind,
            "--device",
            "Dev",
            "--ip",
            "10.0.0.1",
            "--metadata",
            &meta,
        ]);
        ids.push(created["session"]["id"].as_str().unwrap().to_owned());
    }
    run(&["state", "put", &ids[0], "--data", r#"{"cart":[1,2,3]}"#]);
    run(&["state", "put", &ids[0], "--data", r#"{"cart":[1]}"#]);
    run(&["state", "put", &ids[1], "--data", r#"{"x":"y"}"#]);
    run(&["state", "clear", &ids[1]]);
    run(&["metadata", &ids[2], "--patch", r#"{"theme":"dark"}"#]);
    run(&["revoke", &ids[2]]);
    run(&["rotate", &ids[3]]);
    sk(&["--db", &first, "export", "--out", &path("first.jsonl")]).ok();
    let remote = backend.fresh_database(&server);
    sk(&["--db", &remote, "import", "--in", &path("first.jsonl")]).ok();
    sk(&["--db", &remote, "export", "--out", &path("remote.jsonl")]).ok();
    sk(&["--db", &last, "import", "--in", &path("remote.jsonl")]).ok();
    sk(&["--db", &last, "export", "--out", &path("last.jsonl")]).ok();
    let first = std::fs::read_to_string(path("first.jsonl")).unwrap();
    assert_eq!(first.lines().count(), 4, "{first}");
    assert!(first.contains("cleared_state_version"), "{first}");
    assert_eq!(
        std::fs::read_to_string(path("remote.jsonl")).unwrap(),
        first
    );
    assert_eq!(std::fs::read_to_string(path("last.jsonl")).unwrap(), first);
}

#[test]
fn postgres_cli_commands_work_on_a_postgres_database() {
    commands_work(
        Backend::Postgres,
        "postgres_cli_commands_work_on_a_postgres_database",
    );
}

#[test]
fn mysql_cli_commands_work_on_a_mysql_database() {
    commands_work(
        Backend::Mysql,
        "mysql_cli_commands_work_on_a_mysql_database",
    );
}

#[test]
fn postgres_cli_export_moves_sqlite_to_postgres_to_sqlite_unchanged() {
    export_round_trip(
        Backend::Postgres,
        "postgres_cli_export_moves_sqlite_to_postgres_to_sqlite_unchanged",
    );
}

#[test]
fn mysql_cli_export_moves_sqlite_to_mysql_to_sqlite_unchanged() {
    export_round_trip(
        Backend::Mysql,
        "mysql_cli_export_moves_sqlite_to_mysql_to_sqlite_unchanged",
    );
}

#[test]
fn mysql_cli_reports_bad_and_unreachable_servers() {
    // No database in the URL: a refused argument, before any connection.
    let refused = sk(&["--db", "mysql://root@127.0.0.1:1", "--json", "count"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert_eq!(refused.json()["error"]["field"], "db");
    // Nothing listening: a storage error.
    let unreachable = sk(&["--db", "mariadb://root@127.0.0.1:1/x", "--json", "count"]);
    assert_ne!(unreachable.code, 0);
    assert_eq!(
        unreachable.json()["error"]["kind"],
        "Storage",
        "{}",
        unreachable.stdout
    );
}

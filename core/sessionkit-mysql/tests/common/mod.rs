//! A fresh MySQL/MariaDB database per test, on the server `SESSIONKIT_TEST_MYSQL_URL` names
//! (scripts/pg-mysql.sh starts a throwaway MariaDB). Without that variable a test is skipped
//! with a note — or fails, when `CI` or `SESSIONKIT_REQUIRE_DB=1` says the databases must be
//! there (`SESSIONKIT_REQUIRE_DB=0` skips even in CI: the workspace run, before the database
//! step).

#![allow(dead_code)]

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use sessionkit::Store;
use sessionkit_mysql::MysqlStore;
use sessionkit_netstore::testing;

/// The server's URL, or `None` (after saying so) when the test is skipped.
pub fn server_url(test: &str) -> Option<String> {
    testing::server_url(testing::MYSQL_URL_VAR, test)
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Runs each statement on the database at `url`.
pub fn run_sql(url: &str, statements: &[&str]) -> Result<(), mysql_async::Error> {
    block_on(async {
        let mut conn = mysql_async::Conn::from_url(url).await?;
        let mut result = Ok(());
        for sql in statements {
            result = conn.query_drop(*sql).await;
            if result.is_err() {
                break;
            }
        }
        let _ = conn.disconnect().await;
        result
    })
}

/// Runs each statement, panicking on failure.
pub fn admin(url: &str, statements: &[&str]) {
    run_sql(url, statements).unwrap_or_else(|e| panic!("{statements:?}: {e}"));
}

/// The rows of `sql` on the database at `url`, every column as text.
pub fn query_text(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    block_on(async {
        let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
        let rows: Vec<mysql_async::Row> = conn.query(sql).await.unwrap();
        let _ = conn.disconnect().await;
        rows.into_iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| match row.as_ref(i).unwrap() {
                        mysql_async::Value::NULL => None,
                        mysql_async::Value::Bytes(b) => {
                            Some(String::from_utf8_lossy(b).into_owned())
                        }
                        other => Some(other.as_sql(true)),
                    })
                    .collect()
            })
            .collect()
    })
}

/// A database of its own, dropped with this value.
pub struct TestDb {
    server: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl TestDb {
    /// Creates an empty database with a random name.
    pub fn create(server: &str) -> TestDb {
        let name = testing::database_name("sk_test");
        admin(
            server,
            &[&format!(
                "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )],
        );
        TestDb {
            server: server.to_owned(),
            url: testing::with_database(server, &name),
            name,
        }
    }

    /// Opens the store on it.
    pub fn open(&self) -> Arc<dyn Store> {
        Arc::new(MysqlStore::open(&self.url).expect("open the mysql store"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = run_sql(
            &self.server,
            &[&format!("DROP DATABASE IF EXISTS {}", self.name)],
        );
    }
}

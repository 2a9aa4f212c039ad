//! A fresh PostgreSQL database per test, on the server `SESSIONKIT_TEST_POSTGRES_URL` names
//! (scripts/pg-mysql.sh starts a throwaway one). Without that variable a test is skipped with a
//! note — or fails, when `CI` or `SESSIONKIT_REQUIRE_DB=1` says the databases must be there
//! (`SESSIONKIT_REQUIRE_DB=0` skips even in CI: the workspace run, before the database step).

#![allow(dead_code)]

use std::sync::Arc;

use sessionkit::Store;
use sessionkit_netstore::testing;
use sessionkit_postgres::PostgresStore;

/// The server's URL, or `None` (after saying so) when the test is skipped.
pub fn server_url(test: &str) -> Option<String> {
    testing::server_url(testing::POSTGRES_URL_VAR, test)
}

/// Runs `sql` on the server's maintenance database.
pub fn admin(server: &str, sql: &str) {
    run_sql(server, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Runs `sql` (several statements allowed) on the database at `url`.
pub fn run_sql(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let driver = tokio::spawn(connection);
        let result = client.batch_execute(sql).await;
        drop(client);
        let _ = driver.await;
        result
    })
}

/// The rows of `sql` on the database at `url`, every column as text.
pub fn query_text(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let driver = tokio::spawn(connection);
        let messages = client.simple_query(sql).await.unwrap();
        drop(client);
        let _ = driver.await;
        messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
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
            &format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"),
        );
        TestDb {
            server: server.to_owned(),
            url: testing::with_database(server, &name),
            name,
        }
    }

    /// Opens the store on it.
    pub fn open(&self) -> Arc<dyn Store> {
        Arc::new(PostgresStore::open(&self.url).expect("open the postgres store"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = run_sql(
            &self.server,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

//! A fresh PostgreSQL database per test, on the server `SESSIONKIT_TEST_POSTGRES_URL` names
//! (scripts/pg-mysql.sh starts a throwaway one). Without that variable a test is skipped with a
//! note — or fails, when `CI` or `SESSIONKIT_REQUIRE_DB=1` says the databases must be there
//! (`SESSIONKIT_REQUIRE_DB=0` skips even in CI: the workspace run, before the database step).

#![allow(dead_code)]

use std::sync::Arc;

use sessionkit::Store;
use sessionkit_postgres::PostgresStore;

/// The server's URL, or `None` (after saying so) when the test is skipped.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("SESSIONKIT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let required = match std::env::var("SESSIONKIT_REQUIRE_DB").as_deref() {
                Ok("1") => true,
                Ok("0") => false,
                _ => std::env::var_os("CI").is_some_and(|v| !v.is_empty()),
            };
            assert!(
                !required,
                "{test}: SESSIONKIT_TEST_POSTGRES_URL is not set but the database tests are \
                 required (CI or SESSIONKIT_REQUIRE_DB=1): run them with scripts/pg-mysql.sh"
            );
            eprintln!(
                "{test}: skipped (no SESSIONKIT_TEST_POSTGRES_URL; scripts/pg-mysql.sh runs it)"
            );
            None
        }
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
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
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!(
            "sk_test_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        admin(
            server,
            &format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"),
        );
        TestDb {
            server: server.to_owned(),
            url: with_database(server, &name),
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

//! Helpers for tests against a database server: the server's URL from the environment (skip or
//! fail when it is missing), a fresh database's name and URL.
//!
//! A test finds its server in an environment variable (`SESSIONKIT_TEST_POSTGRES_URL`,
//! `SESSIONKIT_TEST_MYSQL_URL`; scripts/pg-mysql.sh starts throwaway servers and sets them).
//! Without it the test is skipped with a note — or fails, when `CI` or
//! `SESSIONKIT_REQUIRE_DB=1` says the databases must be there (`SESSIONKIT_REQUIRE_DB=0` skips
//! even in CI: the workspace run, before the database step).

/// The variable naming the PostgreSQL server the tests use.
pub const POSTGRES_URL_VAR: &str = "SESSIONKIT_TEST_POSTGRES_URL";
/// The variable naming the MySQL/MariaDB server the tests use.
pub const MYSQL_URL_VAR: &str = "SESSIONKIT_TEST_MYSQL_URL";

/// Whether a missing server is a failure rather than a skip.
pub fn databases_required() -> bool {
    match std::env::var("SESSIONKIT_REQUIRE_DB").as_deref() {
        Ok("1") => true,
        Ok("0") => false,
        _ => std::env::var_os("CI").is_some_and(|v| !v.is_empty()),
    }
}

/// The server's URL from `var`, or `None` (after saying so on stderr) when `test` is skipped.
///
/// # Panics
/// When the variable is missing and the databases are required ([`databases_required`]).
pub fn server_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !databases_required(),
                "{test}: {var} is not set but the database tests are required (CI or \
                 SESSIONKIT_REQUIRE_DB=1): run them with scripts/pg-mysql.sh"
            );
            eprintln!("{test}: skipped (no {var}; scripts/pg-mysql.sh runs it)");
            None
        }
    }
}

/// `url` with its database name replaced by `name` (a query string is kept).
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

/// A fresh database name: `prefix` and 16 random hex digits (safe unquoted in SQL).
pub fn database_name(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

/// The next message on `receiver` (an event relay's subscription), waiting at most 10 s.
///
/// # Panics
/// When nothing comes within 10 s or the sender is gone.
pub fn next_within_10s<T: Clone>(receiver: &mut tokio::sync::broadcast::Receiver<T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    runtime
        .block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(10), receiver.recv()).await
        })
        .expect("nothing within 10 s")
        .expect("the sender stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_only_the_name() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "sk_1"),
            "postgres://u@127.0.0.1:5432/sk_1"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306", "sk_1"),
            "mysql://root@127.0.0.1:3306/sk_1"
        );
        assert_eq!(
            with_database("postgres://h/db?host=/tmp/x", "sk_1"),
            "postgres://h/sk_1?host=/tmp/x"
        );
    }

    #[test]
    fn database_names_are_fresh_and_plain() {
        let a = database_name("sk_test");
        assert_ne!(a, database_name("sk_test"));
        assert!(a.starts_with("sk_test_") && a.len() == "sk_test_".len() + 16);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }
}

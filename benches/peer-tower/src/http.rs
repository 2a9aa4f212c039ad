//! HTTP peer: `GET /v1/session` written with axum + tower-sessions 0.14 over its SQLite store
//! (tower-sessions-sqlx-store), for the HTTP benchmark (`sessionkit-bench http`). "Validate" is
//! what an app on tower-sessions does: the layer reads the `id` cookie, the handler loads the
//! session from the store and answers its stored JSON, or 401 when there is none.
//!
//!   peer-tower-http --db PATH --prefill N --ids-out FILE --body FILE [--listen 127.0.0.1:0]
//!
//! Creates N sessions (each holding the JSON document of `--body` under the key `session`, so
//! the answer has the same size as sessionkit's Session JSON), writes one `Cookie` header value
//! per session to `--ids-out`, then prints `listening on http://HOST:PORT` and serves until
//! SIGTERM or SIGINT. The session layer keeps its defaults (no `always_save`), so a request only
//! reads: the cheapest configuration of the peer.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

struct Args {
    db: PathBuf,
    prefill: usize,
    ids_out: PathBuf,
    body: PathBuf,
    listen: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: peer-tower-http --db PATH --prefill N --ids-out FILE --body FILE [--listen ADDR]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let (mut db, mut prefill, mut ids_out, mut body) = (None, None, None, None);
    let mut listen = String::from("127.0.0.1:0");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--db" => db = Some(PathBuf::from(value())),
            "--prefill" => prefill = Some(value().parse().unwrap_or_else(|_| usage())),
            "--ids-out" => ids_out = Some(PathBuf::from(value())),
            "--body" => body = Some(PathBuf::from(value())),
            "--listen" => listen = value(),
            _ => usage(),
        }
    }
    match (db, prefill, ids_out, body) {
        (Some(db), Some(prefill), Some(ids_out), Some(body)) => Args {
            db,
            prefill,
            ids_out,
            body,
            listen,
        },
        _ => usage(),
    }
}

/// The route: load the cookie's session, answer its stored document.
async fn validate(session: Session) -> Response {
    match session.get_value("session").await {
        Ok(Some(value)) => Json(value).into_response(),
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&args.body)?)?;
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", args.db.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new().connect_with(options).await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;

    let mut ids = String::new();
    for _ in 0..args.prefill {
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([("session".to_owned(), document.clone())]),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::days(1),
        };
        store.create(&mut record).await?;
        ids.push_str(&format!("id={}\n", record.id));
    }
    std::fs::write(&args.ids_out, ids)?;

    let layer = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(30)));
    let app = Router::new()
        .route("/v1/session", get(validate))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn main() {
    let args = parse_args();
    // The same runtime as `sessionkit serve`: multi-threaded, one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("peer-tower-http: {e}");
        std::process::exit(1);
    }
}

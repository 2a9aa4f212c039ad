//! The server in-process, over real HTTP on loopback: the extractor in an app's own router,
//! WebSocket events, and engine calls kept off the async workers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sessionkit::{ClientKind, Clock, Config, ManualClock, MemoryStore, NewSession, SessionManager};
use sessionkit_server::{AuthSession, Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

const ADMIN_KEY: &str = "an-admin-key-for-tests-0123456789";

/// A server on a free loopback port, stopped when the test's runtime ends.
async fn start(server: Server, app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
        drop(server);
    });
    format!("http://{address}")
}

fn manager_with(clock: Arc<dyn Clock>) -> Arc<SessionManager> {
    Arc::new(
        SessionManager::open_with_clock(Arc::new(MemoryStore::new()), Config::default(), clock)
            .unwrap(),
    )
}

async fn create(manager: &SessionManager, user: &str) -> (String, String) {
    let created = manager
        .create(NewSession::new(user, ClientKind::Web))
        .await
        .unwrap();
    (
        created.session.id.to_string(),
        created.token.as_str().to_owned(),
    )
}

async fn profile(AuthSession(session): AuthSession) -> String {
    format!("hello {}", session.user_id)
}

#[tokio::test]
async fn an_apps_own_handler_gets_the_validated_session_from_the_extractor() {
    let manager = manager_with(Arc::new(ManualClock::new(1_700_000_000_000)));
    let server = Server::new(manager.clone(), ADMIN_KEY, ServerConfig::default()).unwrap();
    let app = Router::new()
        .route("/profile", get(profile))
        .with_state(server.clone())
        .merge(server.router());
    let url = start(server, app).await;
    let (_, token) = create(&manager, "alice").await;
    let client = reqwest::Client::new();

    let ok = client
        .get(format!("{url}/profile"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "hello alice");

    let refused = client
        .get(format!("{url}/profile"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "InvalidToken");

    // The API itself is mounted beside it.
    let session = client
        .get(format!("{url}/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
}

#[tokio::test]
async fn a_revocation_reaches_another_devices_websocket_which_then_ends() {
    let manager = manager_with(Arc::new(ManualClock::new(1_700_000_000_000)));
    let server = Server::new(manager.clone(), ADMIN_KEY, ServerConfig::default()).unwrap();
    let url = start(server.clone(), server.router()).await;
    let (phone_id, phone) = create(&manager, "bob").await;
    let (_, laptop) = create(&manager, "bob").await;
    let ws_url = format!("{}/v1/session/ws", url.replacen("http", "ws", 1));

    // A browser cannot set headers on a WebSocket: the token is the first message.
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    socket
        .send(Message::text(json!({ "token": phone }).to_string()))
        .await
        .unwrap();
    let first = next_json(&mut socket).await;
    assert_eq!(first["event"], "heartbeat");

    let response = reqwest::Client::new()
        .delete(format!("{url}/v1/session/devices/{phone_id}"))
        .bearer_auth(&laptop)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let revoked = next_json(&mut socket).await;
    assert_eq!(
        revoked,
        json!({ "event": "revoked", "data": { "session_id": phone_id } })
    );
    let auth = next_json(&mut socket).await;
    assert_eq!(
        auth,
        json!({ "event": "auth", "data": { "reason": "revoked" } })
    );
    // Then the server closes the socket.
    match socket.next().await {
        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {}
        Some(Ok(other)) => panic!("unexpected message after auth: {other:?}"),
    }
}

#[tokio::test]
async fn a_websocket_with_a_bad_token_gets_an_error_and_is_closed() {
    let manager = manager_with(Arc::new(ManualClock::new(1_700_000_000_000)));
    let server = Server::new(manager, ADMIN_KEY, ServerConfig::default()).unwrap();
    let url = start(server.clone(), server.router()).await;
    let ws_url = format!("{}/v1/session/ws", url.replacen("http", "ws", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    socket
        .send(Message::text(r#"{"token":"x.y"}"#))
        .await
        .unwrap();
    let error = next_json(&mut socket).await;
    assert_eq!(error["error"]["kind"], "InvalidToken");
}

async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s")
            .expect("the socket is open")
            .expect("a message, not an error");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

/// A clock whose next reading, once armed, waits until the test releases it: it holds an
/// engine call (a cleanup) inside the engine for as long as the test wants.
struct GateClock {
    armed: AtomicBool,
    held: Mutex<bool>,
    changed: Condvar,
    inner: ManualClock,
}

impl GateClock {
    fn arm(&self) {
        *self.held.lock().unwrap() = false;
        self.armed.store(true, Ordering::SeqCst);
    }

    fn wait_until_held(&self) {
        let mut held = self.held.lock().unwrap();
        while !*held {
            held = self.changed.wait(held).unwrap();
        }
    }

    fn release(&self) {
        *self.held.lock().unwrap() = false;
        self.changed.notify_all();
    }
}

impl Clock for GateClock {
    fn now_ms(&self) -> i64 {
        if self.armed.swap(false, Ordering::SeqCst) {
            let mut held = self.held.lock().unwrap();
            *held = true;
            self.changed.notify_all();
            while *held {
                held = self.changed.wait(held).unwrap();
            }
        }
        self.inner.now_ms()
    }
}

/// With one async worker thread, a cleanup stuck inside the engine would stall every other
/// request if engine calls ran on the workers. They run on the blocking pool: validations are
/// answered while the cleanup is held, and the cleanup finishes once released.
#[test]
fn requests_are_answered_while_a_cleanup_is_held_inside_the_engine() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = Arc::new(GateClock {
            armed: AtomicBool::new(false),
            held: Mutex::new(false),
            changed: Condvar::new(),
            inner: ManualClock::new(1_700_000_000_000),
        });
        let manager = manager_with(clock.clone());
        let server = Server::new(manager.clone(), ADMIN_KEY, ServerConfig::default()).unwrap();
        let url = start(server.clone(), server.router()).await;
        let (_, token) = create(&manager, "carol").await;
        // A request stalled behind the held cleanup fails the test instead of hanging it.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();

        clock.arm();
        let cleanup = tokio::spawn({
            let client = client.clone();
            let url = url.clone();
            async move {
                client
                    .post(format!("{url}/v1/admin/cleanup"))
                    .bearer_auth(ADMIN_KEY)
                    .send()
                    .await
                    .unwrap()
            }
        });
        let gate = clock.clone();
        tokio::task::spawn_blocking(move || gate.wait_until_held())
            .await
            .unwrap();
        for _ in 0..20 {
            let response = client
                .get(format!("{url}/v1/session"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        assert!(!cleanup.is_finished(), "the cleanup is still held");
        clock.release();
        let done = cleanup.await.unwrap();
        assert_eq!(done.status(), 200);
        assert_eq!(done.json::<Value>().await.unwrap(), json!({ "removed": 0 }));
    });
}

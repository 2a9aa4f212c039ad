//! The native driver against a real server on loopback (the `sessionkit-server` router over an
//! in-memory engine): sign in, push and pull, conflicts merged, offline edits, a client restart
//! with queued changes, a server restart, a revocation. Every wait is on an event, with a
//! deadline that only fails the test.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sessionkit::{ClientKind, Config, MemoryStore, NewSession, SessionManager};
use sessionkit_client::{
    ClientConfig, ClientEvent, ClientOptions, ConnectionState, RecoveryOutcome, SessionClient,
};
use sessionkit_server::{Server, ServerConfig};
use sessionkit_sqlite::SqliteStore;

const HEARTBEAT_MS: u64 = 300;
const WAIT: Duration = Duration::from_secs(20);

/// A server on a loopback port that a test can stop and start again on the same port.
struct TestServer {
    runtime: tokio::runtime::Runtime,
    manager: Arc<SessionManager>,
    address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let manager = Arc::new(
            SessionManager::open(Arc::new(MemoryStore::new()), Config::default()).unwrap(),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let mut server = TestServer {
            runtime,
            manager,
            address,
            stop: None,
            task: None,
        };
        server.serve(listener);
        server
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let config = ServerConfig {
            heartbeat_ms: HEARTBEAT_MS,
            ..ServerConfig::default()
        };
        let server = Server::new(
            self.manager.clone(),
            "an-admin-key-for-tests-0123456789",
            config,
        )
        .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(self.runtime.spawn(async move {
            let _ = server
                .serve(listener, async move {
                    let _ = stopped.await;
                })
                .await;
        }));
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            self.runtime.block_on(task).unwrap();
        }
    }

    fn restart(&mut self) {
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind(self.address))
            .unwrap();
        self.serve(listener);
    }

    fn session(&self, user: &str) -> (sessionkit::SessionId, String) {
        let created = self
            .runtime
            .block_on(
                self.manager
                    .create(NewSession::new(user, ClientKind::Mobile)),
            )
            .unwrap();
        (created.session.id, created.token.as_str().to_owned())
    }

    fn state(&self, id: &sessionkit::SessionId) -> Option<serde_json::Value> {
        self.runtime
            .block_on(self.manager.get_state(id))
            .unwrap()
            .map(|s| s.data)
    }
}

/// A client with its events on a channel.
fn open_client(url: &str, store: Arc<dyn sessionkit::ReplicaStore>) -> (SessionClient, Events) {
    let mut options = ClientOptions::new(url, store);
    options.config = ClientConfig {
        heartbeat_ms: HEARTBEAT_MS,
        ..ClientConfig::default()
    };
    options.config.backoff.initial_ms = 100;
    let client = SessionClient::open(options).unwrap();
    let (tx, rx) = mpsc::channel();
    let subscription = client.subscribe(move |e| {
        let _ = tx.send(e.clone());
    });
    (client, Events(rx, subscription))
}

/// The receiving end, and the subscription that feeds it (kept alive with it).
struct Events(
    mpsc::Receiver<ClientEvent>,
    #[allow(dead_code)] sessionkit_client::Subscription,
);

impl Events {
    /// Waits for an event that `want` accepts; fails the test after the deadline.
    fn wait(&self, what: &str, want: impl Fn(&ClientEvent) -> bool) -> ClientEvent {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.0.recv_timeout(left) {
                Ok(event) if want(&event) => return event,
                Ok(_) => {}
                Err(_) => panic!("no {what} within {WAIT:?}"),
            }
        }
    }
}

#[test]
fn a_client_syncs_merges_and_survives_a_restart_of_either_side() {
    let mut server = TestServer::start();
    let (id, token) = server.session("ada");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("device.db")).unwrap());
    let (client, events) = open_client(&server.url(), store.clone());

    client.sign_in(&token).unwrap();
    events.wait("connection_established", |e| {
        matches!(e, ClientEvent::ConnectionEstablished)
    });
    assert_eq!(client.session().unwrap().id, id);

    // A local change is pushed and acknowledged.
    client.patch_state(json!({"theme": "dark"})).unwrap();
    assert_eq!(client.state(), Some(json!({"theme": "dark"})));
    let result = client.sync().unwrap();
    assert_eq!((result.pending, result.offline), (0, false));
    assert_eq!(server.state(&id), Some(json!({"theme": "dark"})));

    // A write made elsewhere arrives through the stream.
    server
        .runtime
        .block_on(
            server
                .manager
                .patch_state(&id, &json!({"lang": "fr"}), None),
        )
        .unwrap();
    events.wait(
        "the admin's write",
        |e| matches!(e, ClientEvent::StateSynchronized { version } if *version == 2),
    );
    assert_eq!(client.state(), Some(json!({"theme": "dark", "lang": "fr"})));

    // Offline: edits stay local; meanwhile the server's state moves on; back online, both merge.
    client.set_online(false).unwrap();
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    client.patch_state(json!({"offline": 1})).unwrap();
    server
        .runtime
        .block_on(
            server
                .manager
                .patch_state(&id, &json!({"elsewhere": 1}), None),
        )
        .unwrap();

    // The app restarts while offline: the queued change was saved.
    client.close();
    drop(client);
    drop(events);
    let (client, events) = open_client(&server.url(), store.clone());
    assert_eq!(client.metrics().pending_changes, 1);
    assert_eq!(client.state().unwrap()["offline"], 1);
    let recovered = client.recover().unwrap();
    assert_eq!(recovered.outcome, RecoveryOutcome::Restored);
    assert_eq!(recovered.pending, 0);
    let merged = json!({"theme": "dark", "lang": "fr", "offline": 1, "elsewhere": 1});
    assert_eq!(server.state(&id), Some(merged.clone()));
    assert_eq!(client.state(), Some(merged));
    events.wait("connection_established", |e| {
        matches!(e, ClientEvent::ConnectionEstablished)
    });

    // The server goes away and comes back: the client reconnects by itself.
    server.stop();
    events.wait("connection_lost", |e| {
        matches!(e, ClientEvent::ConnectionLost)
    });
    client.patch_state(json!({"while_down": true})).unwrap();
    server.restart();
    events.wait("connection_restored", |e| {
        matches!(e, ClientEvent::ConnectionRestored)
    });
    assert_eq!(client.sync().unwrap().pending, 0);
    assert_eq!(server.state(&id).unwrap()["while_down"], true);
    let metrics = client.metrics();
    assert!(
        metrics.retries >= 1 && metrics.reconnects >= 1,
        "{metrics:?}"
    );

    // A revocation made elsewhere signs the client out within a heartbeat or so.
    server.runtime.block_on(server.manager.revoke(&id)).unwrap();
    let event = events.wait("auth_required", |e| {
        matches!(e, ClientEvent::AuthRequired { .. })
    });
    assert_eq!(
        event,
        ClientEvent::AuthRequired {
            reason: "revoked".into()
        }
    );
    assert_eq!(client.session(), None);
    assert_eq!(client.connection_state(), ConnectionState::SignedOut);
    assert!(client.patch_state(json!({"late": 1})).is_err());
    client.close();
    server.stop();
}

#[test]
fn devices_can_be_listed_and_revoked_from_a_client() {
    let mut server = TestServer::start();
    let (_, token) = server.session("bo");
    let (other, _) = server.session("bo");
    let (client, events) = open_client(&server.url(), Arc::new(MemoryStore::new()));
    client.sign_in(&token).unwrap();
    events.wait("connection_established", |e| {
        matches!(e, ClientEvent::ConnectionEstablished)
    });
    let page = client.devices().unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|d| d["current"] == true).count(), 1);
    client.revoke_device(&other.to_string()).unwrap();
    assert_eq!(client.revoke_other_devices().unwrap(), 0);
    assert!(client.revoke_device("not-an-id").is_err());
    client.sign_out().unwrap();
    assert_eq!(client.connection_state(), ConnectionState::SignedOut);
    assert!(client.sync().is_err());
    server.stop();
}

#[test]
fn a_bad_token_is_signed_out_with_its_reason() {
    let mut server = TestServer::start();
    let (client, events) = open_client(&server.url(), Arc::new(MemoryStore::new()));
    client.sign_in("sk_not-a-token").unwrap();
    let event = events.wait("auth_required", |e| {
        matches!(e, ClientEvent::AuthRequired { .. })
    });
    assert_eq!(
        event,
        ClientEvent::AuthRequired {
            reason: "invalid_token".into()
        }
    );
    assert!(ClientOptions::new("ftp://x", Arc::new(MemoryStore::new()))
        .base_url
        .starts_with("ftp"));
    assert!(
        SessionClient::open(ClientOptions::new("ftp://x", Arc::new(MemoryStore::new()))).is_err()
    );
    server.stop();
}

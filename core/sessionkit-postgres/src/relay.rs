//! Events across servers: PostgreSQL's `LISTEN/NOTIFY`.
//!
//! A [`PostgresEventRelay`] holds one connection of its own (outside the pool, which resets and
//! shares its connections) that `LISTEN`s on the channel `sessionkit_events`. What a process
//! [`publish`](PostgresEventRelay::publish)es — the engine's events, after their change is
//! stored — goes out on that channel as `pg_notify` (queued, so a manager's listener never
//! waits for the network); every other relay on the same database receives it and hands it to
//! its [`subscribe`](PostgresEventRelay::subscribe)rs. A relay skips its own notifications
//! (its origin is a random id): the local manager delivered those already.
//!
//! PostgreSQL delivers notifications in commit order, to every session listening at the time.
//! A relay whose connection drops reconnects (after a second, then doubling up to 30 s) and
//! goes on; events published elsewhere while it was away are not replayed, so a consumer must
//! not depend on seeing every event (the server's streams read their own session again at each
//! heartbeat). A payload is at most 8,000 bytes: events name sessions by id (and a user id of at
//! most 256 bytes), far below it.
//!
//! The engine stays free of I/O: the relay is the store crate's, wired by the face that runs a
//! server (the CLI's `serve`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sessionkit::{Error, Event, Result};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_postgres::{AsyncMessage, NoTls};

use sessionkit_netstore::StoreRuntime;

/// The notification channel.
pub const EVENT_CHANNEL: &str = "sessionkit_events";

/// Remote events buffered per subscriber before it is told it lagged.
const SUBSCRIBER_CAPACITY: usize = 1024;

/// The first reconnection delay; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One notification's payload.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The publishing relay (hex of 16 random bytes).
    origin: String,
    event: Event,
}

/// Publishes this process's events to, and receives the events of, every other process on one
/// PostgreSQL database. Dropping it stops its connection.
pub struct PostgresEventRelay {
    origin: String,
    outgoing: mpsc::UnboundedSender<String>,
    incoming: broadcast::Sender<Event>,
    // Declared last: dropped after the channels, so its tasks see them close first.
    _runtime: StoreRuntime,
}

impl fmt::Debug for PostgresEventRelay {
    // No connection string: it may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresEventRelay")
            .field("channel", &EVENT_CHANNEL)
            .finish_non_exhaustive()
    }
}

impl PostgresEventRelay {
    /// Connects to the database at `url` and starts listening; returns once the first `LISTEN`
    /// is in place (events published elsewhere from then on are received). Runs on its own
    /// small runtime, or on `runtime`'s (which must outlive the relay). Blocks the calling
    /// thread while connecting: callable from sync code and from a multi-thread runtime's
    /// worker, not from a current-thread runtime's.
    ///
    /// A bad URL is `InvalidInput { field: "db" }`; a server that cannot be reached is
    /// `Storage`.
    pub fn start(url: &str, runtime: Option<tokio::runtime::Handle>) -> Result<Self> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| {
            Error::invalid_input("db", format!("not a PostgreSQL connection string: {e}"))
        })?;
        let runtime = StoreRuntime::shared_or_own(runtime, "sessionkit-relay", 1)?;
        let mut origin_bytes = [0u8; 16];
        getrandom::fill(&mut origin_bytes)
            .map_err(|e| Error::storage(format!("no randomness for the relay's id: {e}")))?;
        let origin: String = origin_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let (outgoing, queue) = mpsc::unbounded_channel();
        let (incoming, _) = broadcast::channel(SUBSCRIBER_CAPACITY);
        let (ready_tx, ready_rx) = oneshot::channel();
        runtime.handle().spawn(run(
            config,
            origin.clone(),
            queue,
            incoming.clone(),
            ready_tx,
        ));
        let first = pollster::block_on(ready_rx)
            .map_err(|_| Error::storage("postgres relay: the listening task stopped"))?;
        first?;
        Ok(PostgresEventRelay {
            origin,
            outgoing,
            incoming,
            _runtime: runtime,
        })
    }

    /// Sends `event` to every other relay on the database. Never blocks: the notification is
    /// queued and sent by the relay's task. Fit for a manager listener.
    pub fn publish(&self, event: &Event) {
        let envelope = Envelope {
            origin: self.origin.clone(),
            event: event.clone(),
        };
        match serde_json::to_string(&envelope) {
            // A closed queue means the relay is being dropped: nothing to send to.
            Ok(payload) => {
                let _ = self.outgoing.send(payload);
            }
            Err(e) => tracing::warn!(error = %e, "postgres relay: an event did not serialize"),
        }
    }

    /// The events other processes publish, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.incoming.subscribe()
    }
}

/// The relay's task: connect, listen, send what is queued and hand out what arrives; reconnect
/// when the connection fails; stop when the relay is dropped.
async fn run(
    config: tokio_postgres::Config,
    origin: String,
    mut queue: mpsc::UnboundedReceiver<String>,
    incoming: broadcast::Sender<Event>,
    ready: oneshot::Sender<Result<()>>,
) {
    let mut ready = Some(ready);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let connected = tokio::time::timeout(Duration::from_secs(10), config.connect(NoTls)).await;
        let (client, mut connection) = match connected {
            Ok(Ok(pair)) => pair,
            failed => {
                let message = match failed {
                    Ok(Err(e)) => format!("postgres relay: {e}"),
                    _ => "postgres relay: connecting timed out".to_owned(),
                };
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(Error::storage(message)));
                    return;
                }
                tracing::warn!(%message, "postgres relay: reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        // The connection's own task: its I/O, and the notifications it receives.
        let (notify_tx, mut notifications) = mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(n))) => {
                        if notify_tx.send(n.payload().to_owned()).is_err() {
                            return;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return,
                }
            }
        });
        if let Err(e) = client
            .batch_execute(&format!("LISTEN {EVENT_CHANNEL}"))
            .await
        {
            driver.abort();
            if let Some(ready) = ready.take() {
                let _ = ready.send(Err(Error::storage(format!("postgres relay: {e}"))));
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            continue;
        }
        backoff = FIRST_BACKOFF;
        if let Some(ready) = ready.take() {
            let _ = ready.send(Ok(()));
        }
        loop {
            tokio::select! {
                payload = queue.recv() => match payload {
                    // The relay was dropped.
                    None => {
                        driver.abort();
                        return;
                    }
                    Some(payload) => {
                        if let Err(e) = client
                            .execute("SELECT pg_notify($1, $2)", &[&EVENT_CHANNEL, &payload])
                            .await
                        {
                            tracing::warn!(error = %e, "postgres relay: an event was not sent");
                            break;
                        }
                    }
                },
                received = notifications.recv() => match received {
                    // The connection ended.
                    None => break,
                    Some(payload) => match serde_json::from_str::<Envelope>(&payload) {
                        Ok(envelope) if envelope.origin != origin => {
                            // No subscriber is fine: nobody is listening.
                            let _ = incoming.send(envelope.event);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "postgres relay: an unreadable notification"),
                    },
                },
            }
        }
        driver.abort();
        tracing::warn!("postgres relay: the connection ended; reconnecting");
        tokio::time::sleep(backoff).await;
    }
}

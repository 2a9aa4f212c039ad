//! Each user's events (SPEC §4) on a push channel: Server-Sent Events or a WebSocket.
//!
//! The engine's listener (and, with a database shared by several servers, the events the others
//! relay: `Server::relay_event`) feeds one broadcast channel; each open stream follows the sessions of
//! its user (learned from a listing at connect, then from `created`/`rotated` events), sends a
//! heartbeat carrying its own session's `expires_at`, and ends with an `auth` event once its own
//! session stops being valid — or when the server shuts down.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde_json::{json, Value};
use sessionkit::{Error, Event, ListOptions, Session, SessionId, SessionStatus, Subscription};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use crate::auth::{request_context, AuthSession};
use crate::blocking::call;
use crate::error::{error_body, ApiError};
use crate::Server;

/// Events buffered per stream before a slow reader is told it lagged.
const CHANNEL_CAPACITY: usize = 1024;
/// How long a WebSocket may take to send its token.
const WS_AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// The engine's events, fanned out to every open stream.
pub(crate) struct EventHub {
    sender: broadcast::Sender<Event>,
    _subscription: Subscription,
}

impl EventHub {
    pub(crate) fn new(manager: &sessionkit::SessionManager) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let tx = sender.clone();
        let subscription = manager.subscribe(std::sync::Arc::new(move |event: &Event| {
            // No receiver (no open stream) is fine: nobody is listening.
            let _ = tx.send(event.clone());
        }));
        EventHub {
            sender,
            _subscription: subscription,
        }
    }

    /// An event from another process: to every open stream.
    pub(crate) fn relay(&self, event: Event) {
        // No receiver (no open stream) is fine: nobody is listening.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

/// One item of a stream: an event name (`revoked`, `heartbeat`, `auth`, …) and its JSON.
#[derive(Debug, Clone)]
pub(crate) struct FeedItem {
    pub name: &'static str,
    pub data: Value,
}

/// The snake_case name of an engine event on the wire.
pub(crate) fn wire_name(event: &Event) -> &'static str {
    match event {
        Event::Created { .. } => "created",
        Event::Rotated { .. } => "rotated",
        Event::MetadataUpdated { .. } => "metadata_updated",
        Event::Revoked { .. } => "revoked",
        Event::Deleted { .. } => "deleted",
        Event::Expired { .. } => "expired",
        Event::StateChanged { .. } => "state_changed",
        Event::ContextChanged { .. } => "context_changed",
        Event::CleanupCompleted { .. } => "cleanup_completed",
    }
}

/// An engine event's fields as JSON, without the variant tag.
pub(crate) fn wire_data(event: &Event) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("type");
    }
    value
}

/// Starts the feed of `session`'s user; items arrive on the returned receiver, which closes
/// after the final `auth` event or at shutdown.
async fn start_feed(
    server: &Server,
    session: Session,
) -> Result<mpsc::Receiver<FeedItem>, ApiError> {
    // Subscribe before listing, so no event falls between the two.
    let events = server.hub().subscribe();
    let user_sessions = user_session_ids(server, &session.user_id).await?;
    let (tx, rx) = mpsc::channel(64);
    let feed = Feed {
        server: server.clone(),
        own: session.id,
        user_id: session.user_id.clone(),
        sessions: user_sessions,
        tx,
    };
    tokio::spawn(feed.run(events, session.expires_at));
    Ok(rx)
}

async fn user_session_ids(server: &Server, user_id: &str) -> Result<HashSet<SessionId>, ApiError> {
    let user_id = user_id.to_owned();
    call(server.engine(), move |m| async move {
        let mut ids = HashSet::new();
        let mut options = ListOptions {
            limit: ListOptions::MAX_LIMIT,
            ..ListOptions::default()
        };
        loop {
            let page = m.list_user_sessions(&user_id, &options).await?;
            ids.extend(page.items.iter().map(|s| s.id));
            match page.next_cursor {
                Some(cursor) => options.cursor = Some(cursor),
                None => return Ok(ids),
            }
        }
    })
    .await
}

struct Feed {
    server: Server,
    own: SessionId,
    user_id: String,
    sessions: HashSet<SessionId>,
    tx: mpsc::Sender<FeedItem>,
}

/// Whether a feed goes on after an item.
enum Next {
    Continue,
    End,
}

impl Feed {
    async fn run(mut self, mut events: broadcast::Receiver<Event>, expires_at: i64) {
        let mut shutdown = self.server.shutdown_signal();
        let period = Duration::from_millis(self.server.config().heartbeat_ms.max(1));
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        if self
            .send("heartbeat", self.heartbeat_data(expires_at))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let next = tokio::select! {
                () = crate::stopped(&mut shutdown) => Next::End,
                () = self.tx.closed() => Next::End,
                _ = heartbeat.tick() => self.beat().await,
                received = events.recv() => match received {
                    Ok(event) => self.on_event(&event).await,
                    // Missed events: what matters is whether this session still stands.
                    Err(broadcast::error::RecvError::Lagged(_)) => self.beat().await,
                    Err(broadcast::error::RecvError::Closed) => Next::End,
                },
            };
            if let Next::End = next {
                return;
            }
        }
    }

    async fn send(&self, name: &'static str, data: Value) -> Result<(), ()> {
        self.tx.send(FeedItem { name, data }).await.map_err(|_| ())
    }

    fn heartbeat_data(&self, expires_at: i64) -> Value {
        json!({ "session_id": self.own, "expires_at": expires_at })
    }

    async fn end_with_auth(&self, reason: &str) -> Next {
        let _ = self.send("auth", json!({ "reason": reason })).await;
        Next::End
    }

    /// A heartbeat: the session as stored now (a read; it does not slide the expiry).
    async fn beat(&mut self) -> Next {
        let own = self.own;
        let now = self.server.manager().now();
        match call(
            self.server.engine(),
            move |m| async move { m.get(&own).await },
        )
        .await
        {
            Ok(session) => match session.status_at(now) {
                SessionStatus::Active => {
                    match self
                        .send("heartbeat", self.heartbeat_data(session.expires_at))
                        .await
                    {
                        Ok(()) => Next::Continue,
                        Err(()) => Next::End,
                    }
                }
                SessionStatus::Revoked => self.end_with_auth("revoked").await,
                SessionStatus::Expired => self.end_with_auth("expired").await,
            },
            Err(e) if matches!(e.error(), Error::NotFound) => self.end_with_auth("deleted").await,
            // The store did not answer: say so, and let the client reconnect later.
            Err(e) => {
                let _ = self
                    .send("error", json!({ "error": error_body(e.error()) }))
                    .await;
                Next::End
            }
        }
    }

    async fn on_event(&mut self, event: &Event) -> Next {
        let relevant = match event {
            Event::Created {
                session_id,
                user_id,
            } if *user_id == self.user_id => {
                self.sessions.insert(*session_id);
                true
            }
            Event::Rotated {
                old_session_id,
                session_id,
                user_id,
            } if *user_id == self.user_id => {
                self.sessions.remove(old_session_id);
                self.sessions.insert(*session_id);
                true
            }
            Event::MetadataUpdated { session_id }
            | Event::Revoked { session_id }
            | Event::Deleted { session_id }
            | Event::Expired { session_id }
            | Event::StateChanged { session_id, .. }
            | Event::ContextChanged { session_id, .. } => self.sessions.contains(session_id),
            _ => false,
        };
        if !relevant {
            return Next::Continue;
        }
        if self.send(wire_name(event), wire_data(event)).await.is_err() {
            return Next::End;
        }
        match event {
            Event::Revoked { session_id } if *session_id == self.own => {
                self.end_with_auth("revoked").await
            }
            Event::Deleted { session_id } if *session_id == self.own => {
                self.end_with_auth("deleted").await
            }
            Event::Expired { session_id } if *session_id == self.own => {
                self.end_with_auth("expired").await
            }
            Event::Rotated { old_session_id, .. } if *old_session_id == self.own => {
                self.end_with_auth("rotated").await
            }
            Event::Expired { session_id } | Event::Deleted { session_id } => {
                self.sessions.remove(session_id);
                Next::Continue
            }
            _ => Next::Continue,
        }
    }
}

/// `GET /v1/session/events`: this user's events as Server-Sent Events.
#[utoipa::path(
    get,
    path = "/v1/session/events",
    tag = "client",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "An event stream (text/event-stream): the §4 events of \
            this user, `heartbeat` every heartbeat_ms with `expires_at`, and a final `auth` \
            event when this session stops being valid", content_type = "text/event-stream", body = String),
        (status = 401, description = "Not a valid session", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn sse(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let feed = start_feed(&server, session).await?;
    let stream = ReceiverStream::new(feed).map(|item| {
        Ok(SseEvent::default()
            .event(item.name)
            .data(item.data.to_string()))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// `GET /v1/session/ws`: the same events over a WebSocket. A browser cannot set headers on a
/// WebSocket, so the token comes in the first message (`{"token": "..."}`); a client that can
/// may send `Authorization: Bearer` instead. Messages are `{"event": name, "data": {...}}`.
#[utoipa::path(
    get,
    path = "/v1/session/ws",
    tag = "client",
    responses(
        (status = 101, description = "Switching to a WebSocket; first client message \
            `{\"token\": \"...\"}` unless an Authorization header was sent"),
        (status = 400, description = "Not a WebSocket upgrade", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn ws(
    State(server): State<Server>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiError::invalid("upgrade", rejection.body_text()).into_response()
        }
    };
    // A browser sends its cookies with a WebSocket upgrade from any site: in cookie mode the
    // cookie counts only from an allowed origin.
    let header_token = match crate::extract::bearer(&headers) {
        Some(token) => Some(token.to_owned()),
        None if server.config().cookie_mode => {
            match crate::cookie_mode::read(&headers, crate::cookie_mode::SESSION_COOKIE) {
                Some(token) => {
                    if let Err(e) = crate::cookie_mode::check_origin(&server, &headers) {
                        return e.into_response();
                    }
                    Some(token)
                }
                None => None,
            }
        }
        None => None,
    };
    let context = request_context(&server, &headers, &extensions);
    upgrade.on_upgrade(move |socket| ws_session(server, socket, header_token, context))
}

async fn ws_session(
    server: Server,
    mut socket: WebSocket,
    header_token: Option<String>,
    context: sessionkit::RequestContext,
) {
    let token = match header_token {
        Some(token) => Some(token),
        None => match tokio::time::timeout(WS_AUTH_TIMEOUT, socket.recv()).await {
            Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<Value>(text.as_str())
                .ok()
                .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned)),
            _ => None,
        },
    };
    let session = match token {
        Some(token) => {
            call(server.engine(), move |m| async move {
                m.validate_in_context(&token, &context).await
            })
            .await
        }
        None => Err(Error::InvalidToken.into()),
    };
    let session = match session {
        Ok(session) => session,
        Err(e) => {
            let body = json!({ "error": error_body(e.error()) }).to_string();
            let _ = socket.send(Message::Text(body.into())).await;
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
    };
    let Ok(mut feed) = start_feed(&server, session).await else {
        return;
    };
    loop {
        tokio::select! {
            item = feed.recv() => match item {
                Some(item) => {
                    let text = json!({ "event": item.name, "data": item.data }).to_string();
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

//! # sessionkit-server
//!
//! The HTTP API of sessionkit (docs/SPEC.md §8) as an axum [`Router`]: the client API (a
//! session authenticated by its bearer token), the admin API (the app's backend, by the admin
//! key), each user's events over Server-Sent Events or a WebSocket, health, readiness,
//! Prometheus metrics and the OpenAPI document. Every rule is the engine's: the handlers only
//! convert HTTP to engine calls and back, and run those calls off the async workers.
//!
//! ```no_run
//! use std::sync::Arc;
//! use sessionkit::{Config, MemoryStore, SessionManager};
//! use sessionkit_server::{Server, ServerConfig};
//!
//! # async fn run() -> std::io::Result<()> {
//! let manager = SessionManager::open(Arc::new(MemoryStore::new()), Config::default()).unwrap();
//! let server = Server::new(Arc::new(manager), "an admin key of 32 characters....", ServerConfig::default())
//!     .unwrap();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin;
mod auth;
mod blocking;
mod client;
mod cookie_mode;
mod demo;
mod error;
mod events;
mod extract;
mod listing;
mod metrics;
mod openapi;
mod ops;
mod state_api;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use sessionkit::SessionManager;
use tokio::sync::watch;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use auth::AuthSession;
pub use cookie_mode::{CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE};
pub use demo::demo_package_problem;
pub use error::ApiError;
pub use extract::STATE_MEDIA_TYPE;
pub use openapi::document as openapi_document;

/// How the server behaves; every field has a default.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Heartbeat period of the event streams, in ms (default 25 s).
    pub heartbeat_ms: u64,
    /// Background cleanup period, in ms (default 5 min); 0 turns it off.
    pub cleanup_interval_ms: u64,
    /// The largest request body accepted, in bytes (default: the engine's `state_max_bytes`
    /// plus 64 KiB for the JSON around it).
    pub body_limit: Option<usize>,
    /// Origins allowed to call the API from a browser (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// A header a trusted reverse proxy sets to the client's address (e.g. `x-forwarded-for`);
    /// its last entry is the client IP given to the context signal. Unset (default): the peer
    /// address. Only set it behind a proxy that overwrites the header.
    pub trusted_proxy_header: Option<String>,
    /// Browser cookie mode: `POST /v1/session/cookie` exchanges a bearer token for an
    /// `HttpOnly; Secure; SameSite=Lax` `__Host-` cookie that then authenticates the client API,
    /// with a double-submit CSRF guard on unsafe methods (default off).
    pub cookie_mode: bool,
    /// Serves the demo page at `/` (on the npm package's `SessionClient`, see `demo_package`)
    /// and a demo-only sign-in route (`POST /demo/sign-in`).
    /// Never turn this on for real users: anyone can sign in as anyone.
    pub demo: bool,
    /// The built npm package the demo page runs on (`web/` after `npm run build`, or an
    /// installed `node_modules/sessionkit`): its `src/*.js` and `dist/wasm/*` are served under
    /// `/demo/pkg/`. Without it the demo page says how to build it.
    pub demo_package: Option<std::path::PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            heartbeat_ms: 25_000,
            cleanup_interval_ms: 5 * 60_000,
            body_limit: None,
            cors_origins: Vec::new(),
            trusted_proxy_header: None,
            cookie_mode: false,
            demo: false,
            demo_package: None,
        }
    }
}

/// The server: the engine, the admin key, the event hub and the metrics, shared by every
/// request. Cheap to clone.
#[derive(Clone)]
pub struct Server(Arc<Inner>);

struct Inner {
    engine: blocking::Engine,
    admin_key: auth::AdminKey,
    config: ServerConfig,
    hub: events::EventHub,
    metrics: metrics::Metrics,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server over `manager`, with the admin key (at least 16 characters once trimmed) and
    /// settings. Invalid settings are `InvalidInput`.
    pub fn new(
        manager: Arc<SessionManager>,
        admin_key: &str,
        config: ServerConfig,
    ) -> sessionkit::Result<Server> {
        let admin_key = auth::AdminKey::new(admin_key)?;
        for origin in &config.cors_origins {
            HeaderValue::from_str(origin).map_err(|_| {
                sessionkit::Error::invalid_input(
                    "cors_origin",
                    format!("not a header value: {origin:?}"),
                )
            })?;
        }
        let hub = events::EventHub::new(&manager);
        Ok(Server(Arc::new(Inner {
            engine: blocking::Engine::new(manager),
            admin_key,
            config,
            hub,
            metrics: metrics::Metrics::new(),
            shutdown: watch::channel(false).0,
        })))
    }

    /// The engine behind the server.
    pub fn manager(&self) -> &Arc<SessionManager> {
        self.0.engine.manager()
    }

    /// The engine as request handlers call it (bounded slots; see `blocking`).
    pub(crate) fn engine(&self) -> &blocking::Engine {
        &self.0.engine
    }

    /// The server's settings.
    pub fn config(&self) -> &ServerConfig {
        &self.0.config
    }

    /// Delivers an event that happened in another process sharing this server's database (a
    /// relay between servers, e.g. `sessionkit_postgres::PostgresEventRelay`) to this server's
    /// push channels, as the local engine's events are. The manager's own listeners do not see
    /// it: the change was made, and announced, elsewhere.
    pub fn relay_event(&self, event: sessionkit::Event) {
        self.0.hub.relay(event);
    }

    fn hub(&self) -> &events::EventHub {
        &self.0.hub
    }

    fn metrics(&self) -> &metrics::Metrics {
        &self.0.metrics
    }

    fn admin_key_matches(&self, key: &str) -> bool {
        self.0.admin_key.matches(key)
    }

    fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.0.shutdown.subscribe()
    }

    /// Ends every open event stream; called when the server shuts down.
    pub fn close_streams(&self) {
        self.0.shutdown.send_replace(true);
    }

    /// The whole API as a router with its state applied: nest or merge it into an app's own.
    pub fn router(&self) -> Router {
        let limit = self.0.config.body_limit.unwrap_or_else(|| {
            usize::try_from(self.manager().config().state_max_bytes)
                .unwrap_or(usize::MAX)
                .saturating_add(64 * 1024)
        });
        let client = Router::new()
            .route(
                "/v1/session",
                get(client::validate).delete(client::sign_out),
            )
            .route("/v1/session/rotate", post(client::rotate))
            .route(
                "/v1/session/metadata",
                axum::routing::patch(client::patch_metadata),
            )
            .route(
                "/v1/session/state",
                get(client::get_state)
                    .put(client::put_state)
                    .patch(client::patch_state)
                    .delete(client::clear_state),
            )
            .route("/v1/session/devices", get(client::devices))
            .route(
                "/v1/session/devices/revoke-others",
                post(client::revoke_others),
            )
            .route(
                "/v1/session/devices/{id}",
                axum::routing::delete(client::revoke_device),
            )
            .route("/v1/session/events", get(events::sse))
            .route("/v1/session/ws", get(events::ws));
        let admin = Router::new()
            .route("/v1/admin/sessions", post(admin::create))
            .route("/v1/admin/validate", post(admin::validate))
            .route(
                "/v1/admin/sessions/{id}",
                get(admin::get).delete(admin::delete),
            )
            .route("/v1/admin/sessions/{id}/revoke", post(admin::revoke))
            .route(
                "/v1/admin/sessions/{id}/state",
                get(admin::get_state)
                    .put(admin::put_state)
                    .patch(admin::patch_state)
                    .delete(admin::clear_state),
            )
            .route(
                "/v1/admin/users/{user_id}/sessions",
                get(admin::user_sessions),
            )
            .route("/v1/admin/users/{user_id}/revoke", post(admin::revoke_user))
            .route(
                "/v1/admin/users/{user_id}",
                axum::routing::delete(admin::delete_user),
            )
            .route("/v1/admin/revoke-all", post(admin::revoke_all))
            .route("/v1/admin/stats", get(admin::stats))
            .route("/v1/admin/cleanup", post(admin::cleanup))
            .route_layer(axum::middleware::from_fn_with_state(
                self.clone(),
                auth::require_admin,
            ));
        let ops = Router::new()
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(ops::readyz))
            .route("/metrics", get(ops::metrics))
            .route("/v1/openapi.json", get(ops::openapi));
        let mut router = client.merge(admin).merge(ops);
        if self.0.config.cookie_mode {
            router = router.route(
                "/v1/session/cookie",
                post(cookie_mode::exchange).delete(cookie_mode::remove),
            );
        }
        if self.0.config.demo {
            router = router.merge(demo::routes());
        }
        let mut router = router
            .fallback(|| async { ApiError::no_route() })
            .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
            .layer(DefaultBodyLimit::max(limit))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                metrics::track,
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                |_: Box<dyn std::any::Any + Send>| {
                    axum::response::IntoResponse::into_response(ApiError::internal(
                        "the request failed",
                    ))
                },
            ));
        if let Some(cors) = self.cors() {
            router = router.layer(cors);
        }
        router.with_state(self.clone())
    }

    fn cors(&self) -> Option<CorsLayer> {
        let origins: Vec<HeaderValue> = self
            .0
            .config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        if origins.is_empty() {
            return None;
        }
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::IF_MATCH,
                    header::ACCEPT,
                    HeaderName::from_static(cookie_mode::CSRF_HEADER),
                ])
                .allow_credentials(self.0.config.cookie_mode)
                .expose_headers([header::ETAG, header::WWW_AUTHENTICATE, header::RETRY_AFTER])
                .max_age(Duration::from_secs(600)),
        )
    }

    /// Removes expired sessions now (what the background cleanup does); returns how many.
    pub async fn run_cleanup(&self) -> Result<u64, ApiError> {
        let removed =
            blocking::call_unbounded(self.manager(), |m| async move { m.cleanup_expired().await })
                .await?;
        self.metrics().cleanup_ran(removed);
        Ok(removed)
    }

    fn spawn_cleanup(&self) -> Option<tokio::task::JoinHandle<()>> {
        let period = self.0.config.cleanup_interval_ms;
        if period == 0 {
            return None;
        }
        let server = self.clone();
        let mut stop = self.shutdown_signal();
        Some(tokio::spawn(async move {
            let period = Duration::from_millis(period);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                tokio::select! {
                    () = stopped(&mut stop) => return,
                    _ = tick.tick() => match server.run_cleanup().await {
                        Ok(removed) => tracing::info!(removed, "cleanup"),
                        Err(e) => tracing::warn!(error = %e.error(), "cleanup failed"),
                    },
                }
            }
        }))
    }

    /// Serves the API on `listener` until `shutdown` completes, then stops accepting, ends the
    /// event streams, finishes in-flight requests and returns. Runs the background cleanup
    /// meanwhile.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let cleanup = self.spawn_cleanup();
        let closer = self.clone();
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                closer.close_streams();
            })
            .await;
        self.close_streams();
        if let Some(cleanup) = cleanup {
            let _ = cleanup.await;
        }
        result
    }
}

/// Completes once the server shuts down.
async fn stopped(signal: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: the server is gone too.
    let _ = signal.wait_for(|stop| *stop).await;
}

/// A header name the API reads besides the standard ones.
pub const ADMIN_KEY_HEADER: HeaderName = HeaderName::from_static("x-admin-key");

//! `/metrics` in the Prometheus (OpenMetrics) text format: requests by route, method and
//! status, their latency, live sessions and cleanups. Routes are the matched path templates
//! (`/v1/admin/sessions/{id}`), so ids never become labels.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::Server;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The server's metrics and their registry.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    live_sessions: Gauge,
    cleanups: Counter,
    cleanup_removed: Counter,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("sessionkit");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
        });
        let live_sessions = Gauge::default();
        let cleanups = Counter::default();
        let cleanup_removed = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "live_sessions",
            "Sessions neither revoked nor expired (at the last scrape)",
            live_sessions.clone(),
        );
        registry.register("cleanups", "Cleanup runs", cleanups.clone());
        registry.register(
            "cleanup_removed_sessions",
            "Expired sessions removed by cleanups",
            cleanup_removed.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            live_sessions,
            cleanups,
            cleanup_removed,
        }
    }

    pub(crate) fn cleanup_ran(&self, removed: u64) {
        self.cleanups.inc();
        self.cleanup_removed.inc_by(removed);
    }

    /// The text of a scrape, with the live-session gauge set to `live`.
    pub(crate) fn render(&self, live: u64) -> String {
        self.live_sessions
            .set(i64::try_from(live).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Counts and times every request (and logs it, without headers, bodies or query strings).
pub(crate) async fn track(State(server): State<Server>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let metrics = server.metrics();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        method = %method,
        route = %route,
        status,
        micros = elapsed.as_micros() as u64,
        "request"
    );
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status,
        })
        .inc();
    response
}

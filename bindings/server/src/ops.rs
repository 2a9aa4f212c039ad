//! Operations endpoints: liveness, readiness (the store answers), metrics and the OpenAPI
//! document.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::blocking::call;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, HealthDoc};
use crate::Server;

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = HealthDoc)))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = HealthDoc), (status = 503, body = ErrorBody)))]
pub(crate) async fn readyz(State(server): State<Server>) -> Result<Json<Value>, ApiError> {
    call(server.engine(), |m| async move { m.count_active().await }).await?;
    Ok(Json(json!({ "status": "ready" })))
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus (OpenMetrics) text", content_type = "application/openmetrics-text", body = String)))]
pub(crate) async fn metrics(State(server): State<Server>) -> Result<Response, ApiError> {
    let live = call(server.engine(), |m| async move { m.count_active().await }).await?;
    let text = server.metrics().render(live);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "This API as OpenAPI 3.1", body = Object)))]
pub(crate) async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

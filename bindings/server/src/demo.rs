//! The demo (`sessionkit serve --demo`): a page at `/` and a demo-only sign-in route. Anyone can
//! sign in as anyone here; it exists to show sessions, devices, events and state in a browser.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sessionkit::{ClientKind, NewSession};

use crate::blocking::call;
use crate::client::CreatedBody;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::Server;

const PAGE: &str = include_str!("demo/index.html");

pub(crate) fn routes() -> Router<Server> {
    Router::new()
        .route("/", get(page))
        .route("/demo/sign-in", post(sign_in))
}

async fn page() -> Response {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
            ),
        )],
        Html(PAGE),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    user_id: String,
    #[serde(default)]
    device: Option<String>,
}

/// Demo only: a session for any name, as an app's backend would create after a real sign-in.
async fn sign_in(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SignIn>,
) -> Result<Response, ApiError> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect::<String>());
    let mut new = NewSession::new(body.user_id, ClientKind::Web);
    new.device = body.device.or_else(|| Some("demo browser".into()));
    new.user_agent = user_agent;
    let created = call(server.engine(), move |m| async move { m.create(new).await }).await?;
    Ok((StatusCode::CREATED, Json(CreatedBody::from(created))).into_response())
}

//! The client API (SPEC §8): the caller is a session, authenticated by its own bearer token.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use sessionkit::{Error, Page, Session, SessionId};

use crate::auth::AuthSession;
use crate::blocking::call;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParam, QueryParams, RawBody};
use crate::listing::PageQuery;
use crate::openapi::{
    CreatedDoc, DevicePageDoc, ErrorBody, RevokedDoc, SessionDoc, StateDoc, VersionDoc,
};
use crate::state_api::{self, Caller};
use crate::Server;

/// A created or rotated session with its token, shown once.
#[derive(Serialize)]
pub(crate) struct CreatedBody {
    pub session: Session,
    pub token: String,
}

impl From<sessionkit::Created> for CreatedBody {
    fn from(created: sessionkit::Created) -> Self {
        CreatedBody {
            token: created.token.as_str().to_owned(),
            session: created.session,
        }
    }
}

/// A device list item: a session, marked when it is the caller's own.
#[derive(Serialize)]
struct Device {
    #[serde(flatten)]
    session: Session,
    current: bool,
}

#[utoipa::path(get, path = "/v1/session", tag = "client", security(("bearer" = [])),
    responses((status = 200, body = SessionDoc), (status = 401, body = ErrorBody)))]
pub(crate) async fn validate(AuthSession(session): AuthSession) -> Json<Session> {
    Json(session)
}

#[utoipa::path(delete, path = "/v1/session", tag = "client", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
pub(crate) async fn sign_out(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
) -> Result<Response, ApiError> {
    call(server.engine(), move |m| async move {
        m.revoke(&session.id).await
    })
    .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if server.config().cookie_mode {
        for value in crate::cookie_mode::clear_cookies() {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

#[utoipa::path(post, path = "/v1/session/rotate", tag = "client", security(("bearer" = [])),
    responses((status = 200, body = CreatedDoc), (status = 401, body = ErrorBody)))]
pub(crate) async fn rotate(
    State(server): State<Server>,
    headers: HeaderMap,
    AuthSession(session): AuthSession,
) -> Result<Response, ApiError> {
    let created = call(server.engine(), move |m| async move {
        m.rotate(&session.id).await
    })
    .await?;
    let by_cookie = server.config().cookie_mode && crate::extract::bearer(&headers).is_none();
    let (new_session, token) = (created.session.clone(), created.token.as_str().to_owned());
    let response = Json(CreatedBody::from(created)).into_response();
    if by_cookie {
        // The browser's cookie follows the rotation, or it would hold a dead token.
        return crate::cookie_mode::signed_in(&server, &new_session, &token, response)
            .map(|(r, _)| r);
    }
    Ok(response)
}

#[utoipa::path(patch, path = "/v1/session/metadata", tag = "client", security(("bearer" = [])),
    request_body(content = Object, description = "A JSON Merge Patch (RFC 7396): an object"),
    responses((status = 200, body = SessionDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn patch_metadata(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
    JsonBody(patch): JsonBody<Value>,
) -> Result<Json<Session>, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::invalid(
            "metadata",
            "a merge patch must be a JSON object",
        ));
    }
    let updated = call(server.engine(), move |m| async move {
        m.update_metadata(&session.id, &patch).await
    })
    .await?;
    Ok(Json(updated))
}

#[utoipa::path(get, path = "/v1/session/state", tag = "client", security(("bearer" = [])),
    responses((status = 200, body = StateDoc, headers(("ETag" = String))),
        (status = 204, description = "No state yet (ETag \"0\")"), (status = 401, body = ErrorBody)))]
pub(crate) async fn get_state(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state_api::get(&server, session.id, &headers).await
}

#[utoipa::path(put, path = "/v1/session/state", tag = "client", security(("bearer" = [])),
    request_body(content = crate::openapi::PutStateDoc),
    responses((status = 200, body = VersionDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(crate) async fn put_state(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    state_api::put(&server, session.id, &headers, body, Caller::Client).await
}

#[utoipa::path(patch, path = "/v1/session/state", tag = "client", security(("bearer" = [])),
    request_body(content = crate::openapi::PatchStateDoc),
    responses((status = 200, body = VersionDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(crate) async fn patch_state(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    state_api::patch(&server, session.id, &headers, body, Caller::Client).await
}

#[utoipa::path(delete, path = "/v1/session/state", tag = "client", security(("bearer" = [])),
    responses((status = 204, description = "Cleared"), (status = 401, body = ErrorBody)))]
pub(crate) async fn clear_state(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
) -> Result<Response, ApiError> {
    state_api::clear(&server, session.id).await
}

#[utoipa::path(get, path = "/v1/session/devices", tag = "client", security(("bearer" = [])),
    params(("active_only" = Option<bool>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000),
        ("cursor" = Option<String>, Query)),
    responses((status = 200, body = DevicePageDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn devices(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<Page<Value>>, ApiError> {
    let options = query.options()?;
    let user_id = session.user_id.clone();
    let page = call(server.engine(), move |m| async move {
        m.list_user_sessions(&user_id, &options).await
    })
    .await?;
    let items = page
        .items
        .into_iter()
        .map(|s| {
            let current = s.id == session.id;
            serde_json::to_value(Device {
                session: s,
                current,
            })
            .unwrap_or(Value::Null)
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(delete, path = "/v1/session/devices/{id}", tag = "client", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$", description = "A session id of the caller's user")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn revoke_device(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, ApiError> {
    let id = SessionId::parse(&id)?;
    call(server.engine(), move |m| async move {
        // Another user's session is as good as absent: 404, and nothing revoked.
        let target = m.get(&id).await?;
        if target.user_id != session.user_id {
            return Err(Error::NotFound);
        }
        m.revoke(&id).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/session/devices/revoke-others", tag = "client", security(("bearer" = [])),
    responses((status = 200, body = RevokedDoc), (status = 401, body = ErrorBody)))]
pub(crate) async fn revoke_others(
    State(server): State<Server>,
    AuthSession(session): AuthSession,
) -> Result<Json<Value>, ApiError> {
    let revoked = call(server.engine(), move |m| async move {
        m.revoke_user_sessions(&session.user_id, Some(&session.id))
            .await
    })
    .await?;
    Ok(Json(json!({ "revoked": revoked })))
}

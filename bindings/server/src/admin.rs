//! The admin API (SPEC §8): the app's backend, authenticated by the admin key, creates sessions
//! after it signed a user in, and manages any session by id.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sessionkit::{ClientKind, NewSession, Page, Session, SessionId, Stats};

use crate::blocking::call;
use crate::client::CreatedBody;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParam, QueryParams, RawBody};
use crate::listing::PageQuery;
use crate::openapi::{
    CreatedDoc, ErrorBody, NewSessionDoc, PageDoc, PatchStateDoc, PutStateDoc, RemovedDoc,
    RevokedDoc, SessionDoc, StateDoc, StatsDoc, VersionDoc,
};
use crate::state_api::{self, Caller};
use crate::Server;

/// `POST /v1/admin/sessions`: a NewSession, unknown fields refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSessionBody {
    user_id: String,
    client_kind: String,
    #[serde(default)]
    client_version: Option<String>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
}

impl NewSessionBody {
    pub(crate) fn into_new_session(self) -> Result<NewSession, ApiError> {
        Ok(NewSession {
            client_kind: ClientKind::parse(&self.client_kind)?,
            user_id: self.user_id,
            client_version: self.client_version,
            device: self.device,
            ip: self.ip,
            user_agent: self.user_agent,
            metadata: self.metadata,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidateBody {
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeUserBody {
    #[serde(default)]
    except: Option<String>,
}

fn session_id(text: &str) -> Result<SessionId, ApiError> {
    Ok(SessionId::parse(text)?)
}

#[utoipa::path(post, path = "/v1/admin/sessions", tag = "admin", security(("admin_key" = [])),
    request_body = NewSessionDoc,
    responses((status = 201, body = CreatedDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(crate) async fn create(
    State(server): State<Server>,
    JsonBody(body): JsonBody<NewSessionBody>,
) -> Result<Response, ApiError> {
    let new = body.into_new_session()?;
    let created = call(server.engine(), move |m| async move { m.create(new).await }).await?;
    Ok((StatusCode::CREATED, Json(CreatedBody::from(created))).into_response())
}

#[utoipa::path(post, path = "/v1/admin/validate", tag = "admin", security(("admin_key" = [])),
    request_body = crate::openapi::ValidateDoc,
    responses((status = 200, body = SessionDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn validate(
    State(server): State<Server>,
    JsonBody(body): JsonBody<ValidateBody>,
) -> Result<Json<Session>, ApiError> {
    let token = body.token;
    Ok(Json(
        call(
            server.engine(),
            move |m| async move { m.validate(&token).await },
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/v1/admin/sessions/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$")),
    responses((status = 200, body = SessionDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(server): State<Server>,
    PathParam(id): PathParam<String>,
) -> Result<Json<Session>, ApiError> {
    let id = session_id(&id)?;
    Ok(Json(
        call(server.engine(), move |m| async move { m.get(&id).await }).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/admin/sessions/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$")),
    responses((status = 204, description = "Deleted with its state"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn delete(
    State(server): State<Server>,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(&id)?;
    call(server.engine(), move |m| async move { m.delete(&id).await }).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/sessions/{id}/revoke", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn revoke(
    State(server): State<Server>,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(&id)?;
    call(server.engine(), move |m| async move { m.revoke(&id).await }).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/admin/sessions/{id}/state", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$")),
    responses((status = 200, body = StateDoc, headers(("ETag" = String))), (status = 204, description = "No state"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn get_state(
    State(server): State<Server>,
    PathParam(id): PathParam<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state_api::get(&server, session_id(&id)?, &headers).await
}

#[utoipa::path(put, path = "/v1/admin/sessions/{id}/state", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$")), request_body = PutStateDoc,
    responses((status = 200, body = VersionDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(crate) async fn put_state(
    State(server): State<Server>,
    PathParam(id): PathParam<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    state_api::put(&server, session_id(&id)?, &headers, body, Caller::Admin).await
}

#[utoipa::path(patch, path = "/v1/admin/sessions/{id}/state", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$")), request_body = PatchStateDoc,
    responses((status = 200, body = VersionDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(crate) async fn patch_state(
    State(server): State<Server>,
    PathParam(id): PathParam<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    state_api::patch(&server, session_id(&id)?, &headers, body, Caller::Admin).await
}

#[utoipa::path(delete, path = "/v1/admin/sessions/{id}/state", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9_-]{22}$")),
    responses((status = 204, description = "Cleared"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn clear_state(
    State(server): State<Server>,
    PathParam(id): PathParam<String>,
) -> Result<Response, ApiError> {
    state_api::clear(&server, session_id(&id)?).await
}

#[utoipa::path(get, path = "/v1/admin/users/{user_id}/sessions", tag = "admin", security(("admin_key" = [])),
    params(("user_id" = String, Path, min_length = 1, max_length = 256), ("active_only" = Option<bool>, Query),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = PageDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn user_sessions(
    State(server): State<Server>,
    PathParam(user_id): PathParam<String>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<Page<Session>>, ApiError> {
    let options = query.options()?;
    Ok(Json(
        call(server.engine(), move |m| async move {
            m.list_user_sessions(&user_id, &options).await
        })
        .await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/users/{user_id}/revoke", tag = "admin", security(("admin_key" = [])),
    params(("user_id" = String, Path, min_length = 1, max_length = 256)), request_body(content = crate::openapi::RevokeUserDoc, description = "Optional"),
    responses((status = 200, body = RevokedDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn revoke_user(
    State(server): State<Server>,
    PathParam(user_id): PathParam<String>,
    JsonBody(body): JsonBody<RevokeUserBody>,
) -> Result<Json<Value>, ApiError> {
    let except = body.except.as_deref().map(session_id).transpose()?;
    let revoked = call(server.engine(), move |m| async move {
        m.revoke_user_sessions(&user_id, except.as_ref()).await
    })
    .await?;
    Ok(Json(json!({ "revoked": revoked })))
}

#[utoipa::path(get, path = "/v1/admin/stats", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = StatsDoc), (status = 401, body = ErrorBody)))]
pub(crate) async fn stats(State(server): State<Server>) -> Result<Json<Stats>, ApiError> {
    Ok(Json(
        call(server.engine(), |m| async move { m.stats().await }).await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/cleanup", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = RemovedDoc), (status = 401, body = ErrorBody)))]
pub(crate) async fn cleanup(State(server): State<Server>) -> Result<Json<Value>, ApiError> {
    let removed = server.run_cleanup().await?;
    Ok(Json(json!({ "removed": removed })))
}

#[utoipa::path(post, path = "/v1/admin/revoke-all", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, description = "Every live session of every user revoked", body = RevokedDoc),
        (status = 401, body = ErrorBody)))]
pub(crate) async fn revoke_all(State(server): State<Server>) -> Result<Json<Value>, ApiError> {
    let revoked = call(
        server.engine(),
        |m| async move { m.revoke_all_sessions().await },
    )
    .await?;
    Ok(Json(json!({ "revoked": revoked })))
}

#[utoipa::path(delete, path = "/v1/admin/users/{user_id}", tag = "admin", security(("admin_key" = [])),
    params(("user_id" = String, Path, min_length = 1, max_length = 256)),
    responses((status = 200, description = "Every session and state of the user deleted (account \
        deletion, erasure)", body = RemovedDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn delete_user(
    State(server): State<Server>,
    PathParam(user_id): PathParam<String>,
) -> Result<Json<Value>, ApiError> {
    let removed = call(server.engine(), move |m| async move {
        m.delete_user_sessions(&user_id).await
    })
    .await?;
    Ok(Json(json!({ "removed": removed })))
}

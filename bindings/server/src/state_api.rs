//! State over HTTP (SPEC §3, §8), shared by the client API (the caller's own session) and the
//! admin API (any session by id): JSON or the encoded blob, versions as `ETag`, compare-and-swap
//! by `expected_version` or `If-Match`.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use sessionkit::{Error, SessionId};

use crate::blocking::call;
use crate::error::ApiError;
use crate::extract::{if_match, is_state_media, parse_json, STATE_MEDIA_TYPE};
use crate::Server;

/// Whether a conflict answer carries the current state (the client API's does).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    Client,
    Admin,
}

/// `PUT` body: the new state and the version it replaces.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    data: Value,
    #[serde(default)]
    expected_version: Option<u64>,
}

/// `PATCH` body: a JSON Merge Patch and the version it applies to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    patch: Value,
    #[serde(default)]
    expected_version: Option<u64>,
}

fn etag(version: u64) -> HeaderValue {
    // A decimal number in quotes is always a valid header value.
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The version a write expects: the body's or `If-Match`'s; both given and different is 400.
fn expected(headers: &HeaderMap, body: Option<u64>) -> Result<Option<u64>, ApiError> {
    match (body, if_match(headers)?) {
        (Some(a), Some(b)) if a != b => Err(ApiError::invalid(
            "expected_version",
            "differs from the If-Match header",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// `GET …/state`: 200 State (or the blob) with `ETag`, or 204 with `ETag: "0"`.
pub(crate) async fn get(
    server: &Server,
    id: SessionId,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if is_state_media(headers, header::ACCEPT) {
        let blob = call(server.engine(), move |m| async move {
            m.get_state_blob(&id).await
        })
        .await?;
        return Ok(match blob {
            Some(state) => (
                StatusCode::OK,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(STATE_MEDIA_TYPE),
                    ),
                    (header::ETAG, etag(state.version)),
                ],
                Body::from(state.blob),
            )
                .into_response(),
            None => no_state(),
        });
    }
    let state = call(
        server.engine(),
        move |m| async move { m.get_state(&id).await },
    )
    .await?;
    Ok(match state {
        Some(state) => {
            let version = state.version;
            let mut response = axum::Json(state).into_response();
            response.headers_mut().insert(header::ETAG, etag(version));
            response
        }
        None => no_state(),
    })
}

fn no_state() -> Response {
    (StatusCode::NO_CONTENT, [(header::ETAG, etag(0))]).into_response()
}

/// `PUT …/state`: JSON `{data, expected_version}` or an encoded blob; 200 `{version}`.
pub(crate) async fn put(
    server: &Server,
    id: SessionId,
    headers: &HeaderMap,
    body: Bytes,
    caller: Caller,
) -> Result<Response, ApiError> {
    let result = if is_state_media(headers, header::CONTENT_TYPE) {
        let expected = if_match(headers)?;
        call(server.engine(), move |m| async move {
            m.put_state_blob(&id, &body, expected).await
        })
        .await
    } else {
        let PutBody {
            data,
            expected_version,
        } = parse_json(&body)?;
        let expected = expected(headers, expected_version)?;
        call(server.engine(), move |m| async move {
            m.put_state(&id, &data, expected).await
        })
        .await
    };
    written(server, id, result, caller).await
}

/// `PATCH …/state`: `{patch, expected_version}`; 200 `{version}`.
pub(crate) async fn patch(
    server: &Server,
    id: SessionId,
    headers: &HeaderMap,
    body: Bytes,
    caller: Caller,
) -> Result<Response, ApiError> {
    let PatchBody {
        patch,
        expected_version,
    } = parse_json(&body)?;
    let expected = expected(headers, expected_version)?;
    let result = call(server.engine(), move |m| async move {
        m.patch_state(&id, &patch, expected).await
    })
    .await;
    written(server, id, result, caller).await
}

/// `DELETE …/state`: 204.
pub(crate) async fn clear(server: &Server, id: SessionId) -> Result<Response, ApiError> {
    call(
        server.engine(),
        move |m| async move { m.clear_state(&id).await },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn written(
    server: &Server,
    id: SessionId,
    result: Result<u64, ApiError>,
    caller: Caller,
) -> Result<Response, ApiError> {
    match result {
        Ok(version) => {
            let mut response = axum::Json(json!({ "version": version })).into_response();
            response.headers_mut().insert(header::ETAG, etag(version));
            Ok(response)
        }
        Err(e) if caller == Caller::Client && matches!(e.error(), Error::Conflict { .. }) => {
            // The current state rides along so the client can rebase without another request.
            let current = call(
                server.engine(),
                move |m| async move { m.get_state(&id).await },
            )
            .await
            .ok()
            .flatten();
            let state = current.map_or(Value::Null, |s| {
                serde_json::to_value(s).unwrap_or(Value::Null)
            });
            Err(e.with_conflict_state(state))
        }
        Err(e) => Err(e),
    }
}

//! Browser cookie mode (SPEC §11): the session token in an `HttpOnly; Secure; SameSite=Lax`
//! cookie named with the `__Host-` prefix instead of an `Authorization` header, with a
//! double-submit CSRF guard on unsafe methods (a readable `__Host-` cookie whose value must come
//! back in the `X-CSRF-Token` header) and an Origin check. Off unless `ServerConfig::cookie_mode`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::{Cookie, SameSite};
use serde_json::json;
use sessionkit::{Error, Session};
use subtle::ConstantTimeEq;

use crate::auth::AuthSession;
use crate::error::ApiError;
use crate::Server;

/// The cookie holding the session token (HttpOnly: scripts never see it).
pub const SESSION_COOKIE: &str = "__Host-sessionkit";
/// The cookie holding the CSRF token (readable by the page's scripts, sent back as a header).
pub const CSRF_COOKIE: &str = "__Host-sessionkit-csrf";
/// The header that must carry the CSRF cookie's value on unsafe methods.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of the cookie `name` in the request, if any.
pub(crate) fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Refuses an unsafe request authenticated by cookie unless it carries the CSRF cookie's value
/// in `X-CSRF-Token` and, when it names an Origin, that origin is this server or an allowed one.
pub(crate) fn check_csrf(
    server: &Server,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    check_origin(server, headers)?;
    let header = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let cookie = read(headers, CSRF_COOKIE);
    match (header, cookie) {
        (Some(h), Some(c)) if !c.is_empty() && bool::from(h.as_bytes().ct_eq(c.as_bytes())) => {
            Ok(())
        }
        _ => Err(ApiError::invalid(
            CSRF_HEADER,
            "a cookie-authenticated request that changes something must send the CSRF cookie's \
             value in X-CSRF-Token",
        )),
    }
}

/// A request naming an Origin must come from this server's own origin or an allowed one.
pub(crate) fn check_origin(server: &Server, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let same_origin = host.is_some_and(|host| {
        origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            == Some(host)
    });
    if same_origin || server.config().cors_origins.iter().any(|o| o == origin) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "origin",
            "this origin may not use the session cookie",
        ))
    }
}

fn cookie_header(cookie: Cookie<'_>) -> HeaderValue {
    // Cookie values here are base64url and fixed names: always valid header text.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// The two `Set-Cookie` values that sign a browser in with `token`.
pub(crate) fn set_cookies(token: &str, csrf: &str, max_age_s: i64) -> [HeaderValue; 2] {
    let max_age = cookie::time::Duration::seconds(max_age_s.max(0));
    let session = Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    let csrf = Cookie::build((CSRF_COOKIE, csrf.to_owned()))
        .path("/")
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    [cookie_header(session), cookie_header(csrf)]
}

/// The two `Set-Cookie` values that remove the cookies.
pub(crate) fn clear_cookies() -> [HeaderValue; 2] {
    [SESSION_COOKIE, CSRF_COOKIE].map(|name| {
        let mut c = Cookie::build((name, "")).path("/").secure(true).build();
        c.make_removal();
        cookie_header(c)
    })
}

fn new_csrf_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::internal("no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Adds the cookies that sign the browser in with `token` (for `session`) to `response`;
/// returns it with the CSRF token the page must send back.
pub(crate) fn signed_in(
    server: &Server,
    session: &Session,
    token: &str,
    mut response: Response,
) -> Result<(Response, String), ApiError> {
    let csrf = new_csrf_token()?;
    let max_age_s = (session.absolute_expires_at - server.manager().now()) / 1000;
    for value in set_cookies(token, &csrf, max_age_s) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok((response, csrf))
}

/// `POST /v1/session/cookie`: exchanges the bearer token of a valid session for the session
/// cookie (and a fresh CSRF cookie, whose value is also in the body).
#[utoipa::path(post, path = "/v1/session/cookie", tag = "client", security(("bearer" = [])),
    responses((status = 200, description = "Cookies set; body {\"csrf_token\": ...}", body = Object),
        (status = 401, body = crate::openapi::ErrorBody)))]
pub(crate) async fn exchange(
    State(server): State<Server>,
    headers: HeaderMap,
    AuthSession(session): AuthSession,
) -> Result<Response, ApiError> {
    let token = crate::extract::bearer(&headers).ok_or(Error::InvalidToken)?;
    check_origin(&server, &headers)?;
    let (mut response, csrf) = signed_in(&server, &session, token, StatusCode::OK.into_response())?;
    let body = Json(json!({ "csrf_token": csrf })).into_response();
    *response.body_mut() = body.into_body();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// `DELETE /v1/session/cookie`: removes the cookies (the session stays valid; `DELETE
/// /v1/session` signs out and removes them too).
#[utoipa::path(delete, path = "/v1/session/cookie", tag = "client",
    responses((status = 204, description = "Cookies removed")))]
pub(crate) async fn remove() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    for value in clear_cookies() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

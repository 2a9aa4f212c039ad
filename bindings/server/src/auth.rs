//! Who is calling: a session by its bearer token (the client API, and [`AuthSession`] for an
//! app's own handlers), or the app's backend by the admin key.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use sessionkit::{Error, RequestContext, Session};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::blocking::call;
use crate::error::ApiError;
use crate::extract::bearer;
use crate::Server;

/// The validated session of a request, for an app's own handlers: `validate` ran on the
/// request's bearer token (sliding its expiry), or the request was refused with 401.
///
/// ```no_run
/// use axum::{routing::get, Router};
/// use sessionkit_server::{AuthSession, Server};
///
/// async fn profile(AuthSession(session): AuthSession) -> String {
///     format!("hello {}", session.user_id)
/// }
///
/// # fn app(server: Server) -> Router {
/// Router::new()
///     .route("/profile", get(profile))
///     .with_state(server.clone())
///     .merge(server.router())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AuthSession(pub Session);

impl<S> FromRequestParts<S> for AuthSession
where
    S: Send + Sync,
    Server: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let server = Server::from_ref(state);
        authenticate(&server, &parts.method, &parts.headers, &parts.extensions)
            .await
            .map(AuthSession)
    }
}

/// Validates the request's token in the request's context (peer address or the trusted proxy
/// header, User-Agent): the caller's session, or 401.
pub(crate) async fn authenticate(
    server: &Server,
    method: &Method,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Result<Session, ApiError> {
    let token = credential(server, method, headers)?;
    let context = request_context(server, headers, extensions);
    call(server.engine(), move |m| async move {
        m.validate_in_context(&token, &context).await
    })
    .await
}

/// The request's token: its `Authorization: Bearer` header, or in cookie mode the session
/// cookie — for a method that changes something, only with the CSRF guard passed.
pub(crate) fn credential(
    server: &Server,
    method: &Method,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    if let Some(token) = bearer(headers) {
        return Ok(token.to_owned());
    }
    if server.config().cookie_mode {
        if let Some(token) = crate::cookie_mode::read(headers, crate::cookie_mode::SESSION_COOKIE) {
            crate::cookie_mode::check_csrf(server, method, headers)?;
            return Ok(token);
        }
    }
    Err(Error::InvalidToken.into())
}

/// Where the request came from: the client address (from the configured trusted proxy header
/// when there is one — its last entry, the one the nearest proxy wrote — else the peer) and the
/// User-Agent. Unknown parts stay `None` and never count as a change.
pub(crate) fn request_context(
    server: &Server,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> RequestContext {
    let from_proxy = server
        .config()
        .trusted_proxy_header
        .as_deref()
        .and_then(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            let last = value.rsplit(',').next()?.trim();
            last.parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| ip.to_string())
        });
    let ip = from_proxy.or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string())
    });
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    RequestContext { ip, user_agent }
}

/// The admin key, kept only as its SHA-256 digest and compared in constant time.
pub(crate) struct AdminKey([u8; 32]);

impl AdminKey {
    /// The shortest key accepted.
    pub(crate) const MIN_LEN: usize = 16;

    pub(crate) fn new(key: &str) -> sessionkit::Result<Self> {
        let key = key.trim();
        if key.len() < Self::MIN_LEN {
            return Err(Error::invalid_input(
                "admin_key",
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        Ok(AdminKey(Sha256::digest(key.as_bytes()).into()))
    }

    /// Whether `given` is the key (hashing first makes the comparison independent of length).
    pub(crate) fn matches(&self, given: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        bool::from(digest.ct_eq(&self.0))
    }
}

/// Lets a request through to the admin API only with the admin key, as
/// `Authorization: Bearer <key>` (or `X-Admin-Key: <key>`).
pub(crate) async fn require_admin(
    State(server): State<Server>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let given = bearer(headers).or_else(|| {
        headers
            .get("x-admin-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    });
    match given {
        Some(key) if server.admin_key_matches(key) => Ok(next.run(request).await),
        _ => Err(Error::InvalidToken.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_key_matches_itself_only() {
        let key = AdminKey::new("  0123456789abcdef0123456789abcdef\n").unwrap();
        assert!(key.matches("0123456789abcdef0123456789abcdef"));
        assert!(!key.matches("0123456789abcdef0123456789abcdeF"));
        assert!(!key.matches(""));
        assert!(AdminKey::new("short").is_err());
    }
}

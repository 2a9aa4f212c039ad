//! Request parsing with the API's own errors: every malformed body, unknown field, wrong type,
//! bad query parameter or path segment is a 400 `InvalidInput` naming what was wrong, and a body
//! above the bound is 413 — never axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The media type of an encoded state blob (SPEC §3, §8).
pub const STATE_MEDIA_TYPE: &str = "application/vnd.sessionkit.state";

/// A request body read whole, within the router's body limit.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::body_too_large())
            }
            Err(rejection) => Err(ApiError::invalid("body", rejection.body_text())),
        }
    }
}

/// A JSON body parsed into `T` (whose fields are checked by `T`'s `Deserialize`, unknown ones
/// refused). The content type is not insisted on: what counts is that the body is JSON.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body; an empty body reads as `{}` so routes whose fields are all optional
/// accept none.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid("body", e.to_string()))
}

/// Query parameters parsed into `T` (unknown parameters refused by `T`).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(QueryParams)
            .map_err(|e| ApiError::invalid("query", e.to_string()))
    }
}

/// Path parameters, with the API's error on a malformed segment.
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParam(value)),
            Err(rejection) => Err(ApiError::invalid("path", rejection.body_text())),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether the request's `Content-Type` is the encoded state's.
pub fn is_state_media(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|part| media_type(part) == STATE_MEDIA_TYPE)
        })
}

fn media_type(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}

/// The version of an `If-Match: "<n>"` header, if there is one; a value that is not a quoted
/// (or bare) version number is `InvalidInput`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::invalid("If-Match", "not text"))?
        .trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| ApiError::invalid("If-Match", "expected a state version such as \"3\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header_only() {
        assert_eq!(
            bearer(&headers(header::AUTHORIZATION, "Bearer abc.def")),
            Some("abc.def")
        );
        assert_eq!(
            bearer(&headers(header::AUTHORIZATION, "bearer abc")),
            Some("abc")
        );
        assert_eq!(bearer(&headers(header::AUTHORIZATION, "Basic abc")), None);
        assert_eq!(bearer(&headers(header::AUTHORIZATION, "Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn if_match_takes_quoted_or_bare_versions() {
        assert_eq!(
            if_match(&headers(header::IF_MATCH, "\"3\"")).unwrap(),
            Some(3)
        );
        assert_eq!(if_match(&headers(header::IF_MATCH, "0")).unwrap(), Some(0));
        assert_eq!(
            if_match(&headers(header::IF_MATCH, "W/\"5\"")).unwrap(),
            Some(5)
        );
        assert!(if_match(&headers(header::IF_MATCH, "\"x\"")).is_err());
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn empty_bodies_read_as_an_empty_object() {
        let v: serde_json::Value = parse_json(b"").unwrap();
        assert_eq!(v, serde_json::json!({}));
        assert!(parse_json::<serde_json::Value>(b"{").is_err());
    }
}

//! Errors as the HTTP API answers them (SPEC §8): the engine's error kinds mapped to statuses,
//! with the body `{"error": {"kind", "message", <the variant's fields>}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sessionkit::Error;

/// An error answer. Built from an engine [`Error`] (the common case) or by the HTTP layer itself
/// for what only it can see (an unknown path, a wrong method, a body too large).
#[derive(Debug)]
pub struct ApiError {
    error: Error,
    status: Option<StatusCode>,
    /// On the client API, a `Conflict` carries the current state so the client can rebase.
    conflict_state: Option<Value>,
    /// A message in place of the error's own (for answers the engine did not give).
    message: Option<&'static str>,
}

impl ApiError {
    /// `InvalidInput` on `field`: 400.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Error::invalid_input(field, reason).into()
    }

    /// An unknown path: 404 `NotFound`.
    pub fn no_route() -> Self {
        ApiError {
            message: Some("no such route"),
            ..Error::NotFound.into()
        }
    }

    /// A known path with a method it does not serve: 405 `InvalidInput`.
    pub fn method_not_allowed() -> Self {
        ApiError {
            status: Some(StatusCode::METHOD_NOT_ALLOWED),
            ..Error::invalid_input("method", "this path does not serve this method").into()
        }
    }

    /// A request body above the configured bound: 413 `LimitExceeded`.
    pub fn body_too_large() -> Self {
        Error::limit_exceeded("request_body").into()
    }

    /// A failure of the server itself (a task that did not finish): 500 `Storage`.
    pub fn internal(message: &str) -> Self {
        Error::storage(message).into()
    }

    /// Adds the current state (or `null`) to a `Conflict` body.
    pub fn with_conflict_state(mut self, state: Value) -> Self {
        self.conflict_state = Some(state);
        self
    }

    /// The engine error this answer carries.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The HTTP status of this answer.
    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| status_of(&self.error))
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError {
            error,
            status: None,
            conflict_state: None,
            message: None,
        }
    }
}

/// The status SPEC §8 gives each kind.
pub fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::InvalidToken | Error::Expired | Error::Revoked => StatusCode::UNAUTHORIZED,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::LimitExceeded { what } if is_size(what) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::LimitExceeded { .. } => StatusCode::CONFLICT,
        Error::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        Error::Corrupt { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        Error::IncompatibleSchema { .. } | Error::Storage { .. } => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Whether a `LimitExceeded` names a size (413) rather than a count (409).
fn is_size(what: &str) -> bool {
    what.ends_with("_bytes") || what == "request_body"
}

/// The `{"error": {...}}` body of an engine error.
pub fn error_body(error: &Error) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("kind".into(), json!(error.kind().as_str()));
    body.insert("message".into(), json!(error.to_string()));
    match error {
        Error::Conflict { current_version } => {
            body.insert("current_version".into(), json!(current_version));
        }
        Error::LimitExceeded { what } => {
            body.insert("what".into(), json!(what));
        }
        Error::InvalidInput { field, reason } => {
            body.insert("field".into(), json!(field));
            body.insert("reason".into(), json!(reason));
        }
        Error::Corrupt { what } => {
            body.insert("what".into(), json!(what));
        }
        Error::IncompatibleSchema { found, supported } => {
            body.insert("found".into(), json!(found));
            body.insert("supported".into(), json!(supported));
        }
        Error::Storage { message } => {
            body.insert("message".into(), json!(format!("storage error: {message}")));
        }
        Error::InvalidToken | Error::NotFound | Error::Expired | Error::Revoked => {}
    }
    body
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = error_body(&self.error);
        if let Some(message) = self.message {
            body.insert("message".into(), json!(message));
        }
        if let (Error::Conflict { .. }, Some(state)) = (&self.error, self.conflict_state) {
            body.insert("state".into(), state);
        }
        let mut response = (status, axum::Json(json!({ "error": body }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_the_status_of_the_table() {
        let cases = [
            (Error::InvalidToken, 401),
            (Error::Expired, 401),
            (Error::Revoked, 401),
            (Error::NotFound, 404),
            (Error::Conflict { current_version: 3 }, 409),
            (Error::limit_exceeded("state_max_bytes"), 413),
            (Error::limit_exceeded("request_body"), 413),
            (Error::limit_exceeded("max_sessions_per_user"), 409),
            (Error::invalid_input("x", "y"), 400),
            (Error::corrupt("state"), 500),
            (
                Error::IncompatibleSchema {
                    found: 9,
                    supported: 3,
                },
                503,
            ),
            (Error::storage("disk"), 503),
        ];
        for (error, status) in cases {
            assert_eq!(status_of(&error).as_u16(), status, "{error:?}");
        }
        assert_eq!(ApiError::method_not_allowed().status().as_u16(), 405);
    }

    #[test]
    fn the_body_carries_the_variants_fields() {
        let body = error_body(&Error::Conflict { current_version: 7 });
        assert_eq!(body["kind"], "Conflict");
        assert_eq!(body["current_version"], 7);
        let body = error_body(&Error::invalid_input("limit", "too big"));
        assert_eq!(body["field"], "limit");
        assert_eq!(body["reason"], "too big");
    }
}

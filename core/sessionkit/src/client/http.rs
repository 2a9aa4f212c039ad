//! The client's requests as HTTP (docs/SPEC.md §8's client API), written once: every face sends
//! [`HttpRequest`] as it is and hands the answer to [`Call::parse`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, ErrorKind, Session, SessionId};

/// A request of the client API.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `GET /v1/session`.
    Validate,
    /// `DELETE /v1/session`.
    SignOut,
    /// `GET /v1/session/state`.
    GetState,
    /// `PUT /v1/session/state`: compare-and-swap on `expected_version`.
    PutState {
        /// The whole state.
        data: Value,
        /// The version it replaces (0: none).
        expected_version: u64,
    },
    /// `GET /v1/session/devices`.
    Devices {
        /// Only live sessions.
        active_only: bool,
        /// Page size.
        limit: Option<u32>,
        /// The cursor of a previous page.
        cursor: Option<String>,
    },
    /// `DELETE /v1/session/devices/{id}`.
    RevokeDevice(SessionId),
    /// `POST /v1/session/devices/revoke-others`.
    RevokeOthers,
}

/// An HTTP request, ready to send; `path` is relative to the server's base URL.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `GET`, `PUT`, …
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header names and values, the `Authorization` header among them.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<String>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body_bytes", &self.body.as_ref().map_or(0, String::len))
            .finish_non_exhaustive()
    }
}

/// A successful answer, typed where the client's state machine reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A session (`GET /v1/session`).
    Session(Session),
    /// The server's state: `(version, data)`, or `None` when there is none.
    State(Option<(u64, Value)>),
    /// A state write landed at this version.
    Written(u64),
    /// Any other JSON answer (a page of devices, `{"revoked": n}`), or `null` for 204.
    Json(Value),
}

/// Why a request did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No answer: the network failed, the request timed out, the server was down.
    Network,
    /// The server answered with an error. A conflict carries the server's current state.
    Api {
        /// The §5 error.
        error: Error,
        /// `Retry-After`, in ms.
        retry_after_ms: Option<u64>,
        /// With a `Conflict`: the server's state now, `(version, data)` (`data` is `None` when
        /// there is no state).
        current: Option<(u64, Option<Value>)>,
    },
}

impl Failure {
    /// Whether trying again later can succeed (no answer, a 5xx, a rate limit).
    pub fn transient(&self) -> bool {
        match self {
            Failure::Network => true,
            Failure::Api { error, .. } => matches!(
                error.kind(),
                ErrorKind::Storage | ErrorKind::IncompatibleSchema | ErrorKind::Corrupt
            ),
        }
    }

    /// The reason a session stopped, when the failure says the credential is no longer good.
    pub fn signed_out_reason(&self) -> Option<&'static str> {
        match self {
            Failure::Api { error, .. } => match error.kind() {
                ErrorKind::Revoked => Some("revoked"),
                ErrorKind::Expired => Some("expired"),
                ErrorKind::InvalidToken => Some("invalid_token"),
                _ => None,
            },
            Failure::Network => None,
        }
    }

    /// The failure as the §5 error an app sees (`Storage` when the server could not be reached).
    pub fn into_error(self) -> Error {
        match self {
            Failure::Network => Error::Storage {
                message: "the server could not be reached".into(),
            },
            Failure::Api { error, .. } => error,
        }
    }
}

impl Call {
    /// The request as HTTP, authenticated by `token`.
    pub fn to_http(&self, token: &str) -> HttpRequest {
        let (method, path, body) = match self {
            Call::Validate => ("GET", "/v1/session".to_owned(), None),
            Call::SignOut => ("DELETE", "/v1/session".to_owned(), None),
            Call::GetState => ("GET", "/v1/session/state".to_owned(), None),
            Call::PutState {
                data,
                expected_version,
            } => (
                "PUT",
                "/v1/session/state".to_owned(),
                Some(put_body(data, *expected_version)),
            ),
            Call::Devices {
                active_only,
                limit,
                cursor,
            } => {
                let mut path = format!("/v1/session/devices?active_only={active_only}");
                if let Some(limit) = limit {
                    path.push_str(&format!("&limit={limit}"));
                }
                if let Some(cursor) = cursor {
                    path.push_str("&cursor=");
                    path.push_str(&percent_encode(cursor));
                }
                ("GET", path, None)
            }
            Call::RevokeDevice(id) => ("DELETE", format!("/v1/session/devices/{id}"), None),
            Call::RevokeOthers => ("POST", "/v1/session/devices/revoke-others".to_owned(), None),
        };
        let mut headers = vec![
            ("Authorization".to_owned(), format!("Bearer {token}")),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        if body.is_some() {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        HttpRequest {
            method: method.to_owned(),
            path,
            headers,
            body,
        }
    }

    /// Reads the server's answer: `status`, the `Retry-After` and `ETag` headers if present, and
    /// the body text.
    pub fn parse(
        &self,
        status: u16,
        retry_after: Option<&str>,
        etag: Option<&str>,
        body: &str,
    ) -> Result<Reply, Failure> {
        if !(200..300).contains(&status) {
            return Err(parse_failure(status, retry_after, body));
        }
        let json = || -> Result<Value, Failure> {
            if body.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(body).map_err(|_| malformed("the body is not JSON"))
        };
        match self {
            Call::Validate => serde_json::from_str(body)
                .map(Reply::Session)
                .map_err(|_| malformed("not a session")),
            Call::GetState if status == 204 => {
                let _ = etag;
                Ok(Reply::State(None))
            }
            Call::GetState => {
                #[derive(Deserialize)]
                struct Wire {
                    version: u64,
                    data: Value,
                }
                let wire: Wire =
                    serde_json::from_str(body).map_err(|_| malformed("not a state"))?;
                Ok(Reply::State(Some((wire.version, wire.data))))
            }
            Call::PutState { .. } => json()?["version"]
                .as_u64()
                .map(Reply::Written)
                .ok_or_else(|| malformed("no version")),
            _ => json().map(Reply::Json),
        }
    }
}

/// `PUT /v1/session/state`'s body, `{"data":…,"expected_version":…}`, written straight from
/// the state (no copy of it into a JSON object first).
fn put_body(data: &Value, expected_version: u64) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        data: &'a Value,
        expected_version: u64,
    }
    serde_json::to_string(&Body {
        data,
        expected_version,
    })
    .expect("a JSON value always serializes")
}

fn malformed(what: &str) -> Failure {
    Failure::Api {
        error: Error::corrupt(format!("server answer: {what}")),
        retry_after_ms: None,
        current: None,
    }
}

fn parse_failure(status: u16, retry_after: Option<&str>, body: &str) -> Failure {
    let retry_after_ms = retry_after
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| s.saturating_mul(1_000));
    let wire: Option<Map<String, Value>> = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_object).cloned());
    let error = wire
        .as_ref()
        .and_then(error_from_body)
        .unwrap_or_else(|| Error::Storage {
            message: format!("HTTP {status}"),
        });
    let current = match (&error, wire.as_ref().and_then(|w| w.get("state"))) {
        (_, Some(Value::Object(s))) => s
            .get("version")
            .and_then(Value::as_u64)
            .zip(s.get("data"))
            .map(|(v, d)| (v, Some(d.clone()))),
        // No state on the server (a `null` beside a non-zero version means it could not be read).
        (Error::Conflict { current_version: 0 }, Some(Value::Null)) => Some((0, None)),
        _ => None,
    };
    Failure::Api {
        error,
        retry_after_ms,
        current,
    }
}

/// The §5 error from the server's `{"kind", "message", …}` body.
pub fn error_from_body(body: &Map<String, Value>) -> Option<Error> {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Some(match ErrorKind::parse(body.get("kind")?.as_str()?)? {
        ErrorKind::InvalidToken => Error::InvalidToken,
        ErrorKind::NotFound => Error::NotFound,
        ErrorKind::Expired => Error::Expired,
        ErrorKind::Revoked => Error::Revoked,
        ErrorKind::Conflict => Error::Conflict {
            current_version: body.get("current_version")?.as_u64()?,
        },
        ErrorKind::LimitExceeded => Error::LimitExceeded { what: text("what") },
        ErrorKind::InvalidInput => Error::InvalidInput {
            field: text("field"),
            reason: text("reason"),
        },
        ErrorKind::Corrupt => Error::Corrupt { what: text("what") },
        ErrorKind::IncompatibleSchema => Error::IncompatibleSchema {
            found: body.get("found")?.as_i64()?,
            supported: body.get("supported")?.as_i64()?,
        },
        ErrorKind::Storage => Error::Storage {
            message: text("message"),
        },
    })
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_put_is_a_compare_and_swap_with_the_bearer_token() {
        let req = Call::PutState {
            data: json!({"a": 1}),
            expected_version: 3,
        }
        .to_http("tok");
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            ("PUT", "/v1/session/state")
        );
        assert!(req
            .headers
            .contains(&("Authorization".into(), "Bearer tok".into())));
        let body: Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, json!({"data": {"a": 1}, "expected_version": 3}));
        // Compact, fields in this order: the bytes the server and the metrics see.
        assert_eq!(
            req.body.as_deref(),
            Some(r#"{"data":{"a":1},"expected_version":3}"#)
        );
        assert!(!format!("{req:?}").contains("tok"));
    }

    #[test]
    fn a_conflict_carries_the_current_state() {
        let body = r#"{"error":{"kind":"Conflict","message":"m","current_version":7,
            "state":{"version":7,"data":{"x":1},"checksum":"c"}}}"#;
        let put = Call::PutState {
            data: json!(1),
            expected_version: 3,
        };
        match put.parse(409, None, None, body) {
            Err(Failure::Api { error, current, .. }) => {
                assert_eq!(error, Error::Conflict { current_version: 7 });
                assert_eq!(current, Some((7, Some(json!({"x": 1})))));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn auth_failures_name_their_reason_and_5xx_is_transient() {
        let revoked = Call::Validate.parse(
            401,
            None,
            None,
            r#"{"error":{"kind":"Revoked","message":"r"}}"#,
        );
        let failure = revoked.unwrap_err();
        assert_eq!(failure.signed_out_reason(), Some("revoked"));
        assert!(!failure.transient());
        let down = Call::Validate
            .parse(503, Some("3"), None, "not json")
            .unwrap_err();
        assert!(down.transient());
        assert!(matches!(
            down,
            Failure::Api {
                retry_after_ms: Some(3_000),
                ..
            }
        ));
        assert_eq!(
            Call::GetState.parse(204, None, Some("\"0\""), "").unwrap(),
            Reply::State(None)
        );
    }

    #[test]
    fn cursors_are_percent_encoded() {
        let req = Call::Devices {
            active_only: true,
            limit: Some(5),
            cursor: Some("a+b/c=".into()),
        }
        .to_http("t");
        assert_eq!(
            req.path,
            "/v1/session/devices?active_only=true&limit=5&cursor=a%2Bb%2Fc%3D"
        );
    }
}

//! The API as OpenAPI 3.1 (`GET /v1/openapi.json`), generated from the handlers' annotations.
//! The schemas below describe the engine's records as they serialize (the engine itself does
//! not depend on an OpenAPI crate); a test checks real responses against them.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(ToSchema)]
#[schema(as = ClientKind, rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum ClientKindDoc {
    Desktop,
    Mobile,
    Web,
    Other,
}

#[derive(ToSchema)]
#[schema(as = ClientInfo)]
#[allow(dead_code)]
pub(crate) struct ClientInfoDoc {
    kind: ClientKindDoc,
    version: Option<String>,
    device: Option<String>,
}

/// A session (SPEC §1). Holds no secret.
#[derive(ToSchema)]
#[schema(as = Session)]
#[allow(dead_code)]
pub(crate) struct SessionDoc {
    id: String,
    user_id: String,
    created_at: i64,
    last_active_at: i64,
    expires_at: i64,
    absolute_expires_at: i64,
    client: ClientInfoDoc,
    ip: Option<String>,
    user_agent: Option<String>,
    active: bool,
    metadata: BTreeMap<String, Value>,
}

/// A device list item: a session, `current` when it is the caller's own.
#[derive(ToSchema)]
#[schema(as = Device)]
#[allow(dead_code)]
pub(crate) struct DeviceDoc {
    id: String,
    user_id: String,
    created_at: i64,
    last_active_at: i64,
    expires_at: i64,
    absolute_expires_at: i64,
    client: ClientInfoDoc,
    ip: Option<String>,
    user_agent: Option<String>,
    active: bool,
    metadata: BTreeMap<String, Value>,
    current: bool,
}

/// A page of sessions, newest activity first.
#[derive(ToSchema)]
#[schema(as = SessionPage)]
#[allow(dead_code)]
pub(crate) struct PageDoc {
    items: Vec<SessionDoc>,
    next_cursor: Option<String>,
}

/// A page of the caller's user's sessions.
#[derive(ToSchema)]
#[schema(as = DevicePage)]
#[allow(dead_code)]
pub(crate) struct DevicePageDoc {
    items: Vec<DeviceDoc>,
    next_cursor: Option<String>,
}

/// A session's state (SPEC §3).
#[derive(ToSchema)]
#[schema(as = State)]
#[allow(dead_code)]
pub(crate) struct StateDoc {
    #[schema(minimum = 1)]
    version: u64,
    /// Any JSON value.
    data: Value,
    checksum: String,
    size: u64,
    compressed: bool,
    stored_size: u64,
    updated_at: i64,
}

/// A new session and its token (returned once).
#[derive(ToSchema)]
#[schema(as = Created)]
#[allow(dead_code)]
pub(crate) struct CreatedDoc {
    session: SessionDoc,
    token: String,
}

/// What `POST /v1/admin/sessions` takes.
#[derive(ToSchema)]
#[schema(as = NewSession)]
#[allow(dead_code)]
pub(crate) struct NewSessionDoc {
    #[schema(min_length = 1, max_length = 256)]
    user_id: String,
    client_kind: ClientKindDoc,
    client_version: Option<String>,
    device: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    metadata: Option<BTreeMap<String, Value>>,
}

#[derive(ToSchema)]
#[schema(as = ValidateRequest)]
#[allow(dead_code)]
pub(crate) struct ValidateDoc {
    token: String,
}

#[derive(ToSchema)]
#[schema(as = RevokeUserRequest)]
#[allow(dead_code)]
pub(crate) struct RevokeUserDoc {
    /// A session id to keep.
    except: Option<String>,
}

/// `PUT …/state` as JSON (or send the encoded blob as `application/vnd.sessionkit.state`).
#[derive(ToSchema)]
#[schema(as = PutState)]
#[allow(dead_code)]
pub(crate) struct PutStateDoc {
    data: Value,
    /// The version replaced (0 = no state yet); null for an unconditional write.
    expected_version: Option<u64>,
}

#[derive(ToSchema)]
#[schema(as = PatchState)]
#[allow(dead_code)]
pub(crate) struct PatchStateDoc {
    /// A JSON Merge Patch (RFC 7396).
    patch: Value,
    expected_version: Option<u64>,
}

#[derive(ToSchema)]
#[schema(as = Version)]
#[allow(dead_code)]
pub(crate) struct VersionDoc {
    version: u64,
}

#[derive(ToSchema)]
#[schema(as = Revoked)]
#[allow(dead_code)]
pub(crate) struct RevokedDoc {
    revoked: u64,
}

#[derive(ToSchema)]
#[schema(as = Removed)]
#[allow(dead_code)]
pub(crate) struct RemovedDoc {
    removed: u64,
}

#[derive(ToSchema)]
#[schema(as = Stats)]
#[allow(dead_code)]
pub(crate) struct StatsDoc {
    total: u64,
    active: u64,
    created_last_24h: u64,
    created_last_7d: u64,
    by_client_kind: BTreeMap<String, u64>,
    average_duration_ms: i64,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) enum ErrorKindDoc {
    InvalidToken,
    NotFound,
    Expired,
    Revoked,
    Conflict,
    LimitExceeded,
    InvalidInput,
    Corrupt,
    IncompatibleSchema,
    Storage,
}

/// The error's kind, message and the variant's fields (`current_version` and, on the client
/// API, `state` for Conflict; `what`; `field` and `reason`; `found` and `supported`).
#[derive(ToSchema)]
#[schema(as = ErrorDetail)]
#[allow(dead_code)]
pub(crate) struct ErrorDetailDoc {
    kind: ErrorKindDoc,
    message: String,
    current_version: Option<u64>,
    state: Option<Value>,
    what: Option<String>,
    field: Option<String>,
    reason: Option<String>,
    found: Option<i64>,
    supported: Option<i64>,
}

/// `{"error": {...}}`
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ErrorBody {
    error: ErrorDetailDoc,
}

#[derive(ToSchema)]
#[schema(as = Health)]
#[allow(dead_code)]
pub(crate) struct HealthDoc {
    status: String,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A session token `<id>.<secret>`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The server's admin key"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "sessionkit", description = "Sessions and per-session client state (docs/SPEC.md §8)"),
    paths(
        crate::client::validate, crate::client::sign_out, crate::client::rotate,
        crate::client::patch_metadata, crate::client::get_state, crate::client::put_state,
        crate::client::patch_state, crate::client::clear_state, crate::client::devices,
        crate::client::revoke_device, crate::client::revoke_others,
        crate::events::sse, crate::events::ws,
        crate::cookie_mode::exchange, crate::cookie_mode::remove,
        crate::admin::create, crate::admin::validate, crate::admin::get, crate::admin::delete,
        crate::admin::revoke, crate::admin::get_state, crate::admin::put_state,
        crate::admin::patch_state, crate::admin::clear_state, crate::admin::user_sessions,
        crate::admin::revoke_user, crate::admin::revoke_all, crate::admin::delete_user, crate::admin::stats, crate::admin::cleanup,
        crate::ops::healthz, crate::ops::readyz, crate::ops::metrics, crate::ops::openapi,
    ),
    modifiers(&Security),
)]
pub(crate) struct ApiDoc;

/// The OpenAPI document as JSON.
pub fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null)
}

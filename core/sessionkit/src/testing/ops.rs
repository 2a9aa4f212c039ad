//! Calls a `SessionManager` operation from a scenario step's JSON arguments and turns the result
//! into the canonical JSON that scenarios match against (SPEC §1 field names).

use serde_json::{json, Value};

use crate::{ClientKind, Error, ListOptions, NewSession, SessionId, SessionManager};

/// Why a call did not produce a result.
pub(crate) enum CallError {
    /// The operation failed: this is what scenarios match with `error`.
    Api(Error),
    /// The scenario itself is malformed (unknown op, missing argument).
    Scenario(String),
}

impl From<Error> for CallError {
    fn from(err: Error) -> Self {
        CallError::Api(err)
    }
}

type CallResult = Result<Value, CallError>;

fn text<'a>(args: &'a Value, name: &str) -> Result<&'a str, CallError> {
    args.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| CallError::Scenario(format!("argument {name:?} must be a string")))
}

fn opt_text(args: &Value, name: &str) -> Result<Option<String>, CallError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CallError::Scenario(format!(
            "argument {name:?} must be a string or null"
        ))),
    }
}

fn opt_u64(args: &Value, name: &str) -> Result<Option<u64>, CallError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            CallError::Scenario(format!("argument {name:?} must be a non-negative integer"))
        }),
    }
}

fn flag(args: &Value, name: &str) -> Result<bool, CallError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(CallError::Scenario(format!(
            "argument {name:?} must be a boolean"
        ))),
    }
}

fn value<'a>(args: &'a Value, name: &str) -> Result<&'a Value, CallError> {
    args.get(name)
        .ok_or_else(|| CallError::Scenario(format!("argument {name:?} is required")))
}

fn id(args: &Value, name: &str) -> Result<SessionId, CallError> {
    Ok(SessionId::parse(text(args, name)?)?)
}

fn to_json<T: serde::Serialize>(value: T) -> CallResult {
    serde_json::to_value(value)
        .map_err(|e| CallError::Scenario(format!("result not serializable: {e}")))
}

fn created(created: crate::Created) -> CallResult {
    Ok(json!({
        "session": to_json(&created.session)?,
        "token": created.token.as_str(),
    }))
}

/// Performs `op` with `args` on `manager`.
pub(crate) async fn call(manager: &SessionManager, op: &str, args: &Value) -> CallResult {
    match op {
        "create" => {
            let new = NewSession {
                user_id: text(args, "user_id")?.to_owned(),
                client_kind: ClientKind::parse(text(args, "client_kind")?)?,
                client_version: opt_text(args, "client_version")?,
                device: opt_text(args, "device")?,
                ip: opt_text(args, "ip")?,
                user_agent: opt_text(args, "user_agent")?,
                metadata: args.get("metadata").cloned().filter(|m| !m.is_null()),
            };
            created(manager.create(new).await?)
        }
        "validate" => to_json(manager.validate(text(args, "token")?).await?),
        "get" => to_json(manager.get(&id(args, "id")?).await?),
        "touch" => to_json(manager.touch(&id(args, "id")?).await?),
        "update_metadata" => to_json(
            manager
                .update_metadata(&id(args, "id")?, value(args, "patch")?)
                .await?,
        ),
        "rotate" => created(manager.rotate(&id(args, "id")?).await?),
        "revoke" => to_json(manager.revoke(&id(args, "id")?).await?),
        "delete" => to_json(manager.delete(&id(args, "id")?).await?),
        "list_user_sessions" => {
            let limit = match opt_u64(args, "limit")? {
                None => ListOptions::DEFAULT_LIMIT,
                Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
            };
            let options = ListOptions {
                active_only: flag(args, "active_only")?,
                limit,
                cursor: opt_text(args, "cursor")?,
            };
            to_json(
                manager
                    .list_user_sessions(text(args, "user_id")?, &options)
                    .await?,
            )
        }
        "revoke_user_sessions" => {
            let except = match opt_text(args, "except")? {
                Some(text) => Some(SessionId::parse(&text)?),
                None => None,
            };
            to_json(
                manager
                    .revoke_user_sessions(text(args, "user_id")?, except.as_ref())
                    .await?,
            )
        }
        "cleanup_expired" => to_json(manager.cleanup_expired().await?),
        "count_active" => to_json(manager.count_active().await?),
        "count_user_sessions" => to_json(
            manager
                .count_user_sessions(text(args, "user_id")?, flag(args, "active_only")?)
                .await?,
        ),
        "stats" => to_json(manager.stats().await?),
        "get_state" => to_json(manager.get_state(&id(args, "id")?).await?),
        "put_state" => to_json(
            manager
                .put_state(
                    &id(args, "id")?,
                    value(args, "data")?,
                    opt_u64(args, "expected_version")?,
                )
                .await?,
        ),
        "patch_state" => to_json(
            manager
                .patch_state(
                    &id(args, "id")?,
                    value(args, "patch")?,
                    opt_u64(args, "expected_version")?,
                )
                .await?,
        ),
        "clear_state" => to_json(manager.clear_state(&id(args, "id")?).await?),
        other => Err(CallError::Scenario(format!("unknown operation {other:?}"))),
    }
}

/// An error as scenarios see it: `kind`, `message` and the variant's fields.
pub(crate) fn error_to_json(err: &Error) -> Value {
    let mut out = json!({ "kind": err.kind().as_str(), "message": err.to_string() });
    let fields = match err {
        Error::Conflict { current_version } => json!({ "current_version": current_version }),
        Error::LimitExceeded { what } => json!({ "what": what }),
        Error::InvalidInput { field, reason } => json!({ "field": field, "reason": reason }),
        Error::Corrupt { what } => json!({ "what": what }),
        Error::IncompatibleSchema { found, supported } => {
            json!({ "found": found, "supported": supported })
        }
        Error::Storage { message } => json!({ "storage_message": message }),
        _ => json!({}),
    };
    if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), fields) {
        out.extend(fields);
    }
    out
}

//! JavaScript arguments → engine values, strictly: a string must be a string, a number a safe
//! integer in range, an options object may hold only known keys. Anything else is
//! `InvalidInput` naming the SPEC field (`user_id`, `expected_version`, …), before the engine
//! is called, so bad input never reaches storage.
//!
//! JSON values (metadata, state data, patches) cross as JSON text made by `JSON.stringify`, so
//! integers stay integers (`1` is `1`, never `1.0`) and `toJSON` is honoured as usual.

use js_sys::{Array, Object, Reflect, JSON};
use serde_json::Value;
use sessionkit::{
    ClientKind, Config, Error, ListOptions, NewSession, Result, SessionId, SessionLimitPolicy,
};
use wasm_bindgen::JsValue;

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// A required string.
pub fn text(value: &JsValue, field: &str) -> Result<String> {
    value.as_string().ok_or_else(|| {
        Error::invalid_input(field, format!("must be a string, got {}", type_of(value)))
    })
}

/// An optional string (`undefined` and `null` are absent).
pub fn opt_text(value: &JsValue, field: &str) -> Result<Option<String>> {
    if absent(value) {
        Ok(None)
    } else {
        text(value, field).map(Some)
    }
}

/// An optional boolean, `false` when absent.
pub fn flag(value: &JsValue, field: &str) -> Result<bool> {
    if absent(value) {
        return Ok(false);
    }
    value.as_bool().ok_or_else(|| {
        Error::invalid_input(field, format!("must be a boolean, got {}", type_of(value)))
    })
}

/// A required integer in `min..=max` (both within the safe-integer range).
pub fn int(value: &JsValue, field: &str, min: f64, max: f64) -> Result<i64> {
    let out_of_range = || {
        Error::invalid_input(
            field,
            // Bounds are integers: shown as such, so no float formatting code lands in the wasm.
            format!(
                "must be an integer from {} to {}, got {}",
                min as i64,
                max as i64,
                describe(value)
            ),
        )
    };
    let n = value.as_f64().ok_or_else(out_of_range)?;
    if !n.is_finite() || n.fract() != 0.0 || n < min || n > max {
        return Err(out_of_range());
    }
    // Exact: n is an integer with |n| <= 2^53.
    Ok(n as i64)
}

/// An optional integer in `min..=max`.
pub fn opt_int(value: &JsValue, field: &str, min: f64, max: f64) -> Result<Option<i64>> {
    if absent(value) {
        Ok(None)
    } else {
        int(value, field, min, max).map(Some)
    }
}

/// Milliseconds (any safe integer, negative included: clocks may move back).
pub fn millis(value: &JsValue, field: &str) -> Result<i64> {
    int(value, field, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
}

/// An optional non-negative count or version.
pub fn opt_u64(value: &JsValue, field: &str) -> Result<Option<u64>> {
    Ok(opt_int(value, field, 0.0, MAX_SAFE_INTEGER)?.map(|n| n.unsigned_abs()))
}

/// A session id (a string in the 22-character form; anything else is `InvalidInput { field: "id" }`).
pub fn session_id(value: &JsValue) -> Result<SessionId> {
    SessionId::parse(&text(value, "id")?)
}

/// Any JSON value (`undefined`, functions and symbols are not JSON).
pub fn json(value: &JsValue, field: &str) -> Result<Value> {
    let not_json = |why: &str| Error::invalid_input(field, format!("must be a JSON value: {why}"));
    let text: JsValue = JSON::stringify(value)
        .map_err(|e| not_json(&describe_error(&e)))?
        .into();
    let text = text
        .as_string()
        .ok_or_else(|| not_json(&format!("got {}", type_of(value))))?;
    serde_json::from_str(&text).map_err(|e| not_json(&e.to_string()))
}

/// An optional JSON value (`undefined` and `null` are absent).
pub fn opt_json(value: &JsValue, field: &str) -> Result<Option<Value>> {
    if absent(value) {
        Ok(None)
    } else {
        json(value, field).map(Some)
    }
}

/// An options object: absent (`None`), or a plain object whose own keys are all in `known`.
/// `field` names the whole argument in errors; an unknown key is reported under its own name
/// (so a typo such as `idleTimeout` is refused instead of silently ignored).
pub fn options(value: &JsValue, field: &str, known: &[&str]) -> Result<Option<Object>> {
    if absent(value) {
        return Ok(None);
    }
    if !value.is_object() || Array::is_array(value) {
        return Err(Error::invalid_input(
            field,
            format!("must be an object, got {}", type_of(value)),
        ));
    }
    let object = Object::from(value.clone());
    for key in Object::keys(&object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(Error::invalid_input(
                key,
                format!("is not a {field} option (known: {})", known.join(", ")),
            ));
        }
    }
    Ok(Some(object))
}

/// `object[key]`, `undefined` when missing.
pub fn get(object: &Object, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

const CONFIG_KEYS: [&str; 8] = [
    "idleTimeoutMs",
    "absoluteTimeoutMs",
    "touchIntervalMs",
    "maxSessionsPerUser",
    "sessionLimitPolicy",
    "stateCompressionThreshold",
    "stateMaxBytes",
    "contextPolicy",
];

/// The options of `openMemory` / `openIndexedDb`: `{stateKeys?}`, the key text of
/// [`sessionkit::StateKeys::parse`] (one `<id>:<base64 of 32 bytes>` a line, the first the
/// current key). Parsed here, before any store is opened; the Rust copy of the text is wiped.
pub fn open_options(value: &JsValue) -> Result<Option<sessionkit::StateKeys>> {
    let Some(object) = options(value, "options", &["stateKeys"])? else {
        return Ok(None);
    };
    opt_text(&get(&object, "stateKeys"), "state_keys")?
        .map(zeroize::Zeroizing::new)
        .map(|text| sessionkit::StateKeys::parse(&text))
        .transpose()
}

/// `{ip?, userAgent?}`: where a request came from, for `validateInContext`.
pub fn request_context(value: &JsValue) -> Result<sessionkit::RequestContext> {
    let mut context = sessionkit::RequestContext::default();
    if let Some(object) = options(value, "context", &["ip", "userAgent"])? {
        context.ip = opt_text(&get(&object, "ip"), "ip")?;
        context.user_agent = opt_text(&get(&object, "userAgent"), "user_agent")?;
    }
    Ok(context)
}

/// A `Config` instance or an object literal with the same (all optional) camelCase fields.
/// Absent fields keep the engine's defaults; the engine validates the result at open.
pub fn config(value: &JsValue) -> Result<Config> {
    let mut config = Config::default();
    let Some(object) = options(value, "config", &CONFIG_KEYS)? else {
        return Ok(config);
    };
    let field = |key: &str| get(&object, key);
    if let Some(ms) = opt_int(
        &field("idleTimeoutMs"),
        "idle_timeout_ms",
        -MAX_SAFE_INTEGER,
        MAX_SAFE_INTEGER,
    )? {
        config.idle_timeout_ms = ms;
    }
    if let Some(ms) = opt_int(
        &field("absoluteTimeoutMs"),
        "absolute_timeout_ms",
        -MAX_SAFE_INTEGER,
        MAX_SAFE_INTEGER,
    )? {
        config.absolute_timeout_ms = ms;
    }
    if let Some(ms) = opt_int(
        &field("touchIntervalMs"),
        "touch_interval_ms",
        -MAX_SAFE_INTEGER,
        MAX_SAFE_INTEGER,
    )? {
        config.touch_interval_ms = ms;
    }
    config.max_sessions_per_user = opt_int(
        &field("maxSessionsPerUser"),
        "max_sessions_per_user",
        0.0,
        f64::from(u32::MAX),
    )?
    .and_then(|n| u32::try_from(n).ok());
    if let Some(policy) = opt_text(&field("sessionLimitPolicy"), "session_limit_policy")? {
        config.session_limit_policy = SessionLimitPolicy::parse(&policy)?;
    }
    if let Some(policy) = opt_text(&field("contextPolicy"), "context_policy")? {
        config.context_policy = sessionkit::ContextPolicy::parse(&policy)?;
    }
    if let Some(n) = opt_u64(
        &field("stateCompressionThreshold"),
        "state_compression_threshold",
    )? {
        config.state_compression_threshold = n;
    }
    if let Some(n) = opt_u64(&field("stateMaxBytes"), "state_max_bytes")? {
        config.state_max_bytes = n;
    }
    Ok(config)
}

const NEW_SESSION_KEYS: [&str; 7] = [
    "userId",
    "clientKind",
    "clientVersion",
    "device",
    "ip",
    "userAgent",
    "metadata",
];

/// `create`'s argument: `{userId, clientKind, clientVersion?, device?, ip?, userAgent?, metadata?}`.
pub fn new_session(value: &JsValue) -> Result<NewSession> {
    let object = options(value, "session", &NEW_SESSION_KEYS)?
        .ok_or_else(|| Error::invalid_input("session", "is required"))?;
    let field = |key: &str| get(&object, key);
    Ok(NewSession {
        user_id: text(&field("userId"), "user_id")?,
        client_kind: ClientKind::parse(&text(&field("clientKind"), "client_kind")?)?,
        client_version: opt_text(&field("clientVersion"), "client_version")?,
        device: opt_text(&field("device"), "device")?,
        ip: opt_text(&field("ip"), "ip")?,
        user_agent: opt_text(&field("userAgent"), "user_agent")?,
        metadata: opt_json(&field("metadata"), "metadata")?,
    })
}

/// `listUserSessions`' options: `{activeOnly?, limit?, cursor?}`.
pub fn list_options(value: &JsValue) -> Result<ListOptions> {
    let mut options = ListOptions::default();
    if let Some(object) = self::options(value, "list", &["activeOnly", "limit", "cursor"])? {
        options.active_only = flag(&get(&object, "activeOnly"), "active_only")?;
        if let Some(limit) = opt_int(&get(&object, "limit"), "limit", 0.0, f64::from(u32::MAX))? {
            options.limit = u32::try_from(limit).unwrap_or(u32::MAX);
        }
        options.cursor = opt_text(&get(&object, "cursor"), "cursor")?;
    }
    Ok(options)
}

/// `export`'s options: `{after?, limit?}` (limit defaults to 100).
pub fn export_options(value: &JsValue) -> Result<(Option<SessionId>, u32)> {
    let Some(object) = options(value, "export", &["after", "limit"])? else {
        return Ok((None, EXPORT_DEFAULT_LIMIT));
    };
    let after = match opt_text(&get(&object, "after"), "after")? {
        Some(text) => Some(SessionId::parse(&text)?),
        None => None,
    };
    let limit = opt_int(&get(&object, "limit"), "limit", 0.0, f64::from(u32::MAX))?
        .map_or(EXPORT_DEFAULT_LIMIT, |n| {
            u32::try_from(n).unwrap_or(u32::MAX)
        });
    Ok((after, limit))
}

/// Records per `export` call when no limit is given.
const EXPORT_DEFAULT_LIMIT: u32 = 100;

/// `typeof`-like name for messages (`null` and arrays named as such).
fn type_of(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if Array::is_array(value) {
        "array".to_owned()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// A short description of a value for messages: integers shown, other values by type.
fn describe(value: &JsValue) -> String {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER => (n as i64).to_string(),
        Some(_) => "a fractional, infinite or unsafe number".to_owned(),
        None => type_of(value),
    }
}

fn describe_error(error: &JsValue) -> String {
    js_sys::Error::from(error.clone())
        .message()
        .as_string()
        .unwrap_or_else(|| "not serializable".to_owned())
}

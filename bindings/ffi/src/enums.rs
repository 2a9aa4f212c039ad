//! The client kind and the two policies as enums, so every language has its own enum type
//! (Python `enum.Enum`, Kotlin `enum class`, Swift `enum`). Their SPEC names (`web`,
//! `evict_oldest`, `strict`) are the engine's; `parse_client_kind`, `parse_session_limit_policy`
//! and `parse_context_policy` turn a name (from a configuration file, a request) into one with
//! the engine's check.

use sessionkit::{
    ClientKind as EngineClientKind, ContextPolicy as EngineContextPolicy,
    SessionLimitPolicy as EngineLimitPolicy,
};

use crate::error::Result;

/// What kind of client a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ClientKind {
    /// A desktop application (`desktop`).
    Desktop,
    /// A mobile application (`mobile`).
    Mobile,
    /// A web browser (`web`).
    Web,
    /// Anything else (`other`): a CLI, a server-side job, …
    Other,
}

/// What happens when a user reaches `max_sessions_per_user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SessionLimitPolicy {
    /// Refuse the new session with `LimitExceeded` (`reject`, the default).
    Reject,
    /// Revoke the least recently active live sessions to make room (`evict_oldest`).
    EvictOldest,
}

/// What `validate_in_context` does when a request's IP or User-Agent differs from the stored
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ContextPolicy {
    /// Accept the request and emit `ContextChanged` (`signal`, the default).
    Signal,
    /// Refuse the request with `InvalidToken` and emit `ContextChanged` (`strict`).
    Strict,
}

/// The client kind named `name` (`desktop`, `mobile`, `web` or `other`, exactly); anything
/// else is `InvalidInput { field: "client_kind" }`.
#[uniffi::export]
pub fn parse_client_kind(name: String) -> Result<ClientKind> {
    Ok(sessionkit::ClientKind::parse(&name)?.into())
}

/// The session-limit policy named `name` (`reject` or `evict_oldest`); anything else is
/// `InvalidInput { field: "session_limit_policy" }`.
#[uniffi::export]
pub fn parse_session_limit_policy(name: String) -> Result<SessionLimitPolicy> {
    Ok(sessionkit::SessionLimitPolicy::parse(&name)?.into())
}

/// The context policy named `name` (`signal` or `strict`); anything else is
/// `InvalidInput { field: "context_policy" }`.
#[uniffi::export]
pub fn parse_context_policy(name: String) -> Result<ContextPolicy> {
    Ok(sessionkit::ContextPolicy::parse(&name)?.into())
}

/// Both directions between a face enum and the engine's, variant for variant.
macro_rules! same_variants {
    ($face:ident, $engine:ident, $($variant:ident),+) => {
        impl From<$face> for $engine {
            fn from(value: $face) -> Self {
                match value {
                    $($face::$variant => $engine::$variant,)+
                }
            }
        }

        impl From<$engine> for $face {
            fn from(value: $engine) -> Self {
                match value {
                    $($engine::$variant => $face::$variant,)+
                }
            }
        }
    };
}

same_variants!(ClientKind, EngineClientKind, Desktop, Mobile, Web, Other);
same_variants!(SessionLimitPolicy, EngineLimitPolicy, Reject, EvictOldest);
same_variants!(ContextPolicy, EngineContextPolicy, Signal, Strict);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_the_engines_check() {
        assert_eq!(parse_client_kind("web".into()), Ok(ClientKind::Web));
        assert_eq!(
            parse_session_limit_policy("evict_oldest".into()),
            Ok(SessionLimitPolicy::EvictOldest)
        );
        assert_eq!(
            parse_context_policy("strict".into()),
            Ok(ContextPolicy::Strict)
        );
        match parse_client_kind("Web".into()) {
            Err(crate::SessionkitError::InvalidInput { field, .. }) => {
                assert_eq!(field, "client_kind")
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
}

//! `Config` as the bindings see it: integer milliseconds and bytes, every field defaulted, so
//! `Config()` / `Config(idleTimeoutMs = …)` work in every language.

use crate::error::{Result, SessionkitError};

/// Timeouts, limits and state settings (SPEC §1). Times are milliseconds, sizes bytes.
///
/// The defaults are the engine's (checked by a test); invalid values are refused when a manager
/// is opened, with `InvalidInput` naming the field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Config {
    /// A session unused this long expires (default 30 minutes).
    #[uniffi(default = 1800000)]
    pub idle_timeout_ms: i64,
    /// A session expires this long after creation whatever its activity (default 30 days).
    #[uniffi(default = 2592000000)]
    pub absolute_timeout_ms: i64,
    /// `validate` writes the slid expiry at most this often per session (default 60 s).
    #[uniffi(default = 60000)]
    pub touch_interval_ms: i64,
    /// Live sessions allowed per user; unset (default) for no limit.
    #[uniffi(default = None)]
    pub max_sessions_per_user: Option<u32>,
    /// What happens at the per-user limit: `"reject"` (default) refuses the new session,
    /// `"evict_oldest"` revokes the least recently active ones to make room.
    #[uniffi(default = "reject")]
    pub session_limit_policy: String,
    /// State larger than this (serialized JSON bytes) is stored compressed (default 10 KiB).
    #[uniffi(default = 10240)]
    pub state_compression_threshold: u64,
    /// State larger than this (serialized JSON bytes) is refused (default 5 MiB).
    #[uniffi(default = 5242880)]
    pub state_max_bytes: u64,
    /// What `validate_in_context` does when a request's IP or User-Agent differs from the
    /// stored ones: `"signal"` (default) emits `ContextChanged`, `"strict"` also refuses.
    #[uniffi(default = "signal")]
    pub context_policy: String,
}

/// The engine's default configuration (the same values `Config()` gets from its defaults).
#[uniffi::export]
pub fn default_config() -> Config {
    Config::default()
}

impl Default for Config {
    fn default() -> Self {
        sessionkit::Config::default().into()
    }
}

impl TryFrom<Config> for sessionkit::Config {
    type Error = SessionkitError;

    fn try_from(c: Config) -> Result<Self> {
        Ok(sessionkit::Config {
            idle_timeout_ms: c.idle_timeout_ms,
            absolute_timeout_ms: c.absolute_timeout_ms,
            touch_interval_ms: c.touch_interval_ms,
            max_sessions_per_user: c.max_sessions_per_user,
            session_limit_policy: sessionkit::SessionLimitPolicy::parse(&c.session_limit_policy)?,
            state_compression_threshold: c.state_compression_threshold,
            state_max_bytes: c.state_max_bytes,
            context_policy: sessionkit::ContextPolicy::parse(&c.context_policy)?,
        })
    }
}

impl From<sessionkit::Config> for Config {
    fn from(c: sessionkit::Config) -> Self {
        Config {
            idle_timeout_ms: c.idle_timeout_ms,
            absolute_timeout_ms: c.absolute_timeout_ms,
            touch_interval_ms: c.touch_interval_ms,
            max_sessions_per_user: c.max_sessions_per_user,
            session_limit_policy: c.session_limit_policy.as_str().to_owned(),
            state_compression_threshold: c.state_compression_threshold,
            state_max_bytes: c.state_max_bytes,
            context_policy: c.context_policy.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `#[uniffi(default = …)]` literals above are what foreign `Config()` calls get; they
    /// must stay equal to the engine's defaults.
    #[test]
    fn foreign_defaults_are_the_engines() {
        let literals = Config {
            idle_timeout_ms: 1_800_000,
            absolute_timeout_ms: 2_592_000_000,
            touch_interval_ms: 60_000,
            max_sessions_per_user: None,
            session_limit_policy: "reject".to_owned(),
            state_compression_threshold: 10_240,
            state_max_bytes: 5_242_880,
            context_policy: "signal".to_owned(),
        };
        assert_eq!(literals, default_config());
        assert_eq!(
            sessionkit::Config::try_from(literals),
            Ok(sessionkit::Config::default())
        );
    }

    #[test]
    fn an_unknown_policy_is_invalid_input() {
        let config = Config {
            session_limit_policy: "evict_newest".to_owned(),
            ..Config::default()
        };
        match sessionkit::Config::try_from(config) {
            Err(SessionkitError::InvalidInput { field, .. }) => {
                assert_eq!(field, "session_limit_policy")
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
}

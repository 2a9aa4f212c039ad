//! `Config` as the bindings see it: integer milliseconds and bytes, every field defaulted, so
//! `Config()` / `Config(idleTimeoutMs = …)` work in every language.

use crate::error::{Result, SessionkitError};
use crate::{ContextPolicy, SessionLimitPolicy};

/// Timeouts, limits and state settings (SPEC §1). Times are milliseconds, sizes bytes.
///
/// The defaults are the engine's (checked by a test); invalid values are refused when a manager
/// is opened, with `InvalidInput` naming the field. The two policies are unset in `Config()`
/// (uniffi gives enum fields no default value) and then the engine's defaults, `Reject` and
/// `Signal`; a manager's `config()` always names them.
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
    /// What happens at the per-user limit: `Reject` (unset: the default) refuses the new
    /// session, `EvictOldest` revokes the least recently active ones to make room.
    #[uniffi(default = None)]
    pub session_limit_policy: Option<SessionLimitPolicy>,
    /// State larger than this (serialized JSON bytes) is stored compressed (default 10 KiB).
    #[uniffi(default = 10240)]
    pub state_compression_threshold: u64,
    /// State larger than this (serialized JSON bytes) is refused (default 5 MiB).
    #[uniffi(default = 5242880)]
    pub state_max_bytes: u64,
    /// What `validate_in_context` does when a request's IP or User-Agent differs from the
    /// stored ones: `Signal` (unset: the default) emits `ContextChanged`, `Strict` also refuses.
    #[uniffi(default = None)]
    pub context_policy: Option<ContextPolicy>,
}

/// The engine's default configuration: `Config()`'s values, with the policies named.
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
            session_limit_policy: c.session_limit_policy.map(Into::into).unwrap_or_default(),
            state_compression_threshold: c.state_compression_threshold,
            state_max_bytes: c.state_max_bytes,
            context_policy: c.context_policy.map(Into::into).unwrap_or_default(),
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
            session_limit_policy: Some(c.session_limit_policy.into()),
            state_compression_threshold: c.state_compression_threshold,
            state_max_bytes: c.state_max_bytes,
            context_policy: Some(c.context_policy.into()),
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
            session_limit_policy: None,
            state_compression_threshold: 10_240,
            state_max_bytes: 5_242_880,
            context_policy: None,
        };
        assert_eq!(
            sessionkit::Config::try_from(literals.clone()),
            Ok(sessionkit::Config::default())
        );
        let named = Config {
            session_limit_policy: Some(SessionLimitPolicy::Reject),
            context_policy: Some(ContextPolicy::Signal),
            ..literals
        };
        assert_eq!(named, default_config());
    }
}

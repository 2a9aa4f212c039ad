//! Manager configuration (docs/SPEC.md §1) and its validation.

/// What `create` does when a user already has `max_sessions_per_user` live sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionLimitPolicy {
    /// Refuse the new session with `LimitExceeded { what: "max_sessions_per_user" }`.
    #[default]
    Reject,
    /// Revoke the least recently active live sessions to make room.
    EvictOldest,
}

impl SessionLimitPolicy {
    /// The policy's name: `reject` or `evict_oldest`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionLimitPolicy::Reject => "reject",
            SessionLimitPolicy::EvictOldest => "evict_oldest",
        }
    }

    /// Parses `reject` or `evict_oldest`.
    pub fn parse(name: &str) -> crate::Result<Self> {
        match name {
            "reject" => Ok(SessionLimitPolicy::Reject),
            "evict_oldest" => Ok(SessionLimitPolicy::EvictOldest),
            other => Err(crate::Error::invalid_input(
                "session_limit_policy",
                format!("expected \"reject\" or \"evict_oldest\", got {other:?}"),
            )),
        }
    }
}

/// Timeouts, limits and state settings. Times are integer milliseconds, sizes bytes.
///
/// Every field has a default; [`Config::validate`] (called by `SessionManager::open`) refuses
/// nonsensical values with `InvalidInput` instead of panicking later.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// A session unused this long expires (default 30 minutes).
    pub idle_timeout_ms: i64,
    /// A session expires this long after creation whatever its activity (default 30 days).
    pub absolute_timeout_ms: i64,
    /// `validate` writes the slid expiry at most this often per session (default 60 s).
    pub touch_interval_ms: i64,
    /// Live sessions allowed per user; `None` (default) for no limit.
    pub max_sessions_per_user: Option<u32>,
    /// What happens at the per-user limit (default `reject`).
    pub session_limit_policy: SessionLimitPolicy,
    /// State larger than this (serialized JSON bytes) is stored compressed (default 10 KiB).
    pub state_compression_threshold: u64,
    /// State larger than this (serialized JSON bytes) is refused (default 5 MiB).
    pub state_max_bytes: u64,
    /// What `validate_in_context` does when a request's IP or User-Agent differs from the
    /// stored ones (default `signal`: an event; `strict`: refuse).
    pub context_policy: crate::ContextPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout_ms: 30 * MINUTE_MS,
            absolute_timeout_ms: 30 * DAY_MS,
            touch_interval_ms: 60_000,
            max_sessions_per_user: None,
            session_limit_policy: SessionLimitPolicy::Reject,
            state_compression_threshold: 10 * 1024,
            state_max_bytes: 5 * 1024 * 1024,
            context_policy: crate::ContextPolicy::Signal,
        }
    }
}

const MINUTE_MS: i64 = 60_000;
use crate::policy::DAY_MS;
/// The longest timeout accepted: 100 years. Keeps every sum of times far from `i64` overflow.
pub(crate) const MAX_TIMEOUT_MS: i64 = 36_525 * DAY_MS;
/// The largest state accepted, whatever the configuration: 1 GiB.
pub(crate) const MAX_STATE_BYTES: u64 = 1 << 30;

impl Config {
    /// Checks every field; the first problem found is returned as `InvalidInput`.
    pub fn validate(&self) -> crate::Result<()> {
        use crate::Error;
        let timeout = |field: &str, value: i64| -> crate::Result<()> {
            if value <= 0 {
                return Err(Error::invalid_input(field, "must be greater than zero"));
            }
            if value > MAX_TIMEOUT_MS {
                return Err(Error::invalid_input(field, "must be at most 100 years"));
            }
            Ok(())
        };
        timeout("idle_timeout_ms", self.idle_timeout_ms)?;
        timeout("absolute_timeout_ms", self.absolute_timeout_ms)?;
        if self.idle_timeout_ms > self.absolute_timeout_ms {
            return Err(Error::invalid_input(
                "idle_timeout_ms",
                "must not be longer than absolute_timeout_ms",
            ));
        }
        if self.touch_interval_ms < 0 {
            return Err(Error::invalid_input(
                "touch_interval_ms",
                "must not be negative",
            ));
        }
        if self.touch_interval_ms >= self.idle_timeout_ms {
            return Err(Error::invalid_input(
                "touch_interval_ms",
                "must be shorter than idle_timeout_ms",
            ));
        }
        if self.max_sessions_per_user == Some(0) {
            return Err(Error::invalid_input(
                "max_sessions_per_user",
                "must be at least 1 (leave it unset for no limit)",
            ));
        }
        if self.state_max_bytes == 0 {
            return Err(Error::invalid_input(
                "state_max_bytes",
                "must be greater than zero",
            ));
        }
        if self.state_max_bytes > MAX_STATE_BYTES {
            return Err(Error::invalid_input(
                "state_max_bytes",
                "must be at most 1 GiB",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let c = Config::default();
        assert_eq!(c.idle_timeout_ms, 1_800_000);
        assert_eq!(c.absolute_timeout_ms, 2_592_000_000);
        assert_eq!(c.touch_interval_ms, 60_000);
        assert_eq!(c.state_compression_threshold, 10_240);
        assert_eq!(c.state_max_bytes, 5_242_880);
        c.validate().unwrap();
    }

    #[test]
    fn nonsense_is_refused_with_the_field_named() {
        let cases: Vec<(Config, &str)> = vec![
            (
                Config {
                    idle_timeout_ms: 0,
                    ..Config::default()
                },
                "idle_timeout_ms",
            ),
            (
                Config {
                    absolute_timeout_ms: -5,
                    ..Config::default()
                },
                "absolute_timeout_ms",
            ),
            (
                Config {
                    idle_timeout_ms: 10,
                    absolute_timeout_ms: 5,
                    touch_interval_ms: 1,
                    ..Config::default()
                },
                "idle_timeout_ms",
            ),
            (
                Config {
                    touch_interval_ms: -1,
                    ..Config::default()
                },
                "touch_interval_ms",
            ),
            (
                Config {
                    max_sessions_per_user: Some(0),
                    ..Config::default()
                },
                "max_sessions_per_user",
            ),
            (
                Config {
                    state_max_bytes: 0,
                    ..Config::default()
                },
                "state_max_bytes",
            ),
            (
                Config {
                    absolute_timeout_ms: i64::MAX,
                    ..Config::default()
                },
                "absolute_timeout_ms",
            ),
        ];
        for (config, field) in cases {
            match config.validate() {
                Err(crate::Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected InvalidInput, got {other:?}"),
            }
        }
    }
}

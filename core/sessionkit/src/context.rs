//! The context signal (SPEC §11): the IP address and User-Agent a request came with, compared
//! with the ones stored at sign-in. A change is a signal (an event) by default; a strict policy
//! refuses the request instead.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::Session;

/// What `validate_in_context` does when a request's IP or User-Agent differs from the stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextPolicy {
    /// Accept the request and emit `ContextChanged` (the default).
    #[default]
    Signal,
    /// Refuse the request with `InvalidToken` (changing nothing) and emit `ContextChanged`.
    Strict,
}

impl ContextPolicy {
    /// The policy's name: `signal` or `strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContextPolicy::Signal => "signal",
            ContextPolicy::Strict => "strict",
        }
    }

    /// Parses `signal` or `strict`.
    pub fn parse(name: &str) -> crate::Result<Self> {
        match name {
            "signal" => Ok(ContextPolicy::Signal),
            "strict" => Ok(ContextPolicy::Strict),
            other => Err(crate::Error::invalid_input(
                "context_policy",
                format!("expected \"signal\" or \"strict\", got {other:?}"),
            )),
        }
    }
}

/// Where a request came from, as the caller (a server) saw it. Unknown parts are `None` and
/// never count as a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The client's IP address (the peer, or a trusted proxy's header).
    pub ip: Option<String>,
    /// The request's User-Agent.
    pub user_agent: Option<String>,
}

/// Which parts of the context differ from the stored ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ContextChange {
    pub ip_changed: bool,
    pub user_agent_changed: bool,
}

impl ContextChange {
    pub(crate) fn any(self) -> bool {
        self.ip_changed || self.user_agent_changed
    }
}

/// Compares a request's context with a session's stored IP and User-Agent. Addresses compare as
/// addresses (`::ffff:10.0.0.1` is `10.0.0.1`), so spelling never counts as a change.
pub(crate) fn compare(session: &Session, context: &RequestContext) -> ContextChange {
    let ip_changed = match (&session.ip, &context.ip) {
        (Some(stored), Some(seen)) => !same_address(stored, seen),
        _ => false,
    };
    let user_agent_changed = match (&session.user_agent, &context.user_agent) {
        (Some(stored), Some(seen)) => stored != seen,
        _ => false,
    };
    ContextChange {
        ip_changed,
        user_agent_changed,
    }
}

fn same_address(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

fn canonical(text: &str) -> Option<IpAddr> {
    let ip: IpAddr = text.trim().parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(ip: Option<&str>, ua: Option<&str>) -> Session {
        Session {
            id: crate::SessionId::from_bytes([1; 16]),
            user_id: "u".into(),
            created_at: 0,
            last_active_at: 0,
            expires_at: 1,
            absolute_expires_at: 1,
            client: crate::ClientInfo {
                kind: crate::ClientKind::Web,
                version: None,
                device: None,
            },
            ip: ip.map(Into::into),
            user_agent: ua.map(Into::into),
            active: true,
            metadata: Default::default(),
        }
    }

    fn ctx(ip: Option<&str>, ua: Option<&str>) -> RequestContext {
        RequestContext {
            ip: ip.map(Into::into),
            user_agent: ua.map(Into::into),
        }
    }

    #[test]
    fn only_known_parts_that_differ_count_as_changes() {
        let s = session(Some("10.0.0.1"), Some("app/1"));
        assert!(!compare(&s, &ctx(Some("10.0.0.1"), Some("app/1"))).any());
        assert!(!compare(&s, &ctx(Some("::ffff:10.0.0.1"), None)).any());
        assert!(!compare(&s, &ctx(None, None)).any());
        let c = compare(&s, &ctx(Some("10.0.0.2"), Some("app/1")));
        assert!(c.ip_changed && !c.user_agent_changed);
        let c = compare(&s, &ctx(Some("10.0.0.1"), Some("app/2")));
        assert!(!c.ip_changed && c.user_agent_changed);
        assert!(!compare(&session(None, None), &ctx(Some("1.2.3.4"), Some("x"))).any());
    }

    #[test]
    fn policies_parse_by_name() {
        assert_eq!(
            ContextPolicy::parse("strict").unwrap(),
            ContextPolicy::Strict
        );
        assert_eq!(ContextPolicy::default().as_str(), "signal");
        assert!(ContextPolicy::parse("lax").is_err());
    }
}

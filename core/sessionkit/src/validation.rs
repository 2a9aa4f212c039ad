//! Checks on caller-supplied fields, so bad input is refused before anything is stored.
//!
//! The same checks run on a session created through the API and on one read from an import
//! file: an import is input like any other, and a record it carries gets no more trust than
//! `create`'s arguments (see [`imported_session`]).

use crate::{Config, Error, NewSession, Result, Session};

/// Longest `user_id` in bytes.
pub(crate) const MAX_USER_ID_BYTES: usize = 256;
const MAX_SHORT_FIELD_BYTES: usize = 256;
const MAX_USER_AGENT_BYTES: usize = 1024;

/// Checks a user id: non-empty, at most 256 bytes, no control characters, and no invisible
/// or direction-changing characters ([`is_hidden_char`]): an id that displays like another
/// (`admin` and `ad\u{200B}min`, or text reversed by U+202E) would mislead whoever reads a device
/// list, a log or the CLI's output.
///
/// The id is otherwise opaque and compared byte for byte: it is *not* Unicode-normalised, so
/// `"é"` precomposed (NFC) and `"e\u{301}"` (NFD) are two users. An application whose ids are
/// typed by people normalises them (NFC) before they reach sessionkit, as it does for its own
/// user table; normalising here would silently merge ids the application holds apart.
pub(crate) fn user_id(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_input("user_id", "must not be empty"));
    }
    if value.len() > MAX_USER_ID_BYTES {
        return Err(Error::invalid_input("user_id", "must be at most 256 bytes"));
    }
    no_control_characters("user_id", value)?;
    if value.chars().any(is_hidden_char) {
        return Err(Error::invalid_input(
            "user_id",
            "must not contain invisible or bidirectional formatting characters",
        ));
    }
    Ok(())
}

/// Whether `c` is a character that changes how text around it is displayed without being seen
/// itself: a control character (Unicode category Cc: C0, DEL and C1, terminal escape sequences
/// among them) or a format character (category Cf: bidirectional embeddings, overrides, isolates
/// and marks such as U+202E, zero-width spaces and joiners, the byte order mark, soft hyphen,
/// invisible operators, interlinear annotation and tag characters).
///
/// `user_id` refuses them; the CLI removes them from what it prints for people.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control() || is_format_char(c)
}

/// Unicode general category Cf (format), as of Unicode 16.
fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

fn no_control_characters(field: &str, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<()> {
    if let Some(text) = value {
        if text.len() > max {
            return Err(Error::invalid_input(
                field,
                format!("must be at most {max} bytes"),
            ));
        }
        no_control_characters(field, text)?;
    }
    Ok(())
}

/// Checks every field of a new session except metadata (checked when it is serialized).
pub(crate) fn new_session(new: &NewSession) -> Result<()> {
    user_id(&new.user_id)?;
    client_fields(
        new.client_version.as_deref(),
        new.device.as_deref(),
        new.ip.as_deref(),
        new.user_agent.as_deref(),
    )
}

/// The optional descriptive fields, as `create` takes them and a session stores them.
fn client_fields(
    client_version: Option<&str>,
    device: Option<&str>,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<()> {
    optional_text("client_version", client_version, MAX_SHORT_FIELD_BYTES)?;
    optional_text("device", device, MAX_SHORT_FIELD_BYTES)?;
    optional_text("user_agent", user_agent, MAX_USER_AGENT_BYTES)?;
    if let Some(ip) = ip {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(Error::invalid_input(
                "ip",
                "must be an IPv4 or IPv6 address",
            ));
        }
    }
    Ok(())
}

/// Checks a session read from an import file as strictly as one `create` would have made under
/// `config` by `now` (metadata is checked by the caller when it is serialized):
///
/// - `user_id`, client version, device, IP and user agent pass `create`'s checks;
/// - no time lies in the future (`created_at`, `last_active_at` at most `now`);
/// - the times are consistent: `created_at <= last_active_at`,
///   `expires_at <= absolute_expires_at`;
/// - the lifetimes fit the configured timeouts: `absolute_expires_at` at most
///   `created_at + absolute_timeout_ms`, `expires_at` at most `last_active_at + idle_timeout_ms`.
///   A file written under longer timeouts is refused, not shortened: import it under the
///   configuration it was written with, or not at all.
pub(crate) fn imported_session(session: &Session, config: &Config, now: i64) -> Result<()> {
    user_id(&session.user_id)?;
    client_fields(
        session.client.version.as_deref(),
        session.client.device.as_deref(),
        session.ip.as_deref(),
        session.user_agent.as_deref(),
    )?;
    let times = |reason: &str| Err(Error::invalid_input("session", reason));
    if session.created_at > now || session.last_active_at > now {
        return times("times are in the future (created_at or last_active_at after now)");
    }
    if session.expires_at > session.absolute_expires_at
        || session.last_active_at < session.created_at
    {
        return times(
            "times are inconsistent (expires_at after absolute_expires_at, or activity before \
             creation)",
        );
    }
    if session.absolute_expires_at
        > session
            .created_at
            .saturating_add(config.absolute_timeout_ms)
    {
        return times("absolute_expires_at is further from created_at than absolute_timeout_ms");
    }
    if session.expires_at
        > session
            .last_active_at
            .saturating_add(config.idle_timeout_ms)
    {
        return times("expires_at is further from last_active_at than idle_timeout_ms");
    }
    Ok(())
}

/// The deepest nesting of arrays and objects that reading JSON back accepts (serde_json's
/// recursion limit). A deeper value could be written but never read again, so it is refused.
pub(crate) const MAX_JSON_DEPTH: usize = 127;

/// Whether `value` nests at most `remaining` arrays and objects. Recurses at most
/// `remaining + 1` frames deep, whatever the value.
pub(crate) fn json_depth_within(value: &serde_json::Value, remaining: usize) -> bool {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            remaining > 0 && items.iter().all(|v| json_depth_within(v, remaining - 1))
        }
        Value::Object(map) => {
            remaining > 0 && map.values().all(|v| json_depth_within(v, remaining - 1))
        }
        _ => true,
    }
}

/// `InvalidInput { field }` for JSON nested deeper than [`MAX_JSON_DEPTH`].
pub(crate) fn too_deep(field: &str) -> Error {
    Error::invalid_input(
        field,
        format!("nested deeper than {MAX_JSON_DEPTH} arrays and objects"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientKind;

    #[test]
    fn user_ids_are_checked() {
        assert!(user_id("alice").is_ok());
        assert!(user_id(&"é".repeat(128)).is_ok());
        for bad in ["", "a\0b", "tab\there", &"x".repeat(257), &"é".repeat(129)] {
            assert_eq!(
                user_id(bad).unwrap_err().kind(),
                crate::ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn user_ids_with_invisible_or_bidi_characters_are_refused() {
        for bad in [
            "admin\u{202E}nimda",    // right-to-left override
            "\u{2066}alice\u{2069}", // isolate
            "al\u{200E}ice",         // left-to-right mark
            "ad\u{200B}min",         // zero-width space
            "ad\u{200D}min",         // zero-width joiner
            "\u{FEFF}bob",           // byte order mark
            "bob\u{AD}",             // soft hyphen
            "tag\u{E0041}",          // tag character
        ] {
            let err = user_id(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
            assert!(
                err.to_string().contains("invisible or bidirectional"),
                "{bad:?}"
            );
        }
        // Right-to-left text itself is fine; only the characters that steer display are not.
        assert!(user_id("\u{5E9}\u{5DC}\u{5D5}\u{5DD}").is_ok());
        assert!(user_id("Zoë 🙂").is_ok());
    }

    #[test]
    fn user_ids_are_not_normalised_so_nfc_and_nfd_twins_are_two_users() {
        let nfc = "Jos\u{E9}";
        let nfd = "Jose\u{301}";
        assert!(user_id(nfc).is_ok());
        assert!(user_id(nfd).is_ok());
        assert_ne!(nfc, nfd, "compared byte for byte, as stored");
    }

    #[test]
    fn hidden_chars_cover_controls_and_format_characters_only() {
        for c in [
            '\0',
            '\n',
            '\u{1B}',
            '\u{7F}',
            '\u{9B}',
            '\u{202E}',
            '\u{200B}',
            '\u{E007F}',
        ] {
            assert!(is_hidden_char(c), "{c:?}");
        }
        for c in ['a', ' ', 'é', '\u{5E9}', '🙂', '\u{301}', '\u{3000}'] {
            assert!(!is_hidden_char(c), "{c:?}");
        }
    }

    fn imported() -> Session {
        Session {
            id: crate::SessionId::from_bytes([1; 16]),
            user_id: "alice".into(),
            created_at: 1_000,
            last_active_at: 2_000,
            expires_at: 2_000 + 1_800_000,
            absolute_expires_at: 1_000 + 2_592_000_000,
            client: crate::ClientInfo {
                kind: ClientKind::Web,
                version: Some("1.0".into()),
                device: Some("Pixel 8".into()),
            },
            ip: Some("10.0.0.1".into()),
            user_agent: Some("Firefox".into()),
            active: true,
            metadata: Default::default(),
        }
    }

    #[test]
    fn imported_sessions_are_checked_like_created_ones() {
        let config = Config::default();
        let now = 10_000;
        assert!(imported_session(&imported(), &config, now).is_ok());
        type Edit<'a> = Box<dyn Fn(&mut Session) + 'a>;
        let cases: Vec<(&str, Edit<'_>)> = vec![
            ("ip", Box::new(|s| s.ip = Some("not an ip".into()))),
            (
                "device",
                Box::new(|s| s.client.device = Some("\u{1B}[2J".into())),
            ),
            (
                "device",
                Box::new(|s| s.client.device = Some("d".repeat(257))),
            ),
            (
                "client_version",
                Box::new(|s| s.client.version = Some("\u{9B}31m".into())),
            ),
            (
                "user_agent",
                Box::new(|s| s.user_agent = Some("a".repeat(200_000))),
            ),
            ("user_id", Box::new(|s| s.user_id = "a\u{202E}b".into())),
            ("session", Box::new(|s| s.created_at = now + 1)),
            ("session", Box::new(|s| s.last_active_at = now + 1)),
            ("session", Box::new(|s| s.last_active_at = s.created_at - 1)),
            (
                "session",
                Box::new(|s| s.expires_at = s.absolute_expires_at + 1),
            ),
            ("session", Box::new(|s| s.absolute_expires_at = i64::MAX)),
            (
                "session",
                Box::new(|s| s.absolute_expires_at = s.created_at + config_absolute() + 1),
            ),
            (
                "session",
                Box::new(|s| s.expires_at = s.last_active_at + 1_800_001),
            ),
        ];
        for (field, edit) in cases {
            let mut session = imported();
            edit(&mut session);
            match imported_session(&session, &config, now) {
                Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected InvalidInput, got {other:?}"),
            }
        }
        // A shorter configured timeout refuses what a longer one accepted.
        let short = Config {
            absolute_timeout_ms: 12 * 3_600_000,
            ..Config::default()
        };
        assert!(imported_session(&imported(), &short, now).is_err());
    }

    fn config_absolute() -> i64 {
        Config::default().absolute_timeout_ms
    }

    #[test]
    fn optional_fields_are_checked() {
        let mut new = NewSession::new("u", ClientKind::Web);
        new.ip = Some("::1".into());
        assert!(new_session(&new).is_ok());
        new.ip = Some("localhost".into());
        assert!(new_session(&new).is_err());
        new.ip = None;
        new.user_agent = Some("x".repeat(1025));
        assert!(new_session(&new).is_err());
    }
}

//! The printable results of the commands: sessions, device lists, state, statistics, counts and
//! plain confirmations, each in a human form and a JSON form.

use comfy_table::{presets, Cell, ContentArrangement, Table};
use serde::Serialize;
use serde_json::{json, Value};
use sessionkit::{Created, Page, Session, SessionId, State, Stats};

use super::clean::clean_value;
use super::time::{bytes, duration, iso};
use super::Render;

/// Serializes a record for JSON output. The engine's records always serialize; `Null` stands in
/// for the impossible failure rather than a panic.
pub fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A session's status at `now`, for display: `active`, `revoked` or `expired`.
pub fn status(session: &Session, now: i64) -> &'static str {
    session.status_at(now).as_str()
}

/// `web 2.4.1 (Firefox on Linux)`: the client kind, version and device in one cell.
pub fn client_label(session: &Session) -> String {
    let mut text = session.client.kind.as_str().to_owned();
    if let Some(version) = &session.client.version {
        text.push(' ');
        text.push_str(version);
    }
    if let Some(device) = &session.client.device {
        text.push_str(&format!(" ({device})"));
    }
    text
}

/// Label/value lines with the values aligned (each value cleaned to one printable line).
fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("  {k:<width$}  {}", clean_value(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The detail lines of one session.
fn session_fields(session: &Session, now: i64) -> Vec<(&'static str, String)> {
    let which = if session.expires_at >= session.absolute_expires_at {
        "absolute cap"
    } else {
        "idle"
    };
    let metadata = serde_json::to_string(&session.metadata).unwrap_or_default();
    vec![
        ("id", session.id.to_string()),
        ("user", session.user_id.clone()),
        ("client", client_label(session)),
        ("ip", session.ip.clone().unwrap_or_else(|| "-".into())),
        (
            "user agent",
            session.user_agent.clone().unwrap_or_else(|| "-".into()),
        ),
        ("status", status(session, now).into()),
        ("created", iso(session.created_at)),
        ("last active", iso(session.last_active_at)),
        ("expires", format!("{} ({which})", iso(session.expires_at))),
        ("absolute expiry", iso(session.absolute_expires_at)),
        ("metadata", metadata),
    ]
}

/// One session (`validate`, `touch`, `metadata`).
#[derive(Debug)]
pub struct SessionView {
    /// A line above the details, e.g. `Token is valid.`
    pub headline: String,
    /// The session.
    pub session: Session,
    /// The time the status is judged at.
    pub now: i64,
}

impl Render for SessionView {
    fn json(&self) -> Value {
        to_json(&self.session)
    }
    fn human(&self) -> String {
        format!(
            "{}\n{}",
            self.headline,
            fields(&session_fields(&self.session, self.now))
        )
    }
}

/// A new session and its token (`create`, `rotate`).
#[derive(Debug)]
pub struct CreatedView {
    /// The session and token the engine returned.
    pub created: Created,
    /// For `rotate`: the id that no longer exists.
    pub replaced: Option<SessionId>,
    /// The time the status is judged at.
    pub now: i64,
}

impl Render for CreatedView {
    fn json(&self) -> Value {
        let mut doc = json!({
            "session": to_json(&self.created.session),
            "token": self.created.token.as_str(),
        });
        if let Some(old) = self.replaced {
            doc["replaced_session_id"] = json!(old.to_string());
        }
        doc
    }
    fn human(&self) -> String {
        let headline = match self.replaced {
            Some(old) => format!(
                "Rotated session {old} -> {}: the old token no longer works.",
                self.created.session.id
            ),
            None => format!(
                "Created session {} for {}.",
                self.created.session.id, self.created.session.user_id
            ),
        };
        format!(
            "{headline}\n{}\n\nToken (shown this once: only its hash is stored, it cannot be \
             shown again):\n  {}",
            fields(&session_fields(&self.created.session, self.now)),
            self.created.token.as_str()
        )
    }
}

/// A table of sessions, one row each.
pub fn session_table(sessions: &[Session], now: i64) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "ID",
            "USER",
            "CLIENT",
            "IP",
            "STATUS",
            "CREATED",
            "LAST ACTIVE",
            "EXPIRES",
        ]);
    for s in sessions {
        table.add_row([
            Cell::new(s.id),
            Cell::new(clean_value(&s.user_id)),
            Cell::new(clean_value(&client_label(s))),
            Cell::new(clean_value(s.ip.as_deref().unwrap_or("-"))),
            Cell::new(status(s, now)),
            Cell::new(iso(s.created_at)),
            Cell::new(iso(s.last_active_at)),
            Cell::new(iso(s.expires_at)),
        ]);
    }
    // Plain columns like `ps` or `kubectl get`: easy to read, grep and cut.
    table
        .to_string()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One page of a user's sessions (`list`).
#[derive(Debug)]
pub struct PageView {
    /// The user listed.
    pub user_id: String,
    /// The page.
    pub page: Page<Session>,
    /// The time statuses are judged at.
    pub now: i64,
}

impl Render for PageView {
    fn json(&self) -> Value {
        to_json(&self.page)
    }
    fn human(&self) -> String {
        let mut text = if self.page.items.is_empty() {
            format!("No sessions for {} on this page.", self.user_id)
        } else {
            session_table(&self.page.items, self.now)
        };
        match &self.page.next_cursor {
            Some(cursor) => text.push_str(&format!(
                "\nMore sessions: pass --cursor {cursor} for the next page."
            )),
            None => text.push_str("\n(last page)"),
        }
        text
    }
}

/// The facts about a state, without its data.
fn state_summary(state: &State) -> Vec<(&'static str, String)> {
    vec![
        ("version", state.version.to_string()),
        (
            "size",
            format!("{} ({} bytes)", bytes(state.size), state.size),
        ),
        (
            "stored",
            format!(
                "{} ({} bytes, {})",
                bytes(state.stored_size),
                state.stored_size,
                if state.compressed {
                    "compressed"
                } else {
                    "uncompressed"
                }
            ),
        ),
        ("checksum", state.checksum.clone()),
        ("updated", iso(state.updated_at)),
    ]
}

/// The JSON summary of a state (every field but `data`).
fn state_summary_json(state: &State) -> Value {
    json!({
        "version": state.version,
        "checksum": state.checksum,
        "size": state.size,
        "compressed": state.compressed,
        "stored_size": state.stored_size,
        "updated_at": state.updated_at,
    })
}

/// A session with a summary of its state (`show`).
#[derive(Debug)]
pub struct ShowView {
    /// The session.
    pub session: Session,
    /// Its state, if it has one (`None` also when the session cannot hold state any more).
    pub state: Option<State>,
    /// The time the status is judged at.
    pub now: i64,
}

impl Render for ShowView {
    fn json(&self) -> Value {
        json!({
            "session": to_json(&self.session),
            "state": self.state.as_ref().map(state_summary_json),
        })
    }
    fn human(&self) -> String {
        let state = match &self.state {
            Some(state) => fields(&state_summary(state)),
            None => "  (none)".into(),
        };
        format!(
            "Session {}\n{}\n\nState\n{state}",
            self.session.id,
            fields(&session_fields(&self.session, self.now))
        )
    }
}

/// A session's state, data included (`state get`).
#[derive(Debug)]
pub struct StateView {
    /// The state, or `None` when the session has none.
    pub state: Option<State>,
}

impl Render for StateView {
    fn json(&self) -> Value {
        to_json(&self.state)
    }
    fn human(&self) -> String {
        match &self.state {
            None => "The session has no state.".into(),
            Some(state) => format!(
                "{}\n\n{}",
                fields(&state_summary(state)),
                serde_json::to_string_pretty(&state.data).unwrap_or_default()
            ),
        }
    }
}

/// Aggregate figures (`stats`).
#[derive(Debug)]
pub struct StatsView {
    /// The figures.
    pub stats: Stats,
}

/// The human lines of a [`Stats`], shared with the demo's summary.
pub fn stats_lines(stats: &Stats) -> String {
    let kinds = stats
        .by_client_kind
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    fields(&[
        ("sessions stored", stats.total.to_string()),
        ("active", stats.active.to_string()),
        ("created last 24h", stats.created_last_24h.to_string()),
        ("created last 7d", stats.created_last_7d.to_string()),
        ("by client kind", kinds),
        (
            "average duration",
            format!(
                "{} ({} ms)",
                duration(stats.average_duration_ms),
                stats.average_duration_ms
            ),
        ),
    ])
}

impl Render for StatsView {
    fn json(&self) -> Value {
        to_json(&self.stats)
    }
    fn human(&self) -> String {
        stats_lines(&self.stats)
    }
}

/// A confirmation or a small figure: a sentence for people, a document for scripts.
#[derive(Debug)]
pub struct Message {
    /// The human sentence.
    pub text: String,
    /// The JSON document.
    pub json: Value,
}

impl Message {
    /// A message with its two forms.
    pub fn new(text: impl Into<String>, json: Value) -> Self {
        Message {
            text: text.into(),
            json,
        }
    }
}

impl Render for Message {
    fn json(&self) -> Value {
        self.json.clone()
    }
    fn human(&self) -> String {
        self.text.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sessionkit::{ClientInfo, ClientKind};

    fn session() -> Session {
        Session {
            id: SessionId::from_bytes([1; 16]),
            user_id: "alice".into(),
            created_at: 0,
            last_active_at: 1_000,
            expires_at: 10_000,
            absolute_expires_at: 20_000,
            client: ClientInfo {
                kind: ClientKind::Web,
                version: Some("2.1".into()),
                device: Some("Firefox on Linux".into()),
            },
            ip: None,
            user_agent: None,
            active: true,
            metadata: Default::default(),
        }
    }

    #[test]
    fn status_follows_revocation_then_expiry() {
        let mut s = session();
        assert_eq!(status(&s, 9_999), "active");
        assert_eq!(status(&s, 10_000), "expired");
        s.active = false;
        assert_eq!(status(&s, 0), "revoked");
    }

    #[test]
    fn session_json_uses_the_spec_field_names() {
        let v = SessionView {
            headline: String::new(),
            session: session(),
            now: 0,
        }
        .json();
        assert_eq!(v["user_id"], "alice");
        assert_eq!(v["client"]["kind"], "web");
        assert_eq!(v["last_active_at"], 1_000);
        assert_eq!(v["absolute_expires_at"], 20_000);
    }

    #[test]
    fn tables_show_iso_times_and_the_client() {
        let text = session_table(&[session()], 0);
        assert!(text.contains("1970-01-01T00:00:10Z"), "{text}");
        assert!(text.contains("web 2.1 (Firefox on Linux)"), "{text}");
    }
}

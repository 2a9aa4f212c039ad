//! Maintenance and reporting commands: `cleanup`, `rekey`, `stats`, `count`.

use serde_json::json;
use sessionkit::SessionManager;

use crate::error::CliResult;
use crate::output::views::{Message, StatsView};
use crate::output::Printer;

/// `cleanup`: removes every expired session and its state.
pub async fn cleanup(m: &SessionManager, p: &Printer) -> CliResult<()> {
    let removed = m.cleanup_expired().await?;
    p.print(&Message::new(
        format!("Removed {removed} expired session(s)."),
        json!({ "removed": removed }),
    ))
}

/// `rekey`: every state moved under the current state key.
pub async fn rekey(m: &SessionManager, p: &Printer) -> CliResult<()> {
    let rewritten = m.rekey_states().await.map_err(|e| match e {
        sessionkit::Error::InvalidInput { field, .. } if field == "state_keys" => {
            sessionkit::Error::invalid_input(
                "state_keys",
                "no state keys: pass --state-key-file PATH (or set SESSIONKIT_STATE_KEYS)",
            )
        }
        other => other,
    })?;
    p.print(&Message::new(
        format!("Rewrote {rewritten} state(s) under the current key."),
        json!({ "rewritten": rewritten }),
    ))
}

/// `stats`: aggregate figures over all stored sessions.
pub async fn stats(m: &SessionManager, p: &Printer) -> CliResult<()> {
    let stats = m.stats().await?;
    p.print(&StatsView { stats })
}

/// `count`: sessions of everyone or of one user, optionally only active ones.
pub async fn count(
    m: &SessionManager,
    p: &Printer,
    user: Option<&str>,
    active_only: bool,
) -> CliResult<()> {
    let count = match user {
        Some(user) => m.count_user_sessions(user, active_only).await?,
        None if active_only => m.count_active().await?,
        // Every stored session, whatever its status: the engine's `stats().total`.
        None => m.stats().await?.total,
    };
    let what = if active_only { "active" } else { "stored" };
    let whose = user.map(|u| format!(" of {u}")).unwrap_or_default();
    p.print(&Message::new(
        format!("{count} {what} session(s){whose}."),
        json!({ "count": count, "user_id": user, "active_only": active_only }),
    ))
}

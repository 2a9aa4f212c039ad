//! Maintenance and reporting commands: `cleanup`, `stats`, `count`.

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

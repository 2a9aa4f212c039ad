//! Session commands: `create`, `validate`, `list`, `show`, `revoke`, `delete`, `revoke-user`,
//! `touch`, `rotate`, `metadata`.

use serde_json::json;
use sessionkit::{ClientKind, ListOptions, NewSession, SessionManager};

use crate::cli::{CreateArgs, ListArgs};
use crate::error::CliResult;
use crate::input;
use crate::output::views::{CreatedView, Message, PageView, SessionView, ShowView};
use crate::output::Printer;

/// `create`: starts a session and prints it with its token (the only time it is shown).
pub async fn create(m: &SessionManager, p: &Printer, args: &CreateArgs) -> CliResult<()> {
    let mut new = NewSession::new(args.user.clone(), ClientKind::parse(&args.kind)?);
    new.client_version = args.version.clone();
    new.device = args.device.clone();
    new.ip = args.ip.clone();
    new.user_agent = args.user_agent.clone();
    new.metadata = match &args.metadata {
        Some(text) => Some(input::json("metadata", text)?),
        None => None,
    };
    let created = m.create(new).await?;
    p.print(&CreatedView {
        created,
        replaced: None,
        now: m.now(),
    })
}

/// `validate`: checks a token (from stdin unless given) and prints its session (never the token).
pub async fn validate(m: &SessionManager, p: &Printer, token: Option<&str>) -> CliResult<()> {
    let token = input::token(token, p)?;
    let session = m.validate(&token).await?;
    p.print(&SessionView {
        headline: format!("Token is valid: session {}.", session.id),
        session,
        now: m.now(),
    })
}

/// `list`: one page of a user's sessions and the cursor of the next.
pub async fn list(m: &SessionManager, p: &Printer, args: &ListArgs) -> CliResult<()> {
    let options = ListOptions {
        active_only: args.active_only,
        limit: args.limit,
        cursor: args.cursor.clone(),
    };
    let page = m.list_user_sessions(&args.user, &options).await?;
    p.print(&PageView {
        user_id: args.user.clone(),
        page,
        now: m.now(),
    })
}

/// `show`: a session, whatever its status, and a summary of its state.
pub async fn show(m: &SessionManager, p: &Printer, id: &str) -> CliResult<()> {
    let id = input::session_id(id)?;
    let session = m.get(&id).await?;
    let state = m.get_state(&id).await?;
    p.print(&ShowView {
        session,
        state,
        now: m.now(),
    })
}

/// `revoke`: soft revocation of one session.
pub async fn revoke(m: &SessionManager, p: &Printer, id: &str) -> CliResult<()> {
    let id = input::session_id(id)?;
    m.revoke(&id).await?;
    p.print(&Message::new(
        format!("Session {id} is revoked."),
        json!({ "revoked": id.to_string() }),
    ))
}

/// `delete`: hard deletion of one session and its state.
pub async fn delete(m: &SessionManager, p: &Printer, id: &str) -> CliResult<()> {
    let id = input::session_id(id)?;
    m.delete(&id).await?;
    p.print(&Message::new(
        format!("Session {id} and its state are deleted."),
        json!({ "deleted": id.to_string() }),
    ))
}

/// `revoke-user`: "sign out everywhere (else)".
pub async fn revoke_user(
    m: &SessionManager,
    p: &Printer,
    user: &str,
    except: Option<&str>,
) -> CliResult<()> {
    let except = except.map(input::session_id).transpose()?;
    let revoked = m.revoke_user_sessions(user, except.as_ref()).await?;
    let kept = match except {
        Some(id) => format!(" (kept {id})"),
        None => String::new(),
    };
    p.print(&Message::new(
        format!("Revoked {revoked} session(s) of {user}{kept}."),
        json!({
            "user_id": user,
            "except": except.map(|id| id.to_string()),
            "revoked": revoked,
        }),
    ))
}

/// `revoke-all`: revokes every live session of every user.
pub async fn revoke_all(m: &SessionManager, p: &Printer) -> CliResult<()> {
    let revoked = m.revoke_all_sessions().await?;
    p.print(&Message::new(
        format!("Revoked {revoked} session(s) of every user."),
        json!({ "revoked": revoked }),
    ))
}

/// `delete-user`: deletes every session and state of a user.
pub async fn delete_user(m: &SessionManager, p: &Printer, user: &str) -> CliResult<()> {
    let deleted = m.delete_user_sessions(user).await?;
    p.print(&Message::new(
        format!("Deleted {deleted} session(s) of {user}, with their state."),
        json!({ "user_id": user, "deleted": deleted }),
    ))
}

/// `touch`: marks a session active now.
pub async fn touch(m: &SessionManager, p: &Printer, id: &str) -> CliResult<()> {
    let id = input::session_id(id)?;
    let session = m.touch(&id).await?;
    p.print(&SessionView {
        headline: format!("Session {id} touched."),
        session,
        now: m.now(),
    })
}

/// `rotate`: a new id and token for a session; prints the new token once.
pub async fn rotate(m: &SessionManager, p: &Printer, id: &str) -> CliResult<()> {
    let id = input::session_id(id)?;
    let created = m.rotate(&id).await?;
    p.print(&CreatedView {
        created,
        replaced: Some(id),
        now: m.now(),
    })
}

/// `metadata`: applies a JSON Merge Patch to a session's metadata.
pub async fn metadata(m: &SessionManager, p: &Printer, id: &str, patch: &str) -> CliResult<()> {
    let id = input::session_id(id)?;
    let patch = input::json("patch", patch)?;
    let session = m.update_metadata(&id, &patch).await?;
    p.print(&SessionView {
        headline: format!("Metadata of session {id} updated."),
        session,
        now: m.now(),
    })
}

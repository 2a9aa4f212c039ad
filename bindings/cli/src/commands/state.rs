//! `state get|put|patch|clear`: a session's client state, with compare-and-swap on its version.

use serde_json::json;
use sessionkit::SessionManager;

use crate::cli::StateCommand;
use crate::error::CliResult;
use crate::input;
use crate::output::views::{Message, StateView};
use crate::output::Printer;

/// Runs one `state` subcommand.
pub async fn run(m: &SessionManager, p: &Printer, command: &StateCommand) -> CliResult<()> {
    match command {
        StateCommand::Get { id } => {
            let id = input::session_id(id)?;
            let state = m.get_state(&id).await?;
            p.print(&StateView { state })
        }
        StateCommand::Put {
            id,
            data,
            file,
            expected_version,
        } => {
            let id = input::session_id(id)?;
            let text = match (data, file) {
                (Some(text), _) => text.clone(),
                (None, Some(path)) => input::read_text(path)?,
                // clap requires one of the two; refuse cleanly all the same.
                (None, None) => {
                    return Err(sessionkit::Error::invalid_input(
                        "data",
                        "pass --data JSON or --file PATH",
                    )
                    .into())
                }
            };
            let data = input::json("data", &text)?;
            let version = m.put_state(&id, &data, *expected_version).await?;
            written(p, "written", id, version)
        }
        StateCommand::Patch {
            id,
            patch,
            expected_version,
        } => {
            let id = input::session_id(id)?;
            let patch = input::json("patch", patch)?;
            let version = m.patch_state(&id, &patch, *expected_version).await?;
            written(p, "patched", id, version)
        }
        StateCommand::Clear { id } => {
            let id = input::session_id(id)?;
            m.clear_state(&id).await?;
            p.print(&Message::new(
                format!("State of session {id} cleared."),
                json!({ "cleared": id.to_string() }),
            ))
        }
    }
}

fn written(p: &Printer, what: &str, id: sessionkit::SessionId, version: u64) -> CliResult<()> {
    p.print(&Message::new(
        format!("State of session {id} {what}: now version {version}."),
        json!({ "session_id": id.to_string(), "version": version }),
    ))
}

//! The subcommands: each converts its arguments, calls the engine, and hands a printable result
//! to the [`Printer`]. No business rule lives here.

mod client;
mod maintenance;
mod serve;
mod sessions;
mod state;
mod transfer;

use crate::cli::{Cli, Command};
use crate::database::{self, Missing};
use crate::error::CliResult;
use crate::output::Printer;

/// Runs the parsed command line.
pub async fn run(cli: &Cli, printer: &Printer) -> CliResult<()> {
    let global = &cli.global;
    if let Command::Client(args) = &cli.command {
        // A client talks to a server; it opens no session database of its own.
        return client::run(args, printer);
    }
    let db = global.db_path()?;
    if let Command::Demo = cli.command {
        return crate::demo::run(&db, &global.config, printer).await;
    }
    let missing = match cli.command {
        Command::Create(_) | Command::Import { .. } | Command::Serve(_) => Missing::Create,
        _ => Missing::Refuse,
    };
    // Read before the database is opened: a bad key file changes nothing, not even by
    // creating the database.
    let keys = crate::keys::load(global.state_key_file.as_deref())?;
    let manager = database::open(&db, missing, &global.config)?;
    let manager = match keys {
        Some(keys) => manager.with_state_keys(keys),
        None => manager,
    };
    if let Command::Serve(args) = &cli.command {
        return serve::run(manager, &db, args);
    }
    let m = &manager;
    let p = printer;
    match &cli.command {
        Command::Demo => Ok(()),
        Command::Create(args) => sessions::create(m, p, args).await,
        Command::Validate { token } => sessions::validate(m, p, token.as_deref()).await,
        Command::List(args) => sessions::list(m, p, args).await,
        Command::Show { id } => sessions::show(m, p, id).await,
        Command::Revoke { id } => sessions::revoke(m, p, id).await,
        Command::Delete { id } => sessions::delete(m, p, id).await,
        Command::RevokeUser { user, except } => {
            sessions::revoke_user(m, p, user, except.as_deref()).await
        }
        Command::RevokeAll => sessions::revoke_all(m, p).await,
        Command::DeleteUser { user } => sessions::delete_user(m, p, user).await,
        Command::Touch { id } => sessions::touch(m, p, id).await,
        Command::Rotate { id } => sessions::rotate(m, p, id).await,
        Command::Metadata { id, patch } => sessions::metadata(m, p, id, patch).await,
        Command::Cleanup => maintenance::cleanup(m, p).await,
        Command::Stats => maintenance::stats(m, p).await,
        Command::Count { user, active_only } => {
            maintenance::count(m, p, user.as_deref(), *active_only).await
        }
        Command::State(command) => state::run(m, p, command).await,
        Command::Export { out } => transfer::export(m, p, out.as_deref()).await,
        Command::Import { input } => transfer::import(m, p, input.as_deref()).await,
        Command::Serve(_) | Command::Client(_) => Ok(()),
        Command::Rekey => maintenance::rekey(m, p).await,
    }
}

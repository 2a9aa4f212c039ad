//! `sessionkit`: the command-line face of sessionkit, over a SQLite file.
//!
//! This file only parses the command line, runs the command and turns failures into messages
//! and exit codes. The commands are in [`commands`], printing in [`output`], the scenario of
//! `sessionkit demo` in [`demo`]. Every rule is the engine's: the CLI converts and delegates.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli;
mod commands;
mod database;
mod demo;
mod error;
mod input;
mod keys;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::CliError;
use crate::output::Printer;

fn main() -> ExitCode {
    install_panic_hook();
    let wants_json = std::env::args_os().skip(1).any(|arg| arg == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, wants_json),
    };
    let printer = Printer::new(cli.global.json);
    match pollster::block_on(commands::run(&cli, &printer)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`sessionkit export | head`): nothing left to tell anyone.
        Err(CliError::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            printer.error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Prints clap's message (help and version are not errors) and returns its exit code.
fn usage_error(e: &clap::Error, wants_json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    let is_info = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if wants_json && !is_info {
        // Clap's message is its first paragraph, which may span lines ("the following required
        // arguments were not provided:" and then the arguments); usage and tips follow a blank
        // line.
        let rendered = e.render().to_string();
        let paragraph = rendered.split("\n\n").next().unwrap_or_default();
        let joined = paragraph
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let message = joined.strip_prefix("error: ").unwrap_or(&joined).to_owned();
        Printer::new(true).error(&CliError::Usage(message));
    } else {
        // Clap's own rendering: `error: …`, the usage line and a hint, on stderr.
        let _ = e.print();
    }
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// A panic is a bug; if one ever happens, say so in one line instead of a Rust backtrace hint.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error{location} (this is a bug in sessionkit; please report it)"
        );
    }));
}

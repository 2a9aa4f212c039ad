//! Everything the CLI prints: the [`Render`] trait every command result implements (a human
//! form and a JSON form), and the [`Printer`] that writes one or the other.
//!
//! Results go to stdout; human-mode errors and notes go to stderr. With `--json`, each command
//! prints exactly one JSON document on stdout (its result, or `{"error": …}`), except `export`,
//! which prints JSON lines.
//!
//! Everything printed for people passes through [`clean::clean`] on its way out, so no stored
//! text can carry a terminal escape sequence or a bidi override to the screen. JSON output is
//! left exact (JSON escapes control characters itself; a script gets the stored value).

pub mod clean;
pub mod time;
pub mod views;

use std::io::Write;

use serde_json::Value;

use crate::error::{CliError, CliResult};

/// A command's result, printable for people and for scripts.
pub trait Render {
    /// The JSON document (docs/SPEC.md §1 field names, times as i64 milliseconds).
    fn json(&self) -> Value;
    /// The human form: tables and sentences, times as ISO-8601 UTC. Ends without a newline.
    fn human(&self) -> String;
}

/// Writes results in the chosen mode.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    json: bool,
}

impl Printer {
    /// A printer for JSON (`--json`) or human output.
    pub fn new(json: bool) -> Self {
        Printer { json }
    }

    /// Whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a result in the chosen mode.
    pub fn print(&self, result: &dyn Render) -> CliResult<()> {
        if self.json {
            self.json_document(&result.json())
        } else {
            self.line(&clean::clean(&result.human()))
        }
    }

    /// Prints one JSON document, pretty-printed.
    pub fn json_document(&self, value: &Value) -> CliResult<()> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Engine(sessionkit::Error::storage(e)))?;
        self.line(&text)
    }

    /// Prints a line (text plus newline) to stdout, as it is: callers clean human text first.
    fn line(&self, text: &str) -> CliResult<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(|e| CliError::io("writing to stdout", e))
    }

    /// Prints a line to stdout in human mode only (narration that JSON output leaves out).
    pub fn narrate(&self, text: &str) -> CliResult<()> {
        if self.json {
            Ok(())
        } else {
            self.line(&clean::clean(text))
        }
    }

    /// Prints a note to stderr in human mode (never part of a result).
    pub fn note(&self, text: &str) {
        if !self.json {
            // A note that cannot be written (stderr closed) is not worth failing the command.
            let _ = writeln!(std::io::stderr().lock(), "{}", clean::clean(text));
        }
    }

    /// Prints a failure: `error: <message>` on stderr, or with `--json` the error document on
    /// stdout.
    pub fn error(&self, error: &CliError) {
        // Best effort: if the error itself cannot be written, the exit code still tells.
        if self.json {
            if let Ok(text) = serde_json::to_string_pretty(&error.to_json()) {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
        } else {
            let message = error.to_string();
            let _ = writeln!(
                std::io::stderr().lock(),
                "error: {}",
                clean::clean(&message)
            );
        }
    }
}

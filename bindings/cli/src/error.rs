//! What can make a command fail, how each failure is printed, and which exit code it gives.
//!
//! Engine errors keep their docs/SPEC.md §5 `kind`; the CLI adds only what is its own: usage
//! errors (from clap), file I/O, a bad line in an import file (which wraps the engine's error with
//! the line number) and a failed demo self-check. See [`crate::cli::EXIT_CODES_HELP`] for the
//! codes.

use std::fmt;

use serde_json::{json, Map, Value};
use sessionkit::{Error, ErrorKind};

/// Result alias of the CLI.
pub type CliResult<T> = std::result::Result<T, CliError>;

/// A failed command.
#[derive(Debug)]
pub enum CliError {
    /// The engine refused or failed.
    Engine(Error),
    /// The command line itself is wrong (clap's message, already formatted).
    Usage(String),
    /// Reading or writing a file (or stdin/stdout) failed.
    Io {
        /// What was being done, e.g. `reading import.jsonl`.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A line of an import file was refused; lines before it were processed, it and the lines
    /// after it were not.
    ImportLine {
        /// 1-based line number.
        line: usize,
        /// Sessions imported before it.
        imported: u64,
        /// Sessions skipped (id already present) before it.
        skipped: u64,
        /// Why the line was refused.
        source: Error,
    },
    /// The demo's own check of its figures failed: the engine disagreed with what the demo did.
    DemoCheck(String),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Engine(e)
    }
}

impl CliError {
    /// An [`CliError::Io`] with a description of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// The engine error underneath, if any.
    fn engine(&self) -> Option<&Error> {
        match self {
            CliError::Engine(e) | CliError::ImportLine { source: e, .. } => Some(e),
            _ => None,
        }
    }

    /// The `kind` shown in JSON: a variant name of docs/SPEC.md §5, or `Usage`, `Io`,
    /// `DemoCheckFailed`.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "Usage",
            CliError::Io { .. } => "Io",
            CliError::DemoCheck(_) => "DemoCheckFailed",
            CliError::Engine(e) | CliError::ImportLine { source: e, .. } => e.kind().as_str(),
        }
    }

    /// The process exit code (see [`crate::cli::EXIT_CODES_HELP`]).
    pub fn exit_code(&self) -> u8 {
        if let CliError::Usage(_) = self {
            return 2;
        }
        match self.engine().map(Error::kind) {
            Some(ErrorKind::InvalidInput) => 2,
            Some(ErrorKind::InvalidToken) => 3,
            Some(ErrorKind::NotFound) => 4,
            Some(ErrorKind::Expired) => 5,
            Some(ErrorKind::Revoked) => 6,
            Some(ErrorKind::Conflict) => 7,
            Some(ErrorKind::LimitExceeded) => 8,
            _ => 1,
        }
    }

    /// The JSON form: `{"error": {"kind", "message", ...the variant's fields}}`.
    pub fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("kind".into(), json!(self.kind()));
        error.insert("message".into(), json!(self.to_string()));
        if let Some(e) = self.engine() {
            match e {
                Error::Conflict { current_version } => {
                    error.insert("current_version".into(), json!(current_version));
                }
                Error::LimitExceeded { what } | Error::Corrupt { what } => {
                    error.insert("what".into(), json!(what));
                }
                Error::InvalidInput { field, reason } => {
                    error.insert("field".into(), json!(field));
                    error.insert("reason".into(), json!(reason));
                }
                Error::IncompatibleSchema { found, supported } => {
                    error.insert("found".into(), json!(found));
                    error.insert("supported".into(), json!(supported));
                }
                _ => {}
            }
        }
        if let CliError::ImportLine {
            line,
            imported,
            skipped,
            ..
        } = self
        {
            error.insert("line".into(), json!(line));
            error.insert("imported".into(), json!(imported));
            error.insert("skipped".into(), json!(skipped));
        }
        json!({ "error": error })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Engine(e) => write!(f, "{e}"),
            CliError::Usage(message) => f.write_str(message.trim_end()),
            CliError::Io { context, source } => write!(f, "{context}: {source}"),
            CliError::ImportLine {
                line,
                imported,
                skipped,
                source,
            } => write!(
                f,
                "line {line}: {source} (nothing was written for this line; {imported} imported \
                 and {skipped} skipped before it; later lines were not read)"
            ),
            CliError::DemoCheck(what) => write!(f, "demo self-check failed: {what}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_mapping() {
        let cases = [
            (CliError::Usage("x".into()), 2),
            (Error::invalid_input("id", "bad").into(), 2),
            (Error::InvalidToken.into(), 3),
            (Error::NotFound.into(), 4),
            (Error::Expired.into(), 5),
            (Error::Revoked.into(), 6),
            (Error::Conflict { current_version: 3 }.into(), 7),
            (Error::limit_exceeded("state_max_bytes").into(), 8),
            (Error::storage("disk full").into(), 1),
            (CliError::DemoCheck("x".into()), 1),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code(), code, "{error}");
        }
    }

    #[test]
    fn json_carries_the_variant_fields() {
        let e: CliError = Error::Conflict { current_version: 3 }.into();
        assert_eq!(e.to_json()["error"]["kind"], "Conflict");
        assert_eq!(e.to_json()["error"]["current_version"], 3);
        let e = CliError::ImportLine {
            line: 7,
            imported: 2,
            skipped: 1,
            source: Error::invalid_input("token_hash", "must be base64url"),
        };
        let v = e.to_json();
        assert_eq!(v["error"]["kind"], "InvalidInput");
        assert_eq!(v["error"]["line"], 7);
        assert_eq!(v["error"]["field"], "token_hash");
        assert!(e.to_string().starts_with("line 7: invalid token_hash"));
    }
}

//! Turning command-line text into engine values: session ids, JSON arguments, files and stdin.
//! Every refusal is the engine's `InvalidInput` naming the argument.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use sessionkit::{Error, SessionId};

use crate::error::{CliError, CliResult};

/// Parses a session id with the engine's parser (`InvalidInput { field: "id" }` if malformed).
pub fn session_id(text: &str) -> CliResult<SessionId> {
    Ok(SessionId::parse(text.trim())?)
}

/// Parses JSON text given for `field`; malformed JSON is `InvalidInput` naming the field.
pub fn json(field: &str, text: &str) -> CliResult<Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::invalid_input(field, format!("not valid JSON: {e}")).into())
}

/// Reads all of `path` (or stdin for `-`) as text.
pub fn read_text(path: &Path) -> CliResult<String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::io("reading stdin", e))?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("reading {}", path.display()), e))?;
    }
    Ok(text)
}

/// The token of `validate`: the first line of stdin when the argument is absent or `-` (the
/// documented form: a token in the arguments shows in `ps` and shell history), else the argument.
/// Reading from a terminal, a prompt on stderr says what is awaited. Wiped when dropped.
pub fn token(
    arg: Option<&str>,
    printer: &crate::output::Printer,
) -> CliResult<zeroize::Zeroizing<String>> {
    if let Some(text) = arg.filter(|&a| a != "-") {
        return Ok(zeroize::Zeroizing::new(text.to_owned()));
    }
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        printer.note("Paste the token and press Enter (it is read from stdin):");
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    stdin
        .read_line(&mut line)
        .map_err(|e| CliError::io("reading the token from stdin", e))?;
    Ok(zeroize::Zeroizing::new(line.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ids_and_json_name_the_field() {
        let e = session_id("nope").unwrap_err();
        assert_eq!(e.kind(), "InvalidInput");
        assert!(e.to_string().contains("invalid id"), "{e}");
        let e = json("metadata", "{oops").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid metadata: not valid JSON"),
            "{e}"
        );
    }
}

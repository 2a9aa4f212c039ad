//! `export` and `import`: whole sessions (record, token hash, encoded state) as JSON lines of
//! [`sessionkit::ExportRecord`]. Tokens are never exported (they are not stored); imported
//! sessions keep working with the tokens their clients hold.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde_json::json;
use sessionkit::{Error, ExportRecord, SessionId, SessionManager};

use crate::error::{CliError, CliResult};
use crate::output::views::Message;
use crate::output::Printer;

/// Sessions fetched per `export` call.
const EXPORT_PAGE: u32 = 500;

/// `export`: every session in id order, one JSON line each, to `out` or stdout.
pub async fn export(m: &SessionManager, p: &Printer, out: Option<&Path>) -> CliResult<()> {
    let target = out.map_or_else(|| "stdout".to_owned(), |path| path.display().to_string());
    let write_error = |e| CliError::io(format!("writing {target}"), e);
    let mut writer: Box<dyn Write> = match out {
        Some(path) => Box::new(BufWriter::new(
            private_file(path).map_err(|e| CliError::io(format!("creating {target}"), e))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut exported: u64 = 0;
    let mut after: Option<SessionId> = None;
    loop {
        let page = m.export(after.as_ref(), EXPORT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.session.id);
        for record in &page {
            serde_json::to_writer(&mut writer, record)
                .map_err(|e| write_error(std::io::Error::other(e)))?;
            writer.write_all(b"\n").map_err(write_error)?;
            exported += 1;
        }
    }
    writer.flush().map_err(write_error)?;
    drop(writer);
    match out {
        Some(path) => p.print(&Message::new(
            format!("Exported {exported} session(s) to {}.", path.display()),
            json!({ "exported": exported, "out": path.display().to_string() }),
        )),
        None => {
            p.note(&format!("Exported {exported} session(s)."));
            Ok(())
        }
    }
}

/// Opens `path` for writing, truncated; a file it creates is owner-only (0600 on Unix): an
/// export holds token hashes, IP addresses and state. An existing file keeps its mode.
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// `import`: reads JSON lines from `input` or stdin and imports each session (insert-only).
/// Stops at the first bad line, naming it; nothing is written for that line.
pub async fn import(m: &SessionManager, p: &Printer, input: Option<&Path>) -> CliResult<()> {
    let source = input.map_or_else(|| "stdin".to_owned(), |path| path.display().to_string());
    let reader: Box<dyn BufRead> = match input {
        Some(path) if path != Path::new("-") => Box::new(BufReader::new(
            File::open(path).map_err(|e| CliError::io(format!("opening {source}"), e))?,
        )),
        _ => Box::new(BufReader::new(std::io::stdin().lock())),
    };
    let (mut imported, mut skipped) = (0u64, 0u64);
    for (index, line) in reader.lines().enumerate() {
        let number = index + 1;
        let line =
            line.map_err(|e| CliError::io(format!("reading line {number} of {source}"), e))?;
        if line.trim().is_empty() {
            continue;
        }
        let outcome = match parse_record(&line) {
            Ok(record) => m.import(record).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(true) => imported += 1,
            Ok(false) => skipped += 1,
            Err(source) => {
                return Err(CliError::ImportLine {
                    line: number,
                    imported,
                    skipped,
                    source,
                })
            }
        }
    }
    p.print(&Message::new(
        format!("Imported {imported} session(s); skipped {skipped} whose id already exists."),
        json!({ "imported": imported, "skipped": skipped }),
    ))
}

/// Parses one line as an export record; anything else is `InvalidInput { field: "record" }`.
fn parse_record(line: &str) -> Result<ExportRecord, Error> {
    serde_json::from_str(line).map_err(|e| {
        // serde's position says "line 1" of the one-line text; keep only the column.
        let text = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let reason = text.strip_suffix(&position).unwrap_or(&text);
        Error::invalid_input(
            "record",
            format!("not an export record: {reason} (at column {})", e.column()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_invalid_input_naming_the_column() {
        let e = parse_record("{\"session\": 5}").unwrap_err();
        assert_eq!(e.kind(), sessionkit::ErrorKind::InvalidInput);
        let text = e.to_string();
        assert!(
            text.starts_with("invalid record: not an export record"),
            "{text}"
        );
        assert!(!text.contains("line 1"), "{text}");
        assert!(parse_record("not json").is_err());
    }
}

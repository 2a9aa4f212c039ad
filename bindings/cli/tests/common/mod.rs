//! Running the built `sessionkit` binary from the integration tests.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// What one run of the binary produced.
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// The stdout parsed as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts the run succeeded.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `sessionkit ARGS` with `stdin` fed in; fails the test if the binary panicked.
pub fn sk_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sessionkit"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts input");
    let out = child.wait_with_output().expect("the binary finishes");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains("panicked")
                && !text.contains("RUST_BACKTRACE")
                && !text.contains("internal error"),
            "{args:?}: panic text in output:\n{text}"
        );
    }
    run
}

/// Runs `sessionkit ARGS`.
pub fn sk(args: &[&str]) -> Run {
    sk_with_stdin(args, "")
}

/// A temporary directory and a database path inside it (neither exists until a command runs).
pub struct Db {
    /// The directory, removed when this drops; tests put scratch files beside the database.
    pub dir: tempfile::TempDir,
    /// The database file.
    pub path: PathBuf,
}

impl Db {
    /// A fresh directory with `sessions.db` to be.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("sessions.db");
        Db { dir, path }
    }

    /// The database path as an argument.
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }

    /// `--db DB ARGS`, ready to pass to the binary.
    pub fn with_db<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--db", self.arg()];
        all.extend_from_slice(args);
        all
    }

    /// `sessionkit --db DB ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        sk(&self.with_db(args))
    }

    /// `sessionkit --db DB --json ARGS`, which must succeed, its stdout parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).ok().json()
    }
}

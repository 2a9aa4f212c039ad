//! `sessionkit client` against a real `sessionkit serve` (the same binary) on loopback: sign in
//! (token file 0600), state through the server, a change kept while the server is down and
//! pushed after, devices, `watch` ending with the revocation's exit code, sign out.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};

use common::{sk, sk_with_stdin, Db, Run};
use serde_json::{json, Value};

const ADMIN_KEY: &str = "client-tests-admin-key-0123456789";

/// `sessionkit serve` on `port` (0: any), stopped by pid (SIGTERM) when dropped.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start(db: &Db, port: u16) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sessionkit"))
            .args(["--db", db.arg(), "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--heartbeat-ms", "300"])
            .env("SESSIONKIT_ADMIN_KEY", ADMIN_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_owned();
        Serve { child, url }
    }

    fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

fn client(url: &str, token_file: &str, args: &[&str]) -> Run {
    let mut all = vec![
        "client",
        "--server",
        url,
        "--token-file",
        token_file,
        "--heartbeat-ms",
        "300",
        "--timeout-ms",
        "2000",
    ];
    all.extend_from_slice(args);
    sk(&all)
}

fn json_of(run: Run) -> Value {
    run.ok().json()
}

#[test]
fn the_cli_client_syncs_keeps_changes_offline_and_ends_with_the_session() {
    let db = Db::new();
    let mut server = Serve::start(&db, 0);
    let created = db.json(&["create", "--user", "ada", "--kind", "mobile"]);
    let token = created["token"].as_str().unwrap();
    let id = created["session"]["id"].as_str().unwrap().to_owned();
    let token_file = db.dir.path().join("token");
    let tf = token_file.to_str().unwrap();
    let url = server.url.clone();

    // Sign in: the token is read from stdin and kept in a private file.
    let signed_in = sk_with_stdin(
        &[
            "--json",
            "client",
            "--server",
            &url,
            "--token-file",
            tf,
            "sign-in",
        ],
        &format!("{token}\n"),
    );
    let status = json_of(signed_in);
    assert_eq!(status["session"]["id"], id);
    assert_eq!(status["outcome"]["outcome"], "restored");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // State goes through the server.
    let synced = json_of(client(
        &url,
        tf,
        &["--json", "state", "patch", r#"{"a":1}"#],
    ));
    assert_eq!(
        (synced["pending"].clone(), synced["offline"].clone()),
        (json!(0), json!(false))
    );
    assert_eq!(
        json_of(client(&url, tf, &["state", "get"])),
        json!({"a": 1})
    );
    let stored = db.json(&["state", "get", &id]);
    assert_eq!(stored["data"], json!({"a": 1}));

    // The server goes down: a change is kept and queued, then pushed once it is back.
    let port = server.port();
    server.stop();
    let queued = json_of(client(
        &url,
        tf,
        &["--json", "state", "patch", r#"{"b":2}"#],
    ));
    assert_eq!(
        (queued["pending"].clone(), queued["offline"].clone()),
        (json!(1), json!(true))
    );
    let mut server = Serve::start(&db, port);
    let synced = json_of(client(&url, tf, &["--json", "sync"]));
    assert_eq!(synced["pending"], 0);
    assert_eq!(
        db.json(&["state", "get", &id])["data"],
        json!({"a": 1, "b": 2})
    );

    // Devices: this one is current.
    let devices = json_of(client(&url, tf, &["devices"]));
    assert_eq!(devices["items"][0]["current"], true);

    // `watch` prints JSON lines and ends when the session is revoked elsewhere (exit 6).
    let mut watch = Command::new(env!("CARGO_BIN_EXE_sessionkit"))
        .args([
            "client",
            "--server",
            &url,
            "--token-file",
            tf,
            "--heartbeat-ms",
            "300",
            "watch",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    loop {
        let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        if line["event"]["type"] == "connection_established" {
            break;
        }
    }
    db.run(&["revoke", &id]).ok();
    let mut saw = false;
    for line in lines {
        let line: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if line["event"] == json!({"type": "auth_required", "reason": "revoked"}) {
            saw = true;
        }
    }
    assert!(saw, "watch printed the revocation");
    assert_eq!(watch.wait().unwrap().code(), Some(6));

    // Signed out now: state reads refuse with the reason's exit code, status says so.
    assert_eq!(client(&url, tf, &["state", "get"]).code, 6);
    let status = client(&url, tf, &["status"]).ok();
    assert!(
        status.stdout.contains("signed out (revoked)"),
        "{}",
        status.stdout
    );
    server.stop();
}

#[test]
fn the_cli_client_refuses_bad_input_and_signs_out() {
    let db = Db::new();
    let server = Serve::start(&db, 0);
    let created = db.json(&["create", "--user", "bo", "--kind", "web"]);
    let token = created["token"].as_str().unwrap();
    let token_file = db.dir.path().join("token");
    let tf = token_file.to_str().unwrap();
    let url = server.url.clone();

    // Without a token file: a clear error, nothing created.
    let missing = client(&url, tf, &["status"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("sign in first"),
        "{}",
        missing.stderr
    );
    // Without --server: a usage error.
    assert_eq!(sk(&["client", "--token-file", tf, "status"]).code, 2);

    client(&url, tf, &["sign-in", "--token", token]).ok();
    let bad = client(&url, tf, &["state", "patch", "{oops"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("invalid patch"), "{}", bad.stderr);
    assert_eq!(client(&url, tf, &["revoke-device", "nope"]).code, 2);

    client(&url, tf, &["sign-out"]).ok();
    assert!(!token_file.exists());
    let id = created["session"]["id"].as_str().unwrap();
    assert_eq!(db.json(&["show", id])["session"]["active"], false);
}

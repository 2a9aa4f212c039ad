//! State encryption through the CLI: `--state-key-file` (or `$SESSIONKIT_STATE_KEYS`) names a
//! key file readable by its owner only; states are written encrypted, read back with the right
//! key only, and `rekey` moves them to the current key.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Db, Run};

const KEY_1: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const KEY_2: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const KEY_9: &str = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";
const MARKER: &str = "plaintext-marker-in-state";

fn key_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the key file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// `sessionkit --db DB ARGS` with `env` set.
fn run(db: &Db, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sessionkit"));
    command.arg("--db").arg(&db.path).args(args);
    command.env_remove("SESSIONKIT_STATE_KEYS");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8")
}

#[test]
fn state_is_written_encrypted_read_with_its_key_only_and_rekeyed() {
    let db = Db::new();
    let dir = db.dir.path();
    let one = key_file(dir, "one.keys", &format!("# current\n1:{KEY_1}\n"), 0o600);
    let two_then_one = key_file(dir, "two.keys", &format!("2:{KEY_2}\n1:{KEY_1}\n"), 0o600);
    let only_two = key_file(dir, "only-two.keys", &format!("2:{KEY_2}\n"), 0o400);
    let wrong = key_file(dir, "wrong.keys", &format!("1:{KEY_9}\n"), 0o600);

    let created = run(
        &db,
        &["--json", "create", "--user", "alice", "--kind", "web"],
        &[],
    )
    .ok();
    let id = created.json()["session"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let data = format!(r#"{{"note": "{MARKER}"}}"#);
    run(
        &db,
        &[
            "--state-key-file",
            arg(&one),
            "state",
            "put",
            &id,
            "--data",
            &data,
        ],
        &[],
    )
    .ok();
    for suffix in ["", "-wal"] {
        let bytes = std::fs::read(format!("{}{suffix}", db.arg())).unwrap_or_default();
        assert!(
            !bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
            "plaintext in sessions.db{suffix}"
        );
    }

    // The right key, by option or by environment variable, reads it.
    let got = run(
        &db,
        &["--json", "--state-key-file", arg(&one), "state", "get", &id],
        &[],
    )
    .ok();
    assert_eq!(got.json()["data"]["note"], MARKER);
    let got = run(
        &db,
        &["--json", "state", "get", &id],
        &[("SESSIONKIT_STATE_KEYS", arg(&one))],
    )
    .ok();
    assert_eq!(got.json()["data"]["note"], MARKER);

    // No key, or a wrong one: Corrupt, and nothing of the state is printed.
    for extra in [vec![], vec!["--state-key-file", arg(&wrong)]] {
        let mut args = extra.clone();
        args.extend(["state", "get", id.as_str()]);
        let refused = run(&db, &args, &[]);
        assert_eq!(refused.code, 1, "{args:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("corrupt data"),
            "{}",
            refused.stderr
        );
        assert!(!refused.stdout.contains(MARKER) && !refused.stderr.contains(MARKER));
    }

    // Rotation: the new key file reads the old state; rekey moves it; the old key can go.
    let got = run(
        &db,
        &[
            "--json",
            "--state-key-file",
            arg(&two_then_one),
            "state",
            "get",
            &id,
        ],
        &[],
    )
    .ok();
    let version = got.json()["version"].clone();
    let rekeyed = run(
        &db,
        &["--json", "--state-key-file", arg(&two_then_one), "rekey"],
        &[],
    )
    .ok();
    assert_eq!(rekeyed.json()["rewritten"], 1);
    let again = run(&db, &["--state-key-file", arg(&two_then_one), "rekey"], &[]).ok();
    assert!(
        again.stdout.contains("Rewrote 0 state(s)"),
        "{}",
        again.stdout
    );
    let got = run(
        &db,
        &[
            "--json",
            "--state-key-file",
            arg(&only_two),
            "state",
            "get",
            &id,
        ],
        &[],
    )
    .ok();
    assert_eq!(got.json()["data"]["note"], MARKER);
    assert_eq!(got.json()["version"], version, "rekey keeps the version");
    let refused = run(
        &db,
        &["--state-key-file", arg(&one), "state", "get", &id],
        &[],
    );
    assert_eq!(refused.code, 1, "the old key alone no longer reads it");
}

#[test]
fn key_files_others_can_read_or_that_do_not_parse_are_refused_and_change_nothing() {
    let db = Db::new();
    let dir = db.dir.path();
    let open = key_file(dir, "open.keys", &format!("1:{KEY_1}\n"), 0o644);
    let group = key_file(dir, "group.keys", &format!("1:{KEY_1}\n"), 0o640);
    let garbled = key_file(
        dir,
        "garbled.keys",
        &format!("1:{KEY_1}\n2 {KEY_2}\n"),
        0o600,
    );
    let short = key_file(dir, "short.keys", "1:AQEB\n", 0o600);
    let cases: [(&Path, &str); 4] = [
        (
            &open,
            "has mode 0644: a key file must be readable by its owner only",
        ),
        (&group, "has mode 0640"),
        (&garbled, "line 2: expected <id>:<base64 of 32 bytes>"),
        (&short, "line 1: the key must be 32 bytes"),
    ];
    for (file, message) in cases {
        let refused = run(
            &db,
            &[
                "--state-key-file",
                arg(file),
                "create",
                "--user",
                "a",
                "--kind",
                "web",
            ],
            &[],
        );
        assert_eq!(refused.code, 2, "{}", refused.stderr);
        assert!(
            refused.stderr.contains("invalid state_key_file") && refused.stderr.contains(message),
            "{}",
            refused.stderr
        );
        for key in [KEY_1, KEY_2] {
            assert!(!refused.stderr.contains(key), "a key in the message");
        }
        assert!(!db.path.exists(), "nothing was created");
    }
    let missing = run(
        &db,
        &["create", "--user", "a", "--kind", "web"],
        &[("SESSIONKIT_STATE_KEYS", arg(&dir.join("absent.keys")))],
    );
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(!db.path.exists());

    // rekey without keys says how to give them.
    run(&db, &["create", "--user", "a", "--kind", "web"], &[]).ok();
    let refused = run(&db, &["rekey"], &[]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("--state-key-file"),
        "{}",
        refused.stderr
    );
}

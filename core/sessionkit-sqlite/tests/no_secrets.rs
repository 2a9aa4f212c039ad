//! docs/SPEC.md §2: no token, secret or token hash is ever printed — not in logs (`tracing`,
//! recorded here at TRACE with every field), not in `Debug` output (`{:?}` and `{:#?}`) of any
//! public type, not in an error — and the database file holds neither a token nor its secret
//! (only the SHA-256 of the secret).

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use pollster::block_on;
use serde_json::json;
use sessionkit::{
    ClientKind, Config, Error, ErrorKind, Event, ListOptions, ManualClock, MemoryStore, NewSession,
    SessionId, SessionManager, SessionRecord, StateRecord, TokenHash,
};
use sessionkit_sqlite::SqliteStore;
use sha2::{Digest, Sha256};

/// A log sink the subscriber writes into.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every text form a token's secrets could take: the token itself, its secret (base64url as
/// in the token, standard base64, hex), and the SHA-256 of the secret (hex either case, base64
/// either alphabet) — plus the raw bytes of the secret and of the hash.
struct Secrets {
    texts: Vec<String>,
    raw: Vec<Vec<u8>>,
    /// The forms that may not be in the database file (the hash is stored by design).
    not_stored: Vec<Vec<u8>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Secrets {
    fn new() -> Self {
        Secrets {
            texts: Vec::new(),
            raw: Vec::new(),
            not_stored: Vec::new(),
        }
    }

    fn add(&mut self, token: &str) {
        let secret_text = &token[SessionId::TEXT_LEN + 1..];
        let secret = URL_SAFE_NO_PAD
            .decode(secret_text)
            .expect("base64url secret");
        assert_eq!(secret.len(), 32);
        let hash: [u8; 32] = Sha256::digest(&secret).into();
        self.texts.extend([
            token.to_owned(),
            secret_text.to_owned(),
            STANDARD.encode(&secret),
            hex(&secret),
            hex(&secret).to_uppercase(),
            hex(&hash),
            hex(&hash).to_uppercase(),
            URL_SAFE_NO_PAD.encode(hash),
            STANDARD.encode(hash),
            // As `{:?}` of the byte arrays would show them.
            format!("{:?}", secret),
            format!("{:?}", hash),
        ]);
        self.raw.extend([secret.clone(), hash.to_vec()]);
        self.not_stored.extend([
            token.as_bytes().to_vec(),
            secret_text.as_bytes().to_vec(),
            secret,
        ]);
    }

    /// Panics if `text` contains any form of any secret.
    fn assert_absent(&self, what: &str, text: &str) {
        for secret in &self.texts {
            assert!(
                !text.contains(secret.as_str()),
                "{what} contains a secret ({} chars): {text}",
                secret.len()
            );
        }
        for raw in &self.raw {
            assert!(
                !contains(text.as_bytes(), raw),
                "{what} contains raw secret bytes"
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `{:?}` and `{:#?}` of a value, checked.
fn check_debug<T: std::fmt::Debug>(secrets: &Secrets, what: &str, value: &T, seen: &mut usize) {
    secrets.assert_absent(what, &format!("{value:?}"));
    secrets.assert_absent(what, &format!("{value:#?}"));
    *seen += 1;
}

#[test]
fn no_token_secret_or_hash_in_logs_debug_output_errors_or_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.db");
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();

    let mut secrets = Secrets::new();
    let mut debug_texts: Vec<(String, String)> = Vec::new();
    let mut record = |what: &str, text: String| debug_texts.push((what.to_owned(), text));

    tracing::subscriber::with_default(subscriber, || {
        let clock = ManualClock::new(1_700_000_000_000);
        let store = SqliteStore::open(&path).unwrap();
        record("SqliteStore", format!("{store:?} {store:#?}"));
        let config = Config {
            max_sessions_per_user: Some(3),
            session_limit_policy: sessionkit::SessionLimitPolicy::EvictOldest,
            ..Config::default()
        };
        let m = SessionManager::open_with_clock(
            Arc::new(store),
            config.clone(),
            Arc::new(clock.clone()),
        )
        .unwrap();
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let events_sink = Arc::clone(&events);
        let _subscription = m.subscribe(Arc::new(move |e: &Event| {
            events_sink.lock().unwrap().push(e.clone())
        }));

        // Sign in on three devices.
        let mut new = NewSession::new("alice", ClientKind::Desktop);
        new.device = Some("Workstation".into());
        new.ip = Some("192.0.2.1".into());
        new.user_agent = Some("Mozilla/5.0".into());
        new.metadata = Some(json!({ "theme": "dark" }));
        record("NewSession", format!("{new:?} {new:#?}"));
        let desktop = block_on(m.create(new)).unwrap();
        secrets.add(desktop.token.as_str());
        record("Created", format!("{desktop:?} {desktop:#?}"));
        record("Token", format!("{:?} {:#?}", desktop.token, desktop.token));
        let phone = block_on(m.create(NewSession::new("alice", ClientKind::Mobile))).unwrap();
        secrets.add(phone.token.as_str());
        let web = block_on(m.create(NewSession::new("alice", ClientKind::Web))).unwrap();
        secrets.add(web.token.as_str());

        // Requests: validate, with and without the touch write.
        let session = block_on(m.validate(desktop.token.as_str())).unwrap();
        record("Session", format!("{session:?} {session:#?}"));
        clock.advance(120_000);
        block_on(m.validate(desktop.token.as_str())).unwrap();
        block_on(m.touch(&phone.session.id)).unwrap();

        // State and metadata.
        let id = desktop.session.id;
        let v1 = block_on(m.put_state(&id, &json!({ "tab": "inbox" }), Some(0))).unwrap();
        block_on(m.patch_state(&id, &json!({ "draft": "hi" }), Some(v1))).unwrap();
        let state = block_on(m.get_state(&id)).unwrap().unwrap();
        record("State", format!("{state:?} {state:#?}"));
        let conflict = block_on(m.put_state(&id, &json!({}), Some(v1))).unwrap_err();
        assert_eq!(conflict.kind(), ErrorKind::Conflict);
        record(
            "Error::Conflict",
            format!("{conflict:?} {conflict:#?} {conflict}"),
        );
        block_on(m.update_metadata(&id, &json!({ "theme": "light" }))).unwrap();
        let page = block_on(m.list_user_sessions(
            "alice",
            &ListOptions {
                limit: 1,
                ..ListOptions::default()
            },
        ))
        .unwrap();
        record("Page", format!("{page:?} {page:#?}"));
        let options = ListOptions {
            cursor: page.next_cursor.clone(),
            ..ListOptions::default()
        };
        record("ListOptions", format!("{options:?} {options:#?}"));
        block_on(m.list_user_sessions("alice", &options)).unwrap();

        // Rotation after a privilege change: the old token stops working.
        let rotated = block_on(m.rotate(&id)).unwrap();
        secrets.add(rotated.token.as_str());
        record("Created (rotated)", format!("{rotated:?} {rotated:#?}"));

        // A fourth device evicts the least recently active one.
        let laptop = block_on(m.create(NewSession::new("alice", ClientKind::Desktop))).unwrap();
        secrets.add(laptop.token.as_str());

        // Every way a token can be wrong, and the errors they give.
        let good = rotated.token.as_str();
        let wrong_secret = format!(
            "{}.{}{}",
            rotated.session.id,
            if good.as_bytes()[23] == b'A' {
                'B'
            } else {
                'A'
            },
            &good[24..]
        );
        let other_id = format!("{}{}", phone.session.id, &good[22..]);
        let bad_tokens = [
            desktop.token.as_str().to_owned(),
            good[..good.len() - 1].to_owned(),
            format!("{good}x"),
            wrong_secret,
            other_id,
            good.replacen('.', ":", 1),
            String::new(),
        ];
        for bad in &bad_tokens {
            let err = block_on(m.validate(bad)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidToken, "{err:?}");
            record("Error (bad token)", format!("{err:?} {err:#?} {err}"));
        }

        // Revocation, expiry, cleanup, export, stats, deletion.
        block_on(m.revoke(&web.session.id)).unwrap();
        let revoked = block_on(m.validate(web.token.as_str())).unwrap_err();
        assert_eq!(revoked.kind(), ErrorKind::Revoked);
        record(
            "Error::Revoked",
            format!("{revoked:?} {revoked:#?} {revoked}"),
        );
        block_on(m.revoke_user_sessions("alice", Some(&rotated.session.id))).unwrap();
        let exported = block_on(m.export(None, 100)).unwrap();
        for record_ in &exported {
            record("ExportRecord", format!("{record_:?} {record_:#?}"));
        }
        let stats = block_on(m.stats()).unwrap();
        record("Stats", format!("{stats:?} {stats:#?}"));
        clock.advance(31 * 60_000);
        let expired = block_on(m.validate(good)).unwrap_err();
        assert_eq!(expired.kind(), ErrorKind::Expired);
        record(
            "Error::Expired",
            format!("{expired:?} {expired:#?} {expired}"),
        );
        block_on(m.cleanup_expired()).unwrap();
        let missing = block_on(m.delete(&rotated.session.id)).unwrap_err();
        record(
            "Error::NotFound",
            format!("{missing:?} {missing:#?} {missing}"),
        );
        record("SessionManager", format!("{m:?} {m:#?}"));
        record("Config", format!("{config:?} {config:#?}"));
        for event in events.lock().unwrap().iter() {
            record("Event", format!("{event:?} {event:#?}"));
            record("Event as JSON", serde_json::to_string(event).unwrap());
        }
        assert!(events.lock().unwrap().len() >= 10);
    });

    let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("session created") && log.contains("sessionkit event"),
        "the engine's log lines were recorded:\n{log}"
    );
    secrets.assert_absent("the log", &log);
    assert!(contains(log.as_bytes(), b"session_id"), "{log}");
    assert_eq!(secrets.not_stored.len(), 5 * 3);
    for (what, text) in &debug_texts {
        secrets.assert_absent(what, text);
    }

    // Types built directly, holding a real hash or blob.
    let mut seen = 0;
    let hash_bytes: [u8; 32] = Sha256::digest(b"secret").into();
    let hash = TokenHash::from_bytes(hash_bytes);
    let mut probe = Secrets::new();
    probe
        .texts
        .extend([hex(&hash_bytes), URL_SAFE_NO_PAD.encode(hash_bytes)]);
    probe.raw.push(hash_bytes.to_vec());
    check_debug(&probe, "TokenHash", &hash, &mut seen);
    let store = MemoryStore::new();
    let m = SessionManager::open(Arc::new(store), Config::default()).unwrap();
    let created = block_on(m.create(NewSession::new("bob", ClientKind::Other))).unwrap();
    probe.add(created.token.as_str());
    let record_ = SessionRecord::new(created.session.clone(), hash.clone());
    check_debug(&probe, "SessionRecord", &record_, &mut seen);
    check_debug(&probe, "Created", &created, &mut seen);
    check_debug(&probe, "Token", &created.token, &mut seen);
    check_debug(&probe, "MemoryStore", m.store(), &mut seen);
    let state = StateRecord {
        version: 1,
        blob: b"SKST".to_vec(),
        updated_at: 0,
    };
    check_debug(&probe, "StateRecord", &state, &mut seen);
    let stored = block_on(m.store().get_session(&created.session.id))
        .unwrap()
        .unwrap();
    check_debug(&probe, "SessionRecord (stored)", &stored, &mut seen);
    for error in [
        Error::InvalidToken,
        Error::NotFound,
        Error::Expired,
        Error::Revoked,
        Error::Conflict { current_version: 3 },
        Error::limit_exceeded("state_max_bytes"),
        Error::invalid_input("user_id", "must not be empty"),
        Error::corrupt("state checksum mismatch"),
        Error::IncompatibleSchema {
            found: 9,
            supported: 2,
        },
        Error::storage("disk full"),
    ] {
        check_debug(&probe, "Error", &error, &mut seen);
        probe.assert_absent("Error (Display)", &error.to_string());
        check_debug(&probe, "ErrorKind", &error.kind(), &mut seen);
    }
    assert_eq!(seen, 27);

    // The database (and any journal beside it) never holds a token or a secret.
    assert_no_secret_in_files(dir.path(), &secrets);
}

fn assert_no_secret_in_files(dir: &Path, secrets: &Secrets) {
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for needle in &secrets.not_stored {
            assert!(
                !contains(&bytes, needle),
                "{} holds a token or secret",
                path.display()
            );
        }
        files += 1;
    }
    assert!(files >= 1);
}

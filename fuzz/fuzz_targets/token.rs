//! Token parsing through `validate`: whatever the text, only the one real token validates, and
//! everything else is `InvalidToken` (never another kind, never a panic). Also `SessionId::parse`:
//! an id that parses has exactly one spelling.

#![no_main]

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use pollster::block_on;
use serde_json::Map;
use sessionkit::{
    ClientInfo, ClientKind, Config, Error, ManualClock, MemoryStore, Session, SessionId,
    SessionManager, SessionRecord, SessionStore, TokenHash,
};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_700_000_000_000;

struct Fixture {
    manager: SessionManager,
    token: String,
}

/// A store holding one session whose token is known (fixed id and secret), so every run is
/// reproducible.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let id = SessionId::from_bytes([0x5a; 16]);
        let secret = [0xc3u8; 32];
        let store = MemoryStore::new();
        let record = SessionRecord::new(
            Session {
                id,
                user_id: "alice".into(),
                created_at: NOW,
                last_active_at: NOW,
                expires_at: NOW + 3_600_000,
                absolute_expires_at: NOW + 3_600_000,
                client: ClientInfo {
                    kind: ClientKind::Web,
                    version: None,
                    device: None,
                },
                ip: None,
                user_agent: None,
                active: true,
                metadata: Map::new(),
            },
            TokenHash::from_bytes(Sha256::digest(secret).into()),
        );
        block_on(store.insert_session(&record, None)).unwrap();
        let manager = SessionManager::open_with_clock(
            Arc::new(store),
            Config::default(),
            Arc::new(ManualClock::new(NOW)),
        )
        .unwrap();
        let token = format!("{id}.{}", URL_SAFE_NO_PAD.encode(secret));
        Fixture { manager, token }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    // First byte 0 (or none): the rest is the token text. Otherwise the rest is a list of
    // (position, byte) edits applied to the real token, to explore its near misses.
    let bytes = match data.split_first() {
        None => Vec::new(),
        Some((0, rest)) => rest.to_vec(),
        Some((_, edits)) => {
            let mut bytes = fixture.token.as_bytes().to_vec();
            for edit in edits.chunks_exact(2) {
                let at = usize::from(edit[0]);
                match at.cmp(&bytes.len()) {
                    std::cmp::Ordering::Less => bytes[at] = edit[1],
                    std::cmp::Ordering::Equal => bytes.push(edit[1]),
                    std::cmp::Ordering::Greater => {
                        bytes.truncate(at % (bytes.len() + 1));
                    }
                }
            }
            bytes
        }
    };
    let text = String::from_utf8_lossy(&bytes);

    let result = block_on(fixture.manager.validate(&text));
    if text == fixture.token {
        assert_eq!(result.expect("the real token validates").user_id, "alice");
    } else {
        assert_eq!(result.unwrap_err(), Error::InvalidToken, "{text:?}");
    }

    for candidate in [&*text, text.split('.').next().unwrap_or("")] {
        if let Ok(id) = SessionId::parse(candidate) {
            assert_eq!(id.to_string(), candidate, "a second spelling of one id");
        }
    }
});

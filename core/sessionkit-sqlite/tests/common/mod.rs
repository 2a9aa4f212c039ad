//! Helpers shared by the integration tests: a store in a fresh temporary file, and records.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Map, Value};
use sessionkit::{ClientInfo, ClientKind, Session, SessionId, SessionRecord, TokenHash};
use sessionkit_sqlite::SqliteStore;
use tempfile::TempDir;

/// A store in a new temporary directory (removed when the `TempDir` drops).
pub fn temp_store() -> (TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sessions.db");
    let store = SqliteStore::open(&path).expect("open store");
    (dir, path, store)
}

/// An id whose bytes are all `n`.
pub fn id(n: u8) -> SessionId {
    SessionId::from_bytes([n; SessionId::LEN])
}

/// An active desktop session of `user`, created and last active at `at`, expiring at `expires`.
pub fn record(id: SessionId, user: &str, at: i64, expires: i64) -> SessionRecord {
    SessionRecord::new(
        Session {
            id,
            user_id: user.to_owned(),
            created_at: at,
            last_active_at: at,
            expires_at: expires,
            absolute_expires_at: expires.saturating_add(1_000_000),
            client: ClientInfo {
                kind: ClientKind::Desktop,
                version: Some("1.2.3".to_owned()),
                device: None,
            },
            ip: Some("192.0.2.1".to_owned()),
            user_agent: None,
            active: true,
            metadata: Map::from_iter([("k".to_owned(), Value::from(1))]),
        },
        TokenHash::from_bytes([7; 32]),
    )
}

/// xorshift64*: a deterministic, dependency-free generator for randomised tests (seeded, so a
/// failing run can be replayed).
pub struct Rng(pub u64);

impl Rng {
    /// A generator from any seed (0 included: the seed is mixed and made odd).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with the given probability in percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

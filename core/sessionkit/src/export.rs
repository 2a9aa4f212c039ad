//! Export and import of whole sessions (record, token hash, encoded state) as self-contained JSON
//! records, one per line in the CLI's JSON-lines files. Tokens are never exported (they are not
//! stored); imported sessions keep working with the tokens their clients hold.
//!
//! An import file is integrity-critical: whoever can write one can mint sessions (a record
//! carries the hash of a secret its author may know). Every record is therefore checked as
//! strictly as `create` checks its arguments (see `validation::imported_session`), and the few
//! token hashes that betray a known secret are refused; but no check can tell a hash whose secret
//! the author kept from a genuine one. Import only files that came from your own export, kept
//! where only the operator can write them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{SessionRecord, StateRecord, StoredSession};
use crate::{metadata, validation, Config, Error, Result, Session, StateCodec, TokenHash};

/// One exported session.
///
/// Importing one creates a session that its token hash's secret opens: treat an import file
/// as integrity-critical (written only by your own export, never by a client).
///
/// `Debug` leaves the token hash out (`token_hash: "<redacted>"`), like [`TokenHash`]'s own.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRecord {
    /// The session as stored.
    pub session: Session,
    /// SHA-256 of the token's secret, base64url.
    pub token_hash: String,
    /// The session's state, still encoded.
    pub state: Option<ExportedState>,
    /// With no state: the version of the state last cleared, so that writes after an import
    /// continue after it and a version never repeats within a session. Absent (0) when the
    /// session has a state or never had one cleared.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cleared_state_version: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Encoded state inside an [`ExportRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedState {
    /// The state's version.
    pub version: u64,
    /// The encoded blob, base64url.
    pub blob: String,
    /// When it was written.
    pub updated_at: i64,
}

impl std::fmt::Debug for ExportRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportRecord")
            .field("session", &self.session)
            .field("token_hash", &"<redacted>")
            .field("state", &self.state)
            .field("cleared_state_version", &self.cleared_state_version)
            .finish()
    }
}

impl ExportRecord {
    pub(crate) fn from_stored(stored: StoredSession) -> Self {
        let StoredSession {
            record,
            state,
            cleared_state_version,
        } = stored;
        ExportRecord {
            token_hash: URL_SAFE_NO_PAD.encode(record.token_hash.as_bytes()),
            session: record.session,
            cleared_state_version,
            state: state.map(|s| ExportedState {
                version: s.version,
                blob: URL_SAFE_NO_PAD.encode(&s.blob),
                updated_at: s.updated_at,
            }),
        }
    }

    /// Checks every field as strictly as `create` would under `config` at `now` (and verifies
    /// the state blob) and converts to what a store keeps.
    pub(crate) fn into_stored(
        self,
        codec: &StateCodec,
        keys: Option<&crate::StateKeys>,
        config: &Config,
        now: i64,
    ) -> Result<StoredSession> {
        let s = &self.session;
        validation::imported_session(s, config, now)?;
        metadata::to_text(&s.metadata)?;
        let hash = URL_SAFE_NO_PAD
            .decode(&self.token_hash)
            .map_err(|_| Error::invalid_input("token_hash", "must be base64url"))?;
        let token_hash = TokenHash::from_slice(&hash)
            .map_err(|_| Error::invalid_input("token_hash", "must be 32 bytes"))?;
        if known_secret(&token_hash) {
            return Err(Error::invalid_input(
                "token_hash",
                "is the hash of a known secret (all zero bytes), which no generated token has",
            ));
        }
        let state = match self.state {
            None => None,
            Some(state) => {
                let blob = URL_SAFE_NO_PAD
                    .decode(&state.blob)
                    .map_err(|_| Error::invalid_input("state.blob", "must be base64url"))?;
                // An encrypted blob is kept as it is, once it decrypts and verifies.
                codec.decode(&crate::state_crypto::unwrap_blob(keys, &blob)?)?;
                if state.version == 0 {
                    return Err(Error::invalid_input("state.version", "must be at least 1"));
                }
                if state.updated_at > now {
                    return Err(Error::invalid_input(
                        "state.updated_at",
                        "must not be in the future",
                    ));
                }
                Some(StateRecord {
                    version: state.version,
                    blob,
                    updated_at: state.updated_at,
                })
            }
        };
        if state.is_some() && self.cleared_state_version != 0 {
            return Err(Error::invalid_input(
                "cleared_state_version",
                "must be absent (0) when the session has a state",
            ));
        }
        Ok(StoredSession {
            record: SessionRecord::new(self.session, token_hash),
            state,
            cleared_state_version: self.cleared_state_version,
        })
    }
}

/// Whether `hash` is SHA-256 of a secret anyone can guess: the all-zero secret, what a zeroed
/// buffer or a hand-made record would hold. (A generated secret is 256 random bits; checking
/// more candidates would cost a hash each and still prove nothing about the others.)
fn known_secret(hash: &TokenHash) -> bool {
    let zero: [u8; 32] = Sha256::digest([0u8; 32]).into();
    hash.as_bytes() == &zero
}

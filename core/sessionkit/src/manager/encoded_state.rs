//! State as its encoded blob (SPEC §3): what a server hands to clients that ask for the stored
//! bytes (`application/vnd.sessionkit.state`) and accepts from them. Every blob is verified
//! before it leaves or enters the store.

use serde_json::Value;

use super::SessionManager;
use crate::store::StateLookup;
use crate::{Error, Result, SessionId};

/// A session's state as its stored, verified blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateBlob {
    /// The state's version.
    pub version: u64,
    /// The encoded blob, the same bytes on every platform.
    pub blob: Vec<u8>,
    /// When it was last written (ms since the epoch).
    pub updated_at: i64,
}

impl SessionManager {
    /// The state of a session as its encoded blob, verified (checksum, format, JSON) first;
    /// `None` when it has none. `NotFound` when there is no such session.
    pub async fn get_state_blob(&self, id: &SessionId) -> Result<Option<StateBlob>> {
        match self.store.get_state(id).await? {
            StateLookup::NoSession => Err(Error::NotFound),
            StateLookup::Empty => Ok(None),
            StateLookup::Found(state) => {
                self.codec.decode(&state.blob)?;
                Ok(Some(StateBlob {
                    version: state.version,
                    blob: state.blob,
                    updated_at: state.updated_at,
                }))
            }
        }
    }

    /// Replaces the state of a live session with an encoded blob made elsewhere (another
    /// platform, a client). The blob is verified — header, checksum, declared size against
    /// `state_max_bytes`, content — and stored in this manager's own encoding, so a blob that
    /// does not decode is `InvalidInput` and changes nothing. Compare-and-swap as in
    /// [`SessionManager::put_state`].
    pub async fn put_state_blob(
        &self,
        id: &SessionId,
        blob: &[u8],
        expected_version: Option<u64>,
    ) -> Result<u64> {
        if self
            .codec
            .declared_size(blob)
            .is_some_and(|size| size > self.config.state_max_bytes)
        {
            return Err(Error::limit_exceeded("state_max_bytes"));
        }
        let decoded = self.codec.decode(blob).map_err(|e| match e {
            Error::Corrupt { what } => Error::invalid_input("state", what),
            other => other,
        })?;
        let data: Value = decoded.data;
        self.put_state(id, &data, expected_version).await
    }
}
